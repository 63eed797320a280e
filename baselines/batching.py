"""What the trained baselines share: train-split column statistics and padded video batches.

Handcrafted cues come in their own units (dB, pixels per frame, cuts per second), so every
trained row standardises its inputs with the train split's column mean and std; videos of
different lengths go through a network together as one zero-padded batch with a mask.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["column_stats", "pad_videos"]


def column_stats(x: np.ndarray, eps: float = 1e-8) -> tuple[np.ndarray, np.ndarray]:
    """Column mean and std of ``x`` (rows are clips) as float32; a constant column gets std 1,
    so it standardises to 0 instead of dividing by zero."""
    x = np.asarray(x, dtype=np.float64)
    mean, std = x.mean(axis=0), x.std(axis=0)
    return mean.astype(np.float32), np.where(std > eps, std, 1.0).astype(np.float32)


def pad_videos(arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(B, T, D)`` float32 zero-padded to the longest of ``arrays`` (each ``(T_i, D)``) and
    the ``(B, T)`` mask that is True on real clips."""
    t = max(int(a.shape[0]) for a in arrays)
    out = np.zeros((len(arrays), t, arrays[0].shape[1]), dtype=np.float32)
    valid = np.zeros((len(arrays), t), dtype=bool)
    for i, a in enumerate(arrays):
        out[i, : a.shape[0]] = a
        valid[i, : a.shape[0]] = True
    return out, valid
