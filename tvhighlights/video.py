"""Video and audio I/O with PyAV: probe a file, sample frames, read audio, cut 2-second clips.

Time 0 is the start of the file as a player shows it: every timestamp is the stream's
``pts * time_base`` minus the container's start time (MPEG-PS files, for example, start at
about 0.5 s). Frame times come from timestamps, never from frame counters, so variable frame
rate files are sampled correctly.

Sampling at ``fps`` uses the absolute grid ``k / fps``: the frame returned for time ``t`` is
the one on screen at ``t`` (the latest frame whose time is <= ``t``). The grid does not depend
on ``start``, so a seek returns exactly the frames a full decode returns for the same times.

Every failure to open or decode a file raises :class:`~tvhighlights.errors.VideoOpenError`,
whose message names the file; raw PyAV exceptions never escape.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import av
import av.container
import numpy as np
from av.video.reformatter import Interpolation, VideoReformatter
from tqdm import tqdm

from tvhighlights.clips import CLIP_SECONDS, clip_bounds, num_clips
from tvhighlights.errors import VideoOpenError

logger = logging.getLogger(__name__)

__all__ = [
    "Clip",
    "FrameView",
    "VideoInfo",
    "iter_clips",
    "iter_frames",
    "probe",
    "read_audio",
    "read_frames",
]

_AVFMT_NOTIMESTAMPS = 0x0080
"""Raw elementary streams (``.m1v``, ``.h264``): header durations are bitrate guesses."""

_EPS = 1e-6
"""Float slack when comparing a frame time with a target time."""

_AV_ERRORS: tuple[type[BaseException], ...] = (
    av.error.FFmpegError,
    OSError,
    ValueError,
    EOFError,
    RuntimeError,
    UnicodeError,
)
"""What PyAV raises on bad input (InvalidDataError is both FFmpegError and ValueError)."""

Size = tuple[int, int]


def _describe(error: BaseException) -> str:
    """One-line human text of an exception, without PyAV's errno noise."""
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return str(text).strip()


def _tolerance(duration: float) -> float:
    """How far decoded media may fall short of the declared duration and still count as whole.

    Headers and streams disagree by a fraction of a second in healthy files (ASF, MPEG-PS),
    and an audio track may outlast the video; a truncated file misses much more.
    """
    return max(CLIP_SECONDS, 0.01 * duration)


# --------------------------------------------------------------------------------------------
# Opening and probing


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` learns about a file without decoding it."""

    path: str
    container: str
    """FFmpeg demuxer name, e.g. ``"mov,mp4,m4a,3gp,3g2,mj2"`` or ``"matroska,webm"``."""
    duration: float
    """Seconds, from time 0 (the file's start) to the end of the video stream."""
    num_clips: int
    """Number of clips of the 2-second grid (:func:`tvhighlights.clips.num_clips`)."""
    fps: float
    """Average frame rate."""
    width: int
    height: int
    video_codec: str
    num_frames: int | None
    """Frame count when the container records it (or when packets were counted)."""
    has_audio: bool
    audio_codec: str | None
    audio_channels: int | None
    audio_rate: int | None
    start_time: float = 0.0
    """Container start time in seconds, subtracted from every timestamp."""
    duration_source: str = "video_stream"
    """Where ``duration`` came from: ``video_stream``, ``container`` or ``packets``."""

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready) for reports and the CLI."""
        return asdict(self)


def _open(path: str | Path) -> av.container.InputContainer:
    """Open ``path`` for reading, turning every failure into a :class:`VideoOpenError`."""
    p = Path(path)
    if not p.exists():
        raise VideoOpenError(p, "no such file")
    if p.is_dir():
        raise VideoOpenError(p, "is a directory, not a video file")
    try:
        size = p.stat().st_size
    except OSError as e:
        raise VideoOpenError(p, f"cannot read file ({_describe(e)})") from e
    if size == 0:
        raise VideoOpenError(p, "file is empty (0 bytes)")
    try:
        return av.open(str(p), mode="r", metadata_errors="replace")
    except _AV_ERRORS as e:
        raise VideoOpenError(
            p, f"not a readable media file: FFmpeg could not open it ({_describe(e)})"
        ) from e


def _video_stream(container: av.container.InputContainer, path: str | Path) -> av.VideoStream:
    """The first real video stream (cover art in audio files does not count)."""
    candidates = [
        s
        for s in container.streams.video
        if not (int(s.disposition) & int(av.stream.Disposition.attached_pic))
    ]
    if not candidates:
        kinds = sorted({s.type for s in container.streams})
        found = ", ".join(f"{sum(s.type == k for s in container.streams)} {k}" for k in kinds)
        raise VideoOpenError(path, f"no video stream (found: {found or 'no streams'})")
    stream = candidates[0]
    if stream.codec_context is None:
        raise VideoOpenError(path, "no decoder for its video codec")
    return stream


def _audio_stream(container: av.container.InputContainer) -> av.AudioStream | None:
    """The first audio stream that has a decoder, or ``None``."""
    for s in container.streams.audio:
        if s.codec_context is not None and s.codec_context.sample_rate:
            return s
    return None


def _origin(container: av.container.InputContainer, vs: av.VideoStream) -> float:
    """Timestamp (seconds) that becomes time 0."""
    if container.start_time is not None:
        return container.start_time / 1_000_000
    if vs.start_time is not None and vs.time_base:
        return float(vs.start_time * vs.time_base)
    return 0.0


def _check_not_truncated(
    container: av.container.InputContainer, streams: list[Any], path: Path
) -> None:
    """Fail fast when the file's own index (e.g. an MP4 ``moov`` atom) points past its end."""
    try:
        size = path.stat().st_size
    except OSError:
        return
    for s in streams:
        entries = s.index_entries
        n = len(entries)
        if not n:
            continue
        last = entries[n - 1]
        if last.pos > 0 and last.pos + last.size > size:
            raise VideoOpenError(
                path,
                f"file is truncated: its index refers to byte {last.pos + last.size:,} "
                f"but the file has {size:,} bytes",
            )


_CHECK_MAX_PACKETS = 600
"""Packets :func:`probe` demuxes looking for a first decodable frame before giving up."""


def _demux_check(
    container: av.container.InputContainer,
    vs: av.VideoStream,
    origin: float,
    path: Path,
    *,
    scan: bool,
) -> tuple[float | None, int]:
    """Decode the first video frame (a file whose frames cannot be decoded fails here, not later
    mid-pipeline); with ``scan``, also demux the rest without decoding and return the end time
    of the last packet and the packet count, for files whose headers carry no usable duration
    (SWF, raw MPEG video).
    """
    end: float | None = None
    count = 0
    decoded = False
    error: BaseException | None = None
    try:
        for packet in container.demux(vs):
            if packet.size == 0:
                continue
            count += 1
            if not decoded:
                try:
                    decoded = bool(packet.decode())
                except _AV_ERRORS as e:  # a stream may start with undecodable packets
                    error = e
                if not decoded and count >= _CHECK_MAX_PACKETS:
                    break
            if not scan:
                if decoded:
                    break
                continue
            ts = packet.pts if packet.pts is not None else packet.dts
            if ts is not None:
                t = float((ts + (packet.duration or 0)) * packet.time_base) - origin
                end = t if end is None else max(end, t)
        if not decoded and count < _CHECK_MAX_PACKETS:
            decoded = bool(vs.decode(None))
    except _AV_ERRORS as e:
        if not decoded:
            raise VideoOpenError(path, f"cannot read its video packets ({_describe(e)})") from e
        if scan and end is None:
            raise VideoOpenError(path, f"cannot read its video packets ({_describe(e)})") from e
        logger.warning("%s: packet scan stopped at %s s: %s", path, end, _describe(e))
    if not decoded:
        why = f" ({_describe(error)})" if error is not None else ""
        where = "it has no video packets" if count == 0 else f"tried {count} packets"
        raise VideoOpenError(path, f"no video frame could be decoded ({where}){why}")
    if scan and (end is None or end <= 0):
        raise VideoOpenError(path, "no timestamped video packets: cannot find its duration")
    return end, count


def _positive(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return v if math.isfinite(v) and v > 0 else None


def probe(path: str | Path) -> VideoInfo:
    """Read a file's streams and duration (no decoding), so callers can plan the clip grid.

    Duration: the video stream's own duration, else the container's, else (and for raw
    elementary streams, whose header durations are bitrate guesses) the end of the last video
    packet found by demuxing without decoding.
    """
    p = Path(path)
    with _open(p) as container:
        try:
            vs = _video_stream(container, p)
            aus = _audio_stream(container)
            _check_not_truncated(container, [s for s in (vs, aus) if s is not None], p)
            origin = _origin(container, vs)
            cc = vs.codec_context
            width, height = int(cc.width or 0), int(cc.height or 0)
            if width <= 0 or height <= 0:
                raise VideoOpenError(p, "its video stream has no frame size (corrupt header?)")

            raw = bool(container.format.flags & _AVFMT_NOTIMESTAMPS)
            duration: float | None = None
            source = "video_stream"
            counted: int | None = None
            if not raw and vs.duration and vs.time_base:
                vstart = vs.start_time * vs.time_base if vs.start_time is not None else origin
                duration = _positive(float(vstart + vs.duration * vs.time_base) - origin)
            if duration is None and not raw and container.duration:
                duration = _positive(container.duration / 1_000_000)
                source = "container"
            scanned_end, counted_packets = _demux_check(
                container, vs, origin, p, scan=duration is None
            )
            if duration is None:
                duration, counted = scanned_end, counted_packets
                source = "packets"

            frames = int(vs.frames) if vs.frames and vs.frames > 0 else counted
            if raw and counted:
                fps = counted / duration
            else:
                fps = (
                    _positive(vs.average_rate)
                    or _positive(vs.guessed_rate)
                    or _positive(vs.base_rate)
                    or (frames / duration if frames else 0.0)
                )
            info = VideoInfo(
                path=str(p),
                container=container.format.name,
                duration=float(duration),
                num_clips=num_clips(duration),
                fps=float(fps),
                width=width,
                height=height,
                video_codec=cc.codec.canonical_name if cc.codec else cc.name,
                num_frames=frames,
                has_audio=aus is not None,
                audio_codec=aus.codec_context.codec.canonical_name if aus is not None else None,
                audio_channels=int(aus.codec_context.channels) if aus is not None else None,
                audio_rate=int(aus.codec_context.sample_rate) if aus is not None else None,
                start_time=float(origin),
                duration_source=source,
            )
        except VideoOpenError:
            raise
        except _AV_ERRORS as e:
            raise VideoOpenError(p, f"cannot read its stream information ({_describe(e)})") from e
    logger.debug("probed %s: %s", p, info)
    return info


# --------------------------------------------------------------------------------------------
# Decoding machinery shared by the public readers


class _SeekedTooFar(Exception):
    """A seek landed after the first wanted time; the caller retries from earlier."""


def _frame_time(frame: av.VideoFrame | av.AudioFrame, origin: float) -> float | None:
    ts = frame.pts if frame.pts is not None else frame.dts
    if ts is None or frame.time_base is None:
        return None
    return float(ts * frame.time_base) - origin


class _FrameSampler:
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
        t = _frame_time(frame, self.origin)
        if t is None:  # no timestamp: assume the nominal frame rate
            t = 0.0 if self.prev_t is None else self.prev_t + self.frame_step
        if self.prev is None and self.strict and t > self.k / self.fps + _EPS and not self.done:
            raise _SeekedTooFar
        while not self.done and self.k / self.fps < t - _EPS:
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


class _AudioCollector:
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
            t0 = _frame_time(frame, self.origin)
            lead = 0 if t0 is None else round((t0 - self.start) * self.rate)
            if self.strict and lead > 1:
                raise _SeekedTooFar
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


class _SamplerGroup:
    """Several :class:`_FrameSampler` fed by the same decoded frames (one decode, many views).

    It has the sampler interface :func:`_pump` uses; every member sees every frame, so their
    ``prev`` / ``last_end`` agree and the first member speaks for all.
    """

    def __init__(self, samplers: Sequence[_FrameSampler]) -> None:
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


class _CollectorGroup:
    """Several :class:`_AudioCollector` (one per sample rate) fed by the same audio frames."""

    def __init__(self, collectors: Sequence[_AudioCollector]) -> None:
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


def _seek(container: av.container.InputContainer, stream: Any, t: float, origin: float) -> None:
    """Seek ``stream`` to the keyframe at or before time ``t`` (seconds from the file start)."""
    ts = math.floor((t + origin) / stream.time_base)
    container.seek(int(ts), stream=stream, backward=True, any_frame=False)


_MAX_STARTUP_ERRORS = 50
"""Undecodable packets skipped before a stream's first frame (partial packets after a seek)."""


def _pump(
    container: av.container.InputContainer,
    path: Path,
    info: VideoInfo,
    vs: av.VideoStream | None,
    aus: av.AudioStream | None,
    sampler: _FrameSampler | _SamplerGroup | None,
    collector: _AudioCollector | _CollectorGroup | None,
    stop: float,
) -> Iterator[None]:
    """Demux the file ONCE, decode the wanted streams, feed the sampler and the collector.

    Yields after each packet so callers can hand out results as they become ready; returns
    once both consumers have what they need or at the end of the file, after checking that
    the decoded media covers ``stop`` (else the file is truncated or corrupt).
    """
    tol = _tolerance(info.duration)
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
                _describe(e),
            )
            return
        raise VideoOpenError(
            path, f"{kind} {where} failed at {at} of {info.duration:.2f} s ({_describe(e)})"
        ) from e

    packets = container.demux(*streams)
    startup_errors = 0
    while (video_on and not sampler.done) or (audio_on and not collector.done):
        try:
            packet = next(packets)
        except StopIteration:
            break
        except _AV_ERRORS as e:
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
        except _AV_ERRORS as e:
            started = sampler.prev is not None if is_video else collector.started
            if not started and startup_errors < _MAX_STARTUP_ERRORS:
                # after a seek (or at a damaged start) the first packets may be partial
                startup_errors += 1
                logger.debug("%s: skipping an undecodable packet (%s)", path, _describe(e))
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
        except _AV_ERRORS as e:  # e.g. a mid-stream audio format change the resampler rejects
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
        except _AV_ERRORS as e:
            failed("video", e, sampler.last_end, "decoding")
    if audio_on and not collector.done:
        try:
            for frame in aus.decode(None):
                if frame.time_base is None:
                    frame.time_base = aus.time_base
                collector.push(frame)
        except _AV_ERRORS as e:
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


def _out_size(info: VideoInfo, size: Size | None) -> Size:
    if size is None:
        return info.width, info.height
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError) as e:
        raise ValueError(f"size must be (width, height), got {size!r}") from e
    if w <= 0 or h <= 0:
        raise ValueError(f"size must be positive (width, height), got {size!r}")
    return w, h


def _check_rate(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return v


_AUDIO_PREROLL = 0.5
"""Seconds decoded (and dropped) before ``start`` when reading audio from the middle."""


def _seek_plan(start: float) -> list[float]:
    """Seek positions to try: ``start``, a bit earlier, then the beginning (no seek)."""
    plan = [start] if start > 0 else []
    if start > 30:
        plan.append(start - 30)
    return [*plan, 0.0]


# --------------------------------------------------------------------------------------------
# Public readers


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
    fps = _check_rate("fps", fps)
    p = Path(path)
    info = probe(p)
    start = max(0.0, float(start))
    stop = info.duration if end is None else min(float(end), info.duration)
    out_size = _out_size(info, size)
    total = max(0, math.ceil(stop * fps - 1e-9) - math.ceil(start * fps - 1e-9))
    if total <= 0:
        return

    with tqdm(total=total, disable=not show_progress, unit="frame", desc=f"frames {p.name}") as bar:
        for position in _seek_plan(start):
            sampler = _FrameSampler(fps, start, stop, out_size, grey, info.start_time, info.fps)
            with _open(p) as container:
                try:
                    vs = _video_stream(container, p)
                    vs.thread_type = "AUTO"
                    if position > 0:
                        _seek(container, vs, position, info.start_time)
                        sampler.strict = True
                except VideoOpenError:
                    raise
                except _AV_ERRORS as e:
                    logger.debug("%s: seek to %.2f s failed (%s)", p, position, _describe(e))
                    continue
                try:
                    for _ in _pump(container, p, info, vs, None, sampler, None, stop):
                        ready = sampler.drain()
                        bar.update(len(ready))
                        yield from ready
                except _SeekedTooFar:
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
    w, h = _out_size(info, size)
    shape = (0, h, w) if grey else (0, h, w, 3)
    return np.zeros(0, dtype=np.float64), np.zeros(shape, dtype=np.uint8)


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
    rate = int(_check_rate("rate", rate))
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
        for position in _seek_plan(start):
            collector = _AudioCollector(rate, start, stop, info.start_time)
            with _open(p) as container:
                aus = _audio_stream(container)
                if aus is None:
                    return np.zeros(0, dtype=np.float32)
                try:
                    if position > 0:
                        # decode a little earlier: audio decoders need a few frames of warm-up
                        # (MP3's bit reservoir, AAC/Opus overlap) to match a full decode
                        _seek(container, aus, max(0.0, position - _AUDIO_PREROLL), info.start_time)
                        collector.strict = True
                except _AV_ERRORS as e:
                    logger.debug("%s: seek to %.2f s failed (%s)", p, position, _describe(e))
                    continue
                pump_stop = info.duration if stop is None else min(stop, info.duration)
                try:
                    for _ in _pump(container, p, info, None, aus, None, collector, pump_stop):
                        now = min(round(max(collector.covered - start, 0.0), 1), bar.total)
                        if now > bar.n:
                            bar.update(now - bar.n)
                except _SeekedTooFar:
                    logger.debug("%s: seek to %.2f s overshot; seeking earlier", p, position)
                    continue
                return collector.result()
    return np.zeros(0, dtype=np.float32)  # pragma: no cover - the last plan step never seeks


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
        raise ValueError("views must name at least one FrameView")
    rates = list(audio_rates) if audio_rates is not None else [audio_rate]
    rates = [int(_check_rate("audio_rate", r)) for r in rates if r is not None]
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
    samplers: list[_FrameSampler] = []
    shapes: list[tuple[int, ...]] = []
    for name in names:
        view = views[name]
        vfps = _check_rate(f"fps of view {name!r}", view.fps)
        out_size = _out_size(info, view.size)
        samplers.append(
            _FrameSampler(vfps, 0.0, stop, out_size, view.grey, info.start_time, info.fps)
        )
        shapes.append((out_size[1], out_size[0]) if view.grey else (out_size[1], out_size[0], 3))
    group = _SamplerGroup(samplers)
    pending: list[list[tuple[float, np.ndarray]]] = [[] for _ in names]
    i = 0

    def take_frames(k: int, e: float, last: bool) -> tuple[np.ndarray, np.ndarray]:
        inside = [(t, f) for t, f in pending[k] if t < e - _EPS or last]
        pending[k] = pending[k][len(inside) :]
        times = np.asarray([t for t, _ in inside], dtype=np.float64)
        frames = (
            np.stack([f for _, f in inside])
            if inside
            else np.zeros((0, *shapes[k]), dtype=np.uint8)
        )
        return times, frames

    def make_clip(index: int, collectors: _CollectorGroup | None) -> Clip:
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

    def ready(e: float, collectors: _CollectorGroup | None) -> bool:
        video_ready = all(sm.done or sm.next_time >= e - _EPS for sm in samplers)
        audio_ready = collectors is None or all(
            c.flushed or c.total >= round(e * c.rate) for c in collectors.collectors
        )
        return video_ready and audio_ready

    def drain() -> None:
        for k, sm in enumerate(samplers):
            pending[k].extend(sm.drain())

    with (
        _open(p) as container,
        tqdm(total=n, disable=not show_progress, unit="clip", desc=f"clips {p.name}") as bar,
    ):
        vs = _video_stream(container, p)
        vs.thread_type = "AUTO"
        aus = _audio_stream(container) if want_audio else None
        collectors = (
            _CollectorGroup(
                [_AudioCollector(r, 0.0, stop, info.start_time) for r in dict.fromkeys(rates)]
            )
            if aus is not None
            else None
        )
        for _ in _pump(container, p, info, vs, aus, group, collectors, stop):
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
