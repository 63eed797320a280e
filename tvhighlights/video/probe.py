"""Probe a file: streams, codecs and duration, without decoding, to plan the clip grid."""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import av
import av.container

from ..clips import num_clips
from ..errors import VideoOpenError
from ._container import (
    AV_ERRORS,
    audio_stream,
    check_not_truncated,
    describe,
    open_input,
    time_origin,
    video_stream,
)

logger = logging.getLogger(__name__)

_AVFMT_NOTIMESTAMPS = 0x0080
"""Raw elementary streams (``.m1v``, ``.h264``): header durations are bitrate guesses."""


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
                except AV_ERRORS as e:  # a stream may start with undecodable packets
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
    except AV_ERRORS as e:
        if not decoded:
            raise VideoOpenError(path, f"cannot read its video packets ({describe(e)})") from e
        if scan and end is None:
            raise VideoOpenError(path, f"cannot read its video packets ({describe(e)})") from e
        logger.warning("%s: packet scan stopped at %s s: %s", path, end, describe(e))
    if not decoded:
        why = f" ({describe(error)})" if error is not None else ""
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
    with open_input(p) as container:
        try:
            vs = video_stream(container, p)
            aus = audio_stream(container)
            check_not_truncated(container, [s for s in (vs, aus) if s is not None], p)
            origin = time_origin(container, vs)
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
        except AV_ERRORS as e:
            raise VideoOpenError(p, f"cannot read its stream information ({describe(e)})") from e
    logger.debug("probed %s: %s", p, info)
    return info
