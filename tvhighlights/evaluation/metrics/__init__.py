"""Highlight-detection metrics: plain arrays in, percent (0..100) out.

Scikit-learn style: the truth comes first, then the scores; per-video inputs are sequences
with one array per video. Everything is numpy (no torch), so the metrics run anywhere the
core package does. One module per family:

* :mod:`.auc_ap` - :func:`clip_auc_ap`, the TVHighlights benchmark metrics: ROC-AUC and
  average precision pooled over all clips and averaged over videos, optionally per category
  and per genre.
* :mod:`.qvhighlights`, :mod:`.tvsum_youtube` - :func:`qvhighlights_hd`,
  :func:`tvsum_top5_map`, :func:`youtube_map`: the literature's highlight metrics, reproducing
  their reference code (tie-breaking and special cases included) so numbers are comparable
  with published tables.
* :mod:`.agreement` - :func:`cohen_kappa`, :func:`fleiss_kappa`: agreement between annotators.

Invalid input raises :class:`~tvhighlights.errors.InvalidArgumentError` (a ``ValueError``)
naming the argument (and video) at fault.
"""

from __future__ import annotations

from .agreement import cohen_kappa, fleiss_kappa
from .auc_ap import clip_auc_ap
from .qvhighlights import qvhighlights_hd
from .tvsum_youtube import tvsum_top5_ap, tvsum_top5_map, youtube_ap, youtube_map

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
