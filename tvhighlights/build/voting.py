"""Reuse votes -> clip scores -> clip and video labels.

Every derivative that reuses a span of a source adds ONE vote to each 2-second clip of the
source that the span covers (at least ``min_overlap`` seconds of the clip), however many of
its shots reuse that clip. Votes are normalised per source (divided by the source's most
voted clip); a clip is a highlight when it has at least ``min_votes`` votes and a normalised
score of at least ``min_score``; a video (a source, or a window of one) is positive when it
has at least ``min_positive_clips`` highlight clips. The rule's parameters go into the
dataset card, so every label can be recomputed from the votes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

from ..clips import CLIP_SECONDS, num_clips, span_overlap
from ..errors import InvalidArgumentError


class ReusedSpan(Protocol):
    """What voting needs of an alignment match (``matching.SpanMatch`` has these fields)."""

    derivative_id: str
    source_id: str
    source_start: float
    source_end: float


@dataclass(frozen=True)
class LabelRule:
    """Parameters that turn votes into labels (written into the dataset card)."""

    min_overlap: float = 1.0
    """Seconds of a clip a reused span must cover for the clip to get the vote."""
    min_votes: int = 1
    """A highlight clip has at least this many votes..."""
    min_score: float = 0.5
    """...and at least this fraction of the source's top vote count."""
    min_positive_clips: int = 1
    """A video is positive when it has at least this many highlight clips."""

    def __post_init__(self) -> None:
        if not 0 < self.min_overlap <= CLIP_SECONDS:
            raise InvalidArgumentError(
                f"min_overlap must be in (0, {CLIP_SECONDS}], got {self.min_overlap}"
            )
        if self.min_votes < 1:
            raise InvalidArgumentError(f"min_votes must be >= 1, got {self.min_votes}")
        if not 0 <= self.min_score <= 1:
            raise InvalidArgumentError(f"min_score must be in [0, 1], got {self.min_score}")
        if self.min_positive_clips < 1:
            raise InvalidArgumentError(
                f"min_positive_clips must be >= 1, got {self.min_positive_clips}"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def derivative_coverage(
    matches: Iterable[ReusedSpan], durations: dict[str, float], *, min_overlap: float = 1.0
) -> dict[str, dict[str, np.ndarray]]:
    """``{source_id: {derivative_id: bool per clip}}``: the clips each derivative votes for.

    A derivative votes for a clip when the union of its reused spans covers at least
    ``min_overlap`` seconds of it. Matches of sources not in ``durations`` are ignored.
    """
    spans: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for m in matches:
        if m.source_id in durations:
            spans[(m.source_id, m.derivative_id)].append((m.source_start, m.source_end))
    out: dict[str, dict[str, np.ndarray]] = {sid: {} for sid in durations}
    for (sid, did), pairs in sorted(spans.items()):
        out[sid][did] = span_overlap(pairs, durations[sid]) >= min_overlap - 1e-6
    return out


def count_votes(
    matches: Iterable[ReusedSpan], durations: dict[str, float], *, min_overlap: float = 1.0
) -> dict[str, np.ndarray]:
    """``{source_id: int32 votes per clip}`` for every source in ``durations``: one vote per
    derivative per clip it covers (:func:`derivative_coverage`)."""
    coverage = derivative_coverage(matches, durations, min_overlap=min_overlap)
    return votes_from_coverage(coverage, durations)


def votes_from_coverage(
    coverage: dict[str, dict[str, np.ndarray]], durations: dict[str, float]
) -> dict[str, np.ndarray]:
    """Sum :func:`derivative_coverage` over derivatives: int32 votes per clip of each source."""
    votes = {}
    for sid, duration in durations.items():
        v = np.zeros(num_clips(duration), dtype=np.int32)
        for covered in coverage.get(sid, {}).values():
            v += covered
        votes[sid] = v
    return votes


def vote_scores(votes: np.ndarray) -> np.ndarray:
    """Votes divided by the largest count of the source, as float32 (all 0 without votes)."""
    votes = np.asarray(votes)
    top = int(votes.max()) if votes.size else 0
    if top == 0:
        return np.zeros(votes.shape, dtype=np.float32)
    return (votes / top).astype(np.float32)


def clip_labels(votes: np.ndarray, rule: LabelRule) -> np.ndarray:
    """0/1 highlight label of every clip of one source."""
    votes = np.asarray(votes)
    scores = vote_scores(votes)
    return ((votes >= rule.min_votes) & (scores >= rule.min_score - 1e-6)).astype(np.int8)


def video_label(labels: np.ndarray, rule: LabelRule) -> int:
    """1 when a video has at least ``rule.min_positive_clips`` highlight clips."""
    return int(int(np.sum(labels)) >= rule.min_positive_clips)


def windows(duration: float, window: float | None) -> list[tuple[float, float]]:
    """``[start, end)`` seconds of the rows a source is cut into.

    ``None`` keeps the whole source as one row. A window is a whole number of 2-second
    clips, so each row's per-clip arrays are a slice of the source's; a final window
    shorter than one clip of the grid is dropped, as the grid drops it.
    """
    if window is None:
        return [(0.0, float(duration))]
    clips_per_window = window / CLIP_SECONDS
    if window < CLIP_SECONDS or not math.isclose(clips_per_window, round(clips_per_window)):
        raise InvalidArgumentError(
            f"window must be a positive multiple of {CLIP_SECONDS} s, got {window}"
        )
    out = []
    start = 0.0
    while start < duration and num_clips(duration - start) > 0:
        out.append((start, min(start + window, float(duration))))
        start += window
    return out
