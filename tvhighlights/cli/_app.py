"""The Typer application (the verbs are registered in :mod:`tvhighlights.cli`) and its root
options."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from .. import __version__

app = typer.Typer(
    name="tvhighlights",
    help="Video highlight detection in movies and TV dramas without human labels.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def show_progress() -> bool:
    """Progress bars only on a terminal (not in logs, pipes or CI)."""
    return sys.stderr.isatty()


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
