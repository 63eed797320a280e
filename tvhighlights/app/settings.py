"""The demo's limits and places, as one validated settings object (no gradio needed)."""

from __future__ import annotations

import math
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InvalidArgumentError

__all__ = ["DEFAULT_SAMPLES", "DemoSettings"]

DEFAULT_SAMPLES: tuple[str, ...] = ("bbb_trailer", "bbb")
"""The bundled samples the page offers: the 55-s trailer and the 10-minute film."""

_SIZE = re.compile(r"^\s*\d+(\.\d+)?\s*(b|kb|mb|gb|tb)?\s*$", re.IGNORECASE)


@dataclass
class DemoSettings:
    """What the demo accepts and where it writes; every limit is a setting with a message.

    Uploads stay in gradio's temporary folder; the reels and JSON files the page offers are
    written under ``output_dir`` (default: a ``tvhighlights-demo`` folder in the system's
    temporary folder), and only that folder and the sample cache are served besides uploads.
    """

    max_file_size: str | int = "2gb"
    """Largest upload (gradio answers 413 beyond it): bytes or a string such as ``"2gb"``."""
    max_duration: float | None = 3 * 3600.0
    """Longest video, in seconds, the page scores (``None``: any length)."""
    concurrency_limit: int = 1
    """Videos scored at once (the scoring event's ``concurrency_limit``); others queue."""
    max_queue: int = 16
    """Requests waiting in the queue before new ones are turned away."""
    cache_size: int = 32
    """Scored (upload, model) pairs kept in memory, so re-ranking never recomputes."""
    device: str = "cpu"
    output_dir: Path = field(
        default_factory=lambda: Path(tempfile.gettempdir()) / "tvhighlights-demo"
    )
    samples: tuple[str, ...] = DEFAULT_SAMPLES

    def __post_init__(self) -> None:
        size = self.max_file_size
        if isinstance(size, bool) or not (
            (isinstance(size, int) and size > 0) or (isinstance(size, str) and _SIZE.match(size))
        ):
            raise InvalidArgumentError(
                f"max_file_size must be a number of bytes or a size such as '2gb', got {size!r}",
                param="max_file_size",
            )
        if self.max_duration is not None and not (
            math.isfinite(float(self.max_duration)) and self.max_duration > 0
        ):
            raise InvalidArgumentError(
                f"max_duration must be seconds > 0 or None, got {self.max_duration!r}",
                param="max_duration",
            )
        for name in ("concurrency_limit", "max_queue", "cache_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidArgumentError(f"{name} must be an integer >= 1, got {value!r}",
                                           param=name)  # fmt: skip
        self.output_dir = Path(self.output_dir)
        self.samples = tuple(self.samples)
