"""Training curves: loss and validation scores per epoch, one PNG a person reads at a glance."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..figures import pyplot, save_png

__all__ = ["plot_training_curves"]


def plot_training_curves(history: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Train/validation loss (left) and validation clip AUC/AP (right) against the epoch."""
    plt = pyplot()

    def series(key: str) -> list[float]:
        return [float("nan") if r.get(key) is None else float(r[key]) for r in history]

    epochs = [r["epoch"] for r in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    left.plot(epochs, series("train_loss"), label="train loss")
    left.plot(epochs, series("val_loss"), label="validation loss")
    left.set_xlabel("epoch")
    left.set_ylabel("MIL loss")
    left.legend()
    right.plot(epochs, series("val_clip_auc"), label="clip AUC")
    right.plot(epochs, series("val_clip_ap"), label="clip AP")
    right.set_xlabel("epoch")
    right.set_ylabel("validation, %")
    right.legend()
    fig.tight_layout()
    return save_png(fig, path, dpi=110)
