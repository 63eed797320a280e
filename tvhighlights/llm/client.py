"""What every LLM call goes through: the cache, retries with backoff, bounded concurrency,
and a count of everything that went wrong.

A backend (:class:`~tvhighlights.llm.base.ChatBackend`) makes one call; the client decides
whether it is needed (the :class:`~tvhighlights.llm.cache.CallCache` may have the answer),
tries again after a retryable failure (exponential backoff with jitter), runs up to
``concurrency`` calls at once, and records answers as they arrive, so a killed run loses only
the calls in flight.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..errors import InvalidArgumentError, LLMCallError
from .base import ChatBackend, Message, message_fingerprint
from .cache import CallCache, call_key

logger = logging.getLogger(__name__)

__all__ = ["CallResult", "CallStats", "LLMClient"]


@dataclass
class CallResult:
    """One request's outcome: ``answer`` or ``error`` (the call failed after its retries)."""

    answer: str | None
    error: str | None = None
    cached: bool = False

    @property
    def ok(self) -> bool:
        return self.answer is not None


@dataclass
class CallStats:
    """Counts for a round report: calls made, answers reused, retries, failures by kind."""

    requests: int = 0
    cached: int = 0
    calls: int = 0
    retries: int = 0
    failures: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "cached": self.cached,
            "calls": self.calls,
            "retries": self.retries,
            "failures": dict(self.failures),
            "seconds": round(self.seconds, 3),
        }


class LLMClient:
    """A backend behind the call cache, retries and a thread pool.

    ``retries`` further tries follow a retryable failure, waiting ``backoff * 2**i`` seconds
    (+-25 % jitter, at most ``max_backoff``); a non-retryable one fails the request at once.
    ``cache`` is a path (a JSONL file) or a :class:`CallCache`; ``None`` keeps nothing.
    """

    def __init__(
        self,
        backend: ChatBackend,
        cache: str | Path | CallCache | None = None,
        *,
        retries: int = 3,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        concurrency: int = 4,
        max_tokens: int = 512,
        temperature: float = 0.0,
    ) -> None:
        if retries < 0 or concurrency < 1 or max_tokens < 1 or backoff < 0:
            raise InvalidArgumentError(
                "LLM client: need retries >= 0, concurrency >= 1, max_tokens >= 1 and "
                f"backoff >= 0 (got {retries}, {concurrency}, {max_tokens}, {backoff})",
                param="llm",
            )
        self.backend = backend
        self.cache = cache if isinstance(cache, CallCache) or cache is None else CallCache(cache)
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.concurrency = concurrency
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.stats = CallStats()
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.backend.name

    def key(self, messages: Sequence[Message], prompt_id: str, max_tokens: int) -> str:
        payload = {
            "messages": message_fingerprint(messages),
            "max_tokens": max_tokens,
            "temperature": self.temperature,
        }
        return call_key(
            self.backend.kind, self.backend.model or self.backend.where, prompt_id, payload
        )

    def _count(self, **kw: Any) -> None:
        with self._lock:
            for k, v in kw.items():
                if k == "failure":
                    self.stats.failures[v] += 1
                else:
                    setattr(self.stats, k, getattr(self.stats, k) + v)

    def ask(
        self, messages: Sequence[Message], prompt_id: str, *, max_tokens: int | None = None
    ) -> CallResult:
        """One request: from the cache, or from the backend with retries."""
        max_tokens = max_tokens or self.max_tokens
        key = self.key(messages, prompt_id, max_tokens)
        self._count(requests=1)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self._count(cached=1)
                return CallResult(hit, cached=True)
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                wait = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                time.sleep(wait * random.uniform(0.75, 1.25))
                self._count(retries=1)
            t0 = time.perf_counter()
            try:
                self._count(calls=1)
                answer = self.backend.chat(
                    messages, max_tokens=max_tokens, temperature=self.temperature
                )
            except LLMCallError as e:
                self._count(seconds=time.perf_counter() - t0)
                last = str(e)
                if not e.retryable:
                    break
                logger.info("%s: %s (try %d of %d)", self.name, e, attempt + 1, self.retries + 1)
                continue
            seconds = time.perf_counter() - t0
            self._count(seconds=seconds)
            answer = answer or ""
            if self.cache is not None:
                self.cache.put(
                    key, answer, backend=self.name, prompt=prompt_id, seconds=round(seconds, 3)
                )
            return CallResult(answer)
        self._count(failure="call failed")
        logger.warning("%s: a call failed after %d tries: %s", self.name, self.retries + 1, last)
        return CallResult(None, error=last)

    def ask_many(
        self,
        requests: Sequence[Sequence[Message]],
        prompt_id: str,
        *,
        max_tokens: int | None = None,
        show_progress: bool = False,
        desc: str = "LLM",
        on_result: Callable[[int, CallResult], None] | None = None,
    ) -> list[CallResult]:
        """Every request, up to ``concurrency`` at once, results in request order;
        ``on_result(i, result)`` runs as each one finishes."""
        results: list[CallResult | None] = [None] * len(requests)
        bar = tqdm(total=len(requests), desc=desc, unit="call", disable=not show_progress)

        def run(i: int) -> None:
            r = self.ask(requests[i], prompt_id, max_tokens=max_tokens)
            results[i] = r
            if on_result is not None:
                on_result(i, r)
            bar.update(1)

        try:
            if self.concurrency == 1 or len(requests) <= 1:
                for i in range(len(requests)):
                    run(i)
            else:
                with ThreadPoolExecutor(self.concurrency) as pool:
                    for f in [pool.submit(run, i) for i in range(len(requests))]:
                        f.result()
        finally:
            bar.close()
        return [r if r is not None else CallResult(None, error="not run") for r in results]

    def close(self) -> None:
        self.backend.close()
