"""What a describer is: clips in, one text description each out (LLG's first step).

Stage 2 never looks at pixels itself: a describer turns each 2-second clip into words that an
LLM then reasons about. Describers are ``signals`` (offline, from measured cues: see
:mod:`.signals`) or a vision-language model behind any chat backend (:mod:`.vlm`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["ClipToDescribe", "Describer", "describe_videos", "row_clips"]


@dataclass(frozen=True)
class ClipToDescribe:
    """One clip of a dataset row: where its pixels are and what was measured on it."""

    video_id: str
    index: int
    """The clip's index within its row (0-based)."""
    start: float
    """Seconds into ``video_path`` (the row's ``start`` plus ``2 * index``)."""
    end: float
    video_path: str | None = None
    title: str = ""
    cues: Mapping[str, float] = field(default_factory=dict)
    """Handcrafted feature columns by name (``lufs``, ``motion_mean``, ``cut_rate``, ...)."""
    context: Mapping[str, float] = field(default_factory=dict)
    """The same columns' medians over the clip's row, so a description can say "louder
    than the rest of the video"."""


@runtime_checkable
class Describer(Protocol):
    """``describe(clips) -> one text (or None: it failed) per clip``; ``name`` and
    ``version`` identify the descriptions (a change of either describes again)."""

    name: str
    version: str

    def describe(
        self, clips: Sequence[ClipToDescribe], *, show_progress: bool = False
    ) -> list[str | None]: ...


def row_clips(
    video_id: str,
    num_clips: int,
    *,
    start: float = 0.0,
    video_path: str | None = None,
    title: str = "",
    cues: Mapping[str, np.ndarray] | None = None,
) -> list[ClipToDescribe]:
    """The clips of one dataset row, each with its cues (``cues``: column name -> per-clip
    values, e.g. the handcrafted extractor's) and the row's medians of them as context."""
    cues = dict(cues or {})
    context = {name: float(np.median(v)) for name, v in cues.items()}
    return [
        ClipToDescribe(
            video_id=video_id,
            index=i,
            start=start + 2 * i,
            end=start + 2 * i + 2,
            video_path=video_path,
            title=title or "",
            cues={name: float(v[i]) for name, v in cues.items()},
            context=context,
        )
        for i in range(num_clips)
    ]


def describe_videos(
    describer: Describer,
    videos: Sequence[Sequence[ClipToDescribe]],
    path: str | Path | None = None,
    *,
    show_progress: bool = False,
) -> tuple[dict[str, list[str | None]], int]:
    """Descriptions per video (``{video_id: texts}``) and the count of clips that failed.

    With ``path`` (JSONL, a line per video, appended and fsynced) each video is described once
    per describer name and version: a rerun or a resumed run reads what is there.
    """
    from tqdm.auto import tqdm

    from ..fileio import append_jsonl, read_jsonl_objects

    done: dict[str, list[str | None]] = {}
    ident = f"{describer.name}@{describer.version}"
    path = Path(path) if path is not None else None
    if path is not None and path.exists():
        rows, _ = read_jsonl_objects(path)
        for _, r in rows:
            if r.get("describer") == ident and isinstance(r.get("texts"), list):
                done[r["video_id"]] = r["texts"]
    todo = [
        v for v in videos if v and (v[0].video_id not in done or len(done[v[0].video_id]) != len(v))
    ]
    bar = tqdm(
        total=sum(len(v) for v in todo),
        desc=f"describe ({describer.name})",
        unit="clip",
        disable=not show_progress,
    )
    for video in todo:
        texts = describer.describe(video)
        if path is not None and any(t is not None for t in texts):
            append_jsonl(
                path, [{"video_id": video[0].video_id, "describer": ident, "texts": texts}]
            )
        done[video[0].video_id] = texts
        bar.update(len(video))
    bar.close()
    failed = sum(t is None for v in videos if v for t in done.get(v[0].video_id, []))
    return done, failed
