"""``tvhighlights demo``: its help, and one-line errors before anything is served."""

from __future__ import annotations

from cli_runner import run_cli


def test_demo_help_names_the_model_host_port_and_limits():
    res = run_cli("demo", "--help")
    assert res.returncode == 0, res.stderr
    for flag in ("--model", "--host", "--port", "--max-file-size", "--max-duration",
                 "--concurrency", "--queue-size"):  # fmt: skip
        assert flag in res.stdout, flag


def test_demo_without_a_model_says_in_one_line_how_to_get_one(tmp_path):
    res = run_cli("demo", "--port", "7999", cwd=tmp_path)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "runs/quickstart/ltvhd-s1" in lines[0] and "make quickstart" in lines[0]


def test_demo_with_an_unreachable_hub_id_lists_the_local_model_folders(tmp_path):
    res = run_cli("demo", "--model", "org/ltv-hd", "--port", "7999", cwd=tmp_path)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "org/ltv-hd" in lines[0] and "offline" in lines[0] and "local model folders" in lines[0]


def test_demo_rejects_a_bad_limit_naming_its_flag(tmp_path):
    res = run_cli("demo", "--max-file-size", "lots", cwd=tmp_path)
    assert res.returncode == 1
    assert "max_file_size" in res.stderr and "--max-file-size" in res.stderr
