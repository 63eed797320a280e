"""Several processes on one job (``accelerate launch``, ``torchrun``): who am I, which GPU is
mine, wait for the others.

Extraction splits the videos by rank and training runs through ``accelerate``; both read the
process layout from the environment the launchers set (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``), so a plain run is rank 0 of 1 and needs nothing of this.
"""

from __future__ import annotations

import os

__all__ = ["process_device", "rank_and_world_size", "wait_for_everyone"]


def rank_and_world_size() -> tuple[int, int]:
    """This process's rank and the number of processes, as ``accelerate launch`` and
    ``torchrun`` set them (0 and 1 in a plain run)."""
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def process_device(device: str) -> str:
    """The device this process should use: a bare ``"cuda"`` becomes ``cuda:<LOCAL_RANK>`` when
    several processes share the machine (each takes its own GPU); anything else is unchanged."""
    _, world = rank_and_world_size()
    if world > 1 and device == "cuda":
        return f"cuda:{os.environ.get('LOCAL_RANK', '0')}"
    return device


def wait_for_everyone(device: str = "cpu") -> None:
    """Block until every process of the launch gets here (gloo on CPU, NCCL on GPUs); returns at
    once in a plain run."""
    if rank_and_world_size()[1] <= 1:
        return
    from accelerate import PartialState

    PartialState(cpu=not str(device).startswith("cuda")).wait_for_everyone()
