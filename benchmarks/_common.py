"""Shared by the benchmark scripts: a description of the machine the figures come from."""

from __future__ import annotations

import os
import platform
import sys


def machine_info() -> dict[str, str]:
    """CPU model, cores, memory, OS and Python of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            kb = int(fh.readline().split()[1])
            mem = f"{kb / 1024**2:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu,
        "cores": str(cores),
        "memory": mem,
        "os": platform.platform(),
        "python": sys.version.split()[0],
    }


def print_machine() -> dict[str, str]:
    """Print :func:`machine_info` as one line and return it."""
    info = machine_info()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in info.items()))
    return info
