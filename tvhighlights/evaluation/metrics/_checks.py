"""Input validation shared by the metric families: plain arrays in, ValueErrors that name the
argument (and video, and clip) at fault. Private to :mod:`tvhighlights.evaluation.metrics`."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...errors import InvalidArgumentError

NAN = float("nan")


def video_list(seq: Any, name: str) -> list[Any]:
    """The per-video items of ``seq``; rejects non-sequences and empty input."""
    if isinstance(seq, (str, bytes, Mapping)) or seq is None:
        raise InvalidArgumentError(
            f"{name} must be a sequence with one array per video, got {type(seq).__name__}"
        )
    if isinstance(seq, np.ndarray) and seq.ndim == 0:
        raise InvalidArgumentError(
            f"{name} must be a sequence with one array per video, got a scalar"
        )
    try:
        items = list(seq)
    except TypeError:
        raise InvalidArgumentError(
            f"{name} must be a sequence with one array per video, got {type(seq).__name__}"
        ) from None
    if not items:
        raise InvalidArgumentError(f"{name} is empty: at least one video is needed")
    return items


def same_num_videos(a: Sequence[Any], b: Sequence[Any], name_a: str, name_b: str) -> None:
    if len(a) != len(b):
        raise InvalidArgumentError(f"{name_a} has {len(a)} videos but {name_b} has {len(b)}")


def numeric(x: Any, what: str, ndim: int, *, as_float: bool = True) -> NDArray[Any]:
    """``x`` as a numeric array of ``ndim`` dimensions (float64 unless ``as_float`` is
    False: then bool / int arrays are kept, saving a copy); non-numbers raise ValueError."""
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise InvalidArgumentError(
            f"{what} is not a rectangular array of numbers ({exc})"
        ) from None
    kind = arr.dtype.kind
    if kind == "O":
        if not all(isinstance(v, numbers.Real) for v in arr.flat):
            raise InvalidArgumentError(f"{what} must contain only numbers")
        arr = arr.astype(np.float64)
    elif kind not in "biuf":
        raise InvalidArgumentError(f"{what} must contain only numbers, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise InvalidArgumentError(f"{what} must be {ndim}-D, got shape {arr.shape}")
    return arr.astype(np.float64, copy=False) if as_float else arr


def first_bad(bad: NDArray[np.bool_], offsets: NDArray[np.int64]) -> tuple[int, int]:
    """(video index, clip index) of the first True of a flat per-clip mask."""
    j = int(np.argmax(bad))
    i = int(np.searchsorted(offsets, j, side="right")) - 1
    return i, j - int(offsets[i])


def offsets_of(lengths: Sequence[int]) -> NDArray[np.int64]:
    out = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=out[1:])
    return out


def paired_videos(
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
        t_items = video_list(truth, truth_name)
        s_items = video_list(scores, score_name)
        same_num_videos(s_items, t_items, score_name, truth_name)

    def name(base: str, i: int) -> str:
        return base if single else f"{base}[{i}]"

    t_arrs, s_arrs, lengths = [], [], []
    for i, (t, s) in enumerate(zip(t_items, s_items, strict=True)):
        ta = numeric(t, name(truth_name, i), truth_ndim, as_float=truth_as_float)
        sa = numeric(s, name(score_name, i), 1)
        if sa.shape[0] != ta.shape[0]:
            raise InvalidArgumentError(
                f"{name(score_name, i)} has {sa.shape[0]} clips "
                f"but {name(truth_name, i)} has {ta.shape[0]}"
            )
        if sa.shape[0] == 0:
            raise InvalidArgumentError(f"{name(truth_name, i)} has no clips")
        if truth_ndim == 2 and ta.shape[1] == 0:
            raise InvalidArgumentError(f"{name(truth_name, i)} has no annotator column")
        t_arrs.append(ta)
        s_arrs.append(sa)
        lengths.append(sa.shape[0])
    offsets = offsets_of(lengths)
    checks: list[tuple[str, list[NDArray[Any]]]] = [(score_name, s_arrs)]
    if any(t.dtype.kind == "f" for t in t_arrs):
        # 2-D truth may differ in width between videos: one flag per clip first
        rows = t_arrs if truth_ndim == 1 else [np.isfinite(t).all(axis=1) for t in t_arrs]
        checks.append((truth_name, rows))
    for base, arrs in checks:
        flat = np.concatenate(arrs) if len(arrs) > 1 else arrs[0]
        bad = ~flat if flat.dtype == bool else ~np.isfinite(flat)
        if bad.any():
            i, k = first_bad(bad, offsets)
            raise InvalidArgumentError(f"{name(base, i)} has a NaN or infinite value at clip {k}")
    return t_arrs, s_arrs, offsets


def binary(flat: NDArray[Any], offsets: NDArray[np.int64], name: str) -> NDArray[np.bool_]:
    """0/1 (or bool) labels as a bool array; anything else raises, naming the video."""
    if flat.dtype == bool:
        return flat
    bad = (flat != 0) & (flat != 1)
    if bad.any():
        i, k = first_bad(bad, offsets)
        value = flat[bad][0].item()
        raise InvalidArgumentError(f"{name}[{i}] must be binary (0/1) but clip {k} is {value!r}")
    return flat == 1


# --------------------------------------------------------------------------------------------
