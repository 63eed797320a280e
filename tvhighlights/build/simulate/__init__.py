"""Simulated derivative clips: re-uploads of source-film spans with known ground truth.

The TVHighlights labels count how often people re-upload spans of a film as short
"derivative" clips. Real re-uploads cannot be shipped, so this module makes look-alikes from
real films with PyAV and numpy (no ffmpeg binary): cut spans, transform them the way uploaders
do (re-encode, off-centre crop, centred zoom, mirror, vertical 9:16 over black or a blurred
copy, captions, colour grading, speed change, picture-in-picture; several at once in ``mixed``
and ``combo``; a different one per span in ``compilation``), join them with hard cuts and
encode H.264 + AAC. Because the simulator
knows exactly which source seconds land where, its ground truth lets the fingerprint alignment
be tested and benchmarked, and the quickstart gets a derivative corpus offline.

Everything random is drawn from a ``numpy.random.Generator`` seeded per derivative (from the
corpus seed and the clip id), so a seed fixes every span and parameter. x264 runs on one
thread without macroblock-tree rate control (see :mod:`tvhighlights.video.writer`) and FFmpeg's
AAC encoder is deterministic, so the video bytes repeat too.

Ground truth segment times are exact: a segment of ``n`` output frames at ``fps`` lasts
``n / fps`` seconds of the derivative and shows source times ``source_start + k * speed / fps``
(``k < n``), so ``source_end - source_start == speed * (deriv_end - deriv_start)``. The source end
may differ from the requested span end by less than one output frame.

Modules: :mod:`.params` draws a derivative's parameters, :mod:`.transforms` turns them into
frames, :mod:`.derivative` makes one clip and its ground truth, :mod:`.corpus` a whole corpus
with its manifest.
"""

from __future__ import annotations

from ...errors import SimulationError
from ._common import AUDIO_RATE, DEFAULT_CRF, FAMILIES, LANDSCAPE_WIDTH, PRESET, SPAN_TRANSFORMS
from .corpus import (
    SimulationResult,
    choose_spans,
    read_ground_truth,
    simulate_derivatives,
    simulate_from_manifest,
)
from .derivative import SimulatedDerivative, simulate_derivative
from .params import draw_params

__all__ = [
    "AUDIO_RATE",
    "DEFAULT_CRF",
    "FAMILIES",
    "LANDSCAPE_WIDTH",
    "PRESET",
    "SPAN_TRANSFORMS",
    "SimulatedDerivative",
    "SimulationError",
    "SimulationResult",
    "choose_spans",
    "draw_params",
    "read_ground_truth",
    "simulate_derivative",
    "simulate_derivatives",
    "simulate_from_manifest",
]
