"""TVSum top-5 mAP and YouTube Highlights mAP, as ``TencentARC/UMT``'s ``datasets/tvsum.py`` and
``datasets/youtube.py`` compute them (reused by UniVTG and Lighthouse)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._checks import paired_videos

__all__ = ["tvsum_top5_ap", "tvsum_top5_map", "youtube_ap", "youtube_map"]


def _rank_desc(score: NDArray[np.float64]) -> NDArray[np.intp]:
    """Clip indices by score descending; ties keep clip order (torch's CPU sort does so for
    short inputs; its order among ties is otherwise unspecified)."""
    return np.argsort(-score, kind="stable")


def _trapezoid_ap(ranked: NDArray[np.bool_]) -> NDArray[np.float64]:
    """UMT's AP of ranked binary labels (rows = ranks, columns = annotators).

    The precision-recall curve starts at (recall 0, precision 1) and each rank adds the
    trapezoid between consecutive points; recall is relative to the positives in the list.
    0 when the list has no positive.
    """
    hits = np.cumsum(ranked, axis=0, dtype=np.float64)
    num_gt = hits[-1]
    prc = hits / np.arange(1, ranked.shape[0] + 1, dtype=np.float64)[:, None]
    prev = np.vstack([np.ones((1, ranked.shape[1])), prc[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        ap = (ranked * (prc + prev) / 2.0).sum(axis=0) / num_gt
    return np.where(num_gt > 0, ap, 0.0)


def _tvsum_ap(annotation: NDArray[np.float64], score: NDArray[np.float64]) -> float:
    anno = annotation.astype(np.float32)  # the reference reads annotations as torch.Tensor
    n = anno.shape[0]
    median = np.sort(anno, axis=0)[(n - 1) // 2]  # torch.median: the lower middle value
    top = _rank_desc(score)[:5]
    return float(_trapezoid_ap(anno[top] > median).mean())


def tvsum_top5_ap(annotation: ArrayLike, score: ArrayLike) -> float:
    """TVSum top-5 AP (percent) of one video, as UMT ``datasets/tvsum.py`` ``evaluate``.

    Per annotator, a clip is positive when its rating is above the annotator's median
    (torch's median: the lower middle value for an even count). Clips are ranked by
    ``score`` and only the top 5 (all clips when fewer) are kept; AP is the trapezoidal AP
    of those 5 with recall relative to the positives among them (0 when none). The result
    is the mean over annotators.

    Args:
        annotation: (num_clips, num_annotators) raw annotator ratings.
        score: 1-D predicted clip scores.
    """
    (anno,), (sc,), _ = paired_videos(
        annotation, score, "annotation", 2, score_name="score", single=True
    )
    return 100.0 * _tvsum_ap(anno, sc)


def tvsum_top5_map(annotations: Sequence[ArrayLike], scores: Sequence[ArrayLike]) -> float:
    """TVSum top-5 mAP (percent): the mean over videos of :func:`tvsum_top5_ap`.

    The reference averages over videos per annotator, then over its 20 annotators; with the
    same annotator count in every video (as in TVSum) that is the same number. Not rounded
    (the reference rounds to 5 decimals of a fraction).
    """
    anno_list, sc_list, _ = paired_videos(annotations, scores, "annotations", 2)
    aps = [_tvsum_ap(a, s) for a, s in zip(anno_list, sc_list, strict=True)]
    return 100.0 * float(np.mean(aps))


def _youtube_ap(label: NDArray[np.float64], score: NDArray[np.float64]) -> float:
    return float(_trapezoid_ap((label > 0)[_rank_desc(score)][:, None])[0])


def youtube_ap(label: ArrayLike, score: ArrayLike) -> float:
    """YouTube Highlights AP (percent) of one video, as UMT ``datasets/youtube.py``.

    Positives are clips with label ``> 0`` (the dataset's -1 / 0 / 1 match labels); AP is
    the trapezoidal AP over all clips ranked by score, 0 when the video has no positive.
    """
    (lab,), (sc,), _ = paired_videos(label, score, "label", 1, score_name="score", single=True)
    return 100.0 * _youtube_ap(lab, sc)


def youtube_map(labels: Sequence[ArrayLike], scores: Sequence[ArrayLike]) -> float:
    """YouTube Highlights mAP (percent): the mean over videos of :func:`youtube_ap`."""
    lab_list, sc_list, _ = paired_videos(labels, scores, "labels", 1)
    aps = [_youtube_ap(lab, sc) for lab, sc in zip(lab_list, sc_list, strict=True)]
    return 100.0 * float(np.mean(aps))
