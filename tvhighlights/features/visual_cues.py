"""Visual cues of a clip from small RGB frames, vectorised over clips in numpy (no weights).

Values are in 0..1 pixel units unless said otherwise: colour statistics, colourfulness,
brightness change, motion energy, histogram change, the cut rate and edges; every column is
named and described in :data:`VISUAL_FEATURES`. The handcrafted extractor
(:mod:`.handcrafted`) and the baselines use them.
"""

from __future__ import annotations

import numpy as np

from ..errors import ExtractorError

__all__ = ["VISUAL_FEATURES", "visual_features"]


VISUAL_FEATURES: tuple[tuple[str, str], ...] = (
    ("r_mean", "mean red, 0..1"),
    ("g_mean", "mean green, 0..1"),
    ("b_mean", "mean blue, 0..1"),
    ("r_std", "std of red over the clip's pixels and frames"),
    ("g_std", "std of green over the clip's pixels and frames"),
    ("b_std", "std of blue over the clip's pixels and frames"),
    ("luma_mean", "mean BT.601 luma, 0..1"),
    ("luma_std", "std of luma over the clip's pixels and frames"),
    ("saturation_mean", "mean HSV saturation, 0..1 (0 on black pixels)"),
    ("saturation_std", "std of HSV saturation"),
    ("colourfulness", "Hasler-Suesstrunk colourfulness on 0..1 values, mean over frames"),
    ("dark_fraction", "fraction of pixels with luma < 0.1"),
    ("luma_delta", "mean luma of the last frame minus the first (fade in > 0, fade out < 0)"),
    ("luma_range", "max minus min of the frames' mean luma"),
    ("motion_mean", "mean abs luma difference of consecutive frames, mean over pairs"),
    ("motion_max", "mean abs luma difference of consecutive frames, max over pairs"),
    ("hist_change_mean", "RGB histogram distance of consecutive frames (0..1), mean"),
    ("hist_change_max", "RGB histogram distance of consecutive frames (0..1), max"),
    ("cut_rate", "hard cuts per second (an isolated, large jump between consecutive frames)"),
    ("edge_mean", "mean luma gradient magnitude (sharpness)"),
    ("edge_density", "fraction of pixels with luma gradient magnitude > 0.1"),
)


_EPS = 1e-12


_EDGE_THRESHOLD = 0.1
_DARK_LUMA = 0.1
_CUT_SPIKE_RATIO = 2.0
"""A cut's luma difference is at least twice that of the frame pairs beside it."""
_CUT_MOTION = 0.1
"""A luma difference (mean abs, 0..1) that makes an isolated spike a cut whatever the colours."""


_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


# --------------------------------------------------------------------------------------------
# Visual


def visual_features(frames: np.ndarray, durations: np.ndarray, cut_threshold: float) -> np.ndarray:
    """Visual columns (:data:`VISUAL_FEATURES`) of ``B`` clips with the same frame count.

    ``frames`` is uint8 ``(B, n, H, W, 3)`` RGB, ``durations`` the clips' lengths in seconds
    (the cut rate's denominator). Vectorised over the batch: one call per frame count.
    """
    if frames.ndim != 5 or frames.shape[-1] != 3:
        raise ExtractorError(f"expected RGB frames (B, n, H, W, 3), got shape {frames.shape}")
    b, n, h, w, _ = frames.shape
    npix = h * w
    out = np.zeros((b, len(VISUAL_FEATURES)), dtype=np.float32)

    # planes, pixels last (contiguous reductions): R, G, B, luma, saturation, R-G, (R+G)/2-B
    x = np.empty((b, n, 7, npix), dtype=np.float32)
    x[:, :, 0:3] = np.moveaxis(frames.reshape(b, n, npix, 3), -1, 2)
    x[:, :, 0:3] *= np.float32(1.0 / 255.0)
    r, g, bl = x[:, :, 0], x[:, :, 1], x[:, :, 2]
    x[:, :, 3] = _LUMA[0] * r + _LUMA[1] * g + _LUMA[2] * bl
    mx = np.maximum(np.maximum(r, g), bl)
    x[:, :, 4] = (mx - np.minimum(np.minimum(r, g), bl)) / np.maximum(mx, np.float32(1e-6))
    x[:, :, 5] = r - g
    x[:, :, 6] = 0.5 * (r + g) - bl
    luma = x[:, :, 3]  # (B, n, P)

    frame_mean = x.mean(axis=3)  # (B, n, 7)
    centred = x - frame_mean[..., None]
    frame_var = np.square(centred, out=centred).mean(axis=3)  # (B, n, 7)
    del centred
    clip_mean = frame_mean.mean(axis=1)  # (B, 7)
    # total variance over pixels and frames = mean within-frame + variance of frame means
    clip_std = np.sqrt(frame_var.mean(axis=1) + frame_mean.var(axis=1))
    out[:, 0:3] = clip_mean[:, 0:3]
    out[:, 3:6] = clip_std[:, 0:3]
    out[:, 6], out[:, 7] = clip_mean[:, 3], clip_std[:, 3]
    out[:, 8], out[:, 9] = clip_mean[:, 4], clip_std[:, 4]
    colourful = np.sqrt(frame_var[:, :, 5] + frame_var[:, :, 6]) + 0.3 * np.sqrt(
        frame_mean[:, :, 5] ** 2 + frame_mean[:, :, 6] ** 2
    )
    out[:, 10] = colourful.mean(axis=1)
    out[:, 11] = (luma < _DARK_LUMA).mean(axis=(1, 2))

    frame_luma = frame_mean[:, :, 3]  # (B, n)
    out[:, 12] = frame_luma[:, -1] - frame_luma[:, 0]
    out[:, 13] = frame_luma.max(axis=1) - frame_luma.min(axis=1)

    if n > 1:
        motion = np.abs(np.diff(luma, axis=1)).mean(axis=2)  # (B, n-1)
        out[:, 14] = motion.mean(axis=1)
        out[:, 15] = motion.max(axis=1)
        hist = _rgb_histograms(frames)  # (B, n, 64), sums to 1
        change = 0.5 * np.abs(np.diff(hist, axis=1)).sum(axis=2)  # (B, n-1) in [0, 1]
        out[:, 16] = change.mean(axis=1)
        out[:, 17] = change.max(axis=1)
        jump = (change > cut_threshold) | (motion > _CUT_MOTION)
        cuts = (jump & _isolated_spikes(motion)).sum(axis=1)
        out[:, 18] = cuts / np.maximum(np.asarray(durations, dtype=np.float32), 1e-3)

    if h > 1 and w > 1:
        img = luma.reshape(b, n, h, w)
        gx = np.diff(img, axis=3)[:, :, :-1, :]
        gy = np.diff(img, axis=2)[:, :, :, :-1]
        grad = np.sqrt(gx * gx + gy * gy)
        out[:, 19] = grad.mean(axis=(1, 2, 3))
        out[:, 20] = (grad > _EDGE_THRESHOLD).mean(axis=(1, 2, 3))
    return out


def _isolated_spikes(series: np.ndarray) -> np.ndarray:
    """``(B, m)`` bool: values at least :data:`_CUT_SPIKE_RATIO` times both in-clip neighbours.

    A hard cut changes every pixel at once and only once; a fade or a pan changes frames
    steadily, so its frame differences have neighbours of their own size.
    """
    padded = np.pad(series, ((0, 0), (1, 1)))
    neighbours = np.maximum(padded[:, :-2], padded[:, 2:])
    return series >= _CUT_SPIKE_RATIO * neighbours


def _rgb_histograms(frames: np.ndarray) -> np.ndarray:
    """``(B, n, 64)`` normalised joint RGB histograms, 4 levels per channel."""
    b, n, h, w, _ = frames.shape
    q = frames >> 6  # 0..3 per channel
    codes = (q[..., 0].astype(np.int32) << 4) | (q[..., 1].astype(np.int32) << 2) | q[..., 2]
    codes = codes.reshape(b * n, h * w) + (np.arange(b * n, dtype=np.int32) * 64)[:, None]
    counts = np.bincount(codes.ravel(), minlength=b * n * 64).reshape(b, n, 64)
    return counts.astype(np.float32) / np.float32(h * w)
