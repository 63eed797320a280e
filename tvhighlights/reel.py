"""A highlight reel: the spans of a video cut together into one mp4 (H.264 + AAC), with PyAV.

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
import os
import secrets
from collections.abc import Iterable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from tqdm import tqdm

from .errors import VideoOpenError
from .video import (
    _AV_ERRORS,
    _audio_stream,
    _describe,
    _frame_time,
    _open,
    _seek,
    _video_stream,
    probe,
)

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_FADE", "write_reel"]

DEFAULT_FADE = 0.2
"""Seconds of fade (video from/to black, audio ramp) at each end of each span: a reel of
short cuts without fades flickers and clicks."""

_PREROLL = 0.5
"""Seconds before a span's start to seek to, so audio decoders are warm at the start."""

_AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000)
_MAX_BAD_PACKETS = 50


def _normalise_spans(
    spans: Iterable[Any], duration: float, order: str
) -> list[tuple[float, float]]:
    out = []
    for sp in spans:
        if hasattr(sp, "start") and hasattr(sp, "end"):
            start, end = float(sp.start), float(sp.end)
        else:
            try:
                start, end = (float(x) for x in sp)
            except (TypeError, ValueError) as e:
                raise ValueError(f"a span must be (start, end) seconds, got {sp!r}") from e
        if not (math.isfinite(start) and math.isfinite(end)) or end <= start:
            raise ValueError(f"span [{start}, {end}) is not a finite interval with end > start")
        clipped = (max(0.0, start), min(end, duration))
        if clipped[1] - clipped[0] <= 1e-6:
            raise ValueError(
                f"span [{start:.2f}, {end:.2f}) s lies outside the video (0 to {duration:.2f} s)"
            )
        if clipped != (start, end):
            logger.info(
                "span [%.2f, %.2f) s clipped to the video: [%.2f, %.2f) s", start, end, *clipped
            )
        out.append(clipped)
    if not out:
        raise ValueError("no spans to cut a reel from")
    if order == "time":
        out.sort()
    elif order != "given":
        raise ValueError(f"order must be 'time' or 'given', got {order!r}")
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


class _Writer:
    """The output container, its encoders, and the counters that make its timestamps."""

    def __init__(
        self,
        path: Path,
        width: int,
        height: int,
        rate: Fraction,
        audio: tuple[int, str] | None,
        crf: int,
        preset: str,
    ) -> None:
        self.container = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
        self.width, self.height, self.rate = width, height, rate
        self.vstream = self.container.add_stream("libx264", rate=rate)
        self.vstream.width, self.vstream.height = width, height
        self.vstream.pix_fmt = "yuv420p"
        self.vstream.options = {"crf": str(int(crf)), "preset": preset}
        self.vtb = Fraction(1) / rate
        self.frames = 0
        self.astream = None
        self.samples = 0
        if audio is not None:
            self.arate, self.layout = audio
            self.astream = self.container.add_stream("aac", rate=self.arate)
            self.astream.layout = self.layout
            self.astream.format = "fltp"
            self.fifo = av.AudioFifo()
            self.atb = Fraction(1, self.arate)

    def video(self, frame: av.VideoFrame, alpha: float) -> None:
        f = frame.reformat(width=self.width, height=self.height, format="yuv420p")
        if alpha < 1.0:  # fade to black in YUV: luma scaled, chroma pulled to neutral
            arr = f.to_ndarray().astype(np.float32)
            arr[: self.height] *= alpha
            arr[self.height :] = 128.0 + (arr[self.height :] - 128.0) * alpha
            f = av.VideoFrame.from_ndarray(arr.round().astype(np.uint8), format="yuv420p")
        f.pts = self.frames
        f.time_base = self.vtb
        f.pict_type = av.video.frame.PictureType.NONE  # let x264 choose, not the source's types
        self.frames += 1
        for packet in self.vstream.encode(f):
            self.container.mux(packet)

    def audio(self, chunk: np.ndarray) -> None:
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(chunk, dtype=np.float32), format="fltp", layout=self.layout
        )
        frame.sample_rate = self.arate
        self.fifo.write(frame)
        self._drain(final=False)

    def _drain(self, final: bool) -> None:
        size = self.astream.codec_context.frame_size or 1024
        while self.fifo.samples >= size or (final and self.fifo.samples > 0):
            f = self.fifo.read(min(size, self.fifo.samples))
            f.pts = self.samples
            f.time_base = self.atb
            self.samples += f.samples
            for packet in self.astream.encode(f):
                self.container.mux(packet)

    def close(self) -> None:
        if self.astream is not None:
            self._drain(final=True)
        for s in (self.vstream, self.astream):
            if s is not None:
                for packet in s.encode(None):
                    self.container.mux(packet)
        self.container.close()


class _VideoSpan:
    """Frames on screen at ``start + k / rate`` for ``k < count``, faded at both ends."""

    def __init__(self, writer: _Writer, start: float, count: int, fade: float, step: float):
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
        rate = float(self.w.rate)
        t_in, t_out = k / rate, (self.count - 1 - k) / rate
        return float(min(1.0, t_in / self.fade, t_out / self.fade))

    def _emit(self, frame: av.VideoFrame) -> None:
        self.w.video(frame, self._alpha(self.k))
        self.k += 1

    def push(self, frame: av.VideoFrame, t: float | None, bar: tqdm) -> None:
        if t is None:  # no timestamp: assume it follows the previous frame
            t = self.start if self.first_time is None else self.start + self.k / self.w.rate
        if self.first_time is None:
            self.first_time = t
        while not self.done and self.start + self.k / float(self.w.rate) < t - self.slack:
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

    def __init__(self, writer: _Writer, start: float, count: int, fade: float) -> None:
        self.w, self.start, self.count = writer, start, count
        self.ramp = max(1, round(min(fade, 0.5 * count / writer.arate) * writer.arate))
        self.resampler = av.AudioResampler(format="fltp", layout=writer.layout, rate=writer.arate)
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
        self.w.audio(chunk)
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
            self.pos = round(((self.start if t is None else t) - self.start) * self.w.arate)
        for out in self.resampler.resample(frame):
            self._take(out.to_ndarray())
            if self.done:
                return

    def finish(self) -> None:
        if self.pos is not None and not self.done:
            with contextlib.suppress(*_AV_ERRORS):
                for out in self.resampler.resample(None):
                    self._take(out.to_ndarray())
        if not self.done:
            channels = 1 if self.w.layout == "mono" else 2
            self._emit(np.zeros((channels, self.count - self.emitted), np.float32))


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
    _seek(container, vs, max(0.0, start - _PREROLL), origin)
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
        except _AV_ERRORS as e:
            bad += 1
            if bad > _MAX_BAD_PACKETS:
                raise VideoOpenError(
                    path, f"too many undecodable packets near {start:.2f} s ({_describe(e)})"
                ) from e
            logger.debug("%s: skipping an undecodable packet (%s)", path, _describe(e))
            continue
        for frame in frames:
            t = _frame_time(frame, origin)
            if is_video:
                if not video.done:
                    video.push(frame, t, bar)
            elif not audio.done:
                audio.push(frame, t)
    if at_eof:  # delayed frames of the decoders (B-frames, threads); a later seek resets them
        for stream, consumer in ((vs, video), (aus, audio)):
            if stream is None or consumer is None or consumer.done:
                continue
            with contextlib.suppress(*_AV_ERRORS):
                for frame in stream.decode(None):
                    if frame.time_base is None:
                        frame.time_base = stream.time_base
                    if consumer is video:
                        video.push(frame, _frame_time(frame, origin), bar)
                    else:
                        audio.push(frame, _frame_time(frame, origin))
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


def write_reel(
    video_path: str | Path,
    spans: Sequence[Any],
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
    (:func:`~tvhighlights.inference.highlight_spans` lists the best first). Spans are not
    merged: overlapping ones repeat their overlap. A span reaching past either end of the
    video is clipped to it; one wholly outside it, or no span at all, is a ``ValueError``.

    The reel keeps the source's frame rate and size (rounded down to even numbers, as yuv420p
    needs). Audio is stereo (mono stays mono) at the source's rate (48 kHz when AAC cannot use
    it); a video without audio gives a reel without audio. ``fade`` seconds of fade from and to
    black (audio ramped alike) at each span's ends; 0 for hard cuts. The reel is written to a
    temporary file next to ``out_path`` and renamed over it when complete.
    """
    src = Path(video_path)
    out = Path(out_path)
    fade = float(fade)
    if not math.isfinite(fade) or fade < 0:
        raise ValueError(f"fade must be a finite number >= 0, got {fade!r}")
    info = probe(src)
    cuts = _normalise_spans(spans, info.duration, order)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    writer: _Writer | None = None
    try:
        with _open(src) as container:
            try:
                vs = _video_stream(container, src)
                vs.thread_type = "AUTO"
                aus = _audio_stream(container)
                rate = _output_rate(vs, info.fps)
                width, height = info.width - info.width % 2, info.height - info.height % 2
                if width < 2 or height < 2:
                    raise VideoOpenError(
                        src, f"frame size {info.width}x{info.height} is too small for H.264"
                    )
                audio_spec = None
                if aus is not None:
                    channels = aus.codec_context.channels or 2
                    arate = int(aus.codec_context.sample_rate)
                    arate = arate if arate in _AAC_RATES else 48000
                    audio_spec = (arate, "mono" if channels == 1 else "stereo")
                writer = _Writer(tmp, width, height, rate, audio_spec, crf, preset)
                counts = [max(1, round((e - s) * rate)) for s, e in cuts]
                with tqdm(
                    total=sum(counts),
                    unit="frame",
                    desc=f"reel {out.name}",
                    disable=not show_progress,
                ) as bar:
                    for (s, e), count in zip(cuts, counts, strict=True):
                        video = _VideoSpan(writer, s, count, fade, 1.0 / info.fps)
                        audio = None
                        if writer.astream is not None:
                            # samples up to the end of this span's frames, from the running
                            # totals, so rounding never drifts audio away from video
                            done = writer.frames / rate * writer.arate
                            n_audio = round(done + count / rate * writer.arate) - round(done)
                            audio = _AudioSpan(writer, s, n_audio, fade)
                        _cut_span(container, src, vs, aus, info.start_time, video, audio, s, e, bar)
            except VideoOpenError:
                raise
            except _AV_ERRORS as e:
                raise VideoOpenError(src, f"cutting the reel failed ({_describe(e)})") from e
        writer.close()
        writer = None
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    finally:
        if writer is not None:
            with contextlib.suppress(*_AV_ERRORS):
                writer.container.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    logger.info("wrote %s: %d spans, %.2f s", out, len(cuts), sum(counts) / float(rate))
    return out
