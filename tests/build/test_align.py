"""The source index (FAISS vs a brute-force oracle, save/load) and derivative alignment."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tvhighlights.build.align import SpanMatch, align_derivative
from tvhighlights.build.fingerprint import (
    Fingerprint,
    fingerprint_frames,
    fingerprint_video,
    hamming,
)
from tvhighlights.build.index import HashIndex, build_index, load_index, save_index
from tvhighlights.clips import span_overlap
from tvhighlights.video import read_frames

# the real trailer's ground truth (moviepy 2.2.1 trailer.py): trailer span -> source span
TRAILER_TRUTH = [
    ((0.0, 10.0), (1.0, 11.0)),
    ((10.0, 14.0), (16.0, 20.0)),
    ((14.0, 32.0), (37.0, 55.0)),
    ((32.0, 36.0), (214.75, 218.75)),
    ((36.0, 47.25), (224.75, 236.0)),
    ((45.75, 52.15), (281.5, 284.7)),
]
WINDOWS = [(0.0, 60.0), (210.0, 290.0)]  # the film's parts the trailer uses


def _concat(parts: list[Fingerprint]) -> Fingerprint:
    return Fingerprint(
        np.concatenate([p.times for p in parts]),
        np.concatenate([p.hashes for p in parts]),
        np.concatenate([p.valid for p in parts]),
        parts[0].fps,
        parts[0].duration,
        parts[0].params,
    )


@pytest.fixture(scope="module")
def film_fp(sample) -> Fingerprint:
    """The film's fingerprint over the windows the trailer reuses (a fast stand-in)."""
    path = sample("bbb")
    return _concat([fingerprint_video(path, start=a, end=b) for a, b in WINDOWS])


@pytest.fixture(scope="module")
def trailer_fp(sample) -> Fingerprint:
    return fingerprint_video(sample("bbb_trailer"))


@pytest.fixture(scope="module")
def index(film_fp) -> HashIndex:
    return build_index({"bbb": film_fp})


def _clip_scores(matches: list[SpanMatch], duration: float) -> tuple[float, float]:
    truth = span_overlap([s for _, s in TRAILER_TRUTH], duration)
    pred = span_overlap([(m.source_start, m.source_end) for m in matches], duration) >= 1.0
    pos, neg = truth >= 1.5, truth <= 0
    recall = (pred & pos).sum() / pos.sum()
    precision = (pred & pos).sum() / max(1, (pred & (pos | neg)).sum())
    return float(recall), float(precision)


def _oracle(db: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Brute-force numpy Hamming scan: the k smallest distances of each query."""
    d = hamming(queries[:, None], db[None, :])
    return np.sort(d, axis=1)[:, :k]


# --------------------------------------------------------------------------------------------
# Index


def test_flat_index_equals_the_brute_force_oracle(index, trailer_fp):
    q = trailer_fp.column("full")[trailer_fp.valid]
    d, rows = index.search(q, 5)
    assert index.kind == "flat"
    db = index.frame_codes[index.row_frame, index.row_variant]
    assert np.array_equal(d, _oracle(db, q, 5))
    assert np.array_equal(hamming(q[:, None], db[rows]), d)  # rows point at those codes


def test_multihash_index_finds_near_duplicates(film_fp, trailer_fp, index):
    mh = build_index({"bbb": film_fp}, hash_threshold=1)
    assert mh.kind == "multihash"
    q = trailer_fp.column("full")[trailer_fp.valid]
    d_mh, _ = mh.search(q, 1)
    d_flat, _ = index.search(q, 1)
    close = d_flat[:, 0] <= 5  # radius that 3 tables x 1 flip guarantee
    assert close.sum() > 100
    assert np.array_equal(d_mh[close, 0], d_flat[close, 0])


def test_index_save_load_round_trip(tmp_path, index, trailer_fp, film_fp):
    p = save_index(index, tmp_path / "index.npz")
    again = save_index(index, tmp_path / "again.npz")
    assert p.read_bytes() == again.read_bytes()
    back = load_index(p)
    assert back.digest() == index.digest() and back.source_ids == ["bbb"]
    q = trailer_fp.column("flip")
    assert all(
        np.array_equal(a, b) for a, b in zip(back.search(q, 4), index.search(q, 4), strict=True)
    )
    mh = build_index({"bbb": film_fp}, hash_threshold=1)
    back_mh = load_index(mh.save(tmp_path / "mh.npz"))
    assert back_mh.kind == "multihash" and back_mh.nflip == 1
    assert np.array_equal(back_mh.search(q, 4)[0], mh.search(q, 4)[0])


def test_incremental_build_and_duplicate_source(film_fp, trailer_fp):
    idx = build_index({})
    idx.add("bbb", film_fp)
    n = idx.ntotal
    idx.add("trailer", trailer_fp)
    assert idx.ntotal == n + int(trailer_fp.valid.sum())
    with pytest.raises(ValueError, match="already"):
        idx.add("bbb", film_fp)


def test_load_missing_index_names_the_file(tmp_path):
    from tvhighlights.errors import IndexFileError

    with pytest.raises(IndexFileError, match=r"nope\.npz"):
        load_index(tmp_path / "nope.npz")


# --------------------------------------------------------------------------------------------
# Alignment


def test_trailer_spans_are_found(index, trailer_fp, film_fp):
    matches = align_derivative(trailer_fp, index, derivative_id="trailer")
    assert all(m.source_id == "bbb" and not m.flipped for m in matches)
    for (d0, d1), (s0, s1) in TRAILER_TRUTH:
        hits = [m for m in matches if m.source_start < s1 and s0 < m.source_end]
        assert hits, f"no match for source span {s0}-{s1}"
        best = max(hits, key=lambda m: m.num_frames)
        speed = (s1 - s0) / (d1 - d0)
        assert best.speed == pytest.approx(speed, abs=0.05)
        # same line: the offset agrees within one frame step
        assert best.source_start - speed * best.deriv_start == pytest.approx(
            s0 - speed * d0, abs=0.3
        )
    recall, precision = _clip_scores(matches, 596.4583)
    assert recall >= 0.97 and precision >= 0.99
    for m in matches:
        assert 0.0 <= m.confidence <= 1.0 and m.num_frames >= 4
        json.dumps(m.to_dict())


def test_shots_cut_matches(index, trailer_fp):
    matches = align_derivative(trailer_fp, index, shots=[(0.0, 20.0), (20.0, 55.125)])
    crossing = [m for m in matches if m.source_start < 55 and m.source_end > 37]
    assert {m.shot_index for m in crossing} == {0, 1}
    assert all(m.deriv_end <= 20.0 for m in crossing if m.shot_index == 0)


def test_unrelated_video_gives_no_match(index, sample):
    other = fingerprint_video(sample("iscc_mp4"))
    assert align_derivative(other, index, derivative_id="music") == []


def test_mirrored_derivative_is_flagged(index, sample):
    times, frames = read_frames(
        sample("bbb_trailer"), 4, size=(228, 128), grey=True, start=14, end=32
    )
    fp = fingerprint_frames(times, np.ascontiguousarray(frames[:, :, ::-1]))
    matches = align_derivative(fp, index)
    assert matches and all(m.flipped for m in matches)
    best = max(matches, key=lambda m: m.num_frames)
    assert best.source_start == pytest.approx(37.25, abs=0.5)
    assert best.source_end == pytest.approx(55.0, abs=0.5)


def test_fast_derivative_speed(index, sample):
    """Every second frame of a film scene: a 2x speed-up, found with speed 2."""
    times, frames = read_frames(sample("bbb"), 4, size=(228, 128), grey=True, start=37, end=55)
    fp = fingerprint_frames(times[::2][:36] / 2 - 18.5, frames[::2][:36])  # 0..9 s of 2x
    fp = Fingerprint(np.arange(len(fp)) / 4, fp.hashes, fp.valid, 4.0, len(fp) / 4, fp.params)
    matches = align_derivative(fp, index)
    best = max(matches, key=lambda m: m.num_frames)
    assert best.speed == pytest.approx(2.0, abs=0.05)
    assert best.source_start == pytest.approx(37.0, abs=0.5)


def test_empty_index_and_empty_fingerprint(trailer_fp, index):
    assert align_derivative(trailer_fp, build_index({})) == []
    empty = fingerprint_frames(np.zeros(0), np.zeros((0, 128, 228), np.uint8))
    assert align_derivative(empty, index) == []


@pytest.mark.slow
def test_trailer_against_the_whole_film(sample, trailer_fp, tmp_path):
    film = fingerprint_video(sample("bbb"), cache_dir=tmp_path)
    idx = build_index({"bbb": film})
    matches = align_derivative(trailer_fp, idx, derivative_id="trailer")
    recall, precision = _clip_scores(matches, film.duration)
    assert recall >= 0.97 and precision >= 0.99
    slow = [m for m in matches if m.source_start >= 281]
    assert slow and slow[0].speed == pytest.approx(0.5, abs=0.05)


def test_picture_in_picture_is_matched(index, sample):
    """The film shrunk to 40 % over another video: found through the inset window."""
    times, frames = read_frames(sample("bbb"), 4, size=(228, 128), grey=True, start=37, end=50)
    _, other = read_frames(sample("iscc_mp4"), 4, size=(228, 128), grey=True, end=13)
    canvas = other[: len(frames)].copy()
    ys = np.linspace(0, 127, 52).round().astype(int)
    xs = np.linspace(0, 227, 92).round().astype(int)
    canvas[:, 10:62, 20:112] = frames[:, ys][:, :, xs]
    fp = fingerprint_frames(times - 37.0, canvas)
    matches = align_derivative(fp, index)
    assert matches and all(not m.flipped for m in matches)
    best = max(matches, key=lambda m: m.num_frames)
    assert best.source_start == pytest.approx(37.0, abs=0.5)
    assert best.source_end == pytest.approx(50.0, abs=0.5)
