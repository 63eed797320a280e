"""The default engine: the units in this process, or in a spawn process pool."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

from tqdm.auto import tqdm

from .base import Engine

__all__ = ["LocalEngine"]

_SHARED: Any = None
"""A pool worker's copy of ``shared`` (set once by the pool's initializer)."""


def _install_shared(shared: Any) -> None:
    global _SHARED
    _SHARED = shared


def _call(fn_item: tuple[Callable[[Any, Any], Any], Any]) -> Any:
    fn, item = fn_item
    return fn(item, _SHARED)


class LocalEngine(Engine):
    """``num_workers`` spawn processes (never fork: a parent may hold threads or CUDA); one
    worker runs everything inline."""

    name = "local"

    def __init__(self, num_workers: int = 1) -> None:
        self.num_workers = int(num_workers)

    @property
    def workers(self) -> int:
        return self.num_workers

    def map(
        self,
        fn: Callable[[Any, Any], Any],
        items: Sequence[Any],
        *,
        shared: Any = None,
        desc: str = "",
        show_progress: bool = False,
    ) -> list[Any]:
        if self.num_workers <= 1 or len(items) <= 1:
            return [fn(x, shared) for x in tqdm(items, desc=desc, disable=not show_progress)]
        with ProcessPoolExecutor(
            min(self.num_workers, len(items)),
            mp_context=get_context("spawn"),
            initializer=_install_shared,
            initargs=(shared,),
        ) as pool:
            jobs = pool.map(_call, [(fn, x) for x in items])
            return list(tqdm(jobs, total=len(items), desc=desc, disable=not show_progress))
