"""Small, careful file helpers: atomic writes and line-numbered JSONL reading.

Nothing already written is lost or half-written: every write goes to a temporary file in the
same folder, is flushed and fsynced, then renamed over the target in one step.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import secrets
import shutil
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: appends are not locked
    fcntl = None  # type: ignore[assignment]

from .errors import InvalidArgumentError


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary sibling of ``path`` for writing; rename it over ``path`` on success.

    On any exception the temporary file is removed and ``path`` is left as it was. The
    temporary file is created with the process umask (unlike ``mkstemp``'s 0600).
    """
    if mode not in ("w", "wb"):
        raise InvalidArgumentError(f"atomic_write mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    kwargs = {"encoding": encoding, "newline": "\n"} if mode == "w" else {}
    try:
        with open(tmp, mode.replace("w", "x"), **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def file_digest(path: str | Path, chunk: int = 1 << 20) -> str:
    """sha256 hex digest of a file's bytes (sample checks, cache keys of derived data)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> Path:
    """Write ``rows`` as JSON lines, atomically."""
    with atomic_write(path) as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, allow_nan=False))
            fh.write("\n")
    return Path(path)


def append_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> Path:
    """Append rows as JSON lines and make them durable (flush + fsync) before returning.

    A file whose last line was torn (a process killed mid-write) gets a newline first, so the
    torn line stays one bad line and the new rows stay whole. Writers of the same file take
    turns (an exclusive ``flock`` on POSIX), so two processes appending at once lose nothing.
    NaN is refused (not JSON), before anything is written.
    """
    path = Path(path)
    data = b"".join(
        (json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
        for row in rows
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        if fcntl is not None:  # two processes appending at once take turns
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        fh.seek(0, os.SEEK_END)
        if fh.tell():
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":
                fh.write(b"\n")
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return path


def write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented JSON, atomically (NaN is written as null)."""
    with atomic_write(path) as fh:
        json.dump(_nan_to_none(obj), fh, indent=2, ensure_ascii=False, allow_nan=False)
        fh.write("\n")
    return Path(path)


def _nan_to_none(obj: Any) -> Any:
    if isinstance(obj, float) and obj != obj:
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_nan_to_none(v) for v in obj]
    return obj


def read_jsonl_objects(path: str | Path) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    """Parse a JSONL file into ``(line_number, object)`` pairs and a list of problems.

    Problems name the file's line: invalid JSON, a line that is not an object, a blank line,
    a byte-order mark; or the file itself (missing, a directory, unreadable, not UTF-8). The
    caller raises its own error class on them, usually after adding its own checks.
    """
    path = Path(path)
    if not path.exists():
        return [], ["file not found"]
    if path.is_dir():
        return [], ["is a directory, expected a JSONL file"]
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [], [f"cannot read file: {exc.strerror or exc}"]
    problems: list[str] = []
    if raw.startswith(b"\xef\xbb\xbf"):
        problems.append("line 1: starts with a UTF-8 byte-order mark; save as UTF-8 without BOM")
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return [], [*problems, f"line {line}: not valid UTF-8 ({exc.reason})"]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    rows: list[tuple[int, dict[str, Any]]] = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            problems.append(f"line {lineno}: blank line")
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {lineno}: invalid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(obj, dict):
            problems.append(f"line {lineno}: expected a JSON object, got {type(obj).__name__}")
            continue
        rows.append((lineno, obj))
    if not rows and not problems:
        problems.append("the file is empty")
    return rows, problems


_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def write_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """``np.savez`` with fixed zip timestamps, written atomically: same arrays, same bytes.

    Arrays are stored without pickle, so :func:`numpy.load` reads them with
    ``allow_pickle=False``.
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.asarray(arrays[name]), allow_pickle=False)
    with atomic_write(path, "wb", encoding=None) as fh:
        fh.write(buf.getvalue())
    return Path(path)


def replace_dir(new: str | Path, target: str | Path) -> None:
    """Move the folder ``new`` onto ``target``; the old ``target`` goes only once ``new`` is in
    place, so a crash leaves one complete folder or the other."""
    new, target = Path(new), Path(target)
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)
