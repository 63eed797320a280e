"""LTV-HD itself as leaderboard rows: a trained model folder, or stage 1 (MIL) trained here.

``mil`` trains LTV-HD's stage 1 (:func:`tvhighlights.training.train_stage1`: multiple-instance
learning from video labels only) on the train split with the trainer's defaults, which are the
seed's; nothing is adapted. :class:`LTVHDBaseline` scores with any saved LTV-HD (stage 1 or
stage 2, ``tvhighlights leaderboard --model PATH``), through
:func:`tvhighlights.inference.predict`, the function ``tvhighlights predict`` uses.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from tvhighlights.errors import BaselineInputError

from .base import Baseline, BaselineData, BaselineVideo, PaperFigure

logger = logging.getLogger(__name__)

__all__ = ["LTVHDBaseline", "MILBaseline"]


class LTVHDBaseline(Baseline):
    """A saved LTV-HD model folder (or Hub id), scored on the stored features it was trained
    on: the extractors its config names, in its order."""

    description = "a trained LTV-HD model folder"
    requires = ("visual",)
    paper = "seed 000: LTV-HD (TVHighlights)"

    def __init__(self, model: str | Path | None = None, *, device: str = "cpu") -> None:
        self.model_path = model
        self.device = device
        self._model: Any = None

    def fit(
        self, train: BaselineData, *, work_dir: Path | None = None, show_progress: bool = False
    ) -> Baseline:
        if self.model_path is None:
            raise BaselineInputError(f"baseline {self.name!r} needs a model folder (model=PATH)")
        self._load(self.model_path)
        return self

    def _load(self, path: str | Path) -> None:
        from tvhighlights.inference import load_model

        self._model = load_model(path, device=self.device)

    def score(self, video: BaselineVideo) -> np.ndarray:
        from tvhighlights.inference import predict

        if self._model is None:
            self.fit(BaselineData([], "train"))
        names = list(self._model.config.extractors or []) or None
        missing = [n for n in names or [] if n not in video.features]
        if missing:
            raise BaselineInputError(
                f"baseline {self.name!r}: the model was trained on the {', '.join(missing)} "
                f"extractor(s), which video {video.video_id!r} lacks (it has "
                f"{', '.join(video.features) or 'none'})"
            )
        feats = {
            "visual": video.modality("visual", names),
            "audio": video.modality("audio", names),
            "audio_mask": np.full(video.num_clips, video.has_audio),
        }
        return np.asarray(predict(self._model, feats), dtype=np.float64)


class MILBaseline(LTVHDBaseline):
    """LTV-HD stage 1 trained on the train split (``options`` are
    :class:`~tvhighlights.training.Stage1Config` fields; ``hidden_size`` and the other
    :class:`~tvhighlights.models.ltvhd.LTVHDConfig` fields go to the model)."""

    description = "LTV-HD stage 1: multiple-instance learning from video labels"
    supervised = True
    paper_figures = (
        PaperFigure("TVHighlights", "AUC", 87.34, "seed 000, main results: Ours (Stage 1)"),
        PaperFigure("TVHighlights", "AP", 62.39, "seed 000, main results: Ours (Stage 1)"),
    )

    def __init__(self, *, device: str = "cpu", extractors: list[str] | None = None,
                 **options: Any) -> None:  # fmt: skip
        super().__init__(None, device=device)
        from tvhighlights.models.ltvhd import LTVHDConfig
        from tvhighlights.training import Stage1Config

        model_fields = set(LTVHDConfig().to_dict())
        self.model_options = {k: v for k, v in options.items() if k in model_fields}
        rest = {k: v for k, v in options.items() if k not in model_fields}
        self.config = Stage1Config(device=device, model=self.model_options, **rest)
        self.extractors = extractors

    def fit(
        self, train: BaselineData, *, work_dir: Path | None = None, show_progress: bool = False
    ) -> Baseline:
        from tvhighlights.training import train_stage1

        if train.dataset is None or train.features is None:
            raise BaselineInputError(
                f"baseline {self.name!r} trains through the dataset folder and the feature "
                "store; load the train split with load_baseline_data(dataset, features, 'train')"
            )
        with tempfile.TemporaryDirectory(prefix="tvh-mil-") as tmp:
            out = Path(work_dir or tmp) / "ltvhd-stage1"
            result = train_stage1(
                train.dataset,
                train.features,
                out,
                self.config,
                extractors=self.extractors,
                show_progress=show_progress,
            )
            logger.info(
                "%s: best epoch %d (%s %.2f)",
                self.name,
                result.best_epoch,
                result.metric_name,
                result.best_metric,
            )
            self._load(out)
        return self
