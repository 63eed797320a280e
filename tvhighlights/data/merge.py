"""Merging dataset folders built shard by shard (``build --shard i/n``) into one folder."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import BuildError
from .folder import DataFiles, config_folder, data_files_yaml, read_card, write_folder

__all__ = ["merge_datasets"]


def merge_datasets(folders: Sequence[str | Path], out_dir: str | Path) -> Path:
    """Concatenate the rows of every config of several dataset folders into one folder.

    The card of the first folder is kept (its YAML with the new file names, its text with a
    note of the merge) and the build reports are gathered into the new ``build_report.json``.
    A video id must not repeat across the folders (in the same split of the default config).
    """
    folders = [Path(f) for f in folders]
    if not folders:
        raise BuildError("merge: no dataset folders given")
    card = read_card(folders[0])
    configs = [c["config_name"] for c in card.data.get("configs") or []]
    tables: dict[str, dict[str, list[pa.Table]]] = {}
    seen: dict[str, Path] = {}
    reports: list[Any] = []
    for folder in folders:
        for config in configs:
            for path in sorted((folder / config_folder(config)).glob("*.parquet")):
                split = path.name.split("-")[0]
                table = pq.read_table(path)
                if config == "default":
                    for vid in table.column("video_id").to_pylist():
                        key = f"{split}/{vid}"
                        if key in seen:
                            raise BuildError(
                                f"{folder}: video {vid!r} ({split}) is also in {seen[key]}"
                            )
                        seen[key] = folder
                tables.setdefault(config, {}).setdefault(split, []).append(table)
        rpath = folder / "build_report.json"
        if rpath.exists():
            reports.append(json.loads(rpath.read_text(encoding="utf-8")))
    merged = {
        c: {s: pa.concat_tables(ts) for s, ts in splits.items()} for c, splits in tables.items()
    }

    def render(files: DataFiles) -> str:
        old = {c["config_name"]: c for c in card.data.get("configs") or []}
        card.data.configs = [
            data_files_yaml(c, files[c], default=bool(old.get(c, {}).get("default")))
            for c in configs
            if c in files
        ]
        card.text = card.text.rstrip("\n") + f"\n\nMerged from {len(folders)} shard folders.\n"
        return str(card)

    report = {"merged_from": [str(f) for f in folders], "shards": reports}
    return write_folder(out_dir, merged, render, report=report)
