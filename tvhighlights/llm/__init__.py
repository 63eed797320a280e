"""LLM backends for stage 2 and the title filter: the parts every backend shares.

:mod:`.response` finds the JSON in an answer (reasoning blocks, code fences, prose, answers
cut off); :mod:`.cache` keeps every call's answer on disk. The backends (OpenAI-compatible
HTTP, local transformers, the offline describer) arrive with stage 2, one module each.
"""

from __future__ import annotations

from .cache import CallCache, call_key
from .response import json_values, parse_json_answer, strip_reasoning

__all__ = ["CallCache", "call_key", "json_values", "parse_json_answer", "strip_reasoning"]
