"""A ``features`` config inside a dataset folder, so ``load_dataset`` returns features too.

``load_dataset(folder, "features")`` then yields, per split, rows of ``video_id``,
``num_clips``, ``visual`` (``num_clips`` lists of Dv floats), ``audio`` and ``audio_mask``,
in the same order as the default config's rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..dataset import add_config, read_split, split_names
from .store import load_features

__all__ = ["FEATURES_SCHEMA", "add_features_config"]

FEATURES_SCHEMA = pa.schema(
    [
        ("video_id", pa.string()),
        ("num_clips", pa.int32()),
        ("visual", pa.list_(pa.list_(pa.float32()))),
        ("audio", pa.list_(pa.list_(pa.float32()))),
        ("audio_mask", pa.list_(pa.bool_())),
    ]
)

_FEATURES_YAML = """\
- config_name: features
  features:
  - {name: video_id, dtype: string}
  - {name: num_clips, dtype: int32}
  - name: visual
    list:
      list: float32
  - name: audio
    list:
      list: float32
  - {name: audio_mask, list: bool}
"""


def _nested(arrays: list[np.ndarray], offsets: pa.Array) -> pa.ListArray:
    """``list<list<float32>>`` from per-video ``(num_clips, D)`` arrays, built without Python
    lists (a dataset of long films holds millions of rows of features)."""
    flat = np.concatenate(arrays).astype(np.float32, copy=False)
    width = flat.shape[1]
    inner_offsets = pa.array(np.arange(0, flat.size + 1, max(width, 1), dtype=np.int32)
                             if width else np.zeros(flat.shape[0] + 1, dtype=np.int32))  # fmt: skip
    rows = pa.ListArray.from_arrays(inner_offsets, pa.array(flat.reshape(-1)))
    return pa.ListArray.from_arrays(offsets, rows)


def add_features_config(
    dataset: str | Path,
    features: str | Path,
    extractors: Sequence[str] | None = None,
) -> Path:
    """Copy every row's features from the feature folder into ``dataset/features/``.

    Every row of every split must have been extracted (a clear error names the first that
    was not); ``extractors`` selects outputs by name or key, as in :func:`load_features`.
    """
    dataset = Path(dataset)
    splits = split_names(dataset)
    tables = {}
    for split in splits:
        ids = read_split(dataset, split).column("video_id").to_pylist()
        feats = [load_features(features, vid, extractors) for vid in ids]
        n = np.asarray([len(f["audio_mask"]) for f in feats], dtype=np.int64)
        offsets = pa.array(np.concatenate([[0], np.cumsum(n)]).astype(np.int32))
        tables[split] = pa.Table.from_arrays(
            [
                pa.array(ids, pa.string()),
                pa.array(n.astype(np.int32)),
                _nested([f["visual"] for f in feats], offsets),
                _nested([f["audio"] for f in feats], offsets),
                pa.ListArray.from_arrays(
                    offsets, pa.array(np.concatenate([f["audio_mask"] for f in feats]))
                ),
            ],
            schema=FEATURES_SCHEMA,
        )
    return add_config(dataset, "features", tables, features_yaml=_FEATURES_YAML)
