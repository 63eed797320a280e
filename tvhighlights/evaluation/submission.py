"""Submissions: load, validate every line against the references, score.

A submission is JSONL, one line per video: ``{"video_id": "...", "scores": [s_0, ...]}`` with
one finite number per clip of the 2-second grid. References come from
:mod:`tvhighlights.data.references`. Every problem found is reported at once, with its line
number; a submission with any problem is never scored in part.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..data.references import VideoReference, check_video_id, load_references
from ..errors import InvalidArgumentError, SubmissionError
from ..fileio import read_jsonl_objects, write_jsonl
from .metrics import clip_auc_ap

logger = logging.getLogger(__name__)

__all__ = [
    "VideoReference",
    "evaluate_submission",
    "load_references",
    "load_submission",
    "score_submission",
    "submission_row",
    "write_submission",
]

_NUMBER = {int, float}


def _scores_problem(scores: Any, expected: int | None) -> tuple[np.ndarray | None, str | None]:
    if not isinstance(scores, list):
        return None, f"'scores' must be a list of numbers, got {type(scores).__name__}"
    if not scores:
        return None, "'scores' is empty"
    arr = np.array(scores)
    if arr.ndim != 1 or arr.dtype.kind not in "if" or not set(map(type, scores)) <= _NUMBER:
        for i, x in enumerate(scores):
            if type(x) not in (int, float):
                return None, f"scores[{i}] is {x!r}, not a number"
        return None, "'scores' must be a flat list of numbers"
    arr = arr.astype(np.float64, copy=False)
    finite = np.isfinite(arr)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        n_bad = int((~finite).sum())
        return None, f"scores[{i}] is {arr[i]} ({n_bad} non-finite value(s) in all)"
    if expected is not None and len(arr) != expected:
        return None, f"has {len(arr)} scores, expected {expected} (one per 2-second clip)"
    return arr, None


def load_submission(
    path: str | Path, references: Sequence[VideoReference] | None = None
) -> dict[str, np.ndarray]:
    """Load a submission and validate it, against ``references`` when given.

    Raises :class:`SubmissionError` listing every problem: bad JSON (with its line), missing
    fields, non-numeric or non-finite scores, wrong lengths, duplicate, unknown or missing
    videos.
    """
    path = Path(path)
    rows, problems = read_jsonl_objects(path)
    if not rows:
        raise SubmissionError(path, problems)
    expected = {r.video_id: r.num_clips for r in references} if references is not None else None
    out: dict[str, np.ndarray] = {}
    first_line: dict[str, str] = {}
    for lineno, obj in rows:
        vid, where = check_video_id(obj, f"line {lineno}", first_line, problems)
        if vid is None:
            continue
        if expected is not None and vid not in expected:
            problems.append(f"{where}: unknown video, not in the references")
            continue
        if "scores" not in obj:
            problems.append(f"{where}: missing field 'scores'")
            continue
        arr, problem = _scores_problem(obj["scores"], expected[vid] if expected else None)
        if problem:
            problems.append(f"{where}: {problem}")
            continue
        out[vid] = arr
    if expected is not None:
        missing = [v for v in expected if v not in first_line]
        if missing:
            shown = ", ".join(repr(v) for v in missing[:10])
            more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
            problems.append(f"{len(missing)} reference video(s) have no line: {shown}{more}")
    if problems:
        raise SubmissionError(path, problems)
    return out


def submission_row(video_id: str, scores: Sequence[float] | np.ndarray) -> dict[str, Any]:
    """One video's submission line: its id and its per-clip scores rounded to 6 digits."""
    if not isinstance(video_id, str) or not video_id:
        raise InvalidArgumentError(f"video_id must be a non-empty string, got {video_id!r}")
    arr = np.asarray(scores, dtype=np.float64)
    if arr.ndim != 1 or not np.isfinite(arr).all():
        raise InvalidArgumentError(
            f"scores of video {video_id!r} must be a 1-D array of finite numbers"
        )
    return {"video_id": video_id, "scores": [round(float(x), 6) for x in arr]}


def write_submission(path: str | Path, scores: Mapping[str, Sequence[float] | np.ndarray]) -> Path:
    """Write ``{video_id: per-clip scores}`` as a submission JSONL, atomically."""
    return write_jsonl(path, [submission_row(vid, s) for vid, s in scores.items()])


def score_submission(
    submission: Mapping[str, np.ndarray], references: Sequence[VideoReference]
) -> dict[str, Any]:
    """Metrics (percent) of a validated submission against its references."""
    labels = [r.labels for r in references]
    scores = [submission[r.video_id] for r in references]
    categories = None
    if any(r.categories is not None for r in references):
        categories = [r.categories or (None,) * r.num_clips for r in references]
    genres = None
    if any(r.genre is not None for r in references):
        genres = [r.genre or "unknown" for r in references]
    return clip_auc_ap(labels, scores, categories=categories, genres=genres)


def evaluate_submission(
    submission: str | Path, references: str | Path, split: str | None = None
) -> dict[str, Any]:
    """Load references and a submission, validate, and score: the ``tvhighlights eval`` job."""
    refs = load_references(references, split=split)
    sub = load_submission(submission, refs)
    result = score_submission(sub, refs)
    logger.info("scored %s: %d videos, %d clips", submission, len(refs), result["num_clips"])
    return result
