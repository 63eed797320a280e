"""Build manifests: which long source videos and which short derivatives to read.

Sources: ``video_id, path, title[, genre, aliases, synopsis, characters, keywords]``;
derivatives: ``clip_id, path, title[, platform, engagement]``. CSV or JSONL, chosen by the file
extension; relative paths resolve against the manifest's folder. A manifest without a required
column cannot be used at all (:class:`ManifestError`); a bad row (empty field, a path that does
not exist, a duplicate id, a bad number, a list holding something other than text) is reported
with its line and field and skipped, so the build goes on.

The optional source columns are the source's context for the title filter
(:class:`.titles.SourceContext`, from :meth:`SourceEntry.context`): ``aliases`` (other or
original titles), ``genre``, ``synopsis`` (one line on what happens), ``characters`` and
``keywords``. The three list columns are ``|``-separated text in CSV (``Buck|Frank|Rinky``)
and lists of strings (or the same ``|``-separated text) in JSONL. A derivative whose title
names none of the title, aliases, characters or keywords, and describes no part of the
synopsis, is judged off-topic when its title has to decide, so fill them in for each source.
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ManifestError, SampleFetchError
from ..fileio import read_jsonl_objects
from .titles import SourceContext

logger = logging.getLogger(__name__)

SOURCE_COLUMNS = ("video_id", "path", "title")
SOURCE_OPTIONAL = ("genre", "aliases", "synopsis", "characters", "keywords")
SOURCE_LIST_COLUMNS = ("aliases", "characters", "keywords")
"""Optional source columns holding several values: ``|``-separated in CSV, lists in JSONL."""
LIST_SEPARATOR = "|"
DERIVATIVE_COLUMNS = ("clip_id", "path", "title")
DERIVATIVE_OPTIONAL = ("platform", "engagement")


@dataclass(frozen=True)
class SourceEntry:
    """One long source video (a film or an episode), with its context for the title filter.

    The context fields come after ``line`` so that positional construction of the older
    fields keeps working.
    """

    video_id: str
    path: Path
    title: str
    genre: str | None = None
    line: int = 0
    aliases: tuple[str, ...] = ()
    """Other titles (original-language, working title, abbreviation)."""
    synopsis: str | None = None
    characters: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()

    def context(self) -> SourceContext:
        """What the title filter reads about this source (title, aliases, genre, synopsis,
        characters, keywords); :meth:`.titles.SourceContext.text` is it as text."""
        return SourceContext(
            self.title,
            aliases=self.aliases,
            genre=self.genre,
            synopsis=self.synopsis,
            characters=self.characters,
            keywords=self.keywords,
        )


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


def _kind(value: Any) -> str:
    return "a list" if isinstance(value, list) else f"a {type(value).__name__}"


def _context_fields(row: dict[str, Any], where: str) -> dict[str, Any] | str:
    """The optional context columns of a source row, or the problem with them."""
    out: dict[str, Any] = {}
    for key in ("genre", "synopsis"):
        value = row.get(key)
        if isinstance(value, (list, dict)):
            return f"{where}: field {key!r} is {_kind(value)}, expected text"
        out[key] = _text(row, key)
    for key in SOURCE_LIST_COLUMNS:
        value = row.get(key)
        if value is None:
            items: list[Any] = []
        elif isinstance(value, str):
            items = value.split(LIST_SEPARATOR)
        elif isinstance(value, list):
            items = value
            bad = [(i, v) for i, v in enumerate(value, start=1) if not isinstance(v, str)]
            if bad:
                i, v = bad[0]
                return (
                    f"{where}: field {key!r}: item {i} is {json.dumps(v)}, not text "
                    "(expected a list of strings)"
                )
        else:
            return (
                f"{where}: field {key!r} is {json.dumps(value)}, expected a list of strings "
                f"or {LIST_SEPARATOR!r}-separated text"
            )
        out[key] = tuple(items)
    return out


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


def _context_or_problem(
    row: dict[str, Any], where: str, title: str
) -> tuple[dict[str, Any], SourceContext] | str:
    """Validated context fields (as :class:`SourceEntry` takes them) and the context."""
    got = _context_fields(row, where)
    if isinstance(got, str):
        return got
    context = SourceContext(title, **got)  # cleans: blanks dropped, repeats kept once
    fields = {
        "genre": context.genre,
        "aliases": context.aliases,
        "synopsis": context.synopsis,
        "characters": context.characters,
        "keywords": context.keywords,
    }
    return fields, context


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
        ctx = _context_or_problem(row, f"line {lineno} (video_id {vid!r})", title)
        if isinstance(ctx, str):
            problems.append(f"{path}: {ctx}; this row is skipped")
            continue
        entries.append(SourceEntry(vid, video, title, line=lineno, **ctx[0]))
    return entries, problems


def read_source_contexts(path: str | Path) -> tuple[dict[str, SourceContext], list[str]]:
    """The title-filter context of each source of a manifest, by ``video_id``, and the
    problems of the rows that were skipped. Only ``video_id`` and ``title`` are required:
    the videos need not exist (e.g. a labelled title set, or checking the context columns
    before the media is fetched)."""
    path = Path(path)
    out: dict[str, SourceContext] = {}
    problems: list[str] = []
    seen: dict[str, int] = {}
    for lineno, row in _rows(path, ("video_id", "title")):
        vid = _text(row, "video_id")
        if vid is None:
            problems.append(f"{path}: line {lineno}: field 'video_id' is empty")
            continue
        where = f"line {lineno} (video_id {vid!r})"
        if vid in seen:
            problems.append(
                f"{path}: {where}: listed twice (first on line {seen[vid]}); this row is skipped"
            )
            continue
        seen[vid] = lineno
        title = _text(row, "title")
        if title is None:
            problems.append(f"{path}: {where}: field 'title' is empty")
            continue
        ctx = _context_or_problem(row, where, title)
        if isinstance(ctx, str):
            problems.append(f"{path}: {ctx}; this row is skipped")
            continue
        out[vid] = ctx[1]
    return out, problems


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
