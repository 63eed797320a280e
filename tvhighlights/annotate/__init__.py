"""The test split's human labels: annotators' decisions, their majority vote and agreement.

No gradio here (the page is :mod:`tvhighlights.app.annotator`), and no torch:

* :mod:`.store` - one append-only JSONL of decisions per annotator (fsynced, locked appends);
* :mod:`.auth` - the annotators file: names and scrypt password hashes;
* :mod:`.videos` - the dataset rows to annotate, picked by a CSV of ids;
* :mod:`.thumbnails` - the clip strip's pictures, made once in the background and cached;
* :mod:`.session` - one annotator at work: what each key and click does;
* :mod:`.aggregate` - the majority vote per clip, and the test split written into the dataset;
* :mod:`.agreement` - pairwise Cohen's kappa and Fleiss' kappa, table, JSON, heat map.
"""

from __future__ import annotations

from .aggregate import TIE_RULES, Aggregation, VideoAggregate, aggregate_decisions, write_test_split
from .agreement import AgreementReport, PairKappa, ScopeAgreement, agreement
from .auth import Annotators, add_annotator, hash_password
from .session import AnnotationSession, Progress
from .store import (
    CATEGORIES,
    AnnotationStore,
    AnnotatorDecisions,
    ClipKey,
    Decision,
    check_annotator_name,
)
from .thumbnails import Thumbnails, ThumbnailStatus
from .videos import AnnotationVideo, load_videos

__all__ = [
    "CATEGORIES",
    "TIE_RULES",
    "Aggregation",
    "AgreementReport",
    "AnnotationSession",
    "AnnotationStore",
    "AnnotationVideo",
    "AnnotatorDecisions",
    "Annotators",
    "ClipKey",
    "Decision",
    "PairKappa",
    "Progress",
    "ScopeAgreement",
    "ThumbnailStatus",
    "Thumbnails",
    "VideoAggregate",
    "add_annotator",
    "aggregate_decisions",
    "agreement",
    "check_annotator_name",
    "hash_password",
    "load_videos",
    "write_test_split",
]
