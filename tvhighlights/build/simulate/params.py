"""Drawing a derivative's parameters: pure, a seeded generator in, a JSON-ready dict out."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import SimulationError
from ._common import (
    COMPONENTS,
    DEFAULT_CRF,
    FAMILIES,
    HANDLES,
    MEME_BOTTOM,
    MEME_TOP,
    ORDER,
    PIP_TEXT,
    SUBTITLES,
    pick,
    rounded,
)


def _draw_component(name: str, rng: np.random.Generator, *, has_background: bool) -> dict[str, Any]:
    if name == "reencode":
        return {"height": int(pick(rng, (240, 270, 360, 480))), "crf": int(rng.integers(32, 41))}
    if name == "crop":
        return {
            "fraction": rounded(rng.uniform(0.10, 0.25)),
            "x": rounded(rng.uniform(0.0, 1.0)),
            "y": rounded(rng.uniform(0.0, 1.0)),
        }
    if name == "hflip":
        return {}
    if name == "vertical":
        big = bool(rng.random() < 0.25)
        return {
            "width": 720 if big else 540,
            "height": 1280 if big else 960,
            "background": str(pick(rng, ("blur", "black"))),
            "darken": rounded(rng.uniform(0.35, 0.7)),
            "band_width": rounded(rng.uniform(0.9, 1.0)),
        }
    if name == "overlay":
        return {
            "top": str(pick(rng, MEME_TOP)) if rng.random() < 0.6 else "",
            "bottom": str(pick(rng, MEME_BOTTOM + SUBTITLES)),
            "text_colour": str(pick(rng, ("white", "yellow"))),
            "text_scale": rounded(rng.uniform(0.08, 0.13)),
            "logo": str(pick(rng, HANDLES)),
            "corner": str(pick(rng, ("tl", "tr", "bl", "br"))),
            "logo_alpha": rounded(rng.uniform(0.3, 0.6)),
        }
    if name == "colour":
        mode = str(pick(rng, ("adjust", "adjust", "sepia", "grey")))
        return {
            "mode": mode,
            "brightness": rounded(rng.uniform(-0.15, 0.15)),
            "contrast": rounded(rng.uniform(0.7, 1.4)),
            "saturation": rounded(rng.uniform(0.3, 1.7)) if mode == "adjust" else 1.0,
            "hue": rounded(rng.uniform(-40.0, 40.0), 1) if mode == "adjust" else 0.0,
        }
    if name == "speed":
        s = 1.0
        while abs(s - 1.0) < 0.2:
            s = float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
        return {"speed": rounded(s, 2)}
    if name == "pip":
        use_video = has_background and rng.random() < 0.7
        return {
            "scale": rounded(rng.uniform(0.30, 0.50)),
            "x": rounded(rng.uniform(0.0, 1.0)),
            "y": rounded(rng.uniform(0.0, 1.0)),
            "background": "video" if use_video else "flat",
            "background_offset": rounded(rng.uniform(0.0, 1.0)),
            "colour": [int(v) for v in rng.integers(0, 256, size=3)],
            "text": str(pick(rng, PIP_TEXT)),
            "border": int(rng.integers(0, 7)),
        }
    raise SimulationError(f"family: unknown component {name!r}; known: {', '.join(COMPONENTS)}")


def draw_params(
    family: str, rng: np.random.Generator, *, has_background: bool = True
) -> dict[str, Any]:
    """Draw a family's parameters: ``{"components": [...], <component>: {...}, "encode": {...}}``.

    ``mixed`` picks 2 or 3 components with at most one layout (vertical or pip).
    """
    check_family(family)
    if family == "mixed":
        k = int(rng.integers(2, 4))
        names: list[str] = []
        while len(names) < k:
            n = str(pick(rng, COMPONENTS))
            if n in names or (n in ("vertical", "pip") and {"vertical", "pip"} & set(names)):
                continue
            names.append(n)
        names = [n for n in ORDER if n in names]
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


def check_family(family: str) -> None:
    if family not in FAMILIES:
        raise SimulationError(f"family: unknown family {family!r}; known: {', '.join(FAMILIES)}")


# --------------------------------------------------------------------------------------------
# Frame operations built from parameters
