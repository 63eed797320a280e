"""The one mp4 writer: what it writes plays back as written, repeats byte for byte when asked,
and never leaves half a file."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from tvhighlights.errors import InvalidArgumentError
from tvhighlights.video import probe, read_audio, read_frames
from tvhighlights.video.writer import Mp4Writer, rgb_to_yuv420p


def _frames(n: int, w: int = 64, h: int = 48) -> list[np.ndarray]:
    """A smooth colour gradient with a bright square moving across it."""
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 // w, y * 255 // h, np.full_like(x, 96)], axis=-1).astype(np.uint8)
    out = []
    for k in range(n):
        f = base.copy()
        f[16:32, 2 * k : 2 * k + 16] = 250
        out.append(f)
    return out


def _write(path: Path, *, threads: int | None = 1, params: str | None = "mbtree=0") -> Path:
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(44100) / 44100)).astype(np.float32)
    with Mp4Writer(path, 64, 48, Fraction(25), crf=23, audio_rate=44100, threads=threads,
                   x264_params=params) as w:  # fmt: skip
        for f in _frames(25):
            w.add_rgb(f)
        w.add_audio(tone[:30000])  # in uneven pieces: the writer frames them itself
        w.add_audio(tone[30000:])
    return path


def test_written_video_and_audio_read_back(tmp_path):
    out = _write(tmp_path / "a.mp4")
    info = probe(out)
    assert (info.width, info.height, info.has_audio, info.audio_rate) == (64, 48, True, 44100)
    assert abs(info.duration - 1.0) < 0.05
    _, frames = read_frames(out, 25)
    assert len(frames) == 25
    # lossy, but close to what was written
    assert np.abs(frames[10].astype(float) - _frames(11)[10]).mean() < 6
    audio = read_audio(out, 44100)
    assert abs(len(audio) - 44100) < 2048 and 0.15 < np.sqrt(np.mean(audio**2)) < 0.25


def test_one_thread_without_mbtree_repeats_byte_for_byte(tmp_path):
    a = hashlib.sha256(_write(tmp_path / "a.mp4").read_bytes()).hexdigest()
    b = hashlib.sha256(_write(tmp_path / "b.mp4").read_bytes()).hexdigest()
    assert a == b


def test_failure_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "x.mp4"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"), Mp4Writer(target, 64, 48, Fraction(25)) as w:
        w.add_rgb(_frames(1)[0])
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.mp4"]


def test_bad_sizes_and_inputs_are_named(tmp_path):
    with pytest.raises(InvalidArgumentError, match="even"):
        Mp4Writer(tmp_path / "o.mp4", 63, 48, Fraction(25))
    with pytest.raises(InvalidArgumentError, match="AAC rate"):
        Mp4Writer(tmp_path / "o.mp4", 64, 48, Fraction(25), audio_rate=12345)
    with Mp4Writer(tmp_path / "o.mp4", 64, 48, Fraction(25)) as w:
        with pytest.raises(InvalidArgumentError, match="no audio track"):
            w.add_audio(np.zeros(10, np.float32))
        with pytest.raises(InvalidArgumentError, match="shape"):
            w.add_rgb(np.zeros((10, 10, 3), np.uint8))
        w.add_rgb(_frames(1)[0])


def test_rgb_to_yuv420p_matches_bt601():
    white = np.full((2, 2, 3), 255, np.uint8)
    black = np.zeros((2, 2, 3), np.uint8)
    assert [p.item(0) for p in rgb_to_yuv420p(white)] == [235, 128, 128]
    assert [p.item(0) for p in rgb_to_yuv420p(black)] == [16, 128, 128]
