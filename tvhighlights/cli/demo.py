"""``demo``: the Gradio demo (the same app as ``spaces/demo``) on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def demo_cmd(
    model: Annotated[
        list[str] | None,
        typer.Option(
            help="Model folder or Hub id (repeat to offer several; default: the quickstart's "
            "runs/quickstart/ltvhd-s1). Model folders under runs/ are offered too."
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 7860,
    max_file_size: Annotated[str, typer.Option(help="Largest upload, e.g. 500mb or 2gb.")] = "2gb",
    max_duration: Annotated[
        float, typer.Option(help="Longest video scored, in seconds (0: any length).")
    ] = 3 * 3600.0,
    concurrency: Annotated[int, typer.Option(help="Videos scored at once; others queue.")] = 1,
    queue_size: Annotated[
        int, typer.Option(help="Requests waiting before new ones are refused.")
    ] = 16,
    output_dir: Annotated[
        Path | None, typer.Option(help="Where reels and JSON files go (default: a temp folder).")
    ] = None,
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
) -> None:
    """Serve the demo: upload a video, get its highlight scores, spans and reel in a browser."""
    from ..app import DemoSettings, launch_demo

    options = {} if output_dir is None else {"output_dir": output_dir}
    settings = DemoSettings(
        max_file_size=max_file_size,
        max_duration=max_duration or None,
        concurrency_limit=concurrency,
        max_queue=queue_size,
        device=device,
        **options,
    )
    launch_demo(model or None, host=host, port=port, settings=settings)
