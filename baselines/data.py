"""A dataset split joined with its stored features, kept per extractor, for the baselines.

Unlike :func:`tvhighlights.training.data.load_examples` (which concatenates every extractor
into one visual and one audio block for the model), each extractor's output stays apart, so
HL-CLIP can take CLIP's embeddings and the signal heuristics the handcrafted cues by name.
The store's index is read once per split, not once per video.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tvhighlights.data.folder import read_split
from tvhighlights.errors import FeatureStoreError, ReferencesError
from tvhighlights.features.store import FeatureStore

from .base import BaselineData, BaselineVideo

__all__ = ["load_baseline_data"]

_COLUMNS = ("video_id", "num_clips", "title", "genre", "labels", "votes", "video_label",
            "categories", "start", "video_path")  # fmt: skip


def load_baseline_data(
    dataset: str | Path,
    features: str | Path,
    split: str,
    extractors: Sequence[str] | None = None,
) -> BaselineData:
    """The rows of ``split`` with their features (all extractors, or those named)."""
    table = read_split(dataset, split)
    if "video_id" not in table.column_names or "num_clips" not in table.column_names:
        raise ReferencesError(dataset, [f"split {split!r} has no video_id / num_clips column"])
    have = [c for c in _COLUMNS if c in table.column_names]
    store = FeatureStore(features)
    index = store.index()
    known = store.extractors()
    videos, used = [], {}
    for row in table.select(have).to_pylist():
        vid, n = row["video_id"], int(row["num_clips"])
        entry = index.get(vid)
        if entry is None:
            raise FeatureStoreError(
                f"{features}: no features for video {vid!r} of split {split!r} "
                f"({len(index)} videos indexed); run `tvhighlights extract --dataset {dataset}`"
            )
        if int(entry["num_clips"]) != n:
            raise FeatureStoreError(
                f"{features}: video {vid!r} has {entry['num_clips']} clips of features but the "
                f"dataset row has {n}; extract it again"
            )
        blocks: dict[str, dict[str, np.ndarray]] = {}
        for key in store.resolve(entry, extractors):
            name = known.get(key, {}).get("name", key)
            used[name] = {"key": key, **known.get(key, {})}
            rows = store.read_row(key, entry)
            blocks[name] = {m: arr for m, arr in rows.items() if arr.shape[1]}
        videos.append(
            BaselineVideo(
                video_id=vid,
                num_clips=n,
                features=blocks,
                has_audio=bool(entry.get("has_audio", False)),
                title=row.get("title") or "",
                genre=row.get("genre"),
                labels=_array(row.get("labels"), n),
                votes=_array(row.get("votes"), n),
                video_label=None if row.get("video_label") is None else int(row["video_label"]),
                categories=row.get("categories"),
                start=float(row.get("start") or 0.0),
                video_path=row.get("video_path"),
            )
        )
    if not videos:
        raise ReferencesError(dataset, [f"split {split!r} has no rows"])
    return BaselineData(videos, split, Path(dataset), Path(features), used)


def _array(values: list | None, n: int) -> np.ndarray | None:
    if values is None or len(values) != n:
        return None
    return np.asarray(values, dtype=np.int64)
