"""The model side of prediction: load LTV-HD, rebuild its extractors, encode a video, score it.

Scores live on the project's one 2-second grid (:mod:`tvhighlights.clips`). Torch and
transformers load only when a model is used.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..clips import CLIP_SECONDS, MIN_LAST_CLIP_SECONDS
from ..errors import PredictionError
from ..features import extract_video, get_extractor
from ..video import probe

if TYPE_CHECKING:  # torch and transformers load only when a model is used
    from ..features import FeatureExtractor
    from ..models.ltvhd import LTVHDConfig, LTVHDModel

logger = logging.getLogger(__name__)

__all__ = [
    "build_extractors",
    "encode_video",
    "is_local_model_path",
    "load_model",
    "model_device",
    "predict",
    "split_features",
]


def _config_of(model_or_config: LTVHDModel | LTVHDConfig) -> LTVHDConfig:
    return getattr(model_or_config, "config", model_or_config)


def is_local_model_path(name_or_path: str | Path) -> bool:
    """Whether ``name_or_path`` means a folder here rather than a Hub id (``org/name``): it
    exists, or it is absolute, starts with ``.`` or ``~``, or has more than one ``/``."""
    where = str(name_or_path)
    p = Path(where).expanduser()
    return p.exists() or p.is_absolute() or where.startswith((".", "~")) or where.count("/") > 1


def load_model(name_or_path: str | Path, device: str = "cpu") -> LTVHDModel:
    """Load LTV-HD weights (a folder written by ``save_pretrained`` or a Hub id), in eval mode.

    Only safetensors are read (never a pickle). A folder without ``config.json`` or weights,
    with corrupt files, or with weights that do not fit the config is a
    :class:`PredictionError` naming the folder: a half-loaded model would score at random.
    """
    from safetensors import SafetensorError

    from ..models.ltvhd import LTVHDModel

    p = Path(name_or_path).expanduser()
    where = str(p) if p.exists() else str(name_or_path)
    if p.exists():
        if not p.is_dir():
            raise PredictionError(
                f"{where}: not a model folder (expected a folder with "
                "config.json and model.safetensors)"
            )
        cfg = p / "config.json"
        if not cfg.is_file():
            raise PredictionError(f"{where}: not an LTV-HD model folder: no config.json")
        try:
            model_type = json.loads(cfg.read_text(encoding="utf-8")).get("model_type")
        except (OSError, UnicodeError, ValueError, AttributeError) as e:
            raise PredictionError(f"{where}: config.json is unreadable or corrupt ({e})") from e
        if model_type != "ltvhd":
            raise PredictionError(
                f"{where}: config.json is for model_type {model_type!r}, not an LTV-HD model"
            )
        if not any(p.glob("*.safetensors")) and not any(p.glob("*.safetensors.index.json")):
            raise PredictionError(
                f"{where}: no model weights (model.safetensors) in the folder; "
                "was training interrupted before save_pretrained?"
            )
    elif is_local_model_path(where):
        raise PredictionError(f"{where}: no such model folder")
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a bar for a 1 MB model is noise
    try:
        model, info = LTVHDModel.from_pretrained(
            where, use_safetensors=True, output_loading_info=True
        )
    except SafetensorError as e:
        raise PredictionError(f"{where}: the weights file is corrupt or truncated ({e})") from e
    except RuntimeError as e:
        if "mismatched" in str(e):
            raise PredictionError(
                f"{where}: the weights do not fit its config.json (tensor shapes differ: "
                "files from different models?)"
            ) from e
        raise PredictionError(f"{where}: cannot load the LTV-HD model ({e})") from e
    except (OSError, ValueError, KeyError) as e:
        raise PredictionError(f"{where}: cannot load the LTV-HD model ({e})") from e
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    bad = sorted(info.get("missing_keys") or []) + sorted(info.get("mismatched_keys") or [])
    if bad or info.get("error_msgs"):
        shown = ", ".join(map(str, bad[:5])) + (" ..." if len(bad) > 5 else "")
        raise PredictionError(
            f"{where}: the weights do not match the model's config "
            f"(missing or mismatched: {shown or info.get('error_msgs')}); the folder is "
            "incomplete or corrupt"
        )
    model.to(device)
    model.eval()
    logger.info("loaded LTV-HD from %s (extractors: %s)", where, model.config.extractors)
    return model


def build_extractors(
    config: LTVHDModel | LTVHDConfig, device: str = "cpu", batch_size: int | None = None
) -> list[FeatureExtractor]:
    """The extractors the model was trained with, rebuilt from its config, in its order.

    ``device`` and ``batch_size`` do not change features and override the training run's.
    A rebuilt extractor whose cache key is not among ``config.extractor_keys`` computes
    different features than training did (another checkpoint, other settings): that is logged
    as a warning, since scores may then be off; an empty ``extractor_keys`` skips the check.
    """
    config = _config_of(config)
    names = list(config.extractors or [])
    if not names:
        raise PredictionError("the model's config names no feature extractors")
    known = set(config.extractor_keys or [])
    all_options = config.extractor_options or {}
    out = []
    for name in names:
        options = dict(all_options.get(name) or {})
        options["device"] = device
        if batch_size is not None:
            options["batch_size"] = int(batch_size)
        else:
            options.pop("batch_size", None)
        ext = get_extractor(name, **options)
        if known and ext.key not in known:
            logger.warning(
                "extractor %r now has key %s, which is not among the model's training keys "
                "(%s): its features differ from those the model was trained on",
                name,
                ext.key,
                ", ".join(sorted(known)),
            )
        out.append(ext)
    return out


# --------------------------------------------------------------------------------------------
# Features and scores


def encode_video(
    path: str | Path,
    model_or_config: LTVHDModel | LTVHDConfig,
    *,
    device: str = "cpu",
    batch_size: int | None = None,
    show_progress: bool = False,
    progress: Callable[[int, int], None] | None = None,
    extractors: Sequence[FeatureExtractor] | None = None,
) -> dict[str, np.ndarray]:
    """Features of one video with the model's own extractors (one decode for all of them).

    Returns ``{"visual": (n, Dv), "audio": (n, Da), "audio_mask": (n,)}``. A video shorter
    than one clip of the grid has nothing to score: :class:`PredictionError` naming the file.
    ``progress(done, total)`` receives clip counts as they are encoded. ``extractors``: the
    model's, already built (:func:`build_extractors`).
    """
    if extractors is None:
        extractors = build_extractors(model_or_config, device=device, batch_size=batch_size)
    # probes and decodes once
    feats = extract_video(path, extractors, show_progress=show_progress, progress=progress)
    if len(feats["audio_mask"]) == 0:
        raise PredictionError(
            f"{path}: the video lasts {probe(path).duration:.2f} s, shorter than one clip: "
            f"prediction needs at least {MIN_LAST_CLIP_SECONDS:g} s (clips are "
            f"{CLIP_SECONDS:g} s; a final partial clip counts from {MIN_LAST_CLIP_SECONDS:g} s)"
        )
    return feats


def split_features(
    features: Mapping[str, np.ndarray], extractors: Sequence[FeatureExtractor]
) -> dict[str, dict[str, np.ndarray]]:
    """:func:`encode_video`'s features cut back into each extractor's own columns (by its
    ``dims``, in order): ``{name: {modality: (n, D)}}``, e.g. the handcrafted cues that the
    demo's baseline curves read, without decoding the video again."""
    out: dict[str, dict[str, np.ndarray]] = {}
    start = dict.fromkeys(("visual", "audio"), 0)
    for ext in extractors:
        block = {}
        for modality, width in ext.dims.items():
            a = start[modality]
            block[modality] = np.asarray(features[modality])[:, a : a + width]
            start[modality] = a + width
        out[ext.name] = block
    return out


def model_device(model: Any) -> Any:
    try:
        return next(model.parameters()).device
    except StopIteration:  # pragma: no cover - LTV-HD always has parameters
        return "cpu"


def predict(
    model: LTVHDModel, features: Mapping[str, np.ndarray], *, device: str | None = None
) -> np.ndarray:
    """Per-clip highlight scores in [0, 1]: float32 ``(num_clips,)``.

    The whole video goes through in one pass (LTRM's attention is local, so cost and memory
    grow linearly with the number of clips). Feature widths are checked against the model's
    config first, since features from other extractors would give meaningless scores.
    ``device`` (default: where the model is) moves the model there.
    """
    import torch

    cfg = model.config
    extractors = ", ".join(cfg.extractors or []) or "none recorded"
    if "visual" not in features:
        raise PredictionError("features have no 'visual' array")
    visual = np.asarray(features["visual"], dtype=np.float32)
    n = visual.shape[0] if visual.ndim == 2 else -1
    audio = features.get("audio")
    audio = None if audio is None else np.asarray(audio, dtype=np.float32)
    dv = visual.shape[1] if visual.ndim == 2 else None
    da = audio.shape[1] if audio is not None and audio.ndim == 2 else 0
    if (
        visual.ndim != 2
        or dv != cfg.visual_dim
        or (cfg.audio_dim > 0 and audio is not None and da != cfg.audio_dim)
    ):
        raise PredictionError(
            f"feature widths do not fit the model: got visual {dv if dv is not None else '?'}"
            f" and audio {da}, the model expects visual_dim {cfg.visual_dim} and audio_dim "
            f"{cfg.audio_dim} (its extractors: {extractors}); encode the video with the "
            "model's own extractors (tvhighlights.inference.encode_video(path, model))"
        )
    if audio is not None and audio.shape[0] != n:
        raise PredictionError(
            f"features disagree on the clip count: visual {n}, audio {audio.shape[0]}"
        )
    if n == 0:
        raise PredictionError("features have 0 clips: nothing to score")
    if not np.isfinite(visual).all() or (audio is not None and not np.isfinite(audio).all()):
        raise PredictionError("features contain NaN or infinite values")
    mask = features.get("audio_mask")
    amask = None
    if mask is not None:
        m = np.asarray(mask).astype(bool).reshape(-1)
        if m.size == 1:
            m = np.full(n, bool(m[0]))
        if m.shape[0] != n:
            raise PredictionError(f"audio_mask has {m.shape[0]} entries for {n} clips")
        amask = m

    if device is not None:
        model.to(device)
    dev = model_device(model)
    dtype = next(model.parameters()).dtype
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            v = torch.from_numpy(visual).to(device=dev, dtype=dtype)[None]
            a = None
            am = None
            if cfg.audio_dim > 0 and audio is not None:
                a = torch.from_numpy(audio).to(device=dev, dtype=dtype)[None]
                if amask is not None:
                    am = torch.from_numpy(amask).to(device=dev)[None]
            attention = torch.ones(1, n, dtype=torch.bool, device=dev)
            out = model(
                visual_features=v, audio_features=a, attention_mask=attention, audio_mask=am
            )
            scores = out.scores[0].float().cpu().numpy().astype(np.float32)
    finally:
        model.train(was_training)
    return scores
