"""The 2-second grid: the one place that turns a duration into clips.

Clip ``i`` of a video covers ``[2i, min(2i + 2, duration))``. The final partial clip is kept
when it lasts at least 1 s. Every per-clip array in the project (votes, labels, scores,
features) has exactly :func:`num_clips` entries in this order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from .errors import InvalidArgumentError

CLIP_SECONDS = 2.0
"""Length of one clip of the grid, in seconds."""

MIN_LAST_CLIP_SECONDS = 1.0
"""A trailing partial clip is kept when it lasts at least this long."""

_EPS = 1e-6  # durations from containers carry float noise (e.g. 3.9999999 s)


def _check_duration(duration: float) -> float:
    d = float(duration)
    if not math.isfinite(d) or d < 0:
        raise InvalidArgumentError(f"duration must be a finite number >= 0, got {duration!r}")
    return d


def num_clips(duration: float) -> int:
    """Number of 2-second clips of a video lasting ``duration`` seconds."""
    d = _check_duration(duration)
    full = math.floor((d + _EPS) / CLIP_SECONDS)
    rest = d - full * CLIP_SECONDS
    return full + (1 if rest >= MIN_LAST_CLIP_SECONDS - _EPS else 0)


def clip_bounds(duration: float) -> np.ndarray:
    """``(num_clips, 2)`` float64 array of ``[start, end)`` seconds of every clip."""
    d = _check_duration(duration)
    n = num_clips(d)
    starts = np.arange(n, dtype=np.float64) * CLIP_SECONDS
    ends = np.minimum(starts + CLIP_SECONDS, d)
    return np.stack([starts, ends], axis=1) if n else np.zeros((0, 2), dtype=np.float64)


def clip_index(t: float, duration: float) -> int | None:
    """Index of the clip that covers time ``t``, or ``None`` when no clip covers it."""
    n = num_clips(duration)
    if t < 0 or t >= _check_duration(duration):
        return None
    i = int(t // CLIP_SECONDS)
    return i if i < n else None


def span_overlap(spans: Iterable[tuple[float, float]], duration: float) -> np.ndarray:
    """Seconds of every clip covered by the union of ``spans`` (``[start, end)`` pairs)."""
    bounds = clip_bounds(duration)
    covered = np.zeros(len(bounds), dtype=np.float64)
    merged: list[list[float]] = []
    for start, end in sorted((float(s), float(e)) for s, e in spans):
        if end < start:
            raise InvalidArgumentError(f"span end {end} is before its start {start}")
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in merged:
        lo = np.maximum(bounds[:, 0], start)
        hi = np.minimum(bounds[:, 1], end)
        covered += np.clip(hi - lo, 0.0, None)
    return covered


def spans_to_labels(
    spans: Iterable[tuple[float, float]], duration: float, min_overlap: float = 1.0
) -> np.ndarray:
    """0/1 label per clip: 1 when at least ``min_overlap`` seconds of it lie inside ``spans``."""
    return (span_overlap(spans, duration) >= min_overlap - _EPS).astype(np.int8)
