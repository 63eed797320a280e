"""Comparison methods behind one interface; installed as ``tvhighlights.baselines``.

Every baseline is a :class:`~.base.Baseline`: ``fit`` on the train split's rows and features
(may do nothing), then ``score`` a video's stored features into one score per clip of the
2-second grid. One module per method, one registry (:data:`REGISTRY`) of the rows a
leaderboard shows; a row is a class and its settings, so a method's variants (visual only,
zero-shot, ...) are rows too. The CLI (``tvhighlights baseline NAME``, ``tvhighlights
leaderboard``) and the benchmarks reach them through :func:`get_baseline`.

Modules are imported when a baseline is made, so listing them needs neither torch nor umap.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tvhighlights.errors import InvalidArgumentError

from .base import Baseline, BaselineData, BaselineVideo, PaperFigure
from .data import load_baseline_data

logger = logging.getLogger(__name__)

__all__ = [
    "REGISTRY",
    "Baseline",
    "BaselineData",
    "BaselineSpec",
    "BaselineVideo",
    "PaperFigure",
    "available_baselines",
    "fit_baseline",
    "get_baseline",
    "load_baseline_data",
    "resolve_names",
    "score_data",
]


@dataclass(frozen=True)
class BaselineSpec:
    """One leaderboard row: which class, with which settings, and one line on it."""

    module: str
    cls: str
    description: str
    options: Mapping[str, Any] = field(default_factory=dict)
    group: str = ""
    """The method the row belongs to (rows of one paper share it)."""


REGISTRY: dict[str, BaselineSpec] = {
    "random": BaselineSpec("chance", "RandomBaseline",
        "uniform random scores seeded by the video id (the chance floor)", group="heuristic"),
    "loudness": BaselineSpec("signals", "SignalBaseline",
        "louder clips first: the handcrafted LUFS-like loudness", {"signal": "loudness"},
        group="heuristic"),
    "motion": BaselineSpec("signals", "SignalBaseline",
        "more motion first: mean luma change between frames", {"signal": "motion"},
        group="heuristic"),
    "cut-density": BaselineSpec("signals", "SignalBaseline",
        "more cuts first: shot cuts per second", {"signal": "cut-density"}, group="heuristic"),
    "mil": BaselineSpec("mil", "MILBaseline",
        "LTV-HD stage 1: multiple-instance learning from video labels", group="LTV-HD"),
    "av-recurrence": BaselineSpec("av_recurrence", "AVRecurrenceBaseline",
        "seed 002: audio-visual recurrence pseudo-highlights, then the audio-visual network",
        group="AV-recurrence"),
    "av-recurrence-pseudo": BaselineSpec("av_recurrence", "AVRecurrenceBaseline",
        "seed 002: the recurrence pseudo-highlight scores used directly (its Table 12)",
        {"mode": "pseudo"}, group="AV-recurrence"),
    "av-recurrence-visual": BaselineSpec("av_recurrence", "AVRecurrenceBaseline",
        "seed 002, visual only: recurrence and network on the visual stream",
        {"modalities": ("visual",)}, group="AV-recurrence"),
    "av-recurrence-audio": BaselineSpec("av_recurrence", "AVRecurrenceBaseline",
        "seed 002, audio only: recurrence and network on the audio stream",
        {"modalities": ("audio",)}, group="AV-recurrence"),
    "hl-clip": BaselineSpec("hl_clip", "HLCLIPBaseline",
        "seed 003, zero-shot: CLIP image-text cosine with the title, saliency pooling",
        group="HL-CLIP"),
    "hl-clip-adapted": BaselineSpec("hl_clip", "HLCLIPBaseline",
        "seed 003: a residual adapter on the frozen CLIP embeddings trained with MSE",
        {"adapt": True}, group="HL-CLIP"),
    "rasl": BaselineSpec("rasl", "RASLBaseline",
        "seed 004: cross-modal pretraining, scores from activations of visual input only",
        group="RASL"),
    "rasl-av": BaselineSpec("rasl", "RASLBaseline",
        "seed 004: the same, scored from visual and audio activations",
        {"modalities": ("visual", "audio")}, group="RASL"),
    "less-is-more": BaselineSpec("less_is_more", "LessIsMoreBaseline",
        "seed 001 (Xiong et al. 2019): reused vs. unreused clips, weighted pairwise hinge",
        group="Less is More"),
    "taohighlight": BaselineSpec("taohighlight", "TaoHighlightBaseline",
        "seed 001: BiGRU + gated title + GCN over the top-k clips, start windows to clips",
        group="TaoHighlight"),
    "llm-cs": BaselineSpec("llm_cs", "LLMClipScoringBaseline",
        "LLM clip scoring: the stage-2 describer and LLM score every clip, no training",
        group="LLM"),
}  # fmt: skip
"""Every row, by name, in the leaderboard's order."""


def available_baselines() -> dict[str, str]:
    """Names of the registered baselines and one line on each."""
    return {name: spec.description for name, spec in REGISTRY.items()}


def get_baseline(name: str, **options: Any) -> Baseline:
    """The baseline called ``name``; ``options`` override its settings (the papers' defaults)."""
    if name not in REGISTRY:
        raise InvalidArgumentError(
            f"unknown baseline {name!r}; available: {', '.join(REGISTRY)}", param="name"
        )
    spec = REGISTRY[name]
    cls = getattr(importlib.import_module(f"{__name__}.{spec.module}"), spec.cls)
    try:
        baseline = cls(**{**spec.options, **options})
    except TypeError as e:
        raise InvalidArgumentError(f"baseline {name!r}: {e}", param="options") from None
    baseline.name = name
    return baseline


def resolve_names(names: Sequence[str] | str) -> list[str]:
    """``all``, a comma-separated string or a list of names, as registry names in order."""
    items = [names] if isinstance(names, str) else list(names)
    wanted = [n.strip() for item in items for n in item.split(",") if n.strip()]
    if not wanted or wanted == ["all"]:
        return list(REGISTRY)
    unknown = [n for n in wanted if n not in REGISTRY]
    if unknown:
        raise InvalidArgumentError(
            f"unknown baseline(s) {', '.join(unknown)}; available: {', '.join(REGISTRY)}",
            param="baselines",
        )
    return list(dict.fromkeys(wanted))


def score_data(
    baseline: Baseline, data: BaselineData | Sequence[BaselineVideo], *, show_progress: bool = False
) -> dict[str, np.ndarray]:
    """``baseline``'s checked scores for every video of ``data`` (``{video_id: scores}``)."""
    videos = data.videos if isinstance(data, BaselineData) else list(data)
    scores = baseline.score_many(videos, show_progress=show_progress)
    logger.info("%s: scored %d videos", baseline.name, len(scores))
    return scores


def fit_baseline(
    baseline: Baseline,
    train: BaselineData,
    *,
    work_dir: str | Path | None = None,
    show_progress: bool = False,
) -> Baseline:
    """``baseline.fit`` after checking every train video has what it needs."""
    for v in train.videos:
        baseline.check(v)
    return baseline.fit(
        train, work_dir=Path(work_dir) if work_dir else None, show_progress=show_progress
    )
