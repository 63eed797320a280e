"""AV-recurrence: recurrence as a dot with the category mean, top-t pseudo-highlights,
silhouette K, the network's streams, the small-data fallbacks and the rows end to end."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from planted import make_planted
from sklearn.metrics import roc_auc_score
from tvhighlights.baselines import fit_baseline, get_baseline, load_baseline_data, score_data
from tvhighlights.baselines.av_recurrence import (
    AVNetwork,
    _Clustering,
    average_recurrence,
    category_unit_sums,
    choose_k,
    mean_cosine,
    pseudo_highlights,
    unit_rows,
)
from tvhighlights.baselines.base import BaselineData, BaselineVideo

from tvhighlights.errors import BaselineInputError, InvalidArgumentError


def _pooled_auc(baseline, data):
    scores = score_data(baseline, data)
    for v in data.videos:
        s = scores[v.video_id]
        assert s.shape == (v.num_clips,) and np.isfinite(s).all()
    y = np.concatenate([v.labels for v in data.videos])
    return roc_auc_score(y, np.concatenate([scores[v.video_id] for v in data.videos]))


def _video(vid, n=6, visual=True, audio=True, has_audio=True, seed=0):
    rng = np.random.default_rng(seed)
    block = {}
    if visual:
        block["visual"] = rng.normal(size=(n, 4)).astype(np.float32)
    if audio:
        block["audio"] = rng.normal(size=(n, 3)).astype(np.float32) * has_audio
    return BaselineVideo(vid, n, {"x": block}, has_audio=has_audio, title=vid)


# -- the math ---------------------------------------------------------------------------------


def test_unit_rows_and_zero_rows():
    u = unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(u, [[0.6, 0.8], [0.0, 0.0]])


def test_mean_cosine_on_hand_values():
    # x = (1, 0) against {(2, 0), (0, 5)}: cosines 1 and 0 -> mean 0.5;
    # x = (1, 1) against them: cosines 1/sqrt2 and 1/sqrt2 -> mean 1/sqrt2
    members = np.array([[2.0, 0.0], [0.0, 5.0]])
    sums, counts = category_unit_sums(unit_rows(members), np.array([0, 0]), 1)
    np.testing.assert_allclose(sums, [[1.0, 1.0]])
    assert counts.tolist() == [2]
    got = mean_cosine(np.array([[1.0, 0.0], [1.0, 1.0]]), sums[0], int(counts[0]))
    np.testing.assert_allclose(got, [0.5, 1 / np.sqrt(2)])
    assert mean_cosine(np.ones((3, 2)), sums[0], 0).tolist() == [0.0, 0.0, 0.0]


def test_mean_cosine_equals_brute_force_similarity_matrix():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 7)) + 0.5
    members = rng.normal(size=(9, 7)) * rng.uniform(0.1, 10, size=(9, 1))  # norms differ
    cos = (x @ members.T) / np.outer(np.linalg.norm(x, axis=1), np.linalg.norm(members, axis=1))
    sums, counts = category_unit_sums(unit_rows(members), np.zeros(9, dtype=int), 1)
    np.testing.assert_allclose(mean_cosine(x, sums[0], int(counts[0])), cos.mean(axis=1))


def test_category_sums_respect_categories_and_mask():
    units = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.6, 0.8]])
    cats = np.array([0, 1, 1, 0])
    mask = np.array([True, True, False, True])  # clip 2 (say, of a video without audio) out
    sums, counts = category_unit_sums(units, cats, 3, mask)
    np.testing.assert_allclose(sums, [[1.6, 0.8], [0.0, 1.0], [0.0, 0.0]])
    assert counts.tolist() == [2, 1, 0]


def test_pseudo_highlights_take_the_top_half():
    assert pseudo_highlights(np.array([0.1, 0.9, 0.5, 0.3])).tolist() == [0, 1, 1, 0]
    # odd length: ceil(0.5 * 3) = 2 clips; a tie goes to the earlier clip
    assert pseudo_highlights(np.array([0.2, 0.2, 0.2])).tolist() == [1, 1, 0]
    assert pseudo_highlights(np.array([5.0, 1.0, 3.0, 2.0, 4.0]), top=0.2).tolist() == [
        1, 0, 0, 0, 0,
    ]  # fmt: skip


def test_average_recurrence_skips_missing_modalities():
    v, a = np.array([0.2, 0.4]), np.array([0.6, 0.0])
    np.testing.assert_allclose(average_recurrence([v, a]), [0.4, 0.2])
    np.testing.assert_allclose(average_recurrence([v, None]), v)


def test_choose_k_finds_two_blobs_and_gives_up_on_identical_points():
    z = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [5.0, 5.0], [5.1, 5.0], [5.0, 5.1]])
    labels, centroids = choose_k(z, 2, 5, seed=0)
    assert len(set(labels[:3])) == 1 and len(set(labels[3:])) == 1 and labels[0] != labels[3]
    np.testing.assert_allclose(centroids[labels[0]], [1 / 30, 1 / 30], atol=1e-9)
    assert choose_k(np.zeros((4, 2)), 2, 5) is None


def test_assignment_falls_back_to_f_space_when_umap_cannot_transform(caplog):
    class Broken:
        def transform(self, x):
            raise ValueError("no")

    c = _Clustering("umap", 2, np.zeros((2, 10)), np.array([[0.0, 0.0], [4.0, 4.0]]), Broken())
    with caplog.at_level(logging.WARNING):
        assert c.assign(np.array([[3.0, 5.0], [-1.0, 0.0]])).tolist() == [1, 0]
    assert "cannot transform" in caplog.text


def test_network_streams_and_padding():
    torch.manual_seed(0)
    av = AVNetwork({"visual": 4, "audio": 3}, hidden=8, heads=2)
    assert av.cross and av.stream_logits.shape == (4,)
    v = AVNetwork({"visual": 4}, hidden=8, heads=2)
    assert not v.cross and v.stream_logits.shape == (1,)
    assert not any("a2v" in n or "v2a" in n for n, _ in v.named_parameters())
    av.eval()
    x = {"visual": torch.randn(1, 5, 4), "audio": torch.randn(1, 5, 3)}
    alone = av(x, torch.zeros(1, 5, dtype=torch.bool))
    padded = {m: torch.cat([t, torch.randn(1, 3, t.shape[2]) * 100], dim=1) for m, t in x.items()}
    pad = torch.tensor([[False] * 5 + [True] * 3])
    with_pad = av(padded, pad)
    assert with_pad.shape == (1, 8)
    torch.testing.assert_close(with_pad[:, :5], alone)  # padding changes nothing


# -- end to end -------------------------------------------------------------------------------


def test_pseudo_row_with_umap_finds_the_planted_signal(tmp_path):
    # 14 train videos: UMAP runs (n_neighbors clipped to 13); the test videos go through
    # UMAP's transform to their nearest centroid
    ds, ft = make_planted(tmp_path, n_videos=18, clips=20, test_videos=4)
    train, test = load_baseline_data(ds, ft, "train"), load_baseline_data(ds, ft, "test")
    b = fit_baseline(get_baseline("av-recurrence-pseudo", umap_dim=4), train)
    assert b._clustering.kind == "umap" and b._net is None
    assert b.paper_figures[0].value == 52.59 and not b.supervised
    assert _pooled_auc(b, train) > 0.7
    assert _pooled_auc(b, test) > 0.6


def test_network_row_learns_the_planted_signal(tmp_path):
    # 10 train videos: K-means on f without UMAP (UMAP's cost is paid in the test above)
    ds, ft = make_planted(tmp_path, n_videos=14, clips=20, test_videos=4)
    train, test = load_baseline_data(ds, ft, "train"), load_baseline_data(ds, ft, "test")
    options = {"epochs": 20, "hidden": 32, "heads": 2}
    b = fit_baseline(get_baseline("av-recurrence", **options), train)
    assert b._clustering.kind == "kmeans" and b.requires == ("visual", "audio")
    # the pseudo-highlights (top half by recurrence) hold nearly every planted highlight
    y = np.concatenate([v.labels for v in train.videos])
    ph = np.concatenate([b.train_pseudo[v.video_id] for v in train.videos])
    assert ph[y == 1].mean() > 0.75  # chance: 0.5
    assert _pooled_auc(b, train) > 0.65
    assert _pooled_auc(b, test) > 0.7
    # deterministic: the same seed gives the same scores
    again = fit_baseline(get_baseline("av-recurrence", **options), train)
    v = test.videos[0]
    np.testing.assert_array_equal(b.score(v), again.score(v))


def test_single_modality_rows(tmp_path, caplog):
    ds, ft = make_planted(tmp_path, n_videos=6, clips=12)
    train = load_baseline_data(ds, ft, "train")
    vis = fit_baseline(get_baseline("av-recurrence-visual", epochs=1, hidden=8, heads=2), train)
    assert vis.requires == ("visual",) and not vis._net.cross
    assert vis.paper_figures[0].value == 55.02
    with caplog.at_level(logging.WARNING):
        aud = fit_baseline(get_baseline("av-recurrence-audio", epochs=1, hidden=8, heads=2), train)
        scores = score_data(aud, train)
    assert aud.requires == ("audio",) and aud.paper_figures[0].value == 55.45
    silent = [v for v in train.videos if not v.has_audio]
    assert silent and "without audio left out" in caplog.text
    assert all((scores[v.video_id] == 0).all() for v in silent)
    assert all(np.isfinite(s).all() for s in scores.values())


@pytest.mark.parametrize(("n", "kind"), [(2, "single"), (5, "kmeans")])
def test_few_videos_fall_back_with_a_warning(n, kind, caplog):
    data = BaselineData([_video(f"v{i}", seed=i, has_audio=i != 1) for i in range(n)], "train")
    for mode in ("pseudo", "network"):
        b = get_baseline("av-recurrence", mode=mode, epochs=1, hidden=8, heads=2)
        with caplog.at_level(logging.WARNING):
            fit_baseline(b, data)
        assert b._clustering.kind == kind
        assert ("one pseudo-category" if kind == "single" else "too few for a") in caplog.text
        for v, s in score_data(b, data).items():
            assert s.shape == (6,) and np.isfinite(s).all(), v
    # a video without audio gets its visual recurrence alone
    b = fit_baseline(get_baseline("av-recurrence-pseudo"), data)
    silent = data.videos[1]
    prep = b._prepared(silent)
    c = int(b._clustering.assign(prep["fbar"][None])[0])
    sums, counts = b._sums["visual"]
    np.testing.assert_allclose(
        b.score(silent), mean_cosine(prep["units"]["visual"], sums[c], int(counts[c]))
    )


# -- bad input ---------------------------------------------------------------------------------


def test_missing_modality_names_baseline_and_modality():
    data = BaselineData([_video(f"v{i}", seed=i, audio=False) for i in range(3)], "train")
    b = get_baseline("av-recurrence")
    with pytest.raises(BaselineInputError, match=r"'av-recurrence' needs audio features"):
        fit_baseline(b, data)
    fit_baseline(get_baseline("av-recurrence-visual", mode="pseudo"), data)  # visual suffices
    no_visual = BaselineData([_video(f"v{i}", seed=i, visual=False) for i in range(3)], "train")
    with pytest.raises(BaselineInputError, match=r"'av-recurrence-visual' needs visual features"):
        fit_baseline(get_baseline("av-recurrence-visual"), no_visual)


def test_audio_row_without_any_audio_and_other_errors():
    silent = BaselineData([_video(f"v{i}", seed=i, has_audio=False) for i in range(3)], "train")
    with pytest.raises(BaselineInputError, match=r"'av-recurrence-audio' needs train videos with"):
        fit_baseline(get_baseline("av-recurrence-audio"), silent)
    b = get_baseline("av-recurrence-pseudo")
    with pytest.raises(BaselineInputError, match="not fitted"):
        b.score(_video("v0"))
    fit_baseline(b, BaselineData([_video(f"v{i}", seed=i) for i in range(3)], "train"))
    wide = BaselineVideo("w", 6, {"x": {"visual": np.ones((6, 5)), "audio": np.ones((6, 3))}})
    with pytest.raises(BaselineInputError, match="fitted on 4 visual columns"):
        b.score(wide)
    with pytest.raises(InvalidArgumentError):
        get_baseline("av-recurrence", mode="other")
    with pytest.raises(InvalidArgumentError):
        get_baseline("av-recurrence", modalities=("visual", "text"))
