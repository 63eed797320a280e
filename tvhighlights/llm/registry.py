"""Every LLM backend by one spec string, as a user writes it on the command line.

Forms (:data:`SPEC_FORMS`):

- ``openai:URL[:MODEL]``: an OpenAI-compatible server. ``URL`` is ``http[s]://HOST[:PORT]
  [/PATH]`` (``/v1`` when no path is given); ``MODEL`` is everything after the URL's next
  ``:``, so Ollama's ``llama3:8b`` works; no model (``openai:http://127.0.0.1:8000/v1``)
  asks whatever the server serves (``transformers serve`` wants exactly that, or its folder).
- ``transformers:PATH``: a local transformers folder (``transformers:smollm2`` is the
  packaged SmolLM2-135M-Instruct, :func:`~tvhighlights.llm.packaged.packaged_llm_path`).
- for describers only, ``signals``: the offline describer of measured cues.

:func:`get_backend` makes the backend, :func:`get_llm` puts it behind the cache and retries
(:class:`~tvhighlights.llm.client.LLMClient`), :func:`get_describer` makes a describer. A
malformed spec is an :class:`~tvhighlights.errors.InvalidArgumentError` listing the forms.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import InvalidArgumentError
from .base import ChatBackend
from .cache import CallCache
from .client import LLMClient
from .describer import Describer
from .openai_backend import OpenAIBackend
from .packaged import PACKAGED_LLM_ALIAS
from .transformers_backend import TransformersBackend

__all__ = ["BACKENDS", "SPEC_FORMS", "get_backend", "get_describer", "get_llm", "parse_spec"]

BACKENDS: dict[str, type[ChatBackend]] = {
    "openai": OpenAIBackend,
    "transformers": TransformersBackend,
}
"""Backend classes by the spec's first word."""

SPEC_FORMS = (
    "openai:http[s]://HOST[:PORT][/PATH][:MODEL] (e.g. openai:http://127.0.0.1:8000/v1, "
    "openai:http://localhost:11434/v1:llama3:8b)",
    "transformers:PATH (a local model folder; transformers:smollm2 is the packaged SmolLM2)",
)
"""What :func:`parse_spec` accepts, for error messages and help texts."""

_URL = re.compile(
    r"^(?P<url>https?://(?:\[[^\]/]+\]|[^/:\s]+)(?::(?P<port>\d+))?(?P<path>/[^:\s]*)?)"
    r"(?::(?P<model>.*))?$"
)


def _bad(spec: object, why: str, param: str) -> InvalidArgumentError:
    forms = "; ".join(SPEC_FORMS)
    return InvalidArgumentError(f"LLM spec {spec!r}: {why}; the forms are: {forms}", param=param)


def parse_spec(spec: str, *, param: str = "llm") -> tuple[str, str, str]:
    """``(kind, where, model)`` of a backend spec: ``("openai", base URL, model or "")`` or
    ``("transformers", path, "")``. A URL without a path gets ``/v1``."""
    if not isinstance(spec, str) or not spec.strip():
        raise _bad(spec, "empty", param)
    spec = spec.strip()
    kind, sep, rest = spec.partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in BACKENDS:
        known = ", ".join(sorted(BACKENDS))
        raise _bad(spec, f"unknown backend {kind!r} (known: {known})", param)
    rest = rest.strip()
    if kind == "transformers":
        if not rest:
            raise _bad(spec, "no model folder after 'transformers:'", param)
        return kind, rest, ""
    m = _URL.match(rest)
    if m is None:
        raise _bad(spec, f"{rest!r} is not an http(s) URL optionally followed by ':MODEL'", param)
    url = m["url"]
    if not m["path"]:
        url += "/v1"
    return kind, url.rstrip("/"), (m["model"] or "").strip()


def get_backend(
    spec: str, *, timeout: float = 60.0, device: str = "cpu", param: str = "llm"
) -> ChatBackend:
    """The backend a spec names (nothing loads and nothing connects yet). A local folder
    that does not exist is an :class:`InvalidArgumentError` now, not at the first call."""
    kind, where, model = parse_spec(spec, param=param)
    if kind == "openai":
        if timeout <= 0:
            raise InvalidArgumentError(f"LLM timeout must be > 0 s, got {timeout}", param=param)
        return OpenAIBackend(where, model, timeout=timeout)
    if where != PACKAGED_LLM_ALIAS and not (Path(where).expanduser() / "config.json").is_file():
        raise _bad(
            spec, f"{where} is not a transformers model folder (no config.json there)", param
        )
    path = where if where == PACKAGED_LLM_ALIAS else str(Path(where).expanduser())
    return TransformersBackend(path, device=device)


def get_llm(
    spec: str,
    *,
    cache: str | Path | CallCache | None = None,
    retries: int = 3,
    backoff: float = 1.0,
    concurrency: int = 4,
    timeout: float = 60.0,
    max_tokens: int = 512,
    device: str = "cpu",
    param: str = "llm",
) -> LLMClient:
    """The backend a spec names behind the call cache (a JSONL path, a :class:`CallCache`,
    or None), ``retries`` with exponential ``backoff`` and ``concurrency`` calls at once."""
    backend = get_backend(spec, timeout=timeout, device=device, param=param)
    return LLMClient(backend, cache, retries=retries, backoff=backoff, concurrency=concurrency,
                     max_tokens=max_tokens)  # fmt: skip


def get_describer(
    spec: str,
    *,
    cache: str | Path | CallCache | None = None,
    retries: int = 3,
    backoff: float = 1.0,
    concurrency: int = 4,
    timeout: float = 60.0,
    max_tokens: int = 512,
    device: str = "cpu",
    num_frames: int = 4,
) -> Describer:
    """``signals`` (offline, from measured cues) or a VLM describer over any backend that
    takes images; a text-only backend is an :class:`InvalidArgumentError` (``describer``)."""
    if isinstance(spec, str) and spec.strip().lower() == "signals":
        from .signals import SignalsDescriber

        return SignalsDescriber()
    client = get_llm(spec, cache=cache, retries=retries, backoff=backoff,
                     concurrency=concurrency, timeout=timeout, max_tokens=max_tokens,
                     device=device, param="describer")  # fmt: skip
    if not client.backend.supports_images:
        raise InvalidArgumentError(
            f"describer {spec!r}: {client.backend.where} is a text-only model; describing "
            "clips needs a vision-language model (LLaVA, Qwen2-VL, ... in a local folder or "
            "behind an OpenAI-compatible server), or 'signals' for the offline describer",
            param="describer",
        )
    from .vlm import VLMDescriber

    return VLMDescriber(client, num_frames=num_frames)
