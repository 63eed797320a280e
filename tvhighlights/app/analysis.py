"""What the demo computes for one upload and model, cached, and how it re-ranks (no gradio).

Scoring a video (decode, features, the model) is the expensive part and happens once per
(file contents, model); the controls of the page (threshold, number of spans, shortest span,
reel length) only re-rank the cached scores (:func:`rank`), and a reel or a JSON file is cut
once per distinct choice of spans (:func:`write_outputs`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..clips import CLIP_SECONDS
from ..errors import PredictionError
from ..fileio import file_digest
from ..inference import (
    HighlightSpan,
    check_span_options,
    default_threshold,
    highlight_spans,
    reel_spans,
    score_video,
    write_prediction,
    write_reel,
)
from ..video import probe

if TYPE_CHECKING:
    from ..models.ltvhd import LTVHDModel

logger = logging.getLogger(__name__)

__all__ = [
    "AnalysisCache",
    "Controls",
    "Highlights",
    "VideoAnalysis",
    "analyse_video",
    "baseline_scores",
    "format_time",
    "rank",
    "span_rows",
    "write_outputs",
]

Progress = Callable[[float, str], None]
"""``progress(fraction, stage)``: what a page's progress bar shows."""


def format_time(seconds: float) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour): how a person reads a position in a film."""
    s = max(0, round(float(seconds)))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


@dataclass
class VideoAnalysis:
    """One video scored by one model: the cached part of a demo result."""

    key: str
    name: str
    """The file's name, as uploaded."""
    path: str
    sha256: str
    duration: float
    has_audio: bool
    model: str
    """The model's label."""
    scores: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)
    baselines: dict[str, np.ndarray] = field(default_factory=dict)
    """Training-free baselines' curves, computed when first shown."""
    cues: dict[str, np.ndarray] | None = None
    """The handcrafted extractor's features when the model reads them (the baselines' curves
    then need no second decode)."""

    @property
    def num_clips(self) -> int:
        return int(self.scores.size)


class AnalysisCache:
    """The last ``max_items`` analyses by (file sha256, model key), shared by all sessions."""

    def __init__(self, max_items: int = 32) -> None:
        self.max_items = max_items
        self._items: OrderedDict[str, VideoAnalysis] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> VideoAnalysis | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, analysis: VideoAnalysis) -> None:
        with self._lock:
            self._items[analysis.key] = analysis
            self._items.move_to_end(analysis.key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def analysis_key(sha256: str, model_key: str) -> str:
    return hashlib.sha256(f"{sha256}|{model_key}".encode()).hexdigest()[:20]


def analyse_video(
    path: str | Path,
    model: LTVHDModel,
    *,
    model_key: str,
    model_label: str,
    cache: AnalysisCache | None = None,
    name: str | None = None,
    max_duration: float | None = None,
    progress: Progress | None = None,
) -> VideoAnalysis:
    """Score one video with one model, or take the cached scores of the same bytes.

    Checks first that the file is a video (:class:`~tvhighlights.errors.VideoOpenError`
    naming it) and not longer than ``max_duration`` (:class:`PredictionError`), then decodes
    and scores it (:func:`tvhighlights.inference.score_video`), reporting the stages to
    ``progress``.
    """
    report = progress or (lambda fraction, stage: None)
    path = Path(path)
    name = name or path.name
    report(0.0, "decode: reading the file")
    t0 = time.perf_counter()
    info = probe(path)  # VideoOpenError naming the file when it is not a video
    if max_duration is not None and info.duration > max_duration:
        raise PredictionError(
            f"{name}: the video lasts {format_time(info.duration)}, longer than this demo's "
            f"limit of {format_time(max_duration)} (its max_duration setting)"
        )
    sha = file_digest(path)
    key = analysis_key(sha, model_key)
    cached = cache.get(key) if cache is not None else None
    if cached is not None:
        logger.info("%s: scores of %s cached (%s)", name, model_label, key)
        return cached
    probe_seconds = time.perf_counter() - t0

    def on_clips(done: int, total: int) -> None:
        report(0.05 + 0.85 * done / max(total, 1), f"decode + features: clip {done} / {total}")

    scored = score_video(path, model, progress=on_clips)
    report(0.92, "scoring")
    analysis = VideoAnalysis(
        key=key,
        name=name,
        path=str(path),
        sha256=sha,
        duration=float(scored.info.duration),
        has_audio=bool(scored.info.has_audio),
        model=model_label,
        scores=scored.scores,
        timings={"check": probe_seconds, **scored.timings},
        cues=scored.features.get("handcrafted"),
    )
    if cache is not None:
        cache.put(analysis)
    return analysis


def baseline_scores(analysis: VideoAnalysis, name: str) -> np.ndarray:
    """A training-free baseline's curve for the analysed video, computed once and kept."""
    if name not in analysis.baselines:
        from tvhighlights.baselines.video_files import score_file

        features = {"handcrafted": analysis.cues} if analysis.cues is not None else None
        scores = score_file(name, analysis.path, analysis.name, features=features,
                            has_audio=analysis.has_audio)  # fmt: skip
        analysis.baselines[name] = scores.astype(np.float64)
    return analysis.baselines[name]


@dataclass(frozen=True)
class Controls:
    """The page's re-ranking controls."""

    threshold: float | None = None
    """``None``: the film's own ``mean + std``."""
    top_n: int = 5
    min_seconds: float = CLIP_SECONDS
    reel_seconds: float | None = 60.0

    def __post_init__(self) -> None:
        check_span_options(top_n=self.top_n, min_seconds=self.min_seconds)
        reel_spans([], self.reel_seconds)


@dataclass(frozen=True)
class Highlights:
    """Spans of an analysis under some controls, and the reel's pieces."""

    spans: list[HighlightSpan]
    threshold: float
    reel: list[tuple[float, float]]

    @property
    def reel_seconds(self) -> float:
        return float(sum(b - a for a, b in self.reel))


def rank(analysis: VideoAnalysis, controls: Controls) -> Highlights:
    """Spans of the cached scores under ``controls``: no decoding, no model."""
    spans = highlight_spans(
        analysis.scores,
        duration=analysis.duration,
        threshold=controls.threshold,
        min_seconds=controls.min_seconds,
        top_n=controls.top_n,
    )
    used = default_threshold(analysis.scores) if controls.threshold is None else controls.threshold
    return Highlights(spans=spans, threshold=float(used),
                      reel=reel_spans(spans, controls.reel_seconds))  # fmt: skip


SPAN_COLUMNS = ["#", "start (s)", "end (s)", "time", "length (s)", "mean score", "peak"]
"""The span table's header; selecting a row seeks to its ``start (s)`` (column 1)."""


def span_rows(highlights: Highlights) -> list[list]:
    """One table row per span, best first."""
    return [
        [i + 1, round(sp.start, 2), round(sp.end, 2),
         f"{format_time(sp.start)}-{format_time(sp.end)}", round(sp.duration, 2),
         round(sp.score, 3), round(sp.peak, 3)]
        for i, sp in enumerate(highlights.spans)
    ]  # fmt: skip


def _digest(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:12]


def write_outputs(
    analysis: VideoAnalysis,
    highlights: Highlights,
    out_dir: str | Path,
    *,
    progress: Progress | None = None,
) -> tuple[Path, Path]:
    """The JSON of the prediction and the reel for these spans, written once each.

    Files are named by what they hold, so two sessions asking for the same spans share them
    and one asking for others never overwrites theirs; both are written atomically.
    """
    folder = Path(out_dir) / analysis.key
    folder.mkdir(parents=True, exist_ok=True)
    stem = Path(analysis.name).stem or "video"
    pieces = [(round(a, 3), round(b, 3)) for a, b in highlights.reel]
    spans = [sp.to_dict() for sp in highlights.spans]
    tag = _digest({"spans": spans, "threshold": round(highlights.threshold, 6)})
    json_path = folder / f"{stem}.highlights-{tag}.json"
    if not json_path.exists():
        write_prediction(
            json_path,
            stem,
            analysis.name,
            analysis.scores,
            highlights.spans,
            model_name=analysis.model,
            duration=analysis.duration,
            threshold=highlights.threshold,
            extra={"reel": [list(p) for p in pieces]},
        )
    reel_path = folder / f"{stem}.reel-{_digest(pieces)}.mp4"
    if not reel_path.exists():
        if progress is not None:
            progress(0.95, f"reel: cutting {len(pieces)} pieces")
        t = time.perf_counter()
        write_reel(analysis.path, pieces, reel_path)
        analysis.timings["reel"] = time.perf_counter() - t
    return json_path, reel_path
