"""Where the per-file work units run: this machine's processes (``local``) or Ray (``ray``).

The build's units (a source's fingerprint, a derivative's alignment) are cached by file
content and computed the same way wherever they run, so an engine decides only *where*: the
outputs are the same bytes on either, and a rerun after any failure skips what is cached.
``local`` (the default) is a spawn process pool; ``ray`` (the ``[ray]`` extra) starts a local
Ray with the machine's CPUs when no address is given, and stops it afterwards, or joins a
running cluster (``address="auto"`` or ``HEAD:6379``). ``--shard i/n`` + ``merge`` remain for
schedulers without Ray (Slurm arrays). Nothing here imports Ray until the ``ray`` engine is
asked for.
"""

from __future__ import annotations

from .base import Engine
from .local import LocalEngine

__all__ = ["ENGINES", "Engine", "LocalEngine", "check_engine", "get_engine"]

ENGINES = ("local", "ray")
"""The engines :func:`get_engine` knows."""


def check_engine(name: str, num_workers: int | None = None, address: str | None = None) -> None:
    """Fail before any work on an unknown engine, fewer than one worker, or a Ray address
    given to the local engine."""
    from ..errors import InvalidArgumentError

    if name not in ENGINES:
        raise InvalidArgumentError(
            f"engine must be one of {', '.join(ENGINES)}, got {name!r}", param="engine"
        )
    if num_workers is not None and num_workers < 1:
        raise InvalidArgumentError(
            f"num_workers must be >= 1, got {num_workers}", param="num_workers"
        )
    if address and name != "ray":
        raise InvalidArgumentError(
            f"a Ray address ({address!r}) is given but the engine is {name!r}",
            param="ray_address",
        )


def get_engine(
    name: str = "local", *, num_workers: int | None = None, address: str | None = None
) -> Engine:
    """The engine called ``name``; ``num_workers`` parallel units (default: 1 locally, every
    CPU of the Ray cluster); ``address`` is the Ray cluster to join (``ray`` only)."""
    check_engine(name, num_workers, address)
    if name == "local":
        return LocalEngine(num_workers or 1)
    from .ray import RayEngine

    return RayEngine(num_workers, address=address)
