"""What an engine does: run ``fn(item, shared)`` over items, in order, ``shared`` sent once."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

__all__ = ["Engine"]


class Engine(ABC):
    """Runs work units. Use it as a context manager: it starts its workers (or its cluster)
    on entry and stops them on exit."""

    name: str

    def __enter__(self) -> Engine:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:  # noqa: B027 - nothing to start by default
        """Start the workers (or connect); called on entering the context."""

    def stop(self) -> None:  # noqa: B027 - nothing to stop by default
        """Stop what :meth:`start` started."""

    @property
    @abstractmethod
    def workers(self) -> int:
        """How many units run at once."""

    @abstractmethod
    def map(
        self,
        fn: Callable[[Any, Any], Any],
        items: Sequence[Any],
        *,
        shared: Any = None,
        desc: str = "",
        show_progress: bool = False,
    ) -> list[Any]:
        """``[fn(item, shared) for item in items]``. ``fn`` is a module-level function (the
        workers import it); ``shared`` (e.g. the fingerprint index) reaches each worker once,
        not once per item. An exception a unit raises is raised here as itself."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(workers={self.workers})"
