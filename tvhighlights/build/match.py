"""Match one derivative file against the source index: what the build does per derivative.

Fingerprint it (:func:`~.fingerprint.fingerprint_derivative`, cached by content), align it
(:func:`~.align.align_derivative`, cut at its shots), and when some of its valid frames are
left unexplained, look for the window of an off-centre crop in them (:mod:`.crops`) and align
again with those windows as extra query columns. The benchmark and the build both call
:func:`match_derivative`, so what is measured is what is built.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from .align import AlignParams, SpanMatch, align_derivative
from .crops import CropSearch, find_crop_windows, with_windows
from .fingerprint import (
    DEFAULT_FPS,
    Fingerprint,
    decode_analysis_frames,
    fingerprint_derivative,
)
from .index import HashIndex

logger = logging.getLogger(__name__)

__all__ = ["match_derivative", "unexplained_frames"]

DEFAULT_CROP_SEARCH = CropSearch()
MAX_KEPT_SECONDS = 1200.0
"""Up to this many seconds of a derivative's analysis frames (~0.1 MB a second) are kept from
its fingerprinting for the crop search; a longer one is decoded again when it needs it."""
MIN_UNEXPLAINED = 8
"""Valid frames (2 s at 4 fps) left unexplained that start a crop search."""


def unexplained_frames(fp: Fingerprint, matches: list[SpanMatch]) -> np.ndarray:
    """Bool ``(n,)``: valid frames that no match's derivative span covers."""
    covered = np.zeros(len(fp), bool)
    for m in matches:
        covered |= (fp.times >= m.deriv_start - 1e-9) & (fp.times < m.deriv_end - 1e-9)
    return fp.valid & ~covered


def match_derivative(
    path: str | Path,
    index: HashIndex,
    *,
    derivative_id: str = "",
    cache_dir: str | Path | None = None,
    shots: list[tuple[float, float]] | None = None,
    crop_search: CropSearch | None = DEFAULT_CROP_SEARCH,
    params: AlignParams | None = None,
) -> list[SpanMatch]:
    """The source spans the video at ``path`` reuses. ``shots`` default to the hard cuts in
    its fingerprint; ``crop_search=None`` skips the off-centre crop search."""
    decoded: list[tuple[np.ndarray, np.ndarray]] = []

    def keep(times: np.ndarray, frames: np.ndarray) -> None:
        if sum(len(t) for t, _ in decoded) + len(times) <= MAX_KEPT_SECONDS * DEFAULT_FPS:
            decoded.append((times, frames))

    fp = fingerprint_derivative(
        path, cache_dir=cache_dir, on_frames=keep if crop_search is not None else None
    )
    cuts = shots if shots is not None else fp.shots()
    matches = align_derivative(fp, index, shots=cuts, derivative_id=derivative_id, params=params)
    if crop_search is None:
        return matches
    left = unexplained_frames(fp, matches)
    if left.sum() < MIN_UNEXPLAINED:
        return matches
    if decoded:  # the frames the fingerprint was just made from
        times = np.concatenate([t for t, _ in decoded])
        frames = np.concatenate([f for _, f in decoded])
    if not decoded or len(times) != len(fp):  # from the cache, or too long to keep whole
        times, frames = decode_analysis_frames(path, fp.fps)
    if len(times) != len(fp) or not np.allclose(times, fp.times):
        logger.warning("%s: frames differ from the fingerprint's; no crop search", path)
        return matches
    windows = find_crop_windows(frames, fp, index, left, crop_search)
    if not windows:
        return matches
    logger.debug("%s: off-centre crop windows %s", path, windows)
    wider = with_windows(fp, frames, windows)
    return align_derivative(wider, index, shots=cuts, derivative_id=derivative_id, params=params)
