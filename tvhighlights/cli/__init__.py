"""The ``tvhighlights`` command line: one module per group of verbs, each of which parses its
options, checks what only the command line can know, calls one library function and prints.

It is the only place that names flags or exits: a library error
(:class:`~tvhighlights.errors.TVHighlightsError`) becomes one line, ``error: <message>``, with
the flag that sets the parameter at fault when the error names one, and exit status 1;
``--verbose`` shows progress logs.
"""

from __future__ import annotations

import sys

import typer

from ..errors import TVHighlightsError
from . import annotate, build, demo, evaluate, features, predict, samples, train
from ._app import app
from .annotations import app as annotations_app  # not `annotations`: the __future__ name

__all__ = ["FLAGS", "app", "main"]

for _name, _command in (
    ("eval", evaluate.eval_cmd),
    ("fetch-samples", samples.fetch_samples_cmd),
    ("probe", samples.probe_cmd),
    ("baseline", evaluate.baseline_cmd),
    ("build", build.build_cmd),
    ("merge", build.merge_cmd),
    ("push", build.push_cmd),
    ("simulate", build.simulate_cmd),
    ("extract", features.extract_cmd),
    ("train", train.train_cmd),
    ("predict", predict.predict_cmd),
    ("baselines", evaluate.baselines_cmd),
    ("leaderboard", evaluate.leaderboard_cmd),
    ("demo", demo.demo_cmd),
    ("annotate", annotate.annotate_cmd),
):
    app.command(_name)(_command)
app.add_typer(annotations_app, name="annotations")

FLAGS = {
    "annotator": "--annotator",
    "batch_size": "--batch-size",
    "confident_match": "--confident-match",
    "describer": "--describer",
    "device": "--device",
    "dtype": "--dtype",
    "extractors": "--extractors",
    "llm": "--llm",
    "llm_timeout": "--llm-timeout",
    "clip.model": "--clip-model",
    "motion.model": "--motion-model",
    "audio.model": "--audio-model",
    "max_duration": "--max-duration",
    "max_file_size": "--max-file-size",
    "max_queue": "--queue-size",
    "concurrency_limit": "--concurrency",
    "init": "--init",
    "min_annotators": "--min-annotators",
    "min_seconds": "--min-seconds",
    "name": "NAME",
    "num_workers": "--num-workers",
    "option": "--option",
    "baselines": "--baselines",
    "password": "--password-stdin",
    "restart": "--restart",
    "shard": "--shard",
    "sources": "--sources",
    "title_filter": "--title-filter",
    "tie": "--tie",
    "title_gate": "--title-gate",
    "top_n": "--top-n",
    "reel_seconds": "--reel-seconds",
    "window": "--window",
}
"""Library parameter (``TVHighlightsError.param``) -> the command-line flag that sets it."""


def error_message(error: TVHighlightsError) -> str:
    """``error: <message>`` plus the flag of the parameter at fault, when the error names one."""
    flag = FLAGS.get(error.param or "")
    return f"error: {error}" + (f" (set with {flag})" if flag else "")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tvhighlights`` console script."""
    try:
        app(args=argv, prog_name="tvhighlights", standalone_mode=True)
    except TVHighlightsError as exc:
        typer.echo(error_message(exc), err=True)
        return 1
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
