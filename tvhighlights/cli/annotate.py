"""``annotate``: the annotation page (the same app as ``spaces/annotate``) on this machine."""

from __future__ import annotations

import getpass
import re
from pathlib import Path
from typing import Annotated

import typer


def _local_name() -> str:
    """This machine's user name, made into an annotator name."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = ""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", name).strip("._-")[:64]
    return name or "annotator"


def annotate_cmd(
    dataset: Annotated[Path, typer.Option(help="The dataset folder (tvhighlights build).")],
    store: Annotated[
        Path, typer.Option(help="Folder of the annotators' decision files (made if needed).")
    ],
    videos: Annotated[
        Path | None,
        typer.Option(
            help="CSV of the videos to annotate: a video_id column (rows of the "
            "dataset), optionally path. Default: the dataset's test split."
        ),
    ] = None,
    auth: Annotated[
        Path | None,
        typer.Option(
            help="Annotators file (names + password hashes, made with "
            "`tvhighlights annotations add-user`): every annotator signs in."
        ),
    ] = None,
    annotator: Annotated[
        str | None,
        typer.Option(
            help="Without --auth: the one annotator of this page (default: your "
            "user name on this machine)."
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 7861,
    thumbnails: Annotated[
        Path | None,
        typer.Option(help="Cache of the clips' pictures (default: the tvhighlights cache)."),
    ] = None,
) -> None:
    """Serve the annotation page: mark each 2-second clip as a highlight or not, with a
    category, by keyboard or mouse. Every decision is saved at once to the annotator's file."""
    from ..app.annotator import launch_annotator

    if auth is not None and annotator is not None:
        raise typer.BadParameter("give --auth or --annotator, not both", param_hint="--annotator")
    launch_annotator(
        dataset,
        store,
        videos,
        auth=auth,
        annotator=None if auth is not None else (annotator or _local_name()),
        host=host,
        port=port,
        thumbnails_dir=thumbnails,
    )
