"""The prediction's figure: highlight score over the film's time, the spans shaded."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..clips import CLIP_SECONDS, clip_bounds, num_clips
from ..errors import InvalidArgumentError
from ..figures import pyplot, save_png

__all__ = ["plot_highlight_scores"]


def plot_highlight_scores(
    scores: Sequence[float] | np.ndarray,
    spans: Sequence,
    path: str | Path,
    *,
    title: str | None = None,
    threshold: float | None = None,
    labels: Sequence[int] | np.ndarray | None = None,
    duration: float | None = None,
) -> Path:
    """Highlight score over the film's time, the predicted spans shaded: where the model looks.

    ``scores`` has one value per clip of the grid; ``spans`` holds objects with ``start`` and
    ``end`` (``HighlightSpan``) or ``(start, end)`` pairs, in seconds, numbered in the given
    order (best first from ``highlight_spans``). ``threshold`` draws a dashed line; ``labels``
    (0/1 per clip, e.g. reference labels) adds a strip under the curve. ``duration`` ends the
    last, possibly shorter, clip at the video's end. Written as PNG, atomically.
    """
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    plt = pyplot()
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    n = s.size
    if duration is not None and num_clips(duration) == n:
        bounds = clip_bounds(duration)
    else:
        starts = np.arange(n, dtype=np.float64) * CLIP_SECONDS
        bounds = np.stack([starts, starts + CLIP_SECONDS], axis=1).reshape(n, 2)
    end = float(bounds[-1, 1]) if n else CLIP_SECONDS
    lab = None if labels is None else np.asarray(labels).reshape(-1)
    if lab is not None and lab.size != n:
        raise InvalidArgumentError(f"labels has {lab.size} entries for {n} clips")

    if lab is not None:
        fig, (ax, strip) = plt.subplots(
            2, 1, figsize=(10, 3.4), sharex=True, gridspec_kw={"height_ratios": [6, 1]}
        )
    else:
        fig, ax = plt.subplots(figsize=(10, 3))
        strip = None
    for rank, sp in enumerate(spans, start=1):
        a, b = (sp.start, sp.end) if hasattr(sp, "start") else (sp[0], sp[1])
        label = "highlight" if rank == 1 else None
        ax.axvspan(a, b, color="#f2a541", alpha=0.35, lw=0, label=label)
        ax.text((a + b) / 2, 1.0, str(rank), ha="center", va="bottom", fontsize=7)
    if n:
        x = np.append(bounds[:, 0], end)
        ax.stairs(s, x, baseline=None, color="#3b6ea8", lw=1.2, label="score")
    if threshold is not None and np.isfinite(threshold):
        ax.axhline(threshold, color="#a83b3b", ls="--", lw=0.9, label=f"threshold {threshold:.2f}")
    ax.set_xlim(0, end)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("highlight score")
    if title:
        ax.set_title(title, fontsize=9, loc="left")
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=7, ncol=3, frameon=False)
    last = strip if strip is not None else ax
    if strip is not None:
        pos = lab > 0
        widths = bounds[pos, 1] - bounds[pos, 0]
        strip.bar(bounds[pos, 0], 1, width=widths, align="edge", color="#4a9a5b")
        strip.set_ylim(0, 1)
        strip.set_yticks([])
        strip.set_ylabel("labels", rotation=0, ha="right", va="center", fontsize=8)
    nice = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600]
    step = next((v for v in nice if end / v <= 12), 3600 * math.ceil(end / 3600 / 12))
    last.xaxis.set_major_locator(MultipleLocator(step))
    last.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{int(v) // 60}:{int(v) % 60:02d}"))
    last.set_xlabel("time (m:ss)")
    fig.tight_layout()
    return save_png(fig, path, metadata={"Software": None})
