"""``predict``: highlight scores, spans, a plot and a reel for any video."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._app import show_progress


def predict_cmd(
    videos: Annotated[list[str], typer.Argument(help="Videos as [ID=]PATH or [ID=]sample:NAME.")],
    model: Annotated[str, typer.Option(help="Model folder (tvhighlights train) or Hub id.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Highlights JSON (a folder when several videos)."),
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Score-over-time PNG (a folder when several videos).")
    ] = None,
    reel: Annotated[
        Path | None, typer.Option(help="Highlight reel mp4 (a folder when several videos).")
    ] = None,
    submission: Annotated[
        Path | None, typer.Option(help="Also write every video's scores as a submission JSONL.")
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Score a highlight clip needs (default: from the scores).")
    ] = None,
    top_n: Annotated[int, typer.Option(help="Spans kept, best first.")] = 5,
    min_seconds: Annotated[float, typer.Option(help="Shortest span kept.")] = 2.0,
    reel_seconds: Annotated[
        float | None,
        typer.Option(help="Longest reel: best spans first, the last one trimmed (default: all)."),
    ] = None,
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
) -> None:
    """Score every 2-second clip of videos and cut highlight spans, a plot and a reel."""
    from ..inference import predict_videos
    from ..samples import parse_video_spec

    predictions = predict_videos(
        [parse_video_spec(v) for v in videos],
        model,
        out_json=out,
        plot=plot,
        reel=reel,
        submission=submission,
        threshold=threshold,
        top_n=top_n,
        min_seconds=min_seconds,
        reel_seconds=reel_seconds,
        device=device,
        show_progress=show_progress(),
    )
    for pred in predictions:
        spans = ", ".join(f"{sp.start:.0f}-{sp.end:.0f} s ({sp.score:.2f})" for sp in pred.spans)
        typer.echo(f"{pred.video_id}: {pred.num_clips} clips, spans: {spans or 'none'}")
        for label, where in (("json", pred.json_path), ("plot", pred.plot_path),
                             ("reel", pred.reel_path)):  # fmt: skip
            if where is not None:
                typer.echo(f"  {label}: {where}")
    if submission is not None:
        typer.echo(f"wrote {submission} ({len(predictions)} videos)")
