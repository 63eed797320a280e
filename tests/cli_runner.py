"""The ``tvhighlights`` command as a user runs it: a real subprocess, offline, wide output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["run_cli"]


def run_cli(
    *args: str, cwd: str | Path | None = None, timeout: float = 600, input: str | None = None
) -> subprocess.CompletedProcess:
    """``python -m tvhighlights ARGS`` with captured output (``HF_HUB_OFFLINE=1``, 200 columns)
    and ``input`` on its standard input."""
    env = {**os.environ, "COLUMNS": "200", "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "tvhighlights", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        input=input,
    )
