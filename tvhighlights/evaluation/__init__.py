"""Evaluation: metrics by family (:mod:`.metrics`), submissions scored against references
(:mod:`.submission`) and tables for people (:mod:`.report`)."""

from __future__ import annotations

from .metrics import (
    clip_auc_ap,
    cohen_kappa,
    fleiss_kappa,
    qvhighlights_hd,
    tvsum_top5_map,
    youtube_map,
)
from .report import evaluate_submissions, metrics_tables
from .submission import evaluate_submission, load_submission, write_submission

__all__ = [
    "clip_auc_ap",
    "cohen_kappa",
    "evaluate_submission",
    "evaluate_submissions",
    "fleiss_kappa",
    "load_submission",
    "metrics_tables",
    "qvhighlights_hd",
    "tvsum_top5_map",
    "write_submission",
    "youtube_map",
]
