"""LTV-HD's LTRM network: per-clip highlight scores from visual and audio features.

LTRM (Local Temporal Relation Multimodal network), as the TVHighlights paper describes it:

1. single-modal encoders: each stream is standardised (statistics of the training set, kept
   as buffers), projected to ``hidden_size`` and passed through a feed-forward block;
2. a cross-modal encoder: learned bottleneck tokens ``z_i`` gather from every clip of each
   modality, ``z'_i = z_i + W_z sum_t softmax_t(W_q z_i . W_k x_t) W_v x_t`` (x in {v, a}),
   then each modality reads back from ``z'`` (the bottleneck as key/value);
3. local temporal relation transformer layers: self-attention restricted to ``window_size``
   neighbouring clips (distant clips only interfere), with a learned relative-position bias;
   cost and memory are linear in the number of clips;
4. a detection head: one logit per clip, ``scores = sigmoid(logits)`` in [0, 1].

Losses: with ``video_labels`` the multiple-instance loss of stage 1 (a video's score is the
mean of its ``top_k`` clip scores, binary cross-entropy against the video label); with
``labels`` (per clip, soft, in [0, 1]) binary cross-entropy per clip.

This file is copied next to the weights by ``save_pretrained``; it imports only torch,
transformers and its sibling configuration (relatively), so ``AutoModel.from_pretrained(...,
trust_remote_code=True)`` works without the ``tvhighlights`` package.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers.utils import ModelOutput

from .configuration_ltvhd import LTVHDConfig

__all__ = ["LTVHDModel", "LTVHDOutput", "LTVHDPreTrainedModel", "mil_video_scores", "model_card"]


@dataclass
class LTVHDOutput(ModelOutput):
    """Output of :class:`LTVHDModel`.

    Args:
        loss: scalar, when ``labels`` or ``video_labels`` were given.
        logits: ``(batch, num_clips)`` per-clip logits (padding clips hold -inf... no: large
            negative values; use ``attention_mask``).
        scores: ``(batch, num_clips)`` per-clip highlight scores ``sigmoid(logits)``, 0 on
            padding.
        video_scores: ``(batch,)`` the MIL video score (mean of the top-k clip scores).
    """

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    scores: torch.Tensor | None = None
    video_scores: torch.Tensor | None = None


def mil_video_scores(scores: torch.Tensor, mask: torch.Tensor, top_k: int) -> torch.Tensor:
    """Mean of the ``top_k`` highest clip scores of each video (fewer when it has fewer clips).

    ``scores`` and ``mask`` are ``(batch, num_clips)``; padding clips never count.
    """
    k = min(int(top_k), scores.shape[1])
    masked = scores.masked_fill(~mask, float("-inf"))
    top = masked.topk(k, dim=1).values  # (B, k), -inf where a video has fewer valid clips
    valid = torch.isfinite(top)
    count = valid.sum(dim=1).clamp(min=1)
    return torch.where(valid, top, torch.zeros_like(top)).sum(dim=1) / count


class LocalSelfAttention(nn.Module):
    """Multi-head self-attention where clip ``t`` sees clips ``t - r .. t + r`` only.

    Keys and values are gathered in windows (``unfold``), so time and memory grow linearly
    with the number of clips; a learned bias per head and relative offset gives order.
    """

    def __init__(self, hidden: int, heads: int, window: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.window = window
        self.radius = window // 2
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)
        self.rel_bias = nn.Parameter(torch.zeros(heads, window))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, t, h = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, self.head_dim).unbind(dim=2)
        r, w = self.radius, self.window
        # (B, T + 2r, heads, dim) -> windows (B, T, heads, dim, W)
        k_win = F.pad(k, (0, 0, 0, 0, r, r)).unfold(1, w, 1)
        v_win = F.pad(v, (0, 0, 0, 0, r, r)).unfold(1, w, 1)
        key_ok = F.pad(mask, (r, r), value=False).unfold(1, w, 1)  # (B, T, W)
        att = torch.einsum("btnd,btndw->btnw", q, k_win) / math.sqrt(self.head_dim)
        att = att + self.rel_bias.to(att.dtype)
        att = att.masked_fill(~key_ok[:, :, None, :], torch.finfo(att.dtype).min)
        att = self.drop(att.softmax(dim=-1))
        y = torch.einsum("btnw,btndw->btnd", att, v_win).reshape(b, t, h)
        return self.out(y)


class FeedForward(nn.Module):
    def __init__(self, hidden: int, intermediate: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(hidden, intermediate),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(intermediate, hidden),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class LocalTemporalLayer(nn.Module):
    """Pre-norm transformer layer with :class:`LocalSelfAttention`."""

    def __init__(self, config: LTVHDConfig) -> None:
        super().__init__()
        h = config.hidden_size
        self.norm1 = nn.LayerNorm(h)
        self.attn = LocalSelfAttention(h, config.num_heads, config.window_size, config.dropout)
        self.norm2 = nn.LayerNorm(h)
        self.ffn = FeedForward(h, config.intermediate_size, config.dropout)
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = x + self.drop(self.attn(self.norm1(x), mask))
        return x + self.drop(self.ffn(self.norm2(x)))


class ModalityEncoder(nn.Module):
    """Standardise, project to ``hidden_size``, a residual feed-forward block (per clip; the
    temporal context comes from the fusion and the local temporal layers)."""

    def __init__(self, dim: int, config: LTVHDConfig) -> None:
        super().__init__()
        self.register_buffer("feature_mean", torch.zeros(dim))
        self.register_buffer("feature_std", torch.ones(dim))
        self.proj = nn.Linear(dim, config.hidden_size)
        self.norm = nn.LayerNorm(config.hidden_size)
        self.ffn_norm = nn.LayerNorm(config.hidden_size)
        self.ffn = FeedForward(config.hidden_size, config.intermediate_size, config.dropout)
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(self.proj((x - self.feature_mean) / self.feature_std))
        return h + self.drop(self.ffn(self.ffn_norm(h)))


class BottleneckFusion(nn.Module):
    """The cross-modal encoder: bottleneck tokens gather from both streams, then broadcast.

    ``z'_i = z_i + W_z sum_t softmax_t(W_q z_i . W_k x_t) W_v x_t`` summed over the
    modalities present (a video without audio gathers from the visual stream only); every
    clip of each modality then attends to ``z'`` and adds what it reads.
    """

    def __init__(self, config: LTVHDConfig, num_modalities: int) -> None:
        super().__init__()
        h = config.hidden_size
        self.tokens = nn.Parameter(torch.zeros(config.num_bottleneck_tokens, h))
        self.gather = nn.ModuleList(
            nn.MultiheadAttention(h, config.num_heads, dropout=config.dropout, batch_first=True)
            for _ in range(num_modalities)
        )
        self.w_z = nn.Linear(h, h)
        self.broadcast = nn.ModuleList(
            nn.MultiheadAttention(h, config.num_heads, dropout=config.dropout, batch_first=True)
            for _ in range(num_modalities)
        )
        self.norms = nn.ModuleList(nn.LayerNorm(h) for _ in range(num_modalities))

    def forward(self, streams: list[torch.Tensor], masks: list[torch.Tensor]) -> list[torch.Tensor]:
        b = streams[0].shape[0]
        z = self.tokens.unsqueeze(0).expand(b, -1, -1)
        gathered = torch.zeros_like(z)
        for attn, x, m in zip(self.gather, streams, masks, strict=True):
            present = m.any(dim=1)  # (B,) a stream with no valid clip contributes nothing
            safe = m.clone()
            safe[~present, 0] = True  # keep softmax finite; the result is zeroed below
            got, _ = attn(z, x, x, key_padding_mask=~safe, need_weights=False)
            gathered = gathered + got * present[:, None, None].to(got.dtype)
        z = z + self.w_z(gathered)
        out = []
        for attn, norm, x in zip(self.broadcast, self.norms, streams, strict=True):
            read, _ = attn(x, z, z, need_weights=False)
            out.append(norm(x + read))
        return out


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "n/a" if v != v else f"{v:.2f}"
    return str(v)


def model_card(config: Any) -> str:
    """Markdown with a YAML header (library, tags) for ``config`` (an ``LTVHDConfig``)."""
    s = config.training_summary or {}
    metrics = s.get("validation_metrics", {})
    rows = "\n".join(f"| {k} | {_fmt(v)} |" for k, v in metrics.items())
    hp = s.get("hyperparameters", {})
    trained = (
        f"Stage {s.get('stage')} ({s.get('method')}) on `{s.get('dataset')}` with the features "
        f"in `{s.get('features')}`: {s.get('train_videos')} training videos, validation on "
        f"{s.get('validation')}; best epoch {s.get('epoch')}."
        if s
        else "Not trained yet (random initialisation)."
    )
    return f"""---
library_name: transformers
pipeline_tag: video-classification
tags:
- video-highlight-detection
- tvhighlights
- ltv-hd
- custom_code
---

# LTV-HD (LTRM + MIL)

Per-clip highlight scores for films and TV episodes on the 2-second grid, from per-clip
features of the extractors `{", ".join(config.extractors)}` (visual width {config.visual_dim},
audio width {config.audio_dim}). Architecture: modality encoders, {config.num_bottleneck_tokens}
bottleneck tokens for cross-modal fusion, {config.num_layers} local temporal relation layers
(window {config.window_size} clips), hidden size {config.hidden_size}; video score = mean of
the top-{config.top_k} clip scores.

## How it was trained

{trained}

| validation metric | value |
|---|---|
{rows or "| none | |"}

{f"Command: `{s['command']}`" if s.get("command") else ""}

Hyper-parameters:

```json
{json.dumps(hp, indent=2, default=str)}
```

## Use

```python
from tvhighlights import LTVHDModel                 # with the tvhighlights package
model = LTVHDModel.from_pretrained("THIS_FOLDER_OR_REPO")

from transformers import AutoModel                  # without it
model = AutoModel.from_pretrained("THIS_FOLDER_OR_REPO", trust_remote_code=True)
```

```bash
tvhighlights predict film.mp4 --model THIS_FOLDER_OR_REPO --out film.highlights.json \\
    --plot film.png --reel film.reel.mp4
```
"""


class LTVHDPreTrainedModel(PreTrainedModel):
    """Weight initialisation and the hooks ``from_pretrained`` needs."""

    config_class = LTVHDConfig
    base_model_prefix = "ltvhd"
    main_input_name = "visual_features"

    def save_pretrained(self, save_directory: str | os.PathLike, *args: Any, **kwargs: Any):
        """As transformers saves a model, plus the model card (README.md) from the config."""
        out = super().save_pretrained(save_directory, *args, **kwargs)
        if kwargs.get("is_main_process", True):
            path = os.path.join(save_directory, "README.md")
            tmp = f"{path}.tmp-{os.getpid()}"
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(model_card(self.config))
            os.replace(tmp, path)
        return out

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            module.weight.normal_(mean=0.0, std=0.02)
            if module.bias is not None:
                module.bias.zero_()
        elif isinstance(module, nn.LayerNorm):
            module.weight.fill_(1.0)
            module.bias.zero_()
        elif isinstance(module, nn.MultiheadAttention):
            module.in_proj_weight.normal_(mean=0.0, std=0.02)
            module.in_proj_bias.zero_()
            module.out_proj.weight.normal_(mean=0.0, std=0.02)
            module.out_proj.bias.zero_()
        elif isinstance(module, LocalSelfAttention):
            module.rel_bias.zero_()
        elif isinstance(module, BottleneckFusion):
            module.tokens.normal_(mean=0.0, std=0.02)
        elif isinstance(module, ModalityEncoder):
            module.feature_mean.zero_()
            module.feature_std.fill_(1.0)


class LTVHDModel(LTVHDPreTrainedModel):
    """LTRM: per-clip highlight scores from per-clip visual (and audio) features.

    Example::

        model = LTVHDModel(LTVHDConfig(visual_dim=768, audio_dim=512))
        out = model(visual_features=v, audio_features=a, attention_mask=m)
        out.scores  # (batch, num_clips) in [0, 1]
    """

    def __init__(self, config: LTVHDConfig) -> None:
        super().__init__(config)
        self.visual_encoder = ModalityEncoder(config.visual_dim, config)
        self.audio_encoder = (
            ModalityEncoder(config.audio_dim, config) if config.audio_dim > 0 else None
        )
        self.fusion = BottleneckFusion(config, 2 if self.audio_encoder is not None else 1)
        self.audio_gate = nn.Linear(config.hidden_size, config.hidden_size)
        self.layers = nn.ModuleList(LocalTemporalLayer(config) for _ in range(config.num_layers))
        self.head_norm = nn.LayerNorm(config.hidden_size)
        self.head = nn.Sequential(
            nn.Linear(config.hidden_size, config.hidden_size // 2),
            nn.GELU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.hidden_size // 2, 1),
        )
        self.post_init()

    def set_feature_statistics(
        self,
        visual_mean: torch.Tensor,
        visual_std: torch.Tensor,
        audio_mean: torch.Tensor | None = None,
        audio_std: torch.Tensor | None = None,
    ) -> None:
        """Standardisation of the inputs (from the training set); saved with the weights."""
        enc = [(self.visual_encoder, visual_mean, visual_std)]
        if self.audio_encoder is not None and audio_mean is not None:
            enc.append((self.audio_encoder, audio_mean, audio_std))
        with torch.no_grad():
            for e, mean, std in enc:
                e.feature_mean.copy_(torch.as_tensor(mean, dtype=e.feature_mean.dtype))
                std = torch.as_tensor(std, dtype=e.feature_std.dtype)
                e.feature_std.copy_(torch.where(std > 1e-6, std, torch.ones_like(std)))

    def forward(
        self,
        visual_features: torch.Tensor,
        audio_features: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        audio_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        video_labels: torch.Tensor | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> LTVHDOutput | tuple:
        r"""Score every clip.

        Args:
            visual_features: ``(batch, num_clips, visual_dim)``.
            audio_features: ``(batch, num_clips, audio_dim)``, or ``None`` (no audio: the
                model uses the visual stream only).
            attention_mask: ``(batch, num_clips)``, 1 for real clips, 0 for padding.
            audio_mask: ``(batch,)`` or ``(batch, num_clips)``, 0 where a video has no audio.
            labels: ``(batch, num_clips)`` per-clip targets in [0, 1] (soft labels).
            video_labels: ``(batch,)`` video-level labels in {0, 1} (MIL, stage 1).

        Returns:
            :class:`LTVHDOutput` with ``logits``, ``scores``, ``video_scores`` ``(batch,)``
            and ``loss`` when labels are given (the sum of both losses when both are).
        """
        if visual_features.dim() != 3 or visual_features.shape[-1] != self.config.visual_dim:
            raise ValueError(
                f"visual_features must be (batch, num_clips, {self.config.visual_dim}), "
                f"got {tuple(visual_features.shape)}"
            )
        b, t, _ = visual_features.shape
        device = visual_features.device
        mask = (
            torch.ones(b, t, dtype=torch.bool, device=device)
            if attention_mask is None
            else attention_mask.to(device=device, dtype=torch.bool)
        )
        streams = [self.visual_encoder(visual_features)]
        masks = [mask]
        if self.audio_encoder is not None:
            if audio_features is not None and audio_features.shape[-1] != self.config.audio_dim:
                raise ValueError(
                    f"audio_features must be (batch, num_clips, {self.config.audio_dim}), "
                    f"got {tuple(audio_features.shape)}"
                )
            if audio_features is None:
                audio_features = visual_features.new_zeros(b, t, self.config.audio_dim)
                amask = torch.zeros_like(mask)
            elif audio_mask is None:
                amask = mask
            else:
                am = audio_mask.to(device=device, dtype=torch.bool)
                amask = mask & (am[:, None] if am.dim() == 1 else am)
            streams.append(self.audio_encoder(audio_features))
            masks.append(amask)
        fused = self.fusion(streams, masks)
        h = fused[0]
        if len(fused) > 1:  # audio joins through a gate, and only where it exists
            gate = torch.sigmoid(self.audio_gate(fused[0]))
            h = h + gate * fused[1] * masks[1][..., None].to(h.dtype)
        for layer in self.layers:
            h = layer(h, mask)
        logits = self.head(self.head_norm(h)).squeeze(-1)
        scores = torch.sigmoid(logits) * mask.to(logits.dtype)
        video_scores = mil_video_scores(scores, mask, self.config.top_k)

        loss = None
        if video_labels is not None:
            y = video_labels.to(device=device, dtype=video_scores.dtype).view(-1)
            p = video_scores.clamp(1e-6, 1 - 1e-6)
            loss = F.binary_cross_entropy(p, y)
        if labels is not None:
            y = labels.to(device=device, dtype=logits.dtype)
            per_clip = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
            m = mask.to(logits.dtype)
            clip_loss = (per_clip * m).sum() / m.sum().clamp(min=1)
            loss = clip_loss if loss is None else loss + clip_loss

        if return_dict is False:
            out = (logits, scores, video_scores)
            return (loss, *out) if loss is not None else out
        return LTVHDOutput(loss=loss, logits=logits, scores=scores, video_scores=video_scores)
