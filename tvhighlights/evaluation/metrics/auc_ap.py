"""The TVHighlights benchmark metrics: clip-level ROC-AUC and average precision, pooled over all
clips and averaged over videos, optionally per category and per genre.

Vectorised (one grouped routine, no per-video Python loop) because a leaderboard scores
submissions of millions of clips.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...errors import InvalidArgumentError
from ._checks import NAN, binary, first_bad, paired_videos, same_num_videos, video_list
from ._ranking import grouped_auc_ap, sort_orders

__all__ = ["clip_auc_ap"]


def _summary(
    n_pos: NDArray[np.int64],
    n_neg: NDArray[np.int64],
    auc: NDArray[np.float64],
    ap: NDArray[np.float64],
    pooled: tuple[float, float],
) -> dict[str, Any]:
    """Video means over videos with both classes, plus the pooled numbers, in percent."""
    scored = (n_pos > 0) & (n_neg > 0)
    k = int(scored.sum())
    return {
        "pooled_auc": 100.0 * pooled[0],
        "pooled_ap": 100.0 * pooled[1],
        "video_auc": 100.0 * float(auc[scored].mean()) if k else NAN,
        "video_ap": 100.0 * float(ap[scored].mean()) if k else NAN,
        "num_videos_scored": k,
        "num_videos_skipped": int(n_pos.shape[0]) - k,
    }


def _pooled(scores: NDArray[np.float64], positive: NDArray[np.bool_]) -> tuple[float, float]:
    bounds = np.array([0, scores.shape[0]], dtype=np.int64)
    _, _, auc, ap = grouped_auc_ap(scores, positive, bounds)
    return float(auc[0]), float(ap[0])


def _masked_bounds(mask: NDArray[np.bool_], bounds: NDArray[np.int64]) -> NDArray[np.int64]:
    """Group bounds after keeping the clips where ``mask`` is True."""
    kept = np.zeros(bounds.shape[0], dtype=np.int64)
    if bounds.shape[0] > 1:
        np.cumsum(np.add.reduceat(mask, bounds[:-1], dtype=np.int64), out=kept[1:])
    return kept


def _category_codes(
    categories: Any,
    lengths: NDArray[np.int64],
    offsets: NDArray[np.int64],
    positive: NDArray[np.bool_],
) -> tuple[NDArray[np.int64], list[str]]:
    """Per-clip category code (-1: none or negative clip) and the sorted category names.

    Only positive clips are read: categories describe highlights, a negative clip's entry
    is ignored.
    """
    items = video_list(categories, "categories")
    if len(items) != lengths.shape[0]:
        raise InvalidArgumentError(
            f"categories has {len(items)} videos but labels has {lengths.shape[0]}"
        )
    where: list[NDArray[np.intp]] = []  # flat indices of the positive clips, per video
    values: list[Any] = []  # their category entries, in the same order
    for i, cats in enumerate(items):
        if isinstance(cats, (str, bytes)) or not hasattr(cats, "__len__"):
            raise InvalidArgumentError(f"categories[{i}] must be a sequence of per-clip strings")
        if len(cats) != lengths[i]:
            raise InvalidArgumentError(
                f"categories[{i}] has {len(cats)} clips but labels[{i}] has {lengths[i]}"
            )
        start = int(offsets[i])
        idx = np.flatnonzero(positive[start : start + len(cats)])
        if idx.size:
            if isinstance(cats, np.ndarray):
                values.extend(cats[idx].tolist())
            else:
                values.extend([cats[k] for k in idx.tolist()])
            where.append(idx + start)
    # validate and map the distinct values only: one hash per clip, no per-clip type checks
    try:
        distinct = set(values)
    except TypeError:
        distinct = {None, 0}  # an unhashable entry: let the scan below find it
    if any(not (v is None or isinstance(v, str)) for v in distinct):
        flat = np.concatenate(where)
        for j, v in enumerate(values):
            if not (v is None or isinstance(v, str)):
                i, k = first_bad(np.arange(offsets[-1]) == flat[j], offsets)
                raise InvalidArgumentError(
                    f"categories[{i}][{k}] must be a string or None, got {type(v).__name__}"
                )
    names = sorted(v for v in distinct if v)  # None and "" are no category
    lookup: dict[Any, int] = {name: c for c, name in enumerate(names)}
    lookup[None] = lookup[""] = -1
    codes = np.full(positive.shape[0], -1, dtype=np.int64)
    if values:
        codes[np.concatenate(where)] = np.fromiter(
            (lookup[v] for v in values), dtype=np.int64, count=len(values)
        )
    return codes, names


def clip_auc_ap(
    labels: Sequence[ArrayLike],
    scores: Sequence[ArrayLike],
    *,
    categories: Sequence[Sequence[str | None]] | None = None,
    genres: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Clip-level ROC-AUC and average precision (percent) of highlight scores.

    Both are reported pooled (all clips of all videos ranked together: sklearn's
    ``roc_auc_score`` / ``average_precision_score`` x 100) and as the mean over videos of
    the per-video values, since a method can rank clips well inside each video while its
    scores are not comparable across videos. Videos without a positive or without a negative
    clip have no per-video value: they are skipped and counted. A pooled value is NaN when
    only one class is present (sklearn raises for AUC and gives a degenerate AP).

    Args:
        labels: one 1-D 0/1 array per video (1 = highlight clip).
        scores: one 1-D array of finite scores per video, same lengths (higher = highlight).
        categories: optional, per video, one category string per clip (None or "" for
            none); it describes positive clips. ``per_category[c]`` ranks the positives of
            category ``c`` against all negatives (positives of other categories left out).
        genres: optional, one string per video; ``per_genre[g]`` is the top-level summary
            restricted to the videos of genre ``g``.

    Returns:
        ``num_videos, num_clips, num_positive, pooled_auc, pooled_ap, video_auc, video_ap,
        num_videos_scored, num_videos_skipped`` and, when asked, ``per_category`` /
        ``per_genre`` (the per-category dicts have ``num_positive`` and the metric keys).
    """
    lab_list, sc_list, offsets = paired_videos(labels, scores, "labels", 1, truth_as_float=False)
    positive = binary(np.concatenate(lab_list), offsets, "labels")
    flat_sc = np.concatenate(sc_list)
    lengths = np.diff(offsets)
    num_videos = lengths.shape[0]

    genre_list: list[str] | None = None
    if genres is not None:
        genre_list = video_list(genres, "genres")
        same_num_videos(genre_list, lab_list, "genres", "labels")
        for i, g in enumerate(genre_list):
            if not isinstance(g, str):
                raise InvalidArgumentError(f"genres[{i}] must be a string, got {type(g).__name__}")
    cat_codes: NDArray[np.int64] | None = None
    cat_names: list[str] = []
    if categories is not None:
        cat_codes, cat_names = _category_codes(categories, lengths, offsets, positive)

    pooled_order, grouped_order = sort_orders(flat_sc, lengths, stable=False)
    p_sc, p_pos = flat_sc[pooled_order], positive[pooled_order]
    g_sc, g_pos = flat_sc[grouped_order], positive[grouped_order]

    n_pos, n_neg, auc, ap = grouped_auc_ap(g_sc, g_pos, offsets)
    result: dict[str, Any] = {
        "num_videos": num_videos,
        "num_clips": int(flat_sc.shape[0]),
        "num_positive": int(n_pos.sum()),
    }
    result.update(_summary(n_pos, n_neg, auc, ap, _pooled(p_sc, p_pos)))

    if cat_codes is not None:
        p_cat, g_cat = cat_codes[pooled_order], cat_codes[grouped_order]
        per_category: dict[str, dict[str, Any]] = {}
        for c, name in enumerate(cat_names):
            gk = ~g_pos | (g_cat == c)  # negatives and the positives of category c
            pk = ~p_pos | (p_cat == c)
            c_pos, c_neg, c_auc, c_ap = grouped_auc_ap(
                g_sc[gk], g_pos[gk], _masked_bounds(gk, offsets)
            )
            entry: dict[str, Any] = {"num_positive": int(c_pos.sum())}
            entry.update(_summary(c_pos, c_neg, c_auc, c_ap, _pooled(p_sc[pk], p_pos[pk])))
            per_category[name] = entry
        result["per_category"] = per_category

    if genre_list is not None:
        genre_of_video = np.asarray(genre_list, dtype=object)
        p_vid = np.repeat(np.arange(num_videos), lengths)[pooled_order]
        per_genre: dict[str, dict[str, Any]] = {}
        for name in sorted(set(genre_list)):
            vmask = genre_of_video == name
            pk = vmask[p_vid]
            entry = {
                "num_videos": int(vmask.sum()),
                "num_clips": int(lengths[vmask].sum()),
                "num_positive": int(n_pos[vmask].sum()),
            }
            pooled = _pooled(p_sc[pk], p_pos[pk])
            entry.update(_summary(n_pos[vmask], n_neg[vmask], auc[vmask], ap[vmask], pooled))
            per_genre[name] = entry
        result["per_genre"] = per_genre
    return result


# --------------------------------------------------------------------------------------------
