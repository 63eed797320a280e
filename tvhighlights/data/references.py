"""Reference labels: the ground truth a submission is scored against, and its one validator.

References come as JSONL (one line per video: ``video_id``, ``labels`` with 0/1 per clip of
the 2-second grid, optional ``categories`` with one string or null per clip, ``genre`` and
``split``), as a built-in name (``bbb-trailer``), as a dataset folder written by
``tvhighlights build`` or as a Hub dataset id (a split of their default config). Every source
goes through the same :func:`references_from_rows`, so a dataset row is checked exactly as
strictly as a JSONL line, and every problem is reported at once, naming its line or row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ReferencesError
from ..fileio import read_jsonl_objects
from .folder import read_split

__all__ = [
    "BUILTIN_REFERENCES",
    "VideoReference",
    "load_references",
    "references_from_rows",
]

BUILTIN_REFERENCES = {
    "bbb-trailer": "bbb_trailer.references.jsonl",
}
"""Reference files shipped in ``tvhighlights/data``, usable by name (``bbb-trailer``)."""

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


def check_video_id(
    obj: Mapping[str, Any], where: str, first: dict[str, str], problems: list[str]
) -> tuple[str | None, str]:
    """The entry's ``video_id`` and a ``<where> (video X)`` prefix for its problems; ``None``
    (after recording the problem) when the id is missing, not a string, or a duplicate.

    ``first`` maps the ids seen so far to where they were first given. Submissions use it too.
    """
    vid = obj.get("video_id")
    if not isinstance(vid, str) or not vid:
        problems.append(f"{where}: 'video_id' must be a non-empty string, got {vid!r}")
        return None, ""
    prefix = f"{where} (video {vid!r})"
    if vid in first:
        problems.append(f"{prefix}: duplicate video, first given on {first[vid]}")
        return None, prefix
    first[vid] = where
    return vid, prefix


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


def _reference(obj: Mapping[str, Any], vid: str) -> VideoReference | str:
    """A validated reference, or the text of its first problem."""
    if "labels" not in obj:
        return "missing field 'labels'"
    problem = _label_problem(obj["labels"])
    if problem:
        return problem
    labels = np.asarray(obj["labels"], dtype=np.int8)
    categories = obj.get("categories")
    if categories is not None:
        if not isinstance(categories, list) or not all(
            c is None or isinstance(c, str) for c in categories
        ):
            return "'categories' must be a list of strings or nulls"
        if len(categories) != len(labels):
            return f"'categories' has {len(categories)} entries, 'labels' has {len(labels)}"
        categories = tuple(c or None for c in categories)
    genre = obj.get("genre")
    if genre is not None and not isinstance(genre, str):
        return f"'genre' must be a string, got {genre!r}"
    split = obj.get("split")
    if split is not None and not isinstance(split, str):
        return f"'split' must be a string, got {split!r}"
    return VideoReference(vid, labels, categories, genre, split)


def _validate(
    rows: Iterable[tuple[str, Mapping[str, Any]]], problems: list[str]
) -> list[VideoReference]:
    refs: list[VideoReference] = []
    first: dict[str, str] = {}
    for where, obj in rows:
        vid, prefix = check_video_id(obj, where, first, problems)
        if vid is None:
            continue
        ref = _reference(obj, vid)
        if isinstance(ref, str):
            problems.append(f"{prefix}: {ref}")
        else:
            refs.append(ref)
    return refs


def references_from_rows(
    rows: Iterable[tuple[str, Mapping[str, Any]]], source: str | Path
) -> list[VideoReference]:
    """Validate ``(where, row)`` pairs (``where`` names the line or row, e.g. ``"line 3"``)
    into references; raises :class:`ReferencesError` naming ``source`` and every problem."""
    problems: list[str] = []
    refs = _validate(rows, problems)
    if problems:
        raise ReferencesError(source, problems)
    return refs


def _builtin_path(source: str | Path) -> Path:
    if isinstance(source, str) and source in BUILTIN_REFERENCES:
        return Path(str(resources.files("tvhighlights.data") / BUILTIN_REFERENCES[source]))
    return Path(source)


def _hub_rows(source: str | Path, split: str) -> list[dict[str, Any]]:
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - datasets is in the [build] extra
        problem = "loading a Hub dataset needs `pip install datasets`"
        raise ReferencesError(source, [problem]) from exc
    try:
        ds = datasets.load_dataset(str(source), split=split)
    except Exception as exc:  # datasets raises many types; report it as the user's input
        raise ReferencesError(source, [f"cannot load Hub dataset split {split!r}: {exc}"]) from exc
    return ds.data.table.to_pylist()


def load_references(source: str | Path, split: str | None = None) -> list[VideoReference]:
    """Load and validate reference labels.

    ``source`` is a references JSONL, a built-in name (``bbb-trailer``), a dataset folder
    written by ``tvhighlights build`` or a Hub dataset id (their ``split``, default "test").

    When lines carry a ``split`` field and ``split`` is given, only that split is kept; a
    file without ``split`` fields is one split and is used whole.
    """
    path = _builtin_path(source)
    if path.is_dir() or (not path.exists() and _HUB_ID.fullmatch(str(source))):
        want = split or "test"
        rows = read_split(path, want).to_pylist() if path.is_dir() else _hub_rows(source, want)
        where = path if path.is_dir() else source
        return references_from_rows(((f"{want} row {i}", r) for i, r in enumerate(rows)), where)
    objects, problems = read_jsonl_objects(path)
    refs = _validate(((f"line {n}", o) for n, o in objects), problems)
    if problems:
        raise ReferencesError(path, problems)
    if split is not None and any(r.split is not None for r in refs):
        present = sorted({r.split for r in refs if r.split is not None})
        refs = [r for r in refs if r.split == split]
        if not refs:
            raise ReferencesError(path, [f"no video in split {split!r} (splits: {present})"])
    return refs
