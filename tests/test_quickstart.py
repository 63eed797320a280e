"""The README's main job, `make quickstart`, end to end in this environment.

It runs the Makefile's own recipe (one source of truth for the chain: samples → simulate →
build → extract → train stage 1 → predict → baselines → eval) with this interpreter's
environment and a temporary RUNS folder, and checks what it leaves behind.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_make_quickstart_runs_end_to_end(tmp_path):
    make = shutil.which("make")
    assert make, "make is needed for the README's commands"
    venv = Path(sys.prefix)
    runs = tmp_path / "runs"
    env = {**os.environ, "COLUMNS": "200"}
    # -o: treat the install stamp as up to date, i.e. use this environment as it is
    res = subprocess.run(
        [make, "-C", str(ROOT), "-o", f"{venv}/.installed", "quickstart",
         f"VENV={venv}", f"RUNS={runs}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=1500,
    )  # fmt: skip
    assert res.returncode == 0, (res.stdout[-3000:], res.stderr[-3000:])
    metrics = json.loads((runs / "metrics.json").read_text())
    text = json.dumps(metrics)
    for method in ("ltvhd-s1", "loudness", "random"):
        assert method in text
    assert (runs / "ltvhd-s1" / "model.safetensors").is_file()
    assert (runs / "ltvhd-s1" / "training" / "curves.png").is_file()
    pred = json.loads((runs / "bbb.highlights.json").read_text())
    assert len(pred["scores"]) == 298 and pred["spans"]
    assert (runs / "bbb.highlights.png").read_bytes()[:4] == b"\x89PNG"
    from tvhighlights.video import probe

    reel = probe(runs / "bbb.reel.mp4")
    assert reel.has_audio and reel.duration > 2
    assert "| ltvhd-s1 |" in res.stdout  # the table the README shows
    _check_the_leaderboard(runs, metrics)

    # the test split annotated again by three (simulated) annotators, on the real build
    _annotate_the_quickstart_test_split(runs, tmp_path)


def _check_the_leaderboard(runs: Path, metrics: dict) -> None:
    """Every row ran on the film's clips (the CLIP rows are skipped with their reason: the
    quickstart extracts handcrafted features only), scored by eval's own scorer."""
    from tvhighlights.baselines import REGISTRY

    board = json.loads((runs / "leaderboard" / "leaderboard.json").read_text())
    rows = {r["name"]: r for r in board["rows"]}
    assert list(rows) == [n for n in REGISTRY if n != "llm-cs"] + ["ltvhd:ltvhd-s1"]
    for name, row in rows.items():
        if name.startswith("hl-clip"):
            assert row["status"] == "skipped" and "'clip' extractor" in row["reason"]
        else:
            assert row["status"] == "ok", (name, row["reason"])
            assert row["metrics"]["num_clips"] == 298
    ours = rows["ltvhd:ltvhd-s1"]["metrics"]["pooled_auc"]
    assert ours == pytest.approx(metrics["results"]["ltvhd-s1"]["pooled_auc"])
    assert (runs / "leaderboard" / "leaderboard.png").read_bytes()[:4] == b"\x89PNG"
    assert "The papers' own figures" in (runs / "leaderboard" / "leaderboard.md").read_text()


def _annotate_the_quickstart_test_split(runs: Path, tmp_path: Path) -> None:
    """Three annotators copy the trailer's labels, each wrong on a different tenth of the
    clips; the majority vote must give the trailer's labels back, in a folder that keeps its
    other configs, report and images, and that `eval` scores against."""
    import numpy as np
    from cli_runner import run_cli
    from datasets import load_dataset

    from tvhighlights.annotate import AnnotationStore, load_videos
    from tvhighlights.data import load_references

    dataset = runs / "tvhighlights"
    before = sorted(p.name for p in (dataset / "images").iterdir())
    (video,) = load_videos(dataset)  # the test split: the film
    truth = load_references("bbb-trailer")[0].labels
    store = AnnotationStore(tmp_path / "store")
    store.write_videos({video.video_id: video.to_json()})
    rng = np.random.default_rng(0)
    wrong = np.array_split(rng.permutation(video.num_clips)[: 3 * (video.num_clips // 10)], 3)
    for name, flips in zip(("ann", "bob", "cat"), wrong, strict=True):
        said = truth.astype(bool).copy()
        said[flips] = ~said[flips]
        for clip, yes in enumerate(said):
            store.record(name, video.video_id, clip, bool(yes), "Others" if yes else None)
    res = run_cli("annotations", "agreement", "--store", str(store.root))
    assert res.returncode == 0, res.stderr
    res = run_cli("annotations", "aggregate", "--store", str(store.root), "--dataset", str(dataset))
    assert res.returncode == 0, res.stderr
    test = load_dataset(str(dataset), split="test")
    assert test["video_id"] == ["bbb"] and test["labels"][0] == truth.tolist()
    assert set(test["num_annotators"][0]) == {3}
    assert load_dataset(str(dataset), "features", split="test")["video_id"] == ["bbb"]
    assert len(load_dataset(str(dataset), "matches", split="train")) > 0
    assert sorted(p.name for p in (dataset / "images").iterdir()) == before
    assert (dataset / "build_report.json").is_file()
    res = run_cli("eval", "--references", str(dataset), "--split", "test", "--submission",
                  str(runs / "ltvhd-s1.jsonl"))  # fmt: skip
    assert res.returncode == 0 and "ltvhd-s1" in res.stdout, res.stderr
