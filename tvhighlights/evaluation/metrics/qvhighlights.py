"""QVHighlights highlight detection: HD mAP and HIT@1, as ``jayleicn/moment_detr``'s
``standalone_eval`` computes them."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...errors import InvalidArgumentError
from ._checks import paired_videos
from ._ranking import sort_orders, tie_blocks

__all__ = ["qvhighlights_hd"]


def _reverse_group_cummax(
    x: NDArray[np.float64], group: NDArray[np.int64], num_groups: int
) -> NDArray[np.float64]:
    """For each row, the max of ``x`` over this and later rows of the same group.

    Exact: values are replaced by their ranks, shifted so that groups never mix, and the
    running max is taken on the reversed integer keys.
    """
    uniq, inv = np.unique(x, return_inverse=True)
    inv = inv.reshape(x.shape).astype(np.int64)
    shift = ((num_groups - 1 - group) * uniq.shape[0]).reshape((-1,) + (1,) * (x.ndim - 1))
    keys = np.maximum.accumulate((inv + shift)[::-1], axis=0)[::-1]
    return uniq[keys - shift]


def qvhighlights_hd(
    saliency: Sequence[ArrayLike], scores: Sequence[ArrayLike], *, min_score: float = 4
) -> dict[str, float]:
    """QVHighlights highlight-detection mAP and HIT@1 (percent), as ``moment_detr`` does.

    Reproduces ``standalone_eval/eval.py`` (``compute_hl_ap``, ``compute_hl_hit1``) and
    ``get_ap`` of ``standalone_eval/utils.py``, so numbers match published tables:

    * positives are clips with saliency ``>= min_score`` (2 Fair, 3 Good, 4 VeryGood);
    * AP is ``get_ap``'s interpolated AP, per (video, annotator): at each distinct score
      that holds a positive, the best precision reached at that recall or beyond, averaged
      over these scores (unweighted); 0 when the annotator has no positive clip, 1 when all
      clips are positive. mAP is the mean over annotators, then over videos (= the mean
      over all pairs, as in the reference, when every video has the same annotators);
    * HIT@1: the top-scored clip (first one among ties, like ``np.argmax``) is a hit when
      any annotator rates it positive.

    Unlike the reference, values are not rounded to 2 decimals, and ``scores`` must have
    one score per clip (the reference pads / truncates them silently).

    Args:
        saliency: per video, a (num_clips, num_annotators) array of saliency ratings
            (0..4 in QVHighlights, 0 outside the relevant windows).
        scores: per video, a 1-D array of predicted clip scores.
        min_score: a clip is positive for an annotator when rated at least this.
    """
    if isinstance(min_score, bool) or not isinstance(min_score, numbers.Real):
        raise InvalidArgumentError(f"min_score must be a number, got {min_score!r}")
    sal_list, sc_list, offsets = paired_videos(saliency, scores, "saliency", 2)
    lengths = np.diff(offsets)
    num_videos = lengths.shape[0]
    widths = np.array([s.shape[1] for s in sal_list])
    max_w = int(widths.max())
    pos_list = [s >= min_score for s in sal_list]
    if (widths != max_w).any():  # pad missing annotators with never-positive columns
        pos_list = [np.pad(p, ((0, 0), (0, max_w - p.shape[1]))) for p in pos_list]
    positive = np.concatenate(pos_list)  # (clips, annotators)
    flat_sc = np.concatenate(sc_list)

    _, order = sort_orders(flat_sc, lengths, stable=True)
    g_sc, g_pos = flat_sc[order], positive[order]

    # HIT@1: first clip of each video in the stable (video, score desc) order = np.argmax
    hit = g_pos[offsets[:-1]].any(axis=1)

    # get_ap per (video, annotator): precision at each block of tied scores (a threshold)
    starts, ends = tie_blocks(g_sc, offsets)
    pos = np.add.reduceat(g_pos, starts, axis=0, dtype=np.int64)  # (blocks, annotators)
    group = np.searchsorted(offsets, ends, side="right") - 1
    first = np.searchsorted(ends, offsets[:-1])  # first block of each video
    n_pos = np.add.reduceat(pos, first, axis=0)  # (videos, annotators)
    tp = np.cumsum(pos, axis=0) - (np.cumsum(n_pos, axis=0) - n_pos)[group]
    count = ends + 1 - offsets[group]
    precision = tp / count[:, None]
    # interpolated: best precision at this threshold or any lower one (higher recall)
    interp = _reverse_group_cummax(precision, group, num_videos)
    has_pos = pos > 0  # the thresholds where recall grows
    ap_num = np.add.reduceat(np.where(has_pos, interp, 0.0), first, axis=0)
    ap_den = np.add.reduceat(has_pos.astype(np.int64), first, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ap = np.where(n_pos == 0, 0.0, np.where(n_pos == lengths[:, None], 1.0, ap_num / ap_den))
    valid = np.arange(max_w)[None, :] < widths[:, None]
    video_ap = np.where(valid, ap, 0.0).sum(axis=1) / widths
    return {"mAP": 100.0 * float(video_ap.mean()), "HIT@1": 100.0 * float(hit.mean())}
