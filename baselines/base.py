"""The one interface every baseline implements, and the inputs it gets.

A baseline is fitted once on the train split (:meth:`Baseline.fit`; many do nothing) and then
scores one video's clips from its stored features (:meth:`Baseline.score`): one number per clip
of the 2-second grid, higher meaning more of a highlight. Nothing else: the leaderboard, the CLI
and the benchmarks time, write and evaluate the scores the same way for every method.

Inputs are :class:`BaselineVideo` (a dataset row with its features, kept per extractor so a
baseline can ask for CLIP's embeddings or the handcrafted cues by name) and
:class:`BaselineData` (a split's videos plus where they came from, for baselines that train
through the library's own trainers).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from tqdm.auto import tqdm

from tvhighlights.errors import BaselineInputError

__all__ = [
    "MODALITIES",
    "Baseline",
    "BaselineData",
    "BaselineVideo",
    "PaperFigure",
]

MODALITIES = ("visual", "audio")
"""The feature modalities a store holds (every extractor gives one or both)."""


@dataclass(frozen=True, eq=False)
class BaselineVideo:
    """One dataset row with its features, per extractor."""

    video_id: str
    num_clips: int
    features: Mapping[str, Mapping[str, np.ndarray]]
    """Extractor name -> modality -> float32 ``(num_clips, D)``, in extraction order."""
    has_audio: bool = True
    title: str = ""
    genre: str | None = None
    labels: np.ndarray | None = None
    """int ``(num_clips,)``: the split's clip labels (votes in train, people in test)."""
    votes: np.ndarray | None = None
    """int ``(num_clips,)``: how many derivatives reused each clip (train rows of a build)."""
    video_label: int | None = None
    categories: Sequence[str | None] | None = None
    start: float = 0.0
    """Seconds into ``video_path`` where the row begins (a window of a source)."""
    video_path: str | None = None

    def modality(self, name: str, extractors: Sequence[str] | None = None) -> np.ndarray:
        """``name`` ("visual" or "audio") features of every extractor (or of those named),
        side by side; width 0 when none gives it. Audio is zeros where the video has none."""
        names = list(self.features) if extractors is None else list(extractors)
        parts = [self.features[e][name] for e in names if name in self.features.get(e, {})]
        if not parts:
            return np.zeros((self.num_clips, 0), dtype=np.float32)
        return np.concatenate(parts, axis=1).astype(np.float32, copy=False)

    def width(self, name: str) -> int:
        """Columns of ``name`` features over every extractor (no copy, unlike :meth:`modality`)."""
        return sum(b[name].shape[1] for b in self.features.values() if name in b)

    @property
    def visual(self) -> np.ndarray:
        return self.modality("visual")

    @property
    def audio(self) -> np.ndarray:
        return self.modality("audio")


@dataclass
class BaselineData:
    """A split's videos and where they came from."""

    videos: list[BaselineVideo]
    split: str
    dataset: Path | None = None
    features: Path | None = None
    extractors: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Extractor name -> its description in the store (``key``, ``settings``, ``dims``)."""

    def __len__(self) -> int:
        return len(self.videos)

    @property
    def num_clips(self) -> int:
        return sum(v.num_clips for v in self.videos)


@dataclass(frozen=True)
class PaperFigure:
    """A number a paper reports for its own method on its own dataset (quoted, never ours)."""

    dataset: str
    metric: str
    value: float
    source: str
    """Where in the paper (seed and table)."""


class Baseline(ABC):
    """A highlight scorer: :meth:`fit` on train rows (may do nothing), :meth:`score` a video.

    Subclasses set ``description``, ``requires`` (what :meth:`check` enforces: ``"visual"``,
    ``"audio"``, ``"title"`` or an extractor's name such as ``"clip"``), ``supervised`` (fit
    reads the train labels), ``paper`` and ``paper_figures``. The registry gives each instance
    its ``name`` (one class may serve several rows, e.g. a visual-only variant).
    """

    name: str = ""
    description: ClassVar[str] = ""
    requires: tuple[str, ...] = ()
    supervised: bool = False
    paper: ClassVar[str] = ""
    paper_figures: tuple[PaperFigure, ...] = ()

    def fit(
        self, train: BaselineData, *, work_dir: Path | None = None, show_progress: bool = False
    ) -> Baseline:
        """Learn from the train split; the default learns nothing. ``work_dir`` is a folder the
        baseline may write into (checkpoints, caches); returns ``self``."""
        return self

    @abstractmethod
    def score(self, video: BaselineVideo) -> np.ndarray:
        """float ``(video.num_clips,)``: higher means more of a highlight."""

    def score_many(
        self, videos: Sequence[BaselineVideo], *, show_progress: bool = False
    ) -> dict[str, np.ndarray]:
        """Every video's scores (``{video_id: scores}``); baselines that batch override it."""
        out = {}
        for v in tqdm(videos, desc=f"score {self.name}", unit="video", disable=not show_progress):
            self.check(v)
            out[v.video_id] = self.checked_scores(v, self.score(v))
        return out

    # -- validation ------------------------------------------------------------------------------

    def check(self, video: BaselineVideo) -> None:
        """Raise :class:`BaselineInputError` naming the baseline and what ``video`` lacks."""
        for need in self.requires:
            if need == "title":
                if not (video.title or "").strip():
                    raise BaselineInputError(
                        f"baseline {self.name!r} needs the video's title, but video "
                        f"{video.video_id!r} has none (the dataset's 'title' column is empty)"
                    )
            elif need in MODALITIES:
                if video.width(need) == 0:
                    raise BaselineInputError(
                        f"baseline {self.name!r} needs {need} features, but video "
                        f"{video.video_id!r} has none (extractors: "
                        f"{', '.join(video.features) or 'none'}); extract them with an "
                        f"extractor that gives {need} features"
                    )
            elif need not in video.features:
                raise BaselineInputError(
                    f"baseline {self.name!r} needs the {need!r} extractor's features, but "
                    f"video {video.video_id!r} has only {', '.join(video.features) or 'none'}; "
                    f"run `tvhighlights extract --extractors {need}` first"
                )

    def checked_scores(self, video: BaselineVideo, scores: Any) -> np.ndarray:
        """``scores`` as float64, after checking there is one finite number per clip."""
        s = np.asarray(scores, dtype=np.float64).reshape(-1)
        if s.shape[0] != video.num_clips:
            raise BaselineInputError(
                f"baseline {self.name!r} gave {s.shape[0]} scores for video "
                f"{video.video_id!r}, which has {video.num_clips} clips"
            )
        if not np.isfinite(s).all():
            raise BaselineInputError(
                f"baseline {self.name!r} gave non-finite scores for video {video.video_id!r}"
            )
        return s

    def __repr__(self) -> str:
        return f"<baseline {self.name}>"
