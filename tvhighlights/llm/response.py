"""JSON out of an LLM's answer, however it came back (no torch, no network).

Small and reasoning models wrap their JSON: ``<think>`` blocks (DeepSeek-R1 distills), code
fences, prose before and after, or an answer cut off by ``max_tokens``. Servers such as
``transformers serve`` ignore ``response_format``, so strict JSON cannot be asked for; it has
to be found. :func:`json_values` finds every JSON value in an answer, repairing a truncated
one; :func:`parse_json_answer` takes the first of the wanted kind or says what it could not
parse.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import LLMResponseError

__all__ = ["json_values", "parse_json_answer", "strip_reasoning"]

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_OPEN_THINK = re.compile(r"<think>.*", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_CLOSERS = {"[": "]", "{": "}"}


def strip_reasoning(text: str) -> str:
    """The answer without its ``<think>...</think>`` blocks (an unclosed one runs to the end:
    the answer was cut off while the model was still thinking)."""
    text = _THINK.sub(" ", text)
    return _OPEN_THINK.sub(" ", text) if "</think>" not in text.lower() else text


def _repair_truncated(fragment: str) -> Any:
    """The value a JSON text cut off mid-way starts: open strings and brackets closed, or cut
    back to the last complete element. ``None`` when nothing sensible remains."""
    stack: list[str] = []
    in_string = escaped = False
    last_comma: tuple[int, list[str]] | None = None
    for i, ch in enumerate(fragment):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "[{":
            stack.append(ch)
        elif ch in "]}":
            if not stack or _CLOSERS[stack[-1]] != ch:
                return None
            stack.pop()
            if not stack:
                return None  # a complete value: not truncated, and not valid JSON either
        elif ch == ",":
            last_comma = (i, list(stack))
    if not stack:
        return None
    tries = [fragment + ('"' if in_string else "") + "".join(_CLOSERS[c] for c in reversed(stack))]
    if last_comma is not None:
        i, open_then = last_comma
        tries.append(fragment[:i] + "".join(_CLOSERS[c] for c in reversed(open_then)))
    for attempt in tries:
        try:
            return json.loads(attempt)
        except json.JSONDecodeError:
            continue
    return None


def json_values(text: str, *, repair: bool = True) -> list[Any]:
    """Every JSON object or list in ``text``: reasoning removed, fenced blocks first, then
    anywhere in the prose, in order; with ``repair``, a value cut off at the end is closed (or
    cut back to its last complete element) and stands for the pieces found inside it."""
    if not isinstance(text, str):
        return []
    text = strip_reasoning(text)
    sources = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    decoder = json.JSONDecoder()
    fenced: list[Any] = []
    loose: list[tuple[int, Any]] = []  # (start, value) in the whole text
    first_open: int | None = None
    for src in sources:
        pos = 0
        for m in re.finditer(r"[\[{]", src):
            if m.start() < pos:
                continue  # inside a value already decoded
            try:
                value, end = decoder.raw_decode(src, m.start())
            except json.JSONDecodeError:
                if src is text and first_open is None:
                    first_open = m.start()
                continue
            if src is text:
                loose.append((m.start(), value))
            else:
                fenced.append(value)
            pos = end
    if repair and first_open is not None and not fenced:
        value = _repair_truncated(text[first_open:])
        if value is not None:  # the values inside the cut-off one are parts of it
            loose = [(p, v) for p, v in loose if p < first_open] + [(first_open, value)]
    return fenced + [v for _, v in loose]


def parse_json_answer(text: str, kind: type | None = dict) -> Any:
    """The first JSON value of ``kind`` (``dict``, ``list`` or ``None`` for either) in an LLM
    answer; :class:`LLMResponseError` quoting the start of the answer when there is none."""
    if not isinstance(text, str) or not text.strip():
        raise LLMResponseError("the LLM answer is empty")
    for value in json_values(text):
        if kind is None or isinstance(value, kind):
            return value
    what = {dict: "JSON object", list: "JSON list"}.get(kind, "JSON value")
    snippet = " ".join(strip_reasoning(text).split())[:200] or " ".join(text.split())[:200]
    raise LLMResponseError(f"no {what} in the LLM answer: {snippet!r}")
