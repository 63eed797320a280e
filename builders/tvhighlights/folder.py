"""The published TVHighlights folder: rows on the schema, the card, the report and the figures,
written through :func:`tvhighlights.data.folder.write_folder`; and the ``features`` config added
to such a folder after extraction."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from tvhighlights.data.folder import DataFiles, add_config, read_split, split_names, write_folder
from tvhighlights.features.store import load_features

from .card import render_card
from .schema import FEATURE_ROWS, MATCH_ROWS, VIDEO_ROWS, arrow_schema, dataset_infos, to_table

__all__ = ["add_features_config", "features_table", "write_dataset"]


def write_dataset(
    out_dir: str | Path,
    splits: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    matches: Sequence[Mapping[str, Any]] = (),
    report: Mapping[str, Any] | None = None,
    images: Mapping[str, Callable[[Path], Any]] | None = None,
    config: Any = None,
) -> Path:
    """Write a TVHighlights folder atomically: ``splits`` maps split names to rows of the
    default config (:data:`~.schema.VIDEO_ROWS`), ``matches`` are rows of the ``matches``
    config, ``report`` becomes ``build_report.json`` and the card's statistics, ``config``
    (the build's ``BuildConfig``) the card's label rule; ``images`` are drawn under
    ``images/``. ``load_dataset(out_dir)`` then needs nothing of ours."""
    tables: dict[str, dict[str, pa.Table]] = {
        "default": {split: to_table(rows, VIDEO_ROWS) for split, rows in splits.items()}
    }
    if matches:
        tables["matches"] = {"train": to_table(matches, MATCH_ROWS)}
    counts = {split: len(rows) for split, rows in splits.items()}

    def card(files: DataFiles) -> str:
        return render_card(files, config=config, report=report, rows=counts)

    return write_folder(out_dir, tables, card, report=report, images=images)


def _nested(arrays: list[np.ndarray], offsets: pa.Array) -> pa.ListArray:
    """``list<list<float32>>`` from per-video ``(num_clips, D)`` arrays, built without Python
    lists (a dataset of long films holds millions of rows of features)."""
    flat = np.concatenate(arrays).astype(np.float32, copy=False)
    width = flat.shape[1]
    inner_offsets = pa.array(np.arange(0, flat.size + 1, max(width, 1), dtype=np.int32)
                             if width else np.zeros(flat.shape[0] + 1, dtype=np.int32))  # fmt: skip
    rows = pa.ListArray.from_arrays(inner_offsets, pa.array(flat.reshape(-1)))
    return pa.ListArray.from_arrays(offsets, rows)


def features_table(
    video_ids: Sequence[str], features: str | Path, extractors: Sequence[str] | None = None
) -> pa.Table:
    """The ``features`` config's rows of ``video_ids`` from a feature folder (every video must
    have been extracted: a clear error names the first that was not)."""
    feats = [load_features(features, vid, extractors) for vid in video_ids]
    n = np.asarray([len(f["audio_mask"]) for f in feats], dtype=np.int64)
    offsets = pa.array(np.concatenate([[0], np.cumsum(n)]).astype(np.int32))
    return pa.Table.from_arrays(
        [
            pa.array(list(video_ids), pa.string()),
            pa.array(n.astype(np.int32)),
            _nested([f["visual"] for f in feats], offsets),
            _nested([f["audio"] for f in feats], offsets),
            pa.ListArray.from_arrays(
                offsets, pa.array(np.concatenate([f["audio_mask"] for f in feats]))
            ),
        ],
        schema=arrow_schema(FEATURE_ROWS),
    )


def add_features_config(
    dataset: str | Path,
    features: str | Path,
    extractors: Sequence[str] | None = None,
) -> Path:
    """Copy every row's features from the feature folder into ``dataset/features/``, so that
    ``load_dataset(dataset, "features")`` yields, per split, rows of ``video_id``,
    ``num_clips``, ``visual``, ``audio`` and ``audio_mask`` in the default config's order.

    ``extractors`` selects outputs by name or key, as in
    :func:`tvhighlights.features.load_features`.
    """
    dataset = Path(dataset)
    tables = {
        split: features_table(
            read_split(dataset, split).column("video_id").to_pylist(), features, extractors
        )
        for split in split_names(dataset)
    }

    def describe(card_data: Any) -> None:
        dataset_infos(["features"]).to_dataset_card_data(card_data)

    return add_config(dataset, "features", tables, update_card=describe)
