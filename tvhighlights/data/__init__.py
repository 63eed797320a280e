"""The dataset folder and its references: Parquet + card I/O that needs no `datasets`.

:mod:`.folder` writes and reads a Hugging Face dataset folder, :mod:`.merge` joins shard
folders, :mod:`.push` publishes one, :mod:`.references` loads the labels a submission is
scored against (from JSONL, a folder or the Hub) through one validator. The TVHighlights
schema and card are the builder's (:mod:`tvhighlights.builders.tvhighlights`).
"""

from __future__ import annotations

from .folder import add_config, read_card, read_split, split_names, write_folder
from .merge import merge_datasets
from .push import push_dataset
from .references import BUILTIN_REFERENCES, VideoReference, load_references, references_from_rows

__all__ = [
    "BUILTIN_REFERENCES",
    "VideoReference",
    "add_config",
    "load_references",
    "merge_datasets",
    "push_dataset",
    "read_card",
    "read_split",
    "references_from_rows",
    "split_names",
    "write_folder",
]
