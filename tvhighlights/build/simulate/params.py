"""Drawing a derivative's parameters: pure, a seeded generator in, a JSON-ready dict out."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import SimulationError
from ._common import (
    ALL_COMPONENTS,
    COMPONENTS,
    DEFAULT_CRF,
    FAMILIES,
    HANDLES,
    MEME_BOTTOM,
    MEME_TOP,
    ORDER,
    PIP_TEXT,
    SPAN_TRANSFORMS,
    SUBTITLES,
    pick,
    rounded,
)

ZOOM_KEEP = (0.60, 0.90)
"""``zoom``: the centred part kept (of the width and of the height), enlarged to the output."""

COMBO_ZOOM_KEEP = (0.75, 0.90)
"""``combo``'s optional zoom, milder: it comes on top of a 10-25 % crop."""

COMBO_ZOOM_PROB = 0.5

CROP_ANCHORS = ((0.0, 0.0), (0.5, 0.0), (1.0, 0.0), (0.0, 0.5), (1.0, 0.5), (0.0, 1.0),
                (0.5, 1.0), (1.0, 1.0))  # fmt: skip
"""Corner and edge positions (x, y) an off-centre crop snaps to half the time."""

PIP_ANCHORS = ((0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (0.5, 0.5))
"""The four corners and the centre, where a picture-in-picture goes half the time."""

PIP_SCALE = (0.25, 0.60)
"""Picture-in-picture widths (of the canvas) when it snaps to an anchor."""


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
    if name == "zoom":
        return {"keep": rounded(rng.uniform(*ZOOM_KEEP))}
    raise SimulationError(f"family: unknown component {name!r}; known: {', '.join(ALL_COMPONENTS)}")


def _draw_extras(name: str, p: dict[str, Any], rng: np.random.Generator) -> None:
    """Draws added to a component after its first release, made after every other draw of a
    derivative so that the values drawn before them stay what they were for a given seed.

    ``crop``: half the time the crop snaps to a corner or an edge (``x``, ``y`` in 0, 0.5, 1).
    ``vertical``: a third of the blurred backgrounds are not darkened (``darken`` is the gain
    of the background's brightness: 1.0 keeps it). ``pip``: half the time the picture is
    25-60 % wide, in a corner or the centre.
    """
    if name == "crop" and rng.random() < 0.5:
        p["x"], p["y"] = pick(rng, CROP_ANCHORS)
    if name == "vertical" and p.get("background") == "blur" and rng.random() < 1 / 3:
        p["darken"] = 1.0
    if name == "pip" and rng.random() < 0.5:
        p["scale"] = rounded(rng.uniform(*PIP_SCALE))
        p["x"], p["y"] = pick(rng, PIP_ANCHORS)


def _draw_span(kind: str, rng: np.random.Generator) -> dict[str, Any]:
    """One span of a ``compilation``: ``{"transform": kind, "components": [...], ...}``."""
    names = [] if kind == "plain" else [kind]
    span: dict[str, Any] = {"transform": kind, "components": names}
    for n in names:
        span[n] = _draw_component(n, rng, has_background=False)
    return span


def draw_params(
    family: str, rng: np.random.Generator, *, has_background: bool = True, n_spans: int = 1
) -> dict[str, Any]:
    """Draw a family's parameters: ``{"components": [...], <component>: {...}, "encode": {...}}``.

    ``mixed`` picks 2 or 3 components with at most one layout (vertical or pip). ``combo`` is
    crop + mirror + captions, half the time with a zoom. ``compilation`` has no components of
    its own but ``"spans"``: one ``{"transform", "components", <component>: {...}}`` per span
    (``n_spans`` of them), each span a different transform of :data:`SPAN_TRANSFORMS` (as long
    as they last), joined by hard cuts (no fade).
    """
    check_family(family)
    spans: list[dict[str, Any]] | None = None
    if family == "compilation":
        if n_spans < 1:
            raise SimulationError(f"n_spans: a compilation needs at least one span, got {n_spans}")
        kinds: list[str] = []
        while len(kinds) < n_spans:
            kinds.extend(SPAN_TRANSFORMS[int(i)] for i in rng.permutation(len(SPAN_TRANSFORMS)))
        spans = [_draw_span(kind, rng) for kind in kinds[:n_spans]]
        names = []
    elif family == "combo":
        names = ["crop", "hflip", "overlay"]
        if rng.random() < COMBO_ZOOM_PROB:
            names.insert(1, "zoom")
    elif family == "mixed":
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
        if n == "zoom" and family == "combo":
            params[n] = {"keep": rounded(rng.uniform(*COMBO_ZOOM_KEEP))}
        else:
            params[n] = _draw_component(n, rng, has_background=has_background)
    if spans is not None:
        params["spans"] = spans
    params["encode"] = {
        "crf": DEFAULT_CRF,
        "fade": 0.5 if rng.random() < 0.3 else 0.0,
    }
    if spans is not None:
        params["encode"]["fade"] = 0.0  # hard cuts
    for n in names:
        _draw_extras(n, params[n], rng)
    for span in spans or ():
        for n in span["components"]:
            _draw_extras(n, span[n], rng)
    return params


def check_family(family: str) -> None:
    if family not in FAMILIES:
        raise SimulationError(f"family: unknown family {family!r}; known: {', '.join(FAMILIES)}")


# --------------------------------------------------------------------------------------------
# Frame operations built from parameters
