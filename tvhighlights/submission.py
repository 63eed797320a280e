"""Submissions and references: load, validate every line, score.

A submission is JSONL, one line per video: ``{"video_id": "...", "scores": [s_0, ...]}`` with
one finite number per clip of the 2-second grid. References are JSONL too: ``video_id``,
``labels`` (0/1 per clip), optional ``categories`` (one string or null per clip), ``genre``
and ``split``. Every problem found is reported at once, with its line number; a submission
with any problem is never scored in part.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ReferencesError, SubmissionError
from .fileio import read_jsonl_objects, write_jsonl
from .metrics import clip_auc_ap

logger = logging.getLogger(__name__)

BUILTIN_REFERENCES = {
    "bbb-trailer": "bbb_trailer.references.jsonl",
}
"""Reference files shipped in ``tvhighlights/data``, usable by name (``-r bbb-trailer``)."""


_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


@dataclass(frozen=True)
class VideoReference:
    """Ground truth of one video on the 2-second grid."""

    video_id: str
    labels: np.ndarray
    categories: tuple[str | None, ...] | None = None
    genre: str | None = None
    split: str | None = None

    @property
    def num_clips(self) -> int:
        return len(self.labels)


def _resolve_references_path(source: str | Path) -> Path:
    if isinstance(source, str) and source in BUILTIN_REFERENCES:
        ref = resources.files("tvhighlights") / "data" / BUILTIN_REFERENCES[source]
        return Path(str(ref))
    return Path(source)


def _label_problem(labels: Any) -> str | None:
    if not isinstance(labels, list):
        return f"'labels' must be a list of 0/1, got {type(labels).__name__}"
    if not labels:
        return "'labels' is empty"
    arr = np.array(labels)
    ok_values = arr.ndim == 1 and arr.dtype.kind == "i" and ((arr == 0) | (arr == 1)).all()
    if ok_values and set(map(type, labels)) == {int}:  # np.array([0, True]) is int too
        return None
    for i, x in enumerate(labels):
        if type(x) is not int or x not in (0, 1):
            return f"labels[{i}] is {x!r}, expected 0 or 1"
    return None


def _video_id(
    obj: dict[str, Any], lineno: int, first_line: dict[str, int], problems: list[str]
) -> tuple[str | None, str]:
    """The line's ``video_id`` and a ``line N (video X)`` prefix for its problems; ``None``
    (after recording the problem) when the id is missing, not a string, or a duplicate."""
    vid = obj.get("video_id")
    if not isinstance(vid, str) or not vid:
        problems.append(f"line {lineno}: 'video_id' must be a non-empty string, got {vid!r}")
        return None, ""
    where = f"line {lineno} (video {vid!r})"
    if vid in first_line:
        problems.append(f"{where}: duplicate video, first given on line {first_line[vid]}")
        return None, where
    first_line[vid] = lineno
    return vid, where


def load_references(source: str | Path, split: str | None = None) -> list[VideoReference]:
    """Load and validate reference labels.

    ``source`` is a references JSONL, a built-in name (``bbb-trailer``), a dataset folder
    written by ``tvhighlights build`` or a Hub dataset id (their ``split``, default "test").

    When lines carry a ``split`` field and ``split`` is given, only that split is kept; a
    file without ``split`` fields is one split and is used whole.
    """
    path = _resolve_references_path(source)
    if path.is_dir() or (not path.exists() and _HUB_ID.fullmatch(str(source))):
        from .dataset import load_dataset_references

        return load_dataset_references(source, split or "test")
    rows, problems = read_jsonl_objects(path)
    refs: list[VideoReference] = []
    first_line: dict[str, int] = {}
    for lineno, obj in rows:
        vid, where = _video_id(obj, lineno, first_line, problems)
        if vid is None:
            continue
        if "labels" not in obj:
            problems.append(f"{where}: missing field 'labels'")
            continue
        problem = _label_problem(obj["labels"])
        if problem:
            problems.append(f"{where}: {problem}")
            continue
        labels = np.asarray(obj["labels"], dtype=np.int8)
        categories = obj.get("categories")
        if categories is not None:
            if not isinstance(categories, list) or not all(
                c is None or isinstance(c, str) for c in categories
            ):
                problems.append(f"{where}: 'categories' must be a list of strings or nulls")
                continue
            if len(categories) != len(labels):
                problems.append(
                    f"{where}: 'categories' has {len(categories)} entries, "
                    f"'labels' has {len(labels)}"
                )
                continue
            categories = tuple(c or None for c in categories)
        genre = obj.get("genre")
        if genre is not None and not isinstance(genre, str):
            problems.append(f"{where}: 'genre' must be a string, got {genre!r}")
            continue
        row_split = obj.get("split")
        if row_split is not None and not isinstance(row_split, str):
            problems.append(f"{where}: 'split' must be a string, got {row_split!r}")
            continue
        refs.append(VideoReference(vid, labels, categories, genre, row_split))
    if problems:
        raise ReferencesError(path, problems)
    if split is not None and any(r.split is not None for r in refs):
        present = sorted({r.split for r in refs if r.split is not None})
        refs = [r for r in refs if r.split == split]
        if not refs:
            raise ReferencesError(path, [f"no video in split {split!r} (splits: {present})"])
    return refs


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
    first_line: dict[str, int] = {}
    for lineno, obj in rows:
        vid, where = _video_id(obj, lineno, first_line, problems)
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
        raise ValueError(f"video_id must be a non-empty string, got {video_id!r}")
    arr = np.asarray(scores, dtype=np.float64)
    if arr.ndim != 1 or not np.isfinite(arr).all():
        raise ValueError(f"scores of video {video_id!r} must be a 1-D array of finite numbers")
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
