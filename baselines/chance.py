"""Random scores: the chance floor every method must beat.

Seeded by the video id, so the same video always gets the same scores.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from tvhighlights.video import probe


class RandomBaseline:
    name = "random"
    description = "uniform random scores seeded by the video id (the chance floor)"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def score_video(self, path: str | Path, video_id: str) -> np.ndarray:
        n = probe(path).num_clips
        rng = np.random.default_rng([self.seed, zlib.crc32(video_id.encode("utf-8"))])
        return rng.random(n)
