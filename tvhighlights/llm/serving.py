"""``transformers serve`` for a local folder, on 127.0.0.1, for as long as a block runs.

An OpenAI-compatible server from the transformers wheel (``pip install
"transformers[serving]"``): the benchmark's real chain, the tests and a user without vLLM or
Ollama all start it the same way. The server is pinned to its folder: a request that names
another model gets HTTP 400, so a backend names the folder (:attr:`ServedFolder.model`) or no
model at all.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import LLMCallError

__all__ = ["ServedFolder", "free_port", "transformers_serve"]


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class ServedFolder:
    """A running ``transformers serve``: ``base_url`` ends in ``/v1`` (what the ``openai``
    client takes); ``model`` is the string requests may name (the folder's path)."""

    base_url: str
    model: str
    seconds_to_start: float

    def spec(self, *, with_model: bool = True) -> str:
        """The backend spec for :func:`tvhighlights.llm.get_llm` (``openai:URL[:MODEL]``)."""
        return f"openai:{self.base_url}" + (f":{self.model}" if with_model else "")


def _tail(path: Path, n: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""


@contextlib.contextmanager
def transformers_serve(
    folder: str | Path,
    port: int | None = None,
    *,
    timeout: float = 90.0,
    extra_args: Sequence[str] = (),
) -> Iterator[ServedFolder]:
    """Run ``transformers serve FOLDER --host 127.0.0.1 --port P --device cpu`` until the block
    ends; yields a :class:`ServedFolder` once ``/health`` answers.

    Offline (``HF_HUB_OFFLINE=1``) with ``HF_HUB_CACHE`` set to an existing temporary folder
    (without one, ``/v1/models`` answers 500). Fails with the server's stderr tail when it
    exits or is not healthy within ``timeout`` seconds; kills it (and waits) afterwards.
    ``extra_args`` go to ``transformers serve`` as they are (``["--dtype", "float32"]``).
    """
    folder = str(Path(folder).resolve())
    port = port or free_port()
    exe = Path(sys.executable).with_name("transformers")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "transformers.cli.transformers"]
    cmd += [
        "serve", folder, "--host", "127.0.0.1", "--port", str(port), "--device", "cpu",
        "--log-level", "warning", *extra_args,
    ]  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="tvh-serve-"))
    (work / "hub").mkdir()
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_CACHE": str(work / "hub"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    log = work / "server.log"
    base = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        while True:
            if proc.poll() is not None:
                raise LLMCallError(
                    f"transformers serve {folder} exited with {proc.returncode}:\n{_tail(log)}"
                )
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.perf_counter() - t0 > timeout:
                raise LLMCallError(
                    f"transformers serve {folder} not healthy after {timeout:.0f} s:\n{_tail(log)}"
                )
            time.sleep(0.25)
        yield ServedFolder(f"{base}/v1", folder, time.perf_counter() - t0)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
