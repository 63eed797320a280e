"""The clips of the 2-second grid, each with its frames (in several views) and its audio,
decoded in one pass."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..clips import clip_bounds
from ..errors import InvalidArgumentError
from ._container import EPS, Size, audio_stream, open_input, video_stream
from ._decode import (
    AudioCollector,
    CollectorGroup,
    FrameSampler,
    SamplerGroup,
    check_rate,
    output_size,
    pump,
)
from .probe import probe


@dataclass(frozen=True)
class FrameView:
    """How one consumer wants a clip's frames: sampling rate, size ``(width, height)``, colour.

    :func:`iter_clips` fills several views from one decode, so extractors with different
    needs (CLIP at 224 px, a shot network at 48x27 and 25 fps) share a single pass.
    """

    fps: float
    size: Size | None = None
    grey: bool = False


@dataclass(frozen=True, eq=False)
class Clip:
    """One clip of the 2-second grid with its sampled frames and its audio."""

    index: int
    start: float
    end: float
    timestamps: np.ndarray
    """float64 ``(n,)``: the sampled times ``k / fps`` inside ``[start, end)``."""
    frames: np.ndarray
    """uint8 ``(n, H, W, 3)`` RGB or ``(n, H, W)`` grey."""
    audio: np.ndarray
    """float32 mono, ``round(end * rate) - round(start * rate)`` samples (zero-padded where
    the audio track is shorter than the video); empty when the file has no audio."""
    views: Mapping[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    """With ``views=``: view name -> ``(timestamps, frames)`` of that view."""
    audios: Mapping[int, np.ndarray] = field(default_factory=dict)
    """Sample rate -> the clip's audio at that rate (``audio`` is the first rate's)."""


def iter_clips(
    path: str | Path,
    *,
    fps: float = 2.0,
    audio_rate: int | None = 16000,
    size: Size | None = None,
    grey: bool = False,
    views: Mapping[str, FrameView] | None = None,
    audio_rates: Sequence[int] | None = None,
    show_progress: bool = False,
) -> Iterator[Clip]:
    """Yield every clip of the 2-second grid, decoding video and audio in ONE pass.

    Packets of both streams come from a single demux, so feature extraction reads and decodes
    each file once. ``audio_rate=None`` skips audio (clips then carry empty audio).

    ``views`` asks for several samplings of the same decoded frames (name -> :class:`FrameView`);
    each clip then carries them in ``Clip.views`` and ``frames``/``timestamps`` are the first
    view's (``fps``, ``size`` and ``grey`` are unused). ``audio_rates`` likewise resamples the
    decoded audio to several rates at once (``Clip.audios``; ``audio`` is the first rate's).
    """
    if views is None:
        views = {"frames": FrameView(fps, size, grey)}
    if not views:
        raise InvalidArgumentError("views must name at least one FrameView")
    rates = list(audio_rates) if audio_rates is not None else [audio_rate]
    rates = [int(check_rate("audio_rate", r)) for r in rates if r is not None]
    p = Path(path)
    info = probe(p)
    bounds = clip_bounds(info.duration)
    n = len(bounds)
    if n == 0:
        return
    stop = float(bounds[-1, 1])
    want_audio = bool(rates) and info.has_audio
    empty_audio = np.zeros(0, dtype=np.float32)

    names = list(views)
    samplers: list[FrameSampler] = []
    shapes: list[tuple[int, ...]] = []
    for name in names:
        view = views[name]
        vfps = check_rate(f"fps of view {name!r}", view.fps)
        out_size = output_size(info, view.size)
        samplers.append(
            FrameSampler(vfps, 0.0, stop, out_size, view.grey, info.start_time, info.fps)
        )
        shapes.append((out_size[1], out_size[0]) if view.grey else (out_size[1], out_size[0], 3))
    group = SamplerGroup(samplers)
    pending: list[list[tuple[float, np.ndarray]]] = [[] for _ in names]
    i = 0

    def take_frames(k: int, e: float, last: bool) -> tuple[np.ndarray, np.ndarray]:
        inside = [(t, f) for t, f in pending[k] if t < e - EPS or last]
        pending[k] = pending[k][len(inside) :]
        times = np.asarray([t for t, _ in inside], dtype=np.float64)
        frames = (
            np.stack([f for _, f in inside])
            if inside
            else np.zeros((0, *shapes[k]), dtype=np.uint8)
        )
        return times, frames

    def make_clip(index: int, collectors: CollectorGroup | None) -> Clip:
        s, e = float(bounds[index, 0]), float(bounds[index, 1])
        last = index == n - 1
        got = {name: take_frames(k, e, last) for k, name in enumerate(names)}
        audios: dict[int, np.ndarray] = {}
        if collectors is not None:
            for c in collectors.collectors:
                a, b = round(s * c.rate), round(e * c.rate)
                audios[c.rate] = c.take(a, b, pad=True)
                c.discard_before(b)
        times, frames = got[names[0]]
        return Clip(
            index=index,
            start=s,
            end=e,
            timestamps=times,
            frames=frames,
            audio=audios[rates[0]] if audios else empty_audio,
            views=got,
            audios=audios,
        )

    def ready(e: float, collectors: CollectorGroup | None) -> bool:
        video_ready = all(sm.done or sm.next_time >= e - EPS for sm in samplers)
        audio_ready = collectors is None or all(
            c.flushed or c.total >= round(e * c.rate) for c in collectors.collectors
        )
        return video_ready and audio_ready

    def drain() -> None:
        for k, sm in enumerate(samplers):
            pending[k].extend(sm.drain())

    with (
        open_input(p) as container,
        tqdm(total=n, disable=not show_progress, unit="clip", desc=f"clips {p.name}") as bar,
    ):
        vs = video_stream(container, p)
        vs.thread_type = "AUTO"
        aus = audio_stream(container) if want_audio else None
        collectors = (
            CollectorGroup(
                [AudioCollector(r, 0.0, stop, info.start_time) for r in dict.fromkeys(rates)]
            )
            if aus is not None
            else None
        )
        for _ in pump(container, p, info, vs, aus, group, collectors, stop):
            drain()
            while i < n and ready(float(bounds[i, 1]), collectors):
                yield make_clip(i, collectors)
                bar.update(1)
                i += 1
        if collectors is not None:
            collectors.flush()
        drain()
        while i < n:
            yield make_clip(i, collectors)
            bar.update(1)
            i += 1
