"""The one interface every feature extractor implements, and the registry that names them.

An extractor never decodes: it declares the frame views (rate, size, colour) and the audio
rate it needs, the runner decodes each video ONCE for all requested extractors
(:func:`tvhighlights.video.iter_clips` with several views) and hands every extractor batches
of :class:`ClipInput`. Its output is one float32 row per clip and per modality
(``"visual"`` and/or ``"audio"``), aligned to the 2-second grid.

The cache key of an extractor's output is ``name``, ``version`` and ``settings()``: change
what an extractor computes and bump its ``version``; anything a user can set that changes the
numbers (a model path, frames per clip) belongs in ``settings()``.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..distributed import process_device
from ..errors import ExtractorError, InvalidArgumentError
from ..video import FrameView

__all__ = [
    "MODALITIES",
    "ClipInput",
    "ExtractorError",
    "FeatureExtractor",
    "available_extractors",
    "get_extractor",
    "get_extractors",
    "register_extractor",
    "sample_indices",
]

MODALITIES = ("visual", "audio")
"""The feature streams a model consumes; every extractor output belongs to one of them."""


@dataclass(frozen=True, eq=False)
class ClipInput:
    """What an extractor sees of one 2-second clip.

    ``frames[view]`` / ``timestamps[view]`` hold the clip's frames for each view the extractor
    declared in :attr:`FeatureExtractor.views` (uint8 ``(n, H, W, 3)`` RGB or ``(n, H, W)``
    grey; ``n`` may be smaller than asked for in the last, shorter clip, but is at least 1).
    ``audio`` is mono float32 at :attr:`FeatureExtractor.audio_rate` (zeros when the video has
    no audio track: ``has_audio`` is then False and the runner zeroes and masks the audio
    features, so extractors need not special-case it).
    """

    index: int
    start: float
    end: float
    frames: Mapping[str, np.ndarray]
    timestamps: Mapping[str, np.ndarray]
    audio: np.ndarray
    has_audio: bool


class FeatureExtractor(ABC):
    """Base class of the extractors: per-clip features from decoded frames and audio.

    Subclasses set ``name`` and ``version``, take their options (and ``device``,
    ``batch_size``) in ``__init__`` and implement :meth:`extract`.
    """

    name: ClassVar[str]
    version: ClassVar[int] = 1
    needs_torch: ClassVar[bool] = False

    def __init__(self, *, device: str = "cpu", batch_size: int = 32) -> None:
        if int(batch_size) < 1:
            raise InvalidArgumentError(
                f"batch_size must be >= 1, got {batch_size!r}", param="batch_size"
            )
        self.device = process_device(str(device))
        self.batch_size = int(batch_size)

    # -- what the extractor needs and gives ----------------------------------------------------

    @property
    @abstractmethod
    def dims(self) -> dict[str, int]:
        """Output width per modality, e.g. ``{"visual": 768}``; keys are in :data:`MODALITIES`."""

    @property
    def views(self) -> dict[str, FrameView]:
        """Frame views this extractor reads (view name -> :class:`FrameView`); may be empty."""
        return {}

    @property
    def audio_rate(self) -> int | None:
        """Sample rate of the audio it reads, or ``None`` when it reads no audio."""
        return None

    def settings(self) -> dict[str, Any]:
        """JSON-ready options that change the output (part of the cache key)."""
        return {}

    # -- the work --------------------------------------------------------------------------------

    @abstractmethod
    def extract(self, clips: Sequence[ClipInput]) -> dict[str, np.ndarray]:
        """Features of a batch of clips: modality -> float32 ``(len(clips), dims[modality])``."""

    # -- identity --------------------------------------------------------------------------------

    @property
    def key(self) -> str:
        """Cache key: ``<name>-v<version>-<first 10 hex of sha256(settings)>``."""
        blob = json.dumps(self.settings(), sort_keys=True, separators=(",", ":"))
        return f"{self.name}-v{self.version}-{hashlib.sha256(blob.encode()).hexdigest()[:10]}"

    def describe(self) -> dict[str, Any]:
        """Name, version, key, dims and settings: what the feature store records."""
        return {
            "name": self.name,
            "version": self.version,
            "key": self.key,
            "dims": dict(self.dims),
            "settings": self.settings(),
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key={self.key!r}, device={self.device!r})"


_REGISTRY: dict[str, Callable[..., FeatureExtractor]] = {}
_BUILTIN_MODULES = {
    "handcrafted": "handcrafted",
    "transnet": "transnet",
    "clip": "clip",
    "motion": "motion",
    "audio": "audio",
}
"""Built-in extractors, imported lazily so that asking for ``handcrafted`` never loads torch."""


def register_extractor(name: str) -> Callable[[type[FeatureExtractor]], type[FeatureExtractor]]:
    """Class decorator: make an extractor available to :func:`get_extractor` under ``name``."""

    def deco(cls: type[FeatureExtractor]) -> type[FeatureExtractor]:
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return deco


def available_extractors() -> list[str]:
    """Names :func:`get_extractor` accepts."""
    return sorted(set(_BUILTIN_MODULES) | set(_REGISTRY))


def get_extractor(name: str, **options: Any) -> FeatureExtractor:
    """Build the extractor called ``name`` with ``options`` (``device``, ``batch_size``, ...)."""
    if name not in _REGISTRY and name in _BUILTIN_MODULES:
        import importlib

        importlib.import_module(f"{__package__}.{_BUILTIN_MODULES[name]}")
    if name not in _REGISTRY:
        raise ExtractorError(
            f"unknown extractor {name!r}; available: {', '.join(available_extractors())}",
            param="extractors",
        )
    return _REGISTRY[name](**options)


def get_extractors(
    names: str | Sequence[str],
    *,
    device: str = "cpu",
    batch_size: int | None = None,
    models: Mapping[str, str | None] | None = None,
) -> list[FeatureExtractor]:
    """Build several extractors at once: ``names`` as a list or ``"a,b"`` (repeats dropped).

    ``models`` maps extractor names to the checkpoint their ``model`` option takes (``None``:
    the extractor's default). Bad options fail here, before any decoding.
    """
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",")]
    wanted = list(dict.fromkeys(n for n in names if n))
    if not wanted:
        raise InvalidArgumentError("no extractor named", param="extractors")
    built = []
    for name in wanted:
        options: dict[str, Any] = {"device": device}
        if batch_size is not None:
            options["batch_size"] = batch_size
        if (models or {}).get(name):
            options["model"] = models[name]
        built.append(get_extractor(name, **options))
    return built


def sample_indices(available: int, wanted: int) -> np.ndarray:
    """``wanted`` frame indices spread evenly over ``available`` frames (repeats when short).

    Models that take a fixed number of frames per clip (VideoMAE's 16, CLIP's few) use it, so
    the last, shorter clip of a video and odd frame rates need no special case.
    """
    if available < 1:
        raise InvalidArgumentError("a clip has no frame to sample from")
    if wanted < 1:
        raise InvalidArgumentError(f"wanted must be >= 1, got {wanted}")
    # centres of ``wanted`` equal bins over [0, available)
    idx = np.floor((np.arange(wanted) + 0.5) * available / wanted).astype(np.int64)
    return np.clip(idx, 0, available - 1)
