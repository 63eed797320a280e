"""Per-frame perceptual hashes of a video, so a re-upload can be traced back to its source.

Choices, and the measurements behind them (``benchmarks/bench_fingerprint.py`` and
``benchmarks/bench_alignment.py`` rerun them):

* **Hash**: the 64-bit DCT pHash of :mod:`.phash` (and its mirror image, for one sign change).
  Fingerprinting costs about a bare PyAV decode of the same file, as a source and as a
  derivative (``benchmarks/bench_fingerprint.py``). On the real trailer, frames of the reused
  spans lie at a median 0-2 bits from their source frame (6 for the 0.5x sepia span, 24-28
  inside crossfades), random pairs at 32.
* **4 frames per second**, on :mod:`tvhighlights.video`'s absolute grid ``k / 4``: a 2-second
  clip gets 8 frames, enough for the temporal vote to see a reused span of 1.5 s, and the
  source and a derivative sampled out of phase differ by at most 1/8 s of motion. More frames
  cost nothing in decoding (the whole stream is decoded anyway) but grow the index linearly.
* **Preprocessing**: decoded straight to grey at 128 pixels on the short side (FFmpeg's
  scaler does it, one reused scaler), then per chunk of the video the *content box* is found:
  rows (columns) at the edges whose horizontal (vertical) detail is below 12 % of the
  picture's are black bars or darkened bands and are cropped away, and the sharp band of a
  9:16 layout over a blurred copy of itself is cut at its two persistent edges
  (:func:`~.phash.content_box`), so the film band hashes like the source.
  A picture-in-picture window leaves straight edges that persist in every frame (the frame's
  border stands in for a side against it); when found (:func:`~.phash.inset_box`), shot by
  shot with ``shots=True``, the window is hashed too (``inset`` / ``inset_flip`` columns;
  copies of ``full`` / ``flip`` otherwise).
* **Zooms**: sources hash their centred half too (:data:`SOURCE_ZOOMS`, the second indexed
  column), derivatives 9 centred zooms and their mirror images (:data:`QUERY_ZOOMS`): a
  derivative showing the middle ``c`` of the source shows the source's middle half in its own
  middle ``0.5 / c``. Off-centre crops are left to :mod:`.crops`. The alignment benchmark
  keeps the query without zooms in its table (centre crop 70 %: recall 0.00 -> 1.00).
* **Shots** (``shots=True``, derivatives): a hash jump of more than SHOT_CUT_BITS between
  consecutive frames, or a picture after near-uniform frames, starts a shot; the build cuts
  its matches there, so a derivative is decoded once.
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
import itertools
import json
import logging
import math
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..errors import InvalidArgumentError
from ..fileio import file_digest, write_npz
from ..video import iter_frames, probe, read_frames
from .phash import HASH_SIDE, content_box, hamming, hash_frames, inset_box

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_FPS",
    "FINGERPRINT_VERSION",
    "QUERY_ZOOMS",
    "SOURCE_ZOOMS",
    "Fingerprint",
    "decode_analysis_frames",
    "fingerprint_derivative",
    "fingerprint_frames",
    "fingerprint_source",
    "fingerprint_video",
    "hamming",
    "load_fingerprint",
    "save_fingerprint",
]

FINGERPRINT_VERSION = 5
"""Bumped whenever the hash changes, so old cache files are never reused."""

DEFAULT_FPS = 4.0
ANALYSIS_SHORT_SIDE = 128
"""Frames are decoded to grey with this many pixels on their short side."""
DEFAULT_MIN_STD = 6.0
DEFAULT_CHUNK_SECONDS = 300.0
SOURCE_ZOOMS: tuple[float, ...] = (0.5,)
"""Centred zooms hashed on the source side: the middle half of the picture is inside every
crop that keeps at least 75 % of each side, centred or not, and inside every centred zoom."""
QUERY_ZOOMS: tuple[float, ...] = tuple(round(0.5 * 1.07**i, 3) for i in range(1, 10))
"""Centred zooms hashed on a derivative (with their mirror images): a derivative that shows
the middle ``c`` of the source shows the source's middle half in its own middle ``0.5 / c``.
Steps of 7 % keep the scale mismatch under 3.5 % (about 5 bits); 0.535-0.919 covers centred
zooms and crops of 55-93 % (above that the ``full`` column matches)."""
FramesCallback = Callable[[np.ndarray, np.ndarray], None]
"""``(times (n,), grey frames (n, H, W))`` of one decoded chunk."""
SHOT_CUT_BITS = 26
"""Consecutive frames (1/fps apart) whose hashes differ by more than this start a new shot."""


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
    shot_starts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    """float64 seconds where shots begin, when the fingerprint was made with ``shots=True``
    (hard cuts between consecutive frames; the first shot starts at the first frame)."""

    def shots(self) -> list[tuple[float, float]]:
        """``(start, end)`` seconds of each shot (one shot covering the video when none)."""
        end = max(self.duration, float(self.times[-1]) + 1 / self.fps if len(self) else 0.0)
        starts = [float(t) for t in self.shot_starts] or [0.0]
        starts[0] = min(starts[0], 0.0)
        return list(zip(starts, [*starts[1:], end], strict=True))

    def __post_init__(self) -> None:
        n = len(self.times)
        if self.hashes.ndim != 2 or len(self.hashes) != n or len(self.valid) != n:
            raise InvalidArgumentError(
                f"fingerprint arrays disagree: times {self.times.shape}, "
                f"hashes {self.hashes.shape}, valid {self.valid.shape}"
            )

    @property
    def variants(self) -> list[str]:
        """Column names of :attr:`hashes`: ``full``, ``flip``, ``inset``, ``inset_flip``, then
        ``zoom0.80``-style names (each followed by ``zoom0.80_flip`` when mirrored zooms were
        asked for)."""
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


def _params(
    fps: float, zooms: Sequence[float], min_std: float, zoom_flips: bool = False,
    shots: bool = False,
) -> dict[str, Any]:  # fmt: skip
    zoom_names = []
    for z in zooms:
        zoom_names += [f"zoom{z:.2f}", f"zoom{z:.2f}_flip"] if zoom_flips else [f"zoom{z:.2f}"]
    return {
        "version": FINGERPRINT_VERSION,
        "hash": "dct-ac64-median",
        "fps": float(fps),
        "short_side": ANALYSIS_SHORT_SIDE,
        "hash_side": HASH_SIDE,
        "zooms": [float(z) for z in zooms],
        "zoom_flips": bool(zoom_flips),
        "shots": bool(shots),
        "min_std": float(min_std),
        "variants": ["full", "flip", "inset", "inset_flip", *zoom_names],
    }


def _shot_starts(hashes: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Frame indices where shots begin: a jump of more than SHOT_CUT_BITS between consecutive
    frames, or from near-uniform frames (a fade) to a picture."""
    if len(hashes) == 0:
        return np.zeros(0, np.int64)
    jump = hamming(hashes[1:], hashes[:-1]) > SHOT_CUT_BITS
    from_blank = valid[1:] & ~valid[:-1]
    cuts = np.flatnonzero((jump & valid[1:] & valid[:-1]) | from_blank) + 1
    return np.concatenate([[0], cuts]).astype(np.int64)


def _inset_hashes(
    frames: np.ndarray, box: tuple[int, int, int, int], full: np.ndarray, starts: np.ndarray
) -> np.ndarray:
    """``inset`` / ``inset_flip`` columns: the picture-in-picture window of each shot (of the
    whole batch for shots too short to tell), a copy of ``full`` / ``flip`` where none."""
    out = full.copy()
    whole = inset_box(frames) if len(frames) else None
    bounds = [*starts.tolist(), len(frames)] if len(starts) > 1 else [0, len(frames)]
    for a, b in itertools.pairwise(bounds):
        per_shot = len(bounds) > 2 and b - a >= _MIN_SHOT_FRAMES
        window = (inset_box(frames[a:b]) if per_shot else None) or whole
        if window is not None and tuple(window) != tuple(box):
            out[a:b], _ = hash_frames(frames[a:b], window)
    return out


_MIN_SHOT_FRAMES = 6
"""Shots with fewer frames than this take the batch's picture-in-picture window."""


def fingerprint_frames(
    times: np.ndarray,
    frames: np.ndarray,
    *,
    fps: float = DEFAULT_FPS,
    duration: float | None = None,
    zooms: Sequence[float] = (),
    min_std: float = DEFAULT_MIN_STD,
    box: tuple[int, int, int, int] | None = None,
    zoom_flips: bool = False,
    shots: bool = False,
) -> Fingerprint:
    """Fingerprint frames already in memory (grey ``(m, H, W)`` uint8, or RGB ``(m, H, W, 3)``).

    The content box is found over all the frames given, unless ``box`` is passed. With
    ``shots``, hard cuts are found too (:attr:`Fingerprint.shot_starts`) and the
    picture-in-picture window is looked for shot by shot, so a compilation whose window
    moves is hashed right in every shot.
    """
    frames = np.asarray(frames)
    if frames.ndim == 4:
        frames = (
            frames[..., 0] * 0.299 + frames[..., 1] * 0.587 + frames[..., 2] * 0.114 + 0.5
        ).astype(np.uint8)
    times = np.asarray(times, dtype=np.float64)
    if box is None:
        box = content_box(frames)
    hashes, std = hash_frames(frames, box, zooms, zoom_flips=zoom_flips)
    valid = std >= min_std
    starts = _shot_starts(hashes[:, 0], valid) if shots else np.zeros(0, np.int64)
    inner = _inset_hashes(frames, box, hashes[:, :2], starts)
    hashes = np.concatenate([hashes[:, :2], inner, hashes[:, 2:]], axis=1)
    params = _params(fps, zooms, min_std, zoom_flips, shots)
    if duration is None:
        duration = float(times[-1] + 1.0 / fps) if len(times) else 0.0
    return Fingerprint(
        times, hashes, valid, float(fps), float(duration), params, times[starts] if shots else
        np.zeros(0, np.float64),
    )  # fmt: skip


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
        np.concatenate([p.shot_starts for p in parts]),
    )


# --------------------------------------------------------------------------------------------


def save_fingerprint(fp: Fingerprint, path: str | Path) -> Path:
    """Write ``fp`` as a deterministic ``.npz`` (atomic; no pickle)."""
    meta = {"fps": fp.fps, "duration": fp.duration, "params": fp.params}
    return write_npz(
        path,
        {
            "times": np.ascontiguousarray(fp.times, dtype=np.float64),
            "hashes": np.ascontiguousarray(fp.hashes, dtype=np.uint64),
            "valid": np.ascontiguousarray(fp.valid, dtype=bool),
            "shot_starts": np.ascontiguousarray(fp.shot_starts, dtype=np.float64),
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
            z["shot_starts"].astype(np.float64),
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
    zoom_flips: bool = False,
    shots: bool = False,
    on_frames: FramesCallback | None = None,
) -> Fingerprint:
    times: list[float] = []
    frames: list[np.ndarray] = []
    for t, frame in iter_frames(path, fps, size=size, grey=True, start=start, end=end):
        times.append(t)
        frames.append(frame)
        if bar is not None:
            bar.update(1)
    w, h = size
    arr = np.stack(frames) if frames else np.zeros((0, h, w), np.uint8)
    if on_frames is not None:
        on_frames(np.asarray(times, np.float64), arr)
    return fingerprint_frames(
        np.asarray(times, np.float64), arr, fps=fps, duration=duration, zooms=zooms,
        min_std=min_std, zoom_flips=zoom_flips, shots=shots,
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
    zoom_flips: bool = False,
    shots: bool = False,
    on_frames: FramesCallback | None = None,
) -> Fingerprint:
    """Fingerprint ``path`` (frames at ``k / fps`` in ``[start, end)``), cached when asked.

    ``on_frames(times, frames)`` is called with the grey frames of each chunk it decodes (not
    for what the cache gave), for a caller that needs them too and would rather not decode
    twice.

    Sources are fingerprinted with ``zooms=SOURCE_ZOOMS``, derivatives (the queries) with
    ``zooms=QUERY_ZOOMS, zoom_flips=True, shots=True`` (see :func:`fingerprint_frames`).

    With ``cache_dir``, the result is stored as ``<sha256 of bytes>-<params digest>.npz``; long
    videos are done in chunks of ``chunk_seconds`` whose partial results are cached too, so an
    interrupted run resumes. The content box is found per chunk.
    """
    p = Path(path)
    info = probe(p)
    fps = float(fps)
    if not (math.isfinite(fps) and fps > 0):
        raise InvalidArgumentError(f"fps must be a positive number, got {fps!r}")
    start = max(0.0, float(start))
    stop = info.duration if end is None else min(float(end), info.duration)
    params = _params(fps, zooms, min_std, zoom_flips, shots)
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
                p, fps, a, b, size, zooms, min_std, info.duration,
                bar if show_progress else None, zoom_flips, shots, on_frames,
            )  # fmt: skip
            if part_path is not None:
                save_fingerprint(part, part_path)
            parts.append(part)
    fp = _concat(parts, fps, info.duration, params)
    if target is not None:
        save_fingerprint(fp, target)
        for i in range(len(chunks) if len(chunks) > 1 else 0):
            (cache / f"{stem}.part{i:04d}.npz").unlink(missing_ok=True)
    return fp


def fingerprint_source(path: str | Path, **kwargs: Any) -> Fingerprint:
    """A source's fingerprint as the index takes it: :func:`fingerprint_video` with the
    centred zooms of :data:`SOURCE_ZOOMS`."""
    return fingerprint_video(path, zooms=SOURCE_ZOOMS, **kwargs)


def fingerprint_derivative(path: str | Path, **kwargs: Any) -> Fingerprint:
    """A derivative's fingerprint as alignment queries it: :func:`fingerprint_video` with the
    mirrored zooms of :data:`QUERY_ZOOMS` and its shots."""
    return fingerprint_video(path, zooms=QUERY_ZOOMS, zoom_flips=True, shots=True, **kwargs)


def decode_analysis_frames(
    path: str | Path, fps: float = DEFAULT_FPS, *, start: float = 0.0, end: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The grey frames a fingerprint is computed from: ``(times (n,), frames (n, H, W))`` at
    ``k / fps``, ANALYSIS_SHORT_SIDE pixels on the short side."""
    info = probe(path)
    return read_frames(
        path, fps, size=_analysis_size(info.width, info.height), grey=True, start=start, end=end
    )
