"""Simulated derivative clips: re-uploads of source-film spans with known ground truth.

The TVHighlights labels count how often people re-upload spans of a film as short
"derivative" clips. Real re-uploads cannot be shipped, so this module makes look-alikes from
real films with PyAV and numpy (no ffmpeg binary): cut spans, transform them the way uploaders
do (re-encode, crop, mirror, vertical 9:16, captions, colour grading, speed change,
picture-in-picture), join them with hard cuts and encode H.264 + AAC. Because the simulator
knows exactly which source seconds land where, its ground truth lets the fingerprint alignment
be tested and benchmarked, and the quickstart gets a derivative corpus offline.

Everything random is drawn from a ``numpy.random.Generator`` seeded per derivative (from the
corpus seed and the clip id), so a seed fixes every span and parameter. x264 runs on one thread
(see :data:`X264_OPTIONS`) and FFmpeg's AAC encoder is deterministic, so the video bytes repeat
too.

Ground truth segment times are exact: a segment of ``n`` output frames at ``fps`` lasts
``n / fps`` seconds of the derivative and shows source times ``source_start + k * speed / fps``
(``k < n``), so ``source_end - source_start == speed * (deriv_end - deriv_start)``. The source end
may differ from the requested span end by less than one output frame.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import math
import os
import tempfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

from tvhighlights.errors import TVHighlightsError
from tvhighlights.fileio import atomic_write, write_jsonl

logger = logging.getLogger(__name__)

__all__ = [
    "FAMILIES",
    "SimulatedDerivative",
    "SimulationError",
    "SimulationResult",
    "choose_spans",
    "draw_params",
    "read_ground_truth",
    "simulate_derivative",
    "simulate_derivatives",
]

FAMILIES: tuple[str, ...] = (
    "reencode",
    "crop",
    "hflip",
    "vertical",
    "overlay",
    "colour",
    "speed",
    "pip",
    "mixed",
)
"""Transformation families, in the order :func:`simulate_derivatives` makes them."""

_COMPONENTS = ("reencode", "crop", "hflip", "vertical", "overlay", "colour", "speed", "pip")
"""Families that ``mixed`` combines (2 or 3 of them, at most one layout: vertical or pip)."""

_ORDER = ("speed", "crop", "hflip", "colour", "vertical", "pip", "overlay", "reencode")
"""Order in which components act: time, then the film picture, then layout, then captions."""

LANDSCAPE_WIDTH = 640
"""Output width of landscape families (height follows the source's aspect ratio)."""

AUDIO_RATE = 44100
"""Output audio sample rate (mono AAC)."""

DEFAULT_CRF = 26
PRESET = "veryfast"
X264_OPTIONS = {"preset": PRESET, "threads": "1", "x264-params": "mbtree=0"}
"""Settings that make x264's output bytes repeat: measured here (PyAV 18's x264), the same
frames gave different bytes from call to call with macroblock-tree rate control on, and with
several threads; with both off, every repeat matched. One thread is no slower on these small
frames (decoding runs alongside); ``simulate_derivatives(num_workers=...)`` uses more cores."""

Size = tuple[int, int]
Span = tuple[float, float]
PathLike = str | Path


class SimulationError(TVHighlightsError, ValueError):
    """Bad input to the simulator (a span, a family, a size); the message names the argument."""


# --------------------------------------------------------------------------------------------
# Results


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
    segments: list[dict[str, float]]
    """``{deriv_start, deriv_end, source_start, source_end, speed}`` per span, in order."""
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


@dataclass(frozen=True)
class SimulationResult:
    """What :func:`simulate_derivatives` wrote."""

    out_dir: Path
    manifest: Path
    """``derivatives.csv``: ``clip_id,path,title,platform,engagement`` (paths relative)."""
    ground_truth: Path
    """``ground_truth.jsonl``: one :meth:`SimulatedDerivative.to_dict` line per clip."""
    derivatives: tuple[SimulatedDerivative, ...] = field(default_factory=tuple)

    @property
    def videos(self) -> list[Path]:
        """Paths of the written mp4 files."""
        return [d.path for d in self.derivatives]


# --------------------------------------------------------------------------------------------
# Small helpers


def _even(x: float) -> int:
    """Nearest even integer >= 2 (yuv420p needs even sizes)."""
    return max(2, round(x / 2.0) * 2)


def _landscape(width: int, height: int, target_width: int = LANDSCAPE_WIDTH) -> Size:
    """Output size of landscape families: ``target_width`` wide (never upscaled), same aspect."""
    w = _even(min(target_width, width))
    return w, _even(w * height / width)


def _resize(frame: np.ndarray, size: Size, resample: int = Image.BILINEAR) -> np.ndarray:
    if (frame.shape[1], frame.shape[0]) == tuple(size):
        return frame
    return np.asarray(Image.fromarray(frame).resize(size, resample))


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Pillow's bundled scalable font (no system fonts needed)."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ValueError, OSError):  # pragma: no cover - Pillow without FreeType
        return ImageFont.load_default()


def _rng_for(seed: int, key: str) -> np.random.Generator:
    """A generator that depends only on the corpus seed and a stable key (the clip id)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(key.encode())]))


def _pick(rng: np.random.Generator, items: Sequence[Any]) -> Any:
    return items[int(rng.integers(len(items)))]


def _r(x: float, nd: int = 3) -> float:
    return float(round(float(x), nd))


def _fps_fraction(fps: float) -> Fraction:
    return Fraction(fps).limit_denominator(1001)


# --------------------------------------------------------------------------------------------
# Text for captions and titles

_MEME_TOP = ("WHEN THE BUNNY", "NOBODY:", "ME AT 3AM", "POV: YOU", "THIS SCENE", "WAIT FOR IT")
_MEME_BOTTOM = (
    "GETS REVENGE",
    "ABSOLUTE LEGEND",
    "I CAN'T STOP LAUGHING",
    "THE ANIMATION THO",
    "10/10 WOULD WATCH AGAIN",
    "HE DIDN'T SEE IT COMING",
)
_SUBTITLES = (
    "Watch what happens next...",
    "The best part of the movie",
    "This is why I love this film",
    "Part 2 coming soon",
    "He really said that",
    "Nobody expected this ending",
)
_HANDLES = ("@clipsdaily", "@movieshorts", "@toonvault", "FilmFlash", "@best.scenes", "CineCuts")
_PIP_TEXT = ("REACTING TO", "MY FAVOURITE SCENE", "MUST WATCH", "CLIP OF THE DAY")
_PLATFORMS = ("youtube", "tiktok", "bilibili", "instagram")
_TITLES: dict[str, tuple[str, ...]] = {
    "youtube": (
        "{film} - best scene 😂 #shorts",
        "{film} funniest moment",
        "{film} | Official Clip HD",
        "Top moments from {film}",
        "{film} ending scene",
        "{film} but it's only the best part",
    ),
    "tiktok": (
        "wait for it... 😂 #{tag} #fyp",
        "{film} edit 🔥 #movie #{tag}",
        "this scene in {film} 😭 #foryou",
        "POV: you're watching {film} for the first time #{tag}",
    ),
    "bilibili": ("【{film}】名场面 高能", "{film} 高能片段 1080P", "【混剪】{film} 经典镜头"),
    "instagram": ("{film} 🐰🔥 #reels #{tag}", "Rate this scene from {film} 1-10 👇 #{tag}"),
}
_OFF_TOPIC_TITLES = (
    "live concert full set",
    "cooking pasta tutorial",
    "my morning routine vlog",
    "unboxing the new phone",
    "guitar lesson for beginners",
    "street food tour in Bangkok",
    "football highlights 2023",
    "how to fix a leaky faucet",
)


def _title(rng: np.random.Generator, film: str, platform: str) -> str:
    tag = "".join(ch for ch in film.lower() if ch.isalnum()) or "movie"
    return str(_pick(rng, _TITLES[platform])).format(film=film, tag=tag)


def _film_name(source_id: str) -> str:
    return source_id.replace("_", " ").replace("-", " ").strip().title() or source_id


# --------------------------------------------------------------------------------------------
# Parameter drawing (pure: a generator in, a JSON-ready dict out)


def _draw_component(name: str, rng: np.random.Generator, *, has_background: bool) -> dict[str, Any]:
    if name == "reencode":
        return {"height": int(_pick(rng, (240, 270, 360, 480))), "crf": int(rng.integers(32, 41))}
    if name == "crop":
        return {
            "fraction": _r(rng.uniform(0.10, 0.25)),
            "x": _r(rng.uniform(0.0, 1.0)),
            "y": _r(rng.uniform(0.0, 1.0)),
        }
    if name == "hflip":
        return {}
    if name == "vertical":
        big = bool(rng.random() < 0.25)
        return {
            "width": 720 if big else 540,
            "height": 1280 if big else 960,
            "background": str(_pick(rng, ("blur", "black"))),
            "darken": _r(rng.uniform(0.35, 0.7)),
            "band_width": _r(rng.uniform(0.9, 1.0)),
        }
    if name == "overlay":
        return {
            "top": str(_pick(rng, _MEME_TOP)) if rng.random() < 0.6 else "",
            "bottom": str(_pick(rng, _MEME_BOTTOM + _SUBTITLES)),
            "text_colour": str(_pick(rng, ("white", "yellow"))),
            "text_scale": _r(rng.uniform(0.08, 0.13)),
            "logo": str(_pick(rng, _HANDLES)),
            "corner": str(_pick(rng, ("tl", "tr", "bl", "br"))),
            "logo_alpha": _r(rng.uniform(0.3, 0.6)),
        }
    if name == "colour":
        mode = str(_pick(rng, ("adjust", "adjust", "sepia", "grey")))
        return {
            "mode": mode,
            "brightness": _r(rng.uniform(-0.15, 0.15)),
            "contrast": _r(rng.uniform(0.7, 1.4)),
            "saturation": _r(rng.uniform(0.3, 1.7)) if mode == "adjust" else 1.0,
            "hue": _r(rng.uniform(-40.0, 40.0), 1) if mode == "adjust" else 0.0,
        }
    if name == "speed":
        s = 1.0
        while abs(s - 1.0) < 0.2:
            s = float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
        return {"speed": _r(s, 2)}
    if name == "pip":
        use_video = has_background and rng.random() < 0.7
        return {
            "scale": _r(rng.uniform(0.30, 0.50)),
            "x": _r(rng.uniform(0.0, 1.0)),
            "y": _r(rng.uniform(0.0, 1.0)),
            "background": "video" if use_video else "flat",
            "background_offset": _r(rng.uniform(0.0, 1.0)),
            "colour": [int(v) for v in rng.integers(0, 256, size=3)],
            "text": str(_pick(rng, _PIP_TEXT)),
            "border": int(rng.integers(0, 7)),
        }
    raise SimulationError(f"family: unknown component {name!r}; known: {', '.join(_COMPONENTS)}")


def draw_params(
    family: str, rng: np.random.Generator, *, has_background: bool = True
) -> dict[str, Any]:
    """Draw a family's parameters: ``{"components": [...], <component>: {...}, "encode": {...}}``.

    ``mixed`` picks 2 or 3 components with at most one layout (vertical or pip).
    """
    _check_family(family)
    if family == "mixed":
        k = int(rng.integers(2, 4))
        names: list[str] = []
        while len(names) < k:
            n = str(_pick(rng, _COMPONENTS))
            if n in names or (n in ("vertical", "pip") and {"vertical", "pip"} & set(names)):
                continue
            names.append(n)
        names = [n for n in _ORDER if n in names]
    else:
        names = [family]
    params: dict[str, Any] = {"components": names}
    for n in names:
        params[n] = _draw_component(n, rng, has_background=has_background)
    params["encode"] = {
        "crf": DEFAULT_CRF,
        "fade": 0.5 if rng.random() < 0.3 else 0.0,
    }
    return params


def _check_family(family: str) -> None:
    if family not in FAMILIES:
        raise SimulationError(f"family: unknown family {family!r}; known: {', '.join(FAMILIES)}")


# --------------------------------------------------------------------------------------------
# Frame operations built from parameters


@dataclass
class _Plan:
    """How to make one derivative: sizes, speed and the per-frame operation chain."""

    speed: float
    decode_size: Size
    out_size: Size
    crf: int
    fade: float
    ops: list[Callable[[np.ndarray, int], np.ndarray]]
    needs_background: bool


def _colour_op(p: Mapping[str, Any]) -> Callable[[np.ndarray, int], np.ndarray]:
    """One affine colour map per frame: saturation/hue (YIQ rotation), sepia or grey, then
    contrast around mid-grey and a brightness offset."""
    luma = np.array([0.299, 0.587, 0.114], dtype=np.float64)
    mode = p.get("mode", "adjust")
    if mode == "grey":
        m = np.tile(luma, (3, 1))
    elif mode == "sepia":
        m = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]])
    else:
        to_yiq = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
        h = math.radians(float(p.get("hue", 0.0)))
        s = float(p.get("saturation", 1.0))
        rot = np.array(
            [
                [1, 0, 0],
                [0, s * math.cos(h), -s * math.sin(h)],
                [0, s * math.sin(h), s * math.cos(h)],
            ]
        )
        m = np.linalg.inv(to_yiq) @ rot @ to_yiq
    c = float(p.get("contrast", 1.0))
    m = (m * c).astype(np.float32)
    offset = np.float32(128.0 * (1.0 - c) + 255.0 * float(p.get("brightness", 0.0)))

    def op(frame: np.ndarray, _k: int) -> np.ndarray:
        f = frame.astype(np.float32)
        out = np.empty_like(f)
        for i in range(3):  # elementwise, not BLAS: predictable on a busy machine
            out[..., i] = f[..., 0] * m[i, 0] + f[..., 1] * m[i, 1] + f[..., 2] * m[i, 2] + offset
        return np.clip(out, 0, 255).astype(np.uint8)

    return op


def _crop_size(film: Size, fraction: float) -> Size:
    """Decode size for ``crop``: the kept (1 - fraction) of it is exactly ``film``, so the
    zoom is done by FFmpeg's scaler while decoding and the crop is a plain slice."""
    return _even(film[0] / (1.0 - fraction)), _even(film[1] / (1.0 - fraction))


def _crop_op(p: Mapping[str, Any], out: Size) -> Callable[[np.ndarray, int], np.ndarray]:
    frac = float(p["fraction"])

    def op(frame: np.ndarray, _k: int) -> np.ndarray:
        h, w = frame.shape[:2]
        cw, ch = min(w, out[0]), min(h, out[1])
        if (w, h) != _crop_size(out, frac):  # decoded at another size: crop the fraction
            cw, ch = max(2, round(w * (1 - frac))), max(2, round(h * (1 - frac)))
        x0 = round((w - cw) * float(p["x"]))
        y0 = round((h - ch) * float(p["y"]))
        return _resize(np.ascontiguousarray(frame[y0 : y0 + ch, x0 : x0 + cw]), out)

    return op


def _vertical_op(p: Mapping[str, Any], band: Size) -> Callable[[np.ndarray, int], np.ndarray]:
    """The film in a middle band; above and below, black or a blurred, darkened enlargement."""
    W, H = int(p["width"]), int(p["height"])
    bw, bh = band
    x0, y0 = (W - bw) // 2, (H - bh) // 2
    gain = np.uint16(round(256 * float(p.get("darken", 0.5))))
    blur = p.get("background", "blur") == "blur"

    def op(frame: np.ndarray, _k: int) -> np.ndarray:
        film = _resize(frame, band)
        if blur:
            fh, fw = frame.shape[:2]
            # cheap blur: shrink a lot (box filter), then enlarge the part that covers the
            # canvas (centred) with bilinear interpolation
            sw, sh = max(1, fw // 24), max(1, fh // 24)
            small = Image.fromarray(frame).resize((sw, sh), Image.BOX)
            scale = max(W / sw, H / sh)
            bw_, bh_ = W / scale, H / scale
            box = ((sw - bw_) / 2, (sh - bh_) / 2, (sw + bw_) / 2, (sh + bh_) / 2)
            big = np.asarray(small.resize((W, H), Image.BILINEAR, box=box))
            canvas = ((big.astype(np.uint16) * gain) >> 8).astype(np.uint8)
        else:
            canvas = np.zeros((H, W, 3), dtype=np.uint8)
        canvas[y0 : y0 + bh, x0 : x0 + bw] = film
        return canvas

    return op


def _text_layer(size: Size) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    return layer, ImageDraw.Draw(layer)


def _draw_centered(
    draw: ImageDraw.ImageDraw,
    text: str,
    width: int,
    y: int,
    font: Any,
    fill: tuple[int, ...],
    stroke: int,
    anchor: str = "ma",
) -> None:
    draw.text(
        (width // 2, y), text, font=font, fill=fill, anchor=anchor,
        stroke_width=stroke, stroke_fill=(0, 0, 0, 255),
    )  # fmt: skip


def _fit_font(draw: ImageDraw.ImageDraw, text: str, size: int, max_width: int) -> Any:
    """The largest font up to ``size`` px whose rendering of ``text`` fits ``max_width``."""
    while True:
        font = _font(size)
        left, _, right, _ = draw.textbbox((0, 0), text, font=font)
        if right - left <= max_width or size <= 8:
            return font
        size = int(size * 0.9)


def _overlay_op(p: Mapping[str, Any], out: Size) -> Callable[[np.ndarray, int], np.ndarray]:
    """Meme text on top, a subtitle at the bottom, a semi-transparent handle in a corner.

    The layer is drawn once with PIL and alpha-composited onto every frame in numpy.
    """
    W, H = out
    layer, draw = _text_layer(out)
    px = max(10, int(float(p.get("text_scale", 0.08)) * min(W, H)))
    fill = (255, 255, 0, 255) if p.get("text_colour") == "yellow" else (255, 255, 255, 255)
    stroke = max(1, px // 12)
    margin = max(4, H // 30)
    if p.get("top"):
        font = _fit_font(draw, str(p["top"]), px, int(W * 0.94))
        _draw_centered(draw, str(p["top"]), W, margin, font, fill, stroke, "ma")
    if p.get("bottom"):
        font = _fit_font(draw, str(p["bottom"]), px, int(W * 0.94))
        _draw_centered(draw, str(p["bottom"]), W, H - margin, font, fill, stroke, "md")
    logo_alpha = int(255 * float(p.get("logo_alpha", 0.5)))
    if p.get("logo"):
        logo = Image.new("RGBA", out, (0, 0, 0, 0))
        ld = ImageDraw.Draw(logo)
        lf = _font(max(8, px // 2))
        left, top, right, bottom = ld.textbbox((0, 0), str(p["logo"]), font=lf)
        tw, th = right - left, bottom - top
        pad = max(3, th // 3)
        corner = str(p.get("corner", "br"))
        x = margin if corner[1] == "l" else W - margin - tw - 2 * pad
        y = margin + (px + margin if p.get("top") and corner[0] == "t" else 0)
        if corner[0] == "b":
            y = H - margin - th - 2 * pad - (px + margin if p.get("bottom") else 0)
        ld.rounded_rectangle(
            (x, y, x + tw + 2 * pad, y + th + 2 * pad), radius=pad, fill=(0, 0, 0, logo_alpha)
        )
        ld.text((x + pad - left, y + pad - top), str(p["logo"]), font=lf,
                fill=(255, 255, 255, logo_alpha))  # fmt: skip
        layer = Image.alpha_composite(layer, logo)
    rgba = np.asarray(layer).astype(np.float32)
    alpha = rgba[..., 3:] / 255.0
    rows = np.flatnonzero(alpha[..., 0].max(axis=1) > 0)
    if rows.size == 0:
        return lambda frame, _k: frame
    r0, r1 = int(rows[0]), int(rows[-1]) + 1
    a = alpha[r0:r1]
    premul = rgba[r0:r1, :, :3] * a

    def op(frame: np.ndarray, _k: int) -> np.ndarray:
        frame = frame.copy()
        band = frame[r0:r1].astype(np.float32)
        frame[r0:r1] = np.clip(band * (1.0 - a) + premul + 0.5, 0, 255).astype(np.uint8)
        return frame

    return op


def _pip_geometry(p: Mapping[str, Any], out: Size) -> tuple[Size, int, int]:
    W, H = out
    pw = _even(W * float(p["scale"]))
    ph = _even(pw * H / W)
    x0 = round((W - pw) * float(p["x"]))
    y0 = round((H - ph) * float(p["y"]))
    return (pw, ph), x0, y0


def _pip_op(
    p: Mapping[str, Any], out: Size, background: Callable[[int], np.ndarray] | None
) -> Callable[[np.ndarray, int], np.ndarray]:
    """The film shrunk to 30-50 % over another video's frames or a flat colour with text."""
    W, H = out
    (pw, ph), x0, y0 = _pip_geometry(p, out)
    border = int(p.get("border", 0))
    flat = np.empty((H, W, 3), dtype=np.uint8)
    flat[:] = np.asarray(p.get("colour", [30, 30, 30]), dtype=np.uint8)
    if p.get("text"):
        img = Image.fromarray(flat)
        d = ImageDraw.Draw(img)
        font = _fit_font(d, str(p["text"]), max(10, H // 10), int(W * 0.9))
        ty = H - H // 20 if y0 < H // 2 else H // 20
        _draw_centered(d, str(p["text"]), W, ty, font, (255, 255, 255, 255), 2,
                       "md" if y0 < H // 2 else "ma")  # fmt: skip
        flat = np.asarray(img).copy()

    def op(frame: np.ndarray, k: int) -> np.ndarray:
        if background is not None and p.get("background") == "video":
            canvas = _resize(background(k), out).copy()
        else:
            canvas = flat.copy()
        if border:
            canvas[
                max(0, y0 - border) : y0 + ph + border, max(0, x0 - border) : x0 + pw + border
            ] = 255
        canvas[y0 : y0 + ph, x0 : x0 + pw] = _resize(frame, (pw, ph))
        return canvas

    return op


def _plan(
    params: Mapping[str, Any],
    src_size: Size,
    *,
    size: Size | None,
    background: Callable[[int], np.ndarray] | None,
) -> _Plan:
    """Turn drawn parameters into sizes and the ordered chain of frame operations."""
    names = list(params["components"])
    sw, sh = src_size
    canvas = _landscape(sw, sh)
    if "reencode" in names:
        hh = min(int(params["reencode"]["height"]), sh)  # a re-upload never adds pixels
        canvas = (_even(hh * sw / sh), _even(hh))
    if "vertical" in names:
        canvas = (int(params["vertical"]["width"]), int(params["vertical"]["height"]))
    if size is not None:
        canvas = (int(size[0]), int(size[1]))
        if "vertical" in names:
            params["vertical"]["width"], params["vertical"]["height"] = canvas
    # where the film picture ends up, and the size it is decoded at
    if "vertical" in names:
        bw = _even(canvas[0] * float(params["vertical"].get("band_width", 1.0)))
        film = (bw, _even(bw * sh / sw))
    elif "pip" in names:
        film = _pip_geometry(params["pip"], canvas)[0]
    else:
        film = canvas
    decode = _crop_size(film, float(params["crop"]["fraction"])) if "crop" in names else film
    ops: list[Callable[[np.ndarray, int], np.ndarray]] = []
    if "crop" in names:
        ops.append(_crop_op(params["crop"], film))
    if "hflip" in names:
        ops.append(lambda f, _k: np.ascontiguousarray(f[:, ::-1]))
    if "colour" in names:
        ops.append(_colour_op(params["colour"]))
    if "vertical" in names:
        ops.append(_vertical_op(params["vertical"], film))
    if "pip" in names:
        ops.append(_pip_op(params["pip"], canvas, background))
    if "overlay" in names:
        ops.append(_overlay_op(params["overlay"], canvas))
    enc = params.get("encode", {})
    crf = (
        int(params["reencode"]["crf"]) if "reencode" in names else int(enc.get("crf", DEFAULT_CRF))
    )
    speed = float(params["speed"]["speed"]) if "speed" in names else 1.0
    return _Plan(
        speed=speed,
        decode_size=decode,
        out_size=canvas,
        crf=crf,
        fade=float(enc.get("fade", 0.0)),
        ops=ops,
        needs_background="pip" in names and params["pip"].get("background") == "video",
    )


# --------------------------------------------------------------------------------------------
# Decoding the spans


def _source_frames(
    path: Path, start: float, n: int, step: float, src_fps: float, size: Size
) -> Iterator[np.ndarray]:
    """The ``n`` source frames on screen at ``start + k * step``: decode the span once at the
    source's own rate and pick (repeating frames for slow motion, skipping for fast)."""
    from tvhighlights.video import iter_frames

    end = start + n * step
    it = iter_frames(path, src_fps, size=size, start=max(0.0, start - 1.0 / src_fps), end=end)
    current: np.ndarray | None = None
    pending: tuple[float, np.ndarray] | None = None
    eps = 1e-6
    for k in range(n):
        target = start + k * step
        while True:
            if pending is None:
                try:
                    pending = next(it)
                except StopIteration:
                    break
            if pending[0] <= target + eps:
                current = pending[1]
                pending = None
            else:
                break
        if current is None:  # the span starts before the first decodable frame
            current = (
                pending[1] if pending is not None else np.zeros((size[1], size[0], 3), np.uint8)
            )
        yield current


def _background_frames(
    path: Path, total: float, fps: float, size: Size, offset: float
) -> tuple[Callable[[int], np.ndarray], float]:
    """A callable ``k -> frame`` giving the background video's frame for output frame ``k``,
    starting at ``offset`` (a fraction of the room left) and looping when the video is short."""
    from tvhighlights.video import probe, read_frames

    info = probe(path)
    room = max(0.0, info.duration - total)
    start = room * min(max(offset, 0.0), 1.0)
    # decode at a size that covers ``size`` (aspect kept), then take the centre
    scale = max(size[0] / info.width, size[1] / info.height)
    cover = (max(size[0], _even(info.width * scale)), max(size[1], _even(info.height * scale)))
    end = min(info.duration, start + total)
    _, arr = read_frames(path, fps, size=cover, start=start, end=end)
    x0, y0 = (cover[0] - size[0]) // 2, (cover[1] - size[1]) // 2
    arr = arr[:, y0 : y0 + size[1], x0 : x0 + size[0]]
    if len(arr) == 0:
        raise SimulationError(f"background: no frames decoded from {path}")

    def get(k: int) -> np.ndarray:
        return arr[k % len(arr)]

    return get, start


def _fade_gain(k: int, n: int, fade_frames: int, first: bool, last: bool) -> float:
    """Brightness gain for a fade through black at the joints between segments."""
    g = 1.0
    if fade_frames > 0:
        if not first:
            g = min(g, (k + 0.5) / fade_frames)
        if not last:
            g = min(g, (n - k - 0.5) / fade_frames)
    return max(0.0, min(1.0, g))


def _timescale(audio: np.ndarray, n_out: int) -> np.ndarray:
    """Stretch/squeeze audio to ``n_out`` samples by resampling (pitch moves with speed, as in
    naive speed edits)."""
    if n_out <= 0:
        return np.zeros(0, dtype=np.float32)
    if audio.size == 0:
        return np.zeros(n_out, dtype=np.float32)
    if audio.size == n_out:
        return audio.astype(np.float32)
    x = np.linspace(0.0, audio.size - 1, n_out)
    return np.interp(x, np.arange(audio.size), audio).astype(np.float32)


# --------------------------------------------------------------------------------------------
# Encoding


def _rgb_to_yuv420p(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BT.601 limited-range YUV 4:2:0 (what swscale makes by default), in integer numpy.

    Converting here, into planes whose row padding is zeroed once, makes the encoder's input
    exactly these bytes (nothing left over from earlier frames in memory).
    """
    x = rgb.astype(np.uint16)
    y = (x[..., 0] * 66 + x[..., 1] * 129 + x[..., 2] * 25 + (16 << 8) + 128) >> 8
    q = (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2]).astype(np.int32)
    r, g, b = q[..., 0], q[..., 1], q[..., 2]  # 4x the mean of each 2x2 block
    u = (-38 * r - 74 * g + 112 * b + (128 << 10) + 512) >> 10
    v = (112 * r - 94 * g - 18 * b + (128 << 10) + 512) >> 10
    return y.astype(np.uint8), u.astype(np.uint8), v.astype(np.uint8)


class _Encoder:
    """H.264 + mono AAC into an mp4 at a temporary sibling path, renamed when complete."""

    def __init__(self, path: Path, size: Size, fps: Fraction, crf: int, rate: int) -> None:
        import av

        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp.mp4", dir=path.parent)
        os.close(fd)
        self.tmp = Path(tmp)
        self.container = av.open(str(self.tmp), "w", format="mp4")
        self.vs = self.container.add_stream(
            "libx264", rate=fps, options=X264_OPTIONS | {"crf": str(crf)}
        )
        self.vs.width, self.vs.height = size
        self.vs.pix_fmt = "yuv420p"
        self.vs.codec_context.thread_count = 1  # see X264_OPTIONS
        self.vs.codec_context.time_base = Fraction(1) / fps
        self.aus = self.container.add_stream("aac", rate=rate, layout="mono")
        self.aus.codec_context.time_base = Fraction(1, rate)
        self.rate = rate
        self.frames = 0
        self.samples = 0
        self._audio_buf = np.zeros(0, dtype=np.float32)
        self._planes: dict[int, np.ndarray] = {}

    def video(self, rgb: np.ndarray) -> None:
        import av

        frame = av.VideoFrame(rgb.shape[1], rgb.shape[0], "yuv420p")
        for i, (plane, data) in enumerate(zip(frame.planes, _rgb_to_yuv420p(rgb), strict=True)):
            if i not in self._planes:  # zeroed once: the row padding stays zero
                self._planes[i] = np.zeros((plane.height, plane.line_size), np.uint8)
            buf = self._planes[i]
            buf[:, : plane.width] = data
            plane.update(buf)
        frame.pts = self.frames
        frame.time_base = self.vs.codec_context.time_base
        self.frames += 1
        for packet in self.vs.encode(frame):
            self.container.mux(packet)

    def audio(self, samples: np.ndarray, final: bool = False) -> None:
        import av

        buf = np.concatenate([self._audio_buf, samples.astype(np.float32)])
        chunk = 1024
        n = len(buf) if final else (len(buf) // chunk) * chunk
        for i in range(0, n, chunk):
            part = buf[i : min(i + chunk, n)]
            frame = av.AudioFrame.from_ndarray(part[None, :], format="fltp", layout="mono")
            frame.sample_rate = self.rate
            frame.pts = self.samples
            frame.time_base = Fraction(1, self.rate)
            self.samples += len(part)
            for packet in self.aus.encode(frame):
                self.container.mux(packet)
        self._audio_buf = buf[n:]

    def finish(self) -> None:
        self.audio(np.zeros(0, dtype=np.float32), final=True)
        for stream in (self.vs, self.aus):
            for packet in stream.encode(None):
                self.container.mux(packet)
        self.container.close()
        with open(self.tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.container.close()
        with contextlib.suppress(FileNotFoundError):
            self.tmp.unlink()


# --------------------------------------------------------------------------------------------
# One derivative


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
    given keys override the drawn ones. ``background`` is the video behind ``pip`` (a flat
    colour when ``None``). ``fps`` defaults to the source's rate (25 when it is odd), ``size``
    to the family's own (640 wide landscape, 540x960 vertical). Parameters are drawn from a
    generator keyed by ``seed``, ``source_id``, the output file's stem and ``family``.
    ``source_id=None`` marks an off-topic clip: its ground truth has no segments.
    """
    from tvhighlights.video import probe, read_audio

    _check_family(family)
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
    fr = _fps_fraction(float(fps))
    out_fps = float(fr)

    rng = _rng_for(seed, f"{source_id}|{out.stem}|{family}")
    drawn = draw_params(family, rng, has_background=background is not None)
    if params:
        for key, value in params.items():
            if isinstance(value, Mapping) and isinstance(drawn.get(key), dict):
                drawn[key].update(value)
            else:
                drawn[key] = value if not isinstance(value, list) else list(value)
        if family != "mixed":
            drawn["components"] = [family]
    prm = json.loads(json.dumps(drawn))  # a plain JSON copy, detached from the caller's
    for n in prm["components"]:
        if n not in _COMPONENTS:
            raise SimulationError(f"params: unknown component {n!r}")

    # frames per segment and the exact ground truth
    plan0 = _plan(prm, (info.width, info.height), size=size, background=None)
    speed = plan0.speed
    counts = [max(1, round((b - a) * out_fps / speed)) for a, b in items]
    total_frames = sum(counts)
    segments: list[dict[str, float]] = []
    done = 0
    for (a, _b), n in zip(items, counts, strict=True):
        segments.append(
            {
                "deriv_start": _r(done / out_fps, 6),
                "deriv_end": _r((done + n) / out_fps, 6),
                "source_start": _r(a, 6),
                "source_end": _r(a + n * speed / out_fps, 6),
                "speed": speed,
            }
        )
        done += n
    duration = total_frames / out_fps

    bg_get = None
    if plan0.needs_background and background is not None:
        bg_size = plan0.out_size
        bg_get, bg_start = _background_frames(
            Path(background), duration, out_fps, bg_size, float(prm["pip"]["background_offset"])
        )
        prm["pip"]["background_source"] = Path(background).stem
        prm["pip"]["background_start"] = _r(bg_start, 3)
    elif "pip" in prm["components"]:
        prm["pip"]["background"] = "flat"
    plan = _plan(prm, (info.width, info.height), size=size, background=bg_get)
    prm["encode"].update(
        {"width": plan.out_size[0], "height": plan.out_size[1], "fps": _r(out_fps, 6),
         "crf": plan.crf, "preset": PRESET, "audio_rate": AUDIO_RATE}
    )  # fmt: skip

    enc = _Encoder(out, plan.out_size, fr, plan.crf, AUDIO_RATE)
    fade_frames = round(plan.fade / 2 * out_fps)
    try:
        with tqdm(total=total_frames, disable=not show_progress, unit="frame",
                  desc=f"simulate {out.name}") as bar:  # fmt: skip
            k_out = 0
            for i, ((a, _b), n) in enumerate(zip(items, counts, strict=True)):
                first, last = i == 0, i == len(items) - 1
                step = speed / out_fps
                for k, frame in enumerate(
                    _source_frames(src, a, n, step, info.fps or out_fps, plan.decode_size)
                ):
                    for op in plan.ops:
                        frame = op(frame, k_out)
                    g = _fade_gain(k, n, fade_frames, first, last)
                    if g < 1.0:
                        frame = (frame.astype(np.float32) * g).astype(np.uint8)
                    enc.video(frame)
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
                pcm = _timescale(pcm[:want_src] if want_src else pcm, a1 - a0)
                if fade_frames > 0 and pcm.size:
                    fs = round(fade_frames / out_fps * AUDIO_RATE)
                    ramp = np.linspace(0.0, 1.0, min(fs, pcm.size), dtype=np.float32)
                    if not first:
                        pcm[: ramp.size] *= ramp
                    if not last:
                        pcm[pcm.size - ramp.size :] *= ramp[::-1]
                enc.audio(pcm)
        enc.finish()
    except BaseException:
        enc.abort()
        raise
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
        duration=_r(duration, 6),
    )


# --------------------------------------------------------------------------------------------
# Span choice and a whole corpus


def choose_spans(
    rng: np.random.Generator,
    duration: float,
    count: int,
    span_seconds: tuple[float, float] = (3.0, 15.0),
    *,
    popular_spans: Sequence[Span] = (),
    popular_prob: float = 0.0,
) -> list[Span]:
    """``count`` non-overlapping spans inside ``[0, duration]``, sorted by start.

    With probability ``popular_prob`` a span is one of ``popular_spans`` (its ends jittered by
    up to 1 s, as uploaders cut slightly differently), so some scenes are reused more often.
    """
    lo, hi = float(span_seconds[0]), float(span_seconds[1])
    if not (0 < lo <= hi):
        raise SimulationError(f"span_seconds: {span_seconds!r} must be 0 < min <= max")
    if duration < lo:
        raise SimulationError(f"span_seconds: source ({duration:.1f} s) shorter than {lo} s")
    chosen: list[Span] = []
    for _ in range(200 * max(1, count)):
        if len(chosen) >= count:
            break
        if popular_spans and rng.random() < popular_prob:
            a, b = popular_spans[int(rng.integers(len(popular_spans)))]
            a = a + rng.uniform(-1.0, 1.0)
            b = b + rng.uniform(-1.0, 1.0)
            a, b = max(0.0, a), min(duration, b)
        else:
            length = rng.uniform(lo, min(hi, duration))
            a = rng.uniform(0.0, duration - length)
            b = a + length
        a, b = round(float(a), 2), round(float(b), 2)
        if b - a < 0.5 or b > duration:
            continue
        if any(a < y and x < b for x, y in chosen):
            continue
        chosen.append((a, b))
    if len(chosen) < count:
        raise SimulationError(f"spans_per_clip: cannot fit {count} spans in {duration:.1f} s")
    return sorted(chosen)


def _pick_platform(rng: np.random.Generator, vertical: bool) -> str:
    if vertical:
        return str(_pick(rng, ("tiktok", "youtube", "instagram", "tiktok")))
    return str(_pick(rng, _PLATFORMS))


def simulate_derivatives(
    sources: Mapping[str, PathLike],
    out_dir: PathLike,
    *,
    families: Sequence[str] = FAMILIES,
    per_family: int = 3,
    spans_per_clip: tuple[int, int] = (1, 3),
    span_seconds: tuple[float, float] = (3.0, 15.0),
    seed: int = 0,
    titles: Mapping[str, str] | None = None,
    popular_spans: Mapping[str, Sequence[Span]] | Sequence[Span] | None = None,
    popular_prob: float = 0.5,
    off_topic: int = 0,
    off_topic_source: PathLike | None = None,
    pip_background: PathLike | None = None,
    fps: float | None = None,
    num_workers: int = 1,
    show_progress: bool = True,
) -> SimulationResult:
    """Simulate ``per_family`` derivatives per family and source into ``out_dir``.

    Writes ``videos/<clip_id>.mp4``, ``derivatives.csv`` (the build's derivatives manifest,
    paths relative to it) and ``ground_truth.jsonl``. A seed fixes every span and parameter.
    ``titles`` maps source ids to film names used in the clip titles (default: the id).
    ``popular_spans`` (one list for every source, or per source id) are reused with
    probability ``popular_prob`` per span. ``off_topic`` clips come from ``off_topic_source``
    (default: the cached ``iscc_mp4`` live-music sample) with off-topic titles and no segments.
    ``pip``'s background is ``pip_background``, else the off-topic video, else another source;
    a flat colour when there is none. ``num_workers > 1`` encodes clips in a process pool
    (same output: every clip depends only on the seed and its id).
    """
    from tvhighlights.video import probe

    if not sources:
        raise SimulationError("sources: no source videos given")
    for f in families:
        _check_family(f)
    if per_family < 0 or off_topic < 0:
        raise SimulationError("per_family/off_topic: counts must be >= 0")
    kmin, kmax = int(spans_per_clip[0]), int(spans_per_clip[1])
    if not (1 <= kmin <= kmax):
        raise SimulationError(f"spans_per_clip: {spans_per_clip!r} must be 1 <= min <= max")
    out = Path(out_dir)
    videos = out / "videos"
    videos.mkdir(parents=True, exist_ok=True)
    infos = {sid: probe(p) for sid, p in sources.items()}
    off_path: Path | None = None
    if off_topic:
        if off_topic_source is None:
            from tvhighlights.samples import sample_path

            off_path = sample_path("iscc_mp4")
        else:
            off_path = Path(off_topic_source)
        off_info = probe(off_path)

    # plan every clip first (cheap, deterministic), then encode
    jobs: list[dict[str, Any]] = []
    for sid, path in sources.items():
        info = infos[sid]
        film = (titles or {}).get(sid) or _film_name(sid)
        if isinstance(popular_spans, Mapping):
            pop = list(popular_spans.get(sid, ()))
        else:
            pop = list(popular_spans or ())
        others = [Path(p) for s, p in sources.items() if s != sid]
        bg = (
            Path(pip_background)
            if pip_background is not None
            else off_path or (others[0] if others else None)
        )
        for family in families:
            for j in range(per_family):
                clip_id = f"{sid}_{family}_{j:02d}"
                rng = _rng_for(seed, clip_id)
                k = int(rng.integers(kmin, kmax + 1))
                spans = choose_spans(
                    rng,
                    info.duration,
                    k,
                    span_seconds,
                    popular_spans=pop,
                    popular_prob=popular_prob,
                )
                platform = _pick_platform(rng, family == "vertical")
                n_pop = sum(any(a < y and x < b for x, y in pop) for a, b in spans)
                engagement = int(rng.lognormal(8.0 + 0.8 * n_pop, 1.2))
                jobs.append(
                    dict(clip_id=clip_id, path=Path(path), source_id=sid, spans=spans,
                         family=family, title=_title(rng, film, platform), platform=platform,
                         engagement=engagement, background=bg)
                )  # fmt: skip
    if off_topic and off_path is not None:
        for j in range(off_topic):
            clip_id = f"offtopic_{j:02d}"
            rng = _rng_for(seed, clip_id)
            family = str(_pick(rng, ("reencode", "crop", "colour", "hflip")))
            spans = choose_spans(rng, off_info.duration, 1, span_seconds)
            jobs.append(
                dict(clip_id=clip_id, path=off_path, source_id=None, spans=spans, family=family,
                     title=str(_pick(rng, _OFF_TOPIC_TITLES)),
                     platform=str(_pick(rng, _PLATFORMS)),
                     engagement=int(rng.lognormal(6.0, 1.5)), background=None)
            )  # fmt: skip

    def call(job: dict[str, Any]) -> tuple[Callable[..., SimulatedDerivative], tuple, dict]:
        args = (job["path"], job["source_id"], job["spans"], videos / f"{job['clip_id']}.mp4")
        kw = dict(family=job["family"], seed=seed, fps=fps, title=job["title"],
                  background=job["background"], platform=job["platform"],
                  engagement=job["engagement"])  # fmt: skip
        return simulate_derivative, args, kw

    made: list[SimulatedDerivative] = []
    with tqdm(total=len(jobs), disable=not show_progress, unit="clip", desc="simulate") as bar:
        if num_workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                fn, args, kw = call(job)
                made.append(fn(*args, **kw))
                bar.update(1)
        else:
            # one clip per task; x264 threads itself, so a couple of workers fill a small machine
            with ProcessPoolExecutor(max_workers=num_workers) as pool:
                futures = [pool.submit(fn, *args, **kw) for fn, args, kw in map(call, jobs)]
                try:
                    for fut in as_completed(futures):
                        fut.result()
                        bar.update(1)
                except BaseException:
                    for fut in futures:
                        fut.cancel()
                    raise
                made = [f.result() for f in futures]

    manifest = out / "derivatives.csv"
    with atomic_write(manifest) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["clip_id", "path", "title", "platform", "engagement"])
        for d in made:
            rel = d.path.relative_to(out).as_posix()
            w.writerow([d.clip_id, rel, d.title, d.platform, d.engagement])
    gt = out / "ground_truth.jsonl"
    rows = []
    for d in made:
        row = d.to_dict()
        row["path"] = d.path.relative_to(out).as_posix()
        row["platform"], row["engagement"] = d.platform, d.engagement
        rows.append(row)
    write_jsonl(gt, rows)
    logger.info("simulated %d derivatives into %s", len(made), out)
    return SimulationResult(
        out_dir=out, manifest=manifest, ground_truth=gt, derivatives=tuple(made)
    )


def read_ground_truth(path: PathLike) -> list[dict[str, Any]]:
    """The lines of a ``ground_truth.jsonl`` (paths stay relative to its folder)."""
    from tvhighlights.errors import InputFormatError
    from tvhighlights.fileio import read_jsonl_objects

    rows, problems = read_jsonl_objects(path)
    for lineno, row in rows:
        for key in ("clip_id", "family", "segments"):
            if key not in row:
                problems.append(f"line {lineno}: missing {key!r}")
    if problems:
        raise InputFormatError(path, problems, what="simulation ground truth")
    return [row for _, row in rows]
