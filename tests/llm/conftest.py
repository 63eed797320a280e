"""Session fixtures for the LLM tests: the tiny chat models, built once, and one
``transformers serve`` per tiny model, started on first use and shared by every test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from llm_servers import ServedFolder, serve_folder
from tiny_models import make_tiny_llava, make_tiny_qwen2_chat


@pytest.fixture(scope="session")
def tiny_qwen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random Qwen2 chat model folder (text only, ChatML template)."""
    return make_tiny_qwen2_chat(tmp_path_factory.mktemp("models") / "tiny-qwen2")


@pytest.fixture(scope="session")
def tiny_llava(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random LLaVA folder (takes images)."""
    return make_tiny_llava(tmp_path_factory.mktemp("models") / "tiny-llava")


@pytest.fixture(scope="session")
def qwen_server(tiny_qwen: Path) -> Iterator[ServedFolder]:
    """``transformers serve`` of the tiny Qwen2 on 127.0.0.1 for the whole session."""
    with serve_folder(tiny_qwen) as server:
        yield server


@pytest.fixture(scope="session")
def llava_server(tiny_llava: Path) -> Iterator[ServedFolder]:
    """``transformers serve`` of the tiny LLaVA on 127.0.0.1 for the whole session."""
    with serve_folder(tiny_llava) as server:
        yield server
