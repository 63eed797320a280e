"""Highlight-detection metrics: plain arrays in, percent (0..100) out.

Scikit-learn style: the truth comes first, then the scores; per-video inputs are sequences
with one array per video. Everything is numpy (no torch), so the metrics run anywhere the
core package does.

* :func:`clip_auc_ap` - the TVHighlights benchmark metrics: ROC-AUC and average precision
  pooled over all clips and averaged over videos, optionally per category and per genre.
  It is vectorised (one grouped routine, no per-video Python loop) because a leaderboard
  scores submissions of millions of clips.
* :func:`qvhighlights_hd`, :func:`tvsum_top5_map`, :func:`youtube_map` - the literature's
  highlight metrics, reproducing their reference code (tie-breaking and special cases
  included) so numbers are comparable with published tables.
* :func:`cohen_kappa`, :func:`fleiss_kappa` - agreement between annotators.

Invalid input raises :class:`ValueError` naming the argument (and video) at fault.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "clip_auc_ap",
    "cohen_kappa",
    "fleiss_kappa",
    "qvhighlights_hd",
    "tvsum_top5_ap",
    "tvsum_top5_map",
    "youtube_ap",
    "youtube_map",
]

_NAN = float("nan")


# --------------------------------------------------------------------------------------------
# Input validation
# --------------------------------------------------------------------------------------------


def _video_list(seq: Any, name: str) -> list[Any]:
    """The per-video items of ``seq``; rejects non-sequences and empty input."""
    if isinstance(seq, (str, bytes, Mapping)) or seq is None:
        raise ValueError(
            f"{name} must be a sequence with one array per video, got {type(seq).__name__}"
        )
    if isinstance(seq, np.ndarray) and seq.ndim == 0:
        raise ValueError(f"{name} must be a sequence with one array per video, got a scalar")
    try:
        items = list(seq)
    except TypeError:
        raise ValueError(
            f"{name} must be a sequence with one array per video, got {type(seq).__name__}"
        ) from None
    if not items:
        raise ValueError(f"{name} is empty: at least one video is needed")
    return items


def _same_num_videos(a: Sequence[Any], b: Sequence[Any], name_a: str, name_b: str) -> None:
    if len(a) != len(b):
        raise ValueError(f"{name_a} has {len(a)} videos but {name_b} has {len(b)}")


def _numeric(x: Any, what: str, ndim: int, *, as_float: bool = True) -> NDArray[Any]:
    """``x`` as a numeric array of ``ndim`` dimensions (float64 unless ``as_float`` is
    False: then bool / int arrays are kept, saving a copy); non-numbers raise ValueError."""
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise ValueError(f"{what} is not a rectangular array of numbers ({exc})") from None
    kind = arr.dtype.kind
    if kind == "O":
        if not all(isinstance(v, numbers.Real) for v in arr.flat):
            raise ValueError(f"{what} must contain only numbers")
        arr = arr.astype(np.float64)
    elif kind not in "biuf":
        raise ValueError(f"{what} must contain only numbers, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{what} must be {ndim}-D, got shape {arr.shape}")
    return arr.astype(np.float64, copy=False) if as_float else arr


def _first_bad(bad: NDArray[np.bool_], offsets: NDArray[np.int64]) -> tuple[int, int]:
    """(video index, clip index) of the first True of a flat per-clip mask."""
    j = int(np.argmax(bad))
    i = int(np.searchsorted(offsets, j, side="right")) - 1
    return i, j - int(offsets[i])


def _offsets(lengths: Sequence[int]) -> NDArray[np.int64]:
    out = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=out[1:])
    return out


def _paired_videos(
    truth: Any,
    scores: Any,
    truth_name: str,
    truth_ndim: int,
    *,
    score_name: str = "scores",
    single: bool = False,
    truth_as_float: bool = True,
) -> tuple[list[NDArray[Any]], list[NDArray[np.float64]], NDArray[np.int64]]:
    """Validated per-video truth arrays (``truth_ndim``-D) and 1-D scores of equal clip counts.

    With ``single`` the inputs are one video's arrays (messages then carry no index).
    Finiteness is checked on the concatenation: one numpy pass, not one per video.
    """
    if single:
        t_items, s_items = [truth], [scores]
    else:
        t_items = _video_list(truth, truth_name)
        s_items = _video_list(scores, score_name)
        _same_num_videos(s_items, t_items, score_name, truth_name)

    def name(base: str, i: int) -> str:
        return base if single else f"{base}[{i}]"

    t_arrs, s_arrs, lengths = [], [], []
    for i, (t, s) in enumerate(zip(t_items, s_items, strict=True)):
        ta = _numeric(t, name(truth_name, i), truth_ndim, as_float=truth_as_float)
        sa = _numeric(s, name(score_name, i), 1)
        if sa.shape[0] != ta.shape[0]:
            raise ValueError(
                f"{name(score_name, i)} has {sa.shape[0]} clips "
                f"but {name(truth_name, i)} has {ta.shape[0]}"
            )
        if sa.shape[0] == 0:
            raise ValueError(f"{name(truth_name, i)} has no clips")
        if truth_ndim == 2 and ta.shape[1] == 0:
            raise ValueError(f"{name(truth_name, i)} has no annotator column")
        t_arrs.append(ta)
        s_arrs.append(sa)
        lengths.append(sa.shape[0])
    offsets = _offsets(lengths)
    checks: list[tuple[str, list[NDArray[Any]]]] = [(score_name, s_arrs)]
    if any(t.dtype.kind == "f" for t in t_arrs):
        # 2-D truth may differ in width between videos: one flag per clip first
        rows = t_arrs if truth_ndim == 1 else [np.isfinite(t).all(axis=1) for t in t_arrs]
        checks.append((truth_name, rows))
    for base, arrs in checks:
        flat = np.concatenate(arrs) if len(arrs) > 1 else arrs[0]
        bad = ~flat if flat.dtype == bool else ~np.isfinite(flat)
        if bad.any():
            i, k = _first_bad(bad, offsets)
            raise ValueError(f"{name(base, i)} has a NaN or infinite value at clip {k}")
    return t_arrs, s_arrs, offsets


def _binary(flat: NDArray[Any], offsets: NDArray[np.int64], name: str) -> NDArray[np.bool_]:
    """0/1 (or bool) labels as a bool array; anything else raises, naming the video."""
    if flat.dtype == bool:
        return flat
    bad = (flat != 0) & (flat != 1)
    if bad.any():
        i, k = _first_bad(bad, offsets)
        value = flat[bad][0].item()
        raise ValueError(f"{name}[{i}] must be binary (0/1) but clip {k} is {value!r}")
    return flat == 1


# --------------------------------------------------------------------------------------------
# Grouped ranking core
# --------------------------------------------------------------------------------------------


def _sort_orders(
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


def _tie_blocks(
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


def _grouped_auc_ap(
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
        return zeros, zeros.copy(), np.full(num_groups, _NAN), np.full(num_groups, _NAN)
    starts, ends = _tie_blocks(scores, bounds)
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
        auc = np.where(defined, u / (n_pos * n_neg.astype(np.float64)), _NAN)
        ap = np.where(defined, ap_sum / n_pos, _NAN)
    return n_pos, n_neg, auc, ap


# --------------------------------------------------------------------------------------------
# TVHighlights clip-level metrics
# --------------------------------------------------------------------------------------------


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
        "video_auc": 100.0 * float(auc[scored].mean()) if k else _NAN,
        "video_ap": 100.0 * float(ap[scored].mean()) if k else _NAN,
        "num_videos_scored": k,
        "num_videos_skipped": int(n_pos.shape[0]) - k,
    }


def _pooled(scores: NDArray[np.float64], positive: NDArray[np.bool_]) -> tuple[float, float]:
    bounds = np.array([0, scores.shape[0]], dtype=np.int64)
    _, _, auc, ap = _grouped_auc_ap(scores, positive, bounds)
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
    items = _video_list(categories, "categories")
    if len(items) != lengths.shape[0]:
        raise ValueError(f"categories has {len(items)} videos but labels has {lengths.shape[0]}")
    where: list[NDArray[np.intp]] = []  # flat indices of the positive clips, per video
    values: list[Any] = []  # their category entries, in the same order
    for i, cats in enumerate(items):
        if isinstance(cats, (str, bytes)) or not hasattr(cats, "__len__"):
            raise ValueError(f"categories[{i}] must be a sequence of per-clip strings")
        if len(cats) != lengths[i]:
            raise ValueError(
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
                i, k = _first_bad(np.arange(offsets[-1]) == flat[j], offsets)
                raise ValueError(
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
    lab_list, sc_list, offsets = _paired_videos(labels, scores, "labels", 1, truth_as_float=False)
    positive = _binary(np.concatenate(lab_list), offsets, "labels")
    flat_sc = np.concatenate(sc_list)
    lengths = np.diff(offsets)
    num_videos = lengths.shape[0]

    genre_list: list[str] | None = None
    if genres is not None:
        genre_list = _video_list(genres, "genres")
        _same_num_videos(genre_list, lab_list, "genres", "labels")
        for i, g in enumerate(genre_list):
            if not isinstance(g, str):
                raise ValueError(f"genres[{i}] must be a string, got {type(g).__name__}")
    cat_codes: NDArray[np.int64] | None = None
    cat_names: list[str] = []
    if categories is not None:
        cat_codes, cat_names = _category_codes(categories, lengths, offsets, positive)

    pooled_order, grouped_order = _sort_orders(flat_sc, lengths, stable=False)
    p_sc, p_pos = flat_sc[pooled_order], positive[pooled_order]
    g_sc, g_pos = flat_sc[grouped_order], positive[grouped_order]

    n_pos, n_neg, auc, ap = _grouped_auc_ap(g_sc, g_pos, offsets)
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
            c_pos, c_neg, c_auc, c_ap = _grouped_auc_ap(
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
# QVHighlights highlight detection (jayleicn/moment_detr standalone_eval)
# --------------------------------------------------------------------------------------------


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
        raise ValueError(f"min_score must be a number, got {min_score!r}")
    sal_list, sc_list, offsets = _paired_videos(saliency, scores, "saliency", 2)
    lengths = np.diff(offsets)
    num_videos = lengths.shape[0]
    widths = np.array([s.shape[1] for s in sal_list])
    max_w = int(widths.max())
    pos_list = [s >= min_score for s in sal_list]
    if (widths != max_w).any():  # pad missing annotators with never-positive columns
        pos_list = [np.pad(p, ((0, 0), (0, max_w - p.shape[1]))) for p in pos_list]
    positive = np.concatenate(pos_list)  # (clips, annotators)
    flat_sc = np.concatenate(sc_list)

    _, order = _sort_orders(flat_sc, lengths, stable=True)
    g_sc, g_pos = flat_sc[order], positive[order]

    # HIT@1: first clip of each video in the stable (video, score desc) order = np.argmax
    hit = g_pos[offsets[:-1]].any(axis=1)

    # get_ap per (video, annotator): precision at each block of tied scores (a threshold)
    starts, ends = _tie_blocks(g_sc, offsets)
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


# --------------------------------------------------------------------------------------------
# TVSum and YouTube Highlights (TencentARC/UMT datasets/tvsum.py, datasets/youtube.py)
# --------------------------------------------------------------------------------------------


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
    (anno,), (sc,), _ = _paired_videos(
        annotation, score, "annotation", 2, score_name="score", single=True
    )
    return 100.0 * _tvsum_ap(anno, sc)


def tvsum_top5_map(annotations: Sequence[ArrayLike], scores: Sequence[ArrayLike]) -> float:
    """TVSum top-5 mAP (percent): the mean over videos of :func:`tvsum_top5_ap`.

    The reference averages over videos per annotator, then over its 20 annotators; with the
    same annotator count in every video (as in TVSum) that is the same number. Not rounded
    (the reference rounds to 5 decimals of a fraction).
    """
    anno_list, sc_list, _ = _paired_videos(annotations, scores, "annotations", 2)
    aps = [_tvsum_ap(a, s) for a, s in zip(anno_list, sc_list, strict=True)]
    return 100.0 * float(np.mean(aps))


def _youtube_ap(label: NDArray[np.float64], score: NDArray[np.float64]) -> float:
    return float(_trapezoid_ap((label > 0)[_rank_desc(score)][:, None])[0])


def youtube_ap(label: ArrayLike, score: ArrayLike) -> float:
    """YouTube Highlights AP (percent) of one video, as UMT ``datasets/youtube.py``.

    Positives are clips with label ``> 0`` (the dataset's -1 / 0 / 1 match labels); AP is
    the trapezoidal AP over all clips ranked by score, 0 when the video has no positive.
    """
    (lab,), (sc,), _ = _paired_videos(label, score, "label", 1, score_name="score", single=True)
    return 100.0 * _youtube_ap(lab, sc)


def youtube_map(labels: Sequence[ArrayLike], scores: Sequence[ArrayLike]) -> float:
    """YouTube Highlights mAP (percent): the mean over videos of :func:`youtube_ap`."""
    lab_list, sc_list, _ = _paired_videos(labels, scores, "labels", 1)
    aps = [_youtube_ap(lab, sc) for lab, sc in zip(lab_list, sc_list, strict=True)]
    return 100.0 * float(np.mean(aps))


# --------------------------------------------------------------------------------------------
# Agreement
# --------------------------------------------------------------------------------------------


def _encode_labels(values: Any, what: str) -> tuple[NDArray[np.intp], int]:
    """Integer codes of hashable category labels (NaN and None are rejected)."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "biufUS":
        flat = values.ravel()
        if flat.dtype.kind == "f" and not np.isfinite(flat).all():
            raise ValueError(f"{what} has a NaN or infinite label")
        uniq, inv = np.unique(flat, return_inverse=True)
        return inv.reshape(-1).astype(np.intp), int(uniq.shape[0])
    flat_list = values.ravel().tolist() if isinstance(values, np.ndarray) else list(values)
    index: dict[Hashable, int] = {}
    codes = np.empty(len(flat_list), dtype=np.intp)
    for k, v in enumerate(flat_list):
        if v is None or (isinstance(v, float) and not np.isfinite(v)):
            raise ValueError(f"{what} has a missing label ({v!r}) at position {k}")
        try:
            codes[k] = index.setdefault(v, len(index))
        except TypeError:
            raise ValueError(
                f"{what} has an unhashable label at position {k}: {type(v).__name__}"
            ) from None
    return codes, len(index)


def _label_vector(x: Any, name: str) -> Any:
    if isinstance(x, (str, bytes)) or x is None:
        raise ValueError(f"{name} must be a sequence of labels, got {type(x).__name__}")
    if isinstance(x, np.ndarray):
        if x.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {x.shape}")
        return x
    try:
        return list(x)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of labels, got {type(x).__name__}") from None


def cohen_kappa(a: Sequence[Hashable] | ArrayLike, b: Sequence[Hashable] | ArrayLike) -> float:
    """Cohen's kappa (percent) between two raters labelling the same items.

    Equals ``sklearn.metrics.cohen_kappa_score(a, b) * 100``, except in the degenerate case
    where both raters give every item the same single label: sklearn returns NaN (chance
    agreement is 1), we return 100.0 since the raters agree perfectly.
    """
    va, vb = _label_vector(a, "a"), _label_vector(b, "b")
    if len(va) != len(vb):
        raise ValueError(f"a has {len(va)} labels but b has {len(vb)}")
    n = len(va)
    if n == 0:
        raise ValueError("a and b are empty: at least one item is needed")
    both: Any
    if (
        isinstance(va, np.ndarray)
        and isinstance(vb, np.ndarray)
        and va.dtype.kind in "biuf"
        and vb.dtype.kind in "biuf"
    ):
        both = np.concatenate([va, vb])
    else:
        both = list(va) + list(vb)
    codes, k = _encode_labels(both, "a, b")
    confusion = np.bincount(codes[:n] * k + codes[n:], minlength=k * k).reshape(k, k)
    # integer arithmetic: kappa = 1 - observed / chance disagreement, both times n^2
    observed = (n - int(np.trace(confusion))) * n
    chance = n * n - int(confusion.sum(axis=1) @ confusion.sum(axis=0))
    if chance == 0:  # one label used by both raters on every item: perfect agreement
        return 100.0
    return 100.0 * (1.0 - observed / chance)


def fleiss_kappa(ratings: ArrayLike) -> float:
    """Fleiss' kappa (percent) of several raters labelling the same items.

    Equals ``statsmodels.stats.inter_rater.fleiss_kappa(aggregate_raters(ratings)[0]) * 100``
    (method ``'fleiss'``), except when every rating is the same category, where statsmodels
    returns NaN and we return 100.0 (perfect agreement).

    Args:
        ratings: (num_items, num_raters) array of category labels, at least 2 raters.
    """
    try:
        arr = np.asarray(ratings)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"ratings is not a rectangular (items, raters) array ({exc})") from None
    if arr.ndim != 2:
        raise ValueError(f"ratings must be 2-D (items, raters), got shape {arr.shape}")
    num_items, num_raters = arr.shape
    if num_items == 0:
        raise ValueError("ratings is empty: at least one item is needed")
    if num_raters < 2:
        raise ValueError(f"ratings must have at least 2 raters (columns), got {num_raters}")
    codes, k = _encode_labels(arr, "ratings")
    item = np.repeat(np.arange(num_items), num_raters)
    table = np.bincount(item * k + codes, minlength=num_items * k).reshape(num_items, k)
    table = table.astype(np.float64)
    p_cat = table.sum(axis=0) / (num_items * num_raters)
    p_item = ((table * table).sum(axis=1) - num_raters) / (num_raters * (num_raters - 1.0))
    p_mean = p_item.mean()
    p_chance = float((p_cat * p_cat).sum())
    if k == 1:  # one category for every rating: chance agreement is 1, agreement perfect
        return 100.0
    return 100.0 * float((p_mean - p_chance) / (1.0 - p_chance))
