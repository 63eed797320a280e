"""The whole prediction job for one video, or several (``tvhighlights predict``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..clips import CLIP_SECONDS
from ..video import VideoInfo, probe
from .model import build_extractors, encode_video, load_model, model_device, predict, split_features
from .outputs import Prediction, output_path, write_prediction
from .plots import plot_highlight_scores
from .reel import reel_spans, write_reel
from .spans import check_span_options, default_threshold, highlight_spans

if TYPE_CHECKING:
    from ..models.ltvhd import LTVHDModel

logger = logging.getLogger(__name__)

__all__ = ["ScoredVideo", "predict_video", "predict_videos", "score_video"]


@dataclass
class ScoredVideo:
    """One video's clip scores and what was learnt about the file on the way."""

    info: VideoInfo
    scores: np.ndarray
    """float32 ``(num_clips,)`` in [0, 1]."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds: ``encode`` (decode + features), ``predict`` (the model)."""
    features: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    """Each of the model's extractors' features: ``{name: {modality: (num_clips, D)}}``."""


def score_video(
    path: str | Path,
    model: LTVHDModel,
    *,
    device: str | None = None,
    batch_size: int | None = None,
    show_progress: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ScoredVideo:
    """Probe, encode (one decode, the model's extractors) and score one video: the expensive
    part of prediction, which the demo caches and re-ranks without redoing.

    ``progress(done, total)`` receives clip counts while the video is encoded.
    """
    device = device or str(model_device(model))
    info = probe(path)
    t = time.perf_counter()
    extractors = build_extractors(model, device=device, batch_size=batch_size)
    feats = encode_video(
        path,
        model,
        show_progress=show_progress,
        progress=progress,
        extractors=extractors,
    )
    timings = {"encode": time.perf_counter() - t}
    t = time.perf_counter()
    scores = predict(model, feats)
    timings["predict"] = time.perf_counter() - t
    return ScoredVideo(info=info, scores=scores, timings=timings,
                       features=split_features(feats, extractors))  # fmt: skip


def predict_video(
    path: str | Path,
    model: LTVHDModel | str | Path,
    *,
    video_id: str | None = None,
    out_json: str | Path | None = None,
    plot: str | Path | None = None,
    reel: str | Path | None = None,
    threshold: float | None = None,
    top_n: int | None = 5,
    min_seconds: float = CLIP_SECONDS,
    merge_gap: float = 0.0,
    fade: float | None = None,
    reel_seconds: float | None = None,
    device: str | None = None,
    batch_size: int | None = None,
    show_progress: bool = False,
) -> Prediction:
    """The whole prediction job for one video (``tvhighlights predict``).

    ``model`` is a loaded :class:`LTVHDModel` or a folder / Hub id for :func:`load_model`.
    Decodes the video once with the model's extractors, scores every clip, finds the spans
    (:func:`highlight_spans` with ``threshold``, ``min_seconds``, ``top_n``, ``merge_gap``)
    and writes what is asked: ``out_json`` (:func:`write_prediction`), ``plot`` (PNG of the
    scores with the spans shaded), ``reel`` (mp4 of the spans in time order,
    :func:`tvhighlights.inference.reel.write_reel`; ``fade`` seconds, its default when ``None``;
    at most ``reel_seconds`` long, :func:`~.reel.reel_spans`). ``video_id`` defaults to the
    file's stem. ``device`` runs the extractors and the model
    there (default: where a loaded model already is; CPU for one loaded here).
    """
    check_span_options(top_n=top_n, min_seconds=min_seconds, merge_gap=merge_gap)
    reel_spans([], reel_seconds)  # checks the length before any decoding
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if not hasattr(model, "config"):
        model = load_model(model, device=device or "cpu")
        timings["load"] = time.perf_counter() - t0
    elif device is not None:
        model.to(device)
    path = Path(path)
    vid = video_id or path.stem
    scored = score_video(path, model, batch_size=batch_size, show_progress=show_progress)
    info, scores = scored.info, scored.scores
    timings.update(scored.timings)
    used = default_threshold(scores) if threshold is None else float(threshold)
    spans = highlight_spans(
        scores,
        duration=info.duration,
        threshold=threshold,
        min_seconds=min_seconds,
        top_n=top_n,
        merge_gap=merge_gap,
    )
    name = getattr(model, "name_or_path", None) or None
    pred = Prediction(
        video_id=vid,
        path=str(path),
        duration=float(info.duration),
        scores=scores,
        spans=spans,
        threshold=used,
        model_name=str(name) if name else None,
        timings=timings,
    )
    if out_json is not None:
        t = time.perf_counter()
        pred.json_path = write_prediction(
            out_json,
            vid,
            path,
            scores,
            spans,
            model_name=pred.model_name,
            duration=info.duration,
            threshold=used,
        )
        timings["json"] = time.perf_counter() - t
    if plot is not None:
        t = time.perf_counter()
        pred.plot_path = plot_highlight_scores(
            scores,
            spans,
            plot,
            title=f"{vid}: highlight scores",
            threshold=used,
            duration=info.duration,
        )
        timings["plot"] = time.perf_counter() - t
    if reel is not None:
        t = time.perf_counter()
        kwargs = {} if fade is None else {"fade": fade}
        pieces = reel_spans(spans, reel_seconds)
        pred.reel_path = write_reel(path, pieces, reel, show_progress=show_progress, **kwargs)
        timings["reel"] = time.perf_counter() - t
    logger.info(
        "%s: %d clips scored, %d highlight spans (threshold %.3f): %s",
        path,
        pred.num_clips,
        len(spans),
        used,
        ", ".join(f"{sp.start:.0f}-{sp.end:.0f} s ({sp.score:.2f})" for sp in spans),
    )
    return pred


def predict_videos(
    videos: Sequence[tuple[str, str | Path]],
    model: LTVHDModel | str | Path,
    *,
    out_json: str | Path | None = None,
    plot: str | Path | None = None,
    reel: str | Path | None = None,
    submission: str | Path | None = None,
    threshold: float | None = None,
    top_n: int | None = 5,
    min_seconds: float = CLIP_SECONDS,
    reel_seconds: float | None = None,
    device: str | None = None,
    show_progress: bool = False,
) -> list[Prediction]:
    """:func:`predict_video` for each ``(video_id, path)``, with the model loaded once.

    With one video ``out_json``, ``plot`` and ``reel`` are the files to write; with several
    they are folders, holding ``<id>.highlights.json``, ``<id>.highlights.png`` and
    ``<id>.reel.mp4`` (:func:`~.outputs.output_path`). ``submission`` also writes every
    video's scores as one ``tvhighlights eval`` submission.
    """
    from ..evaluation.submission import write_submission

    check_span_options(top_n=top_n, min_seconds=min_seconds)
    reel_spans([], reel_seconds)
    several = len(videos) > 1
    if not hasattr(model, "config"):
        model = load_model(model, device=device or "cpu")
    predictions = []
    for vid, path in videos:
        predictions.append(
            predict_video(
                path,
                model,
                video_id=vid,
                out_json=output_path(out_json, vid, ".highlights.json", several),
                plot=output_path(plot, vid, ".highlights.png", several),
                reel=output_path(reel, vid, ".reel.mp4", several),
                threshold=threshold,
                top_n=top_n,
                min_seconds=min_seconds,
                reel_seconds=reel_seconds,
                device=device,
                show_progress=show_progress,
            )
        )
    if submission is not None:
        write_submission(submission, {p.video_id: p.scores for p in predictions})
    return predictions
