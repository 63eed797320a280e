"""Agreement equals scikit-learn's Cohen's kappa and statsmodels' Fleiss' kappa on the same
clips, with annotators who skipped clips."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from tvhighlights.annotate import agreement
from tvhighlights.annotate.store import Decision


def _decisions(rng, names, videos, p_skip=0.2, noise=0.25):
    truth = {v: rng.random(n) < 0.3 for v, n in videos.items()}
    out = {}
    for name in names:
        out[name] = {}
        for v, n in videos.items():
            for c in range(n):
                if rng.random() < p_skip:
                    continue
                said = bool(truth[v][c] ^ (rng.random() < noise))
                out[name][(v, c)] = Decision(v, c, said, None, name)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kappas_equal_sklearn_and_statsmodels_on_the_common_clips(seed, tmp_path):
    rng = np.random.default_rng(seed)
    names = ["ann", "bob", "cat", "dan"]
    videos = {"v1": 60, "v2": 45, "v3": 30}
    decisions = _decisions(rng, names, videos)
    report = agreement(decisions)
    assert report.annotators == names
    label = {n: {k: int(d.highlight) for k, d in decisions[n].items()} for n in names}
    for p in report.overall.pairs:
        common = sorted(label[p.a].keys() & label[p.b].keys())
        want = cohen_kappa_score([label[p.a][k] for k in common], [label[p.b][k] for k in common])
        assert p.clips == len(common) and p.kappa == pytest.approx(want * 100)
    shared = sorted(set.intersection(*(set(label[n]) for n in names)))
    table = np.array([[label[n][k] for n in names] for k in shared])
    want = fleiss_kappa(aggregate_raters(table)[0]) * 100
    assert report.overall.fleiss_clips == len(shared) and report.overall.fleiss == pytest.approx(
        want
    )
    for v, scope in report.videos.items():
        keys = sorted(set.intersection(*(
            {k for k in label[n] if k[0] == v} for n in scope.annotators)))  # fmt: skip
        t = np.array([[label[n][k] for n in scope.annotators] for k in keys])
        assert scope.fleiss == pytest.approx(fleiss_kappa(aggregate_raters(t)[0]) * 100)
    m = report.matrix()
    assert m.shape == (4, 4) and np.allclose(m, m.T) and (np.diag(m) == 100).all()
    js = report.to_json()
    assert set(js["videos"]) == set(videos) and len(js["overall"]["pairs"]) == 6
    text = report.to_markdown()
    assert "| Cohen's kappa | ann | bob | cat | dan |" in text and "| v2 | 4 |" in text
    png = report.plot_heatmap(tmp_path / "k.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_pair_without_common_clips_and_a_lone_annotator():
    d = {
        "a": {("v", c): Decision("v", c, c == 0, None, "a") for c in (0, 1)},
        "b": {("w", 0): Decision("w", 0, True, None, "b")},
    }  # fmt: skip
    report = agreement(d)
    (pair,) = report.overall.pairs
    assert pair.kappa is None and pair.clips == 0 and report.overall.fleiss is None
    assert report.videos["v"].annotators == ["a"] and report.videos["v"].fleiss is None
    assert "| a | 100.0 | - |" in report.to_markdown()
    # two who agree on everything, all one label: perfect agreement, not NaN
    same = {n: {("v", c): Decision("v", c, False, None, n) for c in range(5)} for n in "xy"}
    assert agreement(same).overall.fleiss == 100.0
    assert [p.kappa for p in agreement(same).overall.pairs] == [100.0]


def test_itertools_pairs_are_every_pair_once():
    rng = np.random.default_rng(5)
    names = [f"n{i}" for i in range(5)]
    report = agreement(_decisions(rng, names, {"v": 20}))
    assert [(p.a, p.b) for p in report.overall.pairs] == list(itertools.combinations(names, 2))
