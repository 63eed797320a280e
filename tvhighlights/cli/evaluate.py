"""``eval``, ``baseline`` and ``baselines``: score submissions, make baseline submissions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._app import show_progress


def eval_cmd(
    submission: Annotated[
        list[Path],
        typer.Option("--submission", "-s", help="Submission JSONL (repeat to compare several)."),
    ],
    references: Annotated[
        str,
        typer.Option(
            "--references",
            "-r",
            help="Reference JSONL, a dataset folder, a Hub dataset id or a built-in name: "
            "bbb-trailer.",
        ),
    ],
    split: Annotated[str | None, typer.Option(help="Keep only references of this split.")] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the full results here.")
    ] = None,
    markdown: Annotated[bool, typer.Option(help="Print Markdown tables.")] = False,
) -> None:
    """Score submissions against reference labels and print the metrics table (percent)."""
    from ..evaluation.report import evaluate_submissions, metrics_tables, to_markdown
    from ..fileio import write_json

    results = evaluate_submissions(submission, references, split=split)
    tables = metrics_tables(results)
    if markdown:
        for table in tables:
            if table.title:
                typer.echo(f"\n{table.title}:")
            typer.echo(to_markdown(table.headers, table.rows))
    else:
        from rich.console import Console
        from rich.table import Table

        console = Console()
        if not console.is_terminal:  # a pipe or a file: do not squeeze into 80 columns
            console = Console(width=200)
        for table in tables:
            out = Table(
                *table.headers, title=table.title or f"TVHighlights metrics (%) vs {references}"
            )
            for row in table.rows:
                out.add_row(*row)
            console.print(out)
    if json_out:
        write_json(json_out, {"references": references, "split": split, "results": results})


def baseline_cmd(
    name: Annotated[str, typer.Argument(help="Baseline name (see `tvhighlights baselines`).")],
    videos: Annotated[list[str], typer.Argument(help="Videos as [ID=]PATH or [ID=]sample:NAME.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Submission JSONL to write.")],
) -> None:
    """Score videos with a training-free baseline and write a submission JSONL."""
    from ..baselines import get_baseline, score_videos
    from ..evaluation.submission import write_submission
    from ..samples import parse_video_spec

    baseline = get_baseline(name)
    specs = dict(parse_video_spec(v) for v in videos)
    scores = score_videos(baseline, specs, show_progress=show_progress())
    write_submission(out, scores)
    typer.echo(f"wrote {out} ({len(scores)} videos)")


def baselines_cmd() -> None:
    """List the available baselines."""
    from ..baselines import available_baselines

    for name, desc in available_baselines().items():
        typer.echo(f"{name}\t{desc}")
