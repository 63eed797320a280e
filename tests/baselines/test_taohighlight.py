"""TaoHighlight: the title gate, the normalised adjacency, top-k, windows -> clips, end to end."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from planted import make_planted
from sklearn.metrics import roc_auc_score
from tvhighlights.baselines import fit_baseline, get_baseline, load_baseline_data, score_data
from tvhighlights.baselines.base import BaselineData, BaselineVideo
from tvhighlights.baselines.taohighlight import (
    normalized_adjacency,
    start_targets,
    title_gate,
    top_k_nodes,
    window_fraction,
    windows_to_clips,
)

from tvhighlights.errors import BaselineInputError, InvalidArgumentError


@pytest.fixture(scope="module")
def embedder():
    """The real all-MiniLM-L6-v2, loaded once for the module."""
    from tvhighlights.llm.embeddings import TextEmbedder

    return TextEmbedder()


class FakeEmbedder:
    """Counts its calls; a fixed 4-d vector per text."""

    def __init__(self):
        self.calls = 0

    def encode(self, texts):
        self.calls += 1
        return np.stack([np.full(4, float(len(t))) for t in texts])


def _video(vid, n=6, labels=(0, 1, 1, 0, 0, 0), title=None, d=3):
    rng = np.random.default_rng(len(vid))
    feats = {"x": {"visual": rng.normal(size=(n, d)).astype(np.float32)}}
    lab = None if labels is None else np.asarray(labels)
    return BaselineVideo(vid, n, feats, title=vid if title is None else title, labels=lab)


# -- the math ---------------------------------------------------------------------------------


def test_gate_scales_h_by_sigmoid():
    h = torch.tensor([[1.0, 2.0], [3.0, -4.0]])  # T=2 clips, H=2
    e = torch.tensor([5.0])  # E=1
    out = title_gate(h, e, torch.zeros(2, 3), torch.tensor([0.0, math.log(3.0)]))
    # g = (sigmoid(0), sigmoid(log 3)) = (0.5, 0.75) on every clip
    np.testing.assert_allclose(out.numpy(), [[0.5, 1.5], [1.5, -3.0]], rtol=1e-6)


def test_gate_reads_the_title():
    h = torch.ones(1, 2)
    w = torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])  # channel 0's gate reads e
    low = title_gate(h, torch.tensor([-100.0]), w, torch.zeros(2))
    high = title_gate(h, torch.tensor([100.0]), w, torch.zeros(2))
    np.testing.assert_allclose(low.numpy(), [[0.0, 0.5]], atol=1e-6)
    np.testing.assert_allclose(high.numpy(), [[1.0, 0.5]], atol=1e-6)


def test_gate_batched_one_title_per_video():
    h = torch.ones(2, 3, 2)
    e = torch.tensor([[-100.0], [100.0]])
    w = torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    out = title_gate(h, e, w, torch.zeros(2))
    np.testing.assert_allclose(out[0].numpy(), 0.0, atol=1e-6)
    np.testing.assert_allclose(out[1].numpy(), 1.0, atol=1e-6)


def test_normalized_adjacency_of_three_nodes():
    nodes = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]], dtype=torch.float64)
    c = 1 / math.sqrt(2)  # cos(0,1) = cos(1,2); cos(0,2) = 0
    d0, d1 = 1 + c, 1 + 2 * c  # degrees with the self-loop: 1 + c, 1 + 2c, 1 + c
    expected = [
        [1 / d0, c / math.sqrt(d0 * d1), 0.0],
        [c / math.sqrt(d0 * d1), 1 / d1, c / math.sqrt(d0 * d1)],
        [0.0, c / math.sqrt(d0 * d1), 1 / d0],
    ]
    np.testing.assert_allclose(normalized_adjacency(nodes).numpy(), expected, rtol=1e-12)


def test_adjacency_clips_negative_cosine_and_isolates_padding():
    opposite = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
    np.testing.assert_allclose(normalized_adjacency(opposite).numpy(), np.eye(2), atol=1e-7)
    same = torch.tensor([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    adj = normalized_adjacency(same, torch.tensor([True, True, False])).numpy()
    np.testing.assert_allclose(adj, [[0.5, 0.5, 0], [0.5, 0.5, 0], [0, 0, 1]], atol=1e-7)


def test_top_k_selection():
    logits = torch.tensor([[0.1, 0.9, 0.5, 0.7], [0.3, 0.2, 9.0, 9.0]])
    mask = torch.tensor([[True, True, True, True], [True, True, False, False]])
    idx, valid = top_k_nodes(logits, mask, 3)
    assert idx[0].tolist() == [1, 3, 2] and valid[0].all()
    assert idx[1, :2].tolist() == [0, 1] and valid[1].tolist() == [True, True, False]
    idx, _ = top_k_nodes(logits, mask, 10)  # k beyond the length: every clip
    assert idx.shape == (2, 4)


def test_windows_to_clips_sums_the_covering_starts():
    p = np.array([0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(windows_to_clips(p, 1), p)
    np.testing.assert_allclose(windows_to_clips(p, 2), [0.1, 0.3, 0.5, 0.7])
    np.testing.assert_allclose(windows_to_clips(p, 3), [0.1, 0.3, 0.6, 0.9])
    np.testing.assert_allclose(windows_to_clips(p, 9), np.cumsum(p))


def test_start_targets_mostly_positive_windows():
    labels = np.array([0, 1, 1, 0, 1])
    np.testing.assert_allclose(window_fraction(labels, 3), [2 / 3, 2 / 3, 2 / 3, 1 / 2, 1])
    assert start_targets(labels, 3).tolist() == [1, 1, 1, 0, 1]  # 1/2 is not "mostly"
    # no mostly-positive window: those with the largest share
    assert start_targets(np.array([0, 1, 0, 0, 0, 0]), 3).tolist() == [1, 1, 0, 0, 0, 0]
    assert not start_targets(np.zeros(4, int), 3).any()


# -- the baseline -----------------------------------------------------------------------------


def test_fit_and_score_planted(tmp_path, embedder):
    dataset, features = make_planted(tmp_path, n_videos=16)
    train = load_baseline_data(dataset, features, "train")
    b = fit_baseline(get_baseline("taohighlight", epochs=10, title_embedder=embedder), train)
    scores = score_data(b, train)
    assert set(scores) == {v.video_id for v in train.videos}
    for v in train.videos:
        assert scores[v.video_id].shape == (v.num_clips,)
        assert np.isfinite(scores[v.video_id]).all()
    y = np.concatenate([v.labels for v in train.videos])
    s = np.concatenate([scores[v.video_id] for v in train.videos])
    # planted positives are isolated clips, so a 3-clip window also lifts their neighbours
    assert roc_auc_score(y, s) > 0.65
    again = fit_baseline(get_baseline("taohighlight", epochs=10, title_embedder=embedder), train)
    np.testing.assert_allclose(score_data(again, train)["v00"], scores["v00"])
    # one-clip windows: the start probabilities are the clip scores
    sharp = get_baseline("taohighlight", epochs=10, window=1, title_embedder=embedder)
    scores = score_data(fit_baseline(sharp, train), train)
    assert roc_auc_score(y, np.concatenate([scores[v.video_id] for v in train.videos])) > 0.85


def test_embedder_made_once_and_reused():
    fake = FakeEmbedder()
    videos = [_video(f"v{i}") for i in range(3)]
    b = get_baseline("taohighlight", epochs=1, title_embedder=fake).fit(BaselineData(videos, "t"))
    b.score(videos[0])
    assert b.title_embedder is fake and fake.calls == 2
    default = get_baseline("taohighlight")
    assert default.title_embedder is default.title_embedder  # made on first use, kept


def test_one_clip_video_and_short_rows():
    fake = FakeEmbedder()
    videos = [_video("a"), _video("bb", n=2, labels=(1, 0)), _video("c", n=1, labels=(1,))]
    b = get_baseline("taohighlight", epochs=2, top_k=4, title_embedder=fake)
    b.fit(BaselineData(videos, "t"))
    out = b.score(videos[2])
    assert out.shape == (1,) and np.isfinite(out).all()


# -- bad input --------------------------------------------------------------------------------


def test_empty_title_is_an_input_error():
    b = get_baseline("taohighlight", epochs=1, title_embedder=FakeEmbedder())
    videos = [_video("a"), _video("b", title="  ")]
    with pytest.raises(BaselineInputError, match=r"'taohighlight' needs the video's title.*'b'"):
        fit_baseline(b, BaselineData(videos, "t"))
    with pytest.raises(BaselineInputError, match="title"):
        b.fit(BaselineData(videos, "t"))
    b.fit(BaselineData(videos[:1], "t"))
    with pytest.raises(BaselineInputError, match="title"):
        b.score(replace(videos[0], title=""))


def test_labels_are_required():
    b = get_baseline("taohighlight", epochs=1, title_embedder=FakeEmbedder())
    with pytest.raises(BaselineInputError, match=r"'taohighlight'.*clip labels.*'a'"):
        b.fit(BaselineData([_video("a", labels=None)], "t"))
    with pytest.raises(BaselineInputError, match="positive train clip labels"):
        b.fit(BaselineData([_video("a", labels=(0,) * 6)], "t"))


def test_missing_visual_unfitted_and_width():
    b = get_baseline("taohighlight", epochs=1, title_embedder=FakeEmbedder())
    bare = BaselineVideo("z", 3, {"x": {"audio": np.zeros((3, 2), np.float32)}}, title="z")
    with pytest.raises(BaselineInputError, match="needs visual"):
        b.check(bare)
    with pytest.raises(BaselineInputError, match="not fitted"):
        b.score(_video("a"))
    b.fit(BaselineData([_video("a")], "t"))
    with pytest.raises(BaselineInputError, match="3 visual columns"):
        b.score(_video("w", d=5))
    with pytest.raises(InvalidArgumentError, match="at least 1"):
        get_baseline("taohighlight", window=0)
