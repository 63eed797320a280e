"""The grouped ranking core: clips sorted by video and score, tie blocks, and per-group ROC-AUC
and AP in one pass. Shared by :mod:`.auc_ap` and :mod:`.qvhighlights`; private to the package.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._checks import NAN


def sort_orders(
    scores: NDArray[np.float64], lengths: NDArray[np.int64], *, stable: bool
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Orders of the concatenated clips: by score descending (pooled), and by video then
    score descending (grouped).

    One float sort, then a stable radix pass on the video id (numpy's stable sort of 16-bit
    integers is a radix sort): several times faster than ``np.lexsort`` on millions of
    clips. With ``stable``, tied scores keep their clip order, so the first clip of a video
    in the grouped order is ``np.argmax`` of its scores; otherwise ties are in any order.
    """
    pooled = np.argsort(-scores, kind="stable") if stable else np.argsort(scores)[::-1]
    num_videos = lengths.shape[0]
    if num_videos <= 1 << 16:  # video ids fit one 16-bit digit: a single radix pass
        video16 = np.repeat(np.arange(num_videos, dtype=np.uint16), lengths)[pooled]
        return pooled, pooled[np.argsort(video16, kind="stable")]
    video = np.repeat(np.arange(num_videos, dtype=np.int64), lengths)[pooled]
    grouped = pooled
    for shift in range(0, int(num_videos - 1).bit_length(), 16):  # LSD radix, 16-bit digits
        perm = np.argsort(((video >> shift) & 0xFFFF).astype(np.uint16), kind="stable")
        grouped, video = grouped[perm], video[perm]
    return pooled, grouped


def tie_blocks(
    scores: NDArray[np.float64], bounds: NDArray[np.int64]
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """First and last index of each block of tied scores within a group (clips sorted by
    group, then score descending; group ``g`` is ``bounds[g]:bounds[g + 1]``)."""
    n = scores.shape[0]
    last = np.empty(n, dtype=bool)
    np.not_equal(scores[1:], scores[:-1], out=last[:-1])
    last[-1] = True
    inner = bounds[1:-1]
    last[inner[(inner > 0) & (inner < n)] - 1] = True
    ends = np.flatnonzero(last)
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    return starts, ends


def grouped_auc_ap(
    scores: NDArray[np.float64], positive: NDArray[np.bool_], bounds: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Per-group (positives, negatives, ROC-AUC, AP) as fractions, NaN where a class is missing.

    The clips are sorted by (group, score descending); group ``g`` is the slice
    ``bounds[g]:bounds[g + 1]`` (possibly empty); ``bounds=[0, n]`` is the pooled case.
    Tied scores of a group form one block, one threshold of the curves. Only blocks holding a
    positive contribute, so after one pass over the clips the work is on those blocks:

    * AUC = Mann-Whitney U / (P N), each positive counting the negatives of its group ranked
      strictly below it plus half the tied ones (= sklearn ``roc_auc_score``);
    * AP = sum over blocks of (recall gain) x (precision at the block) (= sklearn
      ``average_precision_score``).
    """
    num_groups = bounds.shape[0] - 1
    n = scores.shape[0]
    n_clips = np.diff(bounds)
    if n == 0:
        zeros = np.zeros(num_groups, dtype=np.int64)
        return zeros, zeros.copy(), np.full(num_groups, NAN), np.full(num_groups, NAN)
    starts, ends = tie_blocks(scores, bounds)
    pos = np.add.reduceat(positive, starts, dtype=np.int64)
    keep = np.flatnonzero(pos)
    pos, ends, starts = pos[keep], ends[keep], starts[keep]
    group = np.searchsorted(bounds, ends, side="right") - 1
    n_pos = np.bincount(group, weights=pos, minlength=num_groups).astype(np.int64)
    n_neg = n_clips - n_pos
    pos_before = np.cumsum(n_pos) - n_pos  # positives of earlier groups
    tp = np.cumsum(pos) - pos_before[group]  # positives ranked at or above the block
    count = ends + 1 - bounds[group]  # clips ranked at or above the block
    fp = count - tp
    tied_neg = (ends - starts + 1) - pos
    posf = pos.astype(np.float64)
    u = np.bincount(
        group, weights=posf * ((n_neg[group] - fp) + 0.5 * tied_neg), minlength=num_groups
    )
    ap_sum = np.bincount(group, weights=posf * (tp / count), minlength=num_groups)
    defined = (n_pos > 0) & (n_neg > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = np.where(defined, u / (n_pos * n_neg.astype(np.float64)), NAN)
        ap = np.where(defined, ap_sum / n_pos, NAN)
    return n_pos, n_neg, auc, ap
