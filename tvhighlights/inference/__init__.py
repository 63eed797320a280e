"""Prediction with LTV-HD: any video -> per-clip scores -> highlight spans -> JSON, plot, reel.

The chain, one function per step so each can be used (and tested) alone::

    model = load_model("runs/ltvhd-s1")              # LTVHDModel.from_pretrained, safetensors only
    feats = encode_video("film.mp4", model)          # the extractors named in model.config
    scores = predict(model, feats)                   # float32 (num_clips,) in [0, 1]
    spans = highlight_spans(scores, duration=d)      # merged, filtered, top-N HighlightSpans

or all at once: ``predict_video("film.mp4", model, out_json=..., plot=..., reel=...)``.

Modules: :mod:`.model` (load, extractors, encode, score), :mod:`.spans` (scores to spans,
pure numpy), :mod:`.outputs` (JSON, submission lines, output names), :mod:`.plots` (the score
plot), :mod:`.reel` (the highlight reel), :mod:`.pipeline` (the whole job). Scores live on the
project's one 2-second grid (:mod:`tvhighlights.clips`), so the same scores also make a
``tvhighlights eval`` submission (:func:`prediction_to_submission_row`).
"""

from __future__ import annotations

from ..errors import PredictionError
from .model import build_extractors, encode_video, load_model, predict
from .outputs import Prediction, output_path, prediction_to_submission_row, write_prediction
from .pipeline import ScoredVideo, predict_video, predict_videos, score_video
from .plots import plot_highlight_scores
from .reel import DEFAULT_FADE, reel_spans, write_reel
from .spans import HighlightSpan, check_span_options, default_threshold, highlight_spans

__all__ = [
    "DEFAULT_FADE",
    "HighlightSpan",
    "Prediction",
    "PredictionError",
    "ScoredVideo",
    "build_extractors",
    "check_span_options",
    "default_threshold",
    "encode_video",
    "highlight_spans",
    "load_model",
    "output_path",
    "plot_highlight_scores",
    "predict",
    "predict_video",
    "predict_videos",
    "prediction_to_submission_row",
    "reel_spans",
    "score_video",
    "write_prediction",
    "write_reel",
]
