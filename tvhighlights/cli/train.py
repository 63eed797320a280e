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
    stage: Annotated[int, typer.Option(help="Training stage (1: MIL on video labels).")] = 1,
    extractors: Annotated[
        str | None, typer.Option(help="Comma-separated extractors to use (default: all).")
    ] = None,
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
    mixed_precision: Annotated[str, typer.Option(help="no, bf16 or fp16 (GPU).")] = "no",
    epochs: Annotated[int, typer.Option(help="Most epochs.")] = 100,
    batch_size: Annotated[int, typer.Option(help="Videos per step.")] = 8,
    lr: Annotated[float, typer.Option(help="Adam learning rate.")] = 1e-3,
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
) -> None:
    """Train LTV-HD. Stage 1: multiple-instance learning from video labels (resumable)."""
    if stage != 1:
        raise TVHighlightsError(f"--stage {stage}: only stage 1 (MIL) is available so far")
    from ..distributed import rank_and_world_size
    from ..training import Stage1Config, train_stage1

    config = Stage1Config(
        epochs=epochs,
        learning_rate=lr,
        batch_size=batch_size,
        patience=patience,
        validation_fraction=validation_fraction,
        max_clips=max_clips,
        seed=seed,
        device=device,
        mixed_precision=mixed_precision,
        model={
            "hidden_size": hidden_size,
            "num_layers": num_layers,
            "window_size": window_size,
            "top_k": top_k,
        },
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
