"""Frames of a video sampled at any rate, size and colour."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..errors import VideoOpenError
from ._container import AV_ERRORS, Size, describe, open_input, seek, video_stream
from ._decode import FrameSampler, SeekedTooFar, check_rate, output_size, pump, seek_plan
from .probe import probe

logger = logging.getLogger(__name__)


def iter_frames(
    path: str | Path,
    fps: float,
    *,
    size: Size | None = None,
    grey: bool = False,
    start: float = 0.0,
    end: float | None = None,
    show_progress: bool = False,
) -> Iterator[tuple[float, np.ndarray]]:
    """Yield ``(t, frame)`` for ``t = k / fps`` in ``[start, end)``: the frame on screen at ``t``.

    Frames are uint8 ``(H, W, 3)`` RGB, or ``(H, W)`` when ``grey``; ``size`` is
    ``(width, height)`` (default: the video's own). Only emitted frames are converted, so a
    low ``fps`` costs little beyond decoding. ``end`` defaults to the video's duration.
    """
    fps = check_rate("fps", fps)
    p = Path(path)
    info = probe(p)
    start = max(0.0, float(start))
    stop = info.duration if end is None else min(float(end), info.duration)
    out_size = output_size(info, size)
    total = max(0, math.ceil(stop * fps - 1e-9) - math.ceil(start * fps - 1e-9))
    if total <= 0:
        return

    with tqdm(total=total, disable=not show_progress, unit="frame", desc=f"frames {p.name}") as bar:
        for position in seek_plan(start):
            sampler = FrameSampler(fps, start, stop, out_size, grey, info.start_time, info.fps)
            with open_input(p) as container:
                try:
                    vs = video_stream(container, p)
                    vs.thread_type = "AUTO"
                    if position > 0:
                        seek(container, vs, position, info.start_time)
                        sampler.strict = True
                except VideoOpenError:
                    raise
                except AV_ERRORS as e:
                    logger.debug("%s: seek to %.2f s failed (%s)", p, position, describe(e))
                    continue
                try:
                    for _ in pump(container, p, info, vs, None, sampler, None, stop):
                        ready = sampler.drain()
                        bar.update(len(ready))
                        yield from ready
                except SeekedTooFar:
                    logger.debug("%s: seek to %.2f s overshot; seeking earlier", p, position)
                    continue
            return


def read_frames(
    path: str | Path,
    fps: float,
    *,
    size: Size | None = None,
    grey: bool = False,
    start: float = 0.0,
    end: float | None = None,
    show_progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """All of :func:`iter_frames` at once: float64 times ``(n,)``, uint8 frames ``(n, ...)``."""
    times: list[float] = []
    frames: list[np.ndarray] = []
    for t, frame in iter_frames(
        path, fps, size=size, grey=grey, start=start, end=end, show_progress=show_progress
    ):
        times.append(t)
        frames.append(frame)
    if frames:
        return np.asarray(times, dtype=np.float64), np.stack(frames)
    info = probe(path)
    w, h = output_size(info, size)
    shape = (0, h, w) if grey else (0, h, w, 3)
    return np.zeros(0, dtype=np.float64), np.zeros(shape, dtype=np.uint8)
