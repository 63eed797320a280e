"""Less is More: the weighted hinge, the batch softmax, genre pairing, votes -> labels."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from planted import make_planted
from sklearn.metrics import roc_auc_score
from tvhighlights.baselines import fit_baseline, get_baseline, load_baseline_data, score_data
from tvhighlights.baselines.base import BaselineData, BaselineVideo
from tvhighlights.baselines.less_is_more import (
    draw_pairs,
    genre_groups,
    pair_weights,
    reuse_signal,
    weighted_hinge,
)

from tvhighlights.errors import BaselineInputError


def _video(vid, n=4, votes=None, labels=None, genre="drama", d=3):
    rng = np.random.default_rng(len(vid))
    feats = {"x": {"visual": rng.normal(size=(n, d)).astype(np.float32)}}
    arr = lambda a: None if a is None else np.asarray(a)  # noqa: E731
    return BaselineVideo(vid, n, feats, has_audio=False, title=vid, genre=genre,
                         votes=arr(votes), labels=arr(labels))  # fmt: skip


# -- the math ---------------------------------------------------------------------------------


def test_weighted_hinge_on_hand_values():
    # hinges: max(0, 1-2+0)=0, max(0, 1-0.5+0.5)=1, max(0, 1-0+1)=2
    f_pos = torch.tensor([2.0, 0.5, 0.0])
    f_neg = torch.tensor([0.0, 0.5, 1.0])
    w = torch.tensor([0.5, 0.25, 0.25])
    assert float(weighted_hinge(f_pos, f_neg, w)) == pytest.approx(0.25 * 1 + 0.25 * 2)
    # all weight on the satisfied pair: the loss is 0
    assert float(weighted_hinge(f_pos, f_neg, torch.tensor([1.0, 0.0, 0.0]))) == 0.0


def test_pair_weights_are_the_batch_softmax():
    w = pair_weights(torch.tensor([[0.0], [math.log(3.0)]]))
    assert w.shape == (2,)
    np.testing.assert_allclose(w.numpy(), [0.25, 0.75], rtol=1e-6)
    assert float(pair_weights(torch.randn(7, 1)).sum()) == pytest.approx(1.0)


def test_genre_groups_none_is_its_own_group():
    g = genre_groups(["drama", None, "news", "drama", None])
    assert g[0] == g[3] and g[1] == g[4]
    assert len({g[0], g[1], g[2]}) == 3


def test_pairs_never_cross_genres():
    rng = np.random.default_rng(0)
    groups = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    positive = np.array([1, 0, 0, 1, 1, 0, 1, 1], dtype=bool)  # group 2 has no negative
    i, j = draw_pairs(groups, positive, 5, rng)
    assert len(i) == 5 * 3  # the three positives of groups 0 and 1, 5 times each
    assert (groups[i] == groups[j]).all()
    assert positive[i].all() and not positive[j].any()
    assert sorted(np.unique(i)) == [0, 3, 4]
    assert set(j[groups[i] == 0]) <= {1, 2} and set(j[groups[i] == 1]) == {5}


def test_no_pair_without_both_sides():
    i, j = draw_pairs(np.zeros(3, int), np.ones(3, bool), 4, np.random.default_rng(0))
    assert len(i) == len(j) == 0


def test_reuse_falls_back_from_votes_to_labels():
    s, src = reuse_signal(_video("a", votes=[0, 2, 0, 1], labels=[1, 0, 0, 0]))
    assert src == "votes" and s.tolist() == [False, True, False, True]
    s, src = reuse_signal(_video("a", labels=[1, 0, 0, 0]))
    assert src == "labels" and s.tolist() == [True, False, False, False]
    with pytest.raises(BaselineInputError, match=r"'less-is-more'.*'a'.*neither"):
        reuse_signal(_video("a"))


# -- end to end -------------------------------------------------------------------------------


def test_fit_and_score_planted(tmp_path):
    dataset, features = make_planted(tmp_path, n_videos=16)
    train = load_baseline_data(dataset, features, "train")
    b = fit_baseline(get_baseline("less-is-more", epochs=4), train)
    scores = score_data(b, train)
    assert set(scores) == {v.video_id for v in train.videos}
    for v in train.videos:
        assert scores[v.video_id].shape == (v.num_clips,)
        assert np.isfinite(scores[v.video_id]).all()
    y = np.concatenate([v.labels for v in train.videos])
    s = np.concatenate([scores[v.video_id] for v in train.videos])
    assert roc_auc_score(y, s) > 0.85
    # deterministic under the seed
    again = fit_baseline(get_baseline("less-is-more", epochs=4), train)
    np.testing.assert_allclose(score_data(again, train)["v00"], scores["v00"])


def test_labels_stand_in_for_votes():
    videos = [_video(f"v{i}", n=6, labels=[1, 1, 0, 0, 0, 0]) for i in range(3)]
    b = get_baseline("less-is-more", epochs=1)
    b.fit(BaselineData(videos, "train"))
    assert b.score(videos[0]).shape == (6,)


# -- bad input --------------------------------------------------------------------------------


def test_no_votes_nor_labels():
    b = get_baseline("less-is-more", epochs=1)
    with pytest.raises(BaselineInputError, match="neither"):
        b.fit(BaselineData([_video("v0")], "train"))


def test_no_genre_with_both_sides():
    videos = [_video("a", votes=[1, 1, 1, 1], genre="news"),
              _video("b", votes=[0, 0, 0, 0], genre="drama")]  # fmt: skip
    with pytest.raises(BaselineInputError, match="no genre holds both"):
        get_baseline("less-is-more", epochs=1).fit(BaselineData(videos, "train"))


def test_missing_visual_and_unfitted():
    b = get_baseline("less-is-more")
    bare = BaselineVideo("z", 3, {"x": {"audio": np.zeros((3, 2), np.float32)}})
    with pytest.raises(BaselineInputError, match="'less-is-more' needs visual"):
        b.check(bare)
    with pytest.raises(BaselineInputError, match="not fitted"):
        b.score(_video("a", votes=[0, 1, 0, 0]))


def test_width_mismatch_at_score():
    videos = [_video(f"v{i}", votes=[1, 0, 0, 0]) for i in range(2)]
    b = get_baseline("less-is-more", epochs=1).fit(BaselineData(videos, "train"))
    with pytest.raises(BaselineInputError, match="3 visual columns"):
        b.score(_video("w", votes=[1, 0, 0, 0], d=5))
