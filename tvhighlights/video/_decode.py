"""The decoding machinery behind every reader: one demux, samplers for frames, collectors for
audio.

Private to :mod:`tvhighlights.video`. Sampling at ``fps`` uses the absolute grid ``k / fps``:
the frame returned for time ``t`` is the one on screen at ``t`` (the latest frame whose time
is <= ``t``). The grid does not depend on ``start``, so a seek returns exactly the frames a full
decode returns for the same times. Frame times come from timestamps, never from frame
counters, so variable frame rate files are sampled correctly.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from pathlib import Path

import av
import av.container
import numpy as np
from av.video.reformatter import Interpolation, VideoReformatter

from ..errors import InvalidArgumentError, VideoOpenError
from ._container import AV_ERRORS, EPS, Size, describe, frame_time, tolerance
from .probe import VideoInfo

logger = logging.getLogger(__name__)


class SeekedTooFar(Exception):
    """A seek landed after the first wanted time; the caller retries from earlier."""


class FrameSampler:
    """Turns decoded frames into ``(t, array)`` for every target ``k / fps`` in [start, stop).

    Only frames that are emitted get converted, all through one reused scaler.
    """

    def __init__(
        self,
        fps: float,
        start: float,
        stop: float,
        out_size: Size,
        grey: bool,
        origin: float,
        native_fps: float,
    ) -> None:
        self.fps = float(fps)
        self.k = max(0, math.ceil(start * self.fps - 1e-9))
        self.k_end = max(self.k, math.ceil(stop * self.fps - 1e-9))
        self.width, self.height = out_size
        self.format = "gray" if grey else "rgb24"
        self.origin = origin
        self.frame_step = 1.0 / native_fps if native_fps > 0 else 1.0 / 25
        self.reformatter = VideoReformatter()
        self.strict = False  # after a seek: the first frame must not start after the first target
        self.prev: av.VideoFrame | None = None
        self.prev_t: float | None = None
        self.last_end: float | None = None  # time covered by the frames decoded so far
        self.ready: list[tuple[float, np.ndarray]] = []
        self._cached: tuple[av.VideoFrame, np.ndarray] | None = None

    @property
    def done(self) -> bool:
        return self.k >= self.k_end

    @property
    def next_time(self) -> float:
        """Time of the next target not yet emitted (inf when done)."""
        return self.k / self.fps if not self.done else math.inf

    def _array(self, frame: av.VideoFrame) -> np.ndarray:
        if self._cached is not None and self._cached[0] is frame:
            return self._cached[1].copy()
        out = self.reformatter.reformat(
            frame, self.width, self.height, self.format, interpolation=Interpolation.AREA
        )
        arr = out.to_ndarray()
        self._cached = (frame, arr)
        return arr

    def push(self, frame: av.VideoFrame) -> None:
        t = frame_time(frame, self.origin)
        if t is None:  # no timestamp: assume the nominal frame rate
            t = 0.0 if self.prev_t is None else self.prev_t + self.frame_step
        if self.prev is None and self.strict and t > self.k / self.fps + EPS and not self.done:
            raise SeekedTooFar
        while not self.done and self.k / self.fps < t - EPS:
            # the target lies before this frame: the previous frame is on screen then
            shown = self.prev if self.prev is not None else frame
            self.ready.append((self.k / self.fps, self._array(shown)))
            self.k += 1
        self.prev, self.prev_t = frame, t
        step = (
            float(frame.duration * frame.time_base)
            if frame.duration and frame.time_base
            else self.frame_step
        )
        self.last_end = t + step if self.last_end is None else max(self.last_end, t + step)

    def finish(self) -> None:
        """Emit the targets after the last frame (it stays on screen until the end)."""
        while not self.done and self.prev is not None:
            self.ready.append((self.k / self.fps, self._array(self.prev)))
            self.k += 1

    def drain(self) -> list[tuple[float, np.ndarray]]:
        out, self.ready = self.ready, []
        return out


class AudioCollector:
    """Resamples audio frames to mono float32 so that sample 0 is time ``start``."""

    def __init__(self, rate: int, start: float, stop: float | None, origin: float) -> None:
        self.rate = int(rate)
        self.start = float(start)
        self.origin = origin
        self.need = None if stop is None else max(0, round((stop - start) * self.rate))
        self.resampler = av.AudioResampler(format="flt", layout="mono", rate=self.rate)
        self.strict = False
        self.started = False
        self.skip = 0
        self.chunks: list[np.ndarray] = []
        self.base = 0  # index of the first sample still held in ``chunks``
        self.total = 0  # samples collected so far (index of the next one)
        self.flushed = False

    @property
    def done(self) -> bool:
        return self.need is not None and self.total >= self.need

    @property
    def covered(self) -> float:
        """Time up to which audio has been collected."""
        return self.start + self.total / self.rate

    def _append(self, arr: np.ndarray) -> None:
        if self.skip:
            drop = min(self.skip, len(arr))
            arr = arr[drop:]
            self.skip -= drop
        if len(arr):
            self.chunks.append(arr)
            self.total += len(arr)

    def _take_resampled(self, frames: list[av.AudioFrame]) -> None:
        for out in frames:
            self._append(out.to_ndarray().reshape(-1).astype(np.float32, copy=False))

    def push(self, frame: av.AudioFrame) -> None:
        if not self.started:
            t0 = frame_time(frame, self.origin)
            lead = 0 if t0 is None else round((t0 - self.start) * self.rate)
            if self.strict and lead > 1:
                raise SeekedTooFar
            if lead > 0:
                self._append(np.zeros(lead, dtype=np.float32))
            else:
                self.skip = -lead
            self.started = True
        self._take_resampled(self.resampler.resample(frame))

    def flush(self) -> None:
        if self.started and not self.flushed:
            self._take_resampled(self.resampler.resample(None))
        self.flushed = True

    def take(self, a: int, b: int, *, pad: bool) -> np.ndarray:
        """Samples ``[a, b)``; zero-padded past the end of the audio when ``pad``."""
        data = (
            np.concatenate(self.chunks)
            if len(self.chunks) > 1
            else (self.chunks[0] if self.chunks else np.zeros(0, dtype=np.float32))
        )
        self.chunks = [data] if len(data) else []
        lo, hi = max(a - self.base, 0), max(b - self.base, 0)
        out = data[lo:hi]
        if pad and len(out) < b - a:
            out = np.concatenate([out, np.zeros(b - a - len(out), dtype=np.float32)])
        return out

    def discard_before(self, a: int) -> None:
        """Free the samples before index ``a`` (already handed out)."""
        if not self.chunks or a <= self.base:
            return
        data = np.concatenate(self.chunks) if len(self.chunks) > 1 else self.chunks[0]
        cut = min(a - self.base, len(data))
        data = data[cut:].copy()
        self.base += cut
        self.chunks = [data] if len(data) else []

    def result(self) -> np.ndarray:
        out = self.take(self.base, self.total, pad=False)
        if self.need is not None:
            out = out[: self.need]
        return np.ascontiguousarray(out, dtype=np.float32)


class SamplerGroup:
    """Several :class:`FrameSampler` fed by the same decoded frames (one decode, many views).

    It has the sampler interface :func:`pump` uses; every member sees every frame, so their
    ``prev`` / ``last_end`` agree and the first member speaks for all.
    """

    def __init__(self, samplers: Sequence[FrameSampler]) -> None:
        self.samplers = list(samplers)
        self.first = self.samplers[0]

    @property
    def done(self) -> bool:
        return all(s.done for s in self.samplers)

    @property
    def next_time(self) -> float:
        return min(s.next_time for s in self.samplers)

    @property
    def prev(self) -> av.VideoFrame | None:
        return self.first.prev

    @property
    def last_end(self) -> float | None:
        return self.first.last_end

    @property
    def frame_step(self) -> float:
        return self.first.frame_step

    def push(self, frame: av.VideoFrame) -> None:
        for s in self.samplers:  # a finished sampler only updates its bookkeeping
            s.push(frame)

    def finish(self) -> None:
        for s in self.samplers:
            s.finish()


class CollectorGroup:
    """Several :class:`AudioCollector` (one per sample rate) fed by the same audio frames."""

    def __init__(self, collectors: Sequence[AudioCollector]) -> None:
        self.collectors = list(collectors)

    @property
    def done(self) -> bool:
        return all(c.done for c in self.collectors)

    @property
    def started(self) -> bool:
        return self.collectors[0].started

    @property
    def covered(self) -> float:
        return min(c.covered for c in self.collectors)

    @property
    def flushed(self) -> bool:
        return all(c.flushed for c in self.collectors)

    def push(self, frame: av.AudioFrame) -> None:
        for c in self.collectors:
            c.push(frame)

    def flush(self) -> None:
        for c in self.collectors:
            c.flush()


_MAX_STARTUP_ERRORS = 50
"""Undecodable packets skipped before a stream's first frame (partial packets after a seek)."""


def pump(
    container: av.container.InputContainer,
    path: Path,
    info: VideoInfo,
    vs: av.VideoStream | None,
    aus: av.AudioStream | None,
    sampler: FrameSampler | SamplerGroup | None,
    collector: AudioCollector | CollectorGroup | None,
    stop: float,
) -> Iterator[None]:
    """Demux the file ONCE, decode the wanted streams, feed the sampler and the collector.

    Yields after each packet so callers can hand out results as they become ready; returns
    once both consumers have what they need or at the end of the file, after checking that
    the decoded media covers ``stop`` (else the file is truncated or corrupt).
    """
    tol = tolerance(info.duration)
    pairs = ((vs, sampler), (aus, collector))
    streams = [s for s, user in pairs if s is not None and user is not None]
    video_on = sampler is not None
    audio_on = collector is not None and aus is not None

    def failed(kind: str, e: BaseException, covered: float | None, where: str) -> None:
        at = f"{covered:.2f} s" if covered is not None else "the start"
        if covered is not None and covered >= stop - tol:
            logger.warning(
                "%s: %s decoding stopped at %s of %.2f s (%s); keeping what was decoded",
                path,
                kind,
                at,
                stop,
                describe(e),
            )
            return
        raise VideoOpenError(
            path, f"{kind} {where} failed at {at} of {info.duration:.2f} s ({describe(e)})"
        ) from e

    packets = container.demux(*streams)
    startup_errors = 0
    while (video_on and not sampler.done) or (audio_on and not collector.done):
        try:
            packet = next(packets)
        except StopIteration:
            break
        except AV_ERRORS as e:
            if video_on:
                failed("video", e, sampler.last_end, "demuxing")
            if audio_on:
                failed("audio", e, collector.covered if collector.started else None, "demuxing")
            video_on = audio_on = False
            break
        if packet.size == 0:  # end-of-stream markers; Ogg "repeat frame" packets
            continue
        is_video = vs is not None and packet.stream.index == vs.index
        if is_video and not (video_on and not sampler.done):
            continue
        if not is_video and not (audio_on and not collector.done):
            continue
        try:
            frames = packet.decode()
        except AV_ERRORS as e:
            started = sampler.prev is not None if is_video else collector.started
            if not started and startup_errors < _MAX_STARTUP_ERRORS:
                # after a seek (or at a damaged start) the first packets may be partial
                startup_errors += 1
                logger.debug("%s: skipping an undecodable packet (%s)", path, describe(e))
                continue
            if is_video:
                failed("video", e, sampler.last_end, "decoding")
                video_on = False
            else:
                failed("audio", e, collector.covered if collector.started else None, "decoding")
                audio_on = False
            continue
        try:
            for frame in frames:
                if is_video:
                    sampler.push(frame)
                else:
                    collector.push(frame)
        except AV_ERRORS as e:  # e.g. a mid-stream audio format change the resampler rejects
            kind = "video" if is_video else "audio"
            covered = sampler.last_end if is_video else collector.covered
            failed(kind, e, covered, "conversion")
            if is_video:
                video_on = False
            else:
                audio_on = False
        yield

    # flush the decoders' delayed frames (B-frames, threads) and the resampler
    # (frames flushed this way carry no time base: give them their stream's)
    if video_on and not sampler.done:
        try:
            for frame in vs.decode(None):
                if frame.time_base is None:
                    frame.time_base = vs.time_base
                sampler.push(frame)
        except AV_ERRORS as e:
            failed("video", e, sampler.last_end, "decoding")
    if audio_on and not collector.done:
        try:
            for frame in aus.decode(None):
                if frame.time_base is None:
                    frame.time_base = aus.time_base
                collector.push(frame)
        except AV_ERRORS as e:
            failed("audio", e, collector.covered if collector.started else None, "decoding")
    if collector is not None:
        collector.flush()

    if sampler is not None and not sampler.done:
        if sampler.last_end is None:
            raise VideoOpenError(path, "no video frame could be decoded")
        if sampler.last_end < stop - tol:
            raise VideoOpenError(
                path,
                f"video frames end at {sampler.last_end:.2f} s but the file should last "
                f"{info.duration:.2f} s: the file is truncated or corrupt",
            )
        if sampler.last_end < sampler.next_time - 2 * sampler.frame_step:
            logger.debug(
                "%s: last frame ends at %.2f s; holding it until %.2f s",
                path,
                sampler.last_end,
                stop,
            )
        sampler.finish()
    yield


def output_size(info: VideoInfo, size: Size | None) -> Size:
    if size is None:
        return info.width, info.height
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(f"size must be (width, height), got {size!r}") from e
    if w <= 0 or h <= 0:
        raise InvalidArgumentError(f"size must be positive (width, height), got {size!r}")
    return w, h


def check_rate(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise InvalidArgumentError(f"{name} must be a positive number, got {value!r}")
    return v


AUDIO_PREROLL = 0.5
"""Seconds decoded (and dropped) before ``start`` when reading audio from the middle."""


def seek_plan(start: float) -> list[float]:
    """Seek positions to try: ``start``, a bit earlier, then the beginning (no seek)."""
    plan = [start] if start > 0 else []
    if start > 30:
        plan.append(start - 30)
    return [*plan, 0.0]
