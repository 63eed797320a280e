"""The one H.264 + AAC mp4 writer: every video the project makes goes through it.

Highlight reels (:mod:`.cut`) and simulated re-uploads (:mod:`tvhighlights.build.simulate`)
both write here. Timestamps come from counters (frames at the output rate, audio samples at
the output sample rate), so they are continuous however the input's were. The file is written
to a temporary sibling, flushed, fsynced and renamed over the target only when complete: an
interrupted write leaves the old file (or nothing), never half an mp4.

``threads=1`` with ``x264_params="mbtree=0"`` makes x264's output bytes repeat from run to run
(measured with PyAV 18's x264: with macroblock-tree rate control on, or several threads, the
same frames gave different bytes from call to call); :meth:`Mp4Writer.add_rgb` converts RGB to
yuv420p in integer numpy into zero-padded planes, so the encoder's input is exactly those
bytes too. FFmpeg's AAC encoder is deterministic.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np

from ..errors import InvalidArgumentError
from ._container import AV_ERRORS

__all__ = ["AAC_RATES", "Mp4Writer", "rgb_to_yuv420p"]

AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000)
"""Sample rates the AAC encoder takes."""


def rgb_to_yuv420p(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BT.601 limited-range YUV 4:2:0 planes (what swscale makes by default), in integer numpy.

    ``rgb`` is uint8 ``(H, W, 3)`` with even ``H`` and ``W``.
    """
    x = rgb.astype(np.uint16)
    y = (x[..., 0] * 66 + x[..., 1] * 129 + x[..., 2] * 25 + (16 << 8) + 128) >> 8
    q = (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2]).astype(np.int32)
    r, g, b = q[..., 0], q[..., 1], q[..., 2]  # 4x the mean of each 2x2 block
    u = (-38 * r - 74 * g + 112 * b + (128 << 10) + 512) >> 10
    v = (112 * r - 94 * g - 18 * b + (128 << 10) + 512) >> 10
    return y.astype(np.uint8), u.astype(np.uint8), v.astype(np.uint8)


class Mp4Writer:
    """H.264 (yuv420p) video and optional AAC audio into ``path``, atomically.

    Use as a context manager (the file appears on a clean exit and is discarded on an
    exception), or call :meth:`close` / :meth:`abort` yourself.

    Args:
        path: the mp4 to write.
        width, height: frame size (even: yuv420p needs it).
        fps: output frame rate.
        crf, preset: x264 quality and speed.
        audio_rate: AAC sample rate (one of :data:`AAC_RATES`); ``None`` for no audio track.
        audio_layout: ``"mono"`` or ``"stereo"``.
        threads: x264 threads (``None``: x264's choice; 1 for repeatable bytes).
        x264_params: extra ``x264-params`` (``"mbtree=0"`` for repeatable bytes).
        faststart: move the index to the front of the file (players start before the end).
    """

    def __init__(
        self,
        path: str | Path,
        width: int,
        height: int,
        fps: Fraction,
        *,
        crf: int = 20,
        preset: str = "veryfast",
        audio_rate: int | None = None,
        audio_layout: str = "mono",
        threads: int | None = None,
        x264_params: str | None = None,
        faststart: bool = False,
    ) -> None:
        if width < 2 or height < 2 or width % 2 or height % 2:
            raise InvalidArgumentError(
                f"frame size {width}x{height}: H.264 yuv420p needs even sizes of at least 2"
            )
        if audio_rate is not None and audio_rate not in AAC_RATES:
            raise InvalidArgumentError(f"audio_rate {audio_rate} is not an AAC rate {AAC_RATES}")
        if audio_layout not in ("mono", "stereo"):
            raise InvalidArgumentError(f"audio_layout must be mono or stereo, got {audio_layout!r}")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(
            f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        )
        self.width, self.height, self.fps = int(width), int(height), Fraction(fps)
        self.frames = 0
        """Video frames written so far."""
        self.samples = 0
        """Audio samples (per channel) encoded so far."""
        options = {"movflags": "+faststart"} if faststart else {}
        self.container = av.open(str(self.tmp), "w", format="mp4", options=options)
        x264 = {"crf": str(int(crf)), "preset": preset}
        if threads is not None:
            x264["threads"] = str(int(threads))
        if x264_params:
            x264["x264-params"] = x264_params
        self.vstream = self.container.add_stream("libx264", rate=self.fps, options=x264)
        self.vstream.width, self.vstream.height = self.width, self.height
        self.vstream.pix_fmt = "yuv420p"
        if threads is not None:
            self.vstream.codec_context.thread_count = int(threads)
        self.vstream.codec_context.time_base = Fraction(1) / self.fps
        self._planes: dict[int, np.ndarray] = {}
        self.audio_rate = audio_rate
        self.audio_layout = audio_layout
        self.astream = None
        if audio_rate is not None:
            self.astream = self.container.add_stream("aac", rate=audio_rate, layout=audio_layout)
            self.astream.format = "fltp"
            self.astream.codec_context.time_base = Fraction(1, audio_rate)
            self._fifo = av.AudioFifo()
        self._closed = False

    @property
    def channels(self) -> int:
        """Audio channels of the output (0 without an audio track)."""
        if self.astream is None:
            return 0
        return 1 if self.audio_layout == "mono" else 2

    # -- video ---------------------------------------------------------------------------------

    def to_yuv(self, frame: av.VideoFrame) -> av.VideoFrame:
        """``frame`` scaled to the output size in yuv420p (what :meth:`add_frame` encodes)."""
        return frame.reformat(width=self.width, height=self.height, format="yuv420p")

    def add_frame(self, frame: av.VideoFrame) -> None:
        """Encode one decoded frame (any format and size: FFmpeg's scaler converts it)."""
        f = self.to_yuv(frame)
        f.pict_type = av.video.frame.PictureType.NONE  # let x264 choose, not the source's types
        self._encode(f)

    def add_rgb(self, rgb: np.ndarray) -> None:
        """Encode one uint8 ``(height, width, 3)`` RGB frame, converted exactly in numpy."""
        if rgb.shape != (self.height, self.width, 3):
            raise InvalidArgumentError(
                f"frame of shape {rgb.shape} for a {self.width}x{self.height} RGB video"
            )
        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        for i, (plane, data) in enumerate(zip(frame.planes, rgb_to_yuv420p(rgb), strict=True)):
            if i not in self._planes:  # zeroed once: the row padding stays zero
                self._planes[i] = np.zeros((plane.height, plane.line_size), np.uint8)
            buf = self._planes[i]
            buf[:, : plane.width] = data
            plane.update(buf)
        self._encode(frame)

    def _encode(self, frame: av.VideoFrame) -> None:
        frame.pts = self.frames
        frame.time_base = self.vstream.codec_context.time_base
        self.frames += 1
        for packet in self.vstream.encode(frame):
            self.container.mux(packet)

    # -- audio ---------------------------------------------------------------------------------

    def add_audio(self, samples: np.ndarray) -> None:
        """Queue float32 samples at ``audio_rate``: ``(n,)`` mono or ``(channels, n)``; they are
        encoded in the AAC encoder's frame size as they fill up."""
        if self.astream is None:
            raise InvalidArgumentError(f"{self.path}: the writer has no audio track")
        chunk = np.asarray(samples, dtype=np.float32)
        if chunk.ndim == 1:
            chunk = chunk[None, :]
        if chunk.shape[0] != self.channels:
            raise InvalidArgumentError(
                f"audio of {chunk.shape[0]} channels for a {self.audio_layout} track"
            )
        if chunk.shape[1] == 0:
            return
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(chunk), format="fltp", layout=self.audio_layout
        )
        frame.sample_rate = self.audio_rate
        self._fifo.write(frame)
        self._drain(final=False)

    def _drain(self, final: bool) -> None:
        size = self.astream.codec_context.frame_size or 1024
        while self._fifo.samples >= size or (final and self._fifo.samples > 0):
            f = self._fifo.read(min(size, self._fifo.samples))
            f.pts = self.samples
            f.time_base = Fraction(1, self.audio_rate)
            self.samples += f.samples
            for packet in self.astream.encode(f):
                self.container.mux(packet)

    # -- the file ------------------------------------------------------------------------------

    def close(self) -> Path:
        """Flush the encoders, close the file, fsync it and rename it over ``path``."""
        if self._closed:
            return self.path
        try:
            if self.astream is not None:
                self._drain(final=True)
            for stream in (self.vstream, self.astream):
                if stream is not None:
                    for packet in stream.encode(None):
                        self.container.mux(packet)
            self.container.close()
            with open(self.tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(self.tmp, self.path)
        except BaseException:
            self.abort()
            raise
        self._closed = True
        return self.path

    def abort(self) -> None:
        """Discard what was written; ``path`` is left as it was."""
        self._closed = True
        with contextlib.suppress(*AV_ERRORS):
            self.container.close()
        with contextlib.suppress(FileNotFoundError):
            self.tmp.unlink()

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:  # pragma: no cover - a writer dropped without close()
        if not getattr(self, "_closed", True):
            self.abort()
