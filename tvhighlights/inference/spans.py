"""Highlight spans from per-clip scores: threshold, merge runs, drop short ones, rank (numpy)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..clips import CLIP_SECONDS, clip_bounds, num_clips
from ..errors import InvalidArgumentError

__all__ = ["HighlightSpan", "check_span_options", "default_threshold", "highlight_spans"]

_EPS = 1e-9


@dataclass(frozen=True)
class HighlightSpan:
    """One highlight: ``[start, end)`` seconds covering clips ``[clip_start, clip_end)``."""

    start: float
    end: float
    score: float
    """Mean of the span's clip scores (what spans are ranked by)."""
    peak: float
    """Highest clip score inside the span."""
    clip_start: int
    clip_end: int
    """Exclusive."""

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("start", "end", "score", "peak"):
            d[k] = round(float(d[k]), 6)
        return d


def default_threshold(scores: np.ndarray) -> float:
    """The threshold :func:`highlight_spans` uses when none is given: ``mean + std``.

    Relative to the film, because LTV-HD's clip scores are trained through a video-level MIL
    loss and are not calibrated across films: what stands out *within* a film is its
    highlights. For roughly normal scores this keeps the top ~16 % of clips (the trailer of
    the sample film reuses 9 % of it); a flat score curve (std 0) selects nothing.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.size == 0:
        return math.inf
    return float(s.mean() + s.std())


def _check_scores(scores: Any, duration: float | None) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1:
        raise InvalidArgumentError(f"scores must be 1-D (one per clip), got shape {s.shape}")
    if not np.isfinite(s).all():
        raise InvalidArgumentError("scores contain NaN or infinite values")
    n = s.size
    if duration is None:
        bounds = np.stack([np.arange(n) * CLIP_SECONDS, np.arange(1, n + 1) * CLIP_SECONDS], 1)
        bounds = bounds.reshape(n, 2).astype(np.float64)
    else:
        if num_clips(duration) != n:
            raise InvalidArgumentError(
                f"{n} scores for a video of {float(duration):.2f} s, which has "
                f"{num_clips(duration)} clips"
            )
        bounds = clip_bounds(duration)
    return s, bounds


def _span(s: np.ndarray, bounds: np.ndarray, i: int, j: int) -> HighlightSpan:
    part = s[i:j]
    return HighlightSpan(
        start=float(bounds[i, 0]),
        end=float(bounds[j - 1, 1]),
        score=float(part.mean()),
        peak=float(part.max()),
        clip_start=int(i),
        clip_end=int(j),
    )


def _min_clips(min_seconds: float) -> int:
    """``min_seconds`` in whole clips of the grid (rounded up; at least one)."""
    return max(1, math.ceil(float(min_seconds) / CLIP_SECONDS - 1e-9))


def _best_window(s: np.ndarray, bounds: np.ndarray, k: int) -> HighlightSpan:
    """The ``k`` consecutive clips with the highest mean score (earliest on ties); the whole
    video when it has fewer than ``k`` clips."""
    n = s.size
    if n <= k:
        return _span(s, bounds, 0, n)
    csum = np.concatenate([[0.0], np.cumsum(s)])
    means = (csum[k:] - csum[:-k]) / k
    i = int(np.flatnonzero(means >= means.max() - 1e-12)[0])
    return _span(s, bounds, i, i + k)


def check_span_options(
    *, top_n: int | None = 5, min_seconds: float = CLIP_SECONDS, merge_gap: float = 0.0
) -> None:
    """Raise :class:`~tvhighlights.errors.InvalidArgumentError` for options
    :func:`highlight_spans` cannot use (checked before any decoding by the prediction job)."""
    if top_n is not None and int(top_n) < 1:
        raise InvalidArgumentError(f"top_n must be >= 1 or None, got {top_n!r}", param="top_n")
    if not math.isfinite(float(min_seconds)) or min_seconds < 0:
        raise InvalidArgumentError(f"min_seconds must be a finite number >= 0, got {min_seconds!r}")
    if not math.isfinite(float(merge_gap)) or merge_gap < 0:
        raise InvalidArgumentError(f"merge_gap must be a finite number >= 0, got {merge_gap!r}")


def highlight_spans(
    scores: Sequence[float] | np.ndarray,
    *,
    duration: float | None = None,
    threshold: float | None = None,
    min_seconds: float = CLIP_SECONDS,
    top_n: int | None = 5,
    merge_gap: float = 0.0,
    fallback: bool = True,
) -> list[HighlightSpan]:
    """Highlight spans from per-clip scores, best first.

    1. a clip is *in* when its score is ``>= threshold`` (default :func:`default_threshold`,
       ``mean + std`` of the film's scores);
    2. runs of consecutive in-clips become spans; two spans whose gap is at most
       ``merge_gap`` seconds become one (the clips of the gap join it and count in its mean);
    3. spans of fewer than ``min_seconds`` worth of clips are dropped: ``min_seconds`` is
       rounded up to whole clips of the grid, and a final partial clip counts as a clip
       (default one clip: none is dropped);
    4. spans are sorted by mean clip score, highest first (earlier start first on ties) and
       the first ``top_n`` kept (``None``: all).

    When no span survives and ``fallback`` is true (the default), the result is the one run of
    that many consecutive clips with the highest mean score (the earliest on ties; the whole
    video when it is shorter), so that a film always gets a highlight; with
    ``fallback=False`` the result is then empty.

    Times come from the grid: pass ``duration`` so the last (possibly shorter) clip ends at
    the video's end; without it every clip lasts :data:`CLIP_SECONDS`. Pure numpy.
    """
    s, bounds = _check_scores(scores, duration)
    check_span_options(top_n=top_n, min_seconds=min_seconds, merge_gap=merge_gap)
    n = s.size
    if n == 0:
        return []
    if threshold is None:
        flat = float(s.std()) < 1e-9
        inside = np.zeros(n, dtype=bool) if flat else s >= default_threshold(s) - 1e-12
    else:
        if not math.isfinite(float(threshold)):
            raise InvalidArgumentError(f"threshold must be a finite number, got {threshold!r}")
        inside = s >= float(threshold)

    runs: list[list[int]] = []  # [first clip, end clip (exclusive)]
    i = 0
    while i < n:
        if not inside[i]:
            i += 1
            continue
        j = i
        while j < n and inside[j]:
            j += 1
        if runs and bounds[i, 0] - bounds[runs[-1][1] - 1, 1] <= merge_gap + _EPS:
            runs[-1][1] = j
        else:
            runs.append([i, j])
        i = j

    spans = [_span(s, bounds, a, b) for a, b in runs]
    k = _min_clips(min_seconds)
    spans = [sp for sp in spans if sp.clip_end - sp.clip_start >= k]
    if not spans and fallback:
        spans = [_best_window(s, bounds, k)]
    spans.sort(key=lambda sp: (-sp.score, sp.start))
    return spans if top_n is None else spans[: int(top_n)]
