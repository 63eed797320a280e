"""Audio embeddings per 2-second clip: the paper's audio stream.

LTV-HD's audio features come from ImageBind, which is not in transformers. The stand-in is
CLAP (``laion/clap-htsat-unfused`` by default): like ImageBind's audio tower it is trained to
share an embedding space with another modality (text), so its features carry what a sound
*is* (an explosion, cheering, music) rather than how loud it is. AST (an AudioSet classifier,
e.g. ``MIT/ast-finetuned-audioset-10-10-0.4593``) is supported too; the checkpoint's config
``model_type`` picks the path:

- ``clap``: ``ClapModel.get_audio_features``, the L2-normalised projected audio embedding
  (only the audio tower and its projection are loaded, as ``ClapAudioModelWithProjection``).
  ``dims = projection_dim`` (512). Input at the feature extractor's rate (48 kHz); a clip
  shorter than the model's window (10 s) is repeat-padded by ``ClapFeatureExtractor``.
  Fusion checkpoints (``enable_fusion``) get ``truncation="fusion"`` with ``is_longer``
  False for every clip: the feature extractor would otherwise mark one clip of each batch
  at random as "longer", which makes features depend on the batch.
- ``audio-spectrogram-transformer``: ``ASTModel``'s pooled output (the mean of its CLS and
  distillation tokens, the vector its AudioSet classifier reads), ``dims = hidden_size``
  (768); 16 kHz, log-mel frames padded to the model's ``max_length``.

Audio longer than the model's window (never with 2-second clips and the real checkpoints) is
cut to its centre rather than at random, so the output stays deterministic.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .base import ClipInput, ExtractorError, register_extractor
from .hf import HFExtractor, load_processor

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_AUDIO_MODEL", "AudioExtractor"]

DEFAULT_AUDIO_MODEL = "laion/clap-htsat-unfused"
"""CLAP with an HTS-AT audio tower: the stand-in for the paper's ImageBind audio encoder."""

_KINDS = {"clap": "clap", "audio-spectrogram-transformer": "ast"}


@register_extractor("audio")
class AudioExtractor(HFExtractor):
    """CLAP (or AST) embedding of each clip's audio (see the module doc)."""

    version = 1
    what = "audio model"
    option = "audio.model"
    modality = "audio"

    def __init__(
        self,
        model: str | Path = DEFAULT_AUDIO_MODEL,
        *,
        device: str = "cpu",
        batch_size: int = 32,
        dtype: str | torch.dtype | None = "auto",
    ) -> None:
        super().__init__(model, device=device, batch_size=batch_size, dtype=dtype)
        cfg = self.config
        if cfg.model_type not in _KINDS:
            raise ExtractorError(
                f"{self.what} {self.model_name} has model_type {cfg.model_type!r}; the audio "
                f"extractor takes a CLAP (clap) or AST (audio-spectrogram-transformer) checkpoint"
            )
        self._kind = _KINDS[cfg.model_type]
        if self._kind == "clap":
            self._dim = int(cfg.projection_dim)
            self._fusion = bool(cfg.audio_config.enable_fusion)
        else:
            self._dim = int(cfg.hidden_size)
            self._fusion = False
        self.processor = load_processor(
            self.model_name, kind="audio", what=self.what, option=self.option
        )
        rate = getattr(self.processor, "sampling_rate", None)
        if not rate:
            raise ExtractorError(
                f"{self.what} {self.model_name}: its feature extractor has no sampling_rate"
            )
        self._rate = int(rate)
        max_samples = getattr(self.processor, "nb_max_samples", None)
        self._max_samples = int(max_samples) if max_samples else None

    @property
    def audio_rate(self) -> int:
        return self._rate

    def settings(self) -> dict[str, Any]:
        return {
            **self._model_settings(),
            "head": self._kind,
            "fusion": self._fusion,
            "audio_rate": self._rate,
            "processor": type(self.processor).__name__,
        }

    def _load_model(self) -> torch.nn.Module:
        if self._kind == "clap":
            import copy

            from transformers import ClapAudioModelWithProjection

            # The audio sub-config's projection_dim must be the model's, as in clip.py.
            audio = copy.deepcopy(self.config.audio_config)
            audio.projection_dim = self.config.projection_dim
            return self._load(ClapAudioModelWithProjection, config=audio)
        from transformers import ASTModel

        return self._load(ASTModel)

    def _waveform(self, clip: ClipInput) -> np.ndarray:
        """The clip's audio as the feature extractor wants it: finite, non-empty, and no
        longer than the model's window (centre crop, deterministic)."""
        a = np.nan_to_num(np.asarray(clip.audio, dtype=np.float32).reshape(-1))
        if a.size == 0:
            a = np.zeros(self._rate, dtype=np.float32)
        if self._max_samples and a.size > self._max_samples:
            lo = (a.size - self._max_samples) // 2
            a = a[lo : lo + self._max_samples]
        return a

    def _embed(self, waves: list[np.ndarray]) -> torch.Tensor:
        if self._kind == "clap":
            inputs = self.processor(
                waves,
                sampling_rate=self._rate,
                return_tensors="pt",
                truncation="fusion" if self._fusion else "rand_trunc",
            )
            is_longer = torch.zeros(len(waves), 1, dtype=torch.bool)
            out = self.model(
                input_features=self._to_device(inputs["input_features"]),
                is_longer=self._to_device(is_longer),
            )
            return torch.nn.functional.normalize(out.audio_embeds.float(), dim=-1)
        inputs = self.processor(waves, sampling_rate=self._rate, return_tensors="pt")
        out = self.model(input_values=self._to_device(inputs["input_values"]))
        return out.pooler_output.float()

    def extract(self, clips: Sequence[ClipInput]) -> dict[str, np.ndarray]:
        """One ``audio`` row per clip."""
        out = np.zeros((len(clips), self._dim), dtype=np.float32)
        for lo in range(0, len(clips), self.batch_size):
            chunk = clips[lo : lo + self.batch_size]
            waves = [self._waveform(c) for c in chunk]
            with self._guard(), torch.inference_mode():
                emb = self._embed(waves)
            out[lo : lo + len(chunk)] = emb.cpu().numpy()
        return {"audio": out}
