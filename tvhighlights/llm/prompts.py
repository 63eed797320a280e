"""Prompts as versioned files: ``prompts/<name>.v<N>.md`` beside this module.

A file holds a ``## system`` and a ``## user`` section; ``$name`` placeholders are filled by
:meth:`Prompt.render` (``string.Template``, so JSON braces in the text need no escaping). The
version is part of every cache key: editing a prompt means a new file with the next version,
and the old answers are then asked again while nothing else is.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import cache
from importlib import resources

from ..errors import InvalidArgumentError
from .base import Message

__all__ = ["Prompt", "load_prompt", "prompt_names"]

_FILE = re.compile(r"^(?P<name>[a-z0-9_]+)\.v(?P<version>\d+)\.md$")
_SECTION = re.compile(r"^## (system|user)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Prompt:
    name: str
    version: int
    system: str
    user: str

    @property
    def id(self) -> str:
        """``name@version``, the prompt's part of a cache key."""
        return f"{self.name}@{self.version}"

    def placeholders(self) -> set[str]:
        found = set()
        for text in (self.system, self.user):
            for m in string.Template.pattern.finditer(text):
                name = m.group("named") or m.group("braced")
                if name:
                    found.add(name)
        return found

    def render(self, **values: object) -> list[Message]:
        """The chat messages with every ``$placeholder`` filled; a missing or unknown value is
        an :class:`InvalidArgumentError` naming it and the prompt file."""
        wanted = self.placeholders()
        missing, extra = wanted - set(values), set(values) - wanted
        if missing or extra:
            raise InvalidArgumentError(
                f"prompt {self.id}: "
                + "; ".join(
                    s
                    for s in (
                        f"missing value(s) {sorted(missing)}" if missing else "",
                        f"unknown value(s) {sorted(extra)}" if extra else "",
                    )
                    if s
                )
            )
        text = {k: str(v) for k, v in values.items()}
        out: list[Message] = []
        if self.system.strip():
            out.append({"role": "system", "content": string.Template(self.system).substitute(text)})
        out.append({"role": "user", "content": string.Template(self.user).substitute(text)})
        return out


def _files() -> dict[str, dict[int, str]]:
    found: dict[str, dict[int, str]] = {}
    for entry in resources.files(__package__).joinpath("prompts").iterdir():
        m = _FILE.match(entry.name)
        if m:
            found.setdefault(m["name"], {})[int(m["version"])] = entry.name
    return found


def prompt_names() -> dict[str, list[int]]:
    """Every prompt and its versions."""
    return {k: sorted(v) for k, v in sorted(_files().items())}


@cache
def load_prompt(name: str, version: int | None = None) -> Prompt:
    """The prompt ``name`` at ``version`` (default: the newest)."""
    files = _files()
    if name not in files:
        raise InvalidArgumentError(
            f"no prompt {name!r}; known: {', '.join(sorted(files))}", param="prompt"
        )
    versions = files[name]
    v = max(versions) if version is None else int(version)
    if v not in versions:
        raise InvalidArgumentError(
            f"prompt {name!r} has no version {v}; known: {sorted(versions)}", param="prompt"
        )
    filename = versions[v]
    text = resources.files(__package__).joinpath("prompts", filename).read_text("utf-8")
    parts = _SECTION.split(text)
    sections = {parts[i]: parts[i + 1].strip("\n") for i in range(1, len(parts) - 1, 2)}
    if "user" not in sections:
        raise InvalidArgumentError(f"prompt file {filename}: no '## user' section")
    return Prompt(name, v, sections.get("system", ""), sections["user"])
