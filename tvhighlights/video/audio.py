"""A video's audio track as mono float32 at any sample rate."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ._container import AV_ERRORS, audio_stream, describe, open_input, seek
from ._decode import AUDIO_PREROLL, AudioCollector, SeekedTooFar, check_rate, pump, seek_plan
from .probe import probe

logger = logging.getLogger(__name__)


def read_audio(
    path: str | Path,
    rate: int = 16000,
    *,
    start: float = 0.0,
    end: float | None = None,
    show_progress: bool = False,
) -> np.ndarray:
    """Mono float32 audio at ``rate`` Hz whose sample 0 is time ``start``.

    Any channel layout (5.1 included) is downmixed by FFmpeg's resampler. A file without audio
    gives an empty array, so callers can treat silence and absence alike. ``end`` is clipped to
    the audio's own end (no padding after it).
    """
    rate = int(check_rate("rate", rate))
    p = Path(path)
    info = probe(p)
    if not info.has_audio:
        return np.zeros(0, dtype=np.float32)
    start = max(0.0, float(start))
    if end is not None and float(end) <= start:
        return np.zeros(0, dtype=np.float32)
    stop = None if end is None else float(end)
    span = (stop if stop is not None else info.duration) - start
    with tqdm(
        total=round(max(span, 0.0), 1),
        disable=not show_progress,
        unit="s",
        desc=f"audio {p.name}",
    ) as bar:
        for position in seek_plan(start):
            collector = AudioCollector(rate, start, stop, info.start_time)
            with open_input(p) as container:
                aus = audio_stream(container)
                if aus is None:
                    return np.zeros(0, dtype=np.float32)
                try:
                    if position > 0:
                        # decode a little earlier: audio decoders need a few frames of warm-up
                        # (MP3's bit reservoir, AAC/Opus overlap) to match a full decode
                        seek(container, aus, max(0.0, position - AUDIO_PREROLL), info.start_time)
                        collector.strict = True
                except AV_ERRORS as e:
                    logger.debug("%s: seek to %.2f s failed (%s)", p, position, describe(e))
                    continue
                pump_stop = info.duration if stop is None else min(stop, info.duration)
                try:
                    for _ in pump(container, p, info, None, aus, None, collector, pump_stop):
                        now = min(round(max(collector.covered - start, 0.0), 1), bar.total)
                        if now > bar.n:
                            bar.update(now - bar.n)
                except SeekedTooFar:
                    logger.debug("%s: seek to %.2f s overshot; seeking earlier", p, position)
                    continue
                return collector.result()
    return np.zeros(0, dtype=np.float32)  # pragma: no cover - the last plan step never seeks
