"""``simulate``, ``build``, ``merge`` and ``push``: making and publishing a dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import TVHighlightsError
from ._app import show_progress


def _shard(text: str | None) -> tuple[int, int] | None:
    """``"i/n"`` -> ``(i, n)``."""
    if text is None:
        return None
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise TVHighlightsError(f"--shard must look like i/n (e.g. 0/4), got {text!r}") from None
    return i, n


def simulate_cmd(
    sources: Annotated[
        Path, typer.Option(help="Sources manifest (CSV/JSONL): video_id,path,title[,genre].")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for videos + manifests.")],
    per_family: Annotated[int, typer.Option(help="Derivatives per family and source.")] = 2,
    families: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated families (default: all): reencode, crop (off-centre 10-25 %), "
            "hflip, vertical (9:16 over black or a blurred copy), overlay (captions), colour, "
            "speed, pip (picture-in-picture), mixed (2-3 of those), zoom (centred 60-90 %), "
            "combo (crop + mirror + captions [+ zoom]), compilation (3-4 spans, each its own "
            "transform)."
        ),
    ] = None,
    off_topic: Annotated[int, typer.Option(help="Extra off-topic derivatives.")] = 0,
    seed: Annotated[int, typer.Option(help="Random seed (the output is deterministic).")] = 0,
    num_workers: Annotated[int, typer.Option(help="Parallel worker processes.")] = 1,
) -> None:
    """Simulate re-uploads of source films, with their exact ground truth."""
    from ..build.simulate import simulate_from_manifest

    result, problems = simulate_from_manifest(
        sources,
        out,
        families=[f.strip() for f in families.split(",")] if families else None,
        per_family=per_family,
        off_topic=off_topic,
        seed=seed,
        num_workers=num_workers,
        show_progress=show_progress(),
    )
    for problem in problems:
        typer.echo(f"warning: {problem}", err=True)
    typer.echo(f"wrote {len(result.derivatives)} derivatives: {result.manifest}")
    typer.echo(f"ground truth: {result.ground_truth}")


def build_cmd(
    sources: Annotated[
        Path, typer.Option(help="Sources manifest (CSV/JSONL): video_id,path,title[,genre].")
    ],
    derivatives: Annotated[
        list[Path],
        typer.Option(help="Derivatives manifest (repeatable): clip_id,path,title[,platform,...]."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Dataset folder to write.")],
    window: Annotated[
        float | None, typer.Option(help="Cut sources into rows of this many seconds (x2).")
    ] = None,
    title_filter: Annotated[
        str, typer.Option(help="Off-topic title filter: embedding, llm (needs --llm) or none.")
    ] = "embedding",
    llm: Annotated[
        str | None,
        typer.Option(
            help="The LLM of --title-filter llm: openai:URL[:MODEL] (an OpenAI-compatible "
            "server: vLLM, llama.cpp, Ollama, transformers serve) or transformers:PATH (a local "
            "folder; transformers:smollm2 is the packaged SmolLM2). Answers are cached in the "
            "work-unit cache."
        ),
    ] = None,
    llm_timeout: Annotated[
        float, typer.Option(help="Seconds one LLM request may take before it is retried.")
    ] = 60.0,
    title_threshold: Annotated[
        float | None, typer.Option(help="Relevance a title needs (default: the filter's).")
    ] = None,
    title_gate: Annotated[
        str,
        typer.Option(
            help="When titles decide: 'unmatched' (a confident fingerprint match votes whatever "
            "its title says; titles judge weaker matches) or 'before' (drop off-topic titles "
            "before matching: saves compute on huge crawls, loses re-uploads with vague titles)."
        ),
    ] = "unmatched",
    confident_match: Annotated[
        float, typer.Option(help="Match confidence that votes whatever the title says.")
    ] = 0.3,
    shots: Annotated[
        str,
        typer.Option(
            help="Shot detector: default (the cuts in the fingerprint's frames, no second "
            "decode), hash, content, adaptive or transnet."
        ),
    ] = "default",
    min_overlap: Annotated[float, typer.Option(help="Seconds of a clip a reuse must cover.")] = 1.0,
    min_votes: Annotated[int, typer.Option(help="Votes a highlight clip needs.")] = 1,
    min_score: Annotated[
        float, typer.Option(help="Fraction of the source's top votes a highlight needs.")
    ] = 0.5,
    min_positive_clips: Annotated[
        int, typer.Option(help="Highlight clips of a positive video.")
    ] = 1,
    test_labels: Annotated[
        str | None, typer.Option(help="Human labels of the test split: JSONL or bbb-trailer.")
    ] = None,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Work-unit cache (default OUT.cache).")
    ] = None,
    num_workers: Annotated[
        int | None,
        typer.Option(
            help="Work units at once (default: 1 with --engine local, every CPU of the Ray "
            "cluster with --engine ray)."
        ),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            help="Where the work units run: local (this machine's processes) or ray (a local "
            "Ray, or the cluster of --ray-address; needs the [ray] extra). Same dataset bytes."
        ),
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(help="Ray cluster to join (auto or HEAD:6379); default: start a local Ray."),
    ] = None,
    shard: Annotated[
        str | None,
        typer.Option(
            help="Build only shard i/n of the sources (then `merge`): for schedulers without "
            "Ray, e.g. Slurm arrays."
        ),
    ] = None,
) -> None:
    """Build a TVHighlights dataset from long sources and their short re-uploads."""
    from ..build import BuildConfig
    from ..build.voting import LabelRule
    from ..builders.tvhighlights import build_dataset

    config = BuildConfig(
        rule=LabelRule(min_overlap, min_votes, min_score, min_positive_clips),
        window=window,
        title_filter=title_filter,
        llm=llm,
        llm_timeout=llm_timeout,
        title_threshold=title_threshold,
        title_gate=title_gate,
        confident_match=confident_match,
        shots=shots,
        cache_dir=cache_dir,
        num_workers=num_workers,
        engine=engine,
        ray_address=ray_address,
        shard=_shard(shard),
        test_labels=test_labels,
    )
    result = build_dataset(sources, derivatives, out, config, show_progress=show_progress())
    from ..build.pipeline import summary_lines

    typer.echo(f"wrote {result.out_dir}")
    for line in summary_lines(result.report):
        typer.echo(line)
    problems = sum(len(result.report[k]) for k in ("unreadable", "skipped_rows"))
    if problems:
        typer.echo(
            f"{problems} file/row problem(s): see {result.out_dir}/build_report.json", err=True
        )


def merge_cmd(
    folders: Annotated[list[Path], typer.Argument(help="Dataset folders of build --shard i/n.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Merged dataset folder.")],
) -> None:
    """Merge dataset folders built shard by shard into one."""
    from ..data import merge_datasets

    typer.echo(f"wrote {merge_datasets(folders, out)}")


def push_cmd(
    folder: Annotated[Path, typer.Argument(help="Dataset folder written by build.")],
    repo: Annotated[str, typer.Option(help="Hub dataset repo id, e.g. org/tvhighlights.")],
    dry_run: Annotated[
        bool, typer.Option(help="List what would be uploaded; send nothing.")
    ] = False,
    private: Annotated[bool, typer.Option(help="Create the repo private.")] = False,
) -> None:
    """Publish a dataset folder to the Hugging Face Hub."""
    from ..data import push_dataset

    files = push_dataset(folder, repo, dry_run=dry_run, private=private)
    for name, size in files:
        typer.echo(f"{size:>12,d}  {name}")
    verb = "would upload" if dry_run else "uploaded"
    typer.echo(f"{verb} {len(files)} files to datasets/{repo}")
