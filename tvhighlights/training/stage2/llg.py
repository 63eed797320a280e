"""LLG: LLM-guided label generation (the seed's first step of each round).

Each clip's description goes, with its neighbours and the video's title, into a
chain-of-thought prompt (``prompts/llg_score``): infer the genre, reason about intensity,
score every clip at 0.1 steps. The scores are ``Y_llm``; merged with the current model's
confident predictions they are ``Y_n``, the noisy labels NLC learns from. A long video is
asked about in chunks of ``clips_per_call`` clips (one call each).

Everything an LLM answers is checked: a missing clip, a score out of [0, 1] or an answer that
is not JSON leaves that clip without an LLM label (counted, never guessed), and a genre outside
the known list falls back to the catalogue's.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import LLMResponseError, TVHighlightsError
from ...llm.prompts import load_prompt
from ...llm.response import json_values

__all__ = [
    "GENRES",
    "LLGAnswer",
    "LLGScores",
    "LLGVideo",
    "chunks",
    "format_patterns",
    "llg_messages",
    "llg_scores",
    "merge_with_model",
    "normalise_genre",
    "parse_llg_answer",
    "snap",
]

GENRES = (
    "action",
    "adventure",
    "animation",
    "comedy",
    "crime",
    "documentary",
    "drama",
    "family",
    "fantasy",
    "historical",
    "horror",
    "musical",
    "mystery",
    "romance",
    "sci-fi",
    "thriller",
    "war",
    "western",
)
"""Genres the prompt offers (the dataset's own genres are added)."""

_SYNONYMS = {
    "science fiction": "sci-fi",
    "scifi": "sci-fi",
    "sf": "sci-fi",
    "history": "historical",
    "period": "historical",
    "costume": "historical",
    "animated": "animation",
    "cartoon": "animation",
    "romantic": "romance",
    "suspense": "thriller",
    "martial arts": "action",
    "wuxia": "action",
    "music": "musical",
    "detective": "crime",
}


def normalise_genre(value: Any, known: Sequence[str]) -> str | None:
    """``value`` as one of ``known`` (case, spaces, a few synonyms), or ``None``."""
    if not isinstance(value, str):
        return None
    g = " ".join(value.lower().replace("_", " ").replace("-", " ").split())
    g = _SYNONYMS.get(g, g)
    lookup = {" ".join(k.lower().replace("-", " ").split()): k for k in known}
    if g in lookup:
        return lookup[g]
    g2 = g.replace(" ", "-")
    return next((k for k in known if k.lower() == g2), None)


def snap(score: float) -> float:
    """A score rounded to the seed's 0.1 steps (halves up, as a person reads 0.05)."""
    return round(math.floor(float(score) * 10 + 0.5 + 1e-9) / 10, 1)


def chunks(num_clips: int, size: int) -> list[tuple[int, int]]:
    """``[a, b)`` clip ranges of at most ``size`` clips covering ``num_clips``."""
    return [(a, min(a + size, num_clips)) for a in range(0, num_clips, size)]


def format_patterns(patterns: Mapping[str, Sequence[str]] | None) -> str:
    """The patterns block of the prompt."""
    hl = list((patterns or {}).get("highlight", []))
    nh = list((patterns or {}).get("non_highlight", []))
    if not hl and not nh:
        return "No highlight patterns are known yet for this genre."
    lines = ["Highlight patterns for this genre:"]
    lines += [f"- {p}" for p in hl] or ["- (none)"]
    lines.append("Non-highlight patterns for this genre:")
    lines += [f"- {p}" for p in nh] or ["- (none)"]
    return "\n".join(lines)


def _clock(seconds: float) -> str:
    s = round(float(seconds))
    return f"{s // 60}:{s % 60:02d}"


def llg_messages(
    title: str,
    genre_hint: str | None,
    descriptions: Sequence[str | None],
    first_clip_start: float,
    patterns: Mapping[str, Sequence[str]] | None,
    genres: Sequence[str],
) -> list[dict[str, Any]]:
    """One call's messages: the clips numbered from 1 with their times in the video."""
    lines = []
    for i, d in enumerate(descriptions):
        a = first_clip_start + 2 * i
        text = d if d else "(no description)"
        lines.append(f"clip {i + 1} ({_clock(a)}-{_clock(a + 2)}): {' '.join(text.split())}")
    return load_prompt("llg_score").render(
        title=title or "(untitled)",
        genre_hint=genre_hint or "unknown",
        patterns=format_patterns(patterns),
        clips="\n".join(lines),
        num_clips=len(descriptions),
        genres=", ".join(genres),
    )


@dataclass
class LLGAnswer:
    """What one answer gave: per-clip scores (NaN where unusable), the genre, the problems."""

    scores: np.ndarray
    genre: str | None = None
    problems: Counter = field(default_factory=Counter)


_NUMBER = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(%)?\s*$")


def _score(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        x = float(value)
    elif isinstance(value, str) and (m := _NUMBER.match(value)):
        x = float(m.group(1)) / (100 if m.group(2) else 1)
    else:
        return None
    return x if math.isfinite(x) else None


def parse_llg_answer(text: str, num_clips: int, genres: Sequence[str]) -> LLGAnswer:
    """Scores for clips 1..``num_clips`` and the genre from an LLG answer.

    Accepted: ``{"genre", "scores": [s1, s2, ...]}`` (the prompt's form: clip order; numbers
    past ``num_clips`` are dropped and counted), ``"scores"`` as ``[{"clip": i, "score": s}]``
    or a ``{"1": s}`` mapping, or a bare list. Scores are snapped to
    0.1; one outside [0, 1] is dropped and counted (``out of range``), as are clips the answer
    skips (``missing clip``). Raises :class:`LLMResponseError` when no scores are found.
    """
    out = LLGAnswer(np.full(num_clips, np.nan))
    values = json_values(text)
    obj = next((v for v in values if isinstance(v, dict) and "scores" in v), None)
    if obj is None:
        obj = next((v for v in values if isinstance(v, dict)), None)
    raw: Any = obj.get("scores") if isinstance(obj, dict) else None
    if raw is None:
        raw = next((v for v in values if isinstance(v, list)), None)
    if raw is None:
        snippet = " ".join(str(text).split())[:160]
        raise LLMResponseError(f"no clip scores in the LLG answer: {snippet!r}")
    if isinstance(obj, dict):
        g = obj.get("genre")
        out.genre = normalise_genre(g, genres)
        if g is not None and out.genre is None:
            out.problems["unknown genre"] += 1
    pairs: list[tuple[Any, Any]] = []
    if isinstance(raw, dict):
        pairs = list(raw.items())
    elif isinstance(raw, list):
        if not any(isinstance(item, dict) for item in raw) and len(raw) > num_clips:
            out.problems["extra scores"] += len(raw) - num_clips
            raw = raw[:num_clips]
        for i, item in enumerate(raw, start=1):
            if isinstance(item, dict):
                pairs.append((item.get("clip", item.get("index", i)), item.get("score")))
            else:
                pairs.append((i, item))
    for clip, value in pairs:
        idx = _score(clip)
        if idx is None or idx != int(idx) or not 1 <= int(idx) <= num_clips:
            out.problems["unknown clip"] += 1
            continue
        s = _score(value)
        if s is None:
            out.problems["not a number"] += 1
        elif not 0.0 <= s <= 1.0:
            out.problems["out of range"] += 1
        else:
            out.scores[int(idx) - 1] = snap(s)
    missing = int(np.isnan(out.scores).sum())
    if missing:
        out.problems["missing clip"] += missing
    return out


def merge_with_model(
    y_llm: np.ndarray,
    model_scores: np.ndarray | None,
    *,
    low: float | None,
    high: float | None,
    model_weight: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """``Y_n`` from ``Y_llm`` and the model's confident predictions, and a weight per clip.

    Where the model scores at or above ``high`` (or at or below ``low``) it is confident: its
    hard label (1 or 0) joins the LLM's score with ``model_weight``, or stands alone where the
    LLM gave none. Clips with neither get weight 0 (left out of training, never guessed).
    """
    y = np.asarray(y_llm, dtype=np.float64).copy()
    has_llm = ~np.isnan(y)
    weight = has_llm.astype(np.float64)
    if model_scores is not None and low is not None and high is not None:
        s = np.asarray(model_scores, dtype=np.float64)
        hard = np.where(s >= high, 1.0, np.where(s <= low, 0.0, np.nan))
        conf = ~np.isnan(hard)
        both = conf & has_llm
        y[both] = (1 - model_weight) * y[both] + model_weight * hard[both]
        only = conf & ~has_llm
        y[only] = hard[only]
        weight[only] = 1.0
    y[weight == 0] = 0.0
    return y, weight


@dataclass(frozen=True)
class LLGVideo:
    """One row to score: its clips' descriptions and what the prompt says about it."""

    video_id: str
    title: str
    genre_hint: str | None
    start: float
    """Seconds into the source where the row's first clip begins (the prompt's clock)."""
    descriptions: Sequence[str | None]
    patterns: Mapping[str, Sequence[str]] | None = None


@dataclass
class LLGScores:
    """What the LLM answered for a set of rows."""

    scores: dict[str, np.ndarray]
    """video_id -> per-clip score in [0, 1] (NaN where no answer gave a usable one)."""
    genres: dict[str, str]
    """video_id -> the genre most of its answers gave (rows whose answers gave one)."""
    problems: Counter


def llg_scores(
    client: Any,
    videos: Sequence[LLGVideo],
    genres: Sequence[str],
    *,
    clips_per_call: int = 12,
    max_tokens: int | None = None,
    show_progress: bool = False,
    desc: str = "LLG",
) -> LLGScores:
    """Every clip of ``videos`` scored by ``client`` (a
    :class:`~tvhighlights.llm.client.LLMClient`), ``clips_per_call`` clips per call: LLG's
    ``Y_llm``, and the LLM clip-scoring baseline. Failed calls and unusable answers leave
    their clips NaN and are counted in ``problems``."""
    prompt = load_prompt("llg_score")
    requests, where = [], []
    for v in videos:
        n = len(v.descriptions)
        for a, b in chunks(n, clips_per_call):
            requests.append(
                llg_messages(v.title or v.video_id, v.genre_hint, v.descriptions[a:b],
                             v.start + 2 * a, v.patterns, genres)
            )  # fmt: skip
            where.append((v.video_id, a, b))
    results = client.ask_many(
        requests, prompt.id, max_tokens=max_tokens, show_progress=show_progress, desc=desc
    )
    problems: Counter = Counter()
    y = {v.video_id: np.full(len(v.descriptions), np.nan) for v in videos}
    votes: dict[str, Counter] = {}
    for (vid, a, b), r in zip(where, results, strict=True):
        if not r.ok:
            problems["LLG call failed"] += 1
            continue
        try:
            ans = parse_llg_answer(r.answer or "", b - a, genres)
        except TVHighlightsError:
            problems["LLG answer unusable"] += 1
            continue
        problems.update(ans.problems)
        y[vid][a:b] = ans.scores
        if ans.genre:
            votes.setdefault(vid, Counter())[ans.genre] += 1
    inferred = {vid: c.most_common(1)[0][0] for vid, c in votes.items()}
    return LLGScores(y, inferred, problems)
