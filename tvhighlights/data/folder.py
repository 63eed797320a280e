"""A Hugging Face dataset folder: Parquet shards plus a dataset card, nothing to execute.

`datasets` 4+ has no loading scripts: ``load_dataset(folder)`` reads the Parquet files that the
card's YAML ``configs:`` names, with the features its ``dataset_info`` declares. This module
writes such a folder (atomically: a temporary folder renamed into place), adds a config to
one, and reads a split back with pyarrow alone. It knows nothing of the TVHighlights schema:
callers hand it Arrow tables and a card (:mod:`tvhighlights.builders.tvhighlights` does).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InvalidArgumentError, ReferencesError
from ..fileio import atomic_write, replace_dir, write_json

logger = logging.getLogger(__name__)

__all__ = [
    "CARD_NAME",
    "DataFiles",
    "add_config",
    "config_folder",
    "data_files_yaml",
    "read_card",
    "read_split",
    "split_names",
    "write_folder",
]

CARD_NAME = "README.md"

DataFiles = dict[str, dict[str, str]]
"""``{config: {split: path relative to the folder}}``: what a card's ``configs:`` names."""


def config_folder(config: str) -> str:
    """Sub-folder of a config's Parquet files: ``data`` for the default config, else its name."""
    return "data" if config == "default" else config


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


def data_files_yaml(config: str, files: Mapping[str, str], *, default: bool = False) -> dict:
    """One entry of a card's ``configs:`` list for ``{split: path}``."""
    entry: dict[str, Any] = {"config_name": config}
    if default:
        entry["default"] = True
    entry["data_files"] = [{"split": split, "path": path} for split, path in files.items()]
    return entry


def _pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (``True`` when it cannot be told)."""
    if os.name != "posix":
        return True  # os.kill(pid, 0) would send CTRL_C_EVENT on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, someone else's
        return True
    return True


def _remove_stale_siblings(out: Path) -> None:
    """Remove what a killed writer of ``out`` left beside it: the ``.<name>.tmp-<pid>``
    folder of :func:`write_folder` and the ``.<name>.old-<pid>`` one of
    :func:`~tvhighlights.fileio.replace_dir`, when that process is gone (a ``kill -9``
    runs no cleanup; a rerun has another pid)."""
    prefix = f".{out.name}."
    for p in out.parent.iterdir():
        if not p.name.startswith(prefix):
            continue
        kind, sep, pid = p.name[len(prefix) :].partition("-")
        if kind in ("tmp", "old") and sep and pid.isdigit() and not _pid_alive(int(pid)):
            logger.info("removing %s, left by a build that was killed", p)
            shutil.rmtree(p, ignore_errors=True)


def write_folder(
    out_dir: str | Path,
    tables: Mapping[str, Mapping[str, pa.Table]],
    render_card: Callable[[DataFiles], str],
    *,
    report: Mapping[str, Any] | None = None,
    images: Mapping[str, Callable[[Path], Any]] | None = None,
) -> Path:
    """Write a dataset folder atomically and return its path.

    ``tables`` maps config names to ``{split: table}``; each table becomes one Parquet file
    under :func:`config_folder`. ``render_card(files)`` returns the card's text once the file
    names (which carry content digests) are known. ``images`` maps file names under
    ``images/`` to callables ``fn(path)`` that draw them; ``report`` is written as
    ``build_report.json``. The folder is assembled beside ``out_dir`` and renamed into place
    only when complete; an existing folder is replaced only then.
    """
    out = Path(out_dir)
    if not any(t.num_rows for splits in tables.values() for t in splits.values()):
        raise InvalidArgumentError(f"{out}: nothing to write: no rows in any split")
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_siblings(out)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        files: DataFiles = {}
        for config, splits in tables.items():
            sub = config_folder(config)
            files[config] = {
                split: f"{sub}/{_write_parquet(table, tmp / sub, split)}"
                for split, table in splits.items()
            }
        for name, draw in (images or {}).items():
            draw(tmp / "images" / name)
        if report is not None:
            write_json(tmp / "build_report.json", report)
        with atomic_write(tmp / CARD_NAME) as fh:
            fh.write(render_card(files))
        replace_dir(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    logger.info(
        "wrote dataset %s (%s)",
        out,
        {f"{c}/{s}": t.num_rows for c, splits in tables.items() for s, t in splits.items()},
    )
    return out


def read_card(folder: str | Path) -> Any:
    """The folder's dataset card as a ``huggingface_hub.DatasetCard`` (YAML data + text)."""
    from huggingface_hub import DatasetCard

    folder = Path(folder)
    card = folder / CARD_NAME
    if not card.is_file():
        raise ReferencesError(folder, [f"no {CARD_NAME}: not a dataset folder"])
    text = card.read_text(encoding="utf-8")
    if not text.startswith("---\n") or "\n---\n" not in text[4:]:
        raise ReferencesError(card, ["no YAML front matter"])
    return DatasetCard(text)


def add_config(
    folder: str | Path,
    config: str,
    tables: Mapping[str, pa.Table],
    *,
    update_card: Callable[[Any], None] | None = None,
) -> Path:
    """Add (or replace) the config ``config`` of a dataset folder: one Parquet file per split
    under ``folder/<config>/`` and its entry in the card's ``configs``, so that
    ``load_dataset(folder, config)`` reads it. ``update_card(card_data)`` may then change the
    card's YAML further (declare the config's features in ``dataset_info``). The card is
    rewritten atomically; the files of a replaced config are removed only after it.
    """
    folder = Path(folder)
    if config in ("default", "data") or not config.isidentifier():
        raise InvalidArgumentError(f"config name {config!r} is reserved or not an identifier")
    card = read_card(folder)
    old_files = sorted((folder / config).glob("*.parquet"))
    files = {
        split: f"{config}/{_write_parquet(t, folder / config, split)}"
        for split, t in tables.items()
    }
    data = card.data
    configs = [c for c in (data.get("configs") or []) if c.get("config_name") != config]
    data.configs = [*configs, data_files_yaml(config, files)]
    if update_card is not None:
        update_card(data)
    with atomic_write(folder / CARD_NAME) as fh:
        fh.write(str(card))
    keep = {Path(p).name for p in files.values()}
    for p in old_files:
        if p.name not in keep:
            p.unlink(missing_ok=True)
    return folder


def split_names(folder: str | Path, config: str = "default") -> list[str]:
    """The splits a config of a dataset folder holds (from its ``<split>-<digest>.parquet``)."""
    sub = Path(folder) / config_folder(config)
    return sorted({p.name.split("-")[0] for p in sub.glob("*.parquet")})


def read_split(folder: str | Path, split: str, config: str = "default") -> pa.Table:
    """One split of a dataset folder as an Arrow table (no `datasets` needed)."""
    folder = Path(folder)
    files = sorted((folder / config_folder(config)).glob(f"{split}-*.parquet"))
    if not files:
        problem = f"no split {split!r} in config {config!r} (splits: {split_names(folder, config)})"
        raise ReferencesError(folder, [problem])
    return pa.concat_tables(pq.read_table(f) for f in files)
