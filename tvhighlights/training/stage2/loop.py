"""Stage 2 of LTV-HD: rounds of LLG -> NLC -> HPI, the model and the LLM teaching each other.

Per round (the seed's loop; its defaults: 2 rounds, 100 epochs, batch 32, Adam 1e-4,
``lambda_cp`` 0.1, ``lambda_s`` 0.4):

1. **LLG** (:mod:`.llg`): every clip's description (described once, by the describer) and the
   round's patterns go to the LLM, which scores clips at 0.1 steps -> ``Y_llm``; merged with
   the current model's confident predictions -> ``Y_n``.
2. **NLC** (:mod:`.nlc`): the model trains on ``Y_n`` held as learnable distributions.
3. **HPI** (:mod:`.hpi`): the trained model's confident clips become genre patterns for the
   next round's LLG.

Everything lands in ``OUT/stage2/``: the call cache (every describer and LLM answer), the
descriptions, and per round its pseudo-labels, patterns, metrics, training log and model. A
killed run started again resumes: finished rounds are read back, the unfinished one replays
its LLM calls from the cache and its training from the last epoch's checkpoint. ``OUT`` gets
the last round's model (``save_pretrained``) and the round report (:mod:`.report`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from ...errors import InvalidArgumentError, TrainingError, TVHighlightsError
from ...evaluation.metrics import clip_auc_ap, cohen_kappa
from ...features.store import FeatureStore, load_features
from ...fileio import append_jsonl, write_json
from ...llm.client import CallStats, LLMClient
from ...llm.describer import ClipToDescribe, Describer, describe_videos, row_clips
from ..checkpoint import load_checkpoint, save_checkpoint, save_model_folder
from ..data import (
    VideoExample,
    collate,
    load_examples,
    split_train_validation,
)
from ..stage1 import clip_scores, new_model
from .hpi import GenrePatterns, induce_patterns
from .llg import GENRES, LLGVideo, llg_scores, merge_with_model, normalise_genre
from .nlc import DEFAULT_LABEL_LR, collapse_problem, init_label_logits, nlc_loss

logger = logging.getLogger(__name__)

__all__ = ["Stage2Config", "Stage2Result", "train_stage2"]


@dataclass
class Stage2Config:
    """Hyper-parameters of stage 2 (defaults: the seed's where it gives them)."""

    rounds: int = 2
    epochs: int = 100
    """NLC epochs per round."""
    batch_size: int = 32
    learning_rate: float = 1e-4
    label_lr: float = DEFAULT_LABEL_LR
    """SGD rate of the labels' logits (see :mod:`.nlc`)."""
    label_start: float = 0.2
    label_stop: float = 0.8
    """The labels learn in epochs (start, stop] as shares of the round, PENCIL's three phases
    (its 70 / 130 / 120 of 320 epochs): the model first learns from ``Y_n`` as it is, then
    model and labels learn together, then the model settles on the refurbished labels."""
    lambda_cp: float = 0.1
    lambda_s: float = 0.4
    nlc: bool = True
    """False: plain BCE on ``Y_n`` with fixed labels (the "noisy labels directly" ablation)."""
    hpi: bool = True
    """False: no patterns; every round's LLG prompt is the first round's."""
    confident_top: float = 0.05
    """A clip the model ranks in the top share of all train clips is a confident highlight."""
    confident_bottom: float = 0.3
    """... in the bottom share, a confident non-highlight."""
    model_weight: float = 0.5
    """Weight of a confident model label against the LLM's score in ``Y_n``."""
    clips_per_call: int = 12
    hpi_examples: int = 12
    """Confident clips per genre and side shown to HPI."""
    merge_threshold: float = 0.8
    """Cosine (all-MiniLM-L6-v2) above which two patterns are one."""
    max_tokens: int = 1024
    max_clips: int | None = 1024
    validation_fraction: float = 0.2
    seed: int = 0
    device: str = "cpu"
    mixed_precision: str = "no"
    model: dict[str, Any] = field(default_factory=dict)
    """LTVHDConfig overrides for a model trained from scratch (no ``init``)."""

    def __post_init__(self) -> None:
        problems = []
        for name in (
            "rounds",
            "epochs",
            "batch_size",
            "clips_per_call",
            "hpi_examples",
            "max_tokens",
        ):
            if int(getattr(self, name)) < 1:
                problems.append(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("learning_rate",):
            if not getattr(self, name) > 0:
                problems.append(f"{name} must be > 0, got {getattr(self, name)}")
        for name in ("label_lr", "lambda_cp", "lambda_s"):
            if getattr(self, name) < 0:
                problems.append(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("confident_top", "confident_bottom", "model_weight"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                problems.append(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if not 0.0 <= self.label_start <= self.label_stop <= 1.0:
            problems.append(
                f"need 0 <= label_start <= label_stop <= 1, got {self.label_start}, "
                f"{self.label_stop}"
            )
        if self.confident_top + self.confident_bottom > 1:
            problems.append("confident_top + confident_bottom must be <= 1")
        if not 0.0 < self.validation_fraction < 1.0:
            problems.append(
                f"validation_fraction must be in (0, 1), got {self.validation_fraction}"
            )
        if self.mixed_precision not in ("no", "bf16", "fp16"):
            problems.append(
                f"mixed_precision must be no, bf16 or fp16, got {self.mixed_precision!r}"
            )
        if problems:
            raise InvalidArgumentError("; ".join(problems))

    def fingerprint(self) -> str:
        """What a resumed round must share with the run that started it."""
        d = asdict(self)
        for k in ("rounds", "device"):
            d.pop(k)
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class Stage2Result:
    out_dir: Path
    rounds: list[dict[str, Any]]
    """Round 0 (the starting model) and one entry per round: metrics, counts, patterns."""
    report: Path
    seconds: float
    resumed_rounds: int = 0


# --------------------------------------------------------------------------------------------
# Data


@dataclass
class _Split:
    name: str
    examples: list[VideoExample]
    rows: list[dict[str, Any]]


def _rows(dataset: str | Path, split: str) -> dict[str, dict[str, Any]]:
    from ...data.folder import read_split

    cols = ["video_id", "title", "genre", "start", "video_path"]
    table = read_split(dataset, split)
    have = [c for c in cols if c in table.column_names]
    return {r["video_id"]: r for r in table.select(have).to_pylist()}


def _load(dataset, features, extractors, config) -> tuple[_Split, _Split, _Split | None, str]:
    examples = load_examples(dataset, features, "train", extractors)
    rows = _rows(dataset, "train")
    try:
        val = load_examples(dataset, features, "validation", extractors)
        rows.update(_rows(dataset, "validation"))
        train, source = examples, "validation split"
    except TVHighlightsError:
        train, val = split_train_validation(examples, config.validation_fraction, config.seed)
        source = f"{len(val)} held-out train videos"
        if not val:
            val, source = train, "the train videos themselves (too few to hold any out)"
    test = None
    try:
        test_ex = load_examples(dataset, features, "test", extractors)
        test_rows = _rows(dataset, "test")
        test = _Split("test", test_ex, [test_rows[e.video_id] for e in test_ex])
    except TVHighlightsError as e:
        logger.info("no test split to measure against (%s)", e)
    return (
        _Split("train", train, [rows[e.video_id] for e in train]),
        _Split("validation", val, [rows[e.video_id] for e in val]),
        test,
        source,
    )


def _cue_key(features: str | Path) -> str | None:
    """The store key of the handcrafted extractor's features (the signals describer's cues)."""
    known = FeatureStore(features).extractors()
    return next((k for k, v in known.items() if v.get("name") == "handcrafted"), None)


def _clips_to_describe(features, split: _Split, cue_key: str | None) -> list[list[ClipToDescribe]]:
    from ...features.handcrafted import AUDIO_FEATURES, VISUAL_FEATURES

    vnames = [n for n, _ in VISUAL_FEATURES]
    anames = [n for n, _ in AUDIO_FEATURES]
    out = []
    for e, row in zip(split.examples, split.rows, strict=True):
        cues: dict[str, np.ndarray] = {}
        if cue_key is not None:
            f = load_features(features, e.video_id, [cue_key])
            for names, arr in ((vnames, f["visual"]), (anames if e.has_audio else [], f["audio"])):
                cues.update({name: arr[:, j] for j, name in enumerate(names[: arr.shape[1]])})
        out.append(
            row_clips(e.video_id, e.num_clips, start=float(row.get("start") or 0.0),
                      video_path=row.get("video_path"), title=row.get("title") or "", cues=cues)
        )  # fmt: skip
    return out


# --------------------------------------------------------------------------------------------
# LLG


def _llg(
    client: LLMClient,
    splits: Sequence[_Split],
    descriptions: dict[str, list[str | None]],
    genre_of: dict[str, str],
    patterns: dict[str, GenrePatterns],
    genres: Sequence[str],
    config: Stage2Config,
    show_progress: bool,
) -> tuple[dict[str, np.ndarray], dict[str, str], Counter]:
    """``Y_llm`` per video (NaN where no usable score) and the genre each video's answers
    gave (the catalogue's where they gave none)."""
    videos = []
    for split in splits:
        for e, row in zip(split.examples, split.rows, strict=True):
            pats = patterns.get(genre_of[e.video_id])
            videos.append(
                LLGVideo(e.video_id, row.get("title") or e.video_id, row.get("genre"),
                         float(row.get("start") or 0.0),
                         descriptions.get(e.video_id, [None] * e.num_clips),
                         pats.to_dict() if pats else None)
            )  # fmt: skip
    res = llg_scores(client, videos, genres, clips_per_call=config.clips_per_call,
                     max_tokens=config.max_tokens, show_progress=show_progress)  # fmt: skip
    inferred = {vid: res.genres.get(vid, genre_of[vid]) for vid in genre_of}
    return res.scores, inferred, res.problems


# --------------------------------------------------------------------------------------------
# NLC training


class _NLCState(torch.nn.Module):
    """The model and the labels' logits together, for one checkpoint."""

    def __init__(self, model: torch.nn.Module, label_logits: torch.nn.Parameter) -> None:
        super().__init__()
        self.model = model
        self.label_logits = label_logits


def _train_round(
    model,
    train: _Split,
    y_n: dict[str, np.ndarray],
    weight: dict[str, np.ndarray],
    config: Stage2Config,
    round_dir: Path,
    show_progress: bool,
    desc: str,
) -> tuple[Any, dict[str, np.ndarray], list[dict[str, Any]], Counter]:
    """NLC (or plain BCE) for ``config.epochs``; returns the model, the refurbished labels
    (P(highlight) per clip), the epoch log and the problems counted."""
    from accelerate import Accelerator

    examples = train.examples
    offsets = np.cumsum([0] + [e.num_clips for e in examples])
    yn = torch.tensor(np.concatenate([y_n[e.video_id] for e in examples]), dtype=torch.float32)
    w = torch.tensor(np.concatenate([weight[e.video_id] for e in examples]), dtype=torch.float32)
    labels = torch.nn.Parameter(init_label_logits(yn))
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    state: dict[str, Any] = {"epoch": 0, "history": [], "frozen": None}
    ckpt = round_dir / "checkpoint"
    holder = _NLCState(model, labels)
    if ckpt.exists():
        saved = json.loads((ckpt / "state.json").read_text(encoding="utf-8"))
        if saved.get("fingerprint") == config.fingerprint():
            state = load_checkpoint(ckpt, holder, optimizer, rng)
            logger.info("%s: resuming after epoch %d", round_dir, state["epoch"])
        else:
            shutil.rmtree(ckpt)
    accelerator = Accelerator(
        cpu=not config.device.startswith("cuda"), mixed_precision=config.mixed_precision
    )
    if accelerator.num_processes > 1:
        raise TrainingError("stage 2 runs in one process; start it without `accelerate launch`")
    model, optimizer = accelerator.prepare(model, optimizer)
    device = accelerator.device
    labels.data = labels.data.to(device)
    yn, w = yn.to(device), w.to(device)
    offsets_t = torch.as_tensor(offsets[:-1], device=device)
    labelled = w > 0
    start_share = float((yn[labelled] > 0.5).float().mean()) if labelled.any() else 0.0
    problems: Counter = Counter()
    log_path = round_dir / "log.jsonl"
    bar = tqdm(
        total=config.epochs,
        initial=state["epoch"],
        desc=desc,
        unit="epoch",
        disable=not show_progress,
    )
    for epoch in range(state["epoch"] + 1, config.epochs + 1):
        te = time.perf_counter()
        model.train()
        order = rng.permutation(len(examples))
        sums: Counter = Counter()
        steps = 0
        learning = (
            config.nlc
            and state["frozen"] is None
            and round(config.label_start * config.epochs)
            < epoch
            <= round(config.label_stop * config.epochs)
        )
        for s in range(0, len(order), config.batch_size):
            idx = order[s : s + config.batch_size]
            batch = collate([examples[i] for i in idx], config.max_clips, rng)
            mask = batch["attention_mask"].to(device)
            with accelerator.autocast():
                out = model(
                    visual_features=batch["visual_features"].to(device),
                    audio_features=(
                        batch["audio_features"].to(device)
                        if batch["audio_features"] is not None
                        else None
                    ),
                    attention_mask=mask,
                    audio_mask=batch["audio_mask"].to(device),
                )
            flat = (
                offsets_t[torch.as_tensor(idx, device=device)][:, None]
                + batch["clip_index"].to(device)
            )[mask]
            logits = out.logits[mask].float()
            n = w[flat].sum().clamp(min=1)
            if config.nlc:
                total, parts = nlc_loss(
                    logits,
                    labels[flat],
                    yn[flat],
                    w[flat],
                    lambda_cp=config.lambda_cp,
                    lambda_s=config.lambda_s,
                )
            else:
                bce = torch.nn.functional.binary_cross_entropy_with_logits(
                    logits, yn[flat], reduction="none"
                )
                total = (bce * w[flat]).sum()
                parts = {"bce": float(total.detach() / n)}
            optimizer.zero_grad(set_to_none=True)
            labels.grad = None
            accelerator.backward(total / n)
            optimizer.step()
            if learning and labels.grad is not None:
                with torch.no_grad():  # each clip's own loss, not the batch mean: see nlc.py
                    labels -= config.label_lr * labels.grad * n
            sums.update({k: v for k, v in parts.items()})
            sums["loss"] += float(total.detach() / n)
            steps += 1
        refurbished = torch.softmax(labels.detach(), -1)[:, 1]
        if learning:
            why = collapse_problem(refurbished[labelled], start_share)
            if why:  # back to Y_n: labels near collapse already taught the model the collapse
                labels.data = init_label_logits(yn).to(device)
                refurbished = torch.softmax(labels.detach(), -1)[:, 1]
                state["frozen"] = epoch
                problems["labels collapsing (frozen)"] += 1
                logger.warning("%s: %s at epoch %d; labels frozen", round_dir, why, epoch)
        row = {
            "epoch": epoch,
            **{k: v / max(steps, 1) for k, v in sums.items()},
            "labels_positive_share": float((refurbished[labelled] > 0.5).float().mean())
            if labelled.any()
            else None,
            "labels_moved": float((refurbished - yn)[labelled].abs().mean())
            if labelled.any()
            else None,
            "seconds": round(time.perf_counter() - te, 3),
        }
        state["epoch"] = epoch
        state["history"].append(row)
        append_jsonl(log_path, [row])
        save_checkpoint(
            ckpt,
            _NLCState(accelerator.unwrap_model(model), labels),
            optimizer,
            {**state, "fingerprint": config.fingerprint()},
            rng,
        )
        bar.update(1)
        bar.set_postfix(loss=f"{row['loss']:.3f}")
    bar.close()
    ref = torch.softmax(labels.detach(), -1)[:, 1].float().cpu().numpy()
    refurbished = {e.video_id: ref[offsets[i] : offsets[i + 1]] for i, e in enumerate(examples)}
    if state["frozen"] is not None and not problems:
        problems["labels collapsing (frozen)"] += 1
    return accelerator.unwrap_model(model), refurbished, state["history"], problems


# --------------------------------------------------------------------------------------------
# Measuring a round


def _kappa(truth: Sequence[np.ndarray], pred: Sequence[np.ndarray]) -> float | None:
    t = np.concatenate([np.asarray(x) for x in truth]).astype(int)
    p = np.concatenate([np.asarray(x) for x in pred])
    keep = ~np.isnan(p)
    if keep.sum() < 2:
        return None
    return float(cohen_kappa(t[keep], (p[keep] >= 0.5).astype(int)))  # percent


def _auc_ap(examples: Sequence[VideoExample], scores: Sequence[np.ndarray]) -> dict[str, Any]:
    m = clip_auc_ap([e.labels for e in examples], scores)
    return {"clip_auc": m["pooled_auc"], "clip_ap": m["pooled_ap"], "video_auc": m["video_auc"]}


def _measure(
    model, splits: dict[str, _Split], device, y_llm=None, y_n=None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Validation AUC/AP (votes) and, with a test split, AUC/AP and kappas against its human
    labels: of the model's predictions (>= 0.5), of ``Y_llm`` and of ``Y_n``."""
    out: dict[str, Any] = {}
    scores: dict[str, np.ndarray] = {}
    for name in ("train", "validation", "test"):
        split = splits.get(name)
        if split is None:
            continue
        s, _, _ = clip_scores(model, split.examples, device)
        scores.update({e.video_id: x for e, x in zip(split.examples, s, strict=True)})
        if name == "train":
            continue
        prefix = "val" if name == "validation" else "test"
        out.update({f"{prefix}_{k}": v for k, v in _auc_ap(split.examples, s).items()})
        if name == "test":
            truth = [e.labels for e in split.examples]
            out["test_kappa_model"] = _kappa(truth, s)
            if y_llm is not None:
                out["test_kappa_llm"] = _kappa(truth, [y_llm[e.video_id] for e in split.examples])
            if y_n is not None:
                out["test_kappa_labels"] = _kappa(truth, [y_n[e.video_id] for e in split.examples])
    return out, scores


def _hpi_examples(
    train: _Split,
    scores: dict[str, np.ndarray],
    descriptions: dict[str, list[str | None]],
    genre_of: dict[str, str],
    low: float,
    high: float,
    per_side: int,
) -> dict[str, tuple[list[str], list[str]]]:
    """Per genre, descriptions of the clips the model is most sure about (at most two per
    video and side, so one video cannot speak for the genre)."""
    cand: dict[str, tuple[list, list]] = {}
    for e in train.examples:
        g = genre_of[e.video_id]
        s, texts = scores[e.video_id], descriptions.get(e.video_id, [])
        order = np.argsort(-s, kind="stable")
        hi = [
            (float(s[i]), texts[i]) for i in order if s[i] >= high and i < len(texts) and texts[i]
        ][:2]
        lo = [
            (float(s[i]), texts[i])
            for i in order[::-1]
            if s[i] <= low and i < len(texts) and texts[i]
        ][:2]
        c = cand.setdefault(g, ([], []))
        c[0].extend(hi)
        c[1].extend(lo)
    out = {}
    for g, (hi, lo) in cand.items():
        hi = [t for _, t in sorted(hi, key=lambda x: -x[0])[:per_side]]
        lo = [t for _, t in sorted(lo, key=lambda x: x[0])[:per_side]]
        if hi and lo:
            out[g] = (list(dict.fromkeys(hi)), list(dict.fromkeys(lo)))
    return out


def _thresholds(scores: dict[str, np.ndarray], train: _Split, config: Stage2Config):
    s = np.concatenate([scores[e.video_id] for e in train.examples])
    return (
        float(np.quantile(s, config.confident_bottom)),
        float(np.quantile(s, 1 - config.confident_top)),
    )


# --------------------------------------------------------------------------------------------
# The loop


def _load_model(folder: str | Path, param: str | None = None):
    """An LTV-HD model folder (no loading bar: the model is a megabyte)."""
    from transformers.utils import logging as hf_logging

    from ...models.ltvhd import LTVHDModel

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return LTVHDModel.from_pretrained(str(folder), use_safetensors=True)
    except (OSError, ValueError, RuntimeError) as e:
        raise TrainingError(
            f"{folder}: not a loadable LTV-HD model folder ({e})", param=param
        ) from e
    finally:
        if bars:
            hf_logging.enable_progress_bar()


def _init_model(init, train: _Split, features, extractors, config: Stage2Config):

    if init is not None:
        model = _load_model(init, "init")
        e0 = train.examples[0]
        if (model.config.visual_dim, model.config.audio_dim) != (
            e0.visual.shape[1],
            e0.audio.shape[1],
        ):
            raise TrainingError(
                f"{init}: the model takes features of widths ({model.config.visual_dim}, "
                f"{model.config.audio_dim}) but {features} gives ({e0.visual.shape[1]}, "
                f"{e0.audio.shape[1]}); use the extractors it was trained with "
                f"({', '.join(model.config.extractors)})",
                param="init",
            )
        return model
    torch.manual_seed(config.seed)
    return new_model(train.examples, features, extractors, config.model)


def _as_list(y: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else round(float(v), 4) for v in np.asarray(y, dtype=float)]


def train_stage2(
    dataset: str | Path,
    features: str | Path,
    out: str | Path,
    *,
    describer: Describer | str = "signals",
    llm: LLMClient | str,
    init: str | Path | None = None,
    config: Stage2Config | None = None,
    extractors: Sequence[str] | None = None,
    llm_options: dict[str, Any] | None = None,
    restart: bool = False,
    command: str | None = None,
    show_progress: bool = False,
) -> Stage2Result:
    """Train LTV-HD stage 2 on ``dataset``'s train split, starting from ``init`` (a stage-1
    model folder; ``None`` trains from scratch, the "no weak supervision" ablation).

    ``describer`` and ``llm`` are objects or registry specs (``signals``,
    ``openai:URL:MODEL``, ``transformers:PATH``); specs share one call cache in
    ``OUT/stage2/llm-calls.jsonl`` and take ``llm_options`` (``timeout``, ``retries``,
    ``concurrency``). ``extractors`` picks the model's input features (default: the init
    model's, else all). ``restart`` discards the rounds already in ``OUT``.
    """
    from .report import write_report

    config = config or Stage2Config()
    out = Path(out)
    t0 = time.perf_counter()
    work = out / "stage2"
    if restart and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    cache = work / "llm-calls.jsonl"
    if isinstance(llm, str) or isinstance(describer, str):
        from ...llm.cache import CallCache
        from ...llm.registry import get_describer, get_llm

        # one cache object for both: the same file, one lock, each answer seen by both
        opts = {"cache": CallCache(cache), "device": config.device, **(llm_options or {})}
        if isinstance(llm, str):
            llm = get_llm(llm, max_tokens=config.max_tokens, **opts)
        if isinstance(describer, str):
            describer = get_describer(describer, **opts)
    if init is not None and extractors is None:
        cfg = (
            json.loads((Path(init) / "config.json").read_text(encoding="utf-8"))
            if (Path(init) / "config.json").is_file()
            else {}
        )
        extractors = cfg.get("extractor_keys") or None
    train, val, test, val_source = _load(dataset, features, extractors, config)
    splits = {"train": train, "validation": val, **({"test": test} if test else {})}
    cue_key = _cue_key(features)
    if describer.name == "signals" and cue_key is None:
        raise TrainingError(
            f"{features}: the signals describer reads the handcrafted extractor's cues, and "
            "this feature folder has none; run `tvhighlights extract --extractors "
            "handcrafted` into it, or choose a describer model",
            param="describer",
        )
    genres = list(
        dict.fromkeys(
            [
                *GENRES,
                *sorted(
                    {
                        (r.get("genre") or "").lower()
                        for s in splits.values()
                        for r in s.rows
                        if r.get("genre")
                    }
                ),
            ]
        )
    )
    catalogue = {
        e.video_id: normalise_genre(r.get("genre"), genres) or "unknown"
        for s in splits.values()
        for e, r in zip(s.examples, s.rows, strict=True)
    }

    all_clips = [c for s in splits.values() for c in _clips_to_describe(features, s, cue_key)]
    descriptions, failed_descriptions = describe_videos(
        describer, all_clips, work / "descriptions.jsonl", show_progress=show_progress
    )
    model = _init_model(init, train, features, extractors, config)
    device = torch.device("cuda" if config.device.startswith("cuda") else "cpu")
    model.to(device)
    write_json(
        work / "run.json",
        {
            "config": asdict(config),
            "init": str(init) if init else None,
            "describer": describer.name,
            "llm": llm.name,
            "dataset": str(dataset),
            "features": str(features),
        },
    )

    metrics0, scores = _measure(model, splits, device)
    rounds: list[dict[str, Any]] = [
        {"round": 0, "model": "stage 1" if init else "untrained", **metrics0}
    ]
    patterns: dict[str, GenrePatterns] = {}
    genre_of = dict(catalogue)
    resumed = 0
    for r in range(1, config.rounds + 1):
        rdir = work / f"round-{r}"
        done = rdir / "round.json"
        if done.exists():
            saved = json.loads(done.read_text(encoding="utf-8"))
            if saved.get("fingerprint") == config.fingerprint():
                model = _load_model(rdir / "model").to(device)
                patterns = {g: GenrePatterns(**p) for g, p in saved["patterns"].items()}
                genre_of.update(saved["genres"])
                rounds.append(saved["summary"])
                _, scores = _measure(model, {"train": train}, device)
                resumed += 1
                continue
            shutil.rmtree(rdir)
        rdir.mkdir(parents=True, exist_ok=True)
        llm.stats = CallStats()  # counts per round
        trained = init is not None or r > 1
        low, high = _thresholds(scores, train, config) if trained else (None, None)
        y_llm, inferred, problems = _llg(
            llm,
            list(splits.values()),
            descriptions,
            genre_of,
            patterns,
            genres,
            config,
            show_progress,
        )
        y_n, weight = {}, {}
        for vid, y in y_llm.items():
            y_n[vid], weight[vid] = merge_with_model(
                y,
                scores.get(vid) if trained else None,
                low=low,
                high=high,
                model_weight=config.model_weight,
            )
        model, refurbished, history, train_problems = _train_round(
            model, train, y_n, weight, config, rdir, show_progress, f"stage 2 round {r}"
        )
        problems.update(train_problems)
        model.to(device)
        metrics, scores = _measure(model, splits, device, y_llm, y_n)
        genre_of.update({vid: g for vid, g in inferred.items()})
        unknown = sum(1 for vid in catalogue if genre_of[vid] == "unknown")
        hpi_stats: dict[str, Any] = {}
        if config.hpi:
            from ...llm.embeddings import TextEmbedder

            lo2, hi2 = _thresholds(scores, train, config)
            examples = _hpi_examples(
                train, scores, descriptions, genre_of, lo2, hi2, config.hpi_examples
            )
            patterns, hpi_problems = induce_patterns(
                llm,
                examples,
                patterns,
                TextEmbedder(device="cpu"),
                merge_threshold=config.merge_threshold,
                show_progress=show_progress,
            )
            problems.update(hpi_problems)
            hpi_stats = {"genres": len(examples)}
        flat_train = np.concatenate([y_llm[e.video_id] for e in train.examples])
        summary = {
            "round": r,
            **metrics,
            "llm_coverage": float(np.mean(~np.isnan(flat_train))),
            "labelled_share": float(
                np.mean(np.concatenate([weight[e.video_id] for e in train.examples]) > 0)
            ),
            "labels_positive_share": history[-1].get("labels_positive_share") if history else None,
            "labels_moved": history[-1].get("labels_moved") if history else None,
            "confident_low": low,
            "confident_high": high,
            "patterns": sum(len(p.highlight) + len(p.non_highlight) for p in patterns.values()),
            "llm": llm.stats.to_dict(),
            "problems": dict(problems),
            "description_failures": failed_descriptions,
            "unknown_genre_videos": unknown,
            **({"hpi": hpi_stats} if hpi_stats else {}),
        }
        with (rdir / "pseudo_labels.jsonl").open("w", encoding="utf-8") as f:
            for name, split in splits.items():
                for e in split.examples:
                    row = {
                        "video_id": e.video_id,
                        "split": name,
                        "genre": genre_of[e.video_id],
                        "y_llm": _as_list(y_llm[e.video_id]),
                        "y_n": _as_list(np.where(weight[e.video_id] > 0, y_n[e.video_id], np.nan)),
                        "y_refurbished": _as_list(refurbished[e.video_id])
                        if e.video_id in refurbished
                        else None,
                        "model_scores": _as_list(scores[e.video_id]),
                    }
                    f.write(json.dumps(row) + "\n")
        write_json(rdir / "patterns.json", {g: p.to_dict() for g, p in sorted(patterns.items())})
        save_model_folder(model, rdir / "model")
        shutil.rmtree(rdir / "checkpoint", ignore_errors=True)
        write_json(
            done,
            {
                "fingerprint": config.fingerprint(),
                "summary": summary,
                "patterns": {
                    g: {"highlight": p.highlight, "non_highlight": p.non_highlight}
                    for g, p in patterns.items()
                },
                "genres": genre_of,
            },
        )
        rounds.append(summary)
        logger.info("round %d: %s", r, {k: v for k, v in summary.items() if isinstance(v, float)})

    last = rounds[-1]
    model.config.training_summary = {
        "command": command,
        "stage": 2,
        "method": "LLG -> NLC -> HPI rounds (LLM pseudo-labels cleaned by label refurbishment)",
        "dataset": str(dataset),
        "features": str(features),
        "train_videos": len(train.examples),
        "validation": val_source,
        "epoch": config.epochs,
        "init": str(init) if init else None,
        "describer": describer.name,
        "llm": llm.name,
        "validation_metrics": {k[4:]: v for k, v in last.items() if k.startswith("val_")},
        "hyperparameters": asdict(config),
    }
    save_model_folder(model, out)
    report = write_report(work, rounds, describer=describer.name, llm=llm.name, config=config)
    return Stage2Result(out, rounds, report, time.perf_counter() - t0, resumed)
