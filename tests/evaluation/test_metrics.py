"""tvhighlights.metrics against independent implementations and hand-worked examples.

* clip AUC / AP: scikit-learn, per video and pooled, on random data with many ties;
* QVHighlights HD, TVSum top-5, YouTube Highlights: oracles below that transcribe the
  reference loops (jayleicn/moment_detr standalone_eval/{eval,utils}.py, TencentARC/UMT
  datasets/{tvsum,youtube}.py) statement by statement, plus examples worked by hand;
* kappas: scikit-learn and statsmodels.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.metrics import (
    average_precision_score,
    cohen_kappa_score,
    precision_recall_curve,
    roc_auc_score,
)

from tvhighlights.evaluation.metrics import (
    _ranking,
    clip_auc_ap,
    cohen_kappa,
    fleiss_kappa,
    qvhighlights_hd,
    tvsum_top5_ap,
    tvsum_top5_map,
    youtube_ap,
    youtube_map,
)

approx = pytest.approx


def _random_videos(rng, num_videos, max_clips=40, decimals=1, p_pos=0.3):
    """Videos of 1..max_clips clips, coarse scores (many ties), some one-class videos."""
    labels, scores = [], []
    for v in range(num_videos):
        n = int(rng.integers(1, max_clips + 1))
        y = (rng.random(n) < p_pos).astype(int)
        if v % 17 == 0:
            y[:] = 0
        elif v % 19 == 0:
            y[:] = 1
        labels.append(y)
        scores.append(np.round(rng.random(n) + 0.3 * y, decimals))
    return labels, scores


def _one_class(y) -> bool:
    return len(set(np.asarray(y).tolist())) < 2


# --------------------------------------------------------------------------------------------
# clip_auc_ap
# --------------------------------------------------------------------------------------------


def test_clip_auc_ap_hand_example():
    # positives 0.9, 0.8 vs negatives 0.8, 0.1: pairs won 1 + 1 + 1/2 (tie) + 1 = 3.5 of 4
    # AP: threshold 0.9 -> recall 1/2 at precision 1; 0.8 -> recall 1 at precision 2/3
    #     = 1/2 * 1 + 1/2 * 2/3 = 5/6
    r = clip_auc_ap([[1, 0, 1, 0]], [[0.9, 0.8, 0.8, 0.1]])
    assert r["pooled_auc"] == approx(87.5)
    assert r["video_auc"] == approx(87.5)
    assert r["pooled_ap"] == approx(500 / 6)
    assert r["video_ap"] == approx(500 / 6)
    assert (r["num_videos"], r["num_clips"], r["num_positive"]) == (1, 4, 2)
    assert (r["num_videos_scored"], r["num_videos_skipped"]) == (1, 0)
    assert "per_category" not in r and "per_genre" not in r


def test_one_class_videos_are_skipped_and_counted():
    labels = [[1, 0, 1, 0], [0, 0, 0], [1, 1], [1]]
    scores = [[0.9, 0.8, 0.8, 0.1], [0.5, 0.4, 0.3], [0.2, 0.1], [0.7]]
    r = clip_auc_ap(labels, scores)
    assert (r["num_videos_scored"], r["num_videos_skipped"]) == (1, 3)
    assert r["video_auc"] == approx(87.5)  # only the first video has both classes
    assert r["video_ap"] == approx(500 / 6)
    flat_y, flat_s = np.concatenate(labels), np.concatenate(scores)
    assert r["pooled_auc"] == approx(100 * roc_auc_score(flat_y, flat_s))
    assert r["pooled_ap"] == approx(100 * average_precision_score(flat_y, flat_s))
    assert (r["num_clips"], r["num_positive"]) == (10, 5)


def test_single_class_everywhere_gives_nan():
    r = clip_auc_ap([[0, 0], [0]], [[0.1, 0.2], [0.3]])
    assert np.isnan(r["pooled_auc"]) and np.isnan(r["pooled_ap"])
    assert np.isnan(r["video_auc"]) and np.isnan(r["video_ap"])
    assert (r["num_videos_scored"], r["num_videos_skipped"]) == (0, 2)
    r = clip_auc_ap([[1, 1]], [[0.1, 0.2]])
    assert np.isnan(r["pooled_auc"]) and np.isnan(r["pooled_ap"])


def test_all_tied_scores_are_chance():
    r = clip_auc_ap([[1, 0, 0, 1, 0]], [[0.5] * 5])
    assert r["pooled_auc"] == approx(50.0)
    assert r["pooled_ap"] == approx(40.0)  # one threshold: recall 1 at precision 2/5


def test_grouped_equals_sklearn_per_video_and_pooled():
    rng = np.random.default_rng(0)
    labels, scores = _random_videos(rng, 200)
    # per-video values from the internal grouped routine (one call for all videos)
    lengths = np.array([len(y) for y in labels])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    flat_s = np.concatenate(scores)
    flat_y = np.concatenate(labels).astype(bool)
    _, grouped_order = _ranking.sort_orders(flat_s, lengths, stable=False)
    n_pos, n_neg, auc, ap = _ranking.grouped_auc_ap(
        flat_s[grouped_order], flat_y[grouped_order], offsets
    )
    sk_auc, sk_ap = [], []
    for v, (y, s) in enumerate(zip(labels, scores, strict=True)):
        assert (n_pos[v], n_neg[v]) == (y.sum(), len(y) - y.sum())
        if _one_class(y):
            assert np.isnan(auc[v]) and np.isnan(ap[v])
            continue
        sk_auc.append(roc_auc_score(y, s))
        sk_ap.append(average_precision_score(y, s))
        assert auc[v] == approx(sk_auc[-1], rel=1e-12)
        assert ap[v] == approx(sk_ap[-1], rel=1e-12)
    # the public function: means over videos and pooled values
    r = clip_auc_ap(labels, scores)
    assert r["num_videos_scored"] == len(sk_auc)
    assert r["num_videos_skipped"] == 200 - len(sk_auc)
    assert r["video_auc"] == approx(100 * np.mean(sk_auc), rel=1e-12)
    assert r["video_ap"] == approx(100 * np.mean(sk_ap), rel=1e-12)
    assert r["pooled_auc"] == approx(100 * roc_auc_score(flat_y, flat_s), rel=1e-12)
    assert r["pooled_ap"] == approx(100 * average_precision_score(flat_y, flat_s), rel=1e-12)
    assert r["num_positive"] == int(flat_y.sum())
    # one video at a time through the public function
    for y, s in list(zip(labels, scores, strict=True))[:40]:
        one = clip_auc_ap([y], [s])
        if _one_class(y):
            assert one["num_videos_skipped"] == 1
        else:
            assert one["video_auc"] == approx(100 * roc_auc_score(y, s), rel=1e-12)
            assert one["pooled_ap"] == approx(100 * average_precision_score(y, s), rel=1e-12)


def test_sort_orders_match_lexsort_beyond_16_bit_video_ids():
    rng = np.random.default_rng(1)
    lengths = rng.integers(1, 3, size=70_000)  # more videos than one 16-bit radix digit
    scores = np.round(rng.random(int(lengths.sum())), 1)
    video = np.repeat(np.arange(lengths.shape[0]), lengths)
    pooled, grouped = _ranking.sort_orders(scores, lengths, stable=True)
    np.testing.assert_array_equal(grouped, np.lexsort((-scores, video)))
    np.testing.assert_array_equal(pooled, np.argsort(-scores, kind="stable"))


def test_inputs_may_be_lists_bools_or_float_labels():
    want = clip_auc_ap([np.array([1, 0, 1, 0])], [np.array([0.9, 0.8, 0.8, 0.1])])
    for labels in ([[True, False, True, False]], [[1.0, 0.0, 1.0, 0.0]], np.array([[1, 0, 1, 0]])):
        got = clip_auc_ap(labels, [[0.9, 0.8, 0.8, 0.1]])
        assert got == want


# A small hand example for the breakdowns.
#   video 0 (drama):  labels 1 1 0 0, categories Action Emotional - -, scores .9 .2 .5 .1
#   video 1 (comedy): labels 1 0 1,   categories Action - Action,     scores .3 .6 .7
BREAKDOWN = {
    "labels": [[1, 1, 0, 0], [1, 0, 1]],
    "scores": [[0.9, 0.2, 0.5, 0.1], [0.3, 0.6, 0.7]],
    "categories": [["Action", "Emotional", None, None], ["Action", "", "Action"]],
    "genres": ["drama", "comedy"],
}


def test_per_category_hand_example():
    r = clip_auc_ap(BREAKDOWN["labels"], BREAKDOWN["scores"], categories=BREAKDOWN["categories"])
    assert sorted(r["per_category"]) == ["Action", "Emotional"]
    action = r["per_category"]["Action"]
    # video 0: Action .9 vs negatives .5 .1 -> AUC 1, AP 1
    # video 1: Action .3 .7 vs negative .6 -> AUC 1/2; AP: .7 (P 1, R 1/2), .3 (P 2/3, R 1)
    #          = 1/2 + 1/3 = 5/6
    assert action["video_auc"] == approx(75.0)
    assert action["video_ap"] == approx(100 * (1 + 5 / 6) / 2)
    # pooled: Action .9 .3 .7 vs negatives .5 .1 .6 -> pairs won 3 + 1 + 3 = 7 of 9
    # ranking .9p .7p .6n .5n .3p .1n -> AP = (1 + 1 + 3/5) / 3
    assert action["pooled_auc"] == approx(700 / 9)
    assert action["pooled_ap"] == approx(100 * 2.6 / 3)
    assert action["num_positive"] == 3
    assert (action["num_videos_scored"], action["num_videos_skipped"]) == (2, 0)
    emotional = r["per_category"]["Emotional"]
    # video 0 only: Emotional .2 vs negatives .5 .1 -> AUC 1/2, AP 1/2; video 1 skipped
    assert emotional["video_auc"] == approx(50.0)
    assert emotional["video_ap"] == approx(50.0)
    assert (emotional["num_videos_scored"], emotional["num_videos_skipped"]) == (1, 1)
    # pooled: .2 vs .5 .1 .6 -> 1 of 3 pairs; ranking .6n .5n .2p -> AP 1/3
    assert emotional["pooled_auc"] == approx(100 / 3)
    assert emotional["pooled_ap"] == approx(100 / 3)
    assert emotional["num_positive"] == 1
    assert set(emotional) == {
        "num_positive", "pooled_auc", "pooled_ap", "video_auc", "video_ap",
        "num_videos_scored", "num_videos_skipped",
    }  # fmt: skip


def test_per_genre_hand_example():
    r = clip_auc_ap(BREAKDOWN["labels"], BREAKDOWN["scores"], genres=BREAKDOWN["genres"])
    assert list(r["per_genre"]) == ["comedy", "drama"]
    drama = r["per_genre"]["drama"]
    # video 0 alone: positives .9 .2 vs negatives .5 .1 -> pairs won 2 + 1 = 3 of 4
    # ranking .9p .5n .2p .1n -> AP = 1/2 * 1 + 1/2 * 2/3 = 5/6
    assert drama["pooled_auc"] == approx(75.0) and drama["video_auc"] == approx(75.0)
    assert drama["pooled_ap"] == approx(500 / 6) and drama["video_ap"] == approx(500 / 6)
    assert (drama["num_videos"], drama["num_clips"], drama["num_positive"]) == (1, 4, 2)
    for genre, video in (("drama", 0), ("comedy", 1)):
        alone = clip_auc_ap([BREAKDOWN["labels"][video]], [BREAKDOWN["scores"][video]])
        assert r["per_genre"][genre] == approx(alone)
        assert "per_category" not in r["per_genre"][genre]


def test_breakdowns_against_sklearn_on_random_data():
    rng = np.random.default_rng(2)
    labels, scores = _random_videos(rng, 60, max_clips=25)
    cat_names = np.array(["Action", "Emotional", "Funny", ""], dtype=object)
    categories = [[None if not yy else str(rng.choice(cat_names)) for yy in y] for y in labels]
    genres = [str(rng.choice(["drama", "comedy", "thriller"])) for _ in labels]
    r = clip_auc_ap(labels, scores, categories=categories, genres=genres)
    flat_y, flat_s = np.concatenate(labels), np.concatenate(scores)
    flat_c = np.array([c for cs in categories for c in cs], dtype=object)
    for cat, got in r["per_category"].items():
        keep = (flat_y == 0) | (flat_c == cat)
        assert got["pooled_auc"] == approx(100 * roc_auc_score(flat_y[keep], flat_s[keep]))
        assert got["pooled_ap"] == approx(100 * average_precision_score(flat_y[keep], flat_s[keep]))
        per_video = []
        for y, s, c in zip(labels, scores, categories, strict=True):
            k = (y == 0) | (np.array(c, dtype=object) == cat)
            if not _one_class(y[k]):
                per_video.append(roc_auc_score(y[k], s[k]))
        assert got["num_videos_scored"] == len(per_video)
        assert got["video_auc"] == approx(100 * np.mean(per_video))
        assert got["num_positive"] == int(((flat_y == 1) & (flat_c == cat)).sum())
    assert set(r["per_category"]) == {"Action", "Emotional", "Funny"}
    for genre, got in r["per_genre"].items():
        idx = [i for i, g in enumerate(genres) if g == genre]
        alone = clip_auc_ap([labels[i] for i in idx], [scores[i] for i in idx])
        assert got == approx(alone, nan_ok=True)


def test_category_of_negative_clip_is_ignored():
    base = clip_auc_ap([[1, 0, 0]], [[0.9, 0.5, 0.1]], categories=[["A", None, None]])
    other = clip_auc_ap([[1, 0, 0]], [[0.9, 0.5, 0.1]], categories=[["A", "B", ""]])
    assert base == other
    assert list(other["per_category"]) == ["A"]


@pytest.mark.parametrize(
    ("labels", "scores", "message"),
    [
        ([], [], "labels is empty"),
        ([[1, 0]], [[0.1, 0.2], [0.3]], "scores has 2 videos but labels has 1"),
        ([[1, 0], [0, 1]], [[0.1, 0.2], [0.3, 0.2, 0.1]],
         r"scores\[1\] has 3 clips but labels\[1\] has 2"),
        ([[1, 0], []], [[0.1, 0.2], []], r"labels\[1\] has no clips"),
        ([[1, 0], [0, 1]], [[0.1, 0.2], [np.nan, 0.1]],
         r"scores\[1\] has a NaN or infinite value at clip 0"),
        ([[1, 0], [0, 1]], [[0.1, np.inf], [0.3, 0.1]],
         r"scores\[0\] has a NaN or infinite value at clip 1"),
        ([[1, 0], [0, 2]], [[0.1, 0.2], [0.3, 0.1]],
         r"labels\[1\] must be binary \(0/1\) but clip 1 is 2"),
        ([[1, 0], [0, np.nan]], [[0.1, 0.2], [0.3, 0.1]], r"labels\[1\] has a NaN"),
        ([[1, 0]], [["a", "b"]], r"scores\[0\] must contain only numbers"),
        ([[1, 0]], [[0.1, None]], r"scores\[0\] must contain only numbers"),
        ([[1, 0]], [[[0.1, 0.2]]], r"scores\[0\] must be 1-D"),
        ([[1, 0]], [[0.1, [0.2, 0.3]]], r"scores\[0\] is not a rectangular array"),
        ("10", [[0.1]], "labels must be a sequence"),
        ([[1, 0]], None, "scores must be a sequence"),
    ],
)  # fmt: skip
def test_clip_auc_ap_errors(labels, scores, message):
    with pytest.raises(ValueError, match=message):
        clip_auc_ap(labels, scores)


def test_clip_auc_ap_breakdown_errors():
    y, s = [[1, 0], [1, 0]], [[0.5, 0.1], [0.5, 0.1]]
    with pytest.raises(ValueError, match=r"categories\[1\] has 1 clips but labels\[1\] has 2"):
        clip_auc_ap(y, s, categories=[["A", None], ["A"]])
    with pytest.raises(ValueError, match="categories has 1 videos but labels has 2"):
        clip_auc_ap(y, s, categories=[["A", None]])
    with pytest.raises(ValueError, match=r"categories\[1\]\[0\] must be a string or None"):
        clip_auc_ap(y, s, categories=[["A", None], [3, None]])
    with pytest.raises(ValueError, match=r"categories\[0\] must be a sequence"):
        clip_auc_ap(y, s, categories=["AB", ["A", None]])
    with pytest.raises(ValueError, match=r"genres\[1\] must be a string"):
        clip_auc_ap(y, s, genres=["drama", None])
    with pytest.raises(ValueError, match="genres has 3 videos but labels has 2"):
        clip_auc_ap(y, s, genres=["a", "b", "c"])


# --------------------------------------------------------------------------------------------
# QVHighlights HD: oracle = moment_detr standalone_eval, transcribed loop by loop
# --------------------------------------------------------------------------------------------


def _oracle_get_ap(y_true, y_predict):
    """moment_detr standalone_eval/utils.py get_ap(interpolate=True, point_11=False)."""
    if len(set(y_true)) == 1:
        return 0 if y_true[0] == 0 else 1
    precision, recall, _ = precision_recall_curve(y_true, y_predict)
    recall = recall.astype(np.float32)
    for i in range(1, len(precision)):
        precision[i] = max(precision[i - 1], precision[i])
    indices = np.where(np.diff(recall))
    return np.mean(precision[indices])


def _oracle_qvhighlights(saliency, scores, min_score):
    """compute_hl_ap + compute_hl_hit1 of moment_detr standalone_eval/eval.py, not rounded.

    The reference hard-codes 3 annotators; here each video's own count is used.
    """
    aps, hits = [], []
    for sal, pred in zip(saliency, scores, strict=True):
        binary = (np.asarray(sal) >= min_score).astype(float)
        pred = np.asarray(pred)
        aps.append(np.mean([_oracle_get_ap(binary[:, w], pred) for w in range(binary.shape[1])]))
        hits.append(np.max(binary[np.argmax(pred)]))
    return {"mAP": 100 * np.mean(aps), "HIT@1": 100 * np.mean(hits)}


# Hand example, min_score 4.
#  video A, scores .9 .9 .8 .1; annotators' positives (>= 4):
#    a0 1 1 0 1: thresholds .9 (P 1) .8 (P 2/3) .1 (P 3/4); recall grows at .9 and .1;
#       interpolated precision there max(1, 2/3, 3/4) = 1 and 3/4 -> AP (1 + 3/4) / 2 = 7/8
#       (sklearn's weighted AP would be 2/3 * 1 + 1/3 * 3/4 = 11/12)
#    a1 0 0 0 0 -> 0;  a2 1 1 1 1 -> 1;  video AP = (7/8 + 0 + 1) / 3 = 5/8
#    HIT: argmax is clip 0 (first of the tie), positive for a0 -> 1
#  video B, scores .9 .5 .1:
#    a0 0 1 1: P 0, 1/2, 2/3; recall grows at .5, .1: interpolated 2/3, 2/3 -> 2/3
#    a1 0 0 1: P 0, 0, 1/3 -> 1/3;  a2 0 1 0: P 0, 1/2, 1/3 -> 1/2
#    video AP = (2/3 + 1/3 + 1/2) / 3 = 1/2;  HIT: clip 0 negative for all -> 0
#  mAP = (5/8 + 1/2) / 2 = 9/16 = 56.25 %, HIT@1 = 50 %
QV_SALIENCY = [
    np.array([[4, 3, 4], [4, 2, 4], [1, 0, 4], [4, 3, 4]]),
    np.array([[0, 0, 0], [4, 0, 4], [4, 4, 3]]),
]
QV_SCORES = [np.array([0.9, 0.9, 0.8, 0.1]), np.array([0.9, 0.5, 0.1])]


def test_qvhighlights_hand_example():
    got = qvhighlights_hd(QV_SALIENCY, QV_SCORES)
    assert got["mAP"] == approx(56.25)
    assert got["HIT@1"] == approx(50.0)
    assert got == approx(_oracle_qvhighlights(QV_SALIENCY, QV_SCORES, 4))


def test_qvhighlights_tie_breaking_is_argmax():
    # clips 1 and 2 tie for the top score: np.argmax picks clip 1, negative for everyone
    sal = [np.array([[0, 0, 0], [0, 0, 0], [4, 4, 4]])]
    assert qvhighlights_hd(sal, [[0.5, 0.9, 0.9]])["HIT@1"] == 0.0
    assert qvhighlights_hd(sal, [[0.5, 0.9, 0.91]])["HIT@1"] == 100.0


@pytest.mark.parametrize("min_score", [2, 3, 4])
def test_qvhighlights_matches_reference_oracle(min_score):
    rng = np.random.default_rng(min_score)
    saliency, scores = [], []
    for _ in range(80):
        n = int(rng.integers(1, 30))
        sal = np.zeros((n, 3), dtype=int)
        lo = int(rng.integers(0, n))
        hi = int(rng.integers(lo, n)) + 1
        sal[lo:hi] = rng.integers(0, 5, size=(hi - lo, 3))  # the relevant window
        saliency.append(sal)
        scores.append(np.round(rng.random(n), 1))  # many ties
    got = qvhighlights_hd(saliency, scores, min_score=min_score)
    assert got == approx(_oracle_qvhighlights(saliency, scores, min_score), rel=1e-12)


def test_qvhighlights_single_annotator_and_mixed_counts():
    rng = np.random.default_rng(7)
    saliency = [rng.integers(0, 5, size=(int(rng.integers(1, 15)), w)) for w in (1, 3, 2, 1)]
    scores = [np.round(rng.random(s.shape[0]), 1) for s in saliency]
    assert qvhighlights_hd(saliency, scores) == approx(
        _oracle_qvhighlights(saliency, scores, 4), rel=1e-12
    )


def test_qvhighlights_all_negative_and_all_positive():
    # one clip: all-positive annotators score 1, all-negative ones 0 (get_ap's special cases)
    got = qvhighlights_hd([np.array([[4, 0, 4]])], [[0.3]])
    assert got["mAP"] == approx(100 * 2 / 3)
    assert got["HIT@1"] == 100.0
    assert qvhighlights_hd([np.zeros((5, 3))], [np.arange(5.0)]) == {"mAP": 0.0, "HIT@1": 0.0}


def test_qvhighlights_errors():
    with pytest.raises(ValueError, match=r"saliency\[0\] must be 2-D"):
        qvhighlights_hd([[4, 0, 4]], [[0.1, 0.2, 0.3]])
    with pytest.raises(ValueError, match=r"scores\[0\] has 2 clips but saliency\[0\] has 3"):
        qvhighlights_hd([np.zeros((3, 3))], [[0.1, 0.2]])
    with pytest.raises(ValueError, match=r"scores\[0\] has a NaN"):
        qvhighlights_hd([np.zeros((2, 3))], [[0.1, np.nan]])
    with pytest.raises(ValueError, match=r"saliency\[0\] has a NaN or infinite value at clip 1"):
        qvhighlights_hd([np.array([[1.0, 2.0], [np.inf, 0.0]])], [[0.1, 0.2]])
    with pytest.raises(ValueError, match=r"saliency\[0\] has no annotator column"):
        qvhighlights_hd([np.zeros((2, 0))], [[0.1, 0.2]])
    with pytest.raises(ValueError, match="min_score must be a number"):
        qvhighlights_hd([np.zeros((2, 3))], [[0.1, 0.2]], min_score="4")
    with pytest.raises(ValueError, match="saliency is empty"):
        qvhighlights_hd([], [])


# --------------------------------------------------------------------------------------------
# TVSum / YouTube Highlights: oracle = UMT datasets/tvsum.py and youtube.py evaluate loops
# --------------------------------------------------------------------------------------------


def _stable_desc(score):
    """Clip indices by score descending, ties in clip order (Python's sort is stable)."""
    return sorted(range(len(score)), key=lambda j: -score[j])


def _oracle_trapezoid(label):
    if (num_gt := sum(label)) == 0:
        return 0
    hits = ap = rec = 0
    prc = 1
    for j, gt in enumerate(label):
        hits += gt
        _rec = hits / num_gt
        _prc = hits / (j + 1)
        ap += (_rec - rec) * (prc + _prc) / 2
        rec, prc = _rec, _prc
    return ap


def _oracle_tvsum(annotations, scores, k=5):
    """UMT TVSum.evaluate: per annotator, the mean over videos; then over annotators."""
    collected = []
    for i in range(annotations[0].shape[1]):
        video_ap = []
        for anno, score in zip(annotations, scores, strict=True):
            inds = _stable_desc(list(score))
            label = np.asarray(anno, dtype=np.float32)[:, i]
            median = np.percentile(label, 50, method="lower")  # torch.median's lower median
            label = [1.0 if x > median else 0.0 for x in label]
            video_ap.append(_oracle_trapezoid([label[j] for j in inds][:k]))
        collected.append(sum(video_ap) / len(video_ap))
    return 100 * sum(collected) / len(collected)


def _oracle_youtube(labels, scores):
    collected = []
    for lab, score in zip(labels, scores, strict=True):
        binary = [1 if s > 0 else 0 for s in lab]
        collected.append(_oracle_trapezoid([binary[j] for j in _stable_desc(list(score))]))
    return 100 * sum(collected) / len(collected)


def test_tvsum_hand_example():
    # scores rank the clips in order; the top 5 are clips 0..4
    # annotator 0: ratings 5 1 4 2 3 1, median 2 -> positives 1 0 1 0 1 (0); 3 in the top 5
    #   trapezoids from (recall 0, precision 1):
    #   rank 1 hit: 1/3 * (1 + 1) / 2 = 1/3; rank 3 hit: 1/3 * (1/2 + 2/3) / 2 = 7/36;
    #   rank 5 hit: 1/3 * (1/2 + 3/5) / 2 = 11/60; AP = 128/180
    # annotator 1: ratings 1 1 1 1 1 5, median 1 -> only clip 5 positive, not in the top 5: 0
    anno = np.array([[5, 1], [1, 1], [4, 1], [2, 1], [3, 1], [1, 5]])
    score = [0.6, 0.5, 0.4, 0.3, 0.2, 0.1]
    assert tvsum_top5_ap(anno, score) == approx(100 * (128 / 180) / 2)
    assert tvsum_top5_map([anno], [score]) == approx(100 * (128 / 180) / 2)


def test_tvsum_fewer_than_five_clips_and_zero_precision_start():
    # 3 clips, one annotator 3 1 2: median 2, positive clip 0 only; ranking by score
    # puts it last: precisions 0, 0, 1/3 -> trapezoid 1 * (0 + 1/3) / 2 = 1/6
    assert tvsum_top5_ap([[3], [1], [2]], [0.1, 0.9, 0.5]) == approx(100 / 6)
    # ranked first: 1 * (1 + 1) / 2 = 1
    assert tvsum_top5_ap([[1], [3], [2]], [0.1, 0.9, 0.5]) == approx(100.0)
    # a single clip is never above its own median
    assert tvsum_top5_ap([[5, 3]], [0.4]) == 0.0


def test_tvsum_ties_at_median_and_in_scores():
    # ratings 2 2 2 3: median 2 -> only clip 3 positive; tied scores keep clip order
    anno = [[2], [2], [2], [3]]
    assert tvsum_top5_ap(anno, [0.5, 0.5, 0.5, 0.5]) == approx(100 * (1 / 4) / 2)
    assert tvsum_top5_ap(anno, [0.5, 0.5, 0.5, 0.6]) == approx(100.0)


def test_tvsum_matches_reference_oracle():
    rng = np.random.default_rng(3)
    annotations, scores = [], []
    for _ in range(30):
        n = int(rng.integers(1, 14))
        annotations.append(rng.integers(1, 6, size=(n, 20)))
        scores.append(np.round(rng.random(n), 1))
    assert tvsum_top5_map(annotations, scores) == approx(
        _oracle_tvsum(annotations, scores), rel=1e-12
    )


def test_tvsum_errors():
    with pytest.raises(ValueError, match="annotation must be 2-D"):
        tvsum_top5_ap([1, 2, 3], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="score has 2 clips but annotation has 3"):
        tvsum_top5_ap([[1], [2], [3]], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"scores\[1\] has a NaN"):
        tvsum_top5_map([[[1]], [[2]]], [[0.1], [np.nan]])
    with pytest.raises(ValueError, match="annotations is empty"):
        tvsum_top5_map([], [])


def test_youtube_hand_example():
    # labels -1 1 0 1 -> positives clips 1, 3; ranked by score: 0 1 0 1
    # rank 1 miss: precision 0; rank 2 hit: 1/2 * (0 + 1/2) / 2 = 1/8;
    # rank 3 miss: precision 1/3; rank 4 hit: 1/2 * (1/3 + 1/2) / 2 = 5/24; AP = 1/3
    assert youtube_ap([-1, 1, 0, 1], [0.8, 0.6, 0.4, 0.2]) == approx(100 / 3)
    assert youtube_map([[-1, 1, 0, 1], [0, 0]], [[0.8, 0.6, 0.4, 0.2], [0.1, 0.2]]) == approx(
        100 / 6
    )  # the all-negative video counts as 0


def test_youtube_edge_cases():
    assert youtube_ap([1], [0.3]) == approx(100.0)
    assert youtube_ap([1, 1], [0.3, 0.1]) == approx(100.0)
    assert youtube_ap([-1, 0], [0.3, 0.1]) == 0.0
    # tied scores keep clip order: the negative clip 0 is ranked first
    assert youtube_ap([0, 1], [0.5, 0.5]) == approx(25.0)
    assert youtube_ap([1, 0], [0.5, 0.5]) == approx(100.0)


def test_youtube_matches_reference_oracle():
    rng = np.random.default_rng(4)
    labels = [rng.integers(-1, 2, size=int(rng.integers(1, 40))) for _ in range(60)]
    scores = [np.round(rng.random(len(y)), 1) for y in labels]
    assert youtube_map(labels, scores) == approx(_oracle_youtube(labels, scores), rel=1e-12)


def test_youtube_errors():
    with pytest.raises(ValueError, match="score has 1 clips but label has 2"):
        youtube_ap([1, 0], [0.5])
    with pytest.raises(ValueError, match=r"labels\[0\] must be 1-D"):
        youtube_map([[[1, 0]]], [[0.5, 0.1]])
    with pytest.raises(ValueError, match=r"scores\[0\] must contain only numbers"):
        youtube_map([[1, 0]], [["x", "y"]])
    with pytest.raises(ValueError, match="label has no clips"):
        youtube_ap([], [])


# --------------------------------------------------------------------------------------------
# Agreement
# --------------------------------------------------------------------------------------------


def test_cohen_kappa_hand_example():
    # observed agreement 3/4; marginals a: 2/2, b: 1/3 -> chance (2*1 + 2*3)/16 = 1/2
    # kappa = (3/4 - 1/2) / (1 - 1/2) = 1/2
    assert cohen_kappa([0, 0, 1, 1], [0, 1, 1, 1]) == approx(50.0)
    assert cohen_kappa(["no", "no", "yes", "yes"], ["no", "yes", "yes", "yes"]) == approx(50.0)


def test_cohen_kappa_matches_sklearn():
    rng = np.random.default_rng(5)
    for k in (2, 3, 5):
        a = rng.integers(0, k, size=200)
        b = np.where(rng.random(200) < 0.6, a, rng.integers(0, k, size=200))
        want = 100 * cohen_kappa_score(a, b)
        assert cohen_kappa(a, b) == approx(want, rel=1e-12)
        assert cohen_kappa(a.tolist(), b.tolist()) == approx(want, rel=1e-12)
        names = np.array(["Action", "Emotional", "Funny", "Other", "Tense"])
        assert cohen_kappa(names[a], names[b]) == approx(want, rel=1e-12)


def test_cohen_kappa_degenerate_cases():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(cohen_kappa_score(["x", "x"], ["x", "x"]))
    assert cohen_kappa(["x", "x"], ["x", "x"]) == 100.0  # our documented choice
    want = 100 * cohen_kappa_score(["x", "x"], ["y", "y"])
    assert cohen_kappa(["x", "x"], ["y", "y"]) == approx(want)
    assert cohen_kappa([(1, 2), (3, 4)], [(1, 2), (3, 4)]) == 100.0  # any hashable label
    want = 100 * cohen_kappa_score([1, 2, 1], [2, 1, 2])
    assert cohen_kappa([1, 2, 1], [2, 1, 2]) == approx(want)


def test_cohen_kappa_errors():
    with pytest.raises(ValueError, match="a has 2 labels but b has 1"):
        cohen_kappa([1, 2], [1])
    with pytest.raises(ValueError, match="empty"):
        cohen_kappa([], [])
    with pytest.raises(ValueError, match="missing label"):
        cohen_kappa([1, None], [1, 2])
    with pytest.raises(ValueError, match="NaN"):
        cohen_kappa(np.array([1.0, np.nan]), np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="unhashable"):
        cohen_kappa([[1], [2]], [1, 2])
    with pytest.raises(ValueError, match="b must be 1-D"):
        cohen_kappa(np.array([1, 2]), np.array([[1, 2]]))


def test_fleiss_kappa_hand_example():
    # items (1,1) and (1,2): per-item agreement 1 and 0 -> 1/2; category shares 3/4, 1/4
    # -> chance 9/16 + 1/16 = 5/8; kappa = (1/2 - 5/8) / (3/8) = -1/3
    assert fleiss_kappa([[1, 1], [1, 2]]) == approx(-100 / 3)


def test_fleiss_kappa_matches_statsmodels():
    from statsmodels.stats.inter_rater import aggregate_raters
    from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

    rng = np.random.default_rng(6)
    for raters, k in ((2, 2), (3, 5), (7, 3)):
        truth = rng.integers(0, k, size=(100, 1))
        noise = rng.integers(0, k, size=(100, raters))
        ratings = np.where(rng.random((100, raters)) < 0.5, truth, noise)
        want = 100 * sm_fleiss_kappa(aggregate_raters(ratings)[0], method="fleiss")
        assert fleiss_kappa(ratings) == approx(want, rel=1e-12)
        names = np.array(["a", "b", "c", "d", "e"], dtype=object)
        assert fleiss_kappa(names[ratings]) == approx(want, rel=1e-12)
        assert fleiss_kappa(names[ratings].astype(str).tolist()) == approx(want, rel=1e-12)


def test_fleiss_kappa_degenerate_and_errors():
    assert fleiss_kappa([["x", "x"], ["x", "x"]]) == 100.0  # statsmodels: NaN
    with pytest.raises(ValueError, match="at least 2 raters"):
        fleiss_kappa([[1], [2]])
    with pytest.raises(ValueError, match="must be 2-D"):
        fleiss_kappa([1, 2, 3])
    with pytest.raises(ValueError, match="empty"):
        fleiss_kappa(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="NaN"):
        fleiss_kappa([[1.0, np.nan], [1.0, 2.0]])
    with pytest.raises(ValueError, match="rectangular"):
        fleiss_kappa([[1, 2], [1]])
