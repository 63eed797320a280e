"""The `evaluate` metric in eval/ loads offline from its folder and adds no logic of its own."""

from pathlib import Path

import numpy as np
import pytest

from tvhighlights.evaluation.metrics import clip_auc_ap

EVAL_DIR = Path(__file__).resolve().parents[2] / "eval" / "tvhighlights"


def test_evaluate_load_offline_matches_library(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    import evaluate

    metric = evaluate.load(str(EVAL_DIR))
    rng = np.random.default_rng(0)
    labels = [rng.integers(0, 2, n).tolist() for n in (5, 9, 3)]
    scores = [rng.random(len(y)).round(2).tolist() for y in labels]
    got = metric.compute(predictions=scores, references=labels)
    want = clip_auc_ap(labels, scores)
    for key in ("pooled_auc", "pooled_ap", "video_auc", "video_ap", "num_videos_skipped"):
        assert got[key] == pytest.approx(want[key], nan_ok=True)
