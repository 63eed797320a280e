"""The Gradio demo: LTV-HD on any video in the browser (``tvhighlights demo``, ``spaces/demo``).

One button scores the video (decode, features, the model, with a progress bar per stage);
the controls re-rank the cached scores; the plot, the span table and the keyboard move the
player. Handlers turn the library's errors into a message on the page, so a bad upload never
stops the app; the page never shows a result of an earlier upload or model.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Sequence
from pathlib import Path

import gradio as gr  # the package has turned gradio's analytics off

from ..errors import TVHighlightsError
from ..video import probe
from .analysis import (
    SPAN_COLUMNS,
    AnalysisCache,
    Controls,
    Highlights,
    VideoAnalysis,
    analyse_video,
    baseline_scores,
    format_time,
    rank,
    span_rows,
    write_outputs,
)
from .figure import empty_figure, score_figure
from .models import ModelRegistry, default_model, find_local_models
from .serve import launch_page
from .settings import DemoSettings

logger = logging.getLogger(__name__)

__all__ = ["build_demo", "launch_demo"]

_HEADER = """# TVHighlights: LTV-HD highlight detection
Upload a film or an episode of **any length** (or pick a sample), choose a model and press
**Find highlights**. LTV-HD scores every 2-second clip; the brightest runs become highlight
spans and a reel. The controls re-rank the cached scores at once.
"""

_SHORTCUTS = (
    "Keys: **space** play / pause · **n** / **p** next / previous highlight · a click on the "
    "curve or a row of the table moves the player there."
)

_IDLE = "Upload a video or pick a sample, then press **Find highlights**."


def _available_samples(names: Sequence[str]) -> dict[str, Path]:
    """The configured samples that are in the local cache (nothing is fetched here)."""
    from ..errors import SampleFetchError
    from ..samples import SAMPLES, sample_path

    out = {}
    for name in names:
        try:
            path = sample_path(name)
        except SampleFetchError:
            logger.info("sample %s is not cached: not offered", name)
            continue
        short = re.split(r"[,(:]", SAMPLES[name].description)[0].strip()
        seconds = probe(path).duration
        out[f"{name}: {short} ({format_time(seconds)})" if short else name] = path
    return out


def _status(
    analysis: VideoAnalysis, hl: Highlights, controls: Controls, shown: Sequence[str]
) -> str:
    t = analysis.timings
    how = "auto: mean + std" if controls.threshold is None else "set"
    n = len(hl.spans)
    parts = [
        f"**{analysis.name}** · {format_time(analysis.duration)} ({analysis.duration:.1f} s)"
        f" · {analysis.num_clips} clips · model {analysis.model}",
        f"{n} span{'' if n == 1 else 's'} above threshold {hl.threshold:.2f} ({how}) · "
        f"reel {hl.reel_seconds:.0f} s",
        f"decode + features {t.get('encode', 0):.1f} s · scoring {t.get('predict', 0):.2f} s"
        + (f" · reel {t['reel']:.1f} s" if "reel" in t else ""),
    ]
    if not analysis.has_audio:
        parts.append("the video has no audio track: audio features are treated as missing")
        if "loudness" in shown:
            parts[-1] += " and the loudness curve is flat"
    return "  \n".join(parts)


def _controls(auto: bool, threshold: float, top_n: float, min_len: float, reel_len: float):
    return Controls(
        threshold=None if auto else float(threshold),
        top_n=int(top_n),
        min_seconds=float(min_len),
        reel_seconds=float(reel_len),
    )


def _message(error: Exception, path: str | None, name: str | None) -> str:
    """The error's text with the server's temporary path replaced by the uploaded name."""
    text = str(error)
    if path and name:
        text = text.replace(str(path), name)
    return text


def build_demo(registry: ModelRegistry, settings: DemoSettings | None = None) -> gr.Blocks:
    """The demo's page for the models of ``registry`` (not launched: :func:`launch_demo`)."""
    settings = settings or DemoSettings()
    cache = AnalysisCache(settings.cache_size)
    samples = _available_samples(settings.samples)
    from tvhighlights.baselines.video_files import FILE_BASELINES

    baselines = sorted(FILE_BASELINES)

    placeholder = empty_figure()

    def cleared(message: str = _IDLE) -> tuple:
        return None, placeholder, [], None, None, message, "[]"

    def render(analysis: VideoAnalysis, controls: Controls, shown: Sequence[str], progress=None):
        hl = rank(analysis, controls)
        curves = {}
        for name in shown:
            if progress is not None:
                progress(0.93, desc=f"baseline: {name}")
            curves[name] = baseline_scores(analysis, name)
        report = None if progress is None else (lambda f, s: progress(f, desc=s))
        json_path, reel_path = write_outputs(analysis, hl, settings.output_dir, progress=report)
        starts = json.dumps([round(sp.start, 3) for sp in hl.spans])
        return (
            analysis,
            score_figure(analysis, hl, curves),
            span_rows(hl),
            str(reel_path),
            [str(json_path), str(reel_path)],
            _status(analysis, hl, controls, shown),
            starts,
        )

    def on_run(current, model_spec, auto, threshold, top_n, min_len, reel_len, shown,
               progress=gr.Progress()):  # noqa: B008 (gradio's idiom)  # fmt: skip
        if not current:
            gr.Warning("Upload a video or pick a sample first.")
            return cleared()
        video, name = current["path"], current["name"]
        t0 = time.perf_counter()
        try:
            controls = _controls(auto, threshold, top_n, min_len, reel_len)
            progress(0.0, desc="loading the model")
            model = registry.get(model_spec)
            analysis = analyse_video(
                video,
                model,
                model_key=registry.key(model_spec),
                model_label=registry.label(model_spec),
                cache=cache,
                name=name,
                max_duration=settings.max_duration,
                progress=lambda f, s: progress(f, desc=s),
            )
            t1 = time.perf_counter()
            out = render(analysis, controls, shown or [], progress)
            logger.info("%s: scored in %.1f s, plot and outputs in %.1f s (timings: %s)", name,
                        t1 - t0, time.perf_counter() - t1, analysis.timings)  # fmt: skip
            return out
        except TVHighlightsError as e:
            # a message in the page (a toast and the status), and the app goes on
            text = _message(e, video, name)
            logger.warning("demo: %s", text)
            gr.Warning(text, duration=None)
            return cleared(f"**Could not score this video:** {text}")

    def on_controls(analysis, auto, threshold, top_n, min_len, reel_len, shown):
        if analysis is None:
            return tuple(gr.skip() for _ in range(7))
        try:
            return render(analysis, _controls(auto, threshold, top_n, min_len, reel_len),
                          shown or [])  # fmt: skip
        except TVHighlightsError as e:
            text = _message(e, analysis.path, analysis.name)
            gr.Warning(text)
            return (analysis, *cleared(f"**Could not re-rank:** {text}")[1:])

    def on_upload(path):
        """A new file: checked at once (a message if it is not a video), shown in the player."""
        if not path:
            return None, None, *cleared()
        name = Path(path).name
        try:
            info = probe(path)
        except TVHighlightsError as e:
            text = _message(e, path, name)
            gr.Warning(text)
            return None, None, *cleared(f"**Could not read this file:** {text}")
        message = f"New video **{name}** ({format_time(info.duration)}): press **Find highlights**."
        return {"path": str(path), "name": name}, str(path), *cleared(message)

    def on_sample(label):
        path = samples.get(label)
        if path is None:
            return gr.skip(), gr.skip(), *cleared()
        current = {"path": str(path), "name": path.name}
        return current, str(path), *cleared(f"Sample **{label}**: press **Find highlights**.")

    def on_select(evt: gr.SelectData):
        row = evt.row_value
        return gr.Video(playback_position=float(row[1]))

    with gr.Blocks(
        title="TVHighlights: LTV-HD demo", analytics_enabled=False, delete_cache=(3600, 86400)
    ) as demo:
        state = gr.State(None)  # this session's result (a VideoAnalysis)
        current = gr.State(None)  # the video to score: {"path", "name"}, set on the server
        gr.Markdown(_HEADER)
        with gr.Row():
            with gr.Column(scale=3):
                # read-only: an editable gr.Video loads a 31 MB ffmpeg.wasm for its trim tool
                player = gr.Video(label="Video", interactive=False, elem_id="player")
            with gr.Column(scale=2):
                upload = gr.File(label="Upload a video (any length)", file_types=["video"],
                                 type="filepath", elem_id="upload", height=120)  # fmt: skip
                sample = gr.Dropdown(
                    choices=list(samples), value=None, label="Or pick a sample",
                    info=None if samples else "no sample cached: `tvhighlights fetch-samples`",
                    elem_id="sample",
                )  # fmt: skip
                model = gr.Dropdown(choices=registry.choices(), value=registry.default,
                                    label="Model", elem_id="model")  # fmt: skip
                run = gr.Button("Find highlights", variant="primary", elem_id="run")
                status = gr.Markdown(_IDLE, elem_id="status")
                with gr.Accordion("Controls: they re-rank the scores, nothing is recomputed"):
                    auto = gr.Checkbox(True, label="Automatic threshold (mean + std of the film)")
                    threshold = gr.Slider(0, 1, value=0.5, step=0.01, label="Threshold",
                                          interactive=False, elem_id="threshold")  # fmt: skip
                    top_n = gr.Slider(1, 20, value=5, step=1, label="Number of spans",
                                      elem_id="top-n")  # fmt: skip
                    min_len = gr.Slider(2, 60, value=2, step=2, label="Shortest span (s)",
                                        elem_id="min-seconds")  # fmt: skip
                    reel_len = gr.Slider(10, 600, value=60, step=5, label="Reel length (s)",
                                         elem_id="reel-seconds")  # fmt: skip
                    shown = gr.CheckboxGroup(
                        baselines, value=[], label="Training-free baselines beside LTV-HD"
                    )
        plot = gr.Plot(placeholder, label="Highlight score over time", elem_id="score-plot")
        with gr.Row():
            with gr.Column(scale=3):
                table = gr.Dataframe(
                    headers=SPAN_COLUMNS, value=[], interactive=False, elem_id="span-table",
                    label="Highlight spans, best first: select a row to jump there",
                )  # fmt: skip
            with gr.Column(scale=2):
                reel = gr.Video(label="Highlight reel", elem_id="reel", interactive=False)
                files = gr.File(label="Downloads: the JSON and the reel", file_count="multiple",
                                interactive=False, elem_id="downloads")  # fmt: skip
        span_starts = gr.Textbox("[]", visible="hidden", elem_id="span-starts")
        gr.Markdown(_SHORTCUTS, elem_id="shortcuts")

        results = [state, plot, table, reel, files, status, span_starts]
        controls = [auto, threshold, top_n, min_len, reel_len, shown]
        scoring = run.click(
            lambda: cleared("Working…"), None, results, queue=False
        ).then(
            on_run, [current, model, *controls], results,
            concurrency_limit=settings.concurrency_limit, concurrency_id="score",
            show_progress_on=[status],  # one progress bar, not one per output (browser CPU)
        )  # fmt: skip
        chosen = [current, player, *results]
        upload.upload(on_upload, upload, chosen, cancels=[scoring])
        upload.clear(on_upload, upload, chosen, queue=False, cancels=[scoring])
        sample.input(on_sample, sample, chosen, cancels=[scoring])
        model.input(lambda: cleared("Model changed: press **Find highlights**."), None,
                    results, queue=False, cancels=[scoring])  # fmt: skip
        for control in controls:
            control.change(
                on_controls, [state, *controls], results, trigger_mode="always_last",
                concurrency_limit=2, concurrency_id="rerank",
            )  # fmt: skip
        auto.change(lambda on: gr.Slider(interactive=not on), auto, threshold, queue=False)
        table.select(on_select, None, player)
    demo.queue(max_size=settings.max_queue)
    return demo


def launch_demo(
    model: str | Path | Sequence[str | Path] | None = None,
    *,
    host: str | None = "127.0.0.1",
    port: int | None = 7860,
    settings: DemoSettings | None = None,
    search: Sequence[str | Path] = ("runs",),
    block: bool = True,
) -> gr.Blocks:
    """Load the model(s), build the page and serve it on ``host:port``.

    ``model`` defaults to the quickstart's model (:func:`~.models.default_model`); the page
    also offers the other model folders found under ``search``. The first model is loaded
    before serving, so a bad model is an error here, not in the page. Never shares a tunnel,
    never sends analytics; ``host``/``port`` ``None`` take gradio's (``GRADIO_SERVER_NAME``,
    ``GRADIO_SERVER_PORT``), as on a Hub Space.
    """
    settings = settings or DemoSettings()
    given = [model] if isinstance(model, (str, Path)) else list(model or [])
    specs = [str(m) for m in given] or [str(default_model())]
    specs += [str(p) for p in find_local_models(search)]
    registry = ModelRegistry(specs, device=settings.device, search=search)
    registry.get(registry.default)
    demo = build_demo(registry, settings)
    settings.output_dir.mkdir(parents=True, exist_ok=True)
    from ..samples import cache_dir

    return launch_page(
        demo,
        host=host,
        port=port,
        script="demo.js",
        style="demo.css",
        allowed_paths=[str(settings.output_dir), str(cache_dir() / "samples")],
        block=block,
        max_file_size=settings.max_file_size,
    )
