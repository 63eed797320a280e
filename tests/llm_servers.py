"""OpenAI-compatible servers for tests, both on 127.0.0.1 and offline.

``serve_folder`` is the library's :func:`tvhighlights.llm.serving.transformers_serve`.

- :func:`serve_folder`: a real ``transformers serve FOLDER`` subprocess (the tiny models of
  :mod:`tiny_models`, or the packaged SmolLM2 folder), for end-to-end tests through real HTTP
  and the ``openai`` client. Starting one costs ~5-10 s of CPU, so share one per session
  (``tests/llm/conftest.py`` has session fixtures for the tiny ones).
- :func:`stub_server`: a deterministic stdlib server that plays a script of responses
  (:func:`ok`, :func:`status`, :func:`delay`, :func:`garbage`, :func:`truncated`,
  :func:`reset`), records every request and the most requests it had in flight at once: for
  the retry, timeout, error and concurrency paths a real server cannot be made to take on cue.

The server is pinned to its folder: ``transformers serve`` answers 400 when a request names
another model, so a backend talking to it names the folder (:attr:`ServedFolder.model`) or
no model at all.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tvhighlights.llm.serving import ServedFolder, free_port
from tvhighlights.llm.serving import transformers_serve as serve_folder

__all__ = [
    "ServedFolder",
    "Stub",
    "delay",
    "free_port",
    "garbage",
    "ok",
    "reset",
    "serve_folder",
    "status",
    "stub_server",
    "truncated",
]


# --------------------------------------------------------------------------------------------
# The scripted stub


@dataclass(frozen=True)
class Step:
    """One scripted response (build with :func:`ok`, :func:`status`, ...)."""

    kind: str
    text: str = ""
    code: int = 200
    seconds: float = 0.0
    then: Step | None = None


def ok(text: str, *, after: float = 0.0) -> Step:
    """HTTP 200 with a well-formed chat completion whose content is ``text`` (after waiting
    ``after`` seconds: a slow but successful call)."""
    return Step("ok", text=text, seconds=after)


def status(code: int, text: str = "scripted failure") -> Step:
    """HTTP ``code`` with an OpenAI-style error body."""
    return Step("status", text=text, code=code)


def delay(seconds: float, then: Step | None = None) -> Step:
    """Wait ``seconds`` before answering with ``then`` (default: ``ok("late")``); longer than
    the client's timeout, this is a timeout."""
    return Step("delay", seconds=seconds, then=then or ok("late"))


def garbage(body: str = "<html>502 Bad Gateway</html>") -> Step:
    """HTTP 200 whose body is not JSON (a proxy's error page)."""
    return Step("garbage", text=body)


def truncated(text: str = '[{"index": 1, "on_topic": tr') -> Step:
    """HTTP 200, a valid completion whose content is JSON cut off mid-way (``max_tokens``
    reached): the client gets the text; the JSON finder has to cope."""
    return Step("ok", text=text)


def reset() -> Step:
    """Close the connection without answering (a crashed server)."""
    return Step("reset")


def completion(text: str, model: str = "stub") -> dict[str, Any]:
    """A minimal non-streamed ``chat.completion`` object, as the ``openai`` client parses it."""
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


@dataclass
class Stub:
    """A running stub: ``base_url`` (``.../v1``), every request body received in order, and
    the most requests in flight at once. ``script`` is consumed in order; once it runs out,
    ``default`` answers (a :class:`Step`, or a callable of the request body returning one)."""

    base_url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    max_in_flight: int = 0
    in_flight: int = 0
    script: list[Step] = field(default_factory=list)
    default: Step | Callable[[dict[str, Any]], Step] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def count(self) -> int:
        """Chat requests received so far."""
        return len(self.requests)

    def spec(self, model: str = "stub") -> str:
        """The backend spec for this stub (``openai:URL:MODEL``)."""
        return f"openai:{self.base_url}" + (f":{model}" if model else "")

    def next_step(self, body: dict[str, Any]) -> Step:
        with self.lock:
            if self.script:
                return self.script.pop(0)
        d = self.default
        if callable(d):
            return d(body)
        return d or ok("")


def _handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 30  # an idle keep-alive connection closes after this

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path.rstrip("/") in ("/health", "/v1/health"):
                self._send(200, b'{"status": "ok"}')
            elif self.path.rstrip("/") == "/v1/models":
                self._send(200, json.dumps({"object": "list", "data": [
                    {"id": "stub", "object": "model", "created": 0, "owned_by": "tests"}
                ]}).encode())  # fmt: skip
            else:
                self._send(404, b'{"error": {"message": "not found"}}')

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, b'{"error": {"message": "not found"}}')
                return
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                body = {"_raw": raw.decode(errors="replace")}
            with stub.lock:
                stub.requests.append(body)
                stub.in_flight += 1
                stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
            try:
                self._answer(stub.next_step(body), body)
            finally:
                with stub.lock:
                    stub.in_flight -= 1

        def _answer(self, step: Step, body: dict[str, Any]) -> None:
            if step.kind == "delay":
                time.sleep(step.seconds)
                step = step.then or ok("late")
            if step.kind == "ok":
                if step.seconds:
                    time.sleep(step.seconds)
                model = body.get("model") or "stub"
                self._send(200, json.dumps(completion(step.text, model)).encode())
            elif step.kind == "status":
                err = {"error": {"message": step.text, "type": "scripted", "code": step.code}}
                self._send(step.code, json.dumps(err).encode())
            elif step.kind == "garbage":
                self._send(200, step.text.encode(), ctype="application/json")
            elif step.kind == "reset":
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
            else:  # pragma: no cover - a bad script
                self._send(500, f"unknown step {step.kind!r}".encode())

    return Handler


@contextlib.contextmanager
def stub_server(
    behaviour: Sequence[Step] | Step | Callable[[dict[str, Any]], Step] = (),
    *,
    default: Step | Callable[[dict[str, Any]], Step] | None = None,
) -> Iterator[Stub]:
    """A scripted OpenAI-compatible server on 127.0.0.1 for the block's duration.

    ``behaviour`` is a sequence of steps played one per ``POST /v1/chat/completions`` (then
    ``default``, which answers ``ok("")`` unless given), or a single step / callable used for
    every request. ``GET /health`` and ``GET /v1/models`` answer too. Yields a :class:`Stub`
    whose ``requests`` and ``max_in_flight`` the test inspects.
    """
    if isinstance(behaviour, Step) or callable(behaviour):
        script, default = [], behaviour
    else:
        script = list(behaviour)
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    server.block_on_close = False  # a client's idle keep-alive connection must not hold us
    stub = Stub(f"http://127.0.0.1:{server.server_address[1]}/v1", script=script, default=default)
    server.RequestHandlerClass = _handler(stub)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="stub-llm", daemon=True
    )
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
