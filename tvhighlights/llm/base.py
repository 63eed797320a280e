"""The one interface every LLM backend implements, and the messages it takes.

A backend turns OpenAI-style chat messages into the answer's text; nothing else. Caching,
retries, backoff and concurrency live once in :class:`~tvhighlights.llm.client.LLMClient`, so
an OpenAI-compatible server, a local transformers model and a simulated LLM behave alike.

Messages are OpenAI chat messages: ``{"role": "system" | "user" | "assistant", "content":
str | list[part]}``, a part being ``{"type": "text", "text": ...}`` or ``{"type": "image_url",
"image_url": {"url": "data:image/jpeg;base64,..."}}`` (the form vLLM, llama.cpp, Ollama and
``transformers serve`` accept).
"""

from __future__ import annotations

import base64
import hashlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

__all__ = ["ChatBackend", "Message", "image_part", "message_fingerprint", "text_of"]

Message = dict[str, Any]


def image_part(jpeg: bytes, mime: str = "image/jpeg") -> dict[str, Any]:
    """An ``image_url`` content part carrying ``jpeg`` inline as base64."""
    data = base64.b64encode(jpeg).decode("ascii")
    return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{data}"}}


def text_of(message: Message) -> str:
    """The text parts of a message, joined (images left out)."""
    content = message.get("content", "")
    if isinstance(content, str):
        return content
    return "\n".join(p.get("text", "") for p in content if p.get("type") == "text")


def message_fingerprint(messages: Sequence[Message]) -> list[Any]:
    """``messages`` as a JSON value for a cache key: inline images replaced by their sha256,
    so a key stays short and the same frames hit the cache whatever their encoding path."""
    out: list[Any] = []
    for m in messages:
        content = m.get("content", "")
        if isinstance(content, list):
            parts = []
            for p in content:
                if p.get("type") == "image_url":
                    url = p.get("image_url", {}).get("url", "")
                    parts.append({"image_sha256": hashlib.sha256(url.encode()).hexdigest()})
                else:
                    parts.append(p)
            content = parts
        out.append({"role": m.get("role"), "content": content})
    return out


class ChatBackend(ABC):
    """Chat messages in, the answer's text out (one call, no retries, no cache).

    ``kind`` names the backend in the registry and in cache keys; ``model`` is the model it
    asks (a served model's name, a local folder); ``where`` says where it runs (a URL, a
    path), for error messages. Raise :class:`~tvhighlights.errors.LLMCallError` with
    ``retryable=True`` for failures worth another try (timeouts, refused connections, HTTP
    429 / 5xx) and ``retryable=False`` for the rest.
    """

    kind: ClassVar[str] = ""
    supports_images: ClassVar[bool] = False

    model: str = ""
    where: str = ""

    @abstractmethod
    def chat(
        self, messages: Sequence[Message], *, max_tokens: int = 512, temperature: float = 0.0
    ) -> str:
        """The answer's text (may be empty)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections or weights."""

    @property
    def name(self) -> str:
        """``kind:where:model``, as a user writes it."""
        return ":".join(p for p in (self.kind, self.where, self.model) if p)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
