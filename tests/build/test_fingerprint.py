"""Perceptual frame hashes on real video: robustness, uniform-frame dropping, the cache."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tvhighlights.build import fingerprint as fpm
from tvhighlights.build.fingerprint import (
    Fingerprint,
    content_box,
    file_digest,
    fingerprint_frames,
    fingerprint_video,
    hamming,
    hash_frames,
    inset_box,
    load_fingerprint,
)
from tvhighlights.video import read_frames

SIZE = (228, 128)  # the analysis size of a 1280x720 film


@pytest.fixture(scope="module")
def film_frames(sample) -> tuple[np.ndarray, np.ndarray]:
    """Grey frames of the film's [37, 55) s (a lively scene) at 4 fps."""
    return read_frames(sample("bbb"), 4, size=SIZE, grey=True, start=37, end=55)


@pytest.fixture(scope="module")
def film_rgb(sample) -> tuple[np.ndarray, np.ndarray]:
    return read_frames(sample("bbb"), 4, size=(320, 180), start=37, end=45)


def test_resize_and_colour_keep_the_hash(film_frames, film_rgb):
    _, frames = film_frames
    h, std = hash_frames(frames)
    assert h.shape == (len(frames), 2) and h.dtype == np.uint64
    assert (std > fpm.DEFAULT_MIN_STD).all()
    # another resolution (a re-encode at 320x180, converted to grey here)
    other = fingerprint_frames(film_rgb[0], film_rgb[1])
    d = hamming(other.column("full"), h[: len(other), 0])
    assert np.median(d) <= 4 and d.max() <= 12
    # contrast, brightness, gamma: DC is not hashed and the median threshold ignores gain
    graded = np.clip(frames.astype(np.float32) * 0.7 + 30, 0, 255) ** 1.1 / 255**0.1
    h2, _ = hash_frames(graded.astype(np.uint8))
    assert np.median(hamming(h2[:, 0], h[:, 0])) <= 4


def test_unrelated_frames_are_far(film_frames):
    _, frames = film_frames
    h, _ = hash_frames(frames)
    a, b = h[:20, 0], h[-20:, 0]  # 15 s apart, other shots
    d = hamming(a[:, None], b[None, :])
    assert np.median(d) >= 20


def test_flip_column_is_the_mirrored_frame(film_frames):
    _, frames = film_frames
    h, _ = hash_frames(frames)
    mirrored, _ = hash_frames(np.ascontiguousarray(frames[:, :, ::-1]))
    assert np.median(hamming(mirrored[:, 0], h[:, 1])) <= 2
    assert np.median(hamming(mirrored[:, 0], h[:, 0])) >= 12


def test_uniform_frames_are_invalid(film_frames):
    _, frames = film_frames
    black = np.zeros((3, *frames.shape[1:]), np.uint8)
    grey = np.full((3, *frames.shape[1:]), 128, np.uint8)
    rng = np.random.default_rng(0)
    noisy = (grey + rng.integers(-2, 3, grey.shape)).astype(np.uint8)  # encoder noise on a card
    allf = np.concatenate([frames[:5], black, grey, noisy])
    fp = fingerprint_frames(np.arange(len(allf)) / 4, allf)
    assert fp.valid[:5].all()
    assert not fp.valid[5:].any()


@pytest.mark.parametrize("background", ["black", "blur"])
def test_vertical_band_hashes_like_the_source(film_frames, background):
    """A 9:16 re-upload: the film in a middle band, black or blurred copies above and below."""
    _, frames = film_frames
    src, _ = hash_frames(frames)
    n, h, w = frames.shape
    band_h = round(128 * h / w)
    canvas = np.zeros((n, 228, 128), np.uint8)
    y0 = (228 - band_h) // 2
    if background == "blur":
        small = frames[:, ::8, ::8].astype(np.float32)
        big = np.repeat(np.repeat(small, 16, axis=1), 16, axis=2)[:, :228, :128]
        canvas[:] = (big[:, : canvas.shape[1], : canvas.shape[2]] * 0.5).astype(np.uint8)
    xs = np.linspace(0, w - 1, 128).round().astype(int)
    ys = np.linspace(0, h - 1, band_h).round().astype(int)
    canvas[:, y0 : y0 + band_h] = frames[:, ys][:, :, xs]
    box = content_box(canvas)
    assert abs(box[0] - y0) <= 3 and abs(box[1] - (y0 + band_h)) <= 3
    fp = fingerprint_frames(np.arange(n) / 4, canvas)
    assert np.median(hamming(fp.column("full"), src[:, 0])) <= 6


def test_content_box_leaves_plain_films_alone(film_frames):
    _, frames = film_frames
    assert content_box(frames) == (0, frames.shape[1], 0, frames.shape[2])
    assert inset_box(frames) is None


@pytest.mark.parametrize("background", ["flat", "video"])
def test_inset_window_is_found(film_frames, sample, background):
    """Picture-in-picture: the film at 40 % over a flat colour or another video."""
    _, frames = film_frames
    n = len(frames)
    if background == "flat":
        canvas = np.full((n, 128, 228), 90, np.uint8)
    else:
        _, other = read_frames(sample("iscc_mp4"), 4, size=(228, 128), grey=True, end=n / 4)
        canvas = other[:n].copy()
    ys = np.linspace(0, 127, 52).round().astype(int)
    xs = np.linspace(0, 227, 92).round().astype(int)
    canvas[:, 60:112, 120:212] = frames[:, ys][:, :, xs]
    box = inset_box(canvas)
    assert box is not None
    assert np.abs(np.array(box) - np.array([60, 112, 120, 212])).max() <= 2
    src, _ = hash_frames(frames)
    fp = fingerprint_frames(np.arange(n) / 4, canvas)
    assert np.median(hamming(fp.column("inset"), src[:, 0])) <= 6


# --------------------------------------------------------------------------------------------
# Files and the cache


def test_save_load_round_trip_and_determinism(tmp_path, film_frames):
    times, frames = film_frames
    fp = fingerprint_frames(times, frames, zooms=(0.8,))
    assert fp.variants == ["full", "flip", "inset", "inset_flip", "zoom0.80"]
    a = fp.save(tmp_path / "a.npz")
    b = fp.save(tmp_path / "b.npz")
    assert a.read_bytes() == b.read_bytes()
    back = load_fingerprint(a)
    assert np.array_equal(back.hashes, fp.hashes) and np.array_equal(back.times, fp.times)
    assert np.array_equal(back.valid, fp.valid) and back.params == fp.params
    with np.load(a, allow_pickle=False) as z:  # plain arrays, no pickle needed
        assert set(z.files) == {"times", "hashes", "valid", "shot_starts", "meta"}


def test_cache_hit_and_byte_identical_rerun(tmp_path, sample, monkeypatch):
    path = sample("bbb_trailer")
    cache = tmp_path / "cache"
    fp = fingerprint_video(path, end=12, cache_dir=cache, chunk_seconds=5)
    files = sorted(cache.glob("*.npz"))
    assert len(files) == 1 and files[0].name.startswith(file_digest(path))
    assert not list(cache.glob("*.part*")) and not list(cache.glob("*.tmp"))
    first = files[0].read_bytes()
    assert len(fp) == 48 and fp.times[0] == 0.0 and fp.times[-1] == 11.75

    def boom(*args, **kwargs):
        raise AssertionError("cache miss")

    monkeypatch.setattr(fpm, "_fingerprint_chunk", boom)
    again = fingerprint_video(path, end=12, cache_dir=cache, chunk_seconds=5)
    assert np.array_equal(again.hashes, fp.hashes)
    monkeypatch.undo()

    files[0].unlink()
    fingerprint_video(path, end=12, cache_dir=cache, chunk_seconds=5)
    assert files[0].read_bytes() == first
    # a chunked and a one-piece run sample the same frames
    whole = fingerprint_video(path, end=12, chunk_seconds=100)
    assert np.array_equal(whole.times, fp.times)


def test_interrupted_run_resumes(tmp_path, sample, monkeypatch):
    path = sample("bbb_trailer")
    ref = fingerprint_video(path, end=12, cache_dir=tmp_path / "ref", chunk_seconds=5)
    ref_bytes = next((tmp_path / "ref").glob("*.npz")).read_bytes()

    cache = tmp_path / "cache"
    real = fpm._fingerprint_chunk
    calls: list[float] = []

    def dies_on_second(path, fps, start, *args, **kwargs):
        calls.append(start)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(path, fps, start, *args, **kwargs)

    monkeypatch.setattr(fpm, "_fingerprint_chunk", dies_on_second)
    with pytest.raises(KeyboardInterrupt):
        fingerprint_video(path, end=12, cache_dir=cache, chunk_seconds=5)
    left = sorted(p.name for p in cache.iterdir())
    assert len(left) == 1 and ".part0000." in left[0]  # one whole chunk, no temp or half file

    calls.clear()
    monkeypatch.setattr(
        fpm, "_fingerprint_chunk", lambda *a, **k: (calls.append(a[2]), real(*a, **k))[1]
    )
    fp = fingerprint_video(path, end=12, cache_dir=cache, chunk_seconds=5)
    assert calls == [5.0, 10.0]  # resumed after the first chunk
    assert np.array_equal(fp.hashes, ref.hashes)
    assert next(cache.glob("*.npz")).read_bytes() == ref_bytes


@pytest.mark.slow
def test_kill_9_mid_run_leaves_no_half_file(tmp_path, sample):
    """SIGKILL while chunks are being written; the rerun gives byte-identical output."""
    path = sample("bbb_trailer")
    cache = tmp_path / "cache"
    code = (
        "import sys; from tvhighlights.build.fingerprint import fingerprint_video;"
        f"fingerprint_video({str(path)!r}, cache_dir={str(cache)!r}, chunk_seconds=4)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.time() + 60
    while time.time() < deadline and len(list(cache.glob("*.part*.npz"))) < 2:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    for f in cache.glob("*.npz"):  # whatever is there under its final name is whole
        load_fingerprint(f)
    fp = fingerprint_video(path, cache_dir=cache, chunk_seconds=4)
    fresh = tmp_path / "fresh"
    fingerprint_video(path, cache_dir=fresh, chunk_seconds=4)
    name = next(fresh.glob("*.npz")).name
    assert (cache / name).read_bytes() == (fresh / name).read_bytes()
    assert isinstance(fp, Fingerprint) and fp.valid.mean() > 0.9


def test_bad_fps_is_rejected(sample):
    with pytest.raises(ValueError, match="fps"):
        fingerprint_video(sample("bbb_trailer"), fps=0)


def test_trailer_fingerprint_shape(sample):
    fp = fingerprint_video(sample("bbb_trailer"), end=8)
    assert fp.hashes.shape == (32, 4) and fp.fps == 4.0
    assert np.array_equal(fp.column("inset"), fp.column("full"))  # no inset window here
    assert not fp.valid[0]  # the trailer fades in from black
    assert Path(sample("bbb_trailer")).exists()


@pytest.mark.parametrize("darken", [1.0, 0.6])
def test_sharp_band_over_a_blurred_copy_of_itself(film_frames, darken):
    """The Shorts layout: the film band centred over a blurred, zoomed (scaled to fill the
    9:16 frame) copy of the same frame, not darkened (or darkened): the band's two straight
    edges give it away, and the band hashes like the source."""
    from PIL import Image, ImageFilter

    _, frames = film_frames
    src, _ = hash_frames(frames)
    canvas = []
    for f in frames:
        im = Image.fromarray(f)
        bg = im.resize((406, 228)).crop((139, 0, 267, 228)).filter(ImageFilter.GaussianBlur(6))
        out = (np.asarray(bg).astype(np.float32) * darken).astype(np.uint8)
        out[82:154] = np.asarray(im.resize((128, 72)))
        canvas.append(out)
    canvas = np.stack(canvas)
    box = content_box(canvas)
    assert np.abs(np.array(box) - np.array([82, 154, 0, 128])).max() <= 2
    fp = fingerprint_frames(np.arange(len(canvas)) / 4, canvas)
    assert np.median(hamming(fp.column("full"), src[:, 0])) <= 6


def test_inset_window_in_a_corner_is_found(film_frames, sample):
    """Picture-in-picture against two edges of the frame: the frame's borders are its sides."""
    _, frames = film_frames
    n = len(frames)
    _, other = read_frames(sample("iscc_mp4"), 4, size=(228, 128), grey=True, end=n / 4)
    canvas = other[:n].copy()
    ys = np.linspace(0, 127, 44).round().astype(int)
    xs = np.linspace(0, 227, 78).round().astype(int)
    canvas[:, :44, :78] = frames[:, ys][:, :, xs]
    box = inset_box(canvas)
    assert box is not None
    assert np.abs(np.array(box) - np.array([0, 44, 0, 78])).max() <= 2


def test_shots_are_the_hard_cuts_of_the_frames(film_frames, sample):
    """A hard cut from the film to the concert starts a shot; a fade's first picture too."""
    _, frames = film_frames
    _, other = read_frames(sample("iscc_mp4"), 4, size=(228, 128), grey=True, start=20, end=25)
    black = np.zeros((4, 128, 228), np.uint8)
    joined = np.concatenate([frames[:20], other[:20], black, frames[40:60]])
    fp = fingerprint_frames(np.arange(len(joined)) / 4, joined, shots=True)
    starts = fp.shot_starts.tolist()
    assert 5.0 in starts and 11.0 in starts and starts[0] == 0.0
    assert len(starts) <= 6
    assert fp.shots()[-1][1] == pytest.approx(len(joined) / 4)
