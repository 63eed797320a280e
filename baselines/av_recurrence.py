"""AV-recurrence (Islam, Paul, Rochan; seed 002): unsupervised highlights from recurrence.

The paper groups the train videos into pseudo-categories (each video's mean visual and mean
audio feature ``f = [v; a]``, UMAP to 10-d with ``n_neighbors=15``, ``min_dist=0.1``, K-means
for a range of K, K chosen by the silhouette coefficient), scores every clip by how much it
recurs in its pseudo-category (the mean cosine similarity of its audio, and of its visual,
feature to all S clips of the category, Eqs. 1-2), averages the two and takes the top
``t = 50 %`` of each video's clips as pseudo-highlights. They supervise an audio-visual
network (after its ref. [1]): one self-attention layer per modality, the a->v and v->a
cross-attention layers, a score regressor that combines the four streams with learnable
weights and passes them through two fully connected layers; BCE loss, Adam. ``mode="pseudo"``
scores with the recurrence scores directly (its Table 12: a scored video is assigned to the
nearest centroid of the train clustering and compared with the train videos of that category).

Computation: for unit vectors ``u``, ``mean_k cos(x_i, x_k) = u_i . (sum_k u_k) / S``, so a
clip's recurrence is a dot with its category's mean unit vector, O(S d) per category and never
the S x S similarity matrix (:func:`mean_cosine`; a test pins it against the brute force).

Adapted here, and what it loses:

- Features are every extractor's visual and audio blocks side by side (the paper: 3D-CNN and
  PANN). For the recurrence each column is divided by its train std but NOT centred: the
  scaling keeps unnormalised cues from dominating the cosine by their unit, while centring
  would subtract the component shared by a category's clips, which is the recurrence itself.
  The network and the clustering read features standardised (centred and scaled) with train
  statistics. Audio statistics come from the train videos that have audio.
- Hyper-parameters default to the seed's TVSum setting (``lr=2.5e-3``, ``epochs=20``; its
  YouTube setting is ``lr=5e-3``, ``epochs=100``) and its TVSum/YouTube network (one
  self-attention and one bimodal attention module).
- Scored (test) videos: ``f`` is UMAP-transformed with the fitted reducer and assigned to the
  nearest K-means centroid; if the reducer cannot transform, to the nearest category mean of
  the train ``f`` in the standardised (pre-UMAP) space. In ``mode="pseudo"`` a test clip's
  recurrence is to the train clips of its category only (as the paper's Table 12 describes);
  a train video's own clips are part of its category's S clips (Eq. 1 as written).
- Single-modality rows (``modalities=("visual",)`` or ``("audio",)``, the paper's V(V-PH) and
  A(A-PH)): the clustering ``f``, the recurrence and the network use only that modality; the
  network is that stream's self-attention and the regressor (no cross-attention).
- Videos without an audio track (``has_audio`` False) in an audio-visual row: recurrence from
  the visual similarity alone for that video; their clips do not count among a category's
  audio clips; their clustering ``f`` and network audio input are the train mean (0 after
  standardising). In the audio-only row they are left out of fit (logged) and score 0
  everywhere (logged); a train split with no audio at all is an error.
- Too few train videos: K ranges over ``k_min..min(k_max, n - 1)`` (the silhouette needs
  ``K <= n - 1``); UMAP runs only with more than ``umap_dim + 1`` videos, with
  ``n_neighbors`` clipped to ``n - 1``; below that K-means runs on the standardised ``f``;
  below 3 videos (or when no K gives two non-empty clusters) all videos form one category.
  Each fallback logs a warning.

Documented choices (the seed gives none of these): every attention layer is
``nn.MultiheadAttention`` with ``heads=4`` over ``hidden=128`` units after a linear input
projection per modality, with a residual connection and LayerNorm, ``dropout=0.1``; the
cross-attention ``Attn_{a->v}(a, v)`` queries with the first argument's clips and attends over
the second's; the regressor's stream weights are a softmax over learnable logits (equal at
start), then ``Linear(hidden, hidden)``, ReLU, ``Linear(hidden, 1)``; whole videos are padded
into batches of ``batch_size=8`` (padding masked in attention and loss), shuffled each epoch;
the network's output logit is the score; the top ``t`` fraction is ``ceil(t n)`` clips (ties by
clip order); K-means uses ``n_init=10`` and ``random_state=seed``; UMAP uses the euclidean
metric and ``random_state=seed``; ties between K in the silhouette go to the smaller K.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from tvhighlights.errors import BaselineInputError, InvalidArgumentError

from .base import MODALITIES, Baseline, BaselineData, BaselineVideo, PaperFigure
from .batching import column_stats, pad_videos

logger = logging.getLogger(__name__)

__all__ = [
    "AVNetwork",
    "AVRecurrenceBaseline",
    "average_recurrence",
    "category_unit_sums",
    "choose_k",
    "mean_cosine",
    "pseudo_highlights",
    "unit_rows",
]

_SOURCE = "seed 002"
_FIGURES: dict[tuple[str, tuple[str, ...]], tuple[PaperFigure, ...]] = {
    ("network", ("visual", "audio")): (
        PaperFigure("TVSum", "top-5 mAP", 60.34, f"{_SOURCE}, Table 2 (Ours)"),
        PaperFigure("YouTube Highlights", "mAP", 68.30, f"{_SOURCE}, Table 1 (Ours)"),
        PaperFigure("QVHighlights test", "mAP", 18.38, f"{_SOURCE}, Table 4 (Ours)"),
        PaperFigure("QVHighlights test", "HIT@1", 24.71, f"{_SOURCE}, Table 4 (Ours)"),
    ),
    # Table 12's pseudo-highlights row repeats Table 7's PCC row digit for digit (perhaps a
    # copy slip in the paper); quoted as printed
    ("pseudo", ("visual", "audio")): (
        PaperFigure("TVSum", "top-5 mAP", 52.59, f"{_SOURCE}, Table 12 (pseudo-highlights)"),
        PaperFigure("YouTube Highlights", "mAP", 58.71, f"{_SOURCE}, Table 12 (pseudo-highlights)"),
        PaperFigure("QVHighlights val", "mAP", 17.60, f"{_SOURCE}, Table 12 (pseudo-highlights)"),
        PaperFigure("QVHighlights val", "HIT@1", 23.61, f"{_SOURCE}, Table 12 (pseudo-highlights)"),
    ),
    ("network", ("visual",)): (
        PaperFigure("TVSum", "top-5 mAP", 55.02, f"{_SOURCE}, Table 6 (V(V-PH))"),
        PaperFigure("YouTube Highlights", "mAP", 59.98, f"{_SOURCE}, Table 6 (V(V-PH))"),
        PaperFigure("QVHighlights val", "mAP", 16.38, f"{_SOURCE}, Table 6 (V(V-PH))"),
        PaperFigure("QVHighlights val", "HIT@1", 21.35, f"{_SOURCE}, Table 6 (V(V-PH))"),
    ),
    ("network", ("audio",)): (
        PaperFigure("TVSum", "top-5 mAP", 55.45, f"{_SOURCE}, Table 6 (A(A-PH))"),
        PaperFigure("YouTube Highlights", "mAP", 62.07, f"{_SOURCE}, Table 6 (A(A-PH))"),
        PaperFigure("QVHighlights val", "mAP", 17.37, f"{_SOURCE}, Table 6 (A(A-PH))"),
        PaperFigure("QVHighlights val", "HIT@1", 22.06, f"{_SOURCE}, Table 6 (A(A-PH))"),
    ),
}
"""What the seed reports per (mode, modalities); other combinations have no quoted figure."""


# -- core math (pure) ------------------------------------------------------------------------


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm; an all-zero row stays zero (its cosine is taken as 0)."""
    x = np.asarray(x, dtype=np.float64)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)


def category_unit_sums(
    units: np.ndarray, categories: np.ndarray, k: int, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per category, the sum of its clips' unit vectors ``(k, d)`` and their count ``(k,)``;
    clips with ``mask`` False (e.g. of a video without audio) count in neither."""
    units = np.asarray(units, dtype=np.float64)
    categories = np.asarray(categories, dtype=np.int64)
    keep = np.ones(len(units), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    sums = np.zeros((k, units.shape[1]))
    np.add.at(sums, categories[keep], units[keep])
    counts = np.bincount(categories[keep], minlength=k).astype(np.int64)
    return sums, counts


def mean_cosine(x: np.ndarray, unit_sum: np.ndarray, count: int) -> np.ndarray:
    """``(1/S) sum_k cos(x_i, x_k)`` for every row of ``x``, from the S reference clips' unit
    vector sum (Eqs. 1-2 as one dot per clip); 0 everywhere when there are no references."""
    if count <= 0:
        return np.zeros(len(x))
    return unit_rows(x) @ (np.asarray(unit_sum, dtype=np.float64) / float(count))


def average_recurrence(scores: Sequence[np.ndarray | None]) -> np.ndarray:
    """The mean of the modalities' recurrence scores that exist (``None``: not available for
    this video, e.g. the audio of a video without audio)."""
    have = [np.asarray(s, dtype=np.float64) for s in scores if s is not None]
    if not have:
        raise ValueError("no modality to average")
    return np.mean(have, axis=0)


def pseudo_highlights(scores: np.ndarray, top: float = 0.5) -> np.ndarray:
    """bool ``(n,)``: the ``ceil(top * n)`` highest-scoring clips (ties: earlier clip first)."""
    scores = np.asarray(scores, dtype=np.float64)
    n = len(scores)
    k = min(n, max(1, math.ceil(top * n - 1e-9))) if n else 0
    mask = np.zeros(n, dtype=bool)
    mask[np.argsort(-scores, kind="stable")[:k]] = True
    return mask


def choose_k(
    z: np.ndarray, k_min: int = 2, k_max: int = 10, seed: int = 0
) -> tuple[np.ndarray, np.ndarray] | None:
    """K-means for ``K = k_min..min(k_max, n - 1)``, keeping the K with the highest silhouette
    (ties: the smaller K): ``(labels, centroids)``, or ``None`` when no K gives two non-empty
    clusters (too few or identical points)."""
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import silhouette_score

    z = np.asarray(z, dtype=np.float64)
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for k in range(max(2, k_min), min(k_max, len(z) - 1) + 1):
        with warnings.catch_warnings():  # duplicate points: fewer clusters, handled below
            warnings.simplefilter("ignore", ConvergenceWarning)
            km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(z)
        labels = km.labels_
        if len(np.unique(labels)) < 2:
            continue
        s = float(silhouette_score(z, labels))
        if best is None or s > best[0]:
            best = (s, labels.astype(np.int64), km.cluster_centers_)
    if best is None:
        return None
    # relabel so that every label in 0..K-1 is used (K-means can leave a cluster empty)
    used, labels = np.unique(best[1], return_inverse=True)
    return labels.astype(np.int64), best[2][used]


# -- the network -----------------------------------------------------------------------------


class _Attention(nn.Module):
    """One attention layer: queries attend over keys/values, residual and LayerNorm."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.norm = nn.LayerNorm(dim)

    def forward(self, q: torch.Tensor, kv: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        out, _ = self.attn(q, kv, kv, key_padding_mask=pad, need_weights=False)
        return self.norm(q + out)


class AVNetwork(nn.Module):
    """Self-attention per modality, a->v and v->a cross-attention (both modalities only), a
    softmax-weighted sum of the streams, two FC layers: one logit per clip."""

    def __init__(
        self, dims: Mapping[str, int], hidden: int = 128, heads: int = 4, dropout: float = 0.1
    ) -> None:
        super().__init__()
        self.modalities = tuple(dims)
        self.proj = nn.ModuleDict({m: nn.Linear(d, hidden) for m, d in dims.items()})
        self.self_attn = nn.ModuleDict(
            {m: _Attention(hidden, heads, dropout) for m in self.modalities}
        )
        self.cross = len(self.modalities) == 2
        if self.cross:
            self.a2v = _Attention(hidden, heads, dropout)
            self.v2a = _Attention(hidden, heads, dropout)
        self.stream_logits = nn.Parameter(torch.zeros(4 if self.cross else 1))
        self.fc1 = nn.Linear(hidden, hidden)
        self.fc2 = nn.Linear(hidden, 1)

    def forward(self, inputs: Mapping[str, torch.Tensor], pad: torch.Tensor) -> torch.Tensor:
        """``inputs``: modality -> ``(B, T, D)``; ``pad``: bool ``(B, T)``, True on padding."""
        att = {}
        for m in self.modalities:
            h = self.proj[m](inputs[m])
            att[m] = self.self_attn[m](h, h, pad)
        if self.cross:
            vv, aa = att["visual"], att["audio"]
            streams = [vv, aa, self.v2a(vv, aa, pad), self.a2v(aa, vv, pad)]
        else:
            streams = [att[self.modalities[0]]]
        w = torch.softmax(self.stream_logits, dim=0)
        x = sum(wi * s for wi, s in zip(w, streams, strict=True))
        return self.fc2(torch.relu(self.fc1(x))).squeeze(-1)


# -- the baseline ----------------------------------------------------------------------------


@dataclass
class _Clustering:
    """The fitted pseudo-categories: how to assign a video's standardised ``f``."""

    kind: str  # "umap", "kmeans" or "single"
    k: int
    centroids: np.ndarray  # in the clustering space (UMAP's, or f's for "kmeans")
    fbar_means: np.ndarray  # per category, the mean train f (pre-UMAP): the fallback
    reducer: Any = None

    def assign(self, fbar: np.ndarray) -> np.ndarray:
        fbar = np.asarray(fbar, dtype=np.float64)
        if self.kind == "single":
            return np.zeros(len(fbar), dtype=np.int64)
        if self.kind == "umap":
            try:
                z = np.asarray(self.reducer.transform(fbar), dtype=np.float64)
                if np.isfinite(z).all():
                    return _nearest(z, self.centroids)
                logger.warning("UMAP transform gave non-finite values; nearest in f space")
            except Exception as e:  # UMAP's transform can fail on odd inputs: documented
                logger.warning("UMAP cannot transform (%s); nearest category in f space", e)
            return _nearest(fbar, self.fbar_means)
        return _nearest(fbar, self.centroids)


def _nearest(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    d = ((x[:, None, :] - centroids[None, :, :]) ** 2).sum(-1)
    return np.argmin(d, axis=1).astype(np.int64)


class AVRecurrenceBaseline(Baseline):
    description = "audio-visual recurrence pseudo-highlights, then the audio-visual network"
    supervised = False
    paper = (
        "seed 002: Unsupervised Video Highlight Detection by Learning from Audio and Visual "
        "Recurrence (Islam, Paul, Rochan)"
    )
    paper_figures = _FIGURES[("network", ("visual", "audio"))]

    def __init__(
        self,
        mode: str = "network",
        modalities: Sequence[str] = ("visual", "audio"),
        umap_dim: int = 10,
        umap_neighbors: int = 15,
        umap_min_dist: float = 0.1,
        k_min: int = 2,
        k_max: int = 10,
        top: float = 0.5,
        hidden: int = 128,
        heads: int = 4,
        dropout: float = 0.1,
        epochs: int = 20,
        lr: float = 2.5e-3,
        batch_size: int = 8,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        if mode not in ("network", "pseudo"):
            raise InvalidArgumentError(
                f"unknown mode {mode!r}; choose 'network' or 'pseudo'", param="mode"
            )
        mods = (modalities,) if isinstance(modalities, str) else tuple(modalities)
        if not mods or len(set(mods)) != len(mods) or any(m not in MODALITIES for m in mods):
            raise InvalidArgumentError(
                f"modalities must be 'visual', 'audio' or both, not {modalities!r}",
                param="modalities",
            )
        if not 0 < top <= 1:
            raise InvalidArgumentError(f"top must be in (0, 1], not {top}", param="top")
        if k_min < 2 or k_max < k_min:
            raise InvalidArgumentError(
                f"need 2 <= k_min <= k_max, not {k_min}..{k_max}", param="k_min"
            )
        for pname, value, low in (
            ("epochs", epochs, 0), ("batch_size", batch_size, 1), ("hidden", hidden, 1),
            ("heads", heads, 1), ("umap_dim", umap_dim, 1), ("umap_neighbors", umap_neighbors, 2),
        ):  # fmt: skip
            if value < low:
                raise InvalidArgumentError(f"{pname} must be >= {low}, not {value}", param=pname)
        if hidden % heads:
            raise InvalidArgumentError(
                f"hidden ({hidden}) must be a multiple of heads ({heads})", param="heads"
            )
        self.mode = mode
        self.modalities = tuple(m for m in MODALITIES if m in mods)  # visual first
        self.requires = self.modalities
        self.paper_figures = _FIGURES.get((mode, self.modalities), ())
        self.umap_dim, self.umap_neighbors, self.umap_min_dist = (
            umap_dim,
            umap_neighbors,
            umap_min_dist,
        )
        self.k_min, self.k_max, self.top = int(k_min), int(k_max), float(top)
        self.hidden, self.heads, self.dropout = int(hidden), int(heads), float(dropout)
        self.epochs, self.lr, self.batch_size = int(epochs), float(lr), int(batch_size)
        self.seed, self.device = int(seed), device
        self._stats: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
        self._clustering: _Clustering | None = None
        self._sums: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._net: AVNetwork | None = None
        # train video id -> its pseudo-highlight mask (what the network is trained on)
        self.train_pseudo: dict[str, np.ndarray] = {}

    # -- features --------------------------------------------------------------------------------

    def _uses_audio(self, video: BaselineVideo) -> bool:
        return "audio" in self.modalities and bool(video.has_audio)

    def _prepared(self, video: BaselineVideo) -> dict[str, Any]:
        """Standardised and recurrence features of ``video``, per modality used."""
        assert self._stats is not None
        out: dict[str, Any] = {"z": {}, "units": {}}
        for m in self.modalities:
            mean, std = self._stats[m]
            x = video.modality(m).astype(np.float64)
            if x.shape[1] != mean.shape[0]:
                raise BaselineInputError(
                    f"baseline {self.name!r} was fitted on {mean.shape[0]} {m} columns, but "
                    f"video {video.video_id!r} has {x.shape[1]}; use the same extractors"
                )
            if m == "audio" and not video.has_audio:
                out["z"][m] = np.zeros_like(x)
                out["units"][m] = None
            else:
                out["z"][m] = (x - mean) / std
                out["units"][m] = unit_rows(x / std)
        out["fbar"] = np.concatenate([out["z"][m].mean(axis=0) for m in self.modalities])
        return out

    def _recurrence(self, prep: Mapping[str, Any], category: int) -> np.ndarray:
        """The averaged recurrence of a video's clips in ``category`` (Eqs. 1-2, AV-PH)."""
        scores = []
        for m in self.modalities:
            sums, counts = self._sums[m]
            u = prep["units"][m]
            scores.append(None if u is None or counts[category] == 0 else
                          mean_cosine(u, sums[category], int(counts[category])))  # fmt: skip
        if all(s is None for s in scores):
            return np.zeros(len(prep["z"][self.modalities[0]]))
        return average_recurrence(scores)

    # -- clustering ------------------------------------------------------------------------------

    def _cluster(self, fbar: np.ndarray) -> tuple[_Clustering, np.ndarray]:
        """Pseudo-categories of the train videos' ``f`` (with the small-data fallbacks)."""
        n = len(fbar)
        if n < 3:
            logger.warning(
                "%s: %d train video(s), too few for K-means with a silhouette (needs 3): "
                "all videos form one pseudo-category", self.name, n,
            )  # fmt: skip
            mean = fbar.mean(0, keepdims=True)
            return _Clustering("single", 1, mean, mean), np.zeros(n, dtype=np.int64)
        reducer, space, kind = None, fbar, "kmeans"
        if n > self.umap_dim + 1:
            import umap  # lazy: numba makes the import slow

            neighbors = min(self.umap_neighbors, n - 1)
            if neighbors < self.umap_neighbors:
                logger.warning(
                    "%s: %d train videos: UMAP n_neighbors clipped from %d to %d",
                    self.name, n, self.umap_neighbors, neighbors,
                )  # fmt: skip
            reducer = umap.UMAP(
                n_components=self.umap_dim,
                n_neighbors=neighbors,
                min_dist=self.umap_min_dist,
                random_state=self.seed,
                n_jobs=1,
            )
            space, kind = np.asarray(reducer.fit_transform(fbar), dtype=np.float64), "umap"
        else:
            logger.warning(
                "%s: %d train videos, too few for a %d-d UMAP: K-means on the standardised "
                "video features instead", self.name, n, self.umap_dim,
            )  # fmt: skip
        found = choose_k(space, self.k_min, self.k_max, self.seed)
        if found is None:
            logger.warning(
                "%s: no K in %d..%d gives two clusters of %d videos: one pseudo-category",
                self.name, self.k_min, self.k_max, n,
            )  # fmt: skip
            mean = fbar.mean(0, keepdims=True)
            return _Clustering("single", 1, mean, mean), np.zeros(n, dtype=np.int64)
        labels, centroids = found
        k = int(labels.max()) + 1
        means = np.stack([fbar[labels == c].mean(0) for c in range(k)])
        logger.info("%s: %d pseudo-categories of %d train videos (%s)", self.name, k, n, kind)
        return _Clustering(kind, k, centroids, means, reducer), labels

    # -- fit / score -----------------------------------------------------------------------------

    def fit(
        self, train: BaselineData, *, work_dir: Path | None = None, show_progress: bool = False
    ) -> AVRecurrenceBaseline:
        for v in train.videos:
            self.check(v)
        videos = [v for v in train.videos if v.num_clips > 0]
        if self.modalities == ("audio",):
            silent = [v.video_id for v in videos if not v.has_audio]
            if silent:
                logger.warning(
                    "%s: %d train video(s) without audio left out (%s)",
                    self.name, len(silent), ", ".join(silent[:5]),
                )  # fmt: skip
            videos = [v for v in videos if v.has_audio]
        if not videos:
            what = "audio" if self.modalities == ("audio",) else "clips"
            raise BaselineInputError(
                f"baseline {self.name!r} needs train videos with {what}, but the "
                f"{train.split!r} split has none"
            )
        torch.manual_seed(self.seed)  # the only randomness besides K-means/UMAP's random_state
        self._stats = {}
        for m in self.modalities:
            rows = [v.modality(m) for v in videos if m != "audio" or v.has_audio]
            if not rows:
                logger.warning("%s: no train video has audio: visual recurrence only", self.name)
                rows = [np.zeros((1, videos[0].modality(m).shape[1]), dtype=np.float32)]
            widths = {r.shape[1] for r in rows}
            if len(widths) > 1:
                raise BaselineInputError(
                    f"baseline {self.name!r}: train videos have {m} features of different "
                    f"widths {sorted(widths)}; use the same extractors for every video"
                )
            self._stats[m] = column_stats(np.concatenate(rows))
        preps = [self._prepared(v) for v in videos]
        self._clustering, labels = self._cluster(np.stack([p["fbar"] for p in preps]))
        k = self._clustering.k
        for m in self.modalities:
            units = [p["units"][m] for p in preps]
            d = self._stats[m][0].shape[0]
            all_units = np.concatenate([np.zeros((p["z"][m].shape[0], d)) if u is None else u
                                        for p, u in zip(preps, units, strict=True)])  # fmt: skip
            mask = np.concatenate([np.full(p["z"][m].shape[0], u is not None)
                                   for p, u in zip(preps, units, strict=True)])  # fmt: skip
            cats = np.concatenate([np.full(p["z"][m].shape[0], c)
                                   for p, c in zip(preps, labels, strict=True)])  # fmt: skip
            self._sums[m] = category_unit_sums(all_units, cats, k, mask)
        self.train_pseudo = {
            v.video_id: pseudo_highlights(self._recurrence(p, int(c)), self.top)
            for v, p, c in zip(videos, preps, labels, strict=True)
        }
        if self.mode == "network":
            targets = [self.train_pseudo[v.video_id] for v in videos]
            self._train(preps, targets, show_progress)
        return self

    def _batch(self, preps: Sequence[Mapping[str, Any]]) -> tuple[dict, torch.Tensor]:
        """Pad videos into ``(B, T, D)`` tensors per modality and a ``(B, T)`` padding mask."""
        inputs, valid = {}, None
        for m in self.modalities:
            arr, valid = pad_videos([p["z"][m] for p in preps])
            inputs[m] = torch.from_numpy(arr).to(self.device)
        return inputs, torch.from_numpy(~valid).to(self.device)

    def _train(self, preps: list, targets: list, show_progress: bool) -> None:
        dims = {m: preps[0]["z"][m].shape[1] for m in self.modalities}
        net = AVNetwork(dims, self.hidden, self.heads, self.dropout).to(self.device)
        opt = torch.optim.Adam(net.parameters(), lr=self.lr)
        gen = torch.Generator().manual_seed(self.seed)
        loss_fn = nn.BCEWithLogitsLoss(reduction="none")
        net.train()
        for _ in tqdm(range(self.epochs), desc=f"fit {self.name}", disable=not show_progress):
            order = torch.randperm(len(preps), generator=gen).tolist()
            for s in range(0, len(order), self.batch_size):
                idx = order[s : s + self.batch_size]
                inputs, pad = self._batch([preps[i] for i in idx])
                y = torch.zeros(pad.shape, device=self.device)
                for j, i in enumerate(idx):
                    y[j, : len(targets[i])] = torch.from_numpy(targets[i].astype(np.float32))
                keep = (~pad).float()
                loss = (loss_fn(net(inputs, pad), y) * keep).sum() / keep.sum()
                opt.zero_grad()
                loss.backward()
                opt.step()
        net.eval()
        self._net = net

    def score(self, video: BaselineVideo) -> np.ndarray:
        self.check(video)
        return self._score_batch([video])[0]

    def score_many(
        self, videos: Sequence[BaselineVideo], *, show_progress: bool = False
    ) -> dict[str, np.ndarray]:
        """Batched: one UMAP transform and padded network batches for all ``videos``."""
        for v in videos:
            self.check(v)
        out: dict[str, np.ndarray] = {}
        step = max(self.batch_size, 32)
        for s in tqdm(range(0, len(videos), step), desc=f"score {self.name}",
                      disable=not show_progress):  # fmt: skip
            chunk = list(videos[s : s + step])
            for v, sc in zip(chunk, self._score_batch(chunk), strict=True):
                out[v.video_id] = self.checked_scores(v, sc)
        return out

    def _score_batch(self, videos: Sequence[BaselineVideo]) -> list[np.ndarray]:
        if self._stats is None or self._clustering is None:
            raise BaselineInputError(f"baseline {self.name!r} is not fitted: call fit first")
        result: list[np.ndarray | None] = [None] * len(videos)
        live = []
        for i, v in enumerate(videos):
            if v.num_clips == 0:
                result[i] = np.zeros(0)
            elif self.modalities == ("audio",) and not v.has_audio:
                logger.warning("%s: %s has no audio: scores are all 0", self.name, v.video_id)
                result[i] = np.zeros(v.num_clips)
            else:
                live.append(i)
        if live:
            preps = [self._prepared(videos[i]) for i in live]
            if self.mode == "pseudo":
                cats = self._clustering.assign(np.stack([p["fbar"] for p in preps]))
                for i, p, c in zip(live, preps, cats, strict=True):
                    result[i] = self._recurrence(p, int(c))
            else:
                assert self._net is not None
                with torch.no_grad():
                    inputs, pad = self._batch(preps)
                    logits = self._net(inputs, pad).cpu().numpy().astype(np.float64)
                for j, i in enumerate(live):
                    result[i] = logits[j, : videos[i].num_clips]
        return [np.asarray(r, dtype=np.float64) for r in result]  # type: ignore[arg-type]
