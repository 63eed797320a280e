"""One spec string names every backend: how it parses, and what a bad one says."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tvhighlights.errors import InvalidArgumentError
from tvhighlights.llm import (
    BACKENDS,
    LLMClient,
    OpenAIBackend,
    SignalsDescriber,
    TransformersBackend,
    VLMDescriber,
    get_backend,
    get_describer,
    get_llm,
    parse_spec,
)


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("openai:http://127.0.0.1:8000/v1", ("openai", "http://127.0.0.1:8000/v1", "")),
        ("openai:http://127.0.0.1:8000/v1:", ("openai", "http://127.0.0.1:8000/v1", "")),
        ("openai:http://127.0.0.1:8000/v1:m", ("openai", "http://127.0.0.1:8000/v1", "m")),
        # a model with colons (Ollama's tags), and one with slashes (a Hub id)
        (
            "openai:http://localhost:11434/v1:llama3:8b",
            ("openai", "http://localhost:11434/v1", "llama3:8b"),
        ),
        (
            "openai:http://gpu-box:8000/v1:Qwen/Qwen2.5-VL-7B-Instruct",
            ("openai", "http://gpu-box:8000/v1", "Qwen/Qwen2.5-VL-7B-Instruct"),
        ),
        # no path: /v1, what every OpenAI-compatible server uses
        (
            "openai:http://localhost:11434:llama3:8b",
            ("openai", "http://localhost:11434/v1", "llama3:8b"),
        ),
        ("openai:http://localhost", ("openai", "http://localhost/v1", "")),
        ("openai:http://localhost:qwen", ("openai", "http://localhost/v1", "qwen")),
        (
            "openai:https://api.example.com/v1/:gpt-x",
            ("openai", "https://api.example.com/v1", "gpt-x"),
        ),
        ("openai:http://[::1]:8000/v1:x", ("openai", "http://[::1]:8000/v1", "x")),
        # transformers serve is pinned to its folder: the model is the folder's path
        (
            "openai:http://127.0.0.1:8000/v1:/tmp/models/tiny",
            ("openai", "http://127.0.0.1:8000/v1", "/tmp/models/tiny"),
        ),
        ("OpenAI:http://h:1/v1:m", ("openai", "http://h:1/v1", "m")),
        ("transformers:/models/llava", ("transformers", "/models/llava", "")),
        ("transformers:smollm2", ("transformers", "smollm2", "")),
    ],
)
def test_spec_forms(spec, parsed):
    assert parse_spec(spec) == parsed


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty"),
        ("gpt-4o", "unknown backend 'gpt-4o'"),
        ("vllm:http://h:8000/v1", "unknown backend 'vllm' (known: openai, transformers)"),
        ("openai:", "is not an http(s) URL"),
        ("openai:127.0.0.1:8000/v1", "is not an http(s) URL"),
        ("openai:ftp://h/v1", "is not an http(s) URL"),
        ("transformers:", "no model folder"),
    ],
)
def test_bad_specs_say_why_and_list_the_forms(spec, message):
    with pytest.raises(InvalidArgumentError) as e:
        parse_spec(spec)
    assert message in str(e.value)
    assert "openai:http[s]://HOST[:PORT][/PATH][:MODEL]" in str(e.value)
    assert "transformers:PATH" in str(e.value)
    assert e.value.param == "llm"


def test_backends_by_kind(tmp_path):
    assert {"openai": OpenAIBackend, "transformers": TransformersBackend} == BACKENDS
    b = get_backend("openai:http://127.0.0.1:9/v1:llama3:8b", timeout=5)
    assert isinstance(b, OpenAIBackend) and b.supports_images
    assert (b.where, b.model, b.timeout) == ("http://127.0.0.1:9/v1", "llama3:8b", 5.0)
    assert b.name == "openai:http://127.0.0.1:9/v1:llama3:8b"
    b.close()
    assert get_backend("transformers:smollm2").name == "transformers:smollm2"
    with pytest.raises(InvalidArgumentError, match="not a transformers model folder"):
        get_backend(f"transformers:{tmp_path}")
    with pytest.raises(InvalidArgumentError, match="timeout must be > 0"):
        get_backend("openai:http://h/v1", timeout=0)


def test_get_llm_puts_the_backend_behind_the_client(tmp_path):
    client = get_llm("openai:http://127.0.0.1:9/v1:m", cache=tmp_path / "c.jsonl", retries=1,
                     concurrency=2, max_tokens=64)  # fmt: skip
    assert isinstance(client, LLMClient) and isinstance(client.backend, OpenAIBackend)
    assert (client.retries, client.concurrency, client.max_tokens) == (1, 2, 64)
    assert client.cache is not None and client.cache.path == tmp_path / "c.jsonl"
    assert client.name == "openai:http://127.0.0.1:9/v1:m"


def test_describers(tiny_qwen, tiny_llava):
    assert isinstance(get_describer("signals"), SignalsDescriber)
    vlm = get_describer("openai:http://127.0.0.1:9/v1:llava")
    assert isinstance(vlm, VLMDescriber)
    assert (vlm.name, vlm.version) == ("openai:http://127.0.0.1:9/v1:llava", "describe_clip@1")
    local = get_describer(f"transformers:{tiny_llava}")
    assert isinstance(local, VLMDescriber) and local.client.backend.supports_images
    with pytest.raises(InvalidArgumentError, match="text-only model") as e:
        get_describer(f"transformers:{tiny_qwen}")
    assert e.value.param == "describer"
    with pytest.raises(InvalidArgumentError) as e:
        get_describer("clip-captioner")
    assert e.value.param == "describer"


def test_importing_the_package_loads_neither_torch_nor_openai():
    code = (
        "import sys, tvhighlights.llm as l; l.parse_spec('openai:http://h/v1'); "
        "l.get_backend('transformers:smollm2'); "
        "print(sorted(m for m in ('torch', 'openai', 'transformers') if m in sys.modules))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"
