"""Agreement between label sets: Cohen's kappa (two raters) and Fleiss' kappa (several)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...errors import InvalidArgumentError

__all__ = ["cohen_kappa", "fleiss_kappa"]


def _encode_labels(values: Any, what: str) -> tuple[NDArray[np.intp], int]:
    """Integer codes of hashable category labels (NaN and None are rejected)."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "biufUS":
        flat = values.ravel()
        if flat.dtype.kind == "f" and not np.isfinite(flat).all():
            raise InvalidArgumentError(f"{what} has a NaN or infinite label")
        uniq, inv = np.unique(flat, return_inverse=True)
        return inv.reshape(-1).astype(np.intp), int(uniq.shape[0])
    flat_list = values.ravel().tolist() if isinstance(values, np.ndarray) else list(values)
    index: dict[Hashable, int] = {}
    codes = np.empty(len(flat_list), dtype=np.intp)
    for k, v in enumerate(flat_list):
        if v is None or (isinstance(v, float) and not np.isfinite(v)):
            raise InvalidArgumentError(f"{what} has a missing label ({v!r}) at position {k}")
        try:
            codes[k] = index.setdefault(v, len(index))
        except TypeError:
            raise InvalidArgumentError(
                f"{what} has an unhashable label at position {k}: {type(v).__name__}"
            ) from None
    return codes, len(index)


def _label_vector(x: Any, name: str) -> Any:
    if isinstance(x, (str, bytes)) or x is None:
        raise InvalidArgumentError(f"{name} must be a sequence of labels, got {type(x).__name__}")
    if isinstance(x, np.ndarray):
        if x.ndim != 1:
            raise InvalidArgumentError(f"{name} must be 1-D, got shape {x.shape}")
        return x
    try:
        return list(x)
    except TypeError:
        raise InvalidArgumentError(
            f"{name} must be a sequence of labels, got {type(x).__name__}"
        ) from None


def cohen_kappa(a: Sequence[Hashable] | ArrayLike, b: Sequence[Hashable] | ArrayLike) -> float:
    """Cohen's kappa (percent) between two raters labelling the same items.

    Equals ``sklearn.metrics.cohen_kappa_score(a, b) * 100``, except in the degenerate case
    where both raters give every item the same single label: sklearn returns NaN (chance
    agreement is 1), we return 100.0 since the raters agree perfectly.
    """
    va, vb = _label_vector(a, "a"), _label_vector(b, "b")
    if len(va) != len(vb):
        raise InvalidArgumentError(f"a has {len(va)} labels but b has {len(vb)}")
    n = len(va)
    if n == 0:
        raise InvalidArgumentError("a and b are empty: at least one item is needed")
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
        raise InvalidArgumentError(
            f"ratings is not a rectangular (items, raters) array ({exc})"
        ) from None
    if arr.ndim != 2:
        raise InvalidArgumentError(f"ratings must be 2-D (items, raters), got shape {arr.shape}")
    num_items, num_raters = arr.shape
    if num_items == 0:
        raise InvalidArgumentError("ratings is empty: at least one item is needed")
    if num_raters < 2:
        raise InvalidArgumentError(
            f"ratings must have at least 2 raters (columns), got {num_raters}"
        )
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
