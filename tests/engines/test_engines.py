"""The engines: the same results in the same order wherever the units run; on Ray, a build
whose worker is killed with ``kill -9`` is retried and writes the same dataset bytes."""

from __future__ import annotations

import csv
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from tvhighlights.engines import LocalEngine, get_engine
from tvhighlights.errors import InvalidArgumentError


def _scale(item, shared):
    return item * shared["k"], os.getpid()


def _fail(item, shared):
    raise InvalidArgumentError(f"bad item {item}", param="item")


def test_local_engine_keeps_order_and_sends_shared_once():
    with LocalEngine(2) as engine:
        out = engine.map(_scale, list(range(6)), shared={"k": 3})
    assert [v for v, _ in out] == [0, 3, 6, 9, 12, 15]
    assert all(pid != os.getpid() for _, pid in out)  # in the pool's processes
    with LocalEngine(1) as engine:
        assert [v for v, _ in engine.map(_scale, [1, 2], shared={"k": 2})] == [2, 4]


def test_a_unit_error_is_raised_as_itself():
    with LocalEngine(2) as engine, pytest.raises(InvalidArgumentError, match="bad item"):
        engine.map(_fail, [1, 2])


def test_get_engine_checks_its_arguments():
    with pytest.raises(InvalidArgumentError, match="engine must be one of local, ray"):
        get_engine("spark")
    with pytest.raises(InvalidArgumentError, match="num_workers"):
        get_engine("local", num_workers=0)
    with pytest.raises(InvalidArgumentError, match="Ray address"):
        get_engine("local", address="auto")


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _ray_task_pids(name: str) -> list[int]:
    """Worker processes running the task ``name`` (Ray titles them ``ray::<name>``)."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if cmd.startswith(f"ray::{name}"):
                pids.append(int(d.name))
    return pids


@pytest.mark.slow
def test_ray_build_is_byte_identical_and_survives_a_killed_worker(tmp_path, sample):
    pytest.importorskip("ray")
    from tvhighlights.builders.tvhighlights import build_dataset

    from tvhighlights.build import BuildConfig
    from tvhighlights.build.simulate import simulate_derivative

    film = sample("bbb")
    simulate_derivative(film, "bbb", [(400, 410)], tmp_path / "flip.mp4", family="hflip", seed=1)
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 100)
    with open(tmp_path / "sources.csv", "w", newline="") as fh:
        csv.writer(fh).writerows(
            [["video_id", "path", "title", "genre"], ["bbb", str(film), "Big Buck Bunny", "anim"]]
        )
    with open(tmp_path / "derivatives.csv", "w", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["clip_id", "path", "title"],
                ["trailer", str(sample("bbb_trailer")), "Big Buck Bunny trailer"],
                ["flip", str(tmp_path / "flip.mp4"), "Big Buck Bunny funny rabbit scene"],
                ["broken", str(tmp_path / "broken.mp4"), "Big Buck Bunny best moment"],
            ]
        )

    def build(engine: str, out: str):
        config = BuildConfig(
            window=20, title_filter="none", engine=engine, num_workers=2,
            test_labels="bbb-trailer",
        )  # fmt: skip
        return build_dataset(
            tmp_path / "sources.csv", [tmp_path / "derivatives.csv"], tmp_path / out, config,
            show_progress=False,
        )  # fmt: skip

    local = build("local", "local")

    killed: list[int] = []
    stop = threading.Event()

    def kill_the_first_unit() -> None:  # the source's fingerprint: the longest unit
        while not stop.is_set() and not killed:
            for pid in _ray_task_pids("_run_unit"):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                break
            time.sleep(0.05)

    killer = threading.Thread(target=kill_the_first_unit, daemon=True)
    killer.start()
    try:
        on_ray = build("ray", "ray")
    finally:
        stop.set()
        killer.join(5)
    assert killed, "no Ray worker was seen running a unit"
    assert _tree(local.out_dir) == _tree(on_ray.out_dir)
    report = on_ray.report
    assert [u["id"] for u in report["unreadable"]] == ["broken"]
    assert report["counts"]["derivatives_voting"] == 2
