"""The offline describer: a clip described in words from what was measured on it.

No captioning weights ship in any package, so the loop runs offline on these instead: the
handcrafted extractor's loudness, motion, cut rate, shot changes and Silero VAD speech ratio
(:mod:`tvhighlights.features.handcrafted`), each said both absolutely ("loud, -14 LUFS") and
against the rest of its video ("louder than most of the video"). The words are plain cues an
LLM can reason about; the numbers stay in, so nothing measured is hidden behind a word.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from tqdm import tqdm

from .describer import ClipToDescribe

__all__ = ["CUE_COLUMNS", "SignalsDescriber", "describe_cues"]

CUE_COLUMNS = (
    "lufs",
    "rms_db_max",
    "onset_rate",
    "speech_ratio",
    "silence_ratio",
    "motion_mean",
    "cut_rate",
    "hist_change_max",
    "luma_mean",
    "saturation_mean",
)
"""The handcrafted columns a description uses (audio and visual)."""


def _relative(value: float, typical: float | None, scale: float, more: str, less: str) -> str:
    """``more`` / ``less`` than the rest of the video when the gap exceeds ``scale``."""
    if typical is None or math.isnan(typical):
        return ""
    if value - typical > scale:
        return f", {more} than most of the video"
    if typical - value > scale:
        return f", {less} than most of the video"
    return ""


def describe_cues(cues: Mapping[str, float], context: Mapping[str, float] | None = None) -> str:
    """One clip's description from its cue columns (missing columns are left out)."""
    ctx = context or {}
    parts: list[str] = []

    def has(name: str) -> bool:
        v = cues.get(name)
        return v is not None and not math.isnan(float(v))

    if has("lufs"):
        lufs = float(cues["lufs"])
        if lufs <= -70:
            level = "silent"
        elif lufs <= -35:
            level = "quiet"
        elif lufs <= -20:
            level = "moderate sound"
        else:
            level = "loud"
        parts.append(
            f"{level} ({lufs:.0f} LUFS{_relative(lufs, ctx.get('lufs'), 6, 'louder', 'quieter')})"
        )
    if has("onset_rate") and float(cues["onset_rate"]) >= 4:
        parts.append(f"busy sound, {float(cues['onset_rate']):.1f} onsets/s (impacts, drums)")
    if has("speech_ratio"):
        s = float(cues["speech_ratio"])
        if s >= 0.6:
            parts.append(f"people talking ({s:.0%} speech)")
        elif s >= 0.2:
            parts.append(f"some speech ({s:.0%})")
        elif has("lufs") and float(cues["lufs"]) > -35:
            parts.append("no speech: music or effects")
        else:
            parts.append("no speech")
    if has("motion_mean"):
        m = float(cues["motion_mean"])
        word = (
            "still picture"
            if m < 0.01
            else "little motion"
            if m < 0.03
            else "moving picture"
            if m < 0.07
            else "fast motion"
        )
        parts.append(
            f"{word} ({m:.3f}{_relative(m, ctx.get('motion_mean'), 0.02, 'more motion', 'calmer')})"
        )
    if has("cut_rate"):
        cuts = float(cues["cut_rate"]) * 2  # per second -> per 2-s clip
        if cuts >= 2:
            parts.append(f"rapid cutting ({cuts:.0f} cuts)")
        elif cuts >= 1:
            parts.append("a cut")
        elif has("hist_change_max") and float(cues["hist_change_max"]) > 0.4:
            parts.append("a sudden change of picture")
        else:
            parts.append("one continuous shot")
    if has("luma_mean"):
        y = float(cues["luma_mean"])
        if y < 0.15:
            parts.append("dark")
        elif y > 0.6:
            parts.append("bright")
    if has("saturation_mean") and float(cues["saturation_mean"]) > 0.5:
        parts.append("vivid colours")
    return ("; ".join(parts) + ".") if parts else "nothing measured."


class SignalsDescriber:
    """Describes clips from their measured cues (``ClipToDescribe.cues``); needs the
    handcrafted extractor's features, no model and no network."""

    name = "signals"
    version = "1"

    def describe(
        self, clips: Sequence[ClipToDescribe], *, show_progress: bool = False
    ) -> list[str | None]:
        out: list[str | None] = []
        for c in tqdm(clips, desc="describe (signals)", unit="clip", disable=not show_progress):
            out.append(describe_cues(c.cues, c.context) if c.cues else None)
        return out
