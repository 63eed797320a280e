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
