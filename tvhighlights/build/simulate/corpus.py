"""A whole simulated corpus: spans chosen per clip, clips encoded (in a pool), the derivatives
manifest and the ground truth written."""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ...errors import InputFormatError, SimulationError
from ...fileio import atomic_write, write_jsonl
from ...samples import sample_path
from ...video import probe
from ._common import (
    FAMILIES,
    OFF_TOPIC_TITLES,
    PLATFORMS,
    PathLike,
    Span,
    clip_title,
    film_name,
    pick,
    rng_for,
)
from .derivative import SimulatedDerivative, simulate_derivative
from .params import check_family

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SimulationResult:
    """What :func:`simulate_derivatives` wrote."""

    out_dir: Path
    manifest: Path
    """``derivatives.csv``: ``clip_id,path,title,platform,engagement`` (paths relative)."""
    ground_truth: Path
    """``ground_truth.jsonl``: one :meth:`SimulatedDerivative.to_dict` line per clip."""
    derivatives: tuple[SimulatedDerivative, ...] = field(default_factory=tuple)

    @property
    def videos(self) -> list[Path]:
        """Paths of the written mp4 files."""
        return [d.path for d in self.derivatives]


# --------------------------------------------------------------------------------------------
# Small helpers


def choose_spans(
    rng: np.random.Generator,
    duration: float,
    count: int,
    span_seconds: tuple[float, float] = (3.0, 15.0),
    *,
    popular_spans: Sequence[Span] = (),
    popular_prob: float = 0.0,
) -> list[Span]:
    """``count`` non-overlapping spans inside ``[0, duration]``, sorted by start.

    With probability ``popular_prob`` a span is one of ``popular_spans`` (its ends jittered by
    up to 1 s, as uploaders cut slightly differently), so some scenes are reused more often.
    """
    lo, hi = float(span_seconds[0]), float(span_seconds[1])
    if not (0 < lo <= hi):
        raise SimulationError(f"span_seconds: {span_seconds!r} must be 0 < min <= max")
    if duration < lo:
        raise SimulationError(f"span_seconds: source ({duration:.1f} s) shorter than {lo} s")
    chosen: list[Span] = []
    for _ in range(200 * max(1, count)):
        if len(chosen) >= count:
            break
        if popular_spans and rng.random() < popular_prob:
            a, b = popular_spans[int(rng.integers(len(popular_spans)))]
            a = a + rng.uniform(-1.0, 1.0)
            b = b + rng.uniform(-1.0, 1.0)
            a, b = max(0.0, a), min(duration, b)
        else:
            length = rng.uniform(lo, min(hi, duration))
            a = rng.uniform(0.0, duration - length)
            b = a + length
        a, b = round(float(a), 2), round(float(b), 2)
        if b - a < 0.5 or b > duration:
            continue
        if any(a < y and x < b for x, y in chosen):
            continue
        chosen.append((a, b))
    if len(chosen) < count:
        raise SimulationError(f"spans_per_clip: cannot fit {count} spans in {duration:.1f} s")
    return sorted(chosen)


def pick_platform(rng: np.random.Generator, vertical: bool) -> str:
    if vertical:
        return str(pick(rng, ("tiktok", "youtube", "instagram", "tiktok")))
    return str(pick(rng, PLATFORMS))


def simulate_derivatives(
    sources: Mapping[str, PathLike],
    out_dir: PathLike,
    *,
    families: Sequence[str] = FAMILIES,
    per_family: int = 3,
    spans_per_clip: tuple[int, int] = (1, 3),
    span_seconds: tuple[float, float] = (3.0, 15.0),
    seed: int = 0,
    titles: Mapping[str, str] | None = None,
    popular_spans: Mapping[str, Sequence[Span]] | Sequence[Span] | None = None,
    popular_prob: float = 0.5,
    off_topic: int = 0,
    off_topic_source: PathLike | None = None,
    pip_background: PathLike | None = None,
    fps: float | None = None,
    num_workers: int = 1,
    show_progress: bool = True,
) -> SimulationResult:
    """Simulate ``per_family`` derivatives per family and source into ``out_dir``.

    Writes ``videos/<clip_id>.mp4``, ``derivatives.csv`` (the build's derivatives manifest,
    paths relative to it) and ``ground_truth.jsonl``. A seed fixes every span and parameter.
    ``titles`` maps source ids to film names used in the clip titles (default: the id).
    ``popular_spans`` (one list for every source, or per source id) are reused with
    probability ``popular_prob`` per span. ``off_topic`` clips come from ``off_topic_source``
    (default: the cached ``iscc_mp4`` live-music sample) with off-topic titles and no segments.
    A ``compilation`` has 3-4 spans (at least ``spans_per_clip``), each at most half
    ``span_seconds``' longest, so it lasts about as long as the other clips.
    ``pip``'s background is ``pip_background``, else the off-topic video, else another source;
    a flat colour when there is none. ``num_workers > 1`` encodes clips in a process pool
    (same output: every clip depends only on the seed and its id).
    """

    if not sources:
        raise SimulationError("sources: no source videos given")
    for f in families:
        check_family(f)
    if per_family < 0 or off_topic < 0:
        raise SimulationError("per_family/off_topic: counts must be >= 0")
    kmin, kmax = int(spans_per_clip[0]), int(spans_per_clip[1])
    if not (1 <= kmin <= kmax):
        raise SimulationError(f"spans_per_clip: {spans_per_clip!r} must be 1 <= min <= max")
    out = Path(out_dir)
    videos = out / "videos"
    videos.mkdir(parents=True, exist_ok=True)
    infos = {sid: probe(p) for sid, p in sources.items()}
    off_path: Path | None = None
    if off_topic:
        off_path = sample_path("iscc_mp4") if off_topic_source is None else Path(off_topic_source)
        off_info = probe(off_path)

    # plan every clip first (cheap, deterministic), then encode
    jobs: list[dict[str, Any]] = []
    for sid, path in sources.items():
        info = infos[sid]
        film = (titles or {}).get(sid) or film_name(sid)
        if isinstance(popular_spans, Mapping):
            pop = list(popular_spans.get(sid, ()))
        else:
            pop = list(popular_spans or ())
        others = [Path(p) for s, p in sources.items() if s != sid]
        bg = (
            Path(pip_background)
            if pip_background is not None
            else off_path or (others[0] if others else None)
        )
        for family in families:
            for j in range(per_family):
                clip_id = f"{sid}_{family}_{j:02d}"
                rng = rng_for(seed, clip_id)
                if family == "compilation":  # 3-4 spans, each at most half as long
                    k = int(rng.integers(max(3, kmin), max(4, kmax) + 1))
                    lo, hi = float(span_seconds[0]), float(span_seconds[1])
                    seconds = (lo, max(lo, hi / 2))
                else:
                    k = int(rng.integers(kmin, kmax + 1))
                    seconds = span_seconds
                spans = choose_spans(
                    rng,
                    info.duration,
                    k,
                    seconds,
                    popular_spans=pop,
                    popular_prob=popular_prob,
                )
                platform = pick_platform(rng, family == "vertical")
                n_pop = sum(any(a < y and x < b for x, y in pop) for a, b in spans)
                engagement = int(rng.lognormal(8.0 + 0.8 * n_pop, 1.2))
                jobs.append(
                    dict(clip_id=clip_id, path=Path(path), source_id=sid, spans=spans,
                         family=family, title=clip_title(rng, film, platform), platform=platform,
                         engagement=engagement, background=bg)
                )  # fmt: skip
    if off_topic and off_path is not None:
        for j in range(off_topic):
            clip_id = f"offtopic_{j:02d}"
            rng = rng_for(seed, clip_id)
            family = str(pick(rng, ("reencode", "crop", "colour", "hflip")))
            spans = choose_spans(rng, off_info.duration, 1, span_seconds)
            jobs.append(
                dict(clip_id=clip_id, path=off_path, source_id=None, spans=spans, family=family,
                     title=str(pick(rng, OFF_TOPIC_TITLES)),
                     platform=str(pick(rng, PLATFORMS)),
                     engagement=int(rng.lognormal(6.0, 1.5)), background=None)
            )  # fmt: skip

    def call(job: dict[str, Any]) -> tuple[Callable[..., SimulatedDerivative], tuple, dict]:
        args = (job["path"], job["source_id"], job["spans"], videos / f"{job['clip_id']}.mp4")
        kw = dict(family=job["family"], seed=seed, fps=fps, title=job["title"],
                  background=job["background"], platform=job["platform"],
                  engagement=job["engagement"])  # fmt: skip
        return simulate_derivative, args, kw

    made: list[SimulatedDerivative] = []
    with tqdm(total=len(jobs), disable=not show_progress, unit="clip", desc="simulate") as bar:
        if num_workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                fn, args, kw = call(job)
                made.append(fn(*args, **kw))
                bar.update(1)
        else:
            # one clip per task; x264 threads itself, so a couple of workers fill a small machine
            with ProcessPoolExecutor(max_workers=num_workers) as pool:
                futures = [pool.submit(fn, *args, **kw) for fn, args, kw in map(call, jobs)]
                try:
                    for fut in as_completed(futures):
                        fut.result()
                        bar.update(1)
                except BaseException:
                    for fut in futures:
                        fut.cancel()
                    raise
                made = [f.result() for f in futures]

    manifest = out / "derivatives.csv"
    with atomic_write(manifest) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["clip_id", "path", "title", "platform", "engagement"])
        for d in made:
            rel = d.path.relative_to(out).as_posix()
            w.writerow([d.clip_id, rel, d.title, d.platform, d.engagement])
    gt = out / "ground_truth.jsonl"
    rows = []
    for d in made:
        row = d.to_dict()
        row["path"] = d.path.relative_to(out).as_posix()
        row["platform"], row["engagement"] = d.platform, d.engagement
        rows.append(row)
    write_jsonl(gt, rows)
    logger.info("simulated %d derivatives into %s", len(made), out)
    return SimulationResult(
        out_dir=out, manifest=manifest, ground_truth=gt, derivatives=tuple(made)
    )


def read_ground_truth(path: PathLike) -> list[dict[str, Any]]:
    """The lines of a ``ground_truth.jsonl`` (paths stay relative to its folder)."""
    from tvhighlights.fileio import read_jsonl_objects

    rows, problems = read_jsonl_objects(path)
    for lineno, row in rows:
        for key in ("clip_id", "family", "segments"):
            if key not in row:
                problems.append(f"line {lineno}: missing {key!r}")
    if problems:
        raise InputFormatError(path, problems, what="simulation ground truth")
    return [row for _, row in rows]


def simulate_from_manifest(
    sources_manifest: PathLike,
    out_dir: PathLike,
    *,
    families: Sequence[str] | None = None,
    **options: Any,
) -> tuple[SimulationResult, list[str]]:
    """:func:`simulate_derivatives` for the sources of a manifest (their titles name the film
    in the clip titles); returns the result and the manifest's problems (rows skipped).

    ``options`` are :func:`simulate_derivatives`' (``per_family``, ``off_topic``, ``seed``,
    ``num_workers``, ``show_progress``, ...).
    """
    from ..manifest import read_sources

    entries, problems = read_sources(sources_manifest)
    if not entries:
        raise SimulationError(f"{sources_manifest}: no usable source", param="sources")
    result = simulate_derivatives(
        {e.video_id: e.path for e in entries},
        out_dir,
        titles={e.video_id: e.title for e in entries},
        families=tuple(families) if families else FAMILIES,
        **options,
    )
    return result, problems
