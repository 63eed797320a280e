"""One simulated derivative: cut spans, transform them, encode H.264 + AAC, and the exact
ground truth of which source seconds land where."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ...errors import SimulationError
from ...video import probe, read_audio
from ...video.writer import Mp4Writer
from ._common import (
    ALL_COMPONENTS,
    AUDIO_RATE,
    PRESET,
    X264_PARAMS,
    X264_THREADS,
    PathLike,
    Size,
    Span,
    fps_fraction,
    rng_for,
    rounded,
)
from .params import check_family, draw_params
from .transforms import background_frames, fade_gain, make_plans, source_frames, timescale

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SimulatedDerivative:
    """One simulated derivative clip and its exact ground truth."""

    clip_id: str
    path: Path
    title: str
    source_id: str | None
    """``None`` for off-topic clips made from an unrelated video."""
    family: str
    params: dict[str, Any]
    """``{"encode": {...}, <component>: {...}, ...}``: everything needed to redo the clip."""
    segments: list[dict[str, Any]]
    """``{deriv_start, deriv_end, source_start, source_end, speed}`` per span, in order (in a
    ``compilation`` also ``transform``: the span's own, its parameters in ``params["spans"]``)."""
    platform: str = "youtube"
    engagement: int = 0
    duration: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The ground-truth line (JSON-ready)."""
        return {
            "clip_id": self.clip_id,
            "source_id": self.source_id,
            "off_topic": self.source_id is None,
            "family": self.family,
            "params": self.params,
            "segments": self.segments,
            "duration": self.duration,
            "title": self.title,
            "path": str(self.path),
        }


def _check_spans(spans: Any, duration: float) -> list[Span]:
    try:
        items = [(float(a), float(b)) for a, b in spans]
    except (TypeError, ValueError) as e:
        raise SimulationError(
            f"spans: expected a list of (start, end) seconds, got {spans!r}"
        ) from e
    if not items:
        raise SimulationError("spans: the list of (start, end) spans is empty")
    slack = 0.05
    for i, (a, b) in enumerate(items):
        if not (math.isfinite(a) and math.isfinite(b)) or a < 0 or b <= a:
            raise SimulationError(f"spans[{i}]: ({a}, {b}) is not a span with 0 <= start < end")
        if b > duration + slack:
            raise SimulationError(
                f"spans[{i}]: ({a}, {b}) ends after the source's duration ({duration:.3f} s)"
            )
    return [(a, min(b, duration)) for a, b in items]


def _check_components(prm: dict[str, Any], family: str, n_spans: int) -> None:
    """Every component named is known and has its parameters; a compilation has no components
    of its own but one entry per span in ``spans`` (other families have no ``spans``)."""
    for n in prm["components"]:
        if n not in ALL_COMPONENTS:
            raise SimulationError(f"params: unknown component {n!r}")
        if not isinstance(prm.get(n), dict):
            raise SimulationError(f"params: no parameters for component {n!r}")
    if family != "compilation":
        prm.pop("spans", None)
        return
    if prm["components"]:
        raise SimulationError("params.components: a compilation's components are per span")
    spans = prm.get("spans")
    if not isinstance(spans, list) or len(spans) != n_spans:
        got = len(spans) if isinstance(spans, list) else type(spans).__name__
        raise SimulationError(
            f"params.spans: a compilation needs one entry per span ({n_spans}), got {got}"
        )
    for i, span in enumerate(spans):
        if not isinstance(span, dict) or not isinstance(span.get("components"), list):
            raise SimulationError(f"params.spans[{i}]: expected {{'components': [...], ...}}")
        for n in span["components"]:
            if n not in ALL_COMPONENTS or n in ("pip", "reencode"):
                raise SimulationError(f"params.spans[{i}]: component {n!r} cannot act per span")
            if not isinstance(span.get(n), dict):
                raise SimulationError(f"params.spans[{i}]: no parameters for component {n!r}")


def simulate_derivative(
    source_path: PathLike,
    source_id: str | None,
    spans: Sequence[Span],
    out_path: PathLike,
    *,
    family: str,
    seed: int = 0,
    fps: float | None = None,
    size: Size | None = None,
    title: str | None = None,
    params: Mapping[str, Any] | None = None,
    background: PathLike | None = None,
    platform: str = "youtube",
    engagement: int = 0,
    show_progress: bool = False,
) -> SimulatedDerivative:
    """Cut ``spans`` of the source, transform them as ``family`` does, join them with hard cuts
    and write an H.264 + AAC mp4 at ``out_path`` (atomically); return the exact ground truth.

    ``params`` (as in a ground-truth line) redoes a derivative or forces values: per component,
    given keys override the drawn ones; a list (``components``, a compilation's ``spans``, one
    entry per span) replaces the drawn one. ``background`` is the video behind ``pip`` (a flat
    colour when ``None``). ``fps`` defaults to the source's rate (25 when it is odd), ``size``
    to the family's own (640 wide landscape, 540x960 vertical; a compilation's vertical span
    is a 9:16 layout as tall as the canvas, between black bars). Parameters are drawn from a
    generator keyed by ``seed``, ``source_id``, the output file's stem and ``family``.
    ``source_id=None`` marks an off-topic clip: its ground truth has no segments.
    """

    check_family(family)
    src = Path(source_path)
    out = Path(out_path)
    info = probe(src)
    items = _check_spans(spans, info.duration)
    if size is not None:
        try:
            size = (int(size[0]), int(size[1]))
        except (TypeError, ValueError, IndexError) as e:
            raise SimulationError(f"size: expected (width, height), got {size!r}") from e
        if size[0] < 16 or size[1] < 16 or size[0] % 2 or size[1] % 2:
            raise SimulationError(f"size: {size} must be even and at least 16x16 (yuv420p)")
    if fps is None:
        fps = info.fps if 10.0 <= info.fps <= 60.0 else 25.0
    if not (math.isfinite(float(fps)) and 1.0 <= float(fps) <= 120.0):
        raise SimulationError(f"fps: {fps!r} is not a frame rate between 1 and 120")
    fr = fps_fraction(float(fps))
    out_fps = float(fr)

    rng = rng_for(seed, f"{source_id}|{out.stem}|{family}")
    drawn = draw_params(family, rng, has_background=background is not None, n_spans=len(items))
    if params:
        for key, value in params.items():
            if isinstance(value, Mapping) and isinstance(drawn.get(key), dict):
                drawn[key].update(value)
            else:
                drawn[key] = value if not isinstance(value, list) else list(value)
        if family in ALL_COMPONENTS:  # a one-component family
            drawn["components"] = [family]
    prm = json.loads(json.dumps(drawn))  # a plain JSON copy, detached from the caller's
    _check_components(prm, family, len(items))

    # frames per segment and the exact ground truth
    src_size = (info.width, info.height)
    plans0 = make_plans(prm, src_size, len(items), size=size, background=None)
    counts = [
        max(1, round((b - a) * out_fps / p.speed)) for (a, b), p in zip(items, plans0, strict=True)
    ]
    total_frames = sum(counts)
    segments: list[dict[str, Any]] = []
    done = 0
    for i, ((a, _b), n, p) in enumerate(zip(items, counts, plans0, strict=True)):
        segments.append(
            {
                "deriv_start": rounded(done / out_fps, 6),
                "deriv_end": rounded((done + n) / out_fps, 6),
                "source_start": rounded(a, 6),
                "source_end": rounded(a + n * p.speed / out_fps, 6),
                "speed": p.speed,
            }
        )
        if "spans" in prm:
            segments[-1]["transform"] = str(prm["spans"][i].get("transform", "plain"))
        done += n
    duration = total_frames / out_fps

    bg_get = None
    plan0 = plans0[0]
    if plan0.needs_background and background is not None:
        bg_size = plan0.out_size
        bg_get, bg_start = background_frames(
            Path(background), duration, out_fps, bg_size, float(prm["pip"]["background_offset"])
        )
        prm["pip"]["background_source"] = Path(background).stem
        prm["pip"]["background_start"] = rounded(bg_start, 3)
    elif "pip" in prm["components"]:
        prm["pip"]["background"] = "flat"
    plans = make_plans(prm, src_size, len(items), size=size, background=bg_get)
    plan = plans[0]
    prm["encode"].update(
        {"width": plan.out_size[0], "height": plan.out_size[1], "fps": rounded(out_fps, 6),
         "crf": plan.crf, "preset": PRESET, "audio_rate": AUDIO_RATE}
    )  # fmt: skip

    fade_frames = round(plan.fade / 2 * out_fps)
    width, height = plan.out_size
    writer = Mp4Writer(
        out, width, height, fr, crf=plan.crf, preset=PRESET, audio_rate=AUDIO_RATE,
        audio_layout="mono", threads=X264_THREADS, x264_params=X264_PARAMS,
    )  # fmt: skip
    with writer, tqdm(total=total_frames, disable=not show_progress, unit="frame",
              desc=f"simulate {out.name}") as bar:  # fmt: skip
        k_out = 0
        for i, ((a, _b), n, span_plan) in enumerate(zip(items, counts, plans, strict=True)):
            first, last = i == 0, i == len(items) - 1
            speed = span_plan.speed
            step = speed / out_fps
            for k, frame in enumerate(
                source_frames(src, a, n, step, info.fps or out_fps, span_plan.decode_size)
            ):
                for op in span_plan.ops:
                    frame = op(frame, k_out)
                g = fade_gain(k, n, fade_frames, first, last)
                if g < 1.0:
                    frame = (frame.astype(np.float32) * g).astype(np.uint8)
                writer.add_rgb(frame)
                k_out += 1
                bar.update(1)
            # audio of the same span, time-scaled to the segment's length
            a0 = round(segments[i]["deriv_start"] * AUDIO_RATE)
            a1 = round(segments[i]["deriv_end"] * AUDIO_RATE)
            src_end = a + n * speed / out_fps
            pcm = (
                read_audio(src, AUDIO_RATE, start=a, end=src_end)
                if info.has_audio
                else np.zeros(0, np.float32)
            )
            want_src = round((src_end - a) * AUDIO_RATE)
            if pcm.size < want_src and pcm.size > 0:
                pcm = np.concatenate([pcm, np.zeros(want_src - pcm.size, np.float32)])
            pcm = timescale(pcm[:want_src] if want_src else pcm, a1 - a0)
            if fade_frames > 0 and pcm.size:
                fs = round(fade_frames / out_fps * AUDIO_RATE)
                ramp = np.linspace(0.0, 1.0, min(fs, pcm.size), dtype=np.float32)
                if not first:
                    pcm[: ramp.size] *= ramp
                if not last:
                    pcm[pcm.size - ramp.size :] *= ramp[::-1]
            writer.add_audio(pcm)
    logger.debug("wrote %s (%s, %.2f s, %d frames)", out, family, duration, total_frames)
    return SimulatedDerivative(
        clip_id=out.stem,
        path=out,
        title=title if title is not None else out.stem,
        source_id=source_id,
        family=family,
        params=prm,
        segments=segments if source_id is not None else [],
        platform=platform,
        engagement=int(engagement),
        duration=rounded(duration, 6),
    )


# --------------------------------------------------------------------------------------------
# Span choice and a whole corpus
