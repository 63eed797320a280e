"""Per-clip features from raw video: extractors, one decode for all, a cached store.

``load_features(folder, video_id)`` returns ``{"visual": (num_clips, Dv), "audio":
(num_clips, Da), "audio_mask": (num_clips,)}`` for a video extracted by ``tvhighlights
extract``. Importing this package does not import torch; the weight-backed extractors load it
when they are built.
"""

from __future__ import annotations

from .base import (
    MODALITIES,
    ClipInput,
    ExtractorError,
    FeatureExtractor,
    available_extractors,
    get_extractor,
    register_extractor,
    sample_indices,
)
from .extract import (
    ExtractReport,
    VideoRequest,
    encode_video,
    extract_features,
    requests_from_dataset,
    requests_from_paths,
)
from .store import FeatureStore, FeatureStoreError, load_features

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
    "encode_video",
    "extract_features",
    "get_extractor",
    "load_features",
    "register_extractor",
    "requests_from_dataset",
    "requests_from_paths",
    "sample_indices",
]
