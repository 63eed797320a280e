"""The perceptual hash of a frame: a 64-bit DCT pHash in numpy, plus the boxes it is taken in.

* **A 64-bit DCT pHash, vectorised in numpy.** The picture is area-resampled to 32x32 and the
  64 lowest-frequency *AC* DCT coefficients (zig-zag order, DC left out) are compared with
  their median. Leaving DC out makes the hash blind to brightness offsets, and the median
  threshold makes it blind to contrast gain, so fades from black, colour grading and sepia
  keep the hash of the source frame (imagehash's pHash keeps DC: its first bit is always 1).
  Resampling and DCT are one pair of small matrix products per frame batch
  (``A @ frame @ B``): about 50 us per frame for box + hash + mirror + uniform test against
  about 500 us for ``imagehash.phash`` alone. A horizontal mirror negates every coefficient of
  odd horizontal frequency, so the hash of the mirrored frame (the ``flip`` variant, queried
  to catch mirrored re-uploads) costs one sign change, no second resample. 64 bits fit FAISS
  binary indexes natively (8 bytes a frame, 115 MB for 1,000 h).
* **Boxes**: :func:`content_box` finds the picture inside black bars or blurred bands (rows or
  columns at the edges whose detail is below 12 % of the picture's), :func:`inset_box` a
  picture-in-picture window (straight edges that persist in every frame).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from ..errors import InvalidArgumentError

HASH_SIDE = 32
"""pHash resamples the (cropped) picture to HASH_SIDE x HASH_SIDE before the DCT."""
NUM_BITS = 64
_BAND_FRACTION = 0.12
"""An edge row/column whose mean detail is below this fraction of the picture's is a band."""
_MIN_BAND = 0.03
"""Bands thinner than this fraction of the side are ignored (encoder edge noise)."""
_BAND_EDGE = 5.0
"""A sharp band's edge: a row whose median vertical gradient is this many times the median."""
_BAND_CONTRAST = 0.6
"""Outside a sharp band, horizontal detail is at most this fraction of the band's."""


# --------------------------------------------------------------------------------------------
# The hash


def _dct_matrix(n: int) -> np.ndarray:
    """Orthonormal DCT-II matrix ``(n, n)``: row u is the u-th basis vector."""
    x = np.arange(n)
    m = np.cos(np.pi * (2 * x[None, :] + 1) * np.arange(n)[:, None] / (2 * n)) * math.sqrt(2 / n)
    m[0] /= math.sqrt(2)
    return m


def _zigzag(count: int, side: int) -> list[tuple[int, int]]:
    """The first ``count`` (row, col) frequencies in zig-zag order, DC excluded."""
    cells = sorted(
        ((u, v) for u in range(side) for v in range(side)),
        key=lambda c: (c[0] + c[1], c[0] if (c[0] + c[1]) % 2 else c[1]),
    )
    return cells[1 : count + 1]


_COEFS = 10  # low-frequency block computed (enough for 64 AC terms in zig-zag order)
_CELLS = _zigzag(NUM_BITS, _COEFS)
_ROWS = np.array([c[0] for c in _CELLS])
_COLS = np.array([c[1] for c in _CELLS])
_FLIP_SIGN = np.where(_COLS % 2 == 1, -1.0, 1.0)
"""Mirroring x negates the coefficients of odd horizontal frequency."""
_DCT = _dct_matrix(HASH_SIDE)[:_COEFS]  # (10, 32)
_BATCH = 32
_BIT_WEIGHTS = (np.uint64(1) << np.arange(NUM_BITS, dtype=np.uint64)).astype(np.uint64)


def _area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """``(n_out, n_in)`` box-filter resampling matrix (each output averages its input span)."""
    edges = np.linspace(0.0, n_in, n_out + 1)
    lo = np.arange(n_in)
    m = np.clip(
        np.minimum(edges[1:, None], lo[None, :] + 1) - np.maximum(edges[:-1, None], lo[None, :]),
        0.0,
        None,
    )
    return m / m.sum(axis=1, keepdims=True)


_PROJ_CACHE: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}


def _projections(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """``A (10, h)``, ``B (w, 10)``: ``A @ img @ B`` is the low DCT block of the 32x32 resample."""
    key = (h, w)
    if key not in _PROJ_CACHE:
        a = (_DCT @ _area_matrix(h, HASH_SIDE)).astype(np.float32)
        b = (_DCT @ _area_matrix(w, HASH_SIDE)).T.astype(np.float32)
        if len(_PROJ_CACHE) > 256:
            _PROJ_CACHE.clear()
        _PROJ_CACHE[key] = (a, b)
    return _PROJ_CACHE[key]


def _bits_to_u64(bits: np.ndarray) -> np.ndarray:
    """``(..., 64)`` bool -> ``(...)`` uint64, bit i = coefficient i."""
    return (bits.astype(np.uint64) * _BIT_WEIGHTS).sum(axis=-1, dtype=np.uint64)


def _coef_hash(coefs: np.ndarray) -> np.ndarray:
    """Median-threshold ``(..., 64)`` coefficients into uint64 hashes."""
    med = np.median(coefs, axis=-1, keepdims=True)
    return _bits_to_u64(coefs > med)


def hamming(a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
    """Bitwise Hamming distance between uint64 hashes (broadcasting)."""
    x = np.bitwise_xor(np.asarray(a, dtype=np.uint64), np.asarray(b, dtype=np.uint64))
    if hasattr(np, "bitwise_count"):  # numpy >= 2
        return np.bitwise_count(x).astype(np.int32)
    bytes_ = np.ascontiguousarray(x).view(np.uint8).reshape(*x.shape, 8)
    return _POPCOUNT8[bytes_].sum(axis=-1, dtype=np.int32)


_POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.int32)


def _crop(box: tuple[int, int, int, int], zoom: float) -> tuple[int, int, int, int]:
    """Centred ``zoom`` fraction of ``box = (y0, y1, x0, x1)``."""
    y0, y1, x0, x1 = box
    if zoom >= 1.0:
        return box
    h, w = y1 - y0, x1 - x0
    ch, cw = max(2, round(h * zoom)), max(2, round(w * zoom))
    oy, ox = (h - ch) // 2, (w - cw) // 2
    return y0 + oy, y0 + oy + ch, x0 + ox, x0 + ox + cw


def hash_frames(
    frames: np.ndarray,
    box: tuple[int, int, int, int] | None = None,
    zooms: Sequence[float] = (),
    *,
    zoom_flips: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Hash grey frames ``(m, H, W)`` uint8 inside ``box``.

    Returns ``hashes (m, 2 + len(zooms))`` uint64 — columns: the box, its mirror image, then
    each centred zoom of the box (with ``zoom_flips``, each zoom followed by its mirror image:
    ``2 + 2 * len(zooms)`` columns) — and ``std (m,)`` of the 32x32 picture (grey levels), the
    basis of the near-uniform test.
    """
    frames = np.asarray(frames)
    if frames.ndim != 3:
        raise InvalidArgumentError(f"frames must be (m, H, W) grey, got shape {frames.shape}")
    m, h, w = frames.shape
    if box is None:
        box = (0, h, 0, w)
    per_zoom = 2 if zoom_flips else 1
    out = np.zeros((m, 2 + per_zoom * len(zooms)), dtype=np.uint64)
    std = np.zeros(m, dtype=np.float64)
    if m == 0:
        return out, std
    for j, zoom in enumerate((1.0, *zooms)):
        y0, y1, x0, x1 = _crop(box, float(zoom))
        a, b = _projections(y1 - y0, x1 - x0)
        low = np.empty((m, _COEFS, _COEFS), dtype=np.float32)
        for i in range(0, m, _BATCH):  # small batches: the float copy stays in cache
            region = frames[i : i + _BATCH, y0:y1, x0:x1].astype(np.float32)
            low[i : i + _BATCH] = a @ region @ b  # low DCT block of the 32x32 resample
        coefs = low[:, _ROWS, _COLS].astype(np.float64)
        col = 2 + per_zoom * (j - 1) if j else 0
        out[:, col] = _coef_hash(coefs)
        if j == 0 or zoom_flips:
            out[:, col + 1] = _coef_hash(coefs * _FLIP_SIGN)
        if j == 0:
            # orthonormal DCT: AC energy of the 32x32 picture = its variance * 32*32
            full = low.astype(np.float64)
            ac = np.sqrt(np.maximum((full**2).sum(axis=(1, 2)) - full[:, 0, 0] ** 2, 0.0))
            std = ac / HASH_SIDE
    return out, std


# --------------------------------------------------------------------------------------------
# Content box: crop bars and blurred bands


def _edge_run(profile: np.ndarray, threshold: float) -> tuple[int, int]:
    """``[lo, hi)`` after dropping the low-detail rows at both ends of ``profile``."""
    n = len(profile)
    keep = np.flatnonzero(profile >= threshold)
    if len(keep) == 0:
        return 0, n
    lo, hi = int(keep[0]), int(keep[-1]) + 1
    min_band = max(1, math.ceil(_MIN_BAND * n))
    if lo < min_band:
        lo = 0
    if n - hi < min_band:
        hi = n
    return lo, hi


def content_box(frames: np.ndarray) -> tuple[int, int, int, int]:
    """``(y0, y1, x0, x1)`` of the film inside grey ``frames (m, H, W)``.

    Edge rows with little horizontal detail over the whole batch (black letterbox bars, the
    blurred and darkened copies above and below a 9:16 re-upload's band) and edge columns with
    little vertical detail (pillarbox bars) are cut off. The box is one per batch, so a static
    dark sky in a few frames never moves it; it falls back to the whole frame when the kept
    part would be implausibly small.
    """
    frames = np.asarray(frames)
    m, h, w = frames.shape
    if m == 0 or h < 8 or w < 8:
        return 0, h, 0, w
    step = max(1, m // 32)  # 32 frames are plenty for a per-batch profile
    sub = frames[::step].astype(np.int16)
    gx = np.abs(np.diff(sub, axis=2)).mean(axis=(0, 2))  # (h,) detail along each row
    gy = np.abs(np.diff(sub, axis=1)).mean(axis=(0, 1))  # (w,) detail along each column
    ref_rows = float(np.percentile(gx, 75))
    ref_cols = float(np.percentile(gy, 75))
    if ref_rows < 0.5 or ref_cols < 0.5:  # a flat video: nothing to measure
        return 0, h, 0, w
    y0, y1 = _edge_run(gx, _BAND_FRACTION * ref_rows)
    x0, x1 = _edge_run(gy, _BAND_FRACTION * ref_cols)
    if (y1 - y0) < 0.2 * h or (x1 - x0) < 0.2 * w:
        return 0, h, 0, w
    # a sharp band over a blurred copy of itself: cut at the band's persistent edges
    inner = sub[:: max(1, len(sub) // 16), y0:y1, x0:x1]  # 16 frames show a persistent edge
    by = _sharp_band(inner)
    bx = _sharp_band(np.ascontiguousarray(inner.transpose(0, 2, 1)))
    if by is not None:
        y0, y1 = y0 + by[0], y0 + by[1]
    if bx is not None:
        x0, x1 = x0 + bx[0], x0 + bx[1]
    return y0, y1, x0, x1


def _sharp_band(frames: np.ndarray) -> tuple[int, int] | None:
    """``[lo, hi)`` rows of a sharp band over blurred (or darkened, or flat) copies, or None.

    The 9:16 layout of Shorts and Reels puts the film band over a blurred, zoomed copy of the
    same frame: no black bar, and blurred rows keep too much detail for the bar rule. What
    gives the band away is its two straight edges, persistent in every frame: rows where the
    temporal median of the vertical gradient is many times the picture's, with much more
    horizontal detail between them than outside. ``frames``: ``(m, H, W)`` int16.
    """
    m, h, _ = frames.shape
    if m < 4 or h < 32:
        return None
    ev = np.median(np.abs(np.diff(frames, axis=1)), axis=0).mean(axis=1)  # (h-1,)
    pad = np.pad(ev, 6, mode="edge")
    local = np.median(np.lib.stride_tricks.sliding_window_view(pad, 13), axis=1)
    strong = np.flatnonzero(
        (ev >= max(_BAND_EDGE * float(np.median(ev)), 8.0)) & (ev >= 3.0 * local)
    )
    if len(strong) < 2:
        return None
    # an edge is the peak of its cluster of strong rows (between rows i and i + 1)
    peaks = [a + int(np.argmax(ev[a : b + 1])) for a, b in _clusters(strong, gap=2)]
    detail = np.abs(np.diff(frames, axis=2)).mean(axis=(0, 2))  # (h,)
    best: tuple[float, int, int] | None = None
    for top, bottom in itertools.combinations(peaks, 2):
        lo, hi = top + 1, bottom + 1
        if hi - lo < 0.2 * h or (lo < 2 and hi > h - 2):
            continue
        inside = float(detail[lo:hi].mean())
        outside = float(np.concatenate([detail[:lo], detail[hi:]]).mean())
        if outside <= _BAND_CONTRAST * inside and (best is None or inside - outside > best[0]):
            best = (inside - outside, lo, hi)
    return None if best is None else (best[1], best[2])


def _longest_run(mask: np.ndarray) -> np.ndarray:
    """Length of the longest run of True along the last axis, for each leading index."""
    m = mask.astype(np.int32)
    best = np.zeros(m.shape[:-1], np.int32)
    cur = np.zeros(m.shape[:-1], np.int32)
    for i in range(m.shape[-1]):
        cur = (cur + 1) * m[..., i]
        np.maximum(best, cur, out=best)
    return best


def _clusters(idx: np.ndarray, gap: int = 3) -> list[tuple[int, int]]:
    """Group sorted indices into ``(first, last)`` clusters of neighbours."""
    out: list[tuple[int, int]] = []
    for i in idx.tolist():
        if out and i - out[-1][1] <= gap:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


def inset_box(
    frames: np.ndarray, edge: float = 12.0, min_run: float = 0.15
) -> tuple[int, int, int, int] | None:
    """``(y0, y1, x0, x1)`` of a picture-in-picture window, or None.

    A window pasted over another video or a flat colour leaves straight edges that persist in
    every frame: rows (columns) where the temporal median of the vertical (horizontal)
    gradient exceeds ``edge`` grey levels over a long run. Among the rectangles those rows and
    columns form whose whole outline is such an edge, covering 4-80 % of the frame with a
    landscape shape, the largest wins (its inner outline when it has a border).
    """
    m, h, w = frames.shape
    if m < 4 or h < 16 or w < 16:
        return None
    sub = frames[:: max(1, m // 16)].astype(np.int16)
    # an edge in most frames (the median over time above ``edge``, without the sort)
    half = len(sub) / 2.0
    ey = (np.abs(np.diff(sub, axis=1)) > edge).sum(axis=0) > half  # (h-1, w): between rows
    ex = (np.abs(np.diff(sub, axis=2)) > edge).sum(axis=0) > half  # (h, w-1): between columns
    rows = _clusters(np.flatnonzero(_longest_run(ey) >= min_run * w))[:8]
    cols = _clusters(np.flatnonzero(_longest_run(ex.T) >= min_run * h))[:8]
    if not rows or not cols:
        return None
    edge_ys = {r for c in rows for r in c}
    edge_xs = {x for c in cols for x in c}
    # a window with four drawn edges first; else one in a corner or against an edge, which
    # has the frame's border for a side
    return _window(ey, ex, sorted(edge_ys), sorted(edge_xs)) or _window(
        ey, ex, sorted(edge_ys | {-1, h - 1}), sorted(edge_xs | {-1, w - 1})
    )


def _window(
    ey: np.ndarray, ex: np.ndarray, ys: list[int], xs: list[int]
) -> tuple[int, int, int, int] | None:
    """The picture-in-picture window among the rectangles of edge rows ``ys`` and columns
    ``xs`` (-1 and the last index stand for the frame's borders), or None."""
    h, w = ex.shape[0], ey.shape[1]
    found: list[tuple[int, tuple[int, int, int, int]]] = []
    for top, bottom in itertools.combinations(ys, 2):
        y0, y1 = top + 1, bottom + 1
        if y1 - y0 < 8 or (top == -1 and bottom == h - 1):
            continue
        for left, right in itertools.combinations(xs, 2):
            x0, x1 = left + 1, right + 1
            bh, bw = y1 - y0, x1 - x0
            if left == -1 and right == w - 1:
                continue
            if bw < 8 or not (0.04 <= bh * bw / (h * w) <= 0.8) or not (1.0 <= bw / bh <= 2.6):
                continue
            support = min(
                ey[top, x0:x1].mean() if top >= 0 else 1.0,
                ey[bottom, x0:x1].mean() if bottom < h - 1 else 1.0,
                ex[y0:y1, left].mean() if left >= 0 else 1.0,
                ex[y0:y1, right].mean() if right < w - 1 else 1.0,
            )
            if support >= 0.8:
                found.append((bh * bw, (y0, y1, x0, x1)))
    if not found:
        return None
    area, outer = max(found)
    # a border draws two outlines: keep the inner one (the picture), not a smaller scene edge
    nested = [
        (a, b)
        for a, b in found
        if a >= 0.8 * area and b[0] >= outer[0] and b[1] <= outer[1] and b[2] >= outer[2]
        and b[3] <= outer[3]
    ]  # fmt: skip
    return min(nested)[1]
