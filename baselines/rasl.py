"""RASL (seed 004): unsupervised highlights from the activations of a cross-modal latent.

What the paper does (Li, Sun and Xiao, "Unsupervised Modality-Transferable Video Highlight
Detection with Representation Activation Sequence Learning"): a model is pretrained without
labels on image-audio pairs; a representation activation sequence learning (RASL) module
with k-point contrastive learning learns significant activations of the latent
representations, the top-k activations standing for the salient moments; a symmetric
contrastive learning (SCL) module ties the paired visual and audio representations; an
auxiliary masked feature vector sequence (FVS) reconstruction enhances the representation;
the losses are summed (multitask). At inference only the visual modality goes in and the RASL
activations are the highlight scores.

The seed gives the abstract only, so this module is a compact reconstruction from it, not a
reimplementation: the activation, the k-point loss, the architecture and every number below
are our choices. Here:

- Inputs are the stored clip features (every extractor side by side), not raw frames and
  spectrograms, standardised with train statistics (audio statistics over the clips of train
  videos that have an audio track). The pretraining pairs are the (visual, audio) features of
  the same 2-second clip of a train video; labels are never read.
- Encoders: a per-clip MLP for each modality (input -> ``hidden_dim`` -> ``latent_dim``, GELU)
  gives the latents ``z_v`` and ``z_a``.
- RASL: a clip's activation is ``tanh(rms(z))``, the squashed root-mean-square magnitude of
  its latent (how strongly the representation fires; no readout weights). Per video the top-k
  and bottom-k clips by activation are found (``k`` clamped to half the video's length); the
  k-point contrastive loss is a margin between them, ``relu(margin - (mean_top - mean_bottom))``
  (the margin variant, chosen because it trains the activations themselves; an InfoNCE on the
  latent directions would leave the magnitudes, hence the scores, untrained). Applied to the
  visual activation sequence of every train video and to the audio one of videos with audio.
- SCL: CLIP-style symmetric InfoNCE between the L2-normalised paired clip latents of a batch
  (both directions, averaged), at most ``scl_max_pairs`` pairs per batch drawn at random.
  Videos without an audio track are left out of the pairs (their audio block is zeros).
- FVS: a fraction ``mask_ratio`` of each video's clips is masked (their visual latents
  replaced by a learned mask token), a one-layer pre-LN transformer with sinusoidal positions
  over the latent sequence and a linear decoder reconstruct the masked clips' standardised
  visual input vectors; MSE on the masked positions. Gradients reach the visual encoder
  through the unmasked context, which is how the auxiliary task shapes the latent.
- Loss: ``w_rasl * (RASL_v + RASL_a) + w_scl * SCL + w_fvs * FVS``; AdamW, whole videos
  batched (padded, masked).
- Scores: ``rasl`` (``modalities=("visual",)``): the visual activation ``tanh(rms(z_v))`` of
  each clip, from the visual features alone. ``rasl-av``: the mean of the visual and audio
  activations where the video has an audio track, the visual activation alone where not.

What the adaptation loses: the paper's own backbone, its image-audio pretraining data and
whatever exact form its activation and k-point loss take. Being unsupervised, the activation
need not align with highlights: it amplifies whatever clips the encoder already represents
strongly (at initialisation, roughly the atypical ones after standardisation). On features
where highlights are not atypical it can be at chance or below.

Documented choices (the seed gives none of them): ``latent_dim=64``, ``hidden_dim=128``,
``heads=4`` (FVS transformer, feed-forward ``2 * latent_dim``, no dropout), ``k=5``,
``margin=0.5``, ``temperature=0.1`` (SCL, fixed), ``mask_ratio=0.15`` (at least one clip per
video), ``scl_max_pairs=1024``, loss weights ``w_rasl = w_scl = w_fvs = 1``, ``epochs=20``,
``lr=1e-3``, ``weight_decay=1e-4``, ``batch_videos=8``. Videos shorter than 2 clips take no
part in the RASL loss (no top and bottom to contrast).

``paper_figures`` is empty: the seed's abstract reports no numbers.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from tvhighlights.errors import BaselineInputError, InvalidArgumentError

from .base import Baseline, BaselineData, BaselineVideo
from .batching import column_stats, pad_videos

logger = logging.getLogger(__name__)

__all__ = [
    "RASLBaseline",
    "fvs_mask",
    "kpoint_loss",
    "masked_mse",
    "rasl_activation",
    "symmetric_contrastive_loss",
    "topk_bottomk",
]


# -- the method's core math (pure functions) ---------------------------------------------------


def rasl_activation(z: torch.Tensor) -> torch.Tensor:
    """``(..., d) -> (...)``: a clip's activation, ``tanh`` of its latent's RMS magnitude."""
    return torch.tanh(torch.sqrt(torch.mean(z * z, dim=-1) + 1e-12))


def topk_bottomk(
    act: torch.Tensor, valid: torch.Tensor, k: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per video (row) of ``act`` ``(B, T)``, the boolean masks of its top-k and bottom-k valid
    clips and the ``k`` used (``min(k, length // 2)``; 0 for a video under 2 clips). Clips are
    ranked once, by activation descending, ties to the earlier clip, so the sets never overlap."""
    lengths = valid.sum(dim=1)
    kb = torch.clamp(lengths // 2, max=int(k))
    desc = torch.where(valid, act, torch.full_like(act, -torch.finfo(act.dtype).max))
    rank = torch.argsort(torch.argsort(-desc, dim=1, stable=True), dim=1, stable=True)
    top = (rank < kb[:, None]) & valid
    bottom = (rank >= (lengths - kb)[:, None]) & valid
    return top, bottom, kb


def kpoint_loss(act: torch.Tensor, valid: torch.Tensor, k: int, margin: float) -> torch.Tensor:
    """The k-point contrastive loss: per video ``relu(margin - (mean top-k - mean bottom-k))``
    of its activations, averaged over the videos with at least 2 clips (0 when none has)."""
    top, bottom, kb = topk_bottomk(act.detach(), valid, k)
    used = kb > 0
    if not bool(used.any()):
        return act.sum() * 0.0
    kf = kb.clamp(min=1).to(act.dtype)
    gap = (act * top).sum(dim=1) / kf - (act * bottom).sum(dim=1) / kf
    return F.relu(margin - gap)[used].mean()


def symmetric_contrastive_loss(
    zv: torch.Tensor, za: torch.Tensor, temperature: float
) -> torch.Tensor:
    """CLIP-style InfoNCE between paired rows of ``zv`` and ``za`` ``(N, d)``, both directions
    (visual -> audio and audio -> visual) averaged; the latents are L2-normalised first."""
    u = F.normalize(zv, dim=-1)
    w = F.normalize(za, dim=-1)
    logits = u @ w.T / temperature
    target = torch.arange(u.shape[0], device=u.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def fvs_mask(lengths: Sequence[int], ratio: float, rng: np.random.Generator) -> np.ndarray:
    """bool ``(B, max(lengths))``: the clips to mask, ``clip(round(ratio * L), 1, L)`` of each
    video's ``L`` valid clips (round half up), those with the smallest of ``rng.random`` keys
    drawn for the whole ``(B, T)`` grid; padding is never masked."""
    lengths = np.asarray(lengths, dtype=np.int64)
    t = int(lengths.max()) if lengths.size else 0
    keys = rng.random((lengths.size, t))
    valid = np.arange(t)[None, :] < lengths[:, None]
    keys[~valid] = np.inf
    ranks = np.argsort(np.argsort(keys, axis=1, kind="stable"), axis=1, kind="stable")
    m = np.clip(np.floor(ratio * lengths + 0.5), 1, np.maximum(lengths, 1)).astype(np.int64)
    return (ranks < m[:, None]) & valid


def masked_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the masked positions (``mask`` ``(B, T)``) of ``(B, T, D)``."""
    if not bool(mask.any()):
        return pred.sum() * 0.0
    return F.mse_loss(pred[mask], target[mask])


# -- the model ---------------------------------------------------------------------------------


def _mlp(d_in: int, hidden: int, d_out: int) -> nn.Module:
    return nn.Sequential(nn.Linear(d_in, hidden), nn.GELU(), nn.Linear(hidden, d_out))


def _positions(t: int, d: int) -> torch.Tensor:
    """Sinusoidal position codes ``(t, d)`` (the FVS transformer needs the clip order)."""
    pos = torch.arange(t, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-math.log(10000.0) / d))
    pe = torch.zeros(t, d)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)[:, : d // 2]
    return pe


class _RASLNet(nn.Module):
    def __init__(self, dv: int, da: int, hidden: int, latent: int, heads: int) -> None:
        super().__init__()
        self.visual = _mlp(dv, hidden, latent)
        self.audio = _mlp(da, hidden, latent)
        self.mask_token = nn.Parameter(torch.zeros(latent))
        self.fvs = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(
                latent, heads, 2 * latent, dropout=0.0, batch_first=True, norm_first=True
            ),
            num_layers=1,
            enable_nested_tensor=False,
        )
        self.decoder = nn.Linear(latent, dv)

    def reconstruct(
        self, zv: torch.Tensor, mask: torch.Tensor, valid: torch.Tensor
    ) -> torch.Tensor:
        """Visual input vectors ``(B, T, dv)`` rebuilt from latents whose masked clips are
        replaced by the mask token."""
        h = torch.where(mask[..., None], self.mask_token.expand_as(zv), zv)
        h = h + _positions(h.shape[1], h.shape[2]).to(h.device)
        return self.decoder(self.fvs(h, src_key_padding_mask=~valid))


# -- the baseline ------------------------------------------------------------------------------


class RASLBaseline(Baseline):
    description = "seed 004: cross-modal pretraining, scores from latent activations (RASL)"
    requires = ("visual", "audio")
    supervised = False
    paper = (
        "seed 004: Unsupervised Modality-Transferable Video Highlight Detection with "
        "Representation Activation Sequence Learning"
    )
    paper_figures = ()

    def __init__(
        self,
        modalities: tuple[str, ...] = ("visual",),
        latent_dim: int = 64,
        hidden_dim: int = 128,
        heads: int = 4,
        k: int = 5,
        margin: float = 0.5,
        temperature: float = 0.1,
        mask_ratio: float = 0.15,
        scl_max_pairs: int = 1024,
        w_rasl: float = 1.0,
        w_scl: float = 1.0,
        w_fvs: float = 1.0,
        epochs: int = 20,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        batch_videos: int = 8,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        mods = tuple(modalities)
        if "visual" not in mods or not set(mods) <= {"visual", "audio"}:
            raise InvalidArgumentError(
                f"modalities: RASL scores from ('visual',) or ('visual', 'audio'), not {mods!r}",
                param="modalities",
            )
        for pname, value in (("latent_dim", latent_dim), ("hidden_dim", hidden_dim),
                             ("heads", heads), ("k", k), ("scl_max_pairs", scl_max_pairs),
                             ("batch_videos", batch_videos)):  # fmt: skip
            if int(value) < 1:
                raise InvalidArgumentError(f"{pname} must be at least 1, not {value}", param=pname)
        if latent_dim % heads or latent_dim % 2:
            raise InvalidArgumentError(
                f"latent_dim ({latent_dim}) must be even and divisible by heads ({heads})",
                param="latent_dim",
            )
        if not 0.0 < mask_ratio <= 1.0:
            raise InvalidArgumentError(f"mask_ratio must be in (0, 1], not {mask_ratio}",
                                       param="mask_ratio")  # fmt: skip
        if temperature <= 0:
            raise InvalidArgumentError(f"temperature must be positive, not {temperature}",
                                       param="temperature")  # fmt: skip
        if int(epochs) < 0:
            raise InvalidArgumentError(f"epochs must be >= 0, not {epochs}", param="epochs")
        self.modalities = mods
        self.latent_dim, self.hidden_dim, self.heads = int(latent_dim), int(hidden_dim), int(heads)
        self.k, self.margin, self.temperature = int(k), float(margin), float(temperature)
        self.mask_ratio, self.scl_max_pairs = float(mask_ratio), int(scl_max_pairs)
        self.w_rasl, self.w_scl, self.w_fvs = float(w_rasl), float(w_scl), float(w_fvs)
        self.epochs, self.lr, self.weight_decay = int(epochs), float(lr), float(weight_decay)
        self.batch_videos, self.seed, self.device = int(batch_videos), int(seed), device
        self.net: _RASLNet | None = None
        self.losses: list[dict[str, float]] = []
        """Per epoch, the mean of each loss term (for inspection)."""

    # -- fitting ---------------------------------------------------------------------------------

    def fit(
        self, train: BaselineData, *, work_dir: Path | None = None, show_progress: bool = False
    ) -> RASLBaseline:
        videos = list(train.videos)
        if not videos:
            raise BaselineInputError(f"baseline {self.name!r} needs train videos; got none")
        for v in videos:
            self.check(v)
        dv = {v.modality("visual").shape[1] for v in videos}
        da = {v.modality("audio").shape[1] for v in videos}
        if len(dv) > 1 or len(da) > 1:
            raise BaselineInputError(
                f"baseline {self.name!r}: train videos have different feature widths "
                f"(visual {sorted(dv)}, audio {sorted(da)}); load them with the same extractors"
            )
        if not any(v.has_audio for v in videos):
            raise BaselineInputError(
                f"baseline {self.name!r} pretrains on (visual, audio) clip pairs, but none of "
                f"the {len(videos)} train videos has an audio track"
            )
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        xv = [v.modality("visual") for v in videos]
        xa = [v.modality("audio") for v in videos]
        has_audio = np.array([v.has_audio for v in videos])
        self.v_mean, self.v_std = column_stats(np.concatenate(xv))
        self.a_mean, self.a_std = column_stats(
            np.concatenate([x for x, h in zip(xa, has_audio, strict=True) if h])
        )
        xv = [(x - self.v_mean) / self.v_std for x in xv]
        xa = [(x - self.a_mean) / self.a_std for x in xa]
        dev = torch.device(self.device)
        net = _RASLNet(dv.pop(), da.pop(), self.hidden_dim, self.latent_dim, self.heads).to(dev)
        opt = torch.optim.AdamW(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        self.losses = []
        for _ in tqdm(range(self.epochs), desc=f"fit {self.name}", disable=not show_progress):
            order = rng.permutation(len(videos))
            sums = {"rasl": 0.0, "scl": 0.0, "fvs": 0.0, "total": 0.0}
            steps = 0
            for s in range(0, len(order), self.batch_videos):
                idx = order[s : s + self.batch_videos]
                terms = self._step(net, [xv[i] for i in idx], [xa[i] for i in idx],
                                   has_audio[idx], rng, dev)  # fmt: skip
                opt.zero_grad()
                terms["total"].backward()
                opt.step()
                for name, value in terms.items():
                    sums[name] += float(value.detach())
                steps += 1
            self.losses.append({n: v / max(steps, 1) for n, v in sums.items()})
        net.eval()
        self.net = net
        self.requires = tuple(self.modalities)  # pretraining needed pairs; scoring does not
        return self

    def _step(
        self,
        net: _RASLNet,
        xv: list[np.ndarray],
        xa: list[np.ndarray],
        has_audio: np.ndarray,
        rng: np.random.Generator,
        dev: torch.device,
    ) -> dict[str, torch.Tensor]:
        """The multitask loss of one batch of whole videos (padded to the longest)."""
        lengths = [x.shape[0] for x in xv]
        v, valid = _pad(xv, dev)
        a, _ = _pad(xa, dev)
        zv, za = net.visual(v), net.audio(a)
        audio_rows = torch.as_tensor(has_audio, device=dev)
        rasl = kpoint_loss(rasl_activation(zv), valid, self.k, self.margin)
        if bool(audio_rows.any()):
            rasl = rasl + kpoint_loss(
                rasl_activation(za[audio_rows]), valid[audio_rows], self.k, self.margin
            )
        pair = valid & audio_rows[:, None]
        pv, pa = zv[pair], za[pair]
        if pv.shape[0] > self.scl_max_pairs:
            keep = torch.as_tensor(rng.choice(pv.shape[0], self.scl_max_pairs, replace=False))
            pv, pa = pv[keep.to(dev)], pa[keep.to(dev)]
        scl = (
            symmetric_contrastive_loss(pv, pa, self.temperature)
            if pv.shape[0] > 1
            else zv.sum() * 0.0
        )
        mask = torch.as_tensor(fvs_mask(lengths, self.mask_ratio, rng), device=dev)
        fvs = masked_mse(net.reconstruct(zv, mask, valid), v, mask)
        total = self.w_rasl * rasl + self.w_scl * scl + self.w_fvs * fvs
        return {"rasl": rasl, "scl": scl, "fvs": fvs, "total": total}

    # -- scoring ---------------------------------------------------------------------------------

    def score(self, video: BaselineVideo) -> np.ndarray:
        if self.net is None:
            raise BaselineInputError(f"baseline {self.name!r} is not fitted; call fit first")
        dev = next(self.net.parameters()).device
        act = self._activation(video, "visual", dev)
        if "audio" in self.modalities and video.has_audio:
            act = 0.5 * (act + self._activation(video, "audio", dev))
        return act.astype(np.float64)

    def _activation(self, video: BaselineVideo, modality: str, dev: torch.device) -> np.ndarray:
        x = video.modality(modality)
        mean, std = (self.v_mean, self.v_std) if modality == "visual" else (self.a_mean, self.a_std)
        if x.shape[1] != mean.shape[0]:
            raise BaselineInputError(
                f"baseline {self.name!r} was fitted on {mean.shape[0]} {modality} columns, but "
                f"video {video.video_id!r} has {x.shape[1]}; load it with the same extractors"
            )
        enc = self.net.visual if modality == "visual" else self.net.audio
        with torch.no_grad():
            z = enc(torch.as_tensor((x - mean) / std, dtype=torch.float32, device=dev))
            return (
                rasl_activation(z.double()).cpu().numpy()
            )  # float64: no ties where tanh saturates


def _pad(xs: list[np.ndarray], dev: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B, T, D)`` zero-padded features and the ``(B, T)`` mask of real clips."""
    out, valid = pad_videos(xs)
    return torch.as_tensor(out, device=dev), torch.as_tensor(valid, device=dev)
