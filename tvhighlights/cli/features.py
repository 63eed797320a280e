"""``extract``: per-clip features of videos or of a dataset's rows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import TVHighlightsError
from ._app import show_progress


def extract_cmd(
    videos: Annotated[
        list[str] | None,
        typer.Argument(help="Videos as [ID=]PATH or [ID=]sample:NAME (or use --dataset)."),
    ] = None,
    dataset: Annotated[
        Path | None, typer.Option(help="Dataset folder: extract every row's video.")
    ] = None,
    splits: Annotated[
        str | None, typer.Option(help="Comma-separated splits of --dataset (default: all).")
    ] = None,
    extractors: Annotated[
        str,
        typer.Option(help="Comma-separated: handcrafted, transnet, clip, motion, audio."),
    ] = "handcrafted",
    out: Annotated[Path, typer.Option("--out", "-o", help="Feature folder.")] = Path("features"),
    device: Annotated[
        str, typer.Option(help="cpu, cuda or cuda:N (under accelerate: each process's GPU).")
    ] = "cpu",
    batch_size: Annotated[int, typer.Option(help="Clips per forward pass.")] = 16,
    num_workers: Annotated[
        int, typer.Option(help="Decode worker processes that prefetch clips (0: inline).")
    ] = 0,
    dtype: Annotated[str, typer.Option(help="Stored precision: float32 or float16.")] = "float32",
    clip_model: Annotated[
        str | None, typer.Option(help="Checkpoint (Hub id or folder) of the clip extractor.")
    ] = None,
    motion_model: Annotated[
        str | None, typer.Option(help="Checkpoint of the motion extractor (a video encoder).")
    ] = None,
    audio_model: Annotated[
        str | None, typer.Option(help="Checkpoint of the audio extractor (CLAP or AST).")
    ] = None,
    add_to_dataset: Annotated[
        bool, typer.Option(help="Also add a `features` config to the --dataset folder.")
    ] = False,
) -> None:
    """Extract per-clip features (one decode per video for all extractors), cached and resumable.

    Rerunning skips what is stored. Several processes split the videos:
    `accelerate launch -m tvhighlights extract ...` (or `torchrun`).
    """
    from ..distributed import rank_and_world_size
    from ..features import (
        extract_features,
        get_extractors,
        requests_from_dataset,
        requests_from_paths,
    )

    if (dataset is None) == (not videos):
        raise TVHighlightsError("give either videos or --dataset (not both, not neither)")
    if add_to_dataset and dataset is None:
        raise TVHighlightsError("--add-to-dataset needs --dataset")
    requests = (
        requests_from_dataset(dataset, splits.split(",") if splits else None)
        if dataset is not None
        else requests_from_paths(videos or [])
    )
    built = get_extractors(
        extractors,
        device=device,
        batch_size=batch_size,
        models={"clip": clip_model, "motion": motion_model, "audio": audio_model},
    )
    report = extract_features(
        requests, built, out, num_workers=num_workers, dtype=dtype, show_progress=show_progress()
    )
    rank, world = rank_and_world_size()
    where = f" (process {rank + 1}/{world})" if world > 1 else ""
    typer.echo(
        f"features in {out}{where}: {report.extracted} extracted, {report.cached} already "
        f"there, {len(report.failed)} failed; decode {report.decode_seconds:.1f} s, compute "
        + ", ".join(f"{k} {v:.1f} s" for k, v in report.compute_seconds.items())
        + (f"; waited {report.wait_seconds:.1f} s for decoded clips" if num_workers else "")
    )
    for path, reason in report.failed:
        typer.echo(f"warning: skipped {path}: {reason}", err=True)
    if add_to_dataset and dataset is not None and rank == 0:
        from ..builders.tvhighlights import add_features_config

        typer.echo(f"added the features config to {add_features_config(dataset, out)}")
