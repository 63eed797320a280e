"""The fingerprint index: every valid source frame hash in a FAISS binary index.

:class:`HashIndex` holds every valid source frame hash (and its zoom variants, if any) in a
FAISS binary index, with a map from row to (source, frame, variant) and each source's whole
hash track for verification (two rows per source frame with
:data:`~.fingerprint.SOURCE_ZOOMS`: the picture and its centred half). Below
``hash_threshold`` rows (250 k, ~9 h at 4 fps) it is the exact ``IndexBinaryFlat``; above,
``IndexBinaryMultiHash`` (3 tables of 21 bits, 1 flip: every code within 5 bits is found for
sure, farther ones often), which needs no training and grows incrementally. A derivative's
query is ~6 lookups a frame (its picture, mirror, inset and a quarter of its 18 zoom
columns), so the flat scan stops paying early: at 10 h it takes 0.47 s for the trailer where
multi-index hashing takes 0.05 s at 100 h, and the trailer's spans are still all found at
1,000 h (``benchmarks/bench_index.py``). Saved as one deterministic ``.npz``
(``faiss.serialize_index_binary`` bytes + row map + JSON meta), written atomically.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..errors import BuildError, IndexFileError, InvalidArgumentError
from ..fileio import write_npz
from .fingerprint import Fingerprint

logger = logging.getLogger(__name__)

__all__ = ["HashIndex", "IndexFileError", "build_index", "load_index", "save_index"]

INDEX_VERSION = 1


def _faiss() -> Any:
    try:
        import faiss
    except ImportError as e:  # pragma: no cover - faiss-cpu is a build dependency
        raise BuildError(
            "the fingerprint index needs faiss-cpu: pip install 'tvhighlights[build]'"
        ) from e
    return faiss


def _as_bytes(codes: np.ndarray) -> np.ndarray:
    """uint64 ``(n,)`` -> the ``(n, 8)`` uint8 rows FAISS binary indexes take."""
    return np.ascontiguousarray(codes, dtype=np.uint64).view(np.uint8).reshape(-1, 8)


# --------------------------------------------------------------------------------------------
# Index


@dataclass
class _Source:
    source_id: str
    duration: float
    fps: float
    start: int
    """First row of this source in the frame arrays."""
    count: int
    first_k: int
    """Grid index ``round(t * fps)`` of its first frame."""


@dataclass(eq=False)
class HashIndex:
    """Source frame hashes in a FAISS binary index, plus what each row is.

    ``frame_*`` arrays hold every sampled frame of every source in order (valid or not) with
    the hashes of the indexed variants; the FAISS index holds the valid ones, one row per
    (frame, variant), and ``row_frame`` / ``row_variant`` say which.
    """

    variants: list[str]
    fp_params: dict[str, Any] = field(default_factory=dict)
    hash_threshold: int = 250_000
    """From this many rows on, multi-index hashing replaces the exact flat scan."""
    nhash: int = 3
    nflip: int = 1
    sources: dict[str, _Source] = field(default_factory=dict)
    frame_times: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    frame_codes: np.ndarray = field(default_factory=lambda: np.zeros((0, 1), np.uint64))
    frame_valid: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    frame_source: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    row_frame: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    row_variant: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    _index: Any = None
    _digest: str | None = None

    def __post_init__(self) -> None:
        if self.frame_codes.shape[1:] != (len(self.variants),):
            self.frame_codes = np.zeros((0, len(self.variants)), np.uint64)

    # -- building ------------------------------------------------------------------------------

    @property
    def kind(self) -> str:
        """``flat`` or ``multihash``: the FAISS structure in use."""
        if self._index is None:
            return "empty"
        return "multihash" if "MultiHash" in type(self._index).__name__ else "flat"

    @property
    def ntotal(self) -> int:
        return len(self.row_frame)

    @property
    def source_ids(self) -> list[str]:
        return list(self.sources)

    def add(self, source_id: str, fp: Fingerprint) -> None:
        """Append one source's fingerprint (its valid frames go into the FAISS index)."""
        if source_id in self.sources:
            raise InvalidArgumentError(f"source {source_id!r} is already in the index")
        self.check_fingerprint(fp, source_id)
        cols = [fp.variants.index(v) for v in self.variants]
        n = len(fp)
        start = len(self.frame_times)
        sidx = len(self.sources)
        first_k = round(float(fp.times[0]) * fp.fps) if n else 0
        self.sources[source_id] = _Source(source_id, fp.duration, fp.fps, start, n, first_k)
        self.frame_times = np.concatenate([self.frame_times, fp.times.astype(np.float64)])
        self.frame_codes = np.concatenate([self.frame_codes, fp.hashes[:, cols]])
        self.frame_valid = np.concatenate([self.frame_valid, fp.valid.astype(bool)])
        self.frame_source = np.concatenate([self.frame_source, np.full(n, sidx, dtype=np.int32)])
        valid = np.flatnonzero(fp.valid)
        rows_f = np.repeat(valid + start, len(cols))
        rows_v = np.tile(np.arange(len(cols), dtype=np.int8), len(valid))
        codes = self.frame_codes[rows_f, rows_v]
        self.row_frame = np.concatenate([self.row_frame, rows_f.astype(np.int64)])
        self.row_variant = np.concatenate([self.row_variant, rows_v])
        self._add_codes(codes)
        self._digest = None
        self.__dict__.pop("_grids", None)
        logger.debug("index: added %s (%d frames, %d rows)", source_id, n, len(codes))

    def check_fingerprint(self, fp: Fingerprint, what: str, *, variants: bool = True) -> None:
        """Raise :class:`IndexFileError` naming ``what`` when ``fp`` was made with other
        parameters than the index's, or (with ``variants``: a fingerprint to add) lacks one
        of its variants."""
        mine = {k: v for k, v in self.fp_params.items() if k in ("version", "hash", "fps")}
        theirs = {k: fp.params.get(k) for k in mine}
        if mine and mine != theirs:
            raise IndexFileError(
                f"{what}: fingerprint parameters {theirs} differ from the index's {mine}"
            )
        missing = [v for v in self.variants if v not in fp.variants] if variants else []
        if missing:
            raise IndexFileError(f"{what}: fingerprint lacks the variants {missing}")

    def reserve(self, n_rows: int) -> None:
        """Create the FAISS structure for ``n_rows`` rows at once, before the first
        :meth:`add`, so that growing past ``hash_threshold`` needs no rebuild on the way."""
        if self._index is not None:
            raise InvalidArgumentError("reserve() must come before the first add()")
        self._index = self._new_index(n_rows)

    def _new_index(self, n_expected: int) -> Any:
        faiss = _faiss()
        if n_expected < self.hash_threshold:
            return faiss.IndexBinaryFlat(64)
        index = faiss.IndexBinaryMultiHash(64, self.nhash, 64 // self.nhash)
        index.nflip = self.nflip
        return index

    def _add_codes(self, codes: np.ndarray) -> None:
        if self._index is None and len(codes):
            self._index = self._new_index(len(codes))
        elif self._index is not None and self.kind == "flat" and self.ntotal >= self.hash_threshold:
            # grown past the flat regime: rebuild as multi-index hashing over everything
            everything = self.frame_codes[self.row_frame, self.row_variant]
            self._index = self._new_index(len(everything))
            self._index.add(_as_bytes(everything))
            return
        if len(codes):
            self._index.add(_as_bytes(codes))

    # -- querying ------------------------------------------------------------------------------

    def search(self, codes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """k nearest rows of each uint64 query: ``(distances int32 (m, k), rows int64 (m, k))``;
        missing neighbours have row -1."""
        codes = np.asarray(codes, dtype=np.uint64).reshape(-1)
        if self._index is None or self.ntotal == 0 or len(codes) == 0:
            return (np.full((len(codes), k), 65, np.int32), np.full((len(codes), k), -1, np.int64))
        d, i = self._index.search(_as_bytes(codes), int(k))
        return d.astype(np.int32), i.astype(np.int64)

    def source_track(self, source_id: str) -> tuple[_Source, np.ndarray, np.ndarray]:
        """``(info, codes (n, v), valid (n,))`` of one source, in time order."""
        s = self.sources[source_id]
        sl = slice(s.start, s.start + s.count)
        return s, self.frame_codes[sl], self.frame_valid[sl]

    def source_grid(self, source_id: str) -> np.ndarray:
        """Grid numbers ``round(t * fps)`` of a source's frames (sorted; gaps allowed)."""
        cache = self.__dict__.setdefault("_grids", {})
        if source_id not in cache:
            s = self.sources[source_id]
            t = self.frame_times[s.start : s.start + s.count]
            cache[source_id] = np.rint(t * s.fps).astype(np.int64)
        return cache[source_id]

    def digest(self) -> str:
        """Content hash of the index (sources, codes, parameters): a cache key for alignments."""
        if self._digest is None:
            h = hashlib.sha256()
            h.update(json.dumps(self._meta(), sort_keys=True).encode())
            for arr in (self.frame_times, self.frame_codes, self.frame_valid):
                h.update(np.ascontiguousarray(arr).tobytes())
            self._digest = h.hexdigest()[:32]
        return self._digest

    def _meta(self) -> dict[str, Any]:
        return {
            "version": INDEX_VERSION,
            "variants": self.variants,
            "fp_params": self.fp_params,
            "hash_threshold": self.hash_threshold,
            "nhash": self.nhash,
            "nflip": self.nflip,
            "sources": [asdict(s) for s in self.sources.values()],
        }

    # -- between processes -------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        """The FAISS index as its serialised bytes, so a process pool or Ray's object store
        can carry the whole index (once per worker, not once per derivative)."""
        state = dict(self.__dict__)
        if self._index is not None:
            state["_index"] = np.asarray(_faiss().serialize_index_binary(self._index), np.uint8)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if isinstance(self._index, np.ndarray):
            self._index = _faiss().deserialize_index_binary(self._index)
            if self.kind == "multihash":
                self._index.nflip = self.nflip

    # -- files ---------------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """One ``.npz`` (atomic, deterministic, no pickle) holding the FAISS index bytes."""
        faiss = _faiss()
        blob = (
            faiss.serialize_index_binary(self._index)
            if self._index is not None
            else np.zeros(0, np.uint8)
        )
        return write_npz(
            path,
            {
                "meta": np.array(json.dumps(self._meta(), sort_keys=True)),
                "faiss": np.asarray(blob, dtype=np.uint8),
                "frame_times": self.frame_times,
                "frame_codes": self.frame_codes,
                "frame_valid": self.frame_valid,
                "frame_source": self.frame_source,
                "row_frame": self.row_frame,
                "row_variant": self.row_variant,
            },
        )

    @classmethod
    def load(cls, path: str | Path) -> HashIndex:
        """Read an index written by :meth:`save`."""
        p = Path(path)
        if not p.is_file():
            raise IndexFileError(f"{p}: no such index file")
        try:
            with np.load(p, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                arrays = {k: z[k] for k in z.files if k != "meta"}
        except (OSError, ValueError, KeyError) as e:
            raise IndexFileError(f"{p}: unreadable index file ({e})") from e
        if meta.get("version") != INDEX_VERSION:
            raise IndexFileError(f"{p}: index version {meta.get('version')} != {INDEX_VERSION}")
        idx = cls(
            variants=list(meta["variants"]),
            fp_params=meta["fp_params"],
            hash_threshold=int(meta["hash_threshold"]),
            nhash=int(meta["nhash"]),
            nflip=int(meta["nflip"]),
            sources={s["source_id"]: _Source(**s) for s in meta["sources"]},
            frame_times=arrays["frame_times"],
            frame_codes=arrays["frame_codes"],
            frame_valid=arrays["frame_valid"],
            frame_source=arrays["frame_source"],
            row_frame=arrays["row_frame"],
            row_variant=arrays["row_variant"],
        )
        if len(arrays["faiss"]):
            idx._index = _faiss().deserialize_index_binary(arrays["faiss"])
            if idx.kind == "multihash":
                idx._index.nflip = idx.nflip
        return idx


def build_index(
    fingerprints: Mapping[str, Fingerprint],
    *,
    variants: Sequence[str] | None = None,
    hash_threshold: int = 250_000,
    nflip: int = 1,
    show_progress: bool = False,
) -> HashIndex:
    """Index ``{source_id: fingerprint}``. ``variants`` default: ``full`` and every zoom."""
    fps = list(fingerprints.items())
    if variants is None:
        first = fps[0][1].variants if fps else ["full"]
        variants = [v for v in first if v == "full" or (v.startswith("zoom") and "flip" not in v)]
    params = dict(fps[0][1].params) if fps else {}
    index = HashIndex(
        variants=list(variants), fp_params=params, hash_threshold=hash_threshold, nflip=nflip
    )
    total = sum(int(fp.valid.sum()) for _, fp in fps) * len(variants)
    index.reserve(total)  # the final kind at once, no rebuild on the way
    for sid, fp in tqdm(fps, disable=not show_progress, desc="index", unit="source"):
        index.add(sid, fp)
    return index


def save_index(index: HashIndex, path: str | Path) -> Path:
    """Write ``index`` to ``path`` (see :meth:`HashIndex.save`)."""
    return index.save(path)


def load_index(path: str | Path) -> HashIndex:
    """Read an index written by :func:`save_index`."""
    return HashIndex.load(path)
