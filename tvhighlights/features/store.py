"""The feature folder: one safetensors file per (extractor output, video content), an index.

Layout of ``features/``::

    extractors.json                       key -> name, version, dims, settings
    <extractor key>/<sha256[:32]>.safetensors   float arrays of exactly num_clips rows
    index/<part>.jsonl                    one line per dataset row, appended (flush + fsync)
    index.json                            the parts merged (rewritten atomically)

Outputs are keyed on the video's *content* (sha256 of the file) and the extractor's key
(name, version, settings), so a renamed file is not re-extracted, a changed setting is, and
two processes never write the same file. A dataset row (a whole source or a window of it)
points at its file's arrays with ``offset`` and ``num_clips``. Files are written to a
temporary name and renamed, so a run killed at any moment leaves only whole files and the
next run picks up where it stopped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FeatureStoreError, InvalidArgumentError
from ..fileio import append_jsonl, atomic_write, write_json

logger = logging.getLogger(__name__)

__all__ = [
    "STORAGE_DTYPES",
    "FeatureStore",
    "FeatureStoreError",
    "combine_modalities",
    "load_features",
]

STORAGE_DTYPES = {"float32": np.float32, "float16": np.float16}
"""Precisions a feature file may be stored in (read back as float32)."""


class FeatureStore:
    """Read and write a feature folder (see the module docstring for its layout)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # -- per-video arrays --------------------------------------------------------------------------

    def path(self, key: str, sha256: str) -> Path:
        """File holding extractor ``key``'s output for the video whose content is ``sha256``."""
        return self.root / key / f"{sha256[:32]}.safetensors"

    def has(self, key: str, sha256: str, num_clips: int) -> bool:
        """Whether a whole, readable output with ``num_clips`` rows is already stored."""
        p = self.path(key, sha256)
        if not p.is_file():
            return False
        try:
            meta = self._header(p)
        except FeatureStoreError as e:
            logger.warning("%s; it will be extracted again", e)
            return False
        return int(meta.get("num_clips", -1)) == int(num_clips)

    @staticmethod
    def _header(path: Path) -> dict[str, str]:
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="numpy") as fh:
                return dict(fh.metadata() or {})
        except Exception as e:  # safetensors raises its own error types on corrupt headers
            raise FeatureStoreError(f"{path}: not a readable safetensors file ({e})") from e

    def write(
        self,
        key: str,
        sha256: str,
        arrays: Mapping[str, np.ndarray],
        *,
        num_clips: int,
        has_audio: bool,
        dtype: str = "float32",
    ) -> Path:
        """Store one extractor's output for one video (atomically); returns the file."""
        from safetensors.numpy import save

        if dtype not in STORAGE_DTYPES:
            raise InvalidArgumentError(
                f"dtype must be one of {sorted(STORAGE_DTYPES)}, got {dtype!r}"
            )
        tensors = {}
        for modality, arr in arrays.items():
            a = np.asarray(arr)
            if a.ndim != 2 or a.shape[0] != num_clips:
                raise FeatureStoreError(
                    f"{key}: {modality} features have shape {a.shape}, expected ({num_clips}, D)"
                )
            tensors[modality] = np.ascontiguousarray(a, dtype=STORAGE_DTYPES[dtype])
        meta = {
            "key": key,
            "sha256": sha256,
            "num_clips": str(int(num_clips)),
            "has_audio": "1" if has_audio else "0",
            "format": "tvhighlights-features/1",
        }
        p = self.path(key, sha256)
        p.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(p, "wb") as fh:
            fh.write(save(tensors, metadata=meta))
        return p

    def read(self, key: str, sha256: str) -> dict[str, np.ndarray]:
        """One stored output as float32 arrays (modality -> ``(num_clips, D)``)."""
        from safetensors.numpy import load_file

        p = self.path(key, sha256)
        if not p.is_file():
            raise FeatureStoreError(f"{p}: no features for this video and extractor {key!r}")
        meta = self._header(p)
        try:
            arrays = load_file(str(p))
        except Exception as e:
            raise FeatureStoreError(f"{p}: cannot read features ({e})") from e
        n = int(meta.get("num_clips", -1))
        for modality, a in arrays.items():
            if a.ndim != 2 or a.shape[0] != n:
                raise FeatureStoreError(
                    f"{p}: {modality} has shape {a.shape} but the file says {n} clips"
                )
        return {m: a.astype(np.float32, copy=False) for m, a in arrays.items()}

    def read_row(self, key: str, entry: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Extractor ``key``'s arrays for one index ``entry`` (a dataset row): its
        ``num_clips`` rows from ``offset`` on, checked to be there."""
        a, n = int(entry["offset"]), int(entry["num_clips"])
        out = {}
        for modality, arr in self.read(key, entry["sha256"]).items():
            if arr.shape[0] < a + n:
                raise FeatureStoreError(
                    f"{self.path(key, entry['sha256'])}: {arr.shape[0]} rows, but video "
                    f"{entry['video_id']!r} needs rows {a}..{a + n - 1}"
                )
            out[modality] = arr[a : a + n]
        return out

    # -- extractor descriptions --------------------------------------------------------------------

    def extractors(self) -> dict[str, dict[str, Any]]:
        """Key -> description (name, version, dims, settings) of every extractor run here."""
        p = self.root / "extractors.json"
        if not p.is_file():
            return {}
        try:
            return json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise FeatureStoreError(f"{p}: cannot read ({e})") from e

    def record_extractors(self, descriptions: Iterable[Mapping[str, Any]]) -> None:
        """Add extractor descriptions to ``extractors.json`` (atomically)."""
        known = self.extractors()
        changed = False
        for d in descriptions:
            if known.get(d["key"]) != d:
                known[d["key"]] = dict(d)
                changed = True
        if changed or not (self.root / "extractors.json").exists():
            write_json(self.root / "extractors.json", known)

    # -- the index --------------------------------------------------------------------------------

    def append_index(self, entries: Sequence[Mapping[str, Any]], part: str) -> None:
        """Append index lines to ``index/<part>.jsonl`` and make them durable (flush + fsync)."""
        append_jsonl(self.root / "index" / f"{part}.jsonl", [dict(e) for e in entries])

    def index(self) -> dict[str, dict[str, Any]]:
        """video_id -> its latest index entry (``index.json`` merged with the parts)."""
        out: dict[str, dict[str, Any]] = {}
        p = self.root / "index.json"
        if p.is_file():
            try:
                out.update(json.loads(p.read_text(encoding="utf-8")))
            except (OSError, ValueError) as e:
                raise FeatureStoreError(f"{p}: cannot read ({e})") from e
        parts = sorted((self.root / "index").glob("*.jsonl"), key=lambda q: q.stat().st_mtime)
        for part in parts:
            with open(part, encoding="utf-8") as fh:
                for lineno, line in enumerate(fh, start=1):
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        # a line cut short by a kill: the video is simply redone next run
                        logger.warning("%s: line %d is incomplete; ignored", part, lineno)
                        continue
                    out[entry["video_id"]] = entry
        return out

    def consolidate(self) -> Path:
        """Rewrite ``index.json`` from everything indexed so far."""
        return write_json(self.root / "index.json", dict(sorted(self.index().items())))

    def entry(self, video_id: str) -> dict[str, Any]:
        """The index entry of ``video_id``; a clear error when it was never extracted."""
        idx = self.index()
        if video_id not in idx:
            near = ", ".join(sorted(idx)[:5])
            raise FeatureStoreError(
                f"{self.root}: no features for video {video_id!r} "
                f"({len(idx)} videos indexed{': ' + near + ', ...' if idx else ''})"
            )
        return idx[video_id]

    def resolve(self, entry: Mapping[str, Any], extractors: Sequence[str] | None) -> list[str]:
        """Extractor keys to load: all of the entry's, or those named (by name or key)."""
        keys = list(entry["extractors"])
        if extractors is None:
            return keys
        known = self.extractors()
        # outputs stored by earlier runs with other extractor lists count too
        keys += [k for k in known if k not in keys and self.path(k, entry["sha256"]).is_file()]
        out = []
        for want in extractors:
            match = [k for k in keys if k == want or known.get(k, {}).get("name") == want]
            if not match:
                have = ", ".join(keys) or "none"
                raise FeatureStoreError(
                    f"{self.root}: video {entry['video_id']!r} has no {want!r} features "
                    f"(it has: {have}); extract them first with the {want!r} extractor",
                    param="extractors",
                )
            out.append(match[0])
        return out


def load_features(
    root: str | Path,
    video_id: str,
    extractors: Sequence[str] | None = None,
) -> dict[str, np.ndarray]:
    """Features of one dataset row: ``{"visual": (n, Dv), "audio": (n, Da), "audio_mask": (n,)}``.

    ``n`` is the row's ``num_clips``; the visual (and the audio) outputs of the extractors are
    concatenated in the order they were requested at extraction (or in ``extractors``, given by
    name or key). ``audio_mask`` is False for every clip of a video without an audio track
    (its audio features are zeros). A modality no extractor gives has width 0.
    """
    store = FeatureStore(root)
    entry = store.entry(video_id)
    parts: dict[str, list[np.ndarray]] = {}
    for key in store.resolve(entry, extractors):
        for modality, arr in store.read_row(key, entry).items():
            parts.setdefault(modality, []).append(arr)
    return combine_modalities(parts, int(entry["num_clips"]), bool(entry.get("has_audio", False)))


def combine_modalities(
    parts: dict[str, list[np.ndarray]], num_clips: int, has_audio: bool
) -> dict[str, np.ndarray]:
    """Per-modality lists of ``(num_clips, D_i)`` arrays -> the features dict a model takes:
    each modality concatenated along columns (width 0 when empty), plus ``audio_mask``."""
    out = {
        m: np.concatenate(v, axis=1) if v else np.zeros((num_clips, 0), dtype=np.float32)
        for m, v in {"visual": [], "audio": [], **parts}.items()
    }
    out["audio_mask"] = np.full(num_clips, has_audio)
    return out
