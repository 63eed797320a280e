"""Random scores: the chance floor every method must beat.

Seeded by the video id, so the same video always gets the same scores (and a rerun of the
leaderboard the same row).
"""

from __future__ import annotations

import zlib

import numpy as np

from .base import Baseline, BaselineVideo

__all__ = ["RandomBaseline"]


class RandomBaseline(Baseline):
    description = "uniform random scores seeded by the video id (the chance floor)"

    def __init__(self, seed: int = 0) -> None:
        self.seed = int(seed)

    def score(self, video: BaselineVideo) -> np.ndarray:
        rng = np.random.default_rng([self.seed, zlib.crc32(video.video_id.encode("utf-8"))])
        return rng.random(video.num_clips)
