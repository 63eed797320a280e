"""HL-CLIP (seed 003, Han et al., "Unleash the Potential of CLIP for Video Highlight Detection").

The paper: a clip's saliency is the cosine of its frame's CLIP image embedding with the query's
embedding from the *same* CLIP's text tower (its eq. 3; no detector head). It fine-tunes the
last two layers of both encoders on QVHighlights with the MSE between that cosine and the
annotated saliency normalised to [0, 1], unlabelled frames counting as 0 (eq. 4), and at
inference averages each frame's score with its neighbours' ("saliency pooling").

Here, two rows:

- ``hl-clip`` (zero-shot): the cosine of the stored ``clip`` extractor's visual embedding with
  the text embedding of the video's title, then saliency pooling. Nothing is trained; ``fit``
  only loads the text tower of the checkpoint the store's features came from.
- ``hl-clip-adapted``: the paper fine-tunes encoder layers, but the store holds one CLIP
  vector per clip, not frames, so the vision tower cannot be tuned. A residual adapter on the
  frozen image embedding, ``x + W2 act(W1 x)`` with ``W2`` zeroed (exactly the zero-shot
  model at init), is trained with the paper's MSE instead; the text tower stays frozen. What
  this loses: no change to the image features themselves (only a map on their pooled output,
  after the frame mean), no text-side tuning (the title embedding is fixed), and no token-level
  interaction the last transformer layers could learn.

The query is the title (``text="title"``), or with ``text="genre"`` the prompt
:data:`GENRE_TEMPLATE` (``"a highlight moment of a {genre} film"``; a row without a genre
gets :data:`GENERIC_PROMPT`, ``"a highlight moment of a film"``). QVHighlights' queries are
written per video by people; a title says much less about which moment is the highlight.

Documented choices (the seed gives none of these):

- ``window=1``: saliency pooling averages clips ``j-1..j+1``; at the edges, over the clips
  that exist. Pooling is applied at inference only, as in the paper.
- Targets: the train labels (reuse counts) divided by the video's largest, so the top clip
  is 1 and unreused clips 0 (the paper's Likert scale normalised to [0, 1]); a video with
  no reused clip has all targets 0.
- Adapter: hidden width ``dim // reduction`` with ``reduction=4`` (CLIP-Adapter's), GELU,
  applied to the L2-normalised embedding (the cosine ignores scale, so the zero-shot score
  is unchanged; features are not standardised, which would break the match with the text
  tower's space). AdamW, ``lr=1e-3``, no weight decay, ``epochs=20``, ``batch_videos=16``
  videos per step (all their clips stacked, the paper's K x N batch), loss averaged over
  clips (eq. 4).
- Text: ``AutoTokenizer`` of the checkpoint folder, truncated at the text tower's length
  (77 for CLIP); the embedding is ``CLIPTextModelWithProjection``'s ``text_embeds``.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tvhighlights.errors import BaselineInputError, InvalidArgumentError, TVHighlightsError

from .base import Baseline, BaselineData, BaselineVideo, PaperFigure

logger = logging.getLogger(__name__)

__all__ = [
    "GENERIC_PROMPT",
    "GENRE_TEMPLATE",
    "HLCLIPBaseline",
    "ResidualAdapter",
    "cosine_saliency",
    "genre_prompt",
    "saliency_pooling",
    "saliency_targets",
]

EXTRACTOR = "clip"
"""The extractor whose visual block (CLIP image embeddings) HL-CLIP scores."""

GENRE_TEMPLATE = "a highlight moment of a {genre} film"
"""The query for ``text="genre"``."""

GENERIC_PROMPT = "a highlight moment of a film"
"""The query for ``text="genre"`` when the row has no genre."""

TEXTS = ("title", "genre")


# -- the method's math -------------------------------------------------------------------------


def cosine_saliency(image: torch.Tensor, text: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Eq. 3: ``(K,)`` cosines of ``image`` rows ``(K, D)`` with ``text`` (``(D,)``,
    broadcast over the K clips, or ``(K, D)`` one per clip)."""
    image = torch.as_tensor(image)
    text = torch.as_tensor(text, dtype=image.dtype, device=image.device)
    return torch.nn.functional.cosine_similarity(image, text.expand_as(image), dim=-1, eps=eps)


def saliency_pooling(scores: np.ndarray, window: int = 1) -> np.ndarray:
    """Saliency pooling: each score averaged with its ``window`` neighbours on either side;
    near the edges the mean is over the neighbours that exist. ``window=0`` is the identity."""
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if window < 0:
        raise InvalidArgumentError(f"window must be >= 0, got {window!r}", param="window")
    n = s.shape[0]
    if n == 0 or window == 0:
        return s.copy()
    c = np.concatenate([[0.0], np.cumsum(s)])
    idx = np.arange(n)
    lo = np.maximum(idx - window, 0)
    hi = np.minimum(idx + window + 1, n)
    return (c[hi] - c[lo]) / (hi - lo)


def saliency_targets(labels: np.ndarray) -> np.ndarray:
    """Train targets in [0, 1]: labels over the video's largest (all 0 if none is positive)."""
    y = np.clip(np.asarray(labels, dtype=np.float64), 0.0, None)
    top = float(y.max()) if y.size else 0.0
    return y / top if top > 0 else np.zeros_like(y)


def genre_prompt(genre: str | None) -> str:
    """The ``text="genre"`` query: :data:`GENRE_TEMPLATE`, or :data:`GENERIC_PROMPT`."""
    g = (genre or "").strip()
    return GENRE_TEMPLATE.format(genre=g) if g else GENERIC_PROMPT


class ResidualAdapter(torch.nn.Module):
    """``x + W2 act(W1 x)`` on L2-normalised ``x``; ``W2`` and its bias start at zero, so the
    adapter is exactly the identity (the zero-shot model) until it is trained."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.down = torch.nn.Linear(dim, hidden)
        self.act = torch.nn.GELU()
        self.up = torch.nn.Linear(hidden, dim)
        torch.nn.init.zeros_(self.up.weight)
        torch.nn.init.zeros_(self.up.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.nn.functional.normalize(x, dim=-1)
        return x + self.up(self.act(self.down(x)))


# -- the baseline ----------------------------------------------------------------------------


class HLCLIPBaseline(Baseline):
    """CLIP image-text cosine with the title (or a genre prompt), saliency-pooled; optionally
    through a residual adapter trained with MSE on the train labels (see the module doc)."""

    description = "seed 003: CLIP image-text cosine with the title, saliency pooling"
    paper = "seed 003: Unleash the Potential of CLIP for Video Highlight Detection (HL-CLIP)"
    paper_figures = (
        PaperFigure("QVHighlights test", "HD (>= Very Good) mAP", 41.94, "seed 003, Table 1"),
        PaperFigure("QVHighlights test", "HD (>= Very Good) HIT@1", 70.60, "seed 003, Table 1"),
        PaperFigure("QVHighlights val", "HD (>= Very Good) mAP", 42.37, "seed 003, Table 1"),
        PaperFigure("QVHighlights val", "HD (>= Very Good) HIT@1", 72.40, "seed 003, Table 1"),
        PaperFigure(
            "QVHighlights val", "HD (>= Very Good) mAP", 42.40, "seed 003, Table 2: HL-CLIP-2 (SP)"
        ),
        PaperFigure(
            "QVHighlights val", "HD (>= Very Good) HIT@1", 72.42,
            "seed 003, Table 2: HL-CLIP-2 (SP)",
        ),
    )  # fmt: skip

    def __init__(
        self,
        adapt: bool = False,
        text: str = "title",
        window: int = 1,
        *,
        epochs: int = 20,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        reduction: int = 4,
        batch_videos: int = 16,
        text_batch_size: int = 64,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        if text not in TEXTS:
            raise InvalidArgumentError(
                f"text must be one of {', '.join(TEXTS)}, got {text!r}", param="text"
            )
        for param, value, least in (
            ("window", window, 0),
            ("epochs", epochs, 0),
            ("reduction", reduction, 1),
            ("batch_videos", batch_videos, 1),
            ("text_batch_size", text_batch_size, 1),
        ):
            if int(value) < least:
                raise InvalidArgumentError(
                    f"{param} must be >= {least}, got {value!r}", param=param
                )
        if not float(lr) > 0:
            raise InvalidArgumentError(f"lr must be > 0, got {lr!r}", param="lr")
        self.adapt = bool(adapt)
        self.text = text
        self.window = int(window)
        self.epochs = int(epochs)
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.reduction = int(reduction)
        self.batch_videos = int(batch_videos)
        self.text_batch_size = int(text_batch_size)
        self.seed = int(seed)
        self.device = device
        self.requires = (EXTRACTOR, "title") if text == "title" else (EXTRACTOR,)
        self.supervised = self.adapt  # type: ignore[misc]  # the adapted row reads labels
        self.model_name: str | None = None
        self.dim: int | None = None
        self.adapter: ResidualAdapter | None = None
        self.history_: list[float] = []
        """Train MSE before training (the zero-shot model) and after each epoch."""
        self._tokenizer: Any = None
        self._text_model: Any = None
        self._max_length = 77
        self._text_cache: dict[str, np.ndarray] = {}

    # -- text -------------------------------------------------------------------------------------

    def query(self, video: BaselineVideo) -> str:
        """The text the video's clips are compared with: its title, or the genre prompt."""
        return (video.title or "").strip() if self.text == "title" else genre_prompt(video.genre)

    def _load_text_tower(self, model: str) -> None:
        """The tokenizer and ``CLIPTextModelWithProjection`` of the CLIP checkpoint ``model``."""
        from transformers import AutoTokenizer, CLIPTextModelWithProjection

        from tvhighlights.features.hf import load_config, load_pretrained

        try:
            config = load_config(model, what="CLIP model", option="clip.model")
        except TVHighlightsError as e:
            raise BaselineInputError(f"baseline {self.name!r}: {e}") from e
        if config.model_type != "clip" or getattr(config, "text_config", None) is None:
            raise self._no_text_tower(model, config.model_type)
        text_config = copy.deepcopy(config.text_config)
        # As for the vision tower in the clip extractor: the sub-config's own projection_dim
        # (512 by default) must be the top-level one for the projection weights to load.
        text_config.projection_dim = config.projection_dim
        try:
            tokenizer = AutoTokenizer.from_pretrained(model)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise BaselineInputError(
                f"baseline {self.name!r}: the CLIP checkpoint {model} has no usable tokenizer "
                f"({' '.join(str(e).split())[:200]}); save the checkpoint's tokenizer into it"
            ) from e
        try:
            text_model = load_pretrained(
                CLIPTextModelWithProjection,
                model,
                what="CLIP model",
                option="clip.model",
                device=torch.device(self.device),
                dtype=torch.float32,
                config=text_config,
            )
        except TVHighlightsError as e:
            raise BaselineInputError(f"baseline {self.name!r}: {e}") from e
        self.model_name = model
        self.dim = int(config.projection_dim)
        self._tokenizer = tokenizer
        self._text_model = text_model
        self._max_length = int(text_config.max_position_embeddings)
        self._text_cache = {}

    def _no_text_tower(self, model: str, model_type: str | None) -> BaselineInputError:
        return BaselineInputError(
            f"baseline {self.name!r} needs CLIP's text tower, but the CLIP checkpoint {model} "
            f"(model_type {model_type!r}) has no text tower: the store's clip features were "
            f"extracted from a vision-only checkpoint. Extract them with a full CLIP "
            f"(model_type clip, e.g. openai/clip-vit-large-patch14)"
        )

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised text embeddings ``(len(texts), D)``, cached by text."""
        if self._text_model is None:
            raise BaselineInputError(
                f"baseline {self.name!r} is not fitted: call fit on the train split first "
                f"(it loads the text tower of the store's CLIP checkpoint)"
            )
        todo = list(dict.fromkeys(t for t in texts if t not in self._text_cache))
        for i in range(0, len(todo), self.text_batch_size):
            chunk = todo[i : i + self.text_batch_size]
            enc = self._tokenizer(
                chunk,
                padding=True,
                truncation=True,
                max_length=self._max_length,
                return_tensors="pt",
            )
            enc = {
                k: v.to(self.device) for k, v in enc.items() if k in ("input_ids", "attention_mask")
            }
            with torch.inference_mode():
                emb = self._text_model(**enc).text_embeds.float()
            emb = torch.nn.functional.normalize(emb, dim=-1).cpu().numpy()
            self._text_cache.update(zip(chunk, emb, strict=True))
        return np.stack([self._text_cache[t] for t in texts]).astype(np.float32, copy=False)

    # -- fit and score ----------------------------------------------------------------------------

    def _visual(self, video: BaselineVideo) -> np.ndarray:
        block = video.features.get(EXTRACTOR, {}).get("visual")
        if block is None:
            raise BaselineInputError(
                f"baseline {self.name!r} needs the {EXTRACTOR!r} extractor's visual features, "
                f"but video {video.video_id!r} has none"
            )
        if self.dim is not None and block.shape[1] != self.dim:
            raise BaselineInputError(
                f"baseline {self.name!r}: video {video.video_id!r} has {block.shape[1]}-wide "
                f"clip features, but the CLIP checkpoint {self.model_name} embeds text in "
                f"{self.dim} dimensions; the features must be that checkpoint's projected image "
                f"embeddings"
            )
        return np.asarray(block, dtype=np.float32)

    def fit(
        self, train: BaselineData, *, work_dir: Path | None = None, show_progress: bool = False
    ) -> HLCLIPBaseline:
        """Load the text tower of the checkpoint the ``clip`` features came from; with
        ``adapt=True`` also train the adapter on the train labels."""
        info = train.extractors.get(EXTRACTOR)
        if info is None:
            raise BaselineInputError(
                f"baseline {self.name!r} needs the {EXTRACTOR!r} extractor's features, but the "
                f"train split's store has only {', '.join(train.extractors) or 'none'}; run "
                f"`tvhighlights extract --extractors {EXTRACTOR}` first"
            )
        settings = info.get("settings") or {}
        model = settings.get("model")
        if not model:
            raise BaselineInputError(
                f"baseline {self.name!r}: the store's {EXTRACTOR!r} extractor records no "
                f"model in its settings, so the CLIP checkpoint (for its text tower) is unknown"
            )
        if settings.get("model_type") == "clip_vision_model":
            raise self._no_text_tower(str(model), "clip_vision_model")
        self._load_text_tower(str(model))
        self.adapter = None
        self.history_ = []
        if self.adapt:
            self._train_adapter(train, show_progress=show_progress)
        return self

    def _train_adapter(self, train: BaselineData, *, show_progress: bool) -> None:
        from tqdm.auto import tqdm

        videos = train.videos
        if not videos:
            raise BaselineInputError(f"baseline {self.name!r} needs train videos to adapt")
        missing = [v.video_id for v in videos if v.labels is None]
        if missing:
            raise BaselineInputError(
                f"baseline {self.name!r} trains on clip labels, but {len(missing)} train "
                f"video(s) have none (e.g. {missing[0]!r})"
            )
        for v in videos:
            self.check(v)
        assert self.dim is not None
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        dev = torch.device(self.device)
        x = torch.from_numpy(np.concatenate([self._visual(v) for v in videos])).to(dev)
        texts = torch.from_numpy(self.embed_texts([self.query(v) for v in videos])).to(dev)
        owner = torch.from_numpy(np.repeat(np.arange(len(videos)), [v.num_clips for v in videos]))
        owner = owner.to(dev)
        y = np.concatenate([saliency_targets(v.labels) for v in videos])  # type: ignore[arg-type]
        y = torch.from_numpy(y.astype(np.float32)).to(dev)
        bounds = np.concatenate([[0], np.cumsum([v.num_clips for v in videos])])

        adapter = ResidualAdapter(self.dim, max(1, self.dim // self.reduction)).to(dev)
        opt = torch.optim.AdamW(adapter.parameters(), lr=self.lr, weight_decay=self.weight_decay)

        def train_mse() -> float:
            with torch.no_grad():
                pred = cosine_saliency(adapter(x), texts[owner])
                return float(torch.mean((pred - y) ** 2))

        self.history_ = [train_mse()]
        bar = tqdm(range(self.epochs), desc=f"fit {self.name}", disable=not show_progress)
        for _ in bar:
            adapter.train()
            order = rng.permutation(len(videos))
            for i in range(0, len(order), self.batch_videos):
                pick = order[i : i + self.batch_videos]
                idx = torch.from_numpy(
                    np.concatenate([np.arange(bounds[j], bounds[j + 1]) for j in pick])
                ).to(dev)
                pred = cosine_saliency(adapter(x[idx]), texts[owner[idx]])
                loss = torch.mean((pred - y[idx]) ** 2)  # eq. 4
                opt.zero_grad()
                loss.backward()
                opt.step()
            adapter.eval()
            self.history_.append(train_mse())
            bar.set_postfix(mse=f"{self.history_[-1]:.4f}")
        adapter.eval()
        adapter.requires_grad_(False)
        self.adapter = adapter
        logger.info(
            "%s: adapter MSE %.4f -> %.4f in %d epochs",
            self.name,
            self.history_[0],
            self.history_[-1],
            self.epochs,
        )

    def raw_saliency(self, video: BaselineVideo) -> np.ndarray:
        """Eq. 3 per clip, before saliency pooling."""
        x = torch.from_numpy(self._visual(video)).to(self.device)
        t = torch.from_numpy(self.embed_texts([self.query(video)])[0]).to(self.device)
        with torch.inference_mode():
            if self.adapter is not None:
                x = self.adapter(x)
            return cosine_saliency(x, t).double().cpu().numpy()

    def score(self, video: BaselineVideo) -> np.ndarray:
        self.check(video)
        return saliency_pooling(self.raw_saliency(video), self.window)

    def score_many(
        self, videos: Sequence[BaselineVideo], *, show_progress: bool = False
    ) -> dict[str, np.ndarray]:
        """Embed every video's text in batches first, then score as the base class does."""
        for v in videos:
            self.check(v)
        self.embed_texts([self.query(v) for v in videos])
        return super().score_many(videos, show_progress=show_progress)
