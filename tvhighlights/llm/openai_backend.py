"""Any OpenAI-compatible chat server: vLLM, llama.cpp's ``llama-server``, Ollama,
``transformers serve``, or OpenAI itself.

One non-streamed ``POST {base_url}/chat/completions`` per call through the ``openai`` client
(imported when a backend is made, so this module imports without it). The client's own
retries are off: :class:`~tvhighlights.llm.client.LLMClient` retries, so every retry is
counted and backed off in one place. Failures become
:class:`~tvhighlights.errors.LLMCallError`, retryable for timeouts, refused or reset
connections and HTTP 408 / 409 / 429 / 5xx (what the ``openai`` client itself would retry),
not retryable for other HTTP errors and answers that are not a chat completion.

``model`` may be empty: the request then names no model, which ``transformers serve`` (pinned
to its folder; it answers 400 to any other name), llama.cpp and vLLM serving one model all
accept. Ollama needs the name (``llama3:8b``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ..errors import LLMCallError
from .base import ChatBackend, Message

__all__ = ["RETRYABLE_STATUS", "OpenAIBackend"]

RETRYABLE_STATUS = frozenset({408, 409, 429})
"""HTTP statuses worth another try besides 5xx (the ``openai`` client's own choice)."""


def _detail(error: Any) -> str:
    """The server's own words from an HTTP error: OpenAI's ``error.message``, FastAPI's
    ``detail``, or the start of the body."""
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            msg = inner.get("message") or inner.get("detail")
            if msg:
                return str(msg)
        if body.get("detail"):
            return str(body["detail"])
    if isinstance(body, str) and body.strip():
        return " ".join(body.split())[:200]
    return str(getattr(error, "message", "") or error)


class OpenAIBackend(ChatBackend):
    """Chat completions from the server at ``base_url`` (ending in ``/v1`` for most servers).

    The API key comes from ``api_key``, else ``$OPENAI_API_KEY``, else ``$TVH_LLM_API_KEY``,
    else ``"EMPTY"`` (local servers ignore it). ``timeout`` is per request, in seconds.
    """

    kind = "openai"
    supports_images = True

    def __init__(
        self,
        base_url: str,
        model: str = "",
        *,
        timeout: float = 60.0,
        api_key: str | None = None,
    ) -> None:
        try:
            import openai
        except ImportError as e:
            raise LLMCallError(
                "the openai backend needs the openai package: `pip install 'openai>=1.40'` "
                "(or `pip install tvhighlights[llm]`)"
            ) from e
        self.where = base_url.rstrip("/")
        self.model = model or ""
        self.timeout = float(timeout)
        self._openai = openai
        key = (
            api_key
            or os.environ.get("OPENAI_API_KEY")
            or os.environ.get("TVH_LLM_API_KEY")
            or "EMPTY"
        )
        self._client = openai.OpenAI(
            base_url=self.where, api_key=key, timeout=self.timeout, max_retries=0
        )

    def _what(self) -> str:
        model = f"model {self.model!r}" if self.model else "the served model"
        return f"LLM server {self.where} ({model})"

    def chat(
        self, messages: Sequence[Message], *, max_tokens: int = 512, temperature: float = 0.0
    ) -> str:
        """The first choice's text; ``""`` when the server sent no content."""
        oa = self._openai
        try:
            response = self._client.chat.completions.create(
                model=self.model or oa.omit,
                messages=list(messages),  # type: ignore[arg-type]
                max_tokens=int(max_tokens),
                temperature=float(temperature),
            )
        except oa.APITimeoutError as e:
            raise LLMCallError(
                f"{self._what()}: no answer within {self.timeout:g} s", retryable=True
            ) from e
        except oa.APIConnectionError as e:
            cause = e.__cause__ or e
            raise LLMCallError(
                f"{self._what()}: connection failed ({type(cause).__name__}: {cause})",
                retryable=True,
            ) from e
        except oa.APIStatusError as e:
            code = e.status_code
            retryable = code >= 500 or code in RETRYABLE_STATUS
            raise LLMCallError(
                f"{self._what()}: HTTP {code}: {_detail(e)}", retryable=retryable
            ) from e
        except (oa.OpenAIError, ValueError, TypeError) as e:  # bad JSON, a body of another shape
            raise LLMCallError(
                f"{self._what()}: not a chat completion ({type(e).__name__}: {e})"
            ) from e
        return self._text(response)

    def _text(self, response: Any) -> str:
        choices = getattr(response, "choices", None)
        if not choices:
            snippet = " ".join(str(response).split())[:200]
            raise LLMCallError(f"{self._what()}: the answer has no choices: {snippet!r}")
        message = getattr(choices[0], "message", None)
        content = getattr(message, "content", None)
        if content is None:
            return ""
        if isinstance(content, list):  # a few servers return content parts
            return "".join(
                str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content
            )
        return str(content)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()
