"""Comparison methods behind one interface; installed as ``tvhighlights.baselines``.

Every baseline maps a video file to one score per clip of the 2-second grid
(:func:`tvhighlights.clips.num_clips` entries). The CLI (``tvhighlights baseline NAME``), the
quickstart and the benchmark tables call them through :func:`get_baseline`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import numpy as np
from tqdm.auto import tqdm

from tvhighlights.errors import InvalidArgumentError

logger = logging.getLogger(__name__)


class Baseline(Protocol):
    """A highlight scorer that needs no training data."""

    name: str
    description: str

    def score_video(self, path: str | Path, video_id: str) -> np.ndarray:
        """One score per 2-second clip of the video at ``path``."""
        ...


def available_baselines() -> dict[str, str]:
    """Names of the registered baselines and one line on each."""
    return {name: cls.description for name, cls in _registry().items()}


def get_baseline(name: str) -> Baseline:
    """An instance of the baseline called ``name``."""
    reg = _registry()
    if name not in reg:
        raise InvalidArgumentError(
            f"unknown baseline {name!r}; available: {', '.join(sorted(reg))}", param="name"
        )
    return reg[name]()


def score_videos(
    baseline: Baseline, videos: Mapping[str, str | Path], *, show_progress: bool = True
) -> dict[str, np.ndarray]:
    """Run ``baseline`` on ``{video_id: path}``; returns ``{video_id: scores}``."""
    out: dict[str, np.ndarray] = {}
    for vid, path in tqdm(
        videos.items(), desc=f"baseline {baseline.name}", unit="video", disable=not show_progress
    ):
        out[vid] = baseline.score_video(path, vid)
        logger.info("%s: %s -> %d clips", baseline.name, vid, len(out[vid]))
    return out


def _registry() -> dict[str, type]:
    from .chance import RandomBaseline
    from .loudness import LoudnessBaseline

    return {cls.name: cls for cls in (LoudnessBaseline, RandomBaseline)}
