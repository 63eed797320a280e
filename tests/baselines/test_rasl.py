"""RASL (seed 004): the core math on hand-checkable inputs, a fit on planted data, bad inputs."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from planted import make_planted
from sklearn.metrics import roc_auc_score
from tvhighlights.baselines import fit_baseline, get_baseline, load_baseline_data, score_data
from tvhighlights.baselines.base import BaselineData, BaselineVideo
from tvhighlights.baselines.rasl import (
    fvs_mask,
    kpoint_loss,
    masked_mse,
    rasl_activation,
    symmetric_contrastive_loss,
    topk_bottomk,
)

from tvhighlights.errors import BaselineInputError, InvalidArgumentError

# -- core math -----------------------------------------------------------------------------------


def test_activation_is_tanh_of_the_latent_rms():
    z = torch.tensor([[3.0, 4.0], [0.0, 0.0], [-1.0, 1.0]])
    got = rasl_activation(z)
    want = [math.tanh(math.sqrt(12.5)), 0.0, math.tanh(1.0)]
    assert got.tolist() == pytest.approx(want, abs=1e-6)


ACT = torch.tensor(
    [
        [0.9, 0.1, 0.5, 0.8, 0.2],
        [0.3, 0.7, 5.0, 5.0, -5.0],  # two clips; the rest is padding with extreme values
        [0.4, 0.0, 0.0, 0.0, 0.0],  # one clip: nothing to contrast
    ]
)
VALID = torch.tensor([[True] * 5, [True, True] + [False] * 3, [True] + [False] * 4])


def test_topk_bottomk_picks_per_video_and_ignores_padding():
    top, bottom, kb = topk_bottomk(ACT, VALID, k=2)
    assert kb.tolist() == [2, 1, 0]  # min(k, length // 2)
    assert top.nonzero().tolist() == [[0, 0], [0, 3], [1, 1]]
    assert bottom.nonzero().tolist() == [[0, 1], [0, 4], [1, 0]]


def test_topk_ties_go_to_the_earlier_clip():
    top, bottom, _ = topk_bottomk(
        torch.tensor([[0.5, 0.5, 0.5, 0.5]]), torch.ones(1, 4, dtype=torch.bool), 1
    )
    assert top.nonzero().tolist() == [[0, 0]]
    assert bottom.nonzero().tolist() == [[0, 3]]  # one ranking: the sets never overlap


def test_kpoint_loss_by_hand():
    # video 0: top {0.9, 0.8} mean 0.85, bottom {0.1, 0.2} mean 0.15, gap 0.7
    # video 1: top {0.7}, bottom {0.3}, gap 0.4; video 2 (one clip) takes no part
    a = ACT.clone().requires_grad_(True)
    loss = kpoint_loss(a, VALID, k=2, margin=1.0)
    assert float(loss.detach()) == pytest.approx(((1.0 - 0.7) + (1.0 - 0.4)) / 2, abs=1e-6)
    loss.backward()
    g = a.grad
    # d/da of relu(m - gap) / 2 videos: -1/(2k) on the top-k, +1/(2k) on the bottom-k
    assert g[0].tolist() == pytest.approx([-0.25, 0.25, 0.0, -0.25, 0.25])
    assert g[1].tolist() == pytest.approx([0.5, -0.5, 0.0, 0.0, 0.0])
    assert g[2].abs().sum() == 0
    # margin met by video 0: only video 1's hinge is left
    assert float(kpoint_loss(ACT, VALID, k=2, margin=0.5)) == pytest.approx(0.1 / 2, abs=1e-6)
    # no video long enough: 0, not a crash
    assert float(kpoint_loss(ACT[2:], VALID[2:], k=2, margin=1.0)) == 0.0


def test_symmetric_contrastive_loss_by_hand():
    tau = 0.5
    eye = torch.eye(2)
    # identical unit pairs, orthogonal: each row's CE is log(1 + e^(-1/tau)); scale is ignored
    got = symmetric_contrastive_loss(3.0 * eye, eye, tau)
    assert float(got) == pytest.approx(math.log(1 + math.exp(-2.0)), abs=1e-6)
    # all latents the same: chance, log N
    same = torch.ones(4, 3)
    assert float(symmetric_contrastive_loss(same, same, tau)) == pytest.approx(math.log(4))
    # an asymmetric case: logits [[2, 2], [0, 0]]; visual->audio rows give log 2 and log 2,
    # audio->visual (the transpose [[2, 0], [2, 0]]) log(1 + e^-2) and log(1 + e^2)
    za = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    want = 0.5 * (math.log(2) + 0.5 * (math.log(1 + math.exp(-2)) + math.log(1 + math.exp(2))))
    assert float(symmetric_contrastive_loss(eye, za, tau)) == pytest.approx(want, abs=1e-6)


def test_fvs_mask_counts_positions_and_seed():
    lengths = [10, 4, 1]
    mask = fvs_mask(lengths, 0.25, np.random.default_rng(7))
    assert mask.shape == (3, 10)
    # round half up: 2.5 -> 3, 1.0 -> 1, 0.25 -> at least 1
    assert mask.sum(axis=1).tolist() == [3, 1, 1]
    assert not mask[1, 4:].any() and not mask[2, 1:].any()  # padding never masked
    # the positions: the smallest keys of one rng.random((B, T)) draw within each video
    keys = np.random.default_rng(7).random((3, 10))
    assert set(np.flatnonzero(mask[0])) == set(np.argsort(keys[0])[:3])
    assert set(np.flatnonzero(mask[1])) == {int(np.argmin(keys[1, :4]))}
    assert mask[2, 0]
    assert (fvs_mask(lengths, 0.25, np.random.default_rng(7)) == mask).all()
    assert (fvs_mask(lengths, 0.25, np.random.default_rng(8)) != mask).any()
    assert fvs_mask([6], 1.0, np.random.default_rng(0)).all()


def test_masked_mse_only_counts_masked_positions():
    pred = torch.zeros(1, 3, 2)
    target = torch.tensor([[[1.0, 1.0], [2.0, 2.0], [100.0, 100.0]]])
    mask = torch.tensor([[True, True, False]])
    assert float(masked_mse(pred, target, mask)) == pytest.approx((1 + 1 + 4 + 4) / 4)
    assert float(masked_mse(pred, target, torch.zeros(1, 3, dtype=torch.bool))) == 0.0


# -- fit and score on planted data ---------------------------------------------------------------


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    dataset, features = make_planted(tmp_path_factory.mktemp("rasl"), n_videos=12)
    return load_baseline_data(dataset, features, "train")


@pytest.fixture(scope="module")
def fitted(planted):
    return fit_baseline(get_baseline("rasl", epochs=3), planted)


def _auc(data, scores):
    y = np.concatenate([v.labels for v in data.videos])
    s = np.concatenate([scores[v.video_id] for v in data.videos])
    return roc_auc_score(y, s)


def test_fit_and_score_on_planted(planted, fitted):
    assert not fitted.supervised and fitted.paper_figures == ()
    scores = score_data(fitted, planted)
    for v in planted.videos:
        assert scores[v.video_id].shape == (v.num_clips,)
        assert np.isfinite(scores[v.video_id]).all()
    assert len(fitted.losses) == 3
    assert all(np.isfinite(list(e.values())).all() for e in fitted.losses)
    for term in ("rasl", "scl", "fvs", "total"):  # every term of the multitask loss trains
        assert fitted.losses[-1][term] < fitted.losses[0][term]
    # the planted highlights are atypical clips (3 shifted visual columns); the unsupervised
    # activation is not told about them, yet here picks them out above chance
    assert _auc(planted, scores) > 0.65


def test_same_seed_same_scores(planted, fitted):
    again = fit_baseline(get_baseline("rasl", epochs=3), planted)
    v = planted.videos[1]
    assert np.array_equal(fitted.score(v), again.score(v))


def _with_audio(video: BaselineVideo, audio: np.ndarray) -> BaselineVideo:
    features = {e: {**m, "audio": audio} for e, m in video.features.items()}
    return dataclasses.replace(video, features=features)


def test_rasl_scores_from_visual_alone(planted, fitted):
    v = next(x for x in planted.videos if x.has_audio)
    noise = np.random.default_rng(1).normal(size=v.audio.shape).astype(np.float32) * 5
    assert np.array_equal(fitted.score(v), fitted.score(_with_audio(v, noise)))


def test_rasl_av_uses_audio_where_there_is_some(planted):
    b = fit_baseline(get_baseline("rasl-av", epochs=1), planted)
    v = next(x for x in planted.videos if x.has_audio)
    noise = np.random.default_rng(1).normal(size=v.audio.shape).astype(np.float32) * 5
    assert not np.allclose(b.score(v), b.score(_with_audio(v, noise)))
    silent = next(x for x in planted.videos if not x.has_audio)
    visual_only = b._activation(silent, "visual", torch.device("cpu"))
    assert np.array_equal(b.score(silent), visual_only)


# -- bad inputs ----------------------------------------------------------------------------------


def _video(vid: str, n: int = 6, audio: bool = True, has_audio: bool = True) -> BaselineVideo:
    rng = np.random.default_rng(0)
    block = {"visual": rng.normal(size=(n, 4)).astype(np.float32)}
    if audio:
        block["audio"] = rng.normal(size=(n, 3)).astype(np.float32)
    return BaselineVideo(vid, n, {"cue": block}, has_audio=has_audio)


def test_fit_needs_audio_features():
    b = get_baseline("rasl", epochs=1)
    with pytest.raises(BaselineInputError, match=r"'rasl'.*audio"):
        b.fit(BaselineData([_video("a"), _video("b", audio=False)], "train"))


def test_fit_needs_a_train_video_with_audio():
    b = get_baseline("rasl-av", epochs=1)
    data = BaselineData([_video("a", has_audio=False), _video("b", has_audio=False)], "train")
    with pytest.raises(BaselineInputError, match=r"'rasl-av'.*audio track"):
        fit_baseline(b, data)


def test_fit_needs_videos_and_score_needs_a_fit():
    b = get_baseline("rasl", epochs=1)
    with pytest.raises(BaselineInputError, match=r"'rasl'.*train videos"):
        b.fit(BaselineData([], "train"))
    with pytest.raises(BaselineInputError, match=r"'rasl'.*not fitted"):
        b.score(_video("a"))


def test_score_needs_the_fitted_widths():
    b = get_baseline("rasl", epochs=1).fit(BaselineData([_video("a"), _video("b", 1)], "train"))
    other = BaselineVideo("c", 5, {"cue": {"visual": np.zeros((5, 7), np.float32)}})
    with pytest.raises(BaselineInputError, match=r"'rasl'.*4 visual columns.*7"):
        b.score(other)


def test_bad_modalities():
    with pytest.raises(InvalidArgumentError, match="modalities"):
        get_baseline("rasl", modalities=("audio",))
