"""Small real videos written by the tests (H.264 through PyAV): a grey ramp of any length."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

__all__ = ["write_video"]


def write_video(path: Path, seconds: float, fps: int = 24, size=(64, 48)) -> Path:
    """An mp4 of ``round(seconds * fps)`` frames (at least one), without audio."""
    import av

    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=fps)
        vs.width, vs.height = size
        vs.pix_fmt = "yuv420p"
        for i in range(max(1, round(seconds * fps))):
            img = np.full((size[1], size[0], 3), (i * 9) % 255, np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for p in vs.encode(frame):
                out.mux(p)
        for p in vs.encode(None):
            out.mux(p)
    return path
