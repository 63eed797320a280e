"""Stage 2 end to end through real HTTP: the loop runs, reports, resumes, and survives faults.

The LLM is a deterministic stdlib server on 127.0.0.1 (:func:`llm_servers.stub_server`)
reached through the real ``openai`` client: it reads each prompt as an LLM would, scoring a
clip 0.8 when its description says "fast motion" and 0.1 otherwise (a noisy annotator: the
planted highlights move fast, and so do about half of the other clips), and it writes
patterns from the descriptions it is shown. The describer is the real signals describer over
the feature store's handcrafted-shaped columns, with the planted signal in ``motion_mean``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from cli_runner import run_cli
from llm_servers import ok, status, stub_server, truncated
from planted import make_planted

from tvhighlights.errors import TrainingError
from tvhighlights.features.handcrafted import VISUAL_FEATURES
from tvhighlights.training import Stage1Config, train_stage1
from tvhighlights.training.stage2 import Stage2Config, train_stage2

SMALL = {"hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "num_layers": 1}
MOTION = [n for n, _ in VISUAL_FEATURES].index("motion_mean")


def annotator(body: dict) -> object:
    """What the stub answers: LLG scores from the descriptions, HPI patterns, corrections."""
    text = body["messages"][-1]["content"]
    if "Candidate patterns" in text:
        return ok('{"keep": ' + json.dumps(re.findall(r"^([HN]\d+)\.", text, re.M)) + "}")
    if "ARE highlights" in text:
        return ok(
            '<think>they move</think>{"highlight": ["fast motion"], '
            '"non_highlight": ["still picture", "little motion"]}'
        )
    clips = re.findall(r"^clip \d+ \([^)]*\): (.*)$", text, re.M)
    scores = [0.8 if "fast motion" in c else 0.1 for c in clips]
    return ok(json.dumps({"genre": "drama", "scores": scores}))


@pytest.fixture
def corpus(tmp_path):
    ds, feats = make_planted(
        tmp_path, n_videos=14, clips=16, name="handcrafted", cue_columns=(MOTION,), test_videos=4
    )
    s1 = tmp_path / "s1"
    train_stage1(ds, feats, s1, Stage1Config(epochs=4, batch_size=4, patience=4, model=SMALL))
    return ds, feats, s1


def config(**kw) -> Stage2Config:
    return Stage2Config(**{"rounds": 2, "epochs": 3, "batch_size": 4, **kw})


def test_two_rounds_write_labels_patterns_report_and_a_model(corpus, tmp_path):
    ds, feats, s1 = corpus
    out = tmp_path / "s2"
    with stub_server(annotator) as stub:
        res = train_stage2(
            ds,
            feats,
            out,
            describer="signals",
            llm=stub.spec(),
            init=s1,
            config=config(),
            llm_options={"retries": 0},
        )
        calls = stub.count
    assert [r["round"] for r in res.rounds] == [0, 1, 2]
    r1, r2 = res.rounds[1], res.rounds[2]
    assert r1["llm_coverage"] == 1.0 and not r1["problems"], r1["problems"]
    # the noisy annotator agrees with the human labels of the test split better than chance
    assert r1["test_kappa_llm"] > 20
    assert r1["test_clip_auc"] > 60
    # round 2's prompts carry round 1's patterns
    assert "- fast motion" in stub.requests[-1]["messages"][-1]["content"] or any(
        "- fast motion" in q["messages"][-1]["content"] for q in stub.requests[calls // 2 :]
    )
    patterns = json.loads((out / "stage2" / "round-1" / "patterns.json").read_text())
    assert patterns["drama"]["highlight"] == ["fast motion"]
    rows = [
        json.loads(x)
        for x in (out / "stage2" / "round-2" / "pseudo_labels.jsonl").read_text().splitlines()
    ]
    assert {r["split"] for r in rows} == {"train", "validation", "test"} and len(rows) == 14
    train_row = next(r for r in rows if r["split"] == "train")
    assert len(train_row["y_refurbished"]) == len(train_row["y_llm"])
    assert all(0 <= v <= 1 for v in train_row["y_refurbished"])
    report = (out / "stage2" / "report.md").read_text()
    assert "| round | val AUC |" in report and "kappa Y_llm" in report
    assert (out / "stage2" / "rounds.png").read_bytes()[:4] == b"\x89PNG"
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["training_summary"]["stage"] == 2 and cfg["training_summary"]["llm"].startswith(
        "openai:http://127.0.0.1"
    )
    from tvhighlights.inference import load_model

    load_model(out)  # loads as any LTV-HD model does

    # the same command again: every round is read back, no call is made
    with stub_server(annotator) as stub:
        again = train_stage2(
            ds,
            feats,
            out,
            describer="signals",
            llm=stub.spec(),
            init=s1,
            config=config(),
            llm_options={"retries": 0},
        )
        assert stub.count == 0
    assert again.resumed_rounds == 2
    assert again.rounds[2]["val_clip_auc"] == pytest.approx(r2["val_clip_auc"])


def test_faults_are_counted_and_the_round_goes_on(corpus, tmp_path):
    ds, feats, s1 = corpus
    script = [
        status(500),
        status(500),  # one call fails twice: retried once, then given up
        ok("I would rather not say."),  # prose: no scores
        truncated('{"genre": "drama", "scores": [0.9, 0.2'),  # cut off: two scores kept
        ok('{"genre": "telenovela", "scores": [1.7, 0.4, "high"]}'),  # out of range, unknown
    ]
    with stub_server(script, default=annotator) as stub:
        res = train_stage2(
            ds,
            feats,
            tmp_path / "s2",
            describer="signals",
            llm=stub.spec(),
            init=s1,
            config=config(rounds=1),
            llm_options={"retries": 1, "backoff": 0.0, "concurrency": 1},
        )
    r = res.rounds[1]
    p = r["problems"]
    assert r["llm"]["failures"] == {"call failed": 1} and r["llm"]["retries"] >= 1
    assert p["LLG call failed"] == 1 and p["LLG answer unusable"] == 1
    assert p["out of range"] == 1 and p["not a number"] == 1 and p["unknown genre"] == 1
    assert p["missing clip"] > 0
    assert 0.5 < r["llm_coverage"] < 1.0  # the rest of the clips have LLM labels
    report = (tmp_path / "s2" / "stage2" / "report.md").read_text()
    assert "LLG call failed: 1" in report


def test_signals_describer_needs_handcrafted_cues(tmp_path):
    ds, feats = make_planted(tmp_path, n_videos=6, clips=12)  # features: "planted"
    with stub_server(annotator) as stub, pytest.raises(TrainingError, match="handcrafted"):
        train_stage2(
            ds, feats, tmp_path / "s2", describer="signals", llm=stub.spec(), config=config()
        )


@pytest.mark.slow
def test_a_killed_round_resumes_from_the_cache_and_its_checkpoint(corpus, tmp_path):
    ds, feats, s1 = corpus
    out = tmp_path / "s2"
    with stub_server(annotator) as stub:
        args = [
            "train",
            "--dataset",
            str(ds),
            "--features",
            str(feats),
            "--out",
            str(out),
            "--stage",
            "2",
            "--init",
            str(s1),
            "--llm",
            stub.spec(),
            "--rounds",
            "1",
            "--epochs",
            "400",
            "--batch-size",
            "4",
        ]
        proc = subprocess.Popen(
            [sys.executable, "-m", "tvhighlights", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "TQDM_DISABLE": "1"},
        )
        log = out / "stage2" / "round-1" / "log.jsonl"
        t0 = time.time()
        while not (log.exists() and len(log.read_text().splitlines()) >= 3):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.time() - t0 < 240, "no epoch logged"
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        llg_calls = stub.count
        assert llg_calls > 0
        done = len(log.read_text().splitlines())
        res = run_cli(*[a if a != "400" else "6" for a in args])
        assert res.returncode == 0, res.stderr
        assert stub.count == llg_calls + 2  # only HPI's two calls are new: LLG came from cache
    epochs = [json.loads(x)["epoch"] for x in log.read_text().splitlines()]
    assert epochs[-1] == 6 and epochs[done] <= done + 1  # went on from the checkpoint
    assert "round report" in res.stdout


@pytest.mark.slow
def test_train_stage2_offline_with_signals_and_smollm2_over_http(tmp_path):
    """The offline chain a user runs: ``train --stage 2 --describer signals --llm
    openai:URL:FOLDER`` against ``transformers serve`` of the real SmolLM2-135M-Instruct. The
    model is weak (its answers are mostly not usable); the loop must finish, count what it
    could not use and still write a model and its report."""
    from tvhighlights.llm import packaged_llm_path
    from tvhighlights.llm.serving import transformers_serve

    ds, feats = make_planted(
        tmp_path, n_videos=4, clips=12, name="handcrafted", cue_columns=(MOTION,), test_videos=1
    )
    s1 = tmp_path / "s1"
    train_stage1(ds, feats, s1, Stage1Config(epochs=3, batch_size=4, patience=3, model=SMALL))
    out = tmp_path / "s2"
    with transformers_serve(packaged_llm_path()) as server:
        res = run_cli(
            "train",
            "--dataset",
            str(ds),
            "--features",
            str(feats),
            "--out",
            str(out),
            "--stage",
            "2",
            "--init",
            str(s1),
            "--describer",
            "signals",
            "--llm",
            server.spec(),
            "--rounds",
            "1",
            "--epochs",
            "2",
            "--batch-size",
            "4",
            "--max-tokens",
            "48",
            "--llm-concurrency",
            "1",
            "--llm-timeout",
            "300",
        )
    assert res.returncode == 0, res.stderr
    report = json.loads((out / "stage2" / "report.json").read_text())
    assert [r["round"] for r in report["rounds"]] == [0, 1]  # one round: the CI's time
    for r in report["rounds"][1:]:
        assert r["llm"]["requests"] >= 3 and r["llm"]["failures"] == {}  # every call answered
        unusable = sum(v for k, v in r["problems"].items() if k.startswith("LLG"))
        assert unusable + r["llm_coverage"] * 4 > 0  # each answer either used or counted
        assert r["labelled_share"] > 0  # confident stage-1 predictions label clips regardless
    assert report["llm"].startswith("openai:http://127.0.0.1")
    assert (out / "model.safetensors").is_file() and (out / "stage2" / "rounds.png").is_file()
