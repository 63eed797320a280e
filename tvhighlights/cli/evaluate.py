"""``eval``, ``baseline``, ``baselines`` and ``leaderboard``: score submissions, make baseline
submissions, compare every method on the same clips."""

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
    out: Annotated[Path, typer.Option("--out", "-o", help="Submission JSONL to write.")],
    videos: Annotated[
        list[str] | None,
        typer.Argument(
            help="Bare video files as [ID=]PATH or [ID=]sample:NAME (training-free baselines "
            "only: loudness, motion, cut-density, random); leave out with --dataset."
        ),
    ] = None,
    dataset: Annotated[
        Path | None, typer.Option(help="Dataset folder: fit on its train split, score --split.")
    ] = None,
    features: Annotated[
        Path | None, typer.Option(help="Feature folder of the dataset (tvhighlights extract).")
    ] = None,
    split: Annotated[str, typer.Option(help="Split to score.")] = "test",
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option",
            "-O",
            help="A hyper-parameter as KEY=VALUE (JSON values: epochs=5, adapt=true); repeat.",
        ),
    ] = None,
    work_dir: Annotated[
        Path | None, typer.Option(help="Folder a baseline may write into while fitting.")
    ] = None,
) -> None:
    """Fit a baseline on a dataset's train split and score a split (or score bare video files
    with a training-free one); writes a submission JSONL for `tvhighlights eval`."""
    from ..baselines import fit_baseline, get_baseline, load_baseline_data, score_data
    from ..baselines.leaderboard import parse_options
    from ..errors import InvalidArgumentError
    from ..evaluation.submission import write_submission

    opts = parse_options([f"{name}.{o}" for o in option or []]).get(name, {})
    if dataset is None and features is None:
        if not videos:
            raise InvalidArgumentError(
                "give --dataset and --features, or video files to score", param="name"
            )
        from ..baselines.video_files import score_file
        from ..samples import parse_video_spec

        baseline = get_baseline(name, **opts)
        specs = dict(parse_video_spec(v) for v in videos)
        scores = {vid: score_file(baseline, path, vid, show_progress=show_progress())
                  for vid, path in specs.items()}  # fmt: skip
    else:
        if dataset is None or features is None:
            raise InvalidArgumentError("--dataset and --features go together", param="name")
        if videos:
            raise InvalidArgumentError(
                "score either a dataset (--dataset, --features) or video files, not both",
                param="name",
            )
        baseline = get_baseline(name, **opts)
        train = load_baseline_data(dataset, features, "train")
        test = load_baseline_data(dataset, features, split)
        fit_baseline(baseline, train, work_dir=work_dir, show_progress=show_progress())
        scores = score_data(baseline, test, show_progress=show_progress())
    write_submission(out, scores)
    typer.echo(f"wrote {out} ({len(scores)} videos)")


def baselines_cmd() -> None:
    """List the available baselines (the leaderboard's rows, in its order)."""
    from ..baselines import available_baselines

    for name, desc in available_baselines().items():
        typer.echo(f"{name}\t{desc}")


def leaderboard_cmd(
    dataset: Annotated[Path, typer.Option(help="Dataset folder (train and test splits).")],
    features: Annotated[Path, typer.Option(help="Its feature folder (tvhighlights extract).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the table and chart.")] = (
        Path("leaderboard")
    ),
    baselines: Annotated[
        list[str] | None,
        typer.Option(help="Rows to run: all (default) or names, comma-separated or repeated."),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(help="Rows to leave out (names, comma-separated or repeated)."),
    ] = None,
    model: Annotated[
        list[Path] | None,
        typer.Option("--model", "-m", help="A trained LTV-HD folder to add as a row; repeat."),
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option",
            "-O",
            help="A row's hyper-parameter as NAME.KEY=VALUE (mil.epochs=5); *.KEY=VALUE sets "
            "it for every row that takes KEY (*.epochs=2); repeat.",
        ),
    ] = None,
    split: Annotated[str, typer.Option(help="Split to score.")] = "test",
    restart: Annotated[
        bool, typer.Option(help="Run every row again (default: reuse rows already done).")
    ] = False,
) -> None:
    """Fit, score and evaluate every baseline (and model) on the same test clips; writes
    leaderboard.md, leaderboard.json, leaderboard.png and one submission per row."""
    from ..baselines.leaderboard import parse_options, run_leaderboard

    board = run_leaderboard(
        dataset,
        features,
        out,
        baselines=baselines or "all",
        exclude=[e for e in exclude or [] if e.strip()],
        models=model or [],
        options=parse_options(option or []),
        split=split,
        restart=restart,
        show_progress=show_progress(),
    )
    typer.echo(board.to_markdown())
    skipped = [r.name for r in board.rows if r.status != "ok"]
    typer.echo(
        f"\nwrote {out}/leaderboard.md, leaderboard.json, leaderboard.png "
        f"({len(board.rows) - len(skipped)} rows scored"
        + (f"; skipped: {', '.join(skipped)})" if skipped else ")")
    )
