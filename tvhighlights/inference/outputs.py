"""What a prediction leaves behind: the JSON a person, a player or the demo reads, the
submission line ``tvhighlights eval`` scores, and where each output of several videos goes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..clips import CLIP_SECONDS, num_clips
from ..errors import InvalidArgumentError
from ..evaluation.submission import submission_row
from ..fileio import write_json
from .spans import HighlightSpan

__all__ = ["Prediction", "output_path", "prediction_to_submission_row", "write_prediction"]


def prediction_to_submission_row(
    video_id: str, scores: Sequence[float] | np.ndarray
) -> dict[str, Any]:
    """The ``tvhighlights eval`` submission line for one video (the format and rounding of
    :func:`tvhighlights.evaluation.submission.write_submission`); write many with ``write_jsonl`` or
    pass ``{video_id: scores}`` to ``write_submission`` directly."""
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
        raise InvalidArgumentError(
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


def output_path(base: str | Path | None, video_id: str, suffix: str, several: bool) -> Path | None:
    """Where one video's output goes: ``base`` itself for a single video, else the folder
    ``base`` (created) with ``<video_id><suffix>`` in it; ``None`` when not asked for."""
    if base is None:
        return None
    base = Path(base)
    if not several:
        return base
    base.mkdir(parents=True, exist_ok=True)
    return base / f"{video_id}{suffix}"
