"""``annotations aggregate | agreement | add-user``: what becomes of the annotators' files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ..errors import AnnotationStoreError

app = typer.Typer(
    name="annotations",
    help="Aggregate the annotators' decisions into the test split, measure their agreement, "
    "add annotators.",
    no_args_is_help=True,
)

StoreOption = Annotated[
    Path, typer.Option(help="The folder `tvhighlights annotate` wrote decisions into.")
]


def _read(store: Path):
    """Every annotator's decisions, read strictly against the store's list of videos."""
    from ..annotate import AnnotationStore

    st = AnnotationStore(store)
    videos = st.videos()
    if not videos:
        raise AnnotationStoreError(
            store / "videos.json", ["missing: not a store made by `tvhighlights annotate`"]
        )
    sizes = {v: int(e["num_clips"]) for v, e in videos.items()}
    decisions = st.read_all(sizes, strict=True)
    if not decisions:
        raise AnnotationStoreError(store, ["no annotator's file (<name>.jsonl) in the store"])
    for d in decisions.values():
        for w in d.warnings:
            typer.echo(f"warning: {w}", err=True)
    return sizes, decisions


@app.command("aggregate")
def aggregate_cmd(
    store: StoreOption,
    dataset: Annotated[Path, typer.Option(help="The dataset folder to write the test split into.")],
    min_annotators: Annotated[
        int, typer.Option(help="A clip is labelled once this many annotators decided it.")
    ] = 1,
    tie: Annotated[
        str, typer.Option(help="An exact tie is: negative (not a highlight) or positive.")
    ] = "negative",
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the summary here.")
    ] = None,
) -> None:
    """Majority vote per clip; the fully annotated videos become the dataset's test split
    (and leave the train split). Incomplete videos are reported, not guessed."""
    from ..annotate import TIE_RULES, aggregate_decisions, write_test_split
    from ..fileio import write_json

    if tie not in TIE_RULES:
        raise typer.BadParameter(f"one of {', '.join(TIE_RULES)}, not {tie!r}", param_hint="--tie")
    sizes, decisions = _read(store)
    agg = aggregate_decisions(decisions, sizes, min_annotators=min_annotators, tie=tie)
    for vid, a in agg.videos.items():
        if not a.complete:
            typer.echo(f"warning: video {vid!r}: {len(a.unlabelled)} of {len(a.labels)} clips "
                       f"have fewer than {min_annotators} annotator(s): not in the test split",
                       err=True)  # fmt: skip
    write_test_split(dataset, agg)
    s = agg.summary()
    cats = ", ".join(f"{c} {n}" for c, n in s["categories"].items())
    typer.echo(
        f"test split of {dataset}: {len(s['complete'])} videos ({len(s['incomplete'])} "
        f"incomplete left out), {s['positives']} highlight clips ({cats}), "
        f"{len(s['annotators'])} annotators, {s['ties']} ties ({tie}); "
        f"{len(s['moved_from_train'])} videos moved out of train"
    )
    typer.echo(f"score against it: tvhighlights eval --references {dataset} --split test "
               "--submission PREDS.jsonl")  # fmt: skip
    if json_out is not None:
        write_json(json_out, s)


@app.command("agreement")
def agreement_cmd(
    store: StoreOption,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the kappas here.")
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(help="Heat map of the pairwise kappas (default: STORE/agreement.png)."),
    ] = None,
) -> None:
    """Pairwise Cohen's kappa and Fleiss' kappa on highlight / not, overall and per video."""
    from ..annotate import agreement
    from ..fileio import write_json

    _, decisions = _read(store)
    report = agreement(decisions)
    typer.echo(report.to_markdown())
    out = report.plot_heatmap(plot or store / "agreement.png")
    typer.echo(f"heat map: {out}")
    if json_out is not None:
        write_json(json_out, report.to_json())


@app.command("add-user")
def add_user_cmd(
    file: Annotated[Path, typer.Argument(help="The annotators file (made if needed).")],
    name: Annotated[str, typer.Argument(help="The annotator's name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Add an annotator (or set a new password): only a scrypt hash is stored."""
    from ..annotate import add_annotator, check_annotator_name

    check_annotator_name(name)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    add_annotator(file, name, password)
    typer.echo(f"added {name} to {file}")
