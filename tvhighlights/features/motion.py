"""Video-encoder embeddings per 2-second clip: the paper's motion stream.

LTV-HD pairs CLIP with SlowFast R-50 features for motion. SlowFast is not in transformers, so
the stand-in is VideoMAE fine-tuned on Kinetics-400 (``MCG-NJU/videomae-base-finetuned-
kinetics``, the same training data as the paper's SlowFast), which reads a short clip as
space-time tubelets and so sees motion, not just appearance.

Each clip gives ``config.num_frames`` frames (16 for VideoMAE-base: the view runs at 8 fps,
so the model sees the whole 2 seconds at close to its training stride of 4 frames at 30 fps),
picked with :func:`~tvhighlights.features.base.sample_indices`, so a shorter last clip
repeats frames. They go through the checkpoint's image processor (VideoMAEImageProcessor:
shortest edge then centre crop) and the encoder. The feature is the encoder's clip-level
representation, the same vector its Kinetics classifier reads (as SlowFast features are the
pooled vector before its classifier):

- a ``VideoMAEForVideoClassification`` checkpoint with mean pooling (the default):
  ``fc_norm(mean of the last hidden states)``;
- any other VideoMAE checkpoint (``VideoMAEModel``, ``VideoMAEForPreTraining``): the mean
  of the last hidden states (already layer-normed when the config has no mean pooling).

``dims = hidden_size`` (768 for the base model). ``frame_size`` works as in the clip
extractor: ``"auto"`` decodes 16:9 frames whose height is the processor's shortest edge.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import InvalidArgumentError
from ..video import FrameView
from .base import ClipInput, ExtractorError, register_extractor, sample_indices
from .hf import HFExtractor, frames_fps, load_processor, parse_frame_size

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_MOTION_MODEL", "MotionExtractor"]

DEFAULT_MOTION_MODEL = "MCG-NJU/videomae-base-finetuned-kinetics"
"""VideoMAE-base fine-tuned on Kinetics-400: the stand-in for the paper's SlowFast R-50."""

VIEW = "frames"


@register_extractor("motion")
class MotionExtractor(HFExtractor):
    """VideoMAE clip embeddings (see the module doc)."""

    version = 1
    what = "video model"
    option = "motion.model"

    def __init__(
        self,
        model: str | Path = DEFAULT_MOTION_MODEL,
        *,
        device: str = "cpu",
        batch_size: int = 8,
        dtype: str | torch.dtype | None = "auto",
        frame_size: tuple[int, int] | str | None = "auto",
    ) -> None:
        super().__init__(model, device=device, batch_size=batch_size, dtype=dtype)
        cfg = self.config
        if cfg.model_type != "videomae":
            raise ExtractorError(
                f"{self.what} {self.model_name} has model_type {cfg.model_type!r}; the motion "
                f"extractor takes a VideoMAE checkpoint (model_type videomae)"
            )
        archs = list(getattr(cfg, "architectures", None) or [])
        self._head = (
            "fc_norm"
            if "VideoMAEForVideoClassification" in archs and cfg.use_mean_pooling
            else "mean"
        )
        self.num_frames = int(cfg.num_frames)
        self._dim = int(cfg.hidden_size)
        self.processor = load_processor(
            self.model_name, kind="image", what=self.what, option=self.option
        )
        self.frame_size = parse_frame_size(frame_size, self.processor)

    @property
    def views(self) -> dict[str, FrameView]:
        return {VIEW: FrameView(frames_fps(self.num_frames), self.frame_size, grey=False)}

    def settings(self) -> dict[str, Any]:
        return {
            **self._model_settings(),
            "head": self._head,
            "frames_per_clip": self.num_frames,
            "frame_size": list(self.frame_size) if self.frame_size else None,
            "processor": type(self.processor).__name__,
        }

    def _load_model(self) -> torch.nn.Module:
        from transformers import VideoMAEForVideoClassification, VideoMAEModel

        if self._head == "fc_norm":
            return self._load(VideoMAEForVideoClassification)
        return self._load(VideoMAEModel)

    def _embed(self, pixel_values: torch.Tensor) -> torch.Tensor:
        model = self.model
        encoder = model.videomae if self._head == "fc_norm" else model
        hidden = encoder(pixel_values=self._to_device(pixel_values)).last_hidden_state
        pooled = hidden.mean(dim=1)
        return model.fc_norm(pooled) if self._head == "fc_norm" else pooled

    def extract(self, clips: Sequence[ClipInput]) -> dict[str, np.ndarray]:
        """One ``visual`` row per clip from ``num_frames`` frames spread over it."""
        out = np.zeros((len(clips), self._dim), dtype=np.float32)
        for lo in range(0, len(clips), self.batch_size):
            chunk = clips[lo : lo + self.batch_size]
            videos = []
            for clip in chunk:
                frames = clip.frames[VIEW]
                if frames.ndim != 4 or frames.shape[-1] != 3:
                    raise InvalidArgumentError(
                        f"clip {clip.index}: expected RGB frames (n, H, W, 3), got {frames.shape}"
                    )
                videos.append([frames[i] for i in sample_indices(len(frames), self.num_frames)])
            pixels = self.processor(videos, return_tensors="pt", input_data_format="channels_last")[
                "pixel_values"
            ]
            with self._guard(), torch.inference_mode():
                emb = self._embed(pixels)
            out[lo : lo + len(chunk)] = emb.float().cpu().numpy()
        return {"visual": out}
