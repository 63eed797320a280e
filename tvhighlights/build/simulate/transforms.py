"""Turning drawn parameters into frames: sizes, the chain of per-frame operations, the source
frames of a span at any speed, backgrounds, fades and time-scaled audio."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from ...errors import SimulationError
from ...video import iter_frames, probe, read_frames
from ._common import DEFAULT_CRF, Size, even_size, landscape_size, load_font, resize


@dataclass
class Plan:
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
    return even_size(film[0] / (1.0 - fraction)), even_size(film[1] / (1.0 - fraction))


def _crop_op(p: Mapping[str, Any], out: Size) -> Callable[[np.ndarray, int], np.ndarray]:
    frac = float(p["fraction"])

    def op(frame: np.ndarray, _k: int) -> np.ndarray:
        h, w = frame.shape[:2]
        cw, ch = min(w, out[0]), min(h, out[1])
        if (w, h) != _crop_size(out, frac):  # decoded at another size: crop the fraction
            cw, ch = max(2, round(w * (1 - frac))), max(2, round(h * (1 - frac)))
        x0 = round((w - cw) * float(p["x"]))
        y0 = round((h - ch) * float(p["y"]))
        return resize(np.ascontiguousarray(frame[y0 : y0 + ch, x0 : x0 + cw]), out)

    return op


def _zoom_op(keep: float, out: Size) -> Callable[[np.ndarray, int], np.ndarray]:
    """A centred zoom: the middle ``keep`` of the frame enlarged to ``out``. At the decode size
    :func:`make_plan` picks the centre is exactly ``out`` (FFmpeg scaled while decoding)."""

    def op(frame: np.ndarray, _k: int) -> np.ndarray:
        h, w = frame.shape[:2]
        cw, ch = min(w, out[0]), min(h, out[1])
        if (w, h) != _crop_size(out, 1.0 - keep):  # decoded at another size: take the centre
            cw, ch = max(2, round(w * keep)), max(2, round(h * keep))
        x0, y0 = (w - cw) // 2, (h - ch) // 2
        return resize(np.ascontiguousarray(frame[y0 : y0 + ch, x0 : x0 + cw]), out)

    return op


def _centre_op(out: Size) -> Callable[[np.ndarray, int], np.ndarray]:
    """The frame centred on a black ``out`` canvas (a vertical clip in a landscape one)."""
    W, H = out

    def op(frame: np.ndarray, _k: int) -> np.ndarray:
        h, w = frame.shape[:2]
        if (w, h) == (W, H):
            return frame
        if w > W or h > H:
            s = min(W / w, H / h)
            frame = resize(frame, (even_size(w * s), even_size(h * s)))
            h, w = frame.shape[:2]
        canvas = np.zeros((H, W, 3), dtype=np.uint8)
        x0, y0 = (W - w) // 2, (H - h) // 2
        canvas[y0 : y0 + h, x0 : x0 + w] = frame
        return canvas

    return op


def _vertical_op(p: Mapping[str, Any], band: Size) -> Callable[[np.ndarray, int], np.ndarray]:
    """The Shorts/Reels layout: the film in a middle band; above and below, black or a blurred
    copy of the same frame scaled to fill the canvas (centred), its brightness times
    ``darken`` (1.0: not darkened)."""
    W, H = int(p["width"]), int(p["height"])
    bw, bh = band
    x0, y0 = (W - bw) // 2, (H - bh) // 2
    gain = np.uint16(round(256 * float(p.get("darken", 0.5))))
    blur = p.get("background", "blur") == "blur"

    def op(frame: np.ndarray, _k: int) -> np.ndarray:
        film = resize(frame, band)
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
        font = load_font(size)
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
        lf = load_font(max(8, px // 2))
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
    pw = even_size(W * float(p["scale"]))
    ph = even_size(pw * H / W)
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
            canvas = resize(background(k), out).copy()
        else:
            canvas = flat.copy()
        if border:
            canvas[
                max(0, y0 - border) : y0 + ph + border, max(0, x0 - border) : x0 + pw + border
            ] = 255
        canvas[y0 : y0 + ph, x0 : x0 + pw] = resize(frame, (pw, ph))
        return canvas

    return op


def make_plan(
    params: Mapping[str, Any],
    src_size: Size,
    *,
    size: Size | None,
    background: Callable[[int], np.ndarray] | None,
) -> Plan:
    """Turn drawn parameters into sizes and the ordered chain of frame operations."""
    names = list(params["components"])
    sw, sh = src_size
    canvas = landscape_size(sw, sh)
    if "reencode" in names:
        hh = min(int(params["reencode"]["height"]), sh)  # a re-upload never adds pixels
        canvas = (even_size(hh * sw / sh), even_size(hh))
    if "vertical" in names:
        canvas = (int(params["vertical"]["width"]), int(params["vertical"]["height"]))
    if size is not None:
        canvas = (int(size[0]), int(size[1]))
        if "vertical" in names:
            params["vertical"]["width"], params["vertical"]["height"] = canvas
    # where the film picture ends up, and the size it is decoded at
    if "vertical" in names:
        bw = even_size(canvas[0] * float(params["vertical"].get("band_width", 1.0)))
        film = (bw, even_size(bw * sh / sw))
    elif "pip" in names:
        film = _pip_geometry(params["pip"], canvas)[0]
    else:
        film = canvas
    # a zoom keeps the centre of what the crop kept: both are slices of the decoded frame
    keep = float(params["zoom"]["keep"]) if "zoom" in names else 1.0
    zoomed = _crop_size(film, 1.0 - keep) if "zoom" in names else film
    decode = _crop_size(zoomed, float(params["crop"]["fraction"])) if "crop" in names else zoomed
    ops: list[Callable[[np.ndarray, int], np.ndarray]] = []
    if "crop" in names:
        ops.append(_crop_op(params["crop"], zoomed))
    if "zoom" in names:
        ops.append(_zoom_op(keep, film))
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
    return Plan(
        speed=speed,
        decode_size=decode,
        out_size=canvas,
        crf=crf,
        fade=float(enc.get("fade", 0.0)),
        ops=ops,
        needs_background="pip" in names and params["pip"].get("background") == "video",
    )


def make_plans(
    params: Mapping[str, Any],
    src_size: Size,
    n_spans: int,
    *,
    size: Size | None,
    background: Callable[[int], np.ndarray] | None,
) -> list[Plan]:
    """One plan per span: the same for every span, except in a ``compilation`` (``"spans"`` in
    ``params``), where each span has its own transform on the shared canvas (the landscape
    size or ``size``). A vertical span is its own 9:16 layout as tall as the canvas, centred
    between black bars, as a vertical clip shows in a landscape one."""
    if "spans" not in params:
        plan = make_plan(params, src_size, size=size, background=background)
        return [plan] * n_spans
    spans = params["spans"]
    canvas = size if size is not None else landscape_size(*src_size)
    canvas = (int(canvas[0]), int(canvas[1]))
    plans = []
    for span in spans:
        sp = {**span, "encode": params.get("encode", {})}
        if "vertical" in span.get("components", ()):
            inner = (min(canvas[0], even_size(canvas[1] * 9 / 16)), canvas[1])
            sp["vertical"]["width"], sp["vertical"]["height"] = inner  # kept in the params
            plan = make_plan(sp, src_size, size=inner, background=None)
            plan.ops.append(_centre_op(canvas))
            plan.out_size = canvas
        else:
            plan = make_plan(sp, src_size, size=canvas, background=None)
        plans.append(plan)
    return plans


# --------------------------------------------------------------------------------------------
# Decoding the spans


def source_frames(
    path: Path, start: float, n: int, step: float, src_fps: float, size: Size
) -> Iterator[np.ndarray]:
    """The ``n`` source frames on screen at ``start + k * step``: decode the span once at the
    source's own rate and pick (repeating frames for slow motion, skipping for fast)."""

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


def background_frames(
    path: Path, total: float, fps: float, size: Size, offset: float
) -> tuple[Callable[[int], np.ndarray], float]:
    """A callable ``k -> frame`` giving the background video's frame for output frame ``k``,
    starting at ``offset`` (a fraction of the room left) and looping when the video is short."""

    info = probe(path)
    room = max(0.0, info.duration - total)
    start = room * min(max(offset, 0.0), 1.0)
    # decode at a size that covers ``size`` (aspect kept), then take the centre
    scale = max(size[0] / info.width, size[1] / info.height)
    cover = (
        max(size[0], even_size(info.width * scale)),
        max(size[1], even_size(info.height * scale)),
    )
    end = min(info.duration, start + total)
    _, arr = read_frames(path, fps, size=cover, start=start, end=end)
    x0, y0 = (cover[0] - size[0]) // 2, (cover[1] - size[1]) // 2
    arr = arr[:, y0 : y0 + size[1], x0 : x0 + size[0]]
    if len(arr) == 0:
        raise SimulationError(f"background: no frames decoded from {path}")

    def get(k: int) -> np.ndarray:
        return arr[k % len(arr)]

    return get, start


def fade_gain(k: int, n: int, fade_frames: int, first: bool, last: bool) -> float:
    """Brightness gain for a fade through black at the joints between segments."""
    g = 1.0
    if fade_frames > 0:
        if not first:
            g = min(g, (k + 0.5) / fade_frames)
        if not last:
            g = min(g, (n - k - 0.5) / fade_frames)
    return max(0.0, min(1.0, g))


def timescale(audio: np.ndarray, n_out: int) -> np.ndarray:
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
