"""The vision-language describer: a few frames of each clip, shown to a VLM behind any chat
backend that takes images (an OpenAI-compatible server with a VLM, a local LLaVA folder).

Each clip's ``num_frames`` frames are taken evenly inside ``[start, end)`` (the middle of each
equal slice, so no frame sits on a boundary shared with the next clip), scaled to
``max_side`` pixels on the long side and sent as JPEG ``image_url`` parts after the
``describe_clip`` prompt's text. Small frames keep requests small: four 336-px JPEGs are
~60 KB, and every VLM rescales to its own resolution anyway. Calls go through the
:class:`~tvhighlights.llm.client.LLMClient`, so they are cached (by the frames' hashes),
retried and run ``concurrency`` at a time; a clip whose frames cannot be read or whose call
fails is described as ``None``.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from tqdm import tqdm

from ..errors import TVHighlightsError
from .base import Message, image_part
from .client import LLMClient
from .describer import ClipToDescribe
from .prompts import Prompt, load_prompt
from .response import strip_reasoning

logger = logging.getLogger(__name__)

__all__ = ["VLMDescriber", "clip_frames", "frame_times", "spans_frames"]


def frame_times(start: float, end: float, num_frames: int) -> list[float]:
    """``num_frames`` times evenly inside ``[start, end)``: the middle of each equal slice."""
    span = max(0.0, float(end) - float(start))
    return [float(start) + span * (i + 0.5) / num_frames for i in range(num_frames)]


_GRID_FPS = 8.0
"""Frames are taken from a grid of this rate (the one nearest each wanted time: at most
1/16 s off), so a run of neighbouring clips decodes once instead of once per clip."""
_RUN_GAP = 4.0
"""Clips of one video closer than this many seconds share one decoding pass."""


def _jpeg(frame: np.ndarray, quality: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(frame).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def spans_frames(
    video_path: str,
    spans: Sequence[tuple[float, float]],
    num_frames: int = 4,
    max_side: int = 336,
    quality: int = 85,
) -> list[list[bytes]]:
    """JPEG bytes of ``num_frames`` frames evenly inside each ``[start, end)`` of
    ``video_path``, scaled to ``max_side`` pixels on the long side (never up).

    Spans closer than a few seconds are decoded in one pass (a row's clips cost one seek, not
    one per clip); a span past the end of the video gets its last frames. Raises
    :class:`~tvhighlights.errors.VideoOpenError` when the file cannot be read.
    """
    from ..video import iter_frames, probe

    info = probe(video_path)
    scale = min(1.0, max_side / max(info.width, info.height, 1))
    size = (max(2, round(info.width * scale)), max(2, round(info.height * scale)))
    wanted = [[round(t * _GRID_FPS) for t in frame_times(a, b, num_frames)] for a, b in spans]
    order = sorted(range(len(spans)), key=lambda i: spans[i][0])
    runs: list[list[int]] = []
    for i in order:
        if runs and spans[i][0] - max(spans[j][1] for j in runs[-1]) <= _RUN_GAP:
            runs[-1].append(i)
        else:
            runs.append([i])
    found: dict[int, bytes] = {}
    for run in runs:
        need = {k for i in run for k in wanted[i]}
        lo = min(k for k in need) / _GRID_FPS
        hi = max(k for k in need) / _GRID_FPS + 0.5 / _GRID_FPS
        first: tuple[int, np.ndarray] | None = None
        last: tuple[int, np.ndarray] | None = None
        for t, frame in iter_frames(video_path, _GRID_FPS, size=size, start=lo, end=hi):
            k = round(t * _GRID_FPS)
            if first is None:
                first = (k, frame)
            last = (k, frame)
            if k in need:
                found[k] = _jpeg(frame, quality)
        if first is None or last is None:
            # nothing decoded inside the run (it lies past the end): the video's last second
            tail = max(0.0, info.duration - 1.0)
            for t, frame in iter_frames(video_path, _GRID_FPS, size=size, start=tail):
                last = (round(t * _GRID_FPS), frame)
                first = first or last
        if first is None or last is None:
            continue
        for k in need - found.keys():
            found[k] = _jpeg((first if k < first[0] else last)[1], quality)
    return [[found[k] for k in ks if k in found] for ks in wanted]


def clip_frames(
    video_path: str, start: float, end: float, num_frames: int = 4, max_side: int = 336,
    quality: int = 85,
) -> list[bytes]:  # fmt: skip
    """JPEG bytes of ``num_frames`` frames of one clip (see :func:`spans_frames`)."""
    return spans_frames(video_path, [(start, end)], num_frames, max_side, quality)[0]


class VLMDescriber:
    """Describe clips by showing ``num_frames`` frames to the VLM behind ``client``.

    ``name`` is the backend's (``openai:URL:MODEL``); ``version`` the prompt's id (with the
    frame count when it is not the default 4), so a new prompt or frame count describes
    again. ``max_tokens`` defaults to the client's. ``batch`` clips are decoded ahead of
    their calls at a time, bounding memory.
    """

    def __init__(
        self,
        client: LLMClient,
        *,
        num_frames: int = 4,
        max_side: int = 336,
        prompt: str | Prompt = "describe_clip",
        max_tokens: int | None = None,
        batch: int = 64,
    ) -> None:
        if num_frames < 1 or max_side < 16 or batch < 1:
            from ..errors import InvalidArgumentError

            raise InvalidArgumentError(
                f"VLM describer: need num_frames >= 1, max_side >= 16 and batch >= 1 (got "
                f"{num_frames}, {max_side}, {batch})",
                param="describer",
            )
        self.client = client
        self.num_frames = int(num_frames)
        self.max_side = int(max_side)
        self.prompt = load_prompt(prompt) if isinstance(prompt, str) else prompt
        self.max_tokens = max_tokens
        self.batch = int(batch)
        self.name = client.name
        self.version = self.prompt.id + ("" if self.num_frames == 4 else f"/{self.num_frames}f")

    def messages(self, clip: ClipToDescribe, jpegs: Sequence[bytes]) -> list[Message]:
        """The chat messages for one clip: the prompt, its user text followed by the frames."""
        rendered = self.prompt.render(
            num_frames=len(jpegs), title=clip.title or "untitled",
            start=f"{clip.start:.1f} s", end=f"{clip.end:.1f} s",
        )  # fmt: skip
        out: list[Message] = []
        for m in rendered:
            if m["role"] == "user":
                content: Any = [{"type": "text", "text": m["content"]}]
                content += [image_part(j) for j in jpegs]
                out.append({"role": "user", "content": content})
            else:
                out.append(m)
        return out

    def frames(self, clips: Sequence[ClipToDescribe]) -> list[list[bytes]]:
        """Each clip's JPEG frames (empty where the clip has no readable video), one decoding
        pass per run of neighbouring clips of a video."""
        out: list[list[bytes]] = [[] for _ in clips]
        by_video: dict[str, list[int]] = {}
        for i, c in enumerate(clips):
            if c.video_path:
                by_video.setdefault(str(c.video_path), []).append(i)
            else:
                logger.warning("clip %s/%d has no video path: not described", c.video_id,
                               c.index)  # fmt: skip
        for path, idx in by_video.items():
            try:
                got = spans_frames(path, [(clips[i].start, clips[i].end) for i in idx],
                                   self.num_frames, self.max_side)  # fmt: skip
            except TVHighlightsError as e:
                logger.warning("%s: frames not read (%d clips not described): %s", path,
                               len(idx), e)  # fmt: skip
                continue
            for i, jpegs in zip(idx, got, strict=True):
                out[i] = jpegs
        return out

    def describe(
        self, clips: Sequence[ClipToDescribe], *, show_progress: bool = False
    ) -> list[str | None]:
        """One description per clip, in order (``None`` where frames or the call failed)."""
        out: list[str | None] = [None] * len(clips)
        bar = tqdm(total=len(clips), desc=f"describe ({self.name})", unit="clip",
                   disable=not show_progress)  # fmt: skip
        try:
            for lo in range(0, len(clips), self.batch):
                chunk = list(range(lo, min(lo + self.batch, len(clips))))
                todo: list[int] = []
                requests: list[list[Message]] = []
                for i, jpegs in zip(chunk, self.frames([clips[i] for i in chunk]), strict=True):
                    if jpegs:
                        todo.append(i)
                        requests.append(self.messages(clips[i], jpegs))
                results = self.client.ask_many(requests, self.prompt.id,
                                               max_tokens=self.max_tokens)  # fmt: skip
                for i, r in zip(todo, results, strict=True):
                    text = " ".join(strip_reasoning(r.answer).split()) if r.answer else ""
                    out[i] = text or None
                bar.update(len(chunk))
        finally:
            bar.close()
        return out
