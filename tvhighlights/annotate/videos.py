"""The videos to annotate: rows of a dataset folder, picked by a CSV of their ids.

A row of the dataset's default config (any split) is annotated on its own 2-second grid: its
clip ``i`` is ``[start + 2i, start + 2i + 2)`` seconds of the file ``video_path`` (``start``
is 0 for a whole source, the window's start for a windowed row). The CSV has a ``video_id``
column and, optionally, ``path`` for a file that has moved since the build.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..clips import CLIP_SECONDS
from ..data.folder import read_split, split_names
from ..errors import InputFormatError

logger = logging.getLogger(__name__)

__all__ = ["AnnotationVideo", "load_videos"]


@dataclass(frozen=True)
class AnnotationVideo:
    """One video to annotate, on its row's 2-second grid."""

    video_id: str
    path: Path
    num_clips: int
    start: float = 0.0
    duration: float = 0.0
    title: str = ""
    split: str = ""

    def clip_span(self, clip: int) -> tuple[float, float]:
        """``[start, end)`` seconds of clip ``clip`` in the file."""
        a = self.start + CLIP_SECONDS * clip
        return a, min(a + CLIP_SECONDS, self.start + self.duration)

    @property
    def missing(self) -> str | None:
        """Why the file cannot be used (it is not there), else ``None``."""
        if not self.path.is_file():
            return (
                f"{self.path}: the video file is missing (moved? give its new 'path' in the list)"
            )
        return None

    def to_json(self) -> dict[str, Any]:
        return {"num_clips": self.num_clips, "path": str(self.path), "start": self.start,
                "duration": self.duration, "title": self.title, "split": self.split}  # fmt: skip


def _dataset_rows(dataset: Path) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for split in split_names(dataset):
        for row in read_split(dataset, split).to_pylist():
            rows.setdefault(row["video_id"], {**row, "split": split})
    return rows


def _video(row: dict[str, Any], path: str | None) -> AnnotationVideo:
    return AnnotationVideo(
        video_id=row["video_id"],
        path=Path(path or row.get("video_path") or ""),
        num_clips=int(row["num_clips"]),
        start=float(row.get("start") or 0.0),
        duration=float(row.get("duration") or CLIP_SECONDS * int(row["num_clips"])),
        title=row.get("title") or "",
        split=row.get("split") or "",
    )


def load_videos(dataset: str | Path, videos: str | Path | Sequence[str] | None = None
                ) -> list[AnnotationVideo]:  # fmt: skip
    """The videos to annotate, in the list's order.

    ``videos`` is a CSV (a ``video_id`` column, optionally ``path``), a list of ids, or
    ``None`` for every row of the dataset's ``test`` split. Every unknown id and bad line is
    reported at once; a file that has moved is reported by :attr:`AnnotationVideo.missing`
    (the app shows it; the other videos can still be annotated).
    """
    dataset = Path(dataset)
    rows = _dataset_rows(dataset)
    wanted: list[tuple[str, str, str | None]] = []  # (where, id, path)
    source: Path = dataset
    if videos is None:
        wanted = [(f"test row {i}", vid, None) for i, (vid, r) in enumerate(rows.items())
                  if r["split"] == "test"]  # fmt: skip
        if not wanted:
            raise InputFormatError(
                dataset, ["the dataset has no test split: give the list of videos to annotate"],
                what="video list",
            )  # fmt: skip
    elif isinstance(videos, str | Path):
        source = Path(videos)
        wanted = _read_csv(source)
    else:
        wanted = [(f"item {i}", v, None) for i, v in enumerate(videos)]
    problems, out, seen = [], [], set()
    for where, vid, path in wanted:
        if vid in seen:
            problems.append(f"{where}: video {vid!r} is listed twice")
        elif vid not in rows:
            near = ", ".join(sorted(rows)[:5])
            problems.append(f"{where}: video {vid!r} is not a row of {dataset} (rows: {near}, ...)")
        else:
            seen.add(vid)
            out.append(_video(rows[vid], path))
    if problems:
        raise InputFormatError(source, problems, what="video list")
    for v in out:
        if v.missing:
            logger.warning("%s", v.missing)
    return out


def _read_csv(path: Path) -> list[tuple[str, str, str | None]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputFormatError(path, ["file not found"], what="video list") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputFormatError(path, [f"cannot read: {e}"], what="video list") from e
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames or "video_id" not in reader.fieldnames:
        got = ", ".join(reader.fieldnames or []) or "none"
        raise InputFormatError(path, [f"line 1: no 'video_id' column (columns: {got})"],
                               what="video list")  # fmt: skip
    out, problems = [], []
    for lineno, row in enumerate(reader, start=2):
        vid = (row.get("video_id") or "").strip()
        if not vid:
            problems.append(f"line {lineno}: empty 'video_id'")
            continue
        out.append((f"line {lineno}", vid, (row.get("path") or "").strip() or None))
    if problems:
        raise InputFormatError(path, problems, what="video list")
    if not out:
        raise InputFormatError(path, ["no videos listed"], what="video list")
    return out
