"""Find the window of an off-centre crop, so a re-upload cropped at a corner still aligns.

A crop that keeps a fraction ``c`` of each side, placed anywhere (a corner, an edge), moves
the picture's centre by up to ``(1 - c) / 2`` of the width; the pHash is not shift-tolerant
(a 2 % shift of the window costs about 6 bits, 5 % costs 14), so neither the derivative's
picture nor its centred zooms come near any indexed source hash. But the source's centred
half (indexed for every source frame, :data:`~.fingerprint.SOURCE_ZOOMS`) lies inside every
crop that keeps at least 75 % of each side, wherever it sits: in the derivative it is the
window of size ``0.5 / c`` at ``(0.25 - o) / c``, ``o`` being the crop's offset. So the
derivative's *unexplained* frames (those no match covers) are searched over a grid of such
windows (:func:`crop_windows`: ``c`` in 75-90 %, offsets every 2.5 %, ~400 windows, and their
mirror images) on a few keyframes; windows whose hashes land within a few bits of an indexed
frame on several keyframes are hashed on every frame and handed to alignment as extra query
columns (``crop0``, ``crop0_flip``, ...), where the Hough vote and the frame-by-frame
verification decide, as for every other column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fingerprint import SOURCE_ZOOMS, Fingerprint
from .index import HashIndex
from .phash import content_box, hamming, hash_frames

__all__ = ["CropSearch", "crop_windows", "find_crop_windows", "with_windows"]

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class CropSearch:
    """Knobs of :func:`find_crop_windows`."""

    keeps: tuple[float, ...] = (0.75, 0.8, 0.85, 0.9)
    """Fractions of each side an off-centre crop keeps (larger ones match as they are)."""
    step: float = 0.025
    """Grid step of the window offsets, in fractions of the derivative's side."""
    keyframes: int = 12
    """Unexplained frames whose windows are looked up."""
    max_distance: int = 12
    """Bits within which a window's hash counts as a hit (tight: ~800 hashes per keyframe)."""
    min_hits: int = 3
    """Keyframes a window must hit on."""
    max_windows: int = 2
    """Windows handed to alignment."""


def crop_windows(
    box: Box, keeps: tuple[float, ...] = CropSearch.keeps, step: float = CropSearch.step
) -> list[Box]:
    """``(y0, y1, x0, x1)`` windows of ``box`` where the source's centred half would show if
    the derivative were a crop keeping ``c`` of each side, for every ``c`` in ``keeps`` and
    every crop offset on a grid of ``step``."""
    half = SOURCE_ZOOMS[0]
    lo_src = (1.0 - half) / 2.0  # the source half spans [lo_src, lo_src + half]
    y0, y1, x0, x1 = box
    h, w = y1 - y0, x1 - x0
    out: list[Box] = []
    for c in keeps:
        size = half / c
        lo = max(0.0, (lo_src - (1.0 - c)) / c)
        hi = min(lo_src / c, 1.0 - size)
        us = np.arange(lo, hi + 1e-9, step) if hi >= lo else np.array([])
        for uy in us:
            for ux in us:
                win = (
                    y0 + round(uy * h),
                    y0 + round((uy + size) * h),
                    x0 + round(ux * w),
                    x0 + round((ux + size) * w),
                )
                if win[1] - win[0] >= 8 and win[3] - win[2] >= 8:
                    out.append(win)
    return sorted(set(out))


def find_crop_windows(
    frames: np.ndarray,
    fp: Fingerprint,
    index: HashIndex,
    unexplained: np.ndarray,
    params: CropSearch | None = None,
) -> list[Box]:
    """Windows of grey ``frames (m, H, W)`` (those ``fp`` was made from) that show the
    source's centred half, searched on keyframes among the ``unexplained`` valid frames
    (bool ``(m,)``); best first."""
    p = params or CropSearch()
    idx = np.flatnonzero(unexplained & fp.valid)
    if len(idx) < p.min_hits or index.ntotal == 0:
        return []
    pick = _distinct_keyframes(fp.column("full"), idx, p.keyframes)
    if len(pick) < p.min_hits:  # a still picture (a title card) gives one hash, not evidence
        return []
    keys = frames[pick]
    wins = crop_windows(content_box(frames), p.keeps, p.step)
    if not wins:
        return []
    codes = np.stack([hash_frames(keys, win)[0][:, :2] for win in wins])  # (n, k, 2)
    d, _ = index.search(codes.ravel(), 1)
    d = d[:, 0].reshape(codes.shape)
    near = d <= p.max_distance
    hits = near.sum(axis=1)  # (n, 2): per window, plain and mirrored
    mean_d = np.where(near, d, 0).sum(axis=1) / np.maximum(hits, 1)
    flip = np.argmax(hits * 100.0 - mean_d, axis=1)  # the better of the two, per window
    rows = np.arange(len(wins))
    best, mean_best = hits[rows, flip], mean_d[rows, flip]
    order = np.lexsort((mean_best, -best))
    chosen: list[Box] = []
    for i in order:
        if best[i] < p.min_hits or len(chosen) >= p.max_windows:
            break
        chosen.append(wins[i])
    return chosen


def _distinct_keyframes(codes: np.ndarray, idx: np.ndarray, count: int) -> np.ndarray:
    """Up to ``count`` frames of ``idx``, spread over them, no two of which look alike (their
    pictures' hashes ``codes`` within 10 bits): hits on one still picture seen many times are
    one hit."""
    pos = np.linspace(0, len(idx) - 1, min(4 * count, len(idx))).round().astype(np.int64)
    spread = np.unique(idx[pos])
    kept: list[int] = []
    for j in spread.tolist():
        if all(int(hamming(codes[j], codes[k])) > 10 for k in kept):
            kept.append(j)
    if len(kept) > count:
        kept = [kept[k] for k in np.linspace(0, len(kept) - 1, count).round().astype(np.int64)]
    return np.asarray(kept, np.int64)


def with_windows(fp: Fingerprint, frames: np.ndarray, windows: list[Box]) -> Fingerprint:
    """``fp`` plus the hashes of each window (and its mirror image) on every frame, as
    columns ``crop0``, ``crop0_flip``, ..."""
    if not windows:
        return fp
    cols = [hash_frames(frames, win)[0][:, :2] for win in windows]
    names = [n for i in range(len(windows)) for n in (f"crop{i}", f"crop{i}_flip")]
    params = {**fp.params, "variants": [*fp.variants, *names], "crop_windows": windows}
    return Fingerprint(
        fp.times,
        np.concatenate([fp.hashes, *cols], axis=1),
        fp.valid,
        fp.fps,
        fp.duration,
        params,
        fp.shot_starts,
    )
