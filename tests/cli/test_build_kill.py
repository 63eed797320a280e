"""`tvhighlights build` killed with SIGKILL half-way, then run again, writes the same bytes.

A real subprocess (its own session, so the pool's workers and their ffmpeg die with it), a
real film (596 s, fingerprinted in two cached chunks), its real trailer, two re-uploads cut
from it, and an off-topic clip. The build into B is killed three times (in the middle of the
source's fingerprint, of the derivatives' alignment in the process pool, and of writing the
folder) before it is let finish; every file of B must then be byte-identical to a build that
was never killed, and nothing temporary may be left in B or beside it.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tvhighlights.build.simulate import simulate_derivative
from tvhighlights.video.cut import cut_spans

pytestmark = pytest.mark.slow

RUN_TIMEOUT = 300.0
"""Seconds one build may take on a loaded 2-core machine (it takes about a minute)."""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, sample) -> Path:
    root = tmp_path_factory.mktemp("kill_corpus")
    film = sample("bbb")
    cut_spans(film, [(120, 128)], root / "cut.mp4")
    simulate_derivative(film, "bbb", [(400, 410)], root / "flip.mp4", family="hflip", seed=1)
    with open(root / "sources.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["video_id", "path", "title", "genre"])
        w.writerow(["bbb", str(film), "Big Buck Bunny", "animation"])
    with open(root / "derivatives.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["clip_id", "path", "title", "platform", "engagement"])
        w.writerow(["trailer", str(sample("bbb_trailer")), "Big Buck Bunny trailer", "yt", 10])
        w.writerow(["cut", "cut.mp4", "the bunny wakes up", "yt", 4])
        w.writerow(["flip", "flip.mp4", "Big Buck Bunny funny scene", "tiktok", 3])
        w.writerow(["concert", str(sample("iscc_mp4")), "live concert full set", "yt", 1])
    return root


def _command(corpus: Path, out: Path, cache: Path) -> list[str]:
    return [
        sys.executable, "-m", "tvhighlights", "build",
        "--sources", str(corpus / "sources.csv"),
        "--derivatives", str(corpus / "derivatives.csv"),
        "--out", str(out), "--cache-dir", str(cache),
        "--title-filter", "none", "--num-workers", "2",
    ]  # fmt: skip


def _start(cmd: list[str], log: Path) -> subprocess.Popen:
    """The build in its own session and process group (``pgid == pid``), output to ``log``."""
    env = {**os.environ, "COLUMNS": "200", "HF_HUB_OFFLINE": "1"}
    with open(log, "ab") as fh:
        return subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )  # fmt: skip


def _run_to_end(cmd: list[str], log: Path) -> float:
    """Run the build to completion; its wall time."""
    t0 = time.monotonic()
    proc = _start(cmd, log)
    try:
        rc = proc.wait(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise
    assert rc == 0, f"build exited {rc}:\n{log.read_text(errors='replace')[-4000:]}"
    return time.monotonic() - t0


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the build's whole process group, then wait until none of it is left running."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    proc.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)  # orphans (pool workers, ffmpeg) still in the group
        except ProcessLookupError:
            return
        time.sleep(0.05)


def _kill_when(cmd: list[str], log: Path, ready: Callable[[], bool], what: str) -> None:
    """Start the build and SIGKILL it (all its processes) as soon as ``ready()``."""
    proc = _start(cmd, log)
    deadline = time.monotonic() + RUN_TIMEOUT
    try:
        while not ready():
            assert proc.poll() is None, (
                f"the build ended ({proc.returncode}) before {what}:\n"
                + log.read_text(errors="replace")[-4000:]
            )
            assert time.monotonic() < deadline, f"no {what} after {RUN_TIMEOUT} s"
            time.sleep(0.05)
        assert proc.poll() is None, f"the build ended before it was killed at {what}"
    finally:
        _kill_group(proc)
    assert proc.returncode == -signal.SIGKILL


def _files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (hidden ones too) by its relative path."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() or p.is_symlink()
    }


def _is_temp(name: str) -> bool:
    return name.startswith(".") or name.endswith((".tmp", ".partial")) or ".tmp-" in name


def test_build_killed_then_rerun_is_byte_identical(corpus, tmp_path):
    ref, ref_cache = tmp_path / "a" / "tvh", tmp_path / "a-cache"
    out, cache = tmp_path / "b" / "tvh", tmp_path / "b-cache"
    log = tmp_path / "build.log"

    # the reference: one build, never interrupted
    ref_seconds = _run_to_end(_command(corpus, ref, ref_cache), tmp_path / "ref.log")
    assert (ref / "README.md").is_file()
    # it ends with the report on one screen: every derivative's fate
    printed = (tmp_path / "ref.log").read_text(errors="replace")
    assert "matched and voting" in printed and "no match" in printed
    cmd = _command(corpus, out, cache)

    # killed while fingerprinting the film: its first chunk is cached, the second is not
    fp_dir, align = cache / "fingerprints", cache / "align"
    _kill_when(cmd, log, lambda: any(fp_dir.glob("*.part0000.npz")), "the film's first chunk")
    assert not out.exists() and not any(align.glob("*.json"))
    # killed again while the pool aligns the derivatives: some are cached, not all
    _kill_when(cmd, log, lambda: any(align.glob("*.json")), "the first alignment")
    assert not out.exists()
    assert len(list(align.glob("*.json"))) < 4, "every derivative was aligned before the kill"
    # and once more while the folder is written (beside it, under a temporary name)
    parent = out.parent
    _kill_when(cmd, log, lambda: any(parent.glob(".tvh.tmp-*")), "the dataset's writing")
    assert not out.exists() and any(parent.glob(".tvh.tmp-*"))

    # the same command again: it resumes and completes
    rerun_seconds = _run_to_end(cmd, log)
    print(f"reference {ref_seconds:.1f} s, rerun after the kills {rerun_seconds:.1f} s")
    assert not list(fp_dir.glob("*.part*.npz")), "the film's chunk files were not cleaned up"

    expected, got = _files(ref), _files(out)
    assert sorted(got) == sorted(expected)
    differ = [name for name in expected if got[name] != expected[name]]
    assert not differ, f"files differ after kill -9 + rerun: {differ}"
    # nothing half-written or temporary is left in the folder or beside it
    assert [n for n in got if any(_is_temp(part) for part in n.split("/"))] == []
    assert sorted(p.name for p in out.parent.iterdir()) == ["tvh"]
