"""Prediction with LTV-HD: any video -> per-clip scores -> highlight spans -> JSON, plot, reel.

The chain, one function per step so each can be used (and tested) alone::

    model = load_model("runs/ltvhd-s1")              # LTVHDModel.from_pretrained, safetensors only
    feats = encode_video("film.mp4", model)          # the extractors named in model.config
    scores = predict(model, feats)                   # float32 (num_clips,) in [0, 1]
    spans = highlight_spans(scores, duration=d)      # merged, filtered, top-N HighlightSpans

or all at once: ``predict_video("film.mp4", model, out_json=..., plot=..., reel=...)``.

Scores live on the project's one 2-second grid (:mod:`tvhighlights.clips`), so the same scores
also make a ``tvhighlights eval`` submission (:func:`prediction_to_submission_row`).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .clips import CLIP_SECONDS, MIN_LAST_CLIP_SECONDS, clip_bounds, num_clips
from .errors import TVHighlightsError
from .fileio import write_json

if TYPE_CHECKING:  # torch and transformers load only when a model is used
    from .features import FeatureExtractor
    from .models.ltvhd import LTVHDConfig, LTVHDModel

logger = logging.getLogger(__name__)

__all__ = [
    "HighlightSpan",
    "Prediction",
    "PredictionError",
    "build_extractors",
    "default_threshold",
    "encode_video",
    "highlight_spans",
    "load_model",
    "predict",
    "predict_video",
    "prediction_to_submission_row",
    "write_prediction",
]

_EPS = 1e-9


class PredictionError(TVHighlightsError):
    """A model or a video cannot be used for prediction; the message names the file at fault."""


# --------------------------------------------------------------------------------------------
# The model and its extractors


def _config_of(model_or_config: LTVHDModel | LTVHDConfig) -> LTVHDConfig:
    return getattr(model_or_config, "config", model_or_config)


def load_model(name_or_path: str | Path, device: str = "cpu") -> LTVHDModel:
    """Load LTV-HD weights (a folder written by ``save_pretrained`` or a Hub id), in eval mode.

    Only safetensors are read (never a pickle). A folder without ``config.json`` or weights,
    with corrupt files, or with weights that do not fit the config is a
    :class:`PredictionError` naming the folder: a half-loaded model would score at random.
    """
    from safetensors import SafetensorError

    from .models.ltvhd import LTVHDModel

    p = Path(name_or_path).expanduser()
    where = str(p) if p.exists() else str(name_or_path)
    if p.exists():
        if not p.is_dir():
            raise PredictionError(
                f"{where}: not a model folder (expected a folder with "
                "config.json and model.safetensors)"
            )
        cfg = p / "config.json"
        if not cfg.is_file():
            raise PredictionError(f"{where}: not an LTV-HD model folder: no config.json")
        try:
            model_type = json.loads(cfg.read_text(encoding="utf-8")).get("model_type")
        except (OSError, UnicodeError, ValueError, AttributeError) as e:
            raise PredictionError(f"{where}: config.json is unreadable or corrupt ({e})") from e
        if model_type != "ltvhd":
            raise PredictionError(
                f"{where}: config.json is for model_type {model_type!r}, not an LTV-HD model"
            )
        if not any(p.glob("*.safetensors")) and not any(p.glob("*.safetensors.index.json")):
            raise PredictionError(
                f"{where}: no model weights (model.safetensors) in the folder; "
                "was training interrupted before save_pretrained?"
            )
    elif p.is_absolute() or where.startswith((".", "~")) or where.count("/") > 1:
        raise PredictionError(f"{where}: no such model folder")
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a bar for a 1 MB model is noise
    try:
        model, info = LTVHDModel.from_pretrained(
            where, use_safetensors=True, output_loading_info=True
        )
    except SafetensorError as e:
        raise PredictionError(f"{where}: the weights file is corrupt or truncated ({e})") from e
    except RuntimeError as e:
        if "mismatched" in str(e):
            raise PredictionError(
                f"{where}: the weights do not fit its config.json (tensor shapes differ: "
                "files from different models?)"
            ) from e
        raise PredictionError(f"{where}: cannot load the LTV-HD model ({e})") from e
    except (OSError, ValueError, KeyError) as e:
        raise PredictionError(f"{where}: cannot load the LTV-HD model ({e})") from e
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    bad = sorted(info.get("missing_keys") or []) + sorted(info.get("mismatched_keys") or [])
    if bad or info.get("error_msgs"):
        shown = ", ".join(map(str, bad[:5])) + (" ..." if len(bad) > 5 else "")
        raise PredictionError(
            f"{where}: the weights do not match the model's config "
            f"(missing or mismatched: {shown or info.get('error_msgs')}); the folder is "
            "incomplete or corrupt"
        )
    model.to(device)
    model.eval()
    logger.info("loaded LTV-HD from %s (extractors: %s)", where, model.config.extractors)
    return model


def build_extractors(
    config: LTVHDModel | LTVHDConfig, device: str = "cpu", batch_size: int | None = None
) -> list[FeatureExtractor]:
    """The extractors the model was trained with, rebuilt from its config, in its order.

    ``device`` and ``batch_size`` do not change features and override the training run's.
    A rebuilt extractor whose cache key is not among ``config.extractor_keys`` computes
    different features than training did (another checkpoint, other settings): that is logged
    as a warning, since scores may then be off; an empty ``extractor_keys`` skips the check.
    """
    from .features import get_extractor

    config = _config_of(config)
    names = list(config.extractors or [])
    if not names:
        raise PredictionError("the model's config names no feature extractors")
    known = set(config.extractor_keys or [])
    all_options = config.extractor_options or {}
    out = []
    for name in names:
        options = dict(all_options.get(name) or {})
        options["device"] = device
        if batch_size is not None:
            options["batch_size"] = int(batch_size)
        else:
            options.pop("batch_size", None)
        ext = get_extractor(name, **options)
        if known and ext.key not in known:
            logger.warning(
                "extractor %r now has key %s, which is not among the model's training keys "
                "(%s): its features differ from those the model was trained on",
                name,
                ext.key,
                ", ".join(sorted(known)),
            )
        out.append(ext)
    return out


# --------------------------------------------------------------------------------------------
# Features and scores


def encode_video(
    path: str | Path,
    model_or_config: LTVHDModel | LTVHDConfig,
    *,
    device: str = "cpu",
    batch_size: int | None = None,
    show_progress: bool = False,
) -> dict[str, np.ndarray]:
    """Features of one video with the model's own extractors (one decode for all of them).

    Returns ``{"visual": (n, Dv), "audio": (n, Da), "audio_mask": (n,)}``. A video shorter
    than one clip of the grid has nothing to score: :class:`PredictionError` naming the file.
    """
    from .features import encode_video as _encode
    from .video import probe

    extractors = build_extractors(model_or_config, device=device, batch_size=batch_size)
    feats = _encode(path, extractors, show_progress=show_progress)  # probes and decodes once
    if len(feats["audio_mask"]) == 0:
        raise PredictionError(
            f"{path}: the video lasts {probe(path).duration:.2f} s, shorter than one clip: "
            f"prediction needs at least {MIN_LAST_CLIP_SECONDS:g} s (clips are "
            f"{CLIP_SECONDS:g} s; a final partial clip counts from {MIN_LAST_CLIP_SECONDS:g} s)"
        )
    return feats


def _model_device(model: Any) -> Any:
    try:
        return next(model.parameters()).device
    except StopIteration:  # pragma: no cover - LTV-HD always has parameters
        return "cpu"


def predict(
    model: LTVHDModel, features: Mapping[str, np.ndarray], *, device: str | None = None
) -> np.ndarray:
    """Per-clip highlight scores in [0, 1]: float32 ``(num_clips,)``.

    The whole video goes through in one pass (LTRM's attention is local, so cost and memory
    grow linearly with the number of clips). Feature widths are checked against the model's
    config first, since features from other extractors would give meaningless scores.
    ``device`` (default: where the model is) moves the model there.
    """
    import torch

    cfg = model.config
    extractors = ", ".join(cfg.extractors or []) or "none recorded"
    if "visual" not in features:
        raise PredictionError("features have no 'visual' array")
    visual = np.asarray(features["visual"], dtype=np.float32)
    n = visual.shape[0] if visual.ndim == 2 else -1
    audio = features.get("audio")
    audio = None if audio is None else np.asarray(audio, dtype=np.float32)
    dv = visual.shape[1] if visual.ndim == 2 else None
    da = audio.shape[1] if audio is not None and audio.ndim == 2 else 0
    if (
        visual.ndim != 2
        or dv != cfg.visual_dim
        or (cfg.audio_dim > 0 and audio is not None and da != cfg.audio_dim)
    ):
        raise PredictionError(
            f"feature widths do not fit the model: got visual {dv if dv is not None else '?'}"
            f" and audio {da}, the model expects visual_dim {cfg.visual_dim} and audio_dim "
            f"{cfg.audio_dim} (its extractors: {extractors}); encode the video with the "
            "model's own extractors (tvhighlights.inference.encode_video(path, model))"
        )
    if audio is not None and audio.shape[0] != n:
        raise PredictionError(
            f"features disagree on the clip count: visual {n}, audio {audio.shape[0]}"
        )
    if n == 0:
        raise PredictionError("features have 0 clips: nothing to score")
    if not np.isfinite(visual).all() or (audio is not None and not np.isfinite(audio).all()):
        raise PredictionError("features contain NaN or infinite values")
    mask = features.get("audio_mask")
    amask = None
    if mask is not None:
        m = np.asarray(mask).astype(bool).reshape(-1)
        if m.size == 1:
            m = np.full(n, bool(m[0]))
        if m.shape[0] != n:
            raise PredictionError(f"audio_mask has {m.shape[0]} entries for {n} clips")
        amask = m

    if device is not None:
        model.to(device)
    dev = _model_device(model)
    dtype = next(model.parameters()).dtype
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            v = torch.from_numpy(visual).to(device=dev, dtype=dtype)[None]
            a = None
            am = None
            if cfg.audio_dim > 0 and audio is not None:
                a = torch.from_numpy(audio).to(device=dev, dtype=dtype)[None]
                if amask is not None:
                    am = torch.from_numpy(amask).to(device=dev)[None]
            attention = torch.ones(1, n, dtype=torch.bool, device=dev)
            out = model(
                visual_features=v, audio_features=a, attention_mask=attention, audio_mask=am
            )
            scores = out.scores[0].float().cpu().numpy().astype(np.float32)
    finally:
        model.train(was_training)
    return scores


# --------------------------------------------------------------------------------------------
# Spans


@dataclass(frozen=True)
class HighlightSpan:
    """One highlight: ``[start, end)`` seconds covering clips ``[clip_start, clip_end)``."""

    start: float
    end: float
    score: float
    """Mean of the span's clip scores (what spans are ranked by)."""
    peak: float
    """Highest clip score inside the span."""
    clip_start: int
    clip_end: int
    """Exclusive."""

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("start", "end", "score", "peak"):
            d[k] = round(float(d[k]), 6)
        return d


def default_threshold(scores: np.ndarray) -> float:
    """The threshold :func:`highlight_spans` uses when none is given: ``mean + std``.

    Relative to the film, because LTV-HD's clip scores are trained through a video-level MIL
    loss and are not calibrated across films: what stands out *within* a film is its
    highlights. For roughly normal scores this keeps the top ~16 % of clips (the trailer of
    the sample film reuses 9 % of it); a flat score curve (std 0) selects nothing.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.size == 0:
        return math.inf
    return float(s.mean() + s.std())


def _check_scores(scores: Any, duration: float | None) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1:
        raise ValueError(f"scores must be 1-D (one per clip), got shape {s.shape}")
    if not np.isfinite(s).all():
        raise ValueError("scores contain NaN or infinite values")
    n = s.size
    if duration is None:
        bounds = np.stack([np.arange(n) * CLIP_SECONDS, np.arange(1, n + 1) * CLIP_SECONDS], 1)
        bounds = bounds.reshape(n, 2).astype(np.float64)
    else:
        if num_clips(duration) != n:
            raise ValueError(
                f"{n} scores for a video of {float(duration):.2f} s, which has "
                f"{num_clips(duration)} clips"
            )
        bounds = clip_bounds(duration)
    return s, bounds


def _span(s: np.ndarray, bounds: np.ndarray, i: int, j: int) -> HighlightSpan:
    part = s[i:j]
    return HighlightSpan(
        start=float(bounds[i, 0]),
        end=float(bounds[j - 1, 1]),
        score=float(part.mean()),
        peak=float(part.max()),
        clip_start=int(i),
        clip_end=int(j),
    )


def _min_clips(min_seconds: float) -> int:
    """``min_seconds`` in whole clips of the grid (rounded up; at least one)."""
    return max(1, math.ceil(float(min_seconds) / CLIP_SECONDS - 1e-9))


def _best_window(s: np.ndarray, bounds: np.ndarray, k: int) -> HighlightSpan:
    """The ``k`` consecutive clips with the highest mean score (earliest on ties); the whole
    video when it has fewer than ``k`` clips."""
    n = s.size
    if n <= k:
        return _span(s, bounds, 0, n)
    csum = np.concatenate([[0.0], np.cumsum(s)])
    means = (csum[k:] - csum[:-k]) / k
    i = int(np.flatnonzero(means >= means.max() - 1e-12)[0])
    return _span(s, bounds, i, i + k)


def highlight_spans(
    scores: Sequence[float] | np.ndarray,
    *,
    duration: float | None = None,
    threshold: float | None = None,
    min_seconds: float = CLIP_SECONDS,
    top_n: int | None = 5,
    merge_gap: float = 0.0,
    fallback: bool = True,
) -> list[HighlightSpan]:
    """Highlight spans from per-clip scores, best first.

    1. a clip is *in* when its score is ``>= threshold`` (default :func:`default_threshold`,
       ``mean + std`` of the film's scores);
    2. runs of consecutive in-clips become spans; two spans whose gap is at most
       ``merge_gap`` seconds become one (the clips of the gap join it and count in its mean);
    3. spans of fewer than ``min_seconds`` worth of clips are dropped: ``min_seconds`` is
       rounded up to whole clips of the grid, and a final partial clip counts as a clip
       (default one clip: none is dropped);
    4. spans are sorted by mean clip score, highest first (earlier start first on ties) and
       the first ``top_n`` kept (``None``: all).

    When no span survives and ``fallback`` is true (the default), the result is the one run of
    that many consecutive clips with the highest mean score (the earliest on ties; the whole
    video when it is shorter), so that a film always gets a highlight; with
    ``fallback=False`` the result is then empty.

    Times come from the grid: pass ``duration`` so the last (possibly shorter) clip ends at
    the video's end; without it every clip lasts :data:`CLIP_SECONDS`. Pure numpy.
    """
    s, bounds = _check_scores(scores, duration)
    if top_n is not None and int(top_n) < 1:
        raise ValueError(f"top_n must be >= 1 or None, got {top_n!r}")
    if not math.isfinite(float(min_seconds)) or min_seconds < 0:
        raise ValueError(f"min_seconds must be a finite number >= 0, got {min_seconds!r}")
    if not math.isfinite(float(merge_gap)) or merge_gap < 0:
        raise ValueError(f"merge_gap must be a finite number >= 0, got {merge_gap!r}")
    n = s.size
    if n == 0:
        return []
    if threshold is None:
        flat = float(s.std()) < 1e-9
        inside = np.zeros(n, dtype=bool) if flat else s >= default_threshold(s) - 1e-12
    else:
        if not math.isfinite(float(threshold)):
            raise ValueError(f"threshold must be a finite number, got {threshold!r}")
        inside = s >= float(threshold)

    runs: list[list[int]] = []  # [first clip, end clip (exclusive)]
    i = 0
    while i < n:
        if not inside[i]:
            i += 1
            continue
        j = i
        while j < n and inside[j]:
            j += 1
        if runs and bounds[i, 0] - bounds[runs[-1][1] - 1, 1] <= merge_gap + _EPS:
            runs[-1][1] = j
        else:
            runs.append([i, j])
        i = j

    spans = [_span(s, bounds, a, b) for a, b in runs]
    k = _min_clips(min_seconds)
    spans = [sp for sp in spans if sp.clip_end - sp.clip_start >= k]
    if not spans and fallback:
        spans = [_best_window(s, bounds, k)]
    spans.sort(key=lambda sp: (-sp.score, sp.start))
    return spans if top_n is None else spans[: int(top_n)]


# --------------------------------------------------------------------------------------------
# Outputs


def prediction_to_submission_row(
    video_id: str, scores: Sequence[float] | np.ndarray
) -> dict[str, Any]:
    """The ``tvhighlights eval`` submission line for one video (the format and rounding of
    :func:`tvhighlights.submission.write_submission`); write many with ``write_jsonl`` or
    pass ``{video_id: scores}`` to ``write_submission`` directly."""
    from .submission import submission_row

    return submission_row(video_id, scores)


def write_prediction(
    path: str | Path,
    video_id: str,
    video_path: str | Path | None,
    scores: Sequence[float] | np.ndarray,
    spans: Sequence[HighlightSpan],
    *,
    model_name: str | None = None,
    duration: float | None = None,
    threshold: float | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write a prediction as JSON, atomically: what a person, a player or the demo reads.

    Keys: ``video_id``, ``path``, ``model``, ``duration``, ``num_clips``, ``clip_seconds``,
    ``threshold``, ``scores`` (one per clip, the submission's ``scores``), ``spans`` (dicts
    of :class:`HighlightSpan`, best first), plus ``extra``.
    """
    row = prediction_to_submission_row(video_id, scores)
    n = len(row["scores"])
    if duration is not None and num_clips(duration) != n:
        raise ValueError(
            f"{n} scores for a video of {duration:.2f} s ({num_clips(duration)} clips)"
        )
    obj: dict[str, Any] = {
        "video_id": video_id,
        "path": None if video_path is None else str(video_path),
        "model": model_name,
        "duration": None if duration is None else round(float(duration), 6),
        "num_clips": n,
        "clip_seconds": CLIP_SECONDS,
        "threshold": None if threshold is None else round(float(threshold), 6),
        "scores": row["scores"],
        "spans": [sp.to_dict() for sp in spans],
    }
    if extra:
        obj.update(extra)
    return write_json(path, obj)


@dataclass
class Prediction:
    """Everything :func:`predict_video` produced for one video."""

    video_id: str
    path: str
    duration: float
    scores: np.ndarray
    spans: list[HighlightSpan]
    threshold: float
    model_name: str | None = None
    json_path: Path | None = None
    plot_path: Path | None = None
    reel_path: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per step: ``load``, ``encode``, ``predict``, ``json``, ``plot``, ``reel``."""

    @property
    def num_clips(self) -> int:
        return int(self.scores.size)

    def submission_row(self) -> dict[str, Any]:
        """This video's line of a ``tvhighlights eval`` submission."""
        return prediction_to_submission_row(self.video_id, self.scores)

    def to_dict(self) -> dict[str, Any]:
        return {
            "video_id": self.video_id,
            "path": self.path,
            "model": self.model_name,
            "duration": self.duration,
            "num_clips": self.num_clips,
            "threshold": self.threshold,
            "scores": [float(x) for x in self.scores],
            "spans": [sp.to_dict() for sp in self.spans],
            "outputs": {
                "json": None if self.json_path is None else str(self.json_path),
                "plot": None if self.plot_path is None else str(self.plot_path),
                "reel": None if self.reel_path is None else str(self.reel_path),
            },
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


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
    :func:`tvhighlights.reel.write_reel`; ``fade`` seconds, its default when ``None``).
    ``video_id`` defaults to the file's stem. ``device`` runs the extractors and the model
    there (default: where a loaded model already is; CPU for one loaded here).
    """
    from .video import probe

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if not hasattr(model, "config"):
        model = load_model(model, device=device or "cpu")
        timings["load"] = time.perf_counter() - t0
    elif device is not None:
        model.to(device)
    device = str(_model_device(model))
    path = Path(path)
    vid = video_id or path.stem
    info = probe(path)

    t = time.perf_counter()
    feats = encode_video(
        path, model, device=device, batch_size=batch_size, show_progress=show_progress
    )
    timings["encode"] = time.perf_counter() - t
    t = time.perf_counter()
    scores = predict(model, feats)
    timings["predict"] = time.perf_counter() - t
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
        from .plots import plot_highlight_scores

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
        from .reel import write_reel

        t = time.perf_counter()
        kwargs = {} if fade is None else {"fade": fade}
        pred.reel_path = write_reel(path, spans, reel, show_progress=show_progress, **kwargs)
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
