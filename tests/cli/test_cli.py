"""The command line as a user meets it: a real subprocess, exit codes, one-line errors."""

import json

import pytest
from cli_runner import run_cli

from tvhighlights.data.references import load_references

run = run_cli


def test_help_lists_the_verbs():
    res = run("--help")
    assert res.returncode == 0
    for verb in ("eval", "fetch-samples", "probe", "baseline"):
        assert verb in res.stdout
    assert run("eval", "--help").returncode == 0


def test_version():
    res = run("--version")
    assert res.returncode == 0
    assert res.stdout.startswith("tvhighlights ")


def _perfect_submission(path):
    ref = load_references("bbb-trailer")[0]
    row = {"video_id": "bbb", "scores": [float(x) for x in ref.labels]}
    path.write_text(json.dumps(row) + "\n")
    return path


def test_eval_prints_table_and_writes_json(tmp_path):
    sub = _perfect_submission(tmp_path / "oracle.jsonl")
    out = tmp_path / "m.json"
    res = run("eval", "-s", str(sub), "-r", "bbb-trailer", "--json", str(out), "--markdown")
    assert res.returncode == 0, res.stderr
    assert "| oracle | 1 | 298 | 27 | 100.00 | 100.00 | 100.00 | 100.00 | 0 |" in res.stdout
    data = json.loads(out.read_text())
    assert data["results"]["oracle"]["pooled_auc"] == 100.0


def test_eval_bad_submission_is_one_clear_error(tmp_path):
    sub = tmp_path / "bad.jsonl"
    sub.write_text('{"video_id": "bbb", "scores": [1, 2]}\n')
    out = tmp_path / "m.json"
    res = run("eval", "-s", str(sub), "-r", "bbb-trailer", "--json", str(out))
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    first = res.stderr.splitlines()[0]
    assert first.startswith(f"error: {sub}: invalid submission")
    assert "line 1 (video 'bbb'): has 2 scores, expected 298" in res.stderr
    assert not out.exists()  # nothing written for a submission that was not scored


@pytest.mark.parametrize(
    "args",
    [
        ("probe", "/nonexistent/film.mp4"),
        ("eval", "-s", "/nonexistent.jsonl", "-r", "bbb-trailer"),
        ("eval", "-s", "/nonexistent.jsonl", "-r", "/nonexistent-refs.jsonl"),
        ("baseline", "nope", "x.mp4", "--out", "x.jsonl"),
        ("fetch-samples", "no-such-sample"),
    ],
)
def test_user_errors_exit_non_zero_without_traceback(tmp_path, args):
    res = run(*args, cwd=tmp_path)
    assert res.returncode != 0
    assert "Traceback" not in res.stderr
    assert res.stderr.startswith("error: ") or "Usage:" in res.stderr, res.stderr


def test_fetch_samples_list():
    res = run("fetch-samples", "--list")
    assert res.returncode == 0
    assert "bbb" in res.stdout
    assert "bbb_trailer" in res.stdout


def test_baselines_list():
    res = run("baselines")
    assert res.returncode == 0
    assert "loudness" in res.stdout
    assert "random" in res.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--title-filter", "llm"), "title_filter 'llm' needs an LLM backend"),
        (("--title-filter", "nope"), "title_filter must be one of"),
        (("--shard", "x"), "--shard must look like i/n"),
        (("--shard", "4/4"), "shard 4/4: need 0 <= i < n"),
        (("--min-votes", "0"), "min_votes must be >= 1"),
    ],
)
def test_build_option_errors_are_one_line_before_any_work(tmp_path, args, message):
    res = run("build", "--sources", "s.csv", "--derivatives", "d.csv", "--out", "o", *args,
              cwd=tmp_path)  # fmt: skip
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.startswith("error: ") and message in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_an_error_names_the_flag_of_its_parameter(tmp_path):
    res = run("build", "--sources", "s.csv", "--derivatives", "d.csv", "--out", "o",
              "--title-filter", "nope", cwd=tmp_path)  # fmt: skip
    assert res.stderr.rstrip().endswith("(set with --title-filter)")
    res = run("build", "--sources", "s.csv", "--derivatives", "d.csv", "--out", "o",
              "--title-filter", "llm", cwd=tmp_path)  # fmt: skip
    assert res.stderr.rstrip().endswith("(set with --llm)")
