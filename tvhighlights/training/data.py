"""Training examples: a dataset split's rows joined with their stored features, and batching.

One :class:`VideoExample` per dataset row (a video or a window of one): its per-clip
features, the vote labels of its clips and its video label. Batches pad videos to the
longest one and carry the masks :class:`~tvhighlights.models.ltvhd.LTVHDModel` expects.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data.folder import read_split
from ..errors import FeatureStoreError, InvalidArgumentError, ReferencesError
from ..features.store import FeatureStore, load_features

logger = logging.getLogger(__name__)

__all__ = [
    "VideoExample",
    "collate",
    "feature_statistics",
    "load_examples",
    "split_train_validation",
    "used_extractors",
]


@dataclass(frozen=True, eq=False)
class VideoExample:
    """One dataset row with its features."""

    video_id: str
    visual: np.ndarray
    """float32 ``(num_clips, Dv)``."""
    audio: np.ndarray
    """float32 ``(num_clips, Da)`` (zeros where the video has no audio)."""
    has_audio: bool
    labels: np.ndarray
    """int ``(num_clips,)`` clip labels of the split (votes in train, humans in test)."""
    video_label: int
    genre: str | None = None

    @property
    def num_clips(self) -> int:
        return int(self.visual.shape[0])


def load_examples(
    dataset: str | Path,
    features: str | Path,
    split: str,
    extractors: Sequence[str] | None = None,
) -> list[VideoExample]:
    """The rows of ``split`` with their features (every row must have been extracted)."""
    table = read_split(dataset, split)
    cols = ["video_id", "num_clips", "labels", "video_label", "genre"]
    missing = [c for c in cols if c not in table.column_names]
    if missing:
        raise ReferencesError(dataset, [f"split {split!r} has no column(s) {missing}"])
    out = []
    for row in table.select(cols).to_pylist():
        f = load_features(features, row["video_id"], extractors)
        n = int(row["num_clips"])
        if f["visual"].shape[0] != n:
            raise FeatureStoreError(
                f"{features}: video {row['video_id']!r} has {f['visual'].shape[0]} clips of "
                f"features but the dataset row has {n}; extract it again"
            )
        labels = np.asarray(row["labels"] or [0] * n, dtype=np.int64)
        out.append(
            VideoExample(
                video_id=row["video_id"],
                visual=f["visual"],
                audio=f["audio"],
                has_audio=bool(f["audio_mask"].any()),
                labels=labels,
                video_label=int(row["video_label"] or 0),
                genre=row["genre"],
            )
        )
    if not out:
        raise ReferencesError(dataset, [f"split {split!r} has no rows"])
    widths = {(e.visual.shape[1], e.audio.shape[1]) for e in out}
    if len(widths) > 1:
        raise FeatureStoreError(
            f"{features}: the rows of {split!r} have features of different widths {widths}; "
            "extract every row with the same extractors"
        )
    return out


def used_extractors(
    features: str | Path, video_id: str, extractors: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """The extractors behind a video's features as :func:`load_features` concatenates them
    (all of them, or those named): their ``name``, ``key`` and ``settings``."""
    store = FeatureStore(features)
    known = store.extractors()
    return [
        {"name": known.get(k, {}).get("name", k), "key": k,
         "settings": known.get(k, {}).get("settings", {})}
        for k in store.resolve(store.entry(video_id), extractors)
    ]  # fmt: skip


def split_train_validation(
    examples: Sequence[VideoExample], fraction: float, seed: int
) -> tuple[list[VideoExample], list[VideoExample]]:
    """Hold out ``fraction`` of the videos, stratified by video label, reproducibly."""
    if not 0.0 < fraction < 1.0:
        raise InvalidArgumentError(f"validation fraction must be in (0, 1), got {fraction}")
    rng = np.random.default_rng(seed)
    train: list[VideoExample] = []
    val: list[VideoExample] = []
    for label in (0, 1):
        group = [e for e in examples if e.video_label == label]
        order = rng.permutation(len(group))
        n_val = round(len(group) * fraction)
        # at least one of each class held out when there are two, never the last one
        n_val = min(max(n_val, 1), len(group) - 1) if len(group) >= 2 else 0
        val += [group[i] for i in order[:n_val]]
        train += [group[i] for i in order[n_val:]]
    return train, val


def feature_statistics(examples: Sequence[VideoExample]) -> dict[str, np.ndarray]:
    """Mean and standard deviation of every feature column over the clips of ``examples``
    (audio only over videos that have audio), for the model's input standardisation."""
    vis = np.concatenate([e.visual for e in examples]).astype(np.float64)
    with_audio = [e.audio for e in examples if e.has_audio]
    out = {"visual_mean": vis.mean(0), "visual_std": vis.std(0)}
    if with_audio and with_audio[0].shape[1]:
        aud = np.concatenate(with_audio).astype(np.float64)
        out["audio_mean"], out["audio_std"] = aud.mean(0), aud.std(0)
    return {k: v.astype(np.float32) for k, v in out.items()}


def collate(examples: Sequence[VideoExample], max_clips: int | None = None, rng=None) -> dict:
    """Pad a batch to its longest video; long videos are cropped to a random ``max_clips``
    window when ``max_clips`` is set (a memory bound for training, never for evaluation); the
    crop of a positive video keeps one of its positive clips, so its label stays true.
    ``clip_index`` holds each position's clip index within its example (-1 on padding), so
    per-clip targets kept elsewhere (stage 2's labels) can follow the crop."""
    import torch

    rng = rng or np.random.default_rng()
    crops = []
    for e in examples:
        a = 0
        if max_clips is not None and e.num_clips > max_clips:
            lo, hi = 0, e.num_clips - max_clips
            positives = np.flatnonzero(e.labels)
            if e.video_label == 1 and len(positives):  # keep a positive clip in the crop
                p = int(rng.choice(positives))
                lo, hi = max(0, p - max_clips + 1), min(p, hi)
            a = int(rng.integers(lo, hi + 1))
        b = a + (min(e.num_clips, max_clips) if max_clips else e.num_clips)
        crops.append((a, b))
    t = max(b - a for a, b in crops)
    n, dv, da = len(examples), examples[0].visual.shape[1], examples[0].audio.shape[1]
    visual = np.zeros((n, t, dv), np.float32)
    audio = np.zeros((n, t, da), np.float32)
    mask = np.zeros((n, t), bool)
    labels = np.zeros((n, t), np.float32)
    index = np.full((n, t), -1, np.int64)
    for i, (e, (a, b)) in enumerate(zip(examples, crops, strict=True)):
        index[i, : b - a] = np.arange(a, b)
        visual[i, : b - a] = e.visual[a:b]
        audio[i, : b - a] = e.audio[a:b]
        mask[i, : b - a] = True
        labels[i, : b - a] = e.labels[a:b]
    batch: dict[str, Any] = {
        "visual_features": torch.from_numpy(visual),
        "audio_features": torch.from_numpy(audio) if da else None,
        "attention_mask": torch.from_numpy(mask),
        "audio_mask": torch.tensor([e.has_audio for e in examples]),
        "video_labels": torch.tensor([float(e.video_label) for e in examples]),
        "clip_labels": torch.from_numpy(labels),
        "clip_index": torch.from_numpy(index),
    }
    return batch
