"""A highlight reel: a video's highlight spans cut together into one mp4, faded at each cut."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from ..errors import InvalidArgumentError
from ..video.cut import cut_spans
from .spans import HighlightSpan

__all__ = ["DEFAULT_FADE", "MIN_REEL_PIECE", "reel_spans", "write_reel"]

DEFAULT_FADE = 0.2
"""Seconds of fade (video from/to black, audio ramp) at each end of each span: a reel of
short cuts without fades flickers and clicks."""


def _pairs(spans: Sequence[HighlightSpan | tuple[float, float]]) -> list:
    return [(sp.start, sp.end) if isinstance(sp, HighlightSpan) else sp for sp in spans]


MIN_REEL_PIECE = 1.0
"""Seconds: a trimmed piece shorter than this is left out of a length-capped reel (a flash)."""


def reel_spans(
    spans: Sequence[HighlightSpan | tuple[float, float]], max_seconds: float | None = None
) -> list[tuple[float, float]]:
    """The ``(start, end)`` pieces of a reel at most ``max_seconds`` long, best spans first.

    ``spans`` are ranked best first (as :func:`~tvhighlights.inference.highlight_spans` returns
    them). Whole spans are taken while they fit; the first one that does not is trimmed around
    its centre to the time left, unless less than :data:`MIN_REEL_PIECE` is left, and the rest
    are dropped. ``None`` keeps every span. The pieces keep the ranking's order.
    """
    pieces = [(float(a), float(b)) for a, b in _pairs(spans)]
    if max_seconds is None:
        return pieces
    if not math.isfinite(float(max_seconds)) or max_seconds <= 0:
        raise InvalidArgumentError(
            f"the reel length must be a number of seconds > 0, got {max_seconds!r}",
            param="reel_seconds",
        )
    out: list[tuple[float, float]] = []
    left = float(max_seconds)
    for start, end in pieces:
        length = end - start
        if length <= left + 1e-9:
            out.append((start, end))
            left -= length
            continue
        if left >= MIN_REEL_PIECE:
            middle = (start + end) / 2
            out.append((middle - left / 2, middle + left / 2))
        break
    return out


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
    return cut_spans(
        video_path,
        _pairs(spans),
        out_path,
        fade=fade,
        order=order,
        crf=crf,
        preset=preset,
        show_progress=show_progress,
    )
