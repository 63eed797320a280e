"""``train``: LTV-HD from a dataset folder and its features."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ..errors import TVHighlightsError
from ._app import show_progress


def train_cmd(
    dataset: Annotated[Path, typer.Option(help="Dataset folder (its train split is used).")],
    features: Annotated[Path, typer.Option(help="Feature folder from `tvhighlights extract`.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model folder to write.")],
    stage: Annotated[
        int,
        typer.Option(help="1: MIL on video labels; 2: the LLM loop (LLG -> NLC -> HPI rounds)."),
    ] = 1,
    extractors: Annotated[
        str | None, typer.Option(help="Comma-separated extractors to use (default: all).")
    ] = None,
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
    mixed_precision: Annotated[str, typer.Option(help="no, bf16 or fp16 (GPU).")] = "no",
    epochs: Annotated[int, typer.Option(help="Most epochs (stage 2: per round).")] = 100,
    batch_size: Annotated[
        int | None, typer.Option(help="Videos per step [default: 8, stage 2: 32].")
    ] = None,
    lr: Annotated[
        float | None, typer.Option(help="Adam learning rate [default: 1e-3, stage 2: 1e-4].")
    ] = None,
    patience: Annotated[int, typer.Option(help="Epochs without improvement to stop.")] = 10,
    max_clips: Annotated[int, typer.Option(help="Training crop of long videos (clips).")] = 1024,
    validation_fraction: Annotated[
        float, typer.Option(help="Train videos held out (no validation split).")
    ] = 0.2,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    hidden_size: Annotated[int, typer.Option(help="Model width.")] = 64,
    num_layers: Annotated[int, typer.Option(help="Local temporal layers.")] = 2,
    window_size: Annotated[int, typer.Option(help="Local attention window (clips, odd).")] = 9,
    top_k: Annotated[int, typer.Option(help="MIL: clips averaged into a video score.")] = 6,
    restart: Annotated[
        bool, typer.Option(help="Discard a checkpoint in OUT instead of resuming it.")
    ] = False,
    init: Annotated[
        Path | None,
        typer.Option(
            help="Stage 2: the stage-1 model to start from (without it: from scratch).",
            rich_help_panel="Stage 2",
        ),
    ] = None,
    describer: Annotated[
        str,
        typer.Option(
            help="Stage 2: clip describer: signals (offline, measured cues), "
            "openai:URL:MODEL (a VLM server) or transformers:PATH.",
            rich_help_panel="Stage 2",
        ),
    ] = "signals",
    llm: Annotated[
        str | None,
        typer.Option(
            help="Stage 2: the LLM: openai:URL:MODEL, transformers:PATH or transformers:smollm2.",
            rich_help_panel="Stage 2",
        ),
    ] = None,
    rounds: Annotated[
        int, typer.Option(help="Stage 2: LLG -> NLC -> HPI rounds.", rich_help_panel="Stage 2")
    ] = 2,
    label_lr: Annotated[
        float,
        typer.Option(help="Stage 2: SGD rate of the labels (NLC).", rich_help_panel="Stage 2"),
    ] = 1.0,
    lambda_cp: Annotated[
        float, typer.Option(help="Stage 2: compatibility loss weight.", rich_help_panel="Stage 2")
    ] = 0.1,
    lambda_s: Annotated[
        float, typer.Option(help="Stage 2: entropy loss weight.", rich_help_panel="Stage 2")
    ] = 0.4,
    nlc: Annotated[
        bool,
        typer.Option(
            help="Stage 2: label refurbishment (off: BCE on the noisy labels).",
            rich_help_panel="Stage 2",
        ),
    ] = True,
    hpi: Annotated[
        bool, typer.Option(help="Stage 2: pattern induction.", rich_help_panel="Stage 2")
    ] = True,
    clips_per_call: Annotated[
        int, typer.Option(help="Stage 2: clips per LLG call.", rich_help_panel="Stage 2")
    ] = 12,
    max_tokens: Annotated[
        int,
        typer.Option(help="Stage 2: most tokens an answer may take.", rich_help_panel="Stage 2"),
    ] = 1024,
    llm_timeout: Annotated[
        float, typer.Option(help="Stage 2: seconds per LLM call.", rich_help_panel="Stage 2")
    ] = 120.0,
    llm_retries: Annotated[
        int, typer.Option(help="Stage 2: retries of a failed call.", rich_help_panel="Stage 2")
    ] = 3,
    llm_concurrency: Annotated[
        int, typer.Option(help="Stage 2: LLM calls at once.", rich_help_panel="Stage 2")
    ] = 4,
) -> None:
    """Train LTV-HD. Stage 1: multiple-instance learning from video labels; stage 2: rounds of
    LLM labels (LLG), noisy-label cleaning (NLC) and pattern induction (HPI). Both resume."""
    if stage not in (1, 2):
        raise TVHighlightsError(f"--stage {stage}: the stages are 1 (MIL) and 2 (the LLM loop)")
    model_options = {
        "hidden_size": hidden_size,
        "num_layers": num_layers,
        "window_size": window_size,
        "top_k": top_k,
    }
    if stage == 2:
        _train_stage2(
            dataset, features, out, extractors, device, mixed_precision, epochs,
            32 if batch_size is None else batch_size, 1e-4 if lr is None else lr, max_clips,
            validation_fraction, seed, model_options,
            restart, init, describer, llm, rounds, label_lr, lambda_cp, lambda_s, nlc, hpi,
            clips_per_call, max_tokens, llm_timeout, llm_retries, llm_concurrency,
        )  # fmt: skip
        return
    from ..distributed import rank_and_world_size
    from ..training import Stage1Config, train_stage1

    config = Stage1Config(
        epochs=epochs,
        learning_rate=1e-3 if lr is None else lr,
        batch_size=8 if batch_size is None else batch_size,
        patience=patience,
        validation_fraction=validation_fraction,
        max_clips=max_clips,
        seed=seed,
        device=device,
        mixed_precision=mixed_precision,
        model=model_options,
    )
    result = train_stage1(
        dataset,
        features,
        out,
        config,
        extractors=extractors.split(",") if extractors else None,
        restart=restart,
        command="tvhighlights " + " ".join(sys.argv[1:]),
        show_progress=show_progress(),
    )
    if rank_and_world_size()[0] != 0:  # under accelerate launch, the main process reports
        return
    v = result.validation
    typer.echo(
        f"wrote {result.out_dir}: best epoch {result.best_epoch}/{len(result.history)} "
        f"({result.metric_name} {result.best_metric:.2f}; validation clip AUC "
        f"{v.get('clip_auc', float('nan')):.2f}, AP {v.get('clip_ap', float('nan')):.2f}) "
        f"in {result.seconds:.1f} s"
        + (f", resumed after epoch {result.resumed_from}" if result.resumed_from else "")
    )
    typer.echo(
        f"log: {result.out_dir / 'training' / 'log.jsonl'}; curves: "
        f"{result.out_dir / 'training' / 'curves.png'}"
    )


def _train_stage2(
    dataset, features, out, extractors, device, mixed_precision, epochs, batch_size, lr,
    max_clips, validation_fraction, seed, model_options, restart, init, describer, llm, rounds,
    label_lr, lambda_cp, lambda_s, nlc, hpi, clips_per_call, max_tokens, llm_timeout,
    llm_retries, llm_concurrency,
) -> None:  # fmt: skip
    from ..training.stage2 import Stage2Config, train_stage2

    if not llm:
        raise TVHighlightsError(
            "--stage 2 needs --llm (openai:URL:MODEL, transformers:PATH or transformers:smollm2)"
        )
    config = Stage2Config(
        rounds=rounds, epochs=epochs, batch_size=batch_size, learning_rate=lr, label_lr=label_lr,
        lambda_cp=lambda_cp, lambda_s=lambda_s, nlc=nlc, hpi=hpi, clips_per_call=clips_per_call,
        max_tokens=max_tokens, max_clips=max_clips, validation_fraction=validation_fraction,
        seed=seed, device=device, mixed_precision=mixed_precision,
        model={} if init else model_options,
    )  # fmt: skip
    result = train_stage2(
        dataset,
        features,
        out,
        describer=describer,
        llm=llm,
        init=init,
        config=config,
        extractors=extractors.split(",") if extractors else None,
        llm_options={
            "timeout": llm_timeout,
            "retries": llm_retries,
            "concurrency": llm_concurrency,
        },
        restart=restart,
        command="tvhighlights " + " ".join(sys.argv[1:]),
        show_progress=show_progress(),
    )
    last = result.rounds[-1]

    def f(key: str) -> str:
        v = last.get(key)
        return "-" if v is None else f"{v:.2f}"

    typer.echo(
        f"wrote {result.out_dir}: {len(result.rounds) - 1} round(s) in {result.seconds:.1f} s"
        + (f" ({result.resumed_rounds} read back)" if result.resumed_rounds else "")
        + f"; validation clip AUC {f('val_clip_auc')}, AP {f('val_clip_ap')}"
        + (f"; test AUC {f('test_clip_auc')}, kappa {f('test_kappa_model')}"
           if "test_clip_auc" in last else "")
    )  # fmt: skip
    typer.echo(f"round report: {result.report}")
