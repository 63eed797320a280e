"""Loading Hugging Face checkpoints for the weight-backed extractors (clip, motion, audio) and
the baselines that read a checkpoint the features came from (HL-CLIP's text tower).

One place decides how a model name becomes weights on a device, so the three extractors fail
the same way: a Hub id that is not in the local cache while offline, a folder that does not
exist, a checkpoint without safetensors or of the wrong kind, and a GPU that runs out of
memory all become an :class:`~tvhighlights.features.base.ExtractorError` whose one-line
message names the model and says how to fix it. Weights are read with ``use_safetensors=True``
only (never a pickle), and every model runs in eval mode under ``torch.inference_mode()``.

The checkpoint's identity in the cache key is a digest of its files (``config.json``, the
preprocessor config, the ``*.safetensors`` weights), not just its name: a folder that is
overwritten with fine-tuned weights, or a Hub repo that moves on, gets a new key instead of
silently reusing stale features.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from abc import abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import torch

from ..clips import CLIP_SECONDS
from ..errors import ExtractorError
from ..fileio import file_digest
from .base import FeatureExtractor

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_ASPECT",
    "HFExtractor",
    "checkpoint_digest",
    "dtype_name",
    "frames_fps",
    "load_config",
    "load_pretrained",
    "load_processor",
    "model_ref",
    "oom_guard",
    "parse_frame_size",
    "resolve_device",
    "resolve_dtype",
    "view_size",
]

DEFAULT_ASPECT = 16 / 9
"""Aspect ratio of the frames the visual extractors ask the decoder for (films and TV are
16:9 or wider); the processor's centre crop then sees what it would see in the full frame."""

_DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "float": torch.float32,
    "float16": torch.float16,
    "fp16": torch.float16,
    "half": torch.float16,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
}

_OOM: type[BaseException] = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)

_BLOB_NAME = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
"""Hub cache blobs are named by their content hash (git sha1, or sha256 for LFS files)."""


# ---------------------------------------------------------------------------------------------
# device and dtype


def resolve_device(device: str) -> torch.device:
    """``torch.device`` for ``device`` ("cpu", "cuda", "cuda:1", "mps"), checked to exist here.

    Checked when the extractor is built, so a typo or a missing GPU fails before any decoding.
    """
    try:
        dev = torch.device(str(device))
    except (RuntimeError, TypeError, ValueError) as e:
        raise ExtractorError(f"unknown device {device!r}: {e}") from e
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ExtractorError(
                f"device {device!r} asked for, but CUDA is not available here "
                f"(torch {torch.__version__}); use the cpu device",
                param="device",
            )
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise ExtractorError(
                f"device {device!r} asked for, but this machine has {count} CUDA device(s)"
            )
    elif dev.type == "mps" and not torch.backends.mps.is_available():
        raise ExtractorError(f"device {device!r} asked for, but MPS is not available here")
    return dev


def resolve_dtype(dtype: str | torch.dtype | None, device: torch.device) -> torch.dtype:
    """Compute dtype: ``"auto"``/``None`` is bf16 on CUDA (fp16 where bf16 is unsupported) and
    fp32 elsewhere; otherwise one of float32/float16/bfloat16 (or their short names)."""
    if dtype is None or dtype == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    if isinstance(dtype, torch.dtype):
        if dtype in _DTYPES.values():
            return dtype
        raise ExtractorError(f"unsupported dtype {dtype}; use float32, float16 or bfloat16")
    key = str(dtype).lower().removeprefix("torch.")
    if key not in _DTYPES:
        raise ExtractorError(f"unknown dtype {dtype!r}; use auto, float32, float16 or bfloat16")
    return _DTYPES[key]


def dtype_name(dtype: torch.dtype) -> str:
    """``"float32"`` for ``torch.float32``: the JSON-ready name that goes into settings."""
    return str(dtype).removeprefix("torch.")


# ---------------------------------------------------------------------------------------------
# names, folders and the errors that explain them


def model_ref(name: str | Path) -> str:
    """The model as recorded in settings: an existing folder as its absolute path, else the
    Hub id as given (``~`` expanded for paths that do not exist, so the message shows it)."""
    s = str(name)
    if not s.strip():
        raise ExtractorError("the model name is empty; give a Hub id or a local folder")
    p = Path(s).expanduser()
    if p.exists():
        return str(p.resolve())
    return str(p) if _looks_like_path(s) else s


def _looks_like_path(name: str) -> bool:
    """True for names a Hub id can never be (absolute, ``./``, ``~``, backslashes, deep)."""
    return (
        name.startswith(("/", ".", "~"))
        or "\\" in name
        or name.count("/") > 1
        or Path(name).expanduser().exists()
    )


def _first_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text[:300] + ("..." if len(text) > 300 else "")


def _option_text(option: str) -> str:
    """``"clip.model"`` -> ``"the clip extractor's `model` option"``."""
    extractor, _, param = option.rpartition(".")
    return f"the {extractor} extractor's `{param}` option" if extractor else f"`{param}`"


def _explain(name: str, what: str, option: str, err: BaseException) -> str:
    """One-line message for a checkpoint that could not be loaded, with the fix."""
    p = Path(name)
    where = _option_text(option)
    if p.is_dir():
        return (
            f"{what} folder {name} cannot be loaded ({_first_line(err)}); it should hold "
            f"config.json, model.safetensors and the preprocessor config that "
            f"save_pretrained writes"
        )
    if p.exists():
        return f"{what} {name} is a file; pass the folder that holds config.json as {where}"
    if _looks_like_path(name):
        return (
            f"{what} folder {name} does not exist; pass a folder that holds config.json "
            f"and model.safetensors as {where}"
        )
    from huggingface_hub import constants

    why = (
        "and HF_HUB_OFFLINE=1 forbids downloading it"
        if constants.HF_HUB_OFFLINE
        else "and it could not be downloaded"
    )
    return (
        f"{what} {name!r} is not in the local Hugging Face cache ({constants.HF_HUB_CACHE}) "
        f"{why}. Download it once where the Hub is reachable (`hf download {name}` with the "
        f"same HF_HOME, or copy that cache here), or pass a local folder as {where} "
        f"[{_first_line(err)}]"
    )


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Silence transformers' load reports and progress bars while loading.

    Loading the vision tower of a full CLIP (or the audio tower of CLAP) lists every unused
    text weight as UNEXPECTED; we check the keys that matter ourselves in :func:`load_pretrained`.
    """
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    bar = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bar:
            hf_logging.enable_progress_bar()


def load_config(name: str, *, what: str, option: str) -> Any:
    """``AutoConfig.from_pretrained(name)``; a missing or offline model -> ExtractorError."""
    from transformers import AutoConfig

    try:
        with _quiet_transformers():
            return AutoConfig.from_pretrained(name)
    except (OSError, ValueError, KeyError) as e:
        raise ExtractorError(_explain(name, what, option, e), param=option) from e


def load_processor(name: str, *, kind: str, what: str, option: str) -> Any:
    """The checkpoint's preprocessor: ``kind`` is ``"image"`` (AutoImageProcessor) or
    ``"audio"`` (AutoFeatureExtractor)."""
    from transformers import AutoFeatureExtractor, AutoImageProcessor

    cls = AutoImageProcessor if kind == "image" else AutoFeatureExtractor
    try:
        with _quiet_transformers():
            return cls.from_pretrained(name)
    except (OSError, ValueError, KeyError) as e:
        raise ExtractorError(
            f"{_explain(name, what, option, e)} (its preprocessor config is missing or broken)",
            param=option,
        ) from e


def load_pretrained(
    cls: Any,
    name: str,
    *,
    what: str,
    option: str,
    device: torch.device,
    dtype: torch.dtype,
    config: Any = None,
) -> torch.nn.Module:
    """``cls.from_pretrained(name)`` from safetensors only, in eval mode, on ``device``.

    Every weight of ``cls`` must come from the checkpoint: a missing one would be silently
    random, so it is an error (unused weights, such as CLIP's text tower, are fine).
    """
    kwargs: dict[str, Any] = {"dtype": dtype, "use_safetensors": True}
    if config is not None:
        kwargs["config"] = config
    try:
        with _quiet_transformers():
            model, info = cls.from_pretrained(name, output_loading_info=True, **kwargs)
    except (OSError, ValueError, RuntimeError, KeyError) as e:
        if "safetensors" in str(e).lower() and Path(name).is_dir():
            raise ExtractorError(
                f"{what} folder {name} has no model.safetensors; only safetensors weights are "
                f"loaded (never pickled .bin files). Re-save it once on a trusted machine with "
                f"save_pretrained (safetensors is its default)"
            ) from e
        raise ExtractorError(_explain(name, what, option, e), param=option) from e
    missing = sorted(info.get("missing_keys") or ())
    mismatched = list(info.get("mismatched_keys") or ())
    if missing or mismatched:
        bad = missing + [str(k) for k in mismatched]
        raise ExtractorError(
            f"{what} {name} is not a {cls.__name__} checkpoint: {len(bad)} weights are "
            f"missing or of the wrong shape (e.g. {', '.join(bad[:3])})"
        )
    model.eval()
    model.requires_grad_(False)
    try:
        model.to(device)
    except _OOM as e:
        raise ExtractorError(f"out of GPU memory loading {what} {name} onto {device}") from e
    logger.info("loaded %s %s (%s) on %s as %s", what, name, cls.__name__, device, dtype)
    return model


# ---------------------------------------------------------------------------------------------
# identity of a checkpoint


def _blob_or_hash(f: Path) -> str:
    """Content id of one file: the Hub cache's blob name where it is one, else its sha256."""
    if f.is_symlink():
        target = f.resolve()
        if _BLOB_NAME.fullmatch(target.name):
            return target.name
    size = f.stat().st_size
    if size > 200 << 20:
        logger.info("hashing %s (%d MB) for the feature cache key", f, size >> 20)
    return file_digest(f)


_DIGESTS: dict[tuple[str, tuple[tuple[str, int, int], ...]], str] = {}


def checkpoint_digest(name: str) -> str:
    """16 hex of a sha256 over the checkpoint's config, preprocessor config and weights.

    A local folder's files are hashed (once per process and file state); a Hub snapshot's
    files are cache blobs already named by their content hash.
    """
    folder = Path(name)
    if not folder.is_dir():
        from transformers.utils import cached_file

        try:
            folder = Path(cached_file(name, "config.json")).parent
        except OSError as e:  # pragma: no cover - the config was loaded a moment ago
            raise ExtractorError(f"cannot find the files of {name}: {_first_line(e)}") from e
    files = sorted(
        f
        for f in folder.iterdir()
        if f.is_file()
        and (
            f.suffix == ".safetensors"
            or f.name in ("config.json", "preprocessor_config.json", "model.safetensors.index.json")
        )
    )
    state = tuple((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    memo = (str(folder.resolve()), state)
    if memo not in _DIGESTS:
        h = hashlib.sha256()
        for f in files:
            h.update(f"{f.name}\0{_blob_or_hash(f)}\n".encode())
        _DIGESTS[memo] = h.hexdigest()[:16]
    return _DIGESTS[memo]


# ---------------------------------------------------------------------------------------------
# running


@contextlib.contextmanager
def oom_guard(what: str, batch_size: int, device: torch.device) -> Iterator[None]:
    """Turn an out-of-memory error into an ExtractorError that names the knob to turn."""
    try:
        yield
    except _OOM as e:
        if device.type == "cuda":
            torch.cuda.empty_cache()
        where = "GPU memory" if device.type == "cuda" else "memory"
        raise ExtractorError(
            f"out of {where} running {what} with batch size {batch_size} on {device}; "
            f"try a smaller batch size",
            param="batch_size",
        ) from e


def view_size(processor: Any, aspect: float = DEFAULT_ASPECT) -> tuple[int, int] | None:
    """``(width, height)`` of the frames to decode for an image processor.

    ``size={"shortest_edge": S}`` (CLIP, VideoMAE): ``S`` high and ``aspect`` wide, so the
    processor's resize is a no-op and its centre crop sees the same region as on the full
    frame of an ``aspect`` video. ``size={"height", "width"}``: exactly that (the processor
    squashes to it anyway). Anything else: ``None``, the native size.
    """
    size = getattr(processor, "size", None)
    get = size.get if isinstance(size, dict) else (lambda k, d=None: getattr(size, k, d))
    short = get("shortest_edge", None)
    if short:
        h = int(short)
        w = round(h * aspect)
        w += w % 2
        crop = getattr(processor, "crop_size", None)
        cw = (crop.get("width") if isinstance(crop, dict) else getattr(crop, "width", None)) or 0
        return max(w, int(cw)), h
    height, width = get("height", None), get("width", None)
    if height and width:
        return int(width), int(height)
    return None


def parse_frame_size(frame_size: Any, processor: Any) -> tuple[int, int] | None:
    """The ``frame_size`` option: ``"auto"`` (from the processor), ``None`` (native) or
    ``(width, height)``."""
    if isinstance(frame_size, str):
        if frame_size != "auto":
            raise ExtractorError(
                f"frame_size must be 'auto', None or (width, height), got {frame_size!r}"
            )
        return view_size(processor)
    if frame_size is None:
        return None
    try:
        w, h = (int(v) for v in frame_size)
    except (TypeError, ValueError) as e:
        raise ExtractorError(f"frame_size must be (width, height), got {frame_size!r}") from e
    if w < 1 or h < 1:
        raise ExtractorError(f"frame_size must be positive, got {frame_size!r}")
    return w, h


def frames_fps(frames_per_clip: int) -> float:
    """View rate that yields exactly ``frames_per_clip`` frames in a full 2-second clip."""
    return frames_per_clip / CLIP_SECONDS


# ---------------------------------------------------------------------------------------------
# the shared extractor base


class HFExtractor(FeatureExtractor):
    """Base of the extractors backed by a transformers checkpoint.

    Building one reads the config and preprocessor (cheap, and it fails at once on a missing
    or offline model); the weights load on the first :meth:`extract` (or :meth:`load`), so a
    run whose features are all cached never loads them.
    """

    needs_torch: ClassVar[bool] = True
    what: ClassVar[str] = "model"
    """Human name of the checkpoint kind in messages ("CLIP model")."""
    option: ClassVar[str] = "model"
    """The parameter that picks the checkpoint (``<extractor>.model``), named in errors."""
    modality: ClassVar[str] = "visual"
    """The stream its embedding feeds; its width is ``self._dim``, set by the subclass."""

    def __init__(
        self,
        model: str | Path,
        *,
        device: str = "cpu",
        batch_size: int = 16,
        dtype: str | torch.dtype | None = "auto",
    ) -> None:
        super().__init__(device=device, batch_size=batch_size)
        self.model_name = model_ref(model)
        self.torch_device = resolve_device(self.device)
        self.torch_dtype = resolve_dtype(dtype, self.torch_device)
        self.config = load_config(self.model_name, what=self.what, option=self.option)
        self._model: torch.nn.Module | None = None

    @property
    def dims(self) -> dict[str, int]:
        return {self.modality: self._dim}

    @property
    def model(self) -> torch.nn.Module:
        """The network, loaded on first use."""
        if self._model is None:
            self._model = self._load_model()
        return self._model

    def load(self) -> HFExtractor:
        """Load the weights now (they load lazily otherwise); returns ``self``."""
        _ = self.model
        return self

    @abstractmethod
    def _load_model(self) -> torch.nn.Module:
        """Build the network from the checkpoint (with :func:`load_pretrained`)."""

    def _load(self, cls: Any, config: Any = None) -> torch.nn.Module:
        return load_pretrained(
            cls,
            self.model_name,
            what=self.what,
            option=self.option,
            device=self.torch_device,
            dtype=self.torch_dtype,
            config=config,
        )

    def _guard(self) -> contextlib.AbstractContextManager[None]:
        return oom_guard(f"{self.name} ({self.model_name})", self.batch_size, self.torch_device)

    def _to_device(self, x: torch.Tensor) -> torch.Tensor:
        """Floating inputs move to the compute device and dtype; others keep their dtype."""
        if torch.is_floating_point(x):
            return x.to(self.torch_device, self.torch_dtype)
        return x.to(self.torch_device)

    def _model_settings(self) -> dict[str, Any]:
        """What every weight-backed extractor's output depends on."""
        return {
            "model": self.model_name,
            "checkpoint": checkpoint_digest(self.model_name),
            "model_type": self.config.model_type,
            "dtype": dtype_name(self.torch_dtype),
        }
