"""Every LLM call's answer on disk, so a rerun or a resumed round costs nothing.

One JSONL file, one line per call, appended and fsynced as each answer arrives: a killed run
loses at most the call in flight. Keys hash (backend, model, prompt version, input), so a new
prompt version or model asks again while everything else is reused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

from ..fileio import append_jsonl, read_jsonl_objects

logger = logging.getLogger(__name__)

__all__ = ["CallCache", "call_key"]


def call_key(backend: str, model: str, prompt_version: str, payload: Any) -> str:
    """sha256 of the call's identity; ``payload`` is any JSON value (messages, images' hashes)."""
    blob = json.dumps([backend, model, prompt_version, payload], sort_keys=True,
                      ensure_ascii=False, separators=(",", ":"))  # fmt: skip
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class CallCache:
    """Answers by :func:`call_key`, read from ``path`` at start and appended to as calls finish.

    Lines that cannot be read (a line torn by a kill) are skipped and counted in
    :attr:`skipped`; the next append starts on a new line. Thread-safe.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._answers: dict[str, str] = {}
        self._lock = threading.Lock()
        self.skipped = 0
        self.hits = 0
        self.misses = 0
        if self.path.exists():
            rows, problems = read_jsonl_objects(self.path)
            for _, row in rows:
                if isinstance(row.get("key"), str) and isinstance(row.get("answer"), str):
                    self._answers[row["key"]] = row["answer"]
                else:
                    problems.append("a line without 'key' and 'answer'")
            self.skipped = len(problems)
            if problems:
                logger.warning("%s: %d unreadable line(s) skipped (%s)", self.path,
                               len(problems), problems[0])  # fmt: skip

    def __len__(self) -> int:
        return len(self._answers)

    def __contains__(self, key: str) -> bool:
        return key in self._answers

    def get(self, key: str) -> str | None:
        with self._lock:
            answer = self._answers.get(key)
            if answer is None:
                self.misses += 1
            else:
                self.hits += 1
            return answer

    def put(self, key: str, answer: str, **meta: Any) -> None:
        """Keep ``answer`` and make it durable before returning; ``meta`` (model, seconds, ...)
        is stored beside it for the record."""
        row = {"key": key, "answer": answer, "time": round(time.time(), 3), **meta}
        with self._lock:
            append_jsonl(self.path, [row])
            self._answers[key] = answer
