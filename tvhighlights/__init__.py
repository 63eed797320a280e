"""TVHighlights: video highlight detection in movies and TV dramas without human labels.

One sub-package per layer (``docs/architecture.md``): :mod:`.video` (decoding and the mp4
writer), :mod:`.build` (fingerprints, alignment, votes), :mod:`.data` (the dataset folder and
its references), :mod:`.features`, :mod:`.models`, :mod:`.training`, :mod:`.inference`,
:mod:`.evaluation` and :mod:`.cli`, over small shared modules (:mod:`.errors`, :mod:`.clips`,
:mod:`.fileio`, :mod:`.samples`). The top-level import is light (no torch, no PyAV);
sub-packages load what they need.
"""

from __future__ import annotations

from . import _compat
from .clips import CLIP_SECONDS, clip_bounds, num_clips
from .errors import (
    ExtractorError,
    FeatureStoreError,
    InputFormatError,
    InvalidArgumentError,
    ReferencesError,
    SampleFetchError,
    SubmissionError,
    TVHighlightsError,
    VideoOpenError,
)

_compat.install()  # the flat 0.1 module paths (tvhighlights.metrics, ...) keep importing

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
    "InvalidArgumentError",
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
