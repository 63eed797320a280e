"""The demo's interactive figure: score over time, spans shaded, baselines beside (plotly)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..clips import clip_bounds
from .analysis import Highlights, VideoAnalysis, format_time

__all__ = ["empty_figure", "score_figure"]

_SPAN_COLOUR = "rgba(255, 140, 0, 0.22)"
_BASELINE_COLOURS = ("#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf")


def _steps(values: np.ndarray, duration: float) -> tuple[list[float], list[float], list[str]]:
    """A clip-by-clip step curve: each clip's value from its start to its end, so a click
    anywhere on a clip's step gives its start."""
    bounds = clip_bounds(duration)
    x: list[float] = []
    y: list[float] = []
    text: list[str] = []
    for (start, end), v in zip(bounds, values, strict=True):
        x += [float(start), float(end)]
        y += [float(v), float(v)]
        label = f"{format_time(start)}-{format_time(end)}"
        text += [label, label]
    return x, y, text


def score_figure(
    analysis: VideoAnalysis,
    highlights: Highlights,
    baselines: Mapping[str, np.ndarray] | None = None,
):
    """LTV-HD's clip scores over the film's time with the spans shaded and numbered by rank,
    the threshold dashed, and the chosen baselines' curves on a second [0, 1] axis.

    ``hovermode="x"``: a click anywhere above a clip picks that clip, which the page turns
    into a seek of the player."""
    import plotly.graph_objects as go

    fig = go.Figure()
    x, y, text = _steps(analysis.scores, analysis.duration)
    fig.add_trace(
        go.Scatter(
            x=x, y=y, text=text, mode="lines", name=f"LTV-HD ({analysis.model})",
            line={"color": "#1f77b4", "width": 2},
            hovertemplate="%{text}<br>score %{y:.3f}<extra>LTV-HD</extra>",
        )
    )  # fmt: skip
    for i, (name, values) in enumerate((baselines or {}).items()):
        bx, by, btext = _steps(np.asarray(values), analysis.duration)
        fig.add_trace(
            go.Scatter(
                x=bx, y=by, text=btext, mode="lines", name=name,
                line={"color": _BASELINE_COLOURS[i % len(_BASELINE_COLOURS)], "width": 1.2},
                opacity=0.8, hovertemplate=f"%{{text}}<br>{name} %{{y:.3f}}<extra></extra>",
                yaxis="y2",
            )
        )  # fmt: skip
    for rank_no, sp in enumerate(highlights.spans, start=1):
        fig.add_vrect(
            x0=sp.start, x1=sp.end, fillcolor=_SPAN_COLOUR, line_width=0, layer="below",
            annotation_text=f"#{rank_no}", annotation_position="top left",
        )  # fmt: skip
    fig.add_hline(
        y=highlights.threshold, line_dash="dash", line_color="#d62728", line_width=1,
        annotation_text=f"threshold {highlights.threshold:.2f}",
        annotation_position="bottom right",
    )  # fmt: skip
    fig.update_layout(
        height=340, margin={"l": 60, "r": 60, "t": 40, "b": 45}, hovermode="x",
        xaxis={"title": "time (s): click to jump there", "range": [0, analysis.duration]},
        yaxis={"title": "LTV-HD score", "range": _score_range(analysis.scores,
                                                               highlights.threshold)},
        legend={"orientation": "h", "y": 1.15, "x": 0},
        template="plotly_white",
    )  # fmt: skip
    if baselines:
        fig.update_layout(yaxis2={"title": "baseline score", "overlaying": "y", "side": "right",
                                  "range": [-0.02, 1.02], "showgrid": False})  # fmt: skip
    return fig


def empty_figure(message: str = "Press Find highlights to see the scores"):
    """The plot before a result: the axes and a hint. Shown at page load, it also makes the
    browser load plotly.js then, not after the first result arrives."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": 14, "color": "#888"})  # fmt: skip
    fig.update_layout(
        height=340, margin={"l": 60, "r": 60, "t": 40, "b": 45}, template="plotly_white",
        xaxis={"title": "time (s)", "showticklabels": False},
        yaxis={"title": "LTV-HD score", "showticklabels": False},
    )  # fmt: skip
    return fig


def _score_range(scores: np.ndarray, threshold: float) -> list[float]:
    """The score axis fitted to the film's scores and the threshold: LTV-HD's scores are
    relative within a film, and a fixed [0, 1] axis flattens a curve that spans 0.45-0.55."""
    lo = min(float(np.min(scores)), threshold)
    hi = max(float(np.max(scores)), threshold)
    pad = max(0.1 * (hi - lo), 0.005)
    return [max(0.0, lo - pad), min(1.0, hi + pad)]
