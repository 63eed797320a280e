"""CLIP image embeddings per 2-second clip: the paper's visual appearance stream.

LTV-HD's visual features are CLIP ViT-L/14 embeddings (``openai/clip-vit-large-patch14`` by
default). Each clip gives ``frames_per_clip`` frames (default 4, i.e. 2 fps, spread over the
clip); each frame goes through the checkpoint's own image processor and the vision tower,
and the clip's feature is the mean of its frames' embeddings. With ``normalize=True`` (the
default) each frame embedding is L2-normalised before the mean and the mean again after it,
so clips live on the unit sphere where CLIP's cosine geometry holds and a cut inside a clip
cannot let one frame with a large norm dominate.

Checkpoints (picked by the config's ``model_type`` / ``architectures``):

- ``clip`` (a full CLIPModel, like the default): the projected image embedding, exactly
  ``CLIPModel.get_image_features``; only the vision tower and its projection are loaded
  (``CLIPVisionModelWithProjection``), which skips the text tower's weights.
  ``dims = projection_dim`` (768 for ViT-L/14).
- ``clip_vision_model`` saved as ``CLIPVisionModelWithProjection``: the same projected
  embedding; saved as anything else (``CLIPVisionModel``): the pooled output (the
  post-layernorm CLS token), ``dims = hidden_size``.

Frames are decoded at ``frame_size``: ``"auto"`` is 16:9 with the processor's
``shortest_edge`` as height (398x224 for CLIP), so the processor's resize is a no-op and its
centre crop sees the region it would see in a full-resolution 16:9 frame; ``None`` decodes
at the native size (exact for any aspect ratio, slower); ``(w, h)`` is taken as given.
"""

from __future__ import annotations

import copy
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

__all__ = ["DEFAULT_CLIP_MODEL", "DEFAULT_FRAMES_PER_CLIP", "CLIPExtractor"]

DEFAULT_CLIP_MODEL = "openai/clip-vit-large-patch14"
"""The paper's CLIP ViT-L/14."""

DEFAULT_FRAMES_PER_CLIP = 4
"""Frames per 2-second clip (2 fps): enough to see both sides of a cut inside a clip."""

VIEW = "frames"


def _distinct_frames(
    clips: Sequence[ClipInput], wanted: int
) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct sampled frames of each clip, and for each the clip it belongs to.

    A clip shorter than ``wanted`` frames repeats indices in :func:`sample_indices`; each
    distinct frame counts once, so a short last clip is the plain mean of what it has.
    """
    images: list[np.ndarray] = []
    owner: list[int] = []
    for row, clip in enumerate(clips):
        frames = clip.frames[VIEW]
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise InvalidArgumentError(
                f"clip {clip.index}: expected RGB frames (n, H, W, 3), got {frames.shape}"
            )
        for i in dict.fromkeys(sample_indices(len(frames), wanted).tolist()):
            images.append(frames[i])
            owner.append(row)
    return images, np.asarray(owner, dtype=np.int64)


@register_extractor("clip")
class CLIPExtractor(HFExtractor):
    """CLIP vision embeddings of a few frames per clip, mean-pooled (see the module doc)."""

    version = 1
    what = "CLIP model"
    option = "clip.model"

    def __init__(
        self,
        model: str | Path = DEFAULT_CLIP_MODEL,
        *,
        device: str = "cpu",
        batch_size: int = 16,
        dtype: str | torch.dtype | None = "auto",
        frames_per_clip: int = DEFAULT_FRAMES_PER_CLIP,
        normalize: bool = True,
        frame_size: tuple[int, int] | str | None = "auto",
    ) -> None:
        super().__init__(model, device=device, batch_size=batch_size, dtype=dtype)
        if int(frames_per_clip) < 1:
            raise ExtractorError(f"frames_per_clip must be >= 1, got {frames_per_clip!r}")
        self.frames_per_clip = int(frames_per_clip)
        self.normalize = bool(normalize)
        cfg = self.config
        if cfg.model_type == "clip":
            self._kind = "clip"
            self._dim = int(cfg.projection_dim)
        elif cfg.model_type == "clip_vision_model":
            archs = list(getattr(cfg, "architectures", None) or [])
            self._kind = (
                "vision_projection" if "CLIPVisionModelWithProjection" in archs else "vision"
            )
            self._dim = int(
                cfg.projection_dim if self._kind == "vision_projection" else cfg.hidden_size
            )
        else:
            raise ExtractorError(
                f"{self.what} {self.model_name} has model_type {cfg.model_type!r}; the clip "
                f"extractor takes a CLIP checkpoint (model_type clip or clip_vision_model)"
            )
        self.processor = load_processor(
            self.model_name, kind="image", what=self.what, option=self.option
        )
        self.frame_size = parse_frame_size(frame_size, self.processor)

    # -- interface ------------------------------------------------------------------------------

    @property
    def views(self) -> dict[str, FrameView]:
        return {VIEW: FrameView(frames_fps(self.frames_per_clip), self.frame_size, grey=False)}

    def settings(self) -> dict[str, Any]:
        return {
            **self._model_settings(),
            "head": self._kind,
            "frames_per_clip": self.frames_per_clip,
            "normalize": self.normalize,
            "frame_size": list(self.frame_size) if self.frame_size else None,
            "processor": type(self.processor).__name__,
        }

    def _load_model(self) -> torch.nn.Module:
        from transformers import CLIPVisionModel, CLIPVisionModelWithProjection

        if self._kind == "clip":
            # The vision tower of a full CLIP: its sub-config carries its own projection_dim
            # (512 by default), which must be the top-level one for the projection to load.
            vision = copy.deepcopy(self.config.vision_config)
            vision.projection_dim = self.config.projection_dim
            return self._load(CLIPVisionModelWithProjection, config=vision)
        if self._kind == "vision_projection":
            return self._load(CLIPVisionModelWithProjection)
        return self._load(CLIPVisionModel)

    # -- the work -------------------------------------------------------------------------------

    def _embed(self, pixel_values: torch.Tensor) -> torch.Tensor:
        out = self.model(pixel_values=self._to_device(pixel_values))
        return out.image_embeds if self._kind != "vision" else out.pooler_output

    def extract(self, clips: Sequence[ClipInput]) -> dict[str, np.ndarray]:
        """One ``visual`` row per clip: the (normalised) mean of its frames' embeddings."""
        out = np.zeros((len(clips), self._dim), dtype=np.float32)
        for lo in range(0, len(clips), self.batch_size):
            chunk = clips[lo : lo + self.batch_size]
            images, owner = _distinct_frames(chunk, self.frames_per_clip)
            pixels = self.processor(
                images=images, return_tensors="pt", input_data_format="channels_last"
            )["pixel_values"]
            with self._guard(), torch.inference_mode():
                emb = self._embed(pixels).float()
                if self.normalize:
                    emb = torch.nn.functional.normalize(emb, dim=-1)
                index = torch.from_numpy(owner).to(emb.device)
                sums = torch.zeros(len(chunk), self._dim, device=emb.device).index_add_(
                    0, index, emb
                )
                counts = torch.bincount(index, minlength=len(chunk)).clamp_min(1).unsqueeze(1)
                mean = sums / counts
                if self.normalize:
                    mean = torch.nn.functional.normalize(mean, dim=-1)
            out[lo : lo + len(chunk)] = mean.cpu().numpy()
        return {"visual": out}
