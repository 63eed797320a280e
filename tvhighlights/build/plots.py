"""The build's figures, drawn into the dataset card: vote timelines and histograms."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..clips import CLIP_SECONDS
from ..figures import pyplot, save_png


def plot_vote_timelines(
    timelines: Sequence[tuple[str, np.ndarray, np.ndarray]], path: str | Path, max_rows: int = 8
) -> Path:
    """One panel per source: votes per 2-second clip, highlight clips shaded.

    ``timelines`` holds ``(title, votes, labels)`` per source; the first ``max_rows`` are drawn.
    """
    plt = pyplot()
    shown = list(timelines)[:max_rows]
    fig, axes = plt.subplots(
        max(1, len(shown)), 1, figsize=(10, 1.8 * max(1, len(shown))), squeeze=False
    )
    for ax, (title, votes, labels) in zip(axes[:, 0], shown, strict=False):
        t = np.arange(len(votes)) * CLIP_SECONDS
        top = max(1, int(np.max(votes)) if len(votes) else 1)
        ax.bar(
            t,
            top * (np.asarray(labels) > 0),
            width=CLIP_SECONDS,
            align="edge",
            color="#f2a541",
            alpha=0.35,
            label="highlight",
        )
        ax.bar(t, votes, width=CLIP_SECONDS, align="edge", color="#3b6ea8", label="votes")
        ax.set_xlim(0, max(CLIP_SECONDS, len(votes) * CLIP_SECONDS))
        ax.set_ylabel("votes")
        ax.set_title(title, fontsize=9, loc="left")
    axes[-1, 0].set_xlabel("source time (s)")
    axes[0, 0].legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return save_png(fig, path, metadata={"Software": None})


def plot_vote_histogram(votes: Sequence[np.ndarray], path: str | Path) -> Path:
    """Histogram of votes per clip over all sources (log count axis)."""
    plt = pyplot()
    allv = np.concatenate([np.asarray(v) for v in votes]) if votes else np.zeros(0, int)
    fig, ax = plt.subplots(figsize=(6, 3))
    top = int(allv.max()) if allv.size else 0
    ax.hist(allv, bins=np.arange(top + 2) - 0.5, color="#3b6ea8")
    ax.set_yscale("log")
    ax.set_xlabel("votes per 2-second clip")
    ax.set_ylabel("clips")
    fig.tight_layout()
    return save_png(fig, path, metadata={"Software": None})
