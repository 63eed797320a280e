"""HL-CLIP (seed 003): the cosine, saliency pooling, the adapter, and the rows end to end on a
store of tiny-CLIP features whose highlight clips lean towards their title's text embedding."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from tiny_models import make_tiny_clip, make_tiny_clip_vision
from tvhighlights.baselines import fit_baseline, get_baseline, load_baseline_data, score_data
from tvhighlights.baselines.base import BaselineData, BaselineVideo
from tvhighlights.baselines.hl_clip import (
    GENERIC_PROMPT,
    HLCLIPBaseline,
    ResidualAdapter,
    cosine_saliency,
    genre_prompt,
    saliency_pooling,
    saliency_targets,
)
from tvhighlights.builders.tvhighlights import write_dataset

from tvhighlights.errors import BaselineInputError
from tvhighlights.features.store import FeatureStore

KEY = "clip-v1-0000000000"
TITLES = ["the storm", "a wedding night", "rooftop chase", "the final duel"]
WORDS = sorted({w for t in [*TITLES, "a highlight moment of a drama film"] for w in t.split()})


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory) -> Path:
    return make_tiny_clip(tmp_path_factory.mktemp("hlclip") / "clip", words=WORDS)


def _text_embeddings(path: Path, texts: list[str]) -> np.ndarray:
    """Independently of the module: the full CLIPModel's normalised text features."""
    from transformers import AutoTokenizer, CLIPModel

    tok = AutoTokenizer.from_pretrained(path)
    model = CLIPModel.from_pretrained(path).eval()
    with torch.no_grad():
        out = model.get_text_features(**tok(texts, padding=True, return_tensors="pt"))
    out = getattr(out, "pooler_output", out)
    return torch.nn.functional.normalize(out, dim=-1).numpy()


def make_clip_store(
    root: Path,
    clip_path: Path,
    *,
    n_videos: int = 16,
    clips: int = 24,
    test_videos: int = 6,
    title_lean: float = 0.35,
    cue_lean: float = 1.2,
    seed: int = 0,
    settings: dict | None = None,
) -> tuple[Path, Path]:
    """Like tests/planted.make_planted, with an extractor named "clip" recording the tiny CLIP
    as its model. A highlight clip is noise + ``title_lean`` times its title's text embedding
    (what zero-shot finds) + ``cue_lean`` times a fixed direction the text knows nothing of
    (what only the adapter can learn to use); every clip is L2-normalised."""
    rng = np.random.default_rng(seed)
    t = _text_embeddings(clip_path, TITLES)
    dim = t.shape[1]
    cue = rng.normal(size=dim)
    cue -= t.mean(0) * (cue @ t.mean(0)) / (t.mean(0) @ t.mean(0))  # orthogonal to the texts
    cue /= np.linalg.norm(cue)
    store = FeatureStore(root / "features")
    store.root.mkdir(parents=True)
    store.record_extractors(
        [{"name": "clip", "version": 1, "key": KEY, "dims": {"visual": dim},
          "settings": settings if settings is not None else {"model": str(clip_path)}}]
    )  # fmt: skip
    rows, entries = [], []
    for i in range(n_videos):
        n = clips - (i % 3)
        title = TITLES[i % len(TITLES)]
        labels = np.zeros(n, dtype=int)  # one highlight run of 3 to 5 clips
        start, length = int(rng.integers(0, n - 5)), int(rng.integers(3, 6))
        labels[start : start + length] = 1
        x = rng.normal(size=(n, dim)) / np.sqrt(dim)
        x[labels == 1] += title_lean * t[i % len(TITLES)] + cue_lean * cue
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        sha = hashlib.sha256(f"hlclip-{seed}-{i}".encode()).hexdigest()
        store.write(KEY, sha, {"visual": x.astype(np.float32)}, num_clips=n, has_audio=False)
        vid = f"v{i:02d}"
        entries.append({"video_id": vid, "path": f"/videos/{vid}.mp4", "sha256": sha,
                        "offset": 0, "num_clips": n, "file_num_clips": n,
                        "has_audio": False, "extractors": [KEY]})  # fmt: skip
        rows.append(
            dict(video_id=vid, source_id=vid, title=title, genre="drama", start=0.0,
                 end=2.0 * n, duration=2.0 * n, num_clips=n, votes=labels.tolist(),
                 scores=labels.astype(float).tolist(), labels=labels.tolist(), categories=None,
                 video_label=1, num_derivatives=1, video_path=f"/videos/{vid}.mp4")
        )  # fmt: skip
    store.append_index(entries, "rank000-of-001")
    write_dataset(root / "tvh", {"train": rows[:-test_videos], "test": rows[-test_videos:]})
    return root / "tvh", root / "features"


@pytest.fixture(scope="module")
def clip_store(tiny_clip, tmp_path_factory):
    tvh, feats = make_clip_store(tmp_path_factory.mktemp("hlclip_store"), tiny_clip)
    return load_baseline_data(tvh, feats, "train"), load_baseline_data(tvh, feats, "test")


def _auc(scores: dict, data: BaselineData) -> float:
    y = np.concatenate([v.labels for v in data.videos])
    s = np.concatenate([scores[v.video_id] for v in data.videos])
    return float(roc_auc_score(y, s))


# -- the math, by hand -------------------------------------------------------------------------


def test_cosine_saliency_by_hand():
    image = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0], [-1.0, 0.0]])
    text = torch.tensor([2.0, 0.0])
    got = cosine_saliency(image, text).numpy()
    np.testing.assert_allclose(got, [1.0, 0.0, np.sqrt(0.5), -1.0], atol=1e-6)
    per_clip = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 1.0]])
    got = cosine_saliency(image, per_clip).numpy()
    np.testing.assert_allclose(got, [1.0, 1.0, np.sqrt(0.5), -np.sqrt(0.5)], atol=1e-6)


def test_saliency_pooling_moving_average_with_edges():
    s = np.array([3.0, 0.0, 6.0, 3.0, 9.0])
    # window 1: edges average the 2 clips that exist, the middle ones 3
    np.testing.assert_allclose(saliency_pooling(s, 1), [1.5, 3.0, 3.0, 6.0, 6.0])
    # window 2: clip 0 sees 0..2, clip 1 0..3, clip 2 all five
    np.testing.assert_allclose(saliency_pooling(s, 2), [3.0, 3.0, 4.2, 4.5, 6.0])
    np.testing.assert_allclose(saliency_pooling(s, 0), s)
    np.testing.assert_allclose(saliency_pooling(np.array([4.0]), 3), [4.0])
    np.testing.assert_allclose(saliency_pooling(s, 10), np.full(5, s.mean()))


def test_targets_and_genre_prompt():
    np.testing.assert_allclose(saliency_targets(np.array([0, 2, 4, 1])), [0, 0.5, 1, 0.25])
    np.testing.assert_allclose(saliency_targets(np.zeros(3, dtype=int)), [0, 0, 0])
    assert genre_prompt("drama") == "a highlight moment of a drama film"
    assert genre_prompt(None) == GENERIC_PROMPT == "a highlight moment of a film"
    assert genre_prompt("  ") == GENERIC_PROMPT
    v = BaselineVideo("v", 2, {}, title="The Storm", genre="thriller")
    assert HLCLIPBaseline(text="genre").query(v) == "a highlight moment of a thriller film"
    assert HLCLIPBaseline().query(v) == "The Storm"
    assert HLCLIPBaseline(text="genre").requires == ("clip",)
    assert HLCLIPBaseline().requires == ("clip", "title")


def test_adapter_is_identity_at_init():
    torch.manual_seed(0)
    adapter = ResidualAdapter(6, 2)
    x = torch.randn(5, 6)
    out = adapter(x)
    np.testing.assert_allclose(out.detach(), torch.nn.functional.normalize(x, dim=-1), atol=0)
    # and its gradient can still move it (the zeroed layer gets one)
    cosine_saliency(out, torch.ones(6)).sum().backward()
    assert adapter.up.weight.grad.abs().sum() > 0


# -- end to end ---------------------------------------------------------------------------------


def test_zero_shot_embeds_the_title_with_the_same_clip(clip_store, tiny_clip):
    train, test = clip_store
    base = fit_baseline(get_baseline("hl-clip"), train)
    assert base.adapter is None and not base.supervised
    assert base.dim == 16
    v = test.videos[0]
    expected = _text_embeddings(tiny_clip, [v.title])[0]
    np.testing.assert_allclose(base.embed_texts([v.title])[0], expected, atol=1e-5)
    raw = (
        v.features["clip"]["visual"]
        @ expected
        / np.linalg.norm(v.features["clip"]["visual"], axis=1)
    )
    np.testing.assert_allclose(base.raw_saliency(v), raw, atol=1e-5)
    np.testing.assert_allclose(base.score(v), saliency_pooling(raw, 1), atol=1e-5)
    scores = score_data(base, test)
    for v in test.videos:
        assert scores[v.video_id].shape == (v.num_clips,)
        assert np.isfinite(scores[v.video_id]).all()
    assert _auc(scores, test) > 0.6  # the title lean is found without training


def test_adapter_untrained_equals_zero_shot_and_training_helps(clip_store):
    train, test = clip_store
    zero = fit_baseline(get_baseline("hl-clip"), train)
    untrained = fit_baseline(get_baseline("hl-clip-adapted", epochs=0), train)
    assert untrained.adapter is not None and untrained.supervised
    s0, s1 = score_data(zero, test), score_data(untrained, test)
    for vid in s0:
        np.testing.assert_allclose(s1[vid], s0[vid], atol=1e-6)

    adapted = fit_baseline(get_baseline("hl-clip-adapted", epochs=15, lr=1e-2), train)
    h = adapted.history_
    assert len(h) == 16 and h[-1] < 0.8 * h[0]  # the MSE falls
    assert h[0] == pytest.approx(untrained.history_[0])
    auc0, auc1 = _auc(s0, test), _auc(score_data(adapted, test), test)
    assert auc1 >= auc0 + 0.05, (auc0, auc1)  # the cue the text misses is learnt

    runs = [fit_baseline(get_baseline("hl-clip-adapted", epochs=2), train) for _ in range(2)]
    assert runs[0].history_ == runs[1].history_  # seeded: the same fit twice


def test_genre_row_scores(clip_store):
    train, test = clip_store
    base = fit_baseline(HLCLIPBaseline(text="genre", window=0), train)
    v = test.videos[0]
    np.testing.assert_allclose(base.score(v), base.raw_saliency(v))
    assert "a highlight moment of a drama film" in base._text_cache


# -- bad input ----------------------------------------------------------------------------------


def test_no_text_tower_is_named(tiny_clip, tmp_path):
    vision = make_tiny_clip_vision(tiny_clip, tmp_path / "vision", projection=True)
    video = BaselineVideo("v0", 3, {"clip": {"visual": np.ones((3, 16), np.float32)}}, title="x")
    for settings in (
        {"model": str(vision)},
        {"model": "/nowhere", "model_type": "clip_vision_model"},
    ):
        data = BaselineData([video], "train", extractors={"clip": {"settings": settings}})
        with pytest.raises(BaselineInputError, match=r"'hl-clip'.*has no text tower"):
            fit_baseline(get_baseline("hl-clip"), data)


def test_missing_inputs_are_named(tiny_clip, tmp_path):
    from planted import make_planted

    tvh, feats = make_planted(tmp_path, n_videos=2, clips=6)  # extractor "planted", no clip
    with pytest.raises(BaselineInputError, match=r"'hl-clip'.*'clip' extractor"):
        fit_baseline(get_baseline("hl-clip"), load_baseline_data(tvh, feats, "train"))

    clip = {"clip": {"settings": {"model": str(tiny_clip)}}}
    untitled = BaselineVideo("v0", 3, {"clip": {"visual": np.ones((3, 16), np.float32)}})
    with pytest.raises(BaselineInputError, match=r"'hl-clip'.*title"):
        fit_baseline(get_baseline("hl-clip"), BaselineData([untitled], "train", extractors=clip))

    unlabelled = BaselineVideo(
        "v0", 3, {"clip": {"visual": np.ones((3, 16), np.float32)}}, title="the storm"
    )
    data = BaselineData([unlabelled], "train", extractors=clip)
    with pytest.raises(BaselineInputError, match=r"'hl-clip-adapted'.*labels"):
        fit_baseline(get_baseline("hl-clip-adapted", epochs=1), data)
    with pytest.raises(BaselineInputError, match=r"'hl-clip'.*not fitted"):
        score_data(get_baseline("hl-clip"), [unlabelled])

    fitted = fit_baseline(get_baseline("hl-clip"), data)
    narrow = BaselineVideo("v1", 3, {"clip": {"visual": np.ones((3, 8), np.float32)}}, title="a")
    with pytest.raises(BaselineInputError, match=r"'hl-clip'.*16 dimensions"):
        score_data(fitted, [narrow])
