"""Build manifests: which long source videos and which short derivatives to read.

Sources: ``video_id, path, title[, genre]``; derivatives: ``clip_id, path, title[, platform,
engagement]``. CSV or JSONL, chosen by the file extension; relative paths resolve against
the manifest's folder. A manifest without a required column cannot be used at all
(:class:`ManifestError`); a bad row (empty field, a path that does not exist, a duplicate id,
a bad number) is reported with its line and field and skipped, so the build goes on.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ManifestError, SampleFetchError
from ..fileio import read_jsonl_objects

logger = logging.getLogger(__name__)

SOURCE_COLUMNS = ("video_id", "path", "title")
SOURCE_OPTIONAL = ("genre",)
DERIVATIVE_COLUMNS = ("clip_id", "path", "title")
DERIVATIVE_OPTIONAL = ("platform", "engagement")


@dataclass(frozen=True)
class SourceEntry:
    """One long source video (a film or an episode)."""

    video_id: str
    path: Path
    title: str
    genre: str | None = None
    line: int = 0


@dataclass(frozen=True)
class DerivativeEntry:
    """One short re-upload that may reuse spans of a source."""

    clip_id: str
    path: Path
    title: str
    platform: str | None = None
    engagement: int | None = None
    line: int = 0


def _rows(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, Any]]]:
    """``(line, row)`` pairs of a CSV or JSONL manifest; raises on an unusable file."""
    if not path.is_file():
        reason = "is a directory" if path.is_dir() else "file not found"
        raise ManifestError(path, [reason])
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        rows, problems = read_jsonl_objects(path)
        if problems:
            raise ManifestError(path, problems)
        columns: set[str] = set().union(*(r.keys() for _, r in rows)) if rows else set()
    elif suffix in (".csv", ".tsv"):
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ManifestError(path, [f"cannot read as UTF-8 text: {exc}"]) from exc
        reader = csv.DictReader(text.splitlines(), delimiter="\t" if suffix == ".tsv" else ",")
        columns = {c.strip() for c in (reader.fieldnames or [])}
        # line numbers: the header is line 1
        rows = [
            (i, {(k or "").strip(): v for k, v in row.items()})
            for i, row in enumerate(reader, start=2)
        ]
    else:
        raise ManifestError(path, [f"unknown manifest format {suffix!r}: use .csv, .tsv or .jsonl"])
    missing = [c for c in required if c not in columns]
    if missing:
        raise ManifestError(
            path, [f"missing column(s) {', '.join(missing)}; found: {', '.join(sorted(columns))}"]
        )
    if not rows:
        raise ManifestError(path, ["no rows"])
    return rows


def _text(row: dict[str, Any], key: str) -> str | None:
    value = row.get(key)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _common(
    path: Path, lineno: int, row: dict[str, Any], id_key: str, seen: dict[str, int]
) -> tuple[str, Path, str] | str:
    """Validated ``(id, resolved path, title)``, or the problem with this row."""
    where = f"line {lineno}"
    ident = _text(row, id_key)
    if ident is None:
        return f"{where}: field '{id_key}' is empty"
    where = f"line {lineno} ({id_key} {ident!r})"
    if ident in seen:
        return f"{where}: listed twice (first on line {seen[ident]}); this row is skipped"
    seen[ident] = lineno
    raw_path = _text(row, "path")
    if raw_path is None:
        return f"{where}: field 'path' is empty"
    if raw_path.startswith("sample:"):  # a sample of the cache (tvhighlights fetch-samples)
        from ..samples import resolve_video

        try:
            video = resolve_video(raw_path)
        except SampleFetchError as exc:
            return f"{where}: field 'path': {exc}"
    else:
        video = Path(raw_path).expanduser()
        if not video.is_absolute():
            video = path.parent / video
    if not video.is_file():
        return f"{where}: field 'path': no such file {str(video)!r}"
    title = _text(row, "title")
    if title is None:
        return f"{where}: field 'title' is empty"
    return ident, video, title


def read_sources(path: str | Path) -> tuple[list[SourceEntry], list[str]]:
    """Source entries and the problems of the rows that were skipped."""
    path = Path(path)
    entries: list[SourceEntry] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for lineno, row in _rows(path, SOURCE_COLUMNS):
        got = _common(path, lineno, row, "video_id", seen)
        if isinstance(got, str):
            problems.append(f"{path}: {got}")
            continue
        vid, video, title = got
        entries.append(SourceEntry(vid, video, title, _text(row, "genre"), lineno))
    return entries, problems


def read_derivatives(path: str | Path) -> tuple[list[DerivativeEntry], list[str]]:
    """Derivative entries and the problems of the rows that were skipped."""
    path = Path(path)
    entries: list[DerivativeEntry] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for lineno, row in _rows(path, DERIVATIVE_COLUMNS):
        got = _common(path, lineno, row, "clip_id", seen)
        if isinstance(got, str):
            problems.append(f"{path}: {got}")
            continue
        cid, video, title = got
        engagement = None
        raw = _text(row, "engagement")
        if raw is not None:
            try:
                engagement = int(float(raw))
            except ValueError:
                problems.append(
                    f"{path}: line {lineno} (clip_id {cid!r}): field 'engagement' is {raw!r}, "
                    "not a number; this row is skipped"
                )
                continue
        entries.append(
            DerivativeEntry(cid, video, title, _text(row, "platform"), engagement, lineno)
        )
    return entries, problems
