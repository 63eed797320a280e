"""The one schema of the TVHighlights dataset: a ``datasets.Features`` per config.

Both the Parquet schema (:func:`arrow_schema`) and the card's ``dataset_info`` YAML
(:func:`dataset_infos`) are derived from these, so the three never disagree. Per-clip lists
follow the 2-second grid: clip *i* covers ``[2i, min(2i + 2, duration))``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa
from datasets import ClassLabel, DatasetInfo, Features, List, Value
from datasets.info import DatasetInfosDict

__all__ = [
    "CONFIG_FEATURES",
    "FEATURE_ROWS",
    "LABEL",
    "MATCH_ROWS",
    "VIDEO_ROWS",
    "arrow_schema",
    "dataset_infos",
    "to_table",
]

LABEL = ClassLabel(names=["neg", "pos"])
"""A clip's or a video's label: 1 (``pos``) for a highlight."""

VIDEO_ROWS = Features(
    {
        "video_id": Value("string"),
        "source_id": Value("string"),
        "title": Value("string"),
        "genre": Value("string"),
        "start": Value("float32"),
        "end": Value("float32"),
        "duration": Value("float32"),
        "num_clips": Value("int32"),
        "votes": List(Value("int32")),
        "scores": List(Value("float32")),
        "labels": List(LABEL),
        "categories": List(Value("string")),
        "num_annotators": List(Value("int32")),
        "video_label": LABEL,
        "num_derivatives": Value("int32"),
        "video_path": Value("string"),
    }
)
"""One row per video (a source, or a window of one): votes, scores and labels per clip. Test
rows written from human annotation (``tvhighlights annotations aggregate``) also carry
``categories`` and ``num_annotators`` per clip; train rows leave them null."""

MATCH_ROWS = Features(
    {
        "derivative_id": Value("string"),
        "derivative_title": Value("string"),
        "platform": Value("string"),
        "engagement": Value("int64"),
        "shot_index": Value("int32"),
        "deriv_start": Value("float32"),
        "deriv_end": Value("float32"),
        "source_id": Value("string"),
        "source_start": Value("float32"),
        "source_end": Value("float32"),
        "speed": Value("float32"),
        "flipped": Value("bool"),
        "confidence": Value("float32"),
        "num_frames": Value("int32"),
        "mean_distance": Value("float32"),
    }
)
"""One row per aligned derivative shot: the audit trail of every vote."""

FEATURE_ROWS = Features(
    {
        "video_id": Value("string"),
        "num_clips": Value("int32"),
        "visual": List(List(Value("float32"))),
        "audio": List(List(Value("float32"))),
        "audio_mask": List(Value("bool")),
    }
)
"""One row per video of the default config: its per-clip feature vectors."""

CONFIG_FEATURES: Mapping[str, Features] = {
    "default": VIDEO_ROWS,
    "windowed": VIDEO_ROWS,
    "matches": MATCH_ROWS,
    "features": FEATURE_ROWS,
}


def arrow_schema(features: Features) -> pa.Schema:
    """The Parquet schema of a config: the Arrow types of its features (no extra metadata, so
    the same rows always give the same bytes)."""
    return pa.schema(features.type)


def to_table(rows: Sequence[Mapping[str, Any]], features: Features) -> pa.Table:
    """Rows (dicts; missing keys are null) as an Arrow table of the config's schema."""
    schema = arrow_schema(features)
    cols = {f.name: [r.get(f.name) for r in rows] for f in schema}
    return pa.Table.from_pydict(cols, schema=schema)


def dataset_infos(configs: Iterable[str]) -> DatasetInfosDict:
    """``DatasetInfo`` (features only) of each named config, for the card's ``dataset_info``."""
    return DatasetInfosDict({name: DatasetInfo(features=CONFIG_FEATURES[name]) for name in configs})
