"""Tiny randomly initialised checkpoints of the real model classes, for offline tests.

Each ``make_tiny_*(path)`` saves a model and its preprocessor with ``save_pretrained`` into
``path`` and returns it; extractors then load the folder through the same
``from_pretrained(path)`` call that a user's real checkpoint takes. The classes match the
real defaults' (a full CLIPModel, VideoMAE and AST *classification* checkpoints whose encoder
is loaded out of them, a full ClapModel), so the prefix and sub-config handling is exercised
too. Weights are seeded: the same builder gives the same checkpoint.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "make_tiny_ast",
    "make_tiny_clap",
    "make_tiny_clip",
    "make_tiny_clip_vision",
    "make_tiny_videomae",
]


def _seed(seed: int) -> None:
    import torch

    torch.manual_seed(seed)


def make_tiny_clip(path: str | Path, *, seed: int = 0) -> Path:
    """A CLIPModel (hidden 32, 2 layers, 32 px images, patch 8, projection 16) + processor."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    _seed(seed)
    common = {
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 37,
    }
    config = CLIPConfig(
        text_config={
            **common,
            "vocab_size": 99,
            "bos_token_id": 0,
            "eos_token_id": 2,
            "pad_token_id": 1,
        },
        vision_config={**common, "image_size": 32, "patch_size": 8},
        projection_dim=16,
    )
    path = Path(path)
    CLIPModel(config).save_pretrained(path)
    CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    ).save_pretrained(path)
    return path


def make_tiny_clip_vision(clip_path: str | Path, path: str | Path, *, projection: bool) -> Path:
    """The vision tower of the CLIP at ``clip_path`` saved alone, as
    ``CLIPVisionModelWithProjection`` (``projection=True``) or ``CLIPVisionModel``."""
    import copy

    from transformers import (
        AutoConfig,
        AutoImageProcessor,
        CLIPVisionModel,
        CLIPVisionModelWithProjection,
    )

    full = AutoConfig.from_pretrained(clip_path)
    vision = copy.deepcopy(full.vision_config)
    vision.projection_dim = full.projection_dim
    cls = CLIPVisionModelWithProjection if projection else CLIPVisionModel
    path = Path(path)
    cls.from_pretrained(clip_path, config=vision).save_pretrained(path)
    AutoImageProcessor.from_pretrained(clip_path).save_pretrained(path)
    return path


def make_tiny_videomae(path: str | Path, *, seed: int = 0) -> Path:
    """A VideoMAEForVideoClassification (4 frames, tubelet 2, 32 px, patch 8, hidden 32)."""
    from transformers import (
        VideoMAEConfig,
        VideoMAEForVideoClassification,
        VideoMAEImageProcessor,
    )

    _seed(seed)
    config = VideoMAEConfig(
        image_size=32,
        patch_size=8,
        num_frames=4,
        tubelet_size=2,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        num_labels=3,
    )
    path = Path(path)
    VideoMAEForVideoClassification(config).save_pretrained(path)
    VideoMAEImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    ).save_pretrained(path)
    return path


def make_tiny_ast(path: str | Path, *, seed: int = 0) -> Path:
    """An ASTForAudioClassification (16 mel bins, 64 frames, hidden 32) + feature extractor."""
    from transformers import ASTConfig, ASTFeatureExtractor, ASTForAudioClassification

    _seed(seed)
    config = ASTConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_length=64,
        num_mel_bins=16,
        num_labels=3,
    )
    path = Path(path)
    ASTForAudioClassification(config).save_pretrained(path)
    ASTFeatureExtractor(num_mel_bins=16, max_length=64).save_pretrained(path)
    return path


def make_tiny_clap(path: str | Path, *, seed: int = 0, fusion: bool = False) -> Path:
    """A ClapModel (HTS-AT spec 64, window 4, depths [1, 1], 16 mel bins, projection 16) and
    a 48 kHz ClapFeatureExtractor whose window is 2 s (201 frames fit the 256 the tiny
    tower takes)."""
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel

    _seed(seed)
    config = ClapConfig(
        text_config={
            "hidden_size": 32,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "intermediate_size": 37,
            "vocab_size": 99,
            "projection_dim": 16,
        },
        audio_config={
            "spec_size": 64,
            "window_size": 4,
            "depths": [1, 1],
            "num_attention_heads": [2, 2],
            "patch_embeds_hidden_size": 16,
            "hidden_size": 32,
            "num_mel_bins": 16,
            "enable_fusion": fusion,
            "projection_dim": 16,
        },
        projection_dim=16,
    )
    path = Path(path)
    ClapModel(config).save_pretrained(path)
    ClapFeatureExtractor(feature_size=16, max_length_s=2).save_pretrained(path)
    return path
