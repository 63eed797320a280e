"""Per-frame perceptual hashes of a video, so a re-upload can be traced back to its source.

Choices, and the measurements behind them (``benchmarks/bench_fingerprint.py`` and
``benchmarks/bench_alignment.py`` rerun them):

* **Hash: a 64-bit DCT pHash, vectorised in numpy.** The picture is area-resampled to 32x32
  and the 64 lowest-frequency *AC* DCT coefficients (zig-zag order, DC left out) are compared
  with their median. Leaving DC out makes the hash blind to brightness offsets, and the median
  threshold makes it blind to contrast gain, so fades from black, colour grading and sepia
  keep the hash of the source frame (imagehash's pHash keeps DC: its first bit is always 1).
  Resampling and DCT are one pair of small matrix products per frame batch
  (``A @ frame @ B``): about 50 us per frame for box + hash + mirror + uniform test against
  about 500 us for ``imagehash.phash`` alone; fingerprinting the 596-s film costs 1.02x a bare
  PyAV decode of it (``benchmarks/bench_fingerprint.py``). A horizontal mirror negates
  every coefficient of odd horizontal frequency, so the hash of the mirrored frame (the
  ``flip`` variant, queried to catch mirrored re-uploads) costs one sign change, no second
  resample. 64 bits fit FAISS binary indexes natively (8 bytes a frame, 115 MB for 1,000 h).
  On the real trailer, frames of the reused spans lie at a median 0-2 bits from their source
  frame (6 for the 0.5x sepia span, 24-28 inside crossfades), random pairs at 32.
* **4 frames per second**, on video.py's absolute grid ``k / 4``: a 2-second clip gets 8
  frames, enough for the temporal vote to see a reused span of 1.5 s, and the source and a
  derivative sampled out of phase differ by at most 1/8 s of motion. More frames cost
  nothing in decoding (the whole stream is decoded anyway) but grow the index linearly.
* **Preprocessing**: decoded straight to grey at 128 pixels on the short side (FFmpeg's
  scaler does it, one reused scaler), then per chunk of the video the *content box* is found:
  rows (columns) at the edges whose horizontal (vertical) detail is below 12 % of the
  picture's are black bars or blurred/darkened bands (letterbox, pillarbox, the blurred
  copies above and below a 9:16 re-upload's film band) and are cropped away, so the film band
  hashes like the source (simulated vertical re-uploads: clip recall 0.98, precision 1.0).
  A picture-in-picture window leaves straight edges that persist in every frame; when found
  (:func:`inset_box`), the window is hashed too (``inset`` / ``inset_flip`` columns; copies
  of ``full`` / ``flip`` otherwise), which took simulated PiP re-uploads from recall 0.0 to
  1.0. Optional ``zooms`` hash centred crops of the box (for sources, to catch centred zooms;
  off-centre crops of 10-25 % put the hash 14-30 bits away whatever the zoom, measured on
  the film, so they are not on by default).
* **Near-uniform frames are flagged invalid** (black fades, flat title cards): their 32x32
  picture has a standard deviation (its AC energy) below ``min_std`` = 6 grey levels.
  Their hashes are still stored, but matching ignores them; they hash alike and would match
  anything.

Fingerprints are cached under ``cache_dir`` by the sha256 of the file's bytes plus the
parameters; long videos are fingerprinted in chunks of ``chunk_seconds``, each cached on its
own, so a run killed half-way resumes at the first missing chunk. Every cache file is written
atomically as a deterministic ``.npz`` (fixed zip timestamps), so reruns are byte-identical.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import logging
import math
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from tvhighlights.fileio import atomic_write, file_digest

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_FPS",
    "FINGERPRINT_VERSION",
    "Fingerprint",
    "content_box",
    "file_digest",
    "fingerprint_frames",
    "fingerprint_video",
    "hamming",
    "hash_frames",
    "inset_box",
    "load_fingerprint",
    "save_fingerprint",
]

FINGERPRINT_VERSION = 2
"""Bumped whenever the hash changes, so old cache files are never reused."""

DEFAULT_FPS = 4.0
ANALYSIS_SHORT_SIDE = 128
"""Frames are decoded to grey with this many pixels on their short side."""
HASH_SIDE = 32
"""pHash resamples the (cropped) picture to HASH_SIDE x HASH_SIDE before the DCT."""
NUM_BITS = 64
DEFAULT_MIN_STD = 6.0
DEFAULT_CHUNK_SECONDS = 300.0
_BAND_FRACTION = 0.12
"""An edge row/column whose mean detail is below this fraction of the picture's is a band."""
_MIN_BAND = 0.03
"""Bands thinner than this fraction of the side are ignored (encoder edge noise)."""


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
) -> tuple[np.ndarray, np.ndarray]:
    """Hash grey frames ``(m, H, W)`` uint8 inside ``box``.

    Returns ``hashes (m, 2 + len(zooms))`` uint64 — columns: the box, its mirror image, then
    each centred zoom of the box — and ``std (m,)`` of the 32x32 picture (grey levels), the
    basis of the near-uniform test.
    """
    frames = np.asarray(frames)
    if frames.ndim != 3:
        raise ValueError(f"frames must be (m, H, W) grey, got shape {frames.shape}")
    m, h, w = frames.shape
    if box is None:
        box = (0, h, 0, w)
    out = np.zeros((m, 2 + len(zooms)), dtype=np.uint64)
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
        col = j + 1 if j else 0
        out[:, col] = _coef_hash(coefs)
        if j == 0:
            out[:, 1] = _coef_hash(coefs * _FLIP_SIGN)
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
    step = max(1, m // 64)  # 64 frames are plenty for a per-batch profile
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
    return y0, y1, x0, x1


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
    sub = frames[:: max(1, m // 32)].astype(np.int16)
    ey = np.median(np.abs(np.diff(sub, axis=1)), axis=0) > edge  # (h-1, w): between rows
    ex = np.median(np.abs(np.diff(sub, axis=2)), axis=0) > edge  # (h, w-1): between columns
    rows = _clusters(np.flatnonzero(_longest_run(ey) >= min_run * w))[:8]
    cols = _clusters(np.flatnonzero(_longest_run(ex.T) >= min_run * h))[:8]
    if len(rows) < 2 or len(cols) < 2:
        return None
    ys = sorted({r for c in rows for r in c})
    xs = sorted({x for c in cols for x in c})
    found: list[tuple[int, tuple[int, int, int, int]]] = []
    for top, bottom in itertools.combinations(ys, 2):
        y0, y1 = top + 1, bottom + 1
        if y1 - y0 < 8:
            continue
        for left, right in itertools.combinations(xs, 2):
            x0, x1 = left + 1, right + 1
            bh, bw = y1 - y0, x1 - x0
            if bw < 8 or not (0.04 <= bh * bw / (h * w) <= 0.8) or not (1.0 <= bw / bh <= 2.6):
                continue
            support = min(
                ey[top, x0:x1].mean(),
                ey[bottom, x0:x1].mean(),
                ex[y0:y1, left].mean(),
                ex[y0:y1, right].mean(),
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


# --------------------------------------------------------------------------------------------
# Fingerprints


@dataclass(frozen=True, eq=False)
class Fingerprint:
    """Hashes of a video's frames sampled at ``fps`` (times on the absolute grid ``k / fps``)."""

    times: np.ndarray
    """float64 ``(n,)`` seconds."""
    hashes: np.ndarray
    """uint64 ``(n, k)``; the columns are named by :attr:`variants`."""
    valid: np.ndarray
    """bool ``(n,)``: False for near-uniform frames (fades, flat cards), ignored by matching."""
    fps: float
    duration: float
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.times)
        if self.hashes.ndim != 2 or len(self.hashes) != n or len(self.valid) != n:
            raise ValueError(
                f"fingerprint arrays disagree: times {self.times.shape}, "
                f"hashes {self.hashes.shape}, valid {self.valid.shape}"
            )

    @property
    def variants(self) -> list[str]:
        """Column names of :attr:`hashes`: ``full``, ``flip``, ``inset``, ``inset_flip``, then
        ``zoom0.80``-style names."""
        return list(self.params.get("variants", ["full", "flip"]))

    def column(self, name: str) -> np.ndarray:
        """The ``(n,)`` hashes of one variant."""
        return self.hashes[:, self.variants.index(name)]

    def __len__(self) -> int:
        return len(self.times)

    def save(self, path: str | Path) -> Path:
        """Write as a deterministic ``.npz`` (atomic; no pickle)."""
        return save_fingerprint(self, path)

    @classmethod
    def load(cls, path: str | Path) -> Fingerprint:
        return load_fingerprint(path)


def _params(fps: float, zooms: Sequence[float], min_std: float) -> dict[str, Any]:
    return {
        "version": FINGERPRINT_VERSION,
        "hash": "dct-ac64-median",
        "fps": float(fps),
        "short_side": ANALYSIS_SHORT_SIDE,
        "hash_side": HASH_SIDE,
        "zooms": [float(z) for z in zooms],
        "min_std": float(min_std),
        "variants": ["full", "flip", "inset", "inset_flip", *(f"zoom{z:.2f}" for z in zooms)],
    }


def fingerprint_frames(
    times: np.ndarray,
    frames: np.ndarray,
    *,
    fps: float = DEFAULT_FPS,
    duration: float | None = None,
    zooms: Sequence[float] = (),
    min_std: float = DEFAULT_MIN_STD,
    box: tuple[int, int, int, int] | None = None,
) -> Fingerprint:
    """Fingerprint frames already in memory (grey ``(m, H, W)`` uint8, or RGB ``(m, H, W, 3)``).

    The content box is found over all the frames given, unless ``box`` is passed.
    """
    frames = np.asarray(frames)
    if frames.ndim == 4:
        frames = (
            frames[..., 0] * 0.299 + frames[..., 1] * 0.587 + frames[..., 2] * 0.114 + 0.5
        ).astype(np.uint8)
    times = np.asarray(times, dtype=np.float64)
    if box is None:
        box = content_box(frames)
    hashes, std = hash_frames(frames, box, zooms)
    valid = std >= min_std
    inset = inset_box(frames) if len(frames) else None
    if inset is not None and tuple(inset) != tuple(box):
        inner, _ = hash_frames(frames, inset)
    else:
        inner = hashes[:, :2]  # no window: the same as the whole picture
    hashes = np.concatenate([hashes[:, :2], inner, hashes[:, 2:]], axis=1)
    params = _params(fps, zooms, min_std)
    if duration is None:
        duration = float(times[-1] + 1.0 / fps) if len(times) else 0.0
    return Fingerprint(times, hashes, valid, float(fps), float(duration), params)


def _concat(parts: list[Fingerprint], fps: float, duration: float, params: dict) -> Fingerprint:
    if not parts:
        k = len(params["variants"])
        return Fingerprint(
            np.zeros(0), np.zeros((0, k), np.uint64), np.zeros(0, bool), fps, duration, params
        )
    return Fingerprint(
        np.concatenate([p.times for p in parts]),
        np.concatenate([p.hashes for p in parts]),
        np.concatenate([p.valid for p in parts]),
        float(fps),
        float(duration),
        params,
    )


# --------------------------------------------------------------------------------------------
# Files: digest, deterministic npz


_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def write_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """``np.savez`` with fixed zip timestamps, written atomically: same arrays, same bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.asarray(arrays[name]), allow_pickle=False)
    with atomic_write(path, "wb", encoding=None) as fh:
        fh.write(buf.getvalue())
    return Path(path)


def save_fingerprint(fp: Fingerprint, path: str | Path) -> Path:
    """Write ``fp`` as a deterministic ``.npz`` (atomic; no pickle)."""
    meta = {"fps": fp.fps, "duration": fp.duration, "params": fp.params}
    return write_npz(
        path,
        {
            "times": np.ascontiguousarray(fp.times, dtype=np.float64),
            "hashes": np.ascontiguousarray(fp.hashes, dtype=np.uint64),
            "valid": np.ascontiguousarray(fp.valid, dtype=bool),
            "meta": np.array(json.dumps(meta, sort_keys=True)),
        },
    )


def load_fingerprint(path: str | Path) -> Fingerprint:
    """Read a fingerprint written by :func:`save_fingerprint` (``allow_pickle=False``)."""
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        return Fingerprint(
            z["times"].astype(np.float64),
            z["hashes"].astype(np.uint64),
            z["valid"].astype(bool),
            float(meta["fps"]),
            float(meta["duration"]),
            meta["params"],
        )


# --------------------------------------------------------------------------------------------
# Videos


def _analysis_size(width: int, height: int) -> tuple[int, int]:
    """Grey decode size: ANALYSIS_SHORT_SIDE on the short side, even, never upscaled much."""
    short = min(width, height)
    scale = min(1.0, ANALYSIS_SHORT_SIDE / short) if short > ANALYSIS_SHORT_SIDE else 1.0
    w = max(16, 2 * round(width * scale / 2))
    h = max(16, 2 * round(height * scale / 2))
    return w, h


def _fingerprint_chunk(
    path: Path,
    fps: float,
    start: float,
    end: float,
    size: tuple[int, int],
    zooms: Sequence[float],
    min_std: float,
    duration: float,
    bar: tqdm | None,
) -> Fingerprint:
    from tvhighlights.video import iter_frames

    times: list[float] = []
    frames: list[np.ndarray] = []
    for t, frame in iter_frames(path, fps, size=size, grey=True, start=start, end=end):
        times.append(t)
        frames.append(frame)
        if bar is not None:
            bar.update(1)
    w, h = size
    arr = np.stack(frames) if frames else np.zeros((0, h, w), np.uint8)
    return fingerprint_frames(
        np.asarray(times, np.float64), arr, fps=fps, duration=duration, zooms=zooms,
        min_std=min_std,
    )  # fmt: skip


def _chunk_bounds(start: float, stop: float, fps: float, chunk: float) -> list[tuple[float, float]]:
    """Chunk edges on the frame grid, so chunked and whole decodes sample the same times."""
    step = max(1, round(chunk * fps)) / fps
    edges = [start]
    while edges[-1] + step < stop - 1e-9:
        edges.append(round((edges[-1] + step) * fps) / fps)
    edges.append(stop)
    return list(itertools.pairwise(edges))


def fingerprint_video(
    path: str | Path,
    *,
    fps: float = DEFAULT_FPS,
    start: float = 0.0,
    end: float | None = None,
    zooms: Sequence[float] = (),
    min_std: float = DEFAULT_MIN_STD,
    cache_dir: str | Path | None = None,
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    show_progress: bool = False,
) -> Fingerprint:
    """Fingerprint ``path`` (frames at ``k / fps`` in ``[start, end)``), cached when asked.

    With ``cache_dir``, the result is stored as ``<sha256 of bytes>-<params digest>.npz``; long
    videos are done in chunks of ``chunk_seconds`` whose partial results are cached too, so an
    interrupted run resumes. The content box is found per chunk.
    """
    from tvhighlights.video import probe

    p = Path(path)
    info = probe(p)
    fps = float(fps)
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    start = max(0.0, float(start))
    stop = info.duration if end is None else min(float(end), info.duration)
    params = _params(fps, zooms, min_std)
    size = _analysis_size(info.width, info.height)
    if end is not None or start > 0:
        params = {**params, "start": start, "end": stop}
    params["chunk_seconds"] = float(chunk_seconds)

    target: Path | None = None
    cache: Path | None = None
    if cache_dir is not None:
        cache = Path(cache_dir)
        pkey = hashlib.sha256(
            json.dumps({**params, "size": size}, sort_keys=True).encode()
        ).hexdigest()[:16]
        stem = f"{file_digest(p)}-{pkey}"
        target = cache / f"{stem}.npz"
        if target.exists():
            try:
                fp = load_fingerprint(target)
                logger.debug("%s: fingerprint cache hit %s", p, target.name)
                return fp
            except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
                logger.warning("%s: unreadable cache file %s (%s); redoing", p, target, e)

    chunks = _chunk_bounds(start, stop, fps, chunk_seconds) if stop > start else []
    total = max(0, math.ceil(stop * fps - 1e-9) - math.ceil(start * fps - 1e-9))
    parts: list[Fingerprint] = []
    with tqdm(
        total=total, disable=not show_progress, unit="frame", desc=f"fingerprint {p.name}"
    ) as bar:
        for i, (a, b) in enumerate(chunks):
            part_path = None
            if cache is not None and len(chunks) > 1:
                part_path = cache / f"{stem}.part{i:04d}.npz"
                if part_path.exists():
                    try:
                        part = load_fingerprint(part_path)
                        parts.append(part)
                        bar.update(len(part))
                        continue
                    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
                        logger.warning("%s: unreadable chunk %s; redoing", p, part_path)
            part = _fingerprint_chunk(
                p, fps, a, b, size, zooms, min_std, info.duration, bar if show_progress else None
            )
            if part_path is not None:
                save_fingerprint(part, part_path)
            parts.append(part)
    fp = _concat(parts, fps, info.duration, params)
    if target is not None:
        save_fingerprint(fp, target)
        for i in range(len(chunks) if len(chunks) > 1 else 0):
            (cache / f"{stem}.part{i:04d}.npz").unlink(missing_ok=True)
    return fp
