"""What every part of the simulator shares: output settings, seeded draws, sizes, caption
texts and titles (private to :mod:`tvhighlights.build.simulate`)."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFont

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
    "zoom",
    "combo",
    "compilation",
)
"""Transformation families, in the order :func:`simulate_derivatives` makes them. New
families go at the end (each clip's generator is keyed by its id, so the order changes no
draw, but the listing stays stable)."""

COMPONENTS = ("reencode", "crop", "hflip", "vertical", "overlay", "colour", "speed", "pip")
"""Families that ``mixed`` combines (2 or 3 of them, at most one layout: vertical or pip).
Frozen: ``mixed`` draws an index into it, so a new entry would change its draws."""

ALL_COMPONENTS = (*COMPONENTS, "zoom")
"""Every component a family's ``params["components"]`` may name."""

ORDER = ("speed", "crop", "zoom", "hflip", "colour", "vertical", "pip", "overlay", "reencode")
"""Order in which components act: time, then the film picture, then layout, then captions."""

SPAN_TRANSFORMS = ("plain", "hflip", "zoom", "vertical", "crop", "colour")
"""What one span of a ``compilation`` may get (each span its own, as long as they last)."""

LANDSCAPE_WIDTH = 640
"""Output width of landscape families (height follows the source's aspect ratio)."""

AUDIO_RATE = 44100
"""Output audio sample rate (mono AAC)."""

DEFAULT_CRF = 26
PRESET = "veryfast"
X264_THREADS = 1
X264_PARAMS = "mbtree=0"
"""Settings that make x264's output bytes repeat (see :mod:`tvhighlights.video.writer`). One
thread is no slower on these small frames (decoding runs alongside);
``simulate_derivatives(num_workers=...)`` uses more cores."""

Size = tuple[int, int]
Span = tuple[float, float]
PathLike = str | Path


def even_size(x: float) -> int:
    """Nearest even integer >= 2 (yuv420p needs even sizes)."""
    return max(2, round(x / 2.0) * 2)


def landscape_size(width: int, height: int, target_width: int = LANDSCAPE_WIDTH) -> Size:
    """Output size of landscape families: ``target_width`` wide (never upscaled), same aspect."""
    w = even_size(min(target_width, width))
    return w, even_size(w * height / width)


def resize(frame: np.ndarray, size: Size, resample: int = Image.BILINEAR) -> np.ndarray:
    if (frame.shape[1], frame.shape[0]) == tuple(size):
        return frame
    return np.asarray(Image.fromarray(frame).resize(size, resample))


def load_font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Pillow's bundled scalable font (no system fonts needed)."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ValueError, OSError):  # pragma: no cover - Pillow without FreeType
        return ImageFont.load_default()


def rng_for(seed: int, key: str) -> np.random.Generator:
    """A generator that depends only on the corpus seed and a stable key (the clip id)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(key.encode())]))


def pick(rng: np.random.Generator, items: Sequence[Any]) -> Any:
    return items[int(rng.integers(len(items)))]


def rounded(x: float, nd: int = 3) -> float:
    return float(round(float(x), nd))


def fps_fraction(fps: float) -> Fraction:
    return Fraction(fps).limit_denominator(1001)


# --------------------------------------------------------------------------------------------
# Text for captions and titles

MEME_TOP = ("WHEN THE BUNNY", "NOBODY:", "ME AT 3AM", "POV: YOU", "THIS SCENE", "WAIT FOR IT")
MEME_BOTTOM = (
    "GETS REVENGE",
    "ABSOLUTE LEGEND",
    "I CAN'T STOP LAUGHING",
    "THE ANIMATION THO",
    "10/10 WOULD WATCH AGAIN",
    "HE DIDN'T SEE IT COMING",
)
SUBTITLES = (
    "Watch what happens next...",
    "The best part of the movie",
    "This is why I love this film",
    "Part 2 coming soon",
    "He really said that",
    "Nobody expected this ending",
)
HANDLES = ("@clipsdaily", "@movieshorts", "@toonvault", "FilmFlash", "@best.scenes", "CineCuts")
PIP_TEXT = ("REACTING TO", "MY FAVOURITE SCENE", "MUST WATCH", "CLIP OF THE DAY")
PLATFORMS = ("youtube", "tiktok", "bilibili", "instagram")
TITLES: dict[str, tuple[str, ...]] = {
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
OFF_TOPIC_TITLES = (
    "live concert full set",
    "cooking pasta tutorial",
    "my morning routine vlog",
    "unboxing the new phone",
    "guitar lesson for beginners",
    "street food tour in Bangkok",
    "football highlights 2023",
    "how to fix a leaky faucet",
)


def clip_title(rng: np.random.Generator, film: str, platform: str) -> str:
    tag = "".join(ch for ch in film.lower() if ch.isalnum()) or "movie"
    return str(pick(rng, TITLES[platform])).format(film=film, tag=tag)


def film_name(source_id: str) -> str:
    return source_id.replace("_", " ").replace("-", " ").strip().title() or source_id
