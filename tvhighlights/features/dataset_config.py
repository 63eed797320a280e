"""A ``features`` config inside a dataset folder, so ``load_dataset`` returns features too.

``load_dataset(folder, "features")`` then yields, per split, rows of ``video_id``,
``num_clips``, ``visual`` (``num_clips`` lists of Dv floats), ``audio`` and ``audio_mask``,
in the same order as the default config's rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

from ..dataset import add_config, read_split
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
    splits = sorted({p.name.split("-")[0] for p in (dataset / "data").glob("*.parquet")})
    tables = {}
    for split in splits:
        ids = read_split(dataset, split).column("video_id").to_pylist()
        cols: dict[str, list] = {f.name: [] for f in FEATURES_SCHEMA}
        for vid in ids:
            f = load_features(features, vid, extractors)
            cols["video_id"].append(vid)
            cols["num_clips"].append(len(f["audio_mask"]))
            cols["visual"].append(f["visual"].tolist())
            cols["audio"].append(f["audio"].tolist())
            cols["audio_mask"].append(f["audio_mask"].tolist())
        tables[split] = pa.Table.from_pydict(cols, schema=FEATURES_SCHEMA)
    return add_config(dataset, "features", tables, features_yaml=_FEATURES_YAML)
