"""The TVHighlights dataset folder: Parquet shards plus a dataset card, nothing to execute.

`datasets` 4+ has no loading scripts: ``load_dataset(folder)`` reads the Parquet files that
the card's YAML ``configs:`` names, with the features its ``dataset_info`` declares. This
module writes such a folder (atomically: a temporary folder renamed into place), reads a split
back as references for the scorer, merges shard folders and publishes a folder to the Hub.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import ReferencesError, TVHighlightsError
from .fileio import atomic_write, write_json

logger = logging.getLogger(__name__)

CLIPS_SCHEMA = pa.schema(
    [
        ("video_id", pa.string()),
        ("source_id", pa.string()),
        ("title", pa.string()),
        ("genre", pa.string()),
        ("start", pa.float32()),
        ("end", pa.float32()),
        ("duration", pa.float32()),
        ("num_clips", pa.int32()),
        ("votes", pa.list_(pa.int32())),
        ("scores", pa.list_(pa.float32())),
        ("labels", pa.list_(pa.int64())),
        ("categories", pa.list_(pa.string())),
        ("video_label", pa.int64()),
        ("num_derivatives", pa.int32()),
        ("video_path", pa.string()),
    ]
)
"""One row per video (a source, or a window of one); per-clip lists on the 2-second grid."""

MATCHES_SCHEMA = pa.schema(
    [
        ("derivative_id", pa.string()),
        ("derivative_title", pa.string()),
        ("platform", pa.string()),
        ("engagement", pa.int64()),
        ("shot_index", pa.int32()),
        ("deriv_start", pa.float32()),
        ("deriv_end", pa.float32()),
        ("source_id", pa.string()),
        ("source_start", pa.float32()),
        ("source_end", pa.float32()),
        ("speed", pa.float32()),
        ("flipped", pa.bool_()),
        ("confidence", pa.float32()),
        ("num_frames", pa.int32()),
        ("mean_distance", pa.float32()),
    ]
)
"""One row per aligned derivative shot: the audit trail of every vote."""

_CLASS = "class_label: {names: {'0': neg, '1': pos}}"

_FEATURES_YAML = """\
- config_name: default
  features:
  - {name: video_id, dtype: string}
  - {name: source_id, dtype: string}
  - {name: title, dtype: string}
  - {name: genre, dtype: string}
  - {name: start, dtype: float32}
  - {name: end, dtype: float32}
  - {name: duration, dtype: float32}
  - {name: num_clips, dtype: int32}
  - {name: votes, list: int32}
  - {name: scores, list: float32}
  - name: labels
    list:
      CLASS
  - {name: categories, list: string}
  - name: video_label
    CLASS
  - {name: num_derivatives, dtype: int32}
  - {name: video_path, dtype: string}
- config_name: matches
  features:
  - {name: derivative_id, dtype: string}
  - {name: derivative_title, dtype: string}
  - {name: platform, dtype: string}
  - {name: engagement, dtype: int64}
  - {name: shot_index, dtype: int32}
  - {name: deriv_start, dtype: float32}
  - {name: deriv_end, dtype: float32}
  - {name: source_id, dtype: string}
  - {name: source_start, dtype: float32}
  - {name: source_end, dtype: float32}
  - {name: speed, dtype: float32}
  - {name: flipped, dtype: bool}
  - {name: confidence, dtype: float32}
  - {name: num_frames, dtype: int32}
  - {name: mean_distance, dtype: float32}
""".replace("CLASS", _CLASS)


def _table(rows: Sequence[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    cols = {f.name: [r.get(f.name) for r in rows] for f in schema}
    return pa.Table.from_pydict(cols, schema=schema)


def _write_parquet(table: pa.Table, folder: Path, split: str) -> str:
    """Write ``table`` as ``folder/<split>-<content digest>.parquet``; returns the file name.

    The digest in the name matters: `datasets` keys its cache of a local folder on the data
    file names (not their content), so a rebuilt folder must get new names to be re-read.
    """
    buf = pa.BufferOutputStream()
    pq.write_table(table, buf, compression="zstd")
    data = buf.getvalue().to_pybytes()
    name = f"{split}-{hashlib.sha256(data).hexdigest()[:16]}.parquet"
    with atomic_write(folder / name, "wb") as fh:
        fh.write(data)
    return name


_CARD_HEAD = """\
---
pretty_name: TVHighlights
license: other
task_categories:
- video-classification
tags:
- video-highlight-detection
- movies
- tv-dramas
- weak-supervision
configs:
- config_name: default
  default: true
  data_files:
"""


def _card(files: Mapping[str, str], matches_file: str | None, body: str) -> str:
    """The dataset card: YAML that `load_dataset` reads, then the Markdown ``body``."""
    head = _CARD_HEAD + "".join(
        f"  - {{split: {split}, path: data/{name}}}\n" for split, name in files.items()
    )
    if matches_file:
        head += "- config_name: matches\n  data_files:\n"
        head += f"  - {{split: train, path: matches/{matches_file}}}\n"
    return f"{head}dataset_info:\n{_FEATURES_YAML}---\n\n{body}"


def write_dataset(
    out_dir: str | Path,
    splits: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    matches: Sequence[Mapping[str, Any]] = (),
    card_body: str = "",
    report: Mapping[str, Any] | None = None,
    images: Mapping[str, Any] | None = None,
) -> Path:
    """Write a dataset folder atomically and return its path.

    ``splits`` maps split names to rows of :data:`CLIPS_SCHEMA`; ``matches`` are rows of
    :data:`MATCHES_SCHEMA`; ``card_body`` is the Markdown under the card's YAML; ``images``
    maps file names under ``images/`` to callables ``fn(path)`` that draw them. The folder
    is assembled beside ``out_dir`` and renamed into place only when complete; an existing
    folder is replaced only then.
    """
    out = Path(out_dir)
    if not splits or not any(splits.values()):
        raise TVHighlightsError(f"{out}: nothing to write: no rows in any split")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        files = {
            split: _write_parquet(_table(rows, CLIPS_SCHEMA), tmp / "data", split)
            for split, rows in splits.items()
        }
        matches_file = None
        if matches:
            matches_file = _write_parquet(_table(matches, MATCHES_SCHEMA), tmp / "matches", "train")
        for name, draw in (images or {}).items():
            draw(tmp / "images" / name)
        if report is not None:
            write_json(tmp / "build_report.json", report)
        with atomic_write(tmp / "README.md") as fh:
            fh.write(_card(files, matches_file, card_body))
        _replace_dir(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    logger.info("wrote dataset %s (%s)", out, {s: len(r) for s, r in splits.items()})
    return out


def add_config(
    folder: str | Path,
    config: str,
    tables: Mapping[str, pa.Table],
    *,
    features_yaml: str | None = None,
) -> Path:
    """Add (or replace) the config ``config`` of a dataset folder: one Parquet file per split
    under ``folder/<config>/`` and its entry in the card's YAML, so that
    ``load_dataset(folder, config)`` reads it. The card is rewritten atomically; the files of
    a replaced config are removed only after it.
    """
    folder = Path(folder)
    card = folder / "README.md"
    if config in ("default", "data") or not config.isidentifier():
        raise ValueError(f"config name {config!r} is reserved or not an identifier")
    if not card.is_file():
        raise ReferencesError(folder, ["no README.md: not a dataset folder written by this tool"])
    text = card.read_text(encoding="utf-8")
    if not text.startswith("---\n") or "\n---\n" not in text[4:]:
        raise ReferencesError(card, ["no YAML front matter"])
    end = text.index("\n---\n", 4) + 1
    head, body = text[4:end], text[end + 4 :]
    old_files = sorted((folder / config).glob("*.parquet"))
    files = {split: _write_parquet(t, folder / config, split) for split, t in tables.items()}
    block = f"- config_name: {config}\n  data_files:\n" + "".join(
        f"  - {{split: {split}, path: {config}/{name}}}\n" for split, name in files.items()
    )
    head = _drop_yaml_item(head, config)
    lines = head.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("dataset_info:"))
    lines.insert(at, block)
    if features_yaml:
        lines.append(features_yaml)
    with atomic_write(card) as fh:
        fh.write("---\n" + "".join(lines) + "---\n" + body)
    keep = set(files.values())
    for p in old_files:
        if p.name not in keep:
            p.unlink(missing_ok=True)
    return folder


def _drop_yaml_item(head: str, config: str) -> str:
    """The card's YAML without the list items (``configs`` / ``dataset_info``) of ``config``."""
    out: list[str] = []
    skipping = False
    for line in head.splitlines(keepends=True):
        if line.startswith("- config_name:"):
            skipping = line.split(":", 1)[1].strip() == config
        elif not line.startswith((" ", "-")):
            skipping = False
        if not skipping:
            out.append(line)
    return "".join(out)


def _replace_dir(new: Path, target: Path) -> None:
    """Move ``new`` onto ``target``; the old ``target`` goes only once ``new`` is in place."""
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)


def split_names(folder: str | Path, config: str = "default") -> list[str]:
    """The splits a config of a dataset folder holds (from its ``<split>-<digest>.parquet``)."""
    sub = "data" if config == "default" else config
    return sorted({p.name.split("-")[0] for p in (Path(folder) / sub).glob("*.parquet")})


def read_split(folder: str | Path, split: str, config: str = "default") -> pa.Table:
    """One split of a dataset folder as an Arrow table (no `datasets` needed)."""
    folder = Path(folder)
    sub = "data" if config == "default" else config
    files = sorted((folder / sub).glob(f"{split}-*.parquet"))
    if not files:
        problem = f"no split {split!r} in config {config!r} (splits: {split_names(folder, config)})"
        raise ReferencesError(folder, [problem])
    return pa.concat_tables(pq.read_table(f) for f in files)


def references_from_table(table: pa.Table, source: str | Path) -> list:
    """The scorer's references (``VideoReference``) from a dataset split's rows."""
    from .submission import VideoReference

    problems = []
    refs = []
    for i, row in enumerate(table.to_pylist()):
        labels = row.get("labels")
        if not row.get("video_id") or not labels:
            problems.append(f"row {i}: empty 'video_id' or 'labels'")
            continue
        cats = row.get("categories")
        refs.append(
            VideoReference(
                row["video_id"],
                np.asarray(labels, dtype=np.int8),
                tuple(cats) if cats else None,
                row.get("genre"),
            )
        )
    if problems:
        raise ReferencesError(source, problems)
    return refs


def load_dataset_references(source: str | Path, split: str = "test") -> list:
    """References from a dataset folder, or from a Hub dataset id through `datasets`."""
    path = Path(source)
    if path.is_dir():
        return references_from_table(read_split(path, split), path)
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - datasets is in the [build] extra
        problem = "loading a Hub dataset needs `pip install datasets`"
        raise ReferencesError(source, [problem]) from exc
    try:
        ds = datasets.load_dataset(str(source), split=split)
    except Exception as exc:  # datasets raises many types; report it as the user's input
        raise ReferencesError(source, [f"cannot load Hub dataset split {split!r}: {exc}"]) from exc
    return references_from_table(ds.data.table, source)


def merge_datasets(folders: Sequence[str | Path], out_dir: str | Path) -> Path:
    """Concatenate dataset folders written by ``build --shard i/n`` into one folder.

    The card body and report of the first shard are kept, with a note of the merge; rows and
    matches of every shard are concatenated. Video ids must not repeat across shards.
    """
    folders = [Path(f) for f in folders]
    splits: dict[str, list[dict[str, Any]]] = {}
    matches: list[dict[str, Any]] = []
    seen: dict[str, Path] = {}
    reports = []
    for folder in folders:
        for path in sorted((folder / "data").glob("*.parquet")):
            split = path.name.split("-")[0]
            for row in pq.read_table(path).to_pylist():
                key = f"{split}/{row['video_id']}"
                if key in seen:
                    raise TVHighlightsError(
                        f"{folder}: video {row['video_id']!r} ({split}) is also in {seen[key]}"
                    )
                seen[key] = folder
                splits.setdefault(split, []).append(row)
        for mpath in sorted((folder / "matches").glob("train-*.parquet")):
            matches += pq.read_table(mpath).to_pylist()
        rpath = folder / "build_report.json"
        if rpath.exists():
            reports.append(json.loads(rpath.read_text(encoding="utf-8")))
    readme = (folders[0] / "README.md").read_text(encoding="utf-8")
    body = readme.split("\n---\n", 1)[1] if "\n---\n" in readme else ""
    note = f"\n\nMerged from {len(folders)} shard folders.\n"
    return write_dataset(
        out_dir,
        splits,
        matches=matches,
        card_body=body + note,
        report={"merged_from": [str(f) for f in folders], "shards": reports},
    )


def push_dataset(
    folder: str | Path,
    repo_id: str,
    *,
    dry_run: bool = False,
    private: bool = False,
    token: str | None = None,
) -> list[tuple[str, int]]:
    """Publish a dataset folder to the Hub; returns ``(path, bytes)`` of each file.

    With ``dry_run`` nothing is sent: the list says what would be uploaded.
    """
    folder = Path(folder)
    if not (folder / "README.md").is_file():
        raise TVHighlightsError(f"{folder}: not a dataset folder (no README.md dataset card)")
    files = sorted(
        (p.relative_to(folder).as_posix(), p.stat().st_size)
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    if dry_run:
        return files
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    api.upload_folder(
        folder_path=str(folder), repo_id=repo_id, repo_type="dataset", ignore_patterns=[".*"]
    )
    return files
