"""Per-clip features from raw video: extractors, one decode for all, a cached store.

``load_features(folder, video_id)`` returns ``{"visual": (num_clips, Dv), "audio":
(num_clips, Da), "audio_mask": (num_clips,)}`` for a video extracted by ``tvhighlights
extract``. Importing this package does not import torch; the weight-backed extractors load it
when they are built.
"""

from __future__ import annotations

import warnings
from typing import Any

from ..errors import ExtractorError, FeatureStoreError
from .base import (
    MODALITIES,
    ClipInput,
    FeatureExtractor,
    available_extractors,
    get_extractor,
    get_extractors,
    register_extractor,
    sample_indices,
)
from .extract import (
    ExtractReport,
    VideoRequest,
    extract_features,
    extract_video,
    requests_from_dataset,
    requests_from_paths,
)
from .store import FeatureStore, load_features


def __getattr__(name: str) -> Any:
    """``encode_video`` was this package's name for :func:`extract_video` (one video, no
    store); :func:`tvhighlights.inference.encode_video` is the one that takes a model."""
    if name == "encode_video":
        warnings.warn(
            "tvhighlights.features.encode_video is now tvhighlights.features.extract_video",
            DeprecationWarning,
            stacklevel=2,
        )
        return extract_video
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MODALITIES",
    "ClipInput",
    "ExtractReport",
    "ExtractorError",
    "FeatureExtractor",
    "FeatureStore",
    "FeatureStoreError",
    "VideoRequest",
    "available_extractors",
    "extract_features",
    "extract_video",
    "get_extractor",
    "get_extractors",
    "load_features",
    "register_extractor",
    "requests_from_dataset",
    "requests_from_paths",
    "sample_indices",
]
