"""The annotation store: one append-only JSONL file of decisions per annotator.

Layout of a store folder::

    videos.json               the videos being annotated: id -> num_clips, path, title
    <annotator>.jsonl         that annotator's decisions, one JSON line each, in order
    <annotator>.position.json where that annotator last was (video, clip)

A decision is appended, flushed and fsynced the moment it is made
(:func:`~tvhighlights.fileio.append_jsonl`, under an exclusive lock), so closing the tab,
killing the server or a crash loses nothing already clicked, and two processes saving at once
lose nothing. The last decision for a clip wins. An annotator only ever writes their own file.

A line that is not JSON is what a crash in the middle of a write leaves (or a hand edit): it
is skipped with a warning naming the file and line, never taking an earlier line with it. A
line that is JSON but wrong (an unknown video, a clip out of range, a bad field) is an
error in ``strict`` reading (aggregation) and a warning in the app's.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import AnnotationStoreError, InvalidArgumentError
from ..fileio import append_jsonl, write_json

logger = logging.getLogger(__name__)

__all__ = [
    "CATEGORIES",
    "AnnotationStore",
    "AnnotatorDecisions",
    "ClipKey",
    "Decision",
    "check_annotator_name",
    "latest_decisions",
]

CATEGORIES: tuple[str, ...] = ("Action", "Destruction", "CGI", "Emotional", "Others")
"""The categories of a highlight clip (the TVHighlights paper's), in the order keys 1-5 give."""

ClipKey = tuple[str, int]
"""``(video_id, clip index)``."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_SUFFIX = ".jsonl"


def check_annotator_name(name: Any) -> str:
    """``name`` when it can name an annotator's file: letters, digits, ``_ . -``, at most 64,
    starting with a letter or digit and never ``..`` (so never a path); else an error."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise InvalidArgumentError(
            f"annotator name {name!r} is not allowed: use letters, digits, '_', '.' and '-' "
            "(at most 64, starting with a letter or digit, no '..')",
            param="annotator",
        )
    return name


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Decision:
    """One click of one annotator: clip ``clip`` of ``video_id`` is a highlight or not, and
    which kind of highlight (``category``, one of :data:`CATEGORIES`, or ``None``)."""

    video_id: str
    clip: int
    highlight: bool
    category: str | None
    annotator: str
    time: str = field(default_factory=_now)
    app_version: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "video_id": self.video_id,
            "clip": self.clip,
            "highlight": self.highlight,
            "category": self.category,
            "annotator": self.annotator,
            "time": self.time,
            "app_version": self.app_version,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Decision | str:
        """A decision, or the text of what is wrong with the line's fields."""
        vid, clip = obj.get("video_id"), obj.get("clip")
        if not isinstance(vid, str) or not vid:
            return f"'video_id' must be a non-empty string, got {vid!r}"
        if type(clip) is not int or clip < 0:
            return f"'clip' must be an integer >= 0, got {clip!r}"
        highlight = obj.get("highlight")
        if not isinstance(highlight, bool):
            return f"'highlight' must be true or false, got {highlight!r}"
        category = obj.get("category")
        if category is not None and category not in CATEGORIES:
            return f"'category' must be one of {', '.join(CATEGORIES)} or null, got {category!r}"
        if category is not None and not highlight:
            return f"'category' {category!r} is given for a clip that is not a highlight"
        annotator = obj.get("annotator")
        if not isinstance(annotator, str):
            return f"'annotator' must be a string, got {annotator!r}"
        return cls(vid, clip, highlight, category, annotator, str(obj.get("time", "")),
                   str(obj.get("app_version", "")))  # fmt: skip


@dataclass
class AnnotatorDecisions:
    """What one annotator's file says: the last decision per clip, and what was skipped."""

    annotator: str
    path: Path
    latest: dict[ClipKey, Decision] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    lines: int = 0

    def of_video(self, video_id: str) -> dict[int, Decision]:
        """``{clip: decision}`` of one video."""
        return {c: d for (v, c), d in self.latest.items() if v == video_id}


def latest_decisions(
    decisions: AnnotatorDecisions | Mapping[ClipKey, Decision],
) -> Mapping[ClipKey, Decision]:
    """``{(video, clip): decision}`` of an annotator's file as read, or of a plain mapping."""
    return decisions.latest if isinstance(decisions, AnnotatorDecisions) else decisions


class AnnotationStore:
    """A folder of per-annotator decision files (see the module's docstring)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # -- files -------------------------------------------------------------------------------

    def path(self, annotator: str) -> Path:
        """The decisions file of ``annotator`` (whose name is checked: never a path)."""
        return self.root / f"{check_annotator_name(annotator)}{_SUFFIX}"

    def annotators(self) -> list[str]:
        """Names of the annotators who have a file in the store, sorted."""
        if not self.root.is_dir():
            return []
        names = []
        for p in sorted(self.root.glob(f"*{_SUFFIX}")):
            name = p.name[: -len(_SUFFIX)]
            if _NAME.fullmatch(name) and ".." not in name:
                names.append(name)
            else:
                logger.warning("%s: not an annotator's file name; ignored", p)
        return names

    # -- the videos being annotated ------------------------------------------------------------

    def write_videos(self, videos: Mapping[str, Mapping[str, Any]]) -> Path:
        """Record the videos being annotated (``{video_id: {"num_clips": n, ...}}``), so the
        store can be checked and aggregated without the app. Earlier entries are kept."""
        merged = {**self.videos(), **{k: dict(v) for k, v in videos.items()}}
        return write_json(self.root / "videos.json", {"videos": merged})

    def videos(self) -> dict[str, dict[str, Any]]:
        """``{video_id: {"num_clips": n, ...}}`` recorded by :meth:`write_videos` ({} if none)."""
        p = self.root / "videos.json"
        if not p.is_file():
            return {}
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
            videos = data["videos"]
            if not isinstance(videos, dict) or not all(
                isinstance(v, dict) and type(v.get("num_clips")) is int for v in videos.values()
            ):
                raise ValueError("'videos' must map ids to objects with an integer 'num_clips'")
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise AnnotationStoreError(p, [f"not a videos file: {e}"]) from e
        return videos

    # -- decisions -----------------------------------------------------------------------------

    def record(
        self,
        annotator: str,
        video_id: str,
        clip: int,
        highlight: bool,
        category: str | None = None,
        *,
        app_version: str = "",
    ) -> Decision:
        """Append one decision to the annotator's file and make it durable before returning."""
        decision = Decision(video_id, int(clip), bool(highlight), category, annotator,
                            app_version=app_version)  # fmt: skip
        problem = Decision.from_json(decision.to_json())
        if isinstance(problem, str):
            raise InvalidArgumentError(f"decision for clip {clip} of {video_id!r}: {problem}")
        append_jsonl(self.path(annotator), [decision.to_json()])
        return decision

    def read(
        self,
        annotator: str,
        videos: Mapping[str, int] | None = None,
        *,
        strict: bool = True,
    ) -> AnnotatorDecisions:
        """The annotator's decisions, the last one per clip winning.

        ``videos`` (``{video_id: num_clips}``) checks every line's video and clip. Lines that
        are not JSON are skipped with a warning; other bad lines raise
        :class:`~tvhighlights.errors.AnnotationStoreError` listing them all when ``strict``,
        and are skipped with a warning otherwise. A missing file is an annotator with no
        decisions yet.
        """
        path = self.path(annotator)
        out = AnnotatorDecisions(annotator, path)
        problems: list[str] = []
        for lineno, line in _lines(path):
            out.lines += 1
            where = f"{path}: line {lineno}"
            try:
                obj = json.loads(line)
            except ValueError:
                out.warnings.append(
                    f"{where}: not JSON (cut short by a crash, or edited by hand): skipped"
                )
                continue
            if not isinstance(obj, dict):
                problems.append(f"line {lineno}: expected a JSON object, got {type(obj).__name__}")
                continue
            d = Decision.from_json(obj)
            if isinstance(d, str):
                problems.append(f"line {lineno}: {d}")
                continue
            if d.annotator != annotator:
                problems.append(f"line {lineno}: written by {d.annotator!r}, not {annotator!r}")
                continue
            if videos is not None:
                if d.video_id not in videos:
                    problems.append(f"line {lineno}: unknown video {d.video_id!r}")
                    continue
                if d.clip >= videos[d.video_id]:
                    problems.append(
                        f"line {lineno}: clip {d.clip} is out of range: video {d.video_id!r} "
                        f"has {videos[d.video_id]} clips"
                    )
                    continue
            out.latest[(d.video_id, d.clip)] = d
        if problems and strict:
            raise AnnotationStoreError(path, problems)
        out.warnings += [f"{path}: {p}: skipped" for p in problems]
        for w in out.warnings:
            logger.warning("%s", w)
        return out

    def read_all(
        self, videos: Mapping[str, int] | None = None, *, strict: bool = True
    ) -> dict[str, AnnotatorDecisions]:
        """Every annotator's decisions (see :meth:`read`)."""
        return {name: self.read(name, videos, strict=strict) for name in self.annotators()}

    # -- where an annotator was ----------------------------------------------------------------

    def save_position(self, annotator: str, video_id: str, clip: int) -> None:
        """Remember where the annotator is, so reopening the page resumes there."""
        path = self.root / f"{check_annotator_name(annotator)}.position.json"
        write_json(path, {"video_id": video_id, "clip": int(clip), "time": time.time()})

    def position(self, annotator: str) -> tuple[str, int] | None:
        """The annotator's last ``(video_id, clip)``, or ``None``."""
        path = self.root / f"{check_annotator_name(annotator)}.position.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return str(data["video_id"]), int(data["clip"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            logger.warning("%s: unreadable; starting at the first video", path)
            return None


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered non-blank lines of a file (none when it does not exist)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return
    except OSError as e:
        raise AnnotationStoreError(path, [f"cannot read: {e.strerror or e}"]) from e
    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield lineno, line
