"""The Ray engine: every unit a Ray task, ``shared`` put in the object store once.

Without an address a local Ray starts with the machine's CPUs (``num_workers`` of them when
given) and stops on exit; with one (``auto``, ``HEAD:6379``) the job joins that cluster, whose
nodes must see the same paths (the videos, the work-unit cache) on a shared filesystem. A
task whose worker process dies (``kill -9``, a lost node) is run again, up to
:attr:`RayEngine.max_retries` times; its cached result is written atomically, so a retried
unit gives the same bytes. Each worker reads ``shared`` from the object store once and keeps
it (the fingerprint index is never sent per task).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

from tqdm.auto import tqdm

from ..errors import EngineError
from .base import Engine

logger = logging.getLogger(__name__)

__all__ = ["RayEngine"]

_WORKER_SHARED: dict[str, Any] = {}
"""In a Ray worker: object id -> ``shared``, read once from the object store."""


def _ray() -> Any:
    try:
        import ray
    except ImportError as e:
        raise EngineError("the ray engine needs Ray: pip install 'tvhighlights[ray]'") from e
    return ray


def _run_unit(fn: Callable[[Any, Any], Any], item: Any, boxed: list[Any]) -> Any:
    """A task: ``fn(item, shared)``; ``boxed`` holds the shared object's ref (a list, so Ray
    does not resolve it per task) or nothing."""
    if not boxed:
        return fn(item, None)
    ref = boxed[0]
    key = ref.hex()
    if key not in _WORKER_SHARED:
        _WORKER_SHARED.clear()  # one shared object at a time: an old index is not kept
        _WORKER_SHARED[key] = _ray().get(ref)
    return fn(item, _WORKER_SHARED[key])


class RayEngine(Engine):
    """Ray tasks of one CPU each; ``num_workers`` caps those in flight (default: the
    cluster's CPUs)."""

    name = "ray"
    max_retries = 3
    """Times a unit is run again after its worker process died."""

    def __init__(self, num_workers: int | None = None, *, address: str | None = None) -> None:
        self.num_workers = num_workers
        self.address = address
        self._started = False
        self._cpus = num_workers or os.cpu_count() or 1

    @property
    def workers(self) -> int:
        return self._cpus

    def start(self) -> None:
        ray = _ray()
        if ray.is_initialized():
            self._cpus = self.num_workers or int(ray.cluster_resources().get("CPU", 1))
            return
        kwargs: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": False,
            "logging_level": logging.WARNING,
        }
        try:
            if self.address:
                ray.init(address=self.address, **kwargs)
            else:
                ray.init(num_cpus=self._cpus, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as e:
            where = self.address or "a local Ray"
            raise EngineError(f"cannot start or join {where}: {e}") from e
        self._started = True
        if self.address:
            self._cpus = self.num_workers or int(ray.cluster_resources().get("CPU", 1))
        logger.info("ray: %s, %d workers", ray.get_runtime_context().gcs_address, self._cpus)

    def stop(self) -> None:
        if self._started:
            _ray().shutdown()
            self._started = False

    def map(
        self,
        fn: Callable[[Any, Any], Any],
        items: Sequence[Any],
        *,
        shared: Any = None,
        desc: str = "",
        show_progress: bool = False,
    ) -> list[Any]:
        ray = _ray()
        if not ray.is_initialized():
            raise EngineError("the ray engine is not started: use it as a context manager")
        if not items:
            return []
        task = ray.remote(num_cpus=1, max_retries=self.max_retries)(_run_unit)
        boxed = [ray.put(shared)] if shared is not None else []
        window = max(2 * self._cpus, 1)  # bounded in flight: a million units are not queued
        results: list[Any] = [None] * len(items)
        pending: dict[Any, int] = {}
        nxt = 0
        with tqdm(total=len(items), desc=desc, disable=not show_progress) as bar:
            while nxt < len(items) or pending:
                while nxt < len(items) and len(pending) < window:
                    pending[task.remote(fn, items[nxt], boxed)] = nxt
                    nxt += 1
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    i = pending.pop(ref)
                    results[i] = self._result(ray, ref, items[i])
                    bar.update(1)
        return results

    @staticmethod
    def _result(ray: Any, ref: Any, item: Any) -> Any:
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as e:  # the unit raised: raise its own error
            cause = getattr(e, "cause", None)
            if isinstance(cause, BaseException):
                raise cause from None
            raise
        except ray.exceptions.WorkerCrashedError as e:
            raise EngineError(
                f"the worker running {item!r} died {RayEngine.max_retries + 1} times: {e}"
            ) from e
