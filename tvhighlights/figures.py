"""Figures as PNG files: matplotlib without a display, written atomically.

One place for what every plot of the project needs (vote timelines, score curves, training
curves): the Agg backend, so plots draw on machines without a display, and a save that never
leaves a half-written file behind.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .fileio import atomic_write

__all__ = ["pyplot", "save_png"]


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (imported on first use: matplotlib is slow)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(
    fig: Any, path: str | Path, *, dpi: int = 100, metadata: dict[str, Any] | None = None
) -> Path:
    """Save ``fig`` as PNG at ``path`` atomically and close it. ``metadata`` goes to
    ``savefig`` (``{"Software": None}`` leaves out the matplotlib version, for stable bytes)."""
    path = Path(path)
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=dpi, metadata=metadata)
    pyplot().close(fig)
    return path
