"""LTV-HD configuration: the sizes of the LTRM network and the features it was trained on.

This file is copied next to the weights by ``save_pretrained`` (``auto_map``), so it imports
nothing from ``tvhighlights``: ``AutoConfig.from_pretrained(folder, trust_remote_code=True)``
must work where the package is not installed.
"""

from __future__ import annotations

from typing import Any

from transformers import PreTrainedConfig


class LTVHDConfig(PreTrainedConfig):
    r"""Configuration of :class:`LTVHDModel` (LTRM: Local Temporal Relation Multimodal network).

    Args:
        visual_dim: width of the per-clip visual features (all visual extractors concatenated).
        audio_dim: width of the per-clip audio features; 0 for a visual-only model.
        hidden_size: width of every hidden representation.
        num_bottleneck_tokens: learned tokens through which the two modalities exchange
            information (they gather from every clip of both streams, then broadcast back).
        window_size: clips each clip attends to in the local temporal relation layers
            (odd; the clip itself in the middle), so attention cost is linear in film length.
        num_layers: local temporal relation transformer layers after the fusion.
        num_heads: attention heads (``hidden_size`` must be divisible by it).
        intermediate_size: width of the feed-forward blocks.
        dropout: dropout in attention and feed-forward blocks.
        top_k: MIL pooling: a video's score is the mean of its ``top_k`` highest clip scores
            (the seed uses 6).
        extractors: names of the feature extractors, in the order their outputs are
            concatenated (``tvhighlights extract --extractors``).
        extractor_options: per extractor, the options it was built with (e.g. a model path),
            so prediction rebuilds the same extractors.
        extractor_keys: the extractors' cache keys at training time (checked at prediction).
        training_summary: how the weights were trained (stage, data, metrics), for the card.
    """

    model_type = "ltvhd"

    visual_dim: int = 21
    audio_dim: int = 13
    hidden_size: int = 64
    num_bottleneck_tokens: int = 4
    window_size: int = 9
    num_layers: int = 2
    num_heads: int = 4
    intermediate_size: int = 128
    dropout: float = 0.1
    top_k: int = 6
    extractors: list[str] | None = None
    extractor_options: dict[str, Any] | None = None
    extractor_keys: list[str] | None = None
    training_summary: dict[str, Any] | None = None

    def __post_init__(self, **kwargs: Any) -> None:
        if self.extractors is None:
            self.extractors = ["handcrafted"]
        if self.extractor_options is None:
            self.extractor_options = {}
        if self.extractor_keys is None:
            self.extractor_keys = []
        problems = []
        if self.visual_dim < 1:
            problems.append(f"visual_dim must be >= 1, got {self.visual_dim}")
        if self.audio_dim < 0:
            problems.append(f"audio_dim must be >= 0, got {self.audio_dim}")
        if self.num_heads < 1 or self.hidden_size % self.num_heads:
            problems.append(
                f"hidden_size ({self.hidden_size}) must be divisible by num_heads "
                f"({self.num_heads})"
            )
        if self.window_size < 1 or self.window_size % 2 == 0:
            problems.append(f"window_size must be odd and >= 1, got {self.window_size}")
        if self.top_k < 1:
            problems.append(f"top_k must be >= 1, got {self.top_k}")
        if self.num_bottleneck_tokens < 1:
            problems.append(f"num_bottleneck_tokens must be >= 1, got {self.num_bottleneck_tokens}")
        if not 0.0 <= self.dropout < 1.0:
            problems.append(f"dropout must be in [0, 1), got {self.dropout}")
        if problems:
            raise ValueError("invalid LTVHDConfig: " + "; ".join(problems))
        super().__post_init__(**kwargs)


__all__ = ["LTVHDConfig"]
