"""Stage 1 of LTV-HD: multiple-instance learning from video-level labels.

As the seed describes it: a video's score is the mean of its top-K clip scores (K = 6), the
loss is binary cross-entropy against the video label, Adam with learning rate 1e-3, early
stopping. Early stopping watches the validation clip AUC (pooled, against the split's clip
labels: the votes), held-out videos of the train split unless the dataset has a
``validation`` split.

The loop runs through ``accelerate`` (CPU, one GPU with mixed precision, or several
processes under ``accelerate launch``). Every epoch appends a line to
``OUT/training/log.jsonl`` (flush + fsync) and replaces ``OUT/training/checkpoint/``; a
killed run started again with the same arguments resumes from there. The best epoch's model
is saved in ``OUT`` with ``save_pretrained`` (safetensors, config with ``auto_map``, the
modeling files, a model card).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from ..errors import InvalidArgumentError, TrainingError, TVHighlightsError
from ..evaluation.metrics import clip_auc_ap
from ..fileio import append_jsonl
from .checkpoint import load_checkpoint, save_checkpoint, save_model_folder
from .data import (
    VideoExample,
    collate,
    feature_statistics,
    load_examples,
    split_train_validation,
    used_extractors,
)

logger = logging.getLogger(__name__)

__all__ = [
    "Stage1Config",
    "Stage1Result",
    "TrainingError",
    "clip_scores",
    "evaluate_model",
    "new_model",
    "train_stage1",
]


@dataclass
class Stage1Config:
    """Hyper-parameters of stage 1 (defaults: the seed's, where it gives them)."""

    epochs: int = 100
    learning_rate: float = 1e-3
    batch_size: int = 8
    patience: int = 10
    """Epochs without a better validation score before stopping."""
    validation_fraction: float = 0.2
    max_clips: int | None = 1024
    """Training crops longer videos to this many clips (memory); evaluation never crops."""
    seed: int = 0
    device: str = "cpu"
    mixed_precision: str = "no"
    """``no``, ``bf16`` or ``fp16`` (GPU)."""
    weight_decay: float = 0.0
    model: dict[str, Any] = field(default_factory=dict)
    """Overrides of :class:`~tvhighlights.models.ltvhd.LTVHDConfig` (``hidden_size``, ...)."""

    def __post_init__(self) -> None:
        problems = []
        for name in ("epochs", "batch_size", "patience"):
            if int(getattr(self, name)) < 1:
                problems.append(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.learning_rate > 0:
            problems.append(f"learning_rate must be > 0, got {self.learning_rate}")
        if not 0.0 < self.validation_fraction < 1.0:
            problems.append(
                f"validation_fraction must be in (0, 1), got {self.validation_fraction}"
            )
        if self.max_clips is not None and self.max_clips < 1:
            problems.append(f"max_clips must be >= 1, got {self.max_clips}")
        if self.mixed_precision not in ("no", "bf16", "fp16"):
            problems.append(
                f"mixed_precision must be no, bf16 or fp16, got {self.mixed_precision!r}"
            )
        if problems:
            raise InvalidArgumentError("; ".join(problems))
        if "hidden_size" in self.model and "intermediate_size" not in self.model:
            # feed-forward blocks twice as wide as the model, as LTVHDConfig's defaults (64, 128)
            self.model["intermediate_size"] = 2 * int(self.model["hidden_size"])
        from ..models.ltvhd import LTVHDConfig

        try:
            LTVHDConfig(**self.model)  # invalid model settings fail here, before any work
        except (TypeError, ValueError) as e:
            raise InvalidArgumentError(f"model settings: {e}") from None

    def fingerprint(self) -> str:
        """What must match for a checkpoint to be resumed (everything but the epoch count,
        the patience and the device, which a user may change between runs)."""
        d = asdict(self)
        for k in ("epochs", "patience", "device"):
            d.pop(k)
        blob = json.dumps(d, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class Stage1Result:
    out_dir: Path
    best_epoch: int
    best_metric: float
    metric_name: str
    history: list[dict[str, Any]]
    validation: dict[str, Any]
    seconds: float
    resumed_from: int | None = None


def new_model(
    train: Sequence[VideoExample],
    features: str | Path,
    extractors: Sequence[str] | None,
    overrides: dict[str, Any],
) -> Any:
    """An untrained LTV-HD for ``train``'s feature widths: its config names the extractors
    behind the features (and their checkpoints, which prediction rebuilds), its input
    standardisation is ``train``'s statistics; ``overrides`` are LTVHDConfig settings."""
    from ..models.ltvhd import LTVHDConfig, LTVHDModel

    used = used_extractors(features, train[0].video_id, extractors)
    overrides = dict(overrides)
    if "hidden_size" in overrides and "intermediate_size" not in overrides:
        # feed-forward blocks twice as wide as the model, as LTVHDConfig's defaults (64, 128)
        overrides["intermediate_size"] = 2 * int(overrides["hidden_size"])
    model = LTVHDModel(
        LTVHDConfig(
            visual_dim=int(train[0].visual.shape[1]),
            audio_dim=int(train[0].audio.shape[1]),
            extractors=[u["name"] for u in used],
            extractor_keys=[u["key"] for u in used],
            extractor_options={
                u["name"]: {"model": u["settings"]["model"]}
                for u in used
                if "model" in u["settings"]
            },
            **overrides,
        )
    )
    stats = feature_statistics(train)
    model.set_feature_statistics(
        torch.from_numpy(stats["visual_mean"]),
        torch.from_numpy(stats["visual_std"]),
        torch.from_numpy(stats["audio_mean"]) if "audio_mean" in stats else None,
        torch.from_numpy(stats["audio_std"]) if "audio_std" in stats else None,
    )
    return model


def _check_mil_data(examples: Sequence[VideoExample], dataset: str | Path) -> None:
    pos = sum(e.video_label == 1 for e in examples)
    neg = len(examples) - pos
    if pos == 0 or neg == 0:
        raise TrainingError(
            f"{dataset}: MIL needs positive and negative videos in the train split, found "
            f"{pos} positive and {neg} negative. Cut the sources into rows with "
            "a `window` when building the dataset, or add sources."
        )


@torch.inference_mode()
def clip_scores(
    model: torch.nn.Module, examples: Sequence[VideoExample], device: Any
) -> tuple[list[np.ndarray], list[float], list[float]]:
    """Every example scored whole: per-clip scores, MIL video scores and MIL losses."""
    model.eval()
    scores, video_scores, losses = [], [], []
    for e in examples:
        batch = collate([e])
        out = model(
            visual_features=batch["visual_features"].to(device),
            audio_features=(
                batch["audio_features"].to(device) if batch["audio_features"] is not None else None
            ),
            attention_mask=batch["attention_mask"].to(device),
            audio_mask=batch["audio_mask"].to(device),
            video_labels=batch["video_labels"].to(device),
        )
        scores.append(out.scores[0].float().cpu().numpy())
        video_scores.append(float(out.video_scores[0]))
        losses.append(float(out.loss))
    return scores, video_scores, losses


def evaluate_model(model: torch.nn.Module, examples: Sequence[VideoExample], device: Any) -> dict:
    """Scores every example whole and measures clip AUC/AP (pooled and per video), the video
    AUC of the MIL score, and the MIL loss."""
    from sklearn.metrics import roc_auc_score

    scores, video_scores, losses = clip_scores(model, examples, device)
    m = clip_auc_ap([e.labels for e in examples], scores)
    y = [e.video_label for e in examples]
    video_auc = float(roc_auc_score(y, video_scores)) * 100 if len(set(y)) == 2 else float("nan")
    return {
        "loss": float(np.mean(losses)),
        "clip_auc": m["pooled_auc"],
        "clip_ap": m["pooled_ap"],
        "video_mean_auc": m["video_auc"],
        "video_auc": video_auc,
        "num_videos": len(examples),
    }


def _append_log(path: Path, row: dict[str, Any]) -> None:
    clean = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
    append_jsonl(path, [clean])


def _metric(val: dict[str, Any]) -> tuple[str, float]:
    """Early-stopping score: validation clip AUC, else (one class only) minus the loss."""
    auc = val.get("clip_auc")
    if auc is not None and not math.isnan(auc):
        return "val_clip_auc", float(auc)
    return "neg_val_loss", -float(val["loss"])


def train_stage1(
    dataset: str | Path,
    features: str | Path,
    out: str | Path,
    config: Stage1Config | None = None,
    *,
    extractors: Sequence[str] | None = None,
    restart: bool = False,
    command: str | None = None,
    show_progress: bool = False,
) -> Stage1Result:
    """Train LTV-HD stage 1 on ``dataset``'s train split with the features in ``features``.

    The best model (by validation score) ends up in ``out``; ``out/training/`` holds the log,
    the curves and the resumable checkpoint. ``restart`` discards an existing checkpoint;
    ``command`` (the command line that ran this) goes into the model card.
    """
    from accelerate import Accelerator

    config = config or Stage1Config()
    out = Path(out)
    t0 = time.perf_counter()
    examples = load_examples(dataset, features, "train", extractors)
    _check_mil_data(examples, dataset)
    try:
        val = load_examples(dataset, features, "validation", extractors)
        train = examples
        val_source = "validation split"
    except TVHighlightsError:
        train, val = split_train_validation(examples, config.validation_fraction, config.seed)
        val_source = f"{len(val)} held-out train videos"
        if not val:
            val = train
            val_source = "the train videos themselves (too few videos to hold any out)"
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model = new_model(train, features, extractors, config.model)
    optimizer = torch.optim.Adam(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )

    ckpt_dir = out / "training" / "checkpoint"
    log_path = out / "training" / "log.jsonl"
    state: dict[str, Any] = {"epoch": 0, "best": None, "best_epoch": 0, "stale": 0, "history": []}
    resumed_from = None
    if ckpt_dir.exists() and restart:
        shutil.rmtree(out / "training")
    elif ckpt_dir.exists():
        saved = json.loads((ckpt_dir / "state.json").read_text(encoding="utf-8"))
        if saved.get("fingerprint") != config.fingerprint():
            raise TrainingError(
                f"{out}: holds a checkpoint of a run with other settings; restart to "
                "discard it, or choose another output folder",
                param="restart",
            )
        state = load_checkpoint(ckpt_dir, model, optimizer, rng)
        resumed_from = state["epoch"]
        logger.info("resuming %s after epoch %d", out, resumed_from)

    accelerator = Accelerator(
        cpu=not config.device.startswith("cuda"), mixed_precision=config.mixed_precision
    )
    model, optimizer = accelerator.prepare(model, optimizer)
    device = accelerator.device
    world, rank = accelerator.num_processes, accelerator.process_index
    main = accelerator.is_main_process

    bar = tqdm(
        total=config.epochs,
        initial=state["epoch"],
        unit="epoch",
        desc="stage 1",
        disable=not (show_progress and main),
    )
    for epoch in range(state["epoch"] + 1, config.epochs + 1):
        if state["stale"] >= config.patience:
            break
        te = time.perf_counter()
        model.train()
        order = rng.permutation(len(train))
        batches = [
            [train[i] for i in order[s : s + config.batch_size]]
            for s in range(0, len(order), config.batch_size)
        ]
        if world > 1:  # every process takes the same number of steps
            batches = batches[: max(1, len(batches) // world) * world][rank::world]
        losses = []
        for group in batches:
            batch = collate(group, config.max_clips, rng)
            out_ = model(
                visual_features=batch["visual_features"].to(device),
                audio_features=(
                    batch["audio_features"].to(device)
                    if batch["audio_features"] is not None
                    else None
                ),
                attention_mask=batch["attention_mask"].to(device),
                audio_mask=batch["audio_mask"].to(device),
                video_labels=batch["video_labels"].to(device),
            )
            optimizer.zero_grad(set_to_none=True)
            accelerator.backward(out_.loss)
            optimizer.step()
            losses.append(float(out_.loss.detach()))
        unwrapped = accelerator.unwrap_model(model)
        v = evaluate_model(unwrapped, val, device)
        name, score = _metric(v)
        row = {
            "epoch": epoch,
            "train_loss": float(np.mean(losses)) if losses else float("nan"),
            **{f"val_{k}": x for k, x in v.items()},
            "metric": name,
            "seconds": round(time.perf_counter() - te, 3),
        }
        improved = state["best"] is None or score > state["best"]
        if improved:
            state.update(best=score, best_epoch=epoch, stale=0)
        else:
            state["stale"] += 1
        state["epoch"] = epoch
        state["history"].append(row)
        if main:
            if improved:
                unwrapped.config.training_summary = _summary(
                    config, row, val_source, len(train), dataset, features, command
                )
                save_model_folder(unwrapped, out)
            _append_log(log_path, row)
            save_checkpoint(
                ckpt_dir,
                unwrapped,
                optimizer,
                {**state, "fingerprint": config.fingerprint()},
                rng,
            )
        accelerator.wait_for_everyone()
        bar.update(1)
        bar.set_postfix(loss=f"{row['train_loss']:.3f}", val=f"{score:.2f}")
    bar.close()
    if state["best"] is None:
        raise TrainingError(f"{out}: no epoch was run (epochs={config.epochs})")

    if main:
        from .curves import plot_training_curves

        plot_training_curves(state["history"], out / "training" / "curves.png")
    best_row = next(r for r in state["history"] if r["epoch"] == state["best_epoch"])
    return Stage1Result(
        out_dir=out,
        best_epoch=state["best_epoch"],
        best_metric=float(state["best"]),
        metric_name=best_row["metric"],
        history=state["history"],
        validation={k[4:]: v for k, v in best_row.items() if k.startswith("val_")},
        seconds=time.perf_counter() - t0,
        resumed_from=resumed_from,
    )


def _summary(
    config: Stage1Config,
    row: dict[str, Any],
    val_source: str,
    num_train: int,
    dataset: str | Path,
    features: str | Path,
    command: str | None,
) -> dict[str, Any]:
    """What the model card says about how these weights were trained."""
    return {
        "command": command,
        "stage": 1,
        "method": "MIL: video score = mean of the top-k clip scores, BCE on video labels",
        "dataset": str(dataset),
        "features": str(features),
        "train_videos": num_train,
        "validation": val_source,
        "epoch": row["epoch"],
        "validation_metrics": {k[4:]: v for k, v in row.items() if k.startswith("val_")},
        "hyperparameters": asdict(config),
    }
