"""Video and audio I/O with PyAV: probe a file, sample frames, read audio, cut 2-second clips,
write H.264/AAC mp4 files.

Time 0 is the start of the file as a player shows it: every timestamp is the stream's
``pts * time_base`` minus the container's start time (MPEG-PS files, for example, start at
about 0.5 s). Frame times come from timestamps, never from frame counters, so variable frame
rate files are sampled correctly.

Sampling at ``fps`` uses the absolute grid ``k / fps``: the frame returned for time ``t`` is
the one on screen at ``t`` (the latest frame whose time is <= ``t``). The grid does not depend
on ``start``, so a seek returns exactly the frames a full decode returns for the same times.

Every failure to open or decode a file raises :class:`~tvhighlights.errors.VideoOpenError`,
whose message names the file; raw PyAV exceptions never escape.

Modules: :mod:`.probe` (streams and duration), :mod:`.frames` (frames at any rate),
:mod:`.audio` (mono audio at any rate), :mod:`.clips` (the 2-second grid in one pass),
:mod:`.writer` (the one H.264/AAC mp4 writer), :mod:`.cut` (spans of a video cut into one
mp4); ``_container`` and ``_decode`` are the package's private machinery.
"""

from __future__ import annotations

from .audio import read_audio
from .clips import Clip, FrameView, iter_clips
from .cut import cut_spans
from .frames import iter_frames, read_frames
from .probe import VideoInfo, probe
from .writer import Mp4Writer

__all__ = [
    "Clip",
    "FrameView",
    "Mp4Writer",
    "VideoInfo",
    "cut_spans",
    "iter_clips",
    "iter_frames",
    "probe",
    "read_audio",
    "read_frames",
]
