"""Opening containers, choosing streams, seeking and timestamps: PyAV behind one wall.

Private to :mod:`tvhighlights.video`: every reader and writer of the package opens files here,
so every failure becomes a :class:`~tvhighlights.errors.VideoOpenError` naming the file and
raw PyAV exceptions never escape the package.

Time 0 is the start of the file as a player shows it: every timestamp is the stream's
``pts * time_base`` minus the container's start time (MPEG-PS files, for example, start at
about 0.5 s).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import av
import av.container

from ..clips import CLIP_SECONDS
from ..errors import VideoOpenError

EPS = 1e-6
"""Float slack when comparing a frame time with a target time."""

AV_ERRORS: tuple[type[BaseException], ...] = (
    av.error.FFmpegError,
    OSError,
    ValueError,
    EOFError,
    RuntimeError,
    UnicodeError,
)
"""What PyAV raises on bad input (InvalidDataError is both FFmpegError and ValueError)."""

Size = tuple[int, int]


def describe(error: BaseException) -> str:
    """One-line human text of an exception, without PyAV's errno noise."""
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return str(text).strip()


def tolerance(duration: float) -> float:
    """How far decoded media may fall short of the declared duration and still count as whole.

    Headers and streams disagree by a fraction of a second in healthy files (ASF, MPEG-PS),
    and an audio track may outlast the video; a truncated file misses much more.
    """
    return max(CLIP_SECONDS, 0.01 * duration)


def open_input(path: str | Path) -> av.container.InputContainer:
    """Open ``path`` for reading, turning every failure into a :class:`VideoOpenError`."""
    p = Path(path)
    if not p.exists():
        raise VideoOpenError(p, "no such file")
    if p.is_dir():
        raise VideoOpenError(p, "is a directory, not a video file")
    try:
        size = p.stat().st_size
    except OSError as e:
        raise VideoOpenError(p, f"cannot read file ({describe(e)})") from e
    if size == 0:
        raise VideoOpenError(p, "file is empty (0 bytes)")
    try:
        return av.open(str(p), mode="r", metadata_errors="replace")
    except AV_ERRORS as e:
        raise VideoOpenError(
            p, f"not a readable media file: FFmpeg could not open it ({describe(e)})"
        ) from e


def video_stream(container: av.container.InputContainer, path: str | Path) -> av.VideoStream:
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


def audio_stream(container: av.container.InputContainer) -> av.AudioStream | None:
    """The first audio stream that has a decoder, or ``None``."""
    for s in container.streams.audio:
        if s.codec_context is not None and s.codec_context.sample_rate:
            return s
    return None


def time_origin(container: av.container.InputContainer, vs: av.VideoStream) -> float:
    """Timestamp (seconds) that becomes time 0."""
    if container.start_time is not None:
        return container.start_time / 1_000_000
    if vs.start_time is not None and vs.time_base:
        return float(vs.start_time * vs.time_base)
    return 0.0


def check_not_truncated(
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


def frame_time(frame: av.VideoFrame | av.AudioFrame, origin: float) -> float | None:
    ts = frame.pts if frame.pts is not None else frame.dts
    if ts is None or frame.time_base is None:
        return None
    return float(ts * frame.time_base) - origin


def seek(container: av.container.InputContainer, stream: Any, t: float, origin: float) -> None:
    """Seek ``stream`` to the keyframe at or before time ``t`` (seconds from the file start)."""
    ts = math.floor((t + origin) / stream.time_base)
    container.seek(int(ts), stream=stream, backward=True, any_frame=False)
