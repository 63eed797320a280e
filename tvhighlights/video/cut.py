"""Spans of a video cut together into one mp4 (H.264 + AAC): what a highlight reel is made of.

Each span is decoded from a seek just before its start; its frames are resampled to the
source's constant frame rate ("the frame on screen at ``start + k / fps``", as
:mod:`tvhighlights.video` samples) and its audio to the encoder's format, layout and rate. The
output's timestamps come from counters (frames at the output rate, audio samples at the output
sample rate), so they are continuous across cuts however the source's were, and audio stays in
sync with video: every span gets exactly as many audio samples as its frames last.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from tqdm import tqdm

from ..errors import InvalidArgumentError, VideoOpenError
from ._container import (
    AV_ERRORS,
    audio_stream,
    describe,
    frame_time,
    open_input,
    seek,
    video_stream,
)
from .probe import probe
from .writer import AAC_RATES, Mp4Writer

logger = logging.getLogger(__name__)

__all__ = ["cut_spans"]

_PREROLL = 0.5
"""Seconds before a span's start to seek to, so audio decoders are warm at the start."""

_MAX_BAD_PACKETS = 50


def _normalise_spans(
    spans: Iterable[Any], duration: float, order: str
) -> list[tuple[float, float]]:
    out = []
    for sp in spans:
        try:
            start, end = (float(x) for x in sp)
        except (TypeError, ValueError) as e:
            raise InvalidArgumentError(f"a span must be (start, end) seconds, got {sp!r}") from e
        if not (math.isfinite(start) and math.isfinite(end)) or end <= start:
            raise InvalidArgumentError(
                f"span [{start}, {end}) is not a finite interval with end > start"
            )
        clipped = (max(0.0, start), min(end, duration))
        if clipped[1] - clipped[0] <= 1e-6:
            raise InvalidArgumentError(
                f"span [{start:.2f}, {end:.2f}) s lies outside the video (0 to {duration:.2f} s)"
            )
        if clipped != (start, end):
            logger.info(
                "span [%.2f, %.2f) s clipped to the video: [%.2f, %.2f) s", start, end, *clipped
            )
        out.append(clipped)
    if not out:
        raise InvalidArgumentError("no spans to cut a reel from")
    if order == "time":
        out.sort()
    elif order != "given":
        raise InvalidArgumentError(f"order must be 'time' or 'given', got {order!r}")
    return out


def _output_rate(vs: av.VideoStream, fps: float) -> Fraction:
    for r in (vs.average_rate, vs.guessed_rate, vs.base_rate):
        try:
            f = Fraction(r)
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        if 1 <= f <= 240:
            return f.limit_denominator(1001)
    return Fraction(fps).limit_denominator(1001) if 1 <= fps <= 240 else Fraction(25)


class _VideoSpan:
    """Frames on screen at ``start + k / rate`` for ``k < count``, faded at both ends."""

    def __init__(self, writer: Mp4Writer, start: float, count: int, fade: float, step: float):
        self.w, self.start, self.count, self.fade = writer, start, count, fade
        self.slack = 0.25 * step  # container timestamps are rounded to their time base
        self.k = 0
        self.prev: av.VideoFrame | None = None
        self.first_time: float | None = None

    @property
    def done(self) -> bool:
        return self.k >= self.count

    def _alpha(self, k: int) -> float:
        if self.fade <= 0:
            return 1.0
        rate = float(self.w.fps)
        t_in, t_out = k / rate, (self.count - 1 - k) / rate
        return float(min(1.0, t_in / self.fade, t_out / self.fade))

    def _emit(self, frame: av.VideoFrame) -> None:
        alpha = self._alpha(self.k)
        if alpha < 1.0:  # fade to black in YUV: luma scaled, chroma pulled to neutral
            h = self.w.height
            arr = self.w.to_yuv(frame).to_ndarray().astype(np.float32)
            arr[:h] *= alpha
            arr[h:] = 128.0 + (arr[h:] - 128.0) * alpha
            frame = av.VideoFrame.from_ndarray(arr.round().astype(np.uint8), format="yuv420p")
        self.w.add_frame(frame)
        self.k += 1

    def push(self, frame: av.VideoFrame, t: float | None, bar: tqdm) -> None:
        if t is None:  # no timestamp: assume it follows the previous frame
            t = self.start if self.first_time is None else self.start + self.k / self.w.fps
        if self.first_time is None:
            self.first_time = t
        while not self.done and self.start + self.k / float(self.w.fps) < t - self.slack:
            self._emit(self.prev if self.prev is not None else frame)
            bar.update(1)
        self.prev = frame

    def finish(self, path: Path, end: float, bar: tqdm) -> None:
        if self.prev is None:
            raise VideoOpenError(
                path, f"no video frame could be decoded for the span ending at {end:.2f} s"
            )
        while not self.done:
            self._emit(self.prev)
            bar.update(1)


class _AudioSpan:
    """Exactly ``count`` output samples from ``start`` on, padded with silence where the source
    has none, ramped over ``fade`` seconds at both ends."""

    def __init__(self, writer: Mp4Writer, start: float, count: int, fade: float) -> None:
        self.w, self.start, self.count = writer, start, count
        self.ramp = max(1, round(min(fade, 0.5 * count / writer.audio_rate) * writer.audio_rate))
        self.resampler = av.AudioResampler(
            format="fltp", layout=writer.audio_layout, rate=writer.audio_rate
        )
        self.pos: int | None = None  # output index of the next resampled sample
        self.emitted = 0

    @property
    def done(self) -> bool:
        return self.emitted >= self.count

    def _emit(self, chunk: np.ndarray) -> None:
        m = chunk.shape[1]
        idx = np.arange(self.emitted, self.emitted + m, dtype=np.float64)
        gain = np.minimum(1.0, np.minimum(idx + 1, self.count - idx) / self.ramp)
        if gain.min() < 1.0:
            chunk = chunk * gain.astype(np.float32)
        self.w.add_audio(chunk)
        self.emitted += m

    def _take(self, arr: np.ndarray) -> None:
        a = self.pos
        self.pos = a + arr.shape[1]
        lo, hi = max(a, self.emitted), min(self.pos, self.count)
        if lo > self.emitted and self.emitted < self.count:  # the source's audio starts late
            self._emit(np.zeros((arr.shape[0], min(lo, self.count) - self.emitted), np.float32))
        if hi > lo:
            self._emit(arr[:, lo - a : hi - a])

    def push(self, frame: av.AudioFrame, t: float | None) -> None:
        if self.pos is None:
            self.pos = round(((self.start if t is None else t) - self.start) * self.w.audio_rate)
        for out in self.resampler.resample(frame):
            self._take(out.to_ndarray())
            if self.done:
                return

    def finish(self) -> None:
        if self.pos is not None and not self.done:
            with contextlib.suppress(*AV_ERRORS):
                for out in self.resampler.resample(None):
                    self._take(out.to_ndarray())
        if not self.done:
            self._emit(np.zeros((self.w.channels, self.count - self.emitted), np.float32))


def _cut_span(
    container: Any,
    path: Path,
    vs: av.VideoStream,
    aus: av.AudioStream | None,
    origin: float,
    video: _VideoSpan,
    audio: _AudioSpan | None,
    start: float,
    end: float,
    bar: tqdm,
) -> None:
    """Seek before ``start``, decode until both streams have covered the span, feed them."""
    seek(container, vs, max(0.0, start - _PREROLL), origin)
    streams = [vs] if aus is None else [vs, aus]
    bad = 0
    at_eof = True
    for packet in container.demux(*streams):
        if video.done and (audio is None or audio.done):
            at_eof = False
            break
        if packet.size == 0:
            continue
        is_video = packet.stream.index == vs.index
        if (is_video and video.done) or (not is_video and (audio is None or audio.done)):
            continue
        try:
            frames = packet.decode()
        except AV_ERRORS as e:
            bad += 1
            if bad > _MAX_BAD_PACKETS:
                raise VideoOpenError(
                    path, f"too many undecodable packets near {start:.2f} s ({describe(e)})"
                ) from e
            logger.debug("%s: skipping an undecodable packet (%s)", path, describe(e))
            continue
        for frame in frames:
            t = frame_time(frame, origin)
            if is_video:
                if not video.done:
                    video.push(frame, t, bar)
            elif not audio.done:
                audio.push(frame, t)
    if at_eof:  # delayed frames of the decoders (B-frames, threads); a later seek resets them
        for stream, consumer in ((vs, video), (aus, audio)):
            if stream is None or consumer is None or consumer.done:
                continue
            with contextlib.suppress(*AV_ERRORS):
                for frame in stream.decode(None):
                    if frame.time_base is None:
                        frame.time_base = stream.time_base
                    if consumer is video:
                        video.push(frame, frame_time(frame, origin), bar)
                    else:
                        audio.push(frame, frame_time(frame, origin))
    if video.first_time is not None and video.first_time > start + 0.5:
        logger.warning(
            "%s: seeking to %.2f s landed at %.2f s; the span starts late",
            path,
            start,
            video.first_time,
        )
    video.finish(path, end, bar)
    if audio is not None:
        audio.finish()


def cut_spans(
    video_path: str | Path,
    spans: Sequence[tuple[float, float]],
    out_path: str | Path,
    *,
    fade: float = 0.0,
    order: str = "time",
    crf: int = 20,
    preset: str = "veryfast",
    show_progress: bool = False,
) -> Path:
    """Cut ``spans`` (``(start, end)`` seconds) of a video into one mp4 (H.264 yuv420p + AAC).

    ``order="time"`` (default) plays them in film order, ``"given"`` as listed. Spans are not
    merged: overlapping ones repeat their overlap. A span reaching past either end of the
    video is clipped to it; one wholly outside it, or no span at all, is an
    :class:`~tvhighlights.errors.InvalidArgumentError`.

    The output keeps the source's frame rate and size (rounded down to even numbers, as
    yuv420p needs). Audio is stereo (mono stays mono) at the source's rate (48 kHz when AAC
    cannot use it); a video without audio gives an output without audio. ``fade`` seconds of
    fade from and to black (audio ramped alike) at each span's ends; 0 for hard cuts. Written
    through :class:`~.writer.Mp4Writer`: nothing appears at ``out_path`` until it is complete.
    """
    src = Path(video_path)
    out = Path(out_path)
    fade = float(fade)
    if not math.isfinite(fade) or fade < 0:
        raise InvalidArgumentError(f"fade must be a finite number >= 0, got {fade!r}")
    info = probe(src)
    cuts = _normalise_spans(spans, info.duration, order)
    with open_input(src) as container:
        try:
            vs = video_stream(container, src)
            vs.thread_type = "AUTO"
            aus = audio_stream(container)
            rate = _output_rate(vs, info.fps)
            width, height = info.width - info.width % 2, info.height - info.height % 2
            if width < 2 or height < 2:
                raise VideoOpenError(
                    src, f"frame size {info.width}x{info.height} is too small for H.264"
                )
            audio_rate, layout = None, "mono"
            if aus is not None:
                channels = aus.codec_context.channels or 2
                audio_rate = int(aus.codec_context.sample_rate)
                audio_rate = audio_rate if audio_rate in AAC_RATES else 48000
                layout = "mono" if channels == 1 else "stereo"
            counts = [max(1, round((e - s) * rate)) for s, e in cuts]
            with (
                Mp4Writer(
                    out, width, height, rate, crf=crf, preset=preset, audio_rate=audio_rate,
                    audio_layout=layout, faststart=True,
                ) as writer,
                tqdm(
                    total=sum(counts), unit="frame", desc=f"cut {out.name}",
                    disable=not show_progress,
                ) as bar,
            ):  # fmt: skip
                for (s, e), count in zip(cuts, counts, strict=True):
                    video = _VideoSpan(writer, s, count, fade, 1.0 / info.fps)
                    audio = None
                    if writer.astream is not None:
                        # samples up to the end of this span's frames, from the running
                        # totals, so rounding never drifts audio away from video
                        done = writer.frames / rate * writer.audio_rate
                        n_audio = round(done + count / rate * writer.audio_rate) - round(done)
                        audio = _AudioSpan(writer, s, n_audio, fade)
                    _cut_span(container, src, vs, aus, info.start_time, video, audio, s, e, bar)
        except VideoOpenError:
            raise
        except AV_ERRORS as e:
            raise VideoOpenError(src, f"cutting {out.name} failed ({describe(e)})") from e
    logger.info("wrote %s: %d spans, %.2f s", out, len(cuts), sum(counts) / float(rate))
    return out
