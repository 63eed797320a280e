"""What a describer is: clips in, one text description each out (LLG's first step).

Stage 2 never looks at pixels itself: a describer turns each 2-second clip into words that an
LLM then reasons about. Describers are ``signals`` (offline, from measured cues: see
:mod:`.signals`) or a vision-language model behind any chat backend (:mod:`.vlm`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = ["ClipToDescribe", "Describer"]


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
