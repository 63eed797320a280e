"""The annotators file: names and scrypt password hashes, never a password in plain text.

A JSON object ``{"version": 1, "annotators": {name: {"scrypt": hex, "salt": hex, "n": N,
"r": r, "p": p}}}``, written atomically by :func:`add_annotator`
(``tvhighlights annotations add-user``) and checked by :class:`Annotators` (the app's
``auth=``), with a constant-time comparison.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AnnotatorsFileError, InvalidArgumentError
from ..fileio import write_json
from .store import check_annotator_name

logger = logging.getLogger(__name__)

__all__ = ["Annotators", "add_annotator", "hash_password"]

_N, _R, _P = 2**14, 8, 1  # scrypt cost: ~16 MiB and tens of ms per check
_FIELDS = ("scrypt", "salt", "n", "r", "p")


def hash_password(password: str, salt: bytes | None = None, *, n: int = _N, r: int = _R,
                  p: int = _P) -> dict[str, Any]:  # fmt: skip
    """The stored form of ``password``: its scrypt hash, the salt and the cost parameters."""
    if not isinstance(password, str) or not password:
        raise InvalidArgumentError("the password must be a non-empty string", param="password")
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32)
    return {"scrypt": digest.hex(), "salt": salt.hex(), "n": n, "r": r, "p": p}


def _read(path: Path) -> dict[str, dict[str, Any]]:
    """``{name: stored hash}``, every problem of the file reported at once."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AnnotatorsFileError(path, ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise AnnotatorsFileError(path, [f"cannot read: {e}"]) from e
    except json.JSONDecodeError as e:
        raise AnnotatorsFileError(path, [f"line {e.lineno}: not JSON ({e.msg})"]) from e
    users = data.get("annotators") if isinstance(data, dict) else None
    if not isinstance(users, dict):
        raise AnnotatorsFileError(path, ["expected an object with an 'annotators' object"])
    problems = []
    for name, entry in users.items():
        try:
            check_annotator_name(name)
        except InvalidArgumentError as e:
            problems.append(f"annotator {name!r}: {e}")
            continue
        if not isinstance(entry, dict) or any(k not in entry for k in _FIELDS):
            problems.append(f"annotator {name!r}: expected the fields {', '.join(_FIELDS)}")
            continue
        try:
            bytes.fromhex(entry["scrypt"])
            bytes.fromhex(entry["salt"])
            if not all(type(entry[k]) is int and entry[k] > 0 for k in ("n", "r", "p")):
                raise ValueError("n, r and p must be integers > 0")
        except (ValueError, TypeError) as e:
            problems.append(f"annotator {name!r}: bad hash fields ({e})")
    if problems:
        raise AnnotatorsFileError(path, problems)
    return users


def add_annotator(path: str | Path, name: str, password: str) -> Path:
    """Add ``name`` (or change their password) in the annotators file, creating it if needed."""
    path = Path(path)
    check_annotator_name(name)
    users = _read(path) if path.exists() else {}
    users[name] = hash_password(password)
    write_json(path, {"version": 1, "annotators": dict(sorted(users.items()))})
    return path


@dataclass
class Annotators:
    """The annotators of a file; ``annotators(name, password)`` is gradio's ``auth=`` check."""

    path: Path

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self.users = _read(self.path)
        if not self.users:
            raise AnnotatorsFileError(self.path, ["no annotators: add one with add-user"])

    @property
    def names(self) -> list[str]:
        return sorted(self.users)

    def __call__(self, name: str, password: str) -> bool:
        """Whether ``password`` is ``name``'s (a wrong or unknown name is just ``False``)."""
        entry = self.users.get(name) if isinstance(name, str) else None
        if entry is None or not isinstance(password, str) or not password:
            logger.warning("sign-in refused for %r", name)
            return False
        salt = bytes.fromhex(entry["salt"])
        got = hash_password(password, salt, n=entry["n"], r=entry["r"], p=entry["p"])["scrypt"]
        ok = hmac.compare_digest(got, entry["scrypt"])
        if not ok:
            logger.warning("sign-in refused for %r: wrong password", name)
        return ok
