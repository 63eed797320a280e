"""HPI: highlight pattern induction, the model teaching the LLM (the seed's third step).

Per genre, the clips the trained model is most confident about, with their descriptions, go
to the LLM, which writes short highlight and non-highlight patterns (``prompts/hpi_patterns``).
Then, as the seed describes: **aggregation** merges patterns whose all-MiniLM-L6-v2 embeddings
are closer than ``merge_threshold`` (the first one written stays), and
**correction** drops contradictions: a highlight pattern too close to a non-highlight one goes
from both lists, then the LLM checks the rest for logic and common sense
(``prompts/hpi_correct``; an unusable answer keeps them all, counted). The patterns of a genre
go into the next round's LLG prompt for videos of that genre. A round's answer replaces the
genre's patterns (the prompt shows the old ones and asks to keep those that still hold); an
unusable answer keeps them.

A cosine threshold separates near-paraphrases only: in the benchmark, synonyms scored
0.44-0.78 and opposites ("loud sound" / "silence") 0.49, so aggregation merges little and the
contradiction rule catches only restatements; the LLM correction pass does the rest.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ...errors import LLMResponseError
from ...llm.client import LLMClient
from ...llm.prompts import load_prompt
from ...llm.response import json_values, parse_json_answer

logger = logging.getLogger(__name__)

__all__ = [
    "GenrePatterns",
    "drop_contradictions",
    "induce_patterns",
    "merge_similar",
    "parse_correction",
    "parse_patterns",
]

MAX_PATTERN_WORDS = 16
MAX_PATTERNS = 12
"""Per list and genre: a prompt with more stops being a summary."""


_TEMPLATE_WORDS = {"pattern", "patterns", "...", "<pattern>"}
"""The answer template's own words: a weak model copies them back (SmolLM2 did)."""


class Embedder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass
class GenrePatterns:
    """A genre's patterns and what happened to the candidates."""

    highlight: list[str] = field(default_factory=list)
    non_highlight: list[str] = field(default_factory=list)
    dropped: list[dict[str, str]] = field(default_factory=list)
    """``{"pattern", "list", "why"}`` for every candidate that did not survive."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "highlight": self.highlight,
            "non_highlight": self.non_highlight,
            "dropped": self.dropped,
        }


def _clean(p: Any) -> str | None:
    if not isinstance(p, str):
        return None
    p = " ".join(p.strip().strip("-*•").split()).rstrip(".")
    if not p or len(p.split()) > MAX_PATTERN_WORDS or p.lower() in _TEMPLATE_WORDS:
        return None
    return p


def parse_patterns(text: str) -> tuple[list[str], list[str]]:
    """``(highlight, non_highlight)`` patterns from an HPI answer."""
    obj = parse_json_answer(text, dict)
    out = []
    for key, alts in (
        ("highlight", ("highlights", "highlight_patterns")),
        (
            "non_highlight",
            ("non_highlights", "non-highlight", "nonhighlight", "non_highlight_patterns"),
        ),
    ):
        raw = next((obj[k] for k in (key, *alts) if k in obj), [])
        if isinstance(raw, str):
            raw = [raw]
        out.append([c for c in (_clean(p) for p in raw if isinstance(raw, list)) if c])
    if not out[0] and not out[1]:
        raise LLMResponseError("the HPI answer has no patterns")
    return out[0], out[1]


def parse_correction(text: str, labels: Sequence[str]) -> set[str]:
    """The labels (``H1``, ``N2``...) an HPI correction answer keeps."""
    known = {lab.upper() for lab in labels}
    for value in json_values(text):
        raw = value.get("keep") if isinstance(value, dict) else value
        if isinstance(raw, list):
            kept = {str(x).strip().upper() for x in raw}
            if kept & known or not raw:
                return kept & known
    raise LLMResponseError("no list of patterns to keep in the HPI correction answer")


def merge_similar(
    patterns: Sequence[str], embedder: Embedder, threshold: float
) -> tuple[list[str], list[dict[str, str]]]:
    """Greedy merge: a pattern within ``threshold`` cosine of an earlier kept one is merged
    into it (the earlier one stays)."""
    unique = list(dict.fromkeys(patterns))
    dropped = [{"pattern": p, "why": "duplicate"} for p in patterns[len(unique) :]]
    if len(unique) < 2:
        return unique, []
    emb = embedder.encode(unique)
    kept: list[int] = []
    for i in range(len(unique)):
        sims = [float(emb[i] @ emb[j]) for j in kept]
        if sims and max(sims) >= threshold:
            j = kept[int(np.argmax(sims))]
            dropped.append({"pattern": unique[i], "why": f"merged into {unique[j]!r}"})
        else:
            kept.append(i)
    return [unique[i] for i in kept], dropped


def drop_contradictions(
    highlight: Sequence[str], non_highlight: Sequence[str], embedder: Embedder, threshold: float
) -> tuple[list[str], list[str], list[dict[str, str]]]:
    """A highlight pattern that means what a non-highlight pattern means contradicts it:
    both go."""
    if not highlight or not non_highlight:
        return list(highlight), list(non_highlight), []
    emb = embedder.encode([*highlight, *non_highlight])
    sims = emb[: len(highlight)] @ emb[len(highlight) :].T
    bad_h = {i for i in range(len(highlight)) if (sims[i] >= threshold).any()}
    bad_n = {j for j in range(len(non_highlight)) if (sims[:, j] >= threshold).any()}
    dropped = [
        {"pattern": highlight[i], "list": "highlight", "why": "contradicts a non-highlight pattern"}
        for i in sorted(bad_h)
    ]
    dropped += [
        {
            "pattern": non_highlight[j],
            "list": "non_highlight",
            "why": "contradicts a highlight pattern",
        }
        for j in sorted(bad_n)
    ]
    return (
        [p for i, p in enumerate(highlight) if i not in bad_h],
        [p for j, p in enumerate(non_highlight) if j not in bad_n],
        dropped,
    )


def _bullets(texts: Sequence[str]) -> str:
    return "\n".join(f"- {' '.join(t.split())}" for t in texts) or "- (none)"


def induce_patterns(
    client: LLMClient,
    examples: Mapping[str, tuple[Sequence[str], Sequence[str]]],
    existing: Mapping[str, GenrePatterns],
    embedder: Embedder,
    *,
    merge_threshold: float = 0.8,
    correct: bool = True,
    show_progress: bool = False,
) -> tuple[dict[str, GenrePatterns], Counter]:
    """New patterns per genre from ``examples[genre] = (highlight descriptions,
    non-highlight descriptions)``; genres without examples keep their ``existing`` patterns.

    Returns the patterns and the problems counted (unusable answers, empty pattern lists)."""
    problems: Counter = Counter()
    prompt = load_prompt("hpi_patterns")
    genres = sorted(examples)
    requests = []
    for g in genres:
        hl, nh = examples[g]
        old = existing.get(g, GenrePatterns())
        known = [f"highlight: {p}" for p in old.highlight]
        known += [f"not a highlight: {p}" for p in old.non_highlight]
        requests.append(
            prompt.render(
                genre=g,
                highlights=_bullets(hl),
                non_highlights=_bullets(nh),
                existing=_bullets(known),
            )
        )
    results = client.ask_many(requests, prompt.id, show_progress=show_progress, desc="HPI")
    out = {g: existing[g] for g in existing if g not in examples}
    corrections: list[tuple[str, list[str], list[str]]] = []
    for g, r in zip(genres, results, strict=True):
        old = existing.get(g, GenrePatterns())
        new_h: list[str] = []
        new_n: list[str] = []
        if not r.ok:
            problems["HPI call failed"] += 1
        else:
            try:
                new_h, new_n = parse_patterns(r.answer or "")
            except LLMResponseError as e:
                empty = "no patterns" in str(e)
                problems["empty patterns" if empty else "HPI answer unusable"] += 1
                logger.info("HPI %s: %s", g, e)
        if not new_h and not new_n:  # nothing usable: the genre keeps what it had
            out[g] = GenrePatterns(list(old.highlight), list(old.non_highlight))
            continue
        # the answer replaces the old lists (the prompt showed them and asked to keep those
        # that still hold), so a pattern the model's evidence no longer supports retires
        retired = [{"pattern": p, "list": name, "why": "not kept by the new answer"}
                   for name, olds, news in (("highlight", old.highlight, new_h),
                                            ("non_highlight", old.non_highlight, new_n))
                   for p in olds if p not in news]  # fmt: skip
        gp = GenrePatterns()
        gp.highlight, d1 = merge_similar(new_h, embedder, merge_threshold)
        gp.non_highlight, d2 = merge_similar(new_n, embedder, merge_threshold)
        gp.dropped = retired + [{**d, "list": "highlight"} for d in d1]
        gp.dropped += [{**d, "list": "non_highlight"} for d in d2]
        gp.highlight, gp.non_highlight, d3 = drop_contradictions(
            gp.highlight, gp.non_highlight, embedder, merge_threshold
        )
        gp.dropped += d3
        for name in ("highlight", "non_highlight"):
            lst = getattr(gp, name)
            gp.dropped += [
                {"pattern": p, "list": name, "why": f"over {MAX_PATTERNS}"}
                for p in lst[MAX_PATTERNS:]
            ]
            setattr(gp, name, lst[:MAX_PATTERNS])
        out[g] = gp
        if correct and (gp.highlight or gp.non_highlight):
            corrections.append((g, gp.highlight, gp.non_highlight))
    if corrections:
        _correct(client, corrections, out, problems, show_progress)
    return out, problems


def _correct(client, corrections, out, problems, show_progress) -> None:
    prompt = load_prompt("hpi_correct")
    requests, label_sets = [], []
    for g, hl, nh in corrections:
        labels = [f"H{i + 1}" for i in range(len(hl))] + [f"N{i + 1}" for i in range(len(nh))]
        lines = [f"{lab}. {p}" for lab, p in zip(labels, [*hl, *nh], strict=True)]
        requests.append(prompt.render(genre=g, patterns="\n".join(lines)))
        label_sets.append(labels)
    results = client.ask_many(
        requests, prompt.id, show_progress=show_progress, desc="HPI correction"
    )
    for (g, hl, nh), labels, r in zip(corrections, label_sets, results, strict=True):
        try:
            if not r.ok:
                raise LLMResponseError(r.error or "call failed")
            keep = parse_correction(r.answer or "", labels)
        except LLMResponseError as e:
            problems["HPI correction unusable"] += 1
            logger.info("HPI correction %s: %s (all patterns kept)", g, e)
            continue
        gp = out[g]
        if not keep:  # "drop everything" is not a correction a round can use
            problems["HPI correction dropped everything"] += 1
            continue
        gp.dropped += [
            {"pattern": p, "list": "highlight", "why": "correction"}
            for i, p in enumerate(hl)
            if f"H{i + 1}" not in keep
        ]
        gp.dropped += [
            {"pattern": p, "list": "non_highlight", "why": "correction"}
            for i, p in enumerate(nh)
            if f"N{i + 1}" not in keep
        ]
        gp.highlight = [p for i, p in enumerate(hl) if f"H{i + 1}" in keep]
        gp.non_highlight = [p for i, p in enumerate(nh) if f"N{i + 1}" in keep]
