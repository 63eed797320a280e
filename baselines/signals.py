"""Signal heuristics: one measured cue of the handcrafted extractor, as is.

Classic highlight cues, each a column of :mod:`tvhighlights.features.handcrafted` (no weights,
no training): ``loudness`` (the clip's LUFS-like loudness, ``lufs``), ``motion`` (mean absolute
luma change between frames, ``motion_mean``) and ``cut-density`` (shot cuts per second,
``cut_rate``). Scores are the column min-max scaled per video (a constant column scores 0
everywhere), so the rows are comparable with each other; AUC and AP do not depend on it.
A video without audio scores 0 everywhere on loudness.
"""

from __future__ import annotations

import logging

import numpy as np

from tvhighlights.errors import InvalidArgumentError
from tvhighlights.features.handcrafted import AUDIO_FEATURES, VISUAL_FEATURES

from .base import Baseline, BaselineVideo

logger = logging.getLogger(__name__)

__all__ = ["SIGNALS", "SignalBaseline", "minmax"]

SIGNALS = {
    "loudness": ("audio", "lufs"),
    "motion": ("visual", "motion_mean"),
    "cut-density": ("visual", "cut_rate"),
}
"""Signal name -> (modality, handcrafted column)."""

_COLUMNS = {
    "visual": [n for n, _ in VISUAL_FEATURES],
    "audio": [n for n, _ in AUDIO_FEATURES],
}


def minmax(x: np.ndarray) -> np.ndarray:
    """Scale to [0, 1]; a constant input becomes all zeros."""
    x = np.asarray(x, dtype=np.float64)
    lo, hi = float(np.min(x)), float(np.max(x))
    return np.zeros_like(x) if hi <= lo else (x - lo) / (hi - lo)


class SignalBaseline(Baseline):
    description = "one handcrafted cue (loudness, motion or cut density), min-max scaled"
    requires = ("handcrafted",)

    def __init__(self, signal: str = "loudness") -> None:
        if signal not in SIGNALS:
            raise InvalidArgumentError(
                f"unknown signal {signal!r}; choose one of {', '.join(SIGNALS)}", param="signal"
            )
        self.signal = signal
        self.modality, self.column = SIGNALS[signal]

    def score(self, video: BaselineVideo) -> np.ndarray:
        if self.modality == "audio" and not video.has_audio:
            logger.warning("%s has no audio: %s scores are all 0", video.video_id, self.signal)
            return np.zeros(video.num_clips)
        block = video.features["handcrafted"].get(self.modality)
        j = _COLUMNS[self.modality].index(self.column)
        if block is None or block.shape[1] <= j:
            width = 0 if block is None else block.shape[1]
            raise InvalidArgumentError(
                f"baseline {self.name!r}: video {video.video_id!r} has {width} handcrafted "
                f"{self.modality} columns, so no {self.column!r} (column {j}); extract again"
            )
        return minmax(block[:, j])
