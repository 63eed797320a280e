"""Loudness: louder clips score higher, a classic audio cue for highlights.

Score of a clip = RMS level (dBFS) of its mono 16 kHz audio, min-max scaled to [0, 1] per
video. A video without audio scores 0 everywhere.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from tvhighlights.clips import clip_bounds
from tvhighlights.video import probe, read_audio

logger = logging.getLogger(__name__)

AUDIO_RATE = 16_000


def clip_rms_db(audio: np.ndarray, rate: int, duration: float) -> np.ndarray:
    """RMS level in dBFS of every 2-second clip of a mono signal (-120 dB for silence)."""
    bounds = clip_bounds(duration)
    out = np.full(len(bounds), -120.0)
    for i, (start, end) in enumerate(bounds):
        seg = audio[round(start * rate) : round(end * rate)]
        if seg.size:
            rms = float(np.sqrt(np.mean(np.square(seg, dtype=np.float64))))
            out[i] = max(20.0 * np.log10(rms + 1e-12), -120.0)
    return out


def minmax(x: np.ndarray) -> np.ndarray:
    """Scale to [0, 1]; a constant input becomes all zeros."""
    lo, hi = float(np.min(x)), float(np.max(x))
    return np.zeros_like(x, dtype=np.float64) if hi <= lo else (x - lo) / (hi - lo)


class LoudnessBaseline:
    name = "loudness"
    description = "per-clip audio RMS level (dBFS), min-max scaled per video"

    def score_video(self, path: str | Path, video_id: str) -> np.ndarray:
        info = probe(path)
        if not info.has_audio:
            logger.warning("%s has no audio: loudness scores are all 0", path)
            return np.zeros(info.num_clips)
        audio = read_audio(path, rate=AUDIO_RATE)
        return minmax(clip_rms_db(audio, AUDIO_RATE, info.duration))
