"""A highlight reel: a video's highlight spans cut together into one mp4, faded at each cut."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..video.cut import cut_spans
from .spans import HighlightSpan

__all__ = ["DEFAULT_FADE", "write_reel"]

DEFAULT_FADE = 0.2
"""Seconds of fade (video from/to black, audio ramp) at each end of each span: a reel of
short cuts without fades flickers and clicks."""


def write_reel(
    video_path: str | Path,
    spans: Sequence[HighlightSpan | tuple[float, float]],
    out_path: str | Path,
    *,
    fade: float = DEFAULT_FADE,
    order: str = "time",
    crf: int = 20,
    preset: str = "veryfast",
    show_progress: bool = False,
) -> Path:
    """Cut ``spans`` of a video into one highlight reel (mp4: H.264 yuv420p + AAC), atomically.

    ``spans`` are :class:`~tvhighlights.inference.HighlightSpan` objects or ``(start, end)``
    seconds; ``order="time"`` (default) plays them in film order, ``"given"`` as listed
    (:func:`~tvhighlights.inference.highlight_spans` lists the best first). The cutting itself
    (clipping to the video, frame rate, audio layout, atomic write) is
    :func:`tvhighlights.video.cut.cut_spans`'s.
    """
    pairs = [(sp.start, sp.end) if isinstance(sp, HighlightSpan) else sp for sp in spans]
    return cut_spans(
        video_path,
        pairs,
        out_path,
        fade=fade,
        order=order,
        crf=crf,
        preset=preset,
        show_progress=show_progress,
    )
