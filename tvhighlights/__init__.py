"""TVHighlights: video highlight detection in movies and TV dramas without human labels.

The top-level import is light (no torch, no PyAV); submodules load what they need.
"""

from __future__ import annotations

from .clips import CLIP_SECONDS, clip_bounds, num_clips
from .errors import (
    ExtractorError,
    FeatureStoreError,
    InputFormatError,
    ReferencesError,
    SampleFetchError,
    SubmissionError,
    TVHighlightsError,
    VideoOpenError,
)

__version__ = "0.1.0"


def __getattr__(name: str):
    """``LTVHDModel`` / ``LTVHDConfig`` load torch and transformers only when asked for."""
    if name in ("LTVHDModel", "LTVHDConfig"):
        from .models import ltvhd

        return getattr(ltvhd, name)
    raise AttributeError(f"module 'tvhighlights' has no attribute {name!r}")


__all__ = [
    "CLIP_SECONDS",
    "ExtractorError",
    "FeatureStoreError",
    "InputFormatError",
    "LTVHDConfig",
    "LTVHDModel",
    "ReferencesError",
    "SampleFetchError",
    "SubmissionError",
    "TVHighlightsError",
    "VideoOpenError",
    "__version__",
    "clip_bounds",
    "num_clips",
]
