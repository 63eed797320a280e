"""Off-centre crops: the window search (:mod:`tvhighlights.build.crops`) and the file-level
matcher that runs it (:mod:`tvhighlights.build.match`), on real frames of the film."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tvhighlights.build.align import align_derivative
from tvhighlights.build.crops import crop_windows, find_crop_windows, with_windows
from tvhighlights.build.fingerprint import (
    QUERY_ZOOMS,
    fingerprint_frames,
    fingerprint_source,
)
from tvhighlights.build.index import build_index
from tvhighlights.build.match import match_derivative, unexplained_frames
from tvhighlights.video import read_frames
from tvhighlights.video.writer import Mp4Writer

START, END = 37.0, 55.0  # a lively scene of the film


@pytest.fixture(scope="module")
def index(sample):
    return build_index({"bbb": fingerprint_source(sample("bbb"), start=20, end=70)})


@pytest.fixture(scope="module")
def film(sample) -> tuple[np.ndarray, np.ndarray]:
    """The scene at 4 fps, grey, 640x360 (crops are cut from it, then scaled down)."""
    return read_frames(sample("bbb"), 4, size=(640, 360), grey=True, start=START, end=END)


def _crop(frames: np.ndarray, keep: float, fx: float, fy: float, mirror: bool = False):
    """Keep ``keep`` of each side at ``(fx, fy)`` of the free room, rescale to 228x128."""
    _, h, w = frames.shape
    ch, cw = round(h * keep), round(w * keep)
    y0, x0 = round((h - ch) * fy), round((w - cw) * fx)
    out = np.stack(
        [
            np.asarray(Image.fromarray(f[y0 : y0 + ch, x0 : x0 + cw]).resize((228, 128)))
            for f in frames
        ]
    )
    return np.ascontiguousarray(out[:, :, ::-1]) if mirror else out


def _query(times: np.ndarray, frames: np.ndarray):
    return fingerprint_frames(times, frames, zooms=QUERY_ZOOMS, zoom_flips=True, shots=True)


def _recovered(matches, start: float = START, end: float = END) -> float:
    """Seconds of ``[start, end)`` covered by the matches' source spans."""
    covered = sum(max(0.0, min(m.source_end, end) - max(m.source_start, start)) for m in matches)
    return covered / (end - start)


def test_windows_cover_the_source_half_of_every_crop():
    """For crops keeping 75-90 % at a corner, an edge or the centre, a window lies within one
    grid step of where the source's centred half shows."""
    box = (0, 1000, 0, 1000)
    wins = np.array(crop_windows(box))
    assert 200 <= len(wins) <= 600
    for keep in (0.75, 0.8, 0.85, 0.9):
        for off in (0.0, 0.5, 1.0):
            o = (1 - keep) * off
            want = np.array([(0.25 - o) / keep, (0.75 - o) / keep] * 2) * 1000
            assert np.abs(wins - want).max(axis=1).min() <= 0.025 * 1000 / 2 + 1, (keep, off)


@pytest.mark.parametrize(("keep", "fx", "fy", "mirror"), [(0.8, 0.0, 0.0, False),
                                                         (0.75, 1.0, 0.5, True)])  # fmt: skip
def test_off_centre_crop_aligns_through_the_window_search(index, film, keep, fx, fy, mirror):
    times, frames = film
    crop = _crop(frames, keep, fx, fy, mirror)
    fp = _query(times - START, crop)
    plain = align_derivative(fp, index, shots=fp.shots())
    assert _recovered(plain) < 0.2  # the picture and its centred zooms are all too far
    left = unexplained_frames(fp, plain)
    windows = find_crop_windows(crop, fp, index, left)
    assert windows
    matches = align_derivative(with_windows(fp, crop, windows), index, shots=fp.shots())
    assert _recovered(matches) >= 0.9
    assert all(m.source_id == "bbb" and m.flipped == mirror for m in matches)
    assert all(m.source_start >= START - 1 and m.source_end <= END + 1 for m in matches)


def test_a_still_title_card_gives_no_window(index):
    """Twelve seconds of one card: every keyframe looks alike, so they are one piece of
    evidence, not twelve, and no window is chosen."""
    card = Image.new("L", (228, 128), 40)
    ImageDraw.Draw(card).text((20, 50), "PART 2 - THE REVENGE", fill=230)
    frames = np.repeat(np.asarray(card)[None], 48, axis=0)
    fp = _query(np.arange(48) / 4, frames)
    assert fp.valid.all()
    assert find_crop_windows(frames, fp, index, fp.valid) == []


def test_centred_zoom_aligns_through_the_query_zooms(index, film):
    times, frames = film
    zoomed = _crop(frames, 0.7, 0.5, 0.5)
    fp = _query(times - START, zoomed)
    assert _recovered(align_derivative(fp, index, shots=fp.shots())) >= 0.9


def test_match_derivative_on_a_real_file(tmp_path, index, film):
    """An mp4 cut at a corner: the file-level matcher (what the build runs) finds it."""
    _, frames = film
    crop = _crop(frames[:48], 0.8, 1.0, 0.0)
    path = tmp_path / "corner.mp4"
    with Mp4Writer(path, 228, 128, Fraction(4), crf=18, threads=1) as w:
        for f in crop:
            w.add_rgb(np.repeat(f[:, :, None], 3, axis=2))
    matches = match_derivative(path, index, cache_dir=tmp_path / "fp")
    assert _recovered(matches, START, START + 12) >= 0.9
    assert (
        match_derivative(path, index, crop_search=None) == []
        or _recovered(match_derivative(path, index, crop_search=None), START, START + 12) < 0.5
    )
