"""Run extractors over videos: one decode per file for all of them, cached, resumable, sharded.

Each unique video file is decoded ONCE (:func:`tvhighlights.video.iter_clips` with the union
of the extractors' frame views and audio rates) and every extractor that has no stored output
for that file's content gets its clips in batches. With ``num_workers > 0`` the decoding runs
in worker processes that stay ahead of the extractors (a bounded queue), so a GPU model does
not wait on FFmpeg; the time the main process spends waiting is reported as ``wait_seconds``.

Several processes (``accelerate launch`` / ``torchrun``) split the files between them by
rank; every process writes its own index part, so they never write the same file.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue as queue_module
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..clips import CLIP_SECONDS, num_clips
from ..data.folder import read_split, split_names
from ..distributed import rank_and_world_size, wait_for_everyone
from ..errors import InvalidArgumentError, ReferencesError, VideoOpenError
from ..fileio import file_digest
from ..video import Clip, FrameView, VideoInfo, iter_clips, probe
from .base import ClipInput, FeatureExtractor
from .store import STORAGE_DTYPES, FeatureStore, combine_modalities

logger = logging.getLogger(__name__)

__all__ = [
    "ExtractReport",
    "VideoRequest",
    "extract_features",
    "extract_video",
    "iter_clip_inputs",
    "requests_from_dataset",
    "requests_from_paths",
    "to_clip_inputs",
]


@dataclass(frozen=True)
class VideoRequest:
    """One dataset row to extract: a whole video file, or the window ``[start, end)`` of it."""

    video_id: str
    path: Path
    start: float = 0.0
    end: float | None = None


@dataclass
class ExtractReport:
    """What a run did, with where its time went (decode vs compute, per extractor)."""

    files: int = 0
    extracted: int = 0
    """Files decoded in this run (the others were complete in the store already)."""
    cached: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    """``(path, reason)`` of the files that could not be read; the run went on without them."""
    media_seconds: float = 0.0
    """Seconds of video decoded in this run."""
    decode_seconds: float = 0.0
    """Time spent decoding (summed over the workers when there are some)."""
    compute_seconds: dict[str, float] = field(default_factory=dict)
    """Extractor key -> time spent in its ``extract``."""
    wait_seconds: float = 0.0
    """Time the extractors sat waiting for decoded clips."""
    wall_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "extracted": self.extracted,
            "cached": self.cached,
            "failed": [{"path": p, "reason": r} for p, r in self.failed],
            "media_seconds": round(self.media_seconds, 3),
            "decode_seconds": round(self.decode_seconds, 3),
            "compute_seconds": {k: round(v, 3) for k, v in self.compute_seconds.items()},
            "wait_seconds": round(self.wait_seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
        }


# --------------------------------------------------------------------------------------------
# What to extract


def requests_from_paths(items: Sequence[str]) -> list[VideoRequest]:
    """``[ID=]PATH`` strings (``sample:NAME`` allowed) -> requests; the id defaults to the stem."""
    from ..samples import parse_video_spec

    return [VideoRequest(*parse_video_spec(str(item))) for item in items]


def requests_from_dataset(
    folder: str | Path, splits: Sequence[str] | None = None
) -> list[VideoRequest]:
    """The rows of a dataset folder (all splits, or ``splits``) with their video files."""
    folder = Path(folder)
    data = folder / "data"
    if not data.is_dir():
        raise ReferencesError(folder, ["not a TVHighlights dataset folder (no data/ inside)"])
    names = splits or split_names(folder)
    out: dict[str, VideoRequest] = {}
    for split in names:
        table = read_split(folder, split)
        cols = table.select(["video_id", "video_path", "start", "end"]).to_pylist()
        for row in cols:
            if not row["video_path"]:
                raise ReferencesError(folder, [f"{split}: row {row['video_id']!r} has no path"])
            out[row["video_id"]] = VideoRequest(
                row["video_id"], Path(row["video_path"]), float(row["start"]), float(row["end"])
            )
    return list(out.values())


# --------------------------------------------------------------------------------------------
# Decoding: one pass per file, feeding every extractor


def _plan_views(
    extractors: Sequence[FeatureExtractor],
) -> tuple[dict[str, FrameView], dict[str, dict[str, str]], list[int]]:
    """Union of the extractors' views (identical views decoded once) and audio rates.

    Returns the views to decode (shared name -> view), for each extractor key its own view
    names -> shared names, and the sample rates to resample to.
    """
    shared: dict[FrameView, str] = {}
    mapping: dict[str, dict[str, str]] = {}
    for ext in extractors:
        mapping[ext.key] = {}
        for name, view in ext.views.items():
            if view not in shared:
                shared[view] = f"v{len(shared)}"
            mapping[ext.key][name] = shared[view]
    rates = sorted({ext.audio_rate for ext in extractors if ext.audio_rate})
    return {name: view for view, name in shared.items()}, mapping, rates


def _decode_events(
    job: int,
    path: str,
    views: Mapping[str, FrameView],
    rates: Sequence[int],
    chunk: int,
) -> Iterator[tuple]:
    """Events for one file (which the caller has probed): ``("clips", job, [Clip...],
    seconds)`` chunks, then ``("end", job)``; or ``("error", job, message, reason)`` whenever
    the file turns out unreadable (earlier chunks are then discarded).
    """
    try:
        t0 = time.perf_counter()
        buf: list[Clip] = []
        # a dummy view keeps iter_clips decoding when no extractor reads frames
        want = dict(views) or {"_": FrameView(0.5, (16, 16), grey=True)}
        for clip in iter_clips(path, views=want, audio_rates=list(rates)):
            buf.append(clip)
            if len(buf) >= chunk:
                yield ("clips", job, buf, time.perf_counter() - t0)
                buf = []
                t0 = time.perf_counter()
        yield ("clips", job, buf, time.perf_counter() - t0)
        yield ("end", job)
    except VideoOpenError as e:
        yield ("error", job, str(e), e.reason)


def _decode_worker(
    jobs: Sequence[tuple[int, str]],
    views: Mapping[str, FrameView],
    rates: Sequence[int],
    chunk: int,
    out: Any,
) -> None:
    """Worker process: decode its files and put their events on ``out``; ``None`` when done."""
    try:
        for job, path in jobs:
            for event in _decode_events(job, path, views, rates, chunk):
                out.put(event)
    except BaseException as e:  # report, never hang the consumer
        out.put(("crash", -1, f"{type(e).__name__}: {e}"))
        raise
    finally:
        out.put(None)


def _events(
    jobs: Sequence[tuple[int, str]],
    views: Mapping[str, FrameView],
    rates: Sequence[int],
    chunk: int,
    num_workers: int,
    report: ExtractReport,
) -> Iterator[tuple]:
    """All files' events: decoded inline, or by ``num_workers`` prefetching processes."""
    if num_workers <= 0:
        for job, path in jobs:
            it = _decode_events(job, path, views, rates, chunk)
            while True:
                t0 = time.perf_counter()
                try:
                    event = next(it)
                except StopIteration:
                    break
                report.decode_seconds += time.perf_counter() - t0
                yield event
        return
    ctx = mp.get_context("spawn")  # never fork a process that may hold CUDA or threads
    q = ctx.Queue(maxsize=max(2, 2 * num_workers))
    procs = [
        ctx.Process(
            target=_decode_worker,
            args=(jobs[w::num_workers], dict(views), list(rates), chunk, q),
            daemon=True,
        )
        for w in range(min(num_workers, len(jobs)))
    ]
    for p in procs:
        p.start()
    alive = len(procs)
    try:
        while alive:
            t0 = time.perf_counter()
            try:
                event = q.get(timeout=5.0)
            except queue_module.Empty:
                if not any(p.is_alive() for p in procs):
                    raise RuntimeError("decode workers exited without finishing") from None
                report.wait_seconds += time.perf_counter() - t0
                continue
            report.wait_seconds += time.perf_counter() - t0
            if event is None:
                alive -= 1
                continue
            if event[0] == "crash":
                raise RuntimeError(f"a decode worker crashed: {event[2]}")
            if event[0] == "clips":
                report.decode_seconds += event[3]
            yield event
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join(timeout=5)


# --------------------------------------------------------------------------------------------
# Running the extractors


def _clip_inputs(
    clips: Sequence[Clip], ext: FeatureExtractor, names: Mapping[str, str], has_audio: bool
) -> list[ClipInput]:
    out = []
    for c in clips:
        audio = c.audios.get(ext.audio_rate) if ext.audio_rate else None
        if audio is None:
            length = round(c.end * (ext.audio_rate or 0)) - round(c.start * (ext.audio_rate or 0))
            audio = np.zeros(max(length, 0), dtype=np.float32)
        out.append(
            ClipInput(
                index=c.index,
                start=c.start,
                end=c.end,
                frames={own: c.views[shared][1] for own, shared in names.items()},
                timestamps={own: c.views[shared][0] for own, shared in names.items()},
                audio=audio,
                has_audio=has_audio,
            )
        )
    return out


def to_clip_inputs(
    clips: Sequence[Clip], extractor: FeatureExtractor, has_audio: bool
) -> list[ClipInput]:
    """What the runner hands ``extractor`` for clips decoded with its own views
    (``iter_clips(path, views=extractor.views, audio_rates=[extractor.audio_rate])``)."""
    return _clip_inputs(clips, extractor, {n: n for n in extractor.views}, has_audio)


def iter_clip_inputs(path: str | Path, extractor: FeatureExtractor) -> Iterator[ClipInput]:
    """Decode ``path`` for one extractor and yield, clip by clip, exactly what the runner
    would hand it (for tests, benchmarks and notebooks)."""
    info = probe(path)
    views = extractor.views or {"_": FrameView(0.5, (16, 16), grey=True)}
    rates = [extractor.audio_rate] if extractor.audio_rate else []
    for clip in iter_clips(path, views=views, audio_rates=rates):
        yield from to_clip_inputs([clip], extractor, info.has_audio)


class _FileState:
    """One file being decoded: what it is (from its probe) and the outputs gathered so far."""

    def __init__(self, info: VideoInfo, todo: Sequence[FeatureExtractor]) -> None:
        self.num_clips = info.num_clips
        self.has_audio = info.has_audio
        self.duration = info.duration
        self.todo = list(todo)
        self.parts: dict[str, dict[str, list[np.ndarray]]] = {e.key: {} for e in self.todo}
        self.seen = 0

    def add(self, clips: Sequence[Clip], mapping: Mapping[str, Mapping[str, str]], report) -> None:
        """Run every extractor still to do on a chunk of decoded clips."""
        for ext in self.todo:
            inputs = _clip_inputs(clips, ext, mapping[ext.key], self.has_audio)
            if inputs:
                for modality, arr in _run_extractor(ext, inputs, report).items():
                    self.parts[ext.key].setdefault(modality, []).append(arr)
        self.seen += len(clips)

    def arrays(self, ext: FeatureExtractor) -> dict[str, np.ndarray]:
        """One extractor's whole-file arrays; audio zeroed when the file has no audio track."""
        out = {}
        for modality, width in ext.dims.items():
            chunks = self.parts[ext.key].get(modality, [])
            arr = np.concatenate(chunks) if chunks else np.zeros((0, width), np.float32)
            if arr.shape != (self.num_clips, width):  # pragma: no cover - a bug, not bad input
                raise RuntimeError(f"{ext.key}: {arr.shape[0]} rows for {self.num_clips} clips")
            if modality == "audio" and not self.has_audio:
                arr = np.zeros_like(arr)
            out[modality] = arr
        return out


def _run_extractor(
    ext: FeatureExtractor, inputs: Sequence[ClipInput], report: ExtractReport
) -> dict[str, np.ndarray]:
    t0 = time.perf_counter()
    outs: dict[str, list[np.ndarray]] = {}
    for i in range(0, len(inputs), ext.batch_size):
        batch = inputs[i : i + ext.batch_size]
        got = ext.extract(batch)
        for modality, width in ext.dims.items():
            arr = np.asarray(got.get(modality))
            if arr.shape != (len(batch), width):
                raise InvalidArgumentError(
                    f"extractor {ext.key} returned {modality} of shape {arr.shape}, "
                    f"expected {(len(batch), width)}"
                )
            outs.setdefault(modality, []).append(arr.astype(np.float32, copy=False))
    report.compute_seconds[ext.key] = report.compute_seconds.get(ext.key, 0.0) + (
        time.perf_counter() - t0
    )
    return {m: np.concatenate(v) for m, v in outs.items()}


def extract_features(
    requests: Sequence[VideoRequest],
    extractors: Sequence[FeatureExtractor],
    out: str | Path,
    *,
    num_workers: int = 0,
    dtype: str = "float32",
    rank: int | None = None,
    world_size: int | None = None,
    show_progress: bool = False,
) -> ExtractReport:
    """Extract and store features for ``requests``; files already complete are skipped.

    A file that cannot be read is logged, reported in ``failed`` and skipped; the run goes
    on. ``rank``/``world_size`` (default: the ``RANK``/``WORLD_SIZE`` that ``accelerate launch``
    and ``torchrun`` set) select this process's share of the files.
    """
    if not extractors:
        raise InvalidArgumentError("no extractor given")
    if dtype not in STORAGE_DTYPES:
        raise InvalidArgumentError(
            f"dtype must be one of {sorted(STORAGE_DTYPES)}, got {dtype!r}", param="dtype"
        )
    if len({e.key for e in extractors}) != len(extractors):
        raise InvalidArgumentError("the same extractor is requested twice")
    launched = rank is None and world_size is None
    env_rank, env_size = rank_and_world_size()
    rank = env_rank if rank is None else rank
    world_size = env_size if world_size is None else world_size
    t_start = time.perf_counter()
    store = FeatureStore(out)
    store.root.mkdir(parents=True, exist_ok=True)
    if rank == 0:
        store.record_extractors([e.describe() for e in extractors])
    report = ExtractReport()

    by_file: dict[Path, list[VideoRequest]] = {}
    for r in requests:
        by_file.setdefault(Path(r.path).resolve(), []).append(r)
    files = sorted(by_file)[rank::world_size]
    report.files = len(files)
    part = f"rank{rank:03d}-of-{world_size:03d}"
    keys = [e.key for e in extractors]

    def index_file(path: Path, sha: str, n_file: int, has_audio: bool) -> None:
        entries = []
        for r in by_file[path]:
            offset = round(r.start / CLIP_SECONDS)
            end = r.end if r.end is not None else n_file * CLIP_SECONDS
            n = min(num_clips(end - r.start), n_file - offset)
            entries.append(
                {
                    "video_id": r.video_id,
                    "path": str(path),
                    "sha256": sha,
                    "offset": offset,
                    "num_clips": n,
                    "file_num_clips": n_file,
                    "has_audio": has_audio,
                    "extractors": keys,
                }
            )
        store.append_index(entries, part)

    # which files need decoding, and for which extractors (their probe serves the whole run)
    jobs: list[tuple[int, str]] = []
    pending: dict[int, tuple[Path, str]] = {}
    states: dict[int, _FileState] = {}
    bar = tqdm(total=len(files), unit="video", desc="check", disable=not show_progress)
    for path in files:
        bar.update(1)
        try:
            sha = file_digest(path)
            info = probe(path)
        except (OSError, VideoOpenError) as e:
            reason = str(e) if isinstance(e, VideoOpenError) else f"{path}: {e}"
            logger.warning("skipping %s", reason)
            report.failed.append((str(path), reason))
            continue
        todo = [e for e in extractors if not store.has(e.key, sha, info.num_clips)]
        if not todo:
            index_file(path, sha, info.num_clips, info.has_audio)
            report.cached += 1
            continue
        job = len(jobs)
        jobs.append((job, str(path)))
        pending[job] = (path, sha)
        states[job] = _FileState(info, todo)
    bar.close()

    # the extraction itself, with progress in clips (one long film moves the bar too)
    total = sum(st.num_clips for st in states.values())
    bar = tqdm(total=total, unit="clip", desc="extract", disable=not show_progress)
    views, mapping, rates = _plan_views(extractors)
    chunk = max(e.batch_size for e in extractors)
    try:
        for event in _events(jobs, views, rates, chunk, num_workers, report):
            kind, job = event[0], event[1]
            path, sha = pending[job]
            if kind == "clips":
                states[job].add(event[2], mapping, report)
                bar.update(len(event[2]))
            elif kind == "end":
                state = states.pop(job)
                for ext in state.todo:
                    store.write(
                        ext.key,
                        sha,
                        state.arrays(ext),
                        num_clips=state.num_clips,
                        has_audio=state.has_audio,
                        dtype=dtype,
                    )
                index_file(path, sha, state.num_clips, state.has_audio)
                report.extracted += 1
                report.media_seconds += state.duration
                bar.set_postfix(videos=f"{report.extracted}/{len(jobs)}")
            elif kind == "error":
                state = states.pop(job)
                logger.warning("skipping %s", event[2])
                report.failed.append((str(path), event[2]))
                bar.update(max(0, state.num_clips - state.seen))  # clips it will never deliver
    finally:
        bar.close()
    if launched and world_size > 1:  # the launcher's processes: the last one done is not known
        wait_for_everyone(extractors[0].device)
    if world_size == 1 or rank == 0:
        store.consolidate()
    report.wall_seconds = time.perf_counter() - t_start
    return report


def extract_video(
    path: str | Path,
    extractors: Sequence[FeatureExtractor],
    *,
    show_progress: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, np.ndarray]:
    """Features of one video without a store (what prediction needs).

    Returns ``{"visual": (n, Dv), "audio": (n, Da), "audio_mask": (n,)}`` with the extractors'
    outputs concatenated in the given order, exactly as :func:`load_features` returns them.
    ``progress(done, total)`` is called with clip counts as batches finish (a web page's
    progress bar; ``show_progress`` is the terminal's).
    """
    info = probe(path)  # VideoOpenError naming the file when unreadable
    views, mapping, rates = _plan_views(extractors)
    report = ExtractReport()
    chunk = max(e.batch_size for e in extractors)
    state = _FileState(info, extractors)
    done = 0
    with tqdm(total=state.num_clips, unit="clip", disable=not show_progress) as bar:
        for event in _events([(0, str(path))], views, rates, chunk, 0, report):
            if event[0] == "error":
                raise VideoOpenError(path, event[3])
            if event[0] == "clips":
                state.add(event[2], mapping, report)
                bar.update(len(event[2]))
                done += len(event[2])
                if progress is not None:
                    progress(done, state.num_clips)
    parts: dict[str, list[np.ndarray]] = {}
    for ext in extractors:
        for modality, arr in state.arrays(ext).items():
            parts.setdefault(modality, []).append(arr)
    return combine_modalities(parts, state.num_clips, state.has_audio)
