"""A local transformers folder as a chat backend: no server, no network.

The folder's config decides the path. An image-text-to-text model (LLaVA, Qwen2-VL, ...)
loads with ``AutoModelForImageTextToText`` + ``AutoProcessor`` and takes the ``image_url``
parts of a message (base64 ``data:`` URLs or local paths) as PIL images; anything else loads
with ``AutoModelForCausalLM`` + ``AutoTokenizer``, the messages formatted by the tokenizer's
chat template, or as plain ``System: / User: / Assistant:`` lines when it has none.

Weights load on the first call (a backend can be built, named and cached against before any
torch import); a lock serialises generation, so the client's thread pool is safe though no
faster. Greedy decoding at temperature 0; bf16 on CUDA, fp32 on CPU.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import LLMCallError
from .base import ChatBackend, Message, text_of

logger = logging.getLogger(__name__)

__all__ = ["TransformersBackend", "plain_chat_text"]


def plain_chat_text(messages: Sequence[Message]) -> str:
    """Messages as ``Role: text`` lines ending in ``Assistant:``: the prompt for a model
    without a chat template."""
    lines = [f"{str(m.get('role', 'user')).capitalize()}: {text_of(m)}" for m in messages]
    return "\n".join([*lines, "Assistant:"])


def _image(url: str, where: str) -> Any:
    """A PIL image from a ``data:`` URL or a local path (no network)."""
    from PIL import Image

    try:
        if url.startswith("data:"):
            header, _, data = url.partition(",")
            raw = base64.b64decode(data) if ";base64" in header else data.encode()
            image = Image.open(io.BytesIO(raw))
        elif url.startswith(("http://", "https://")):
            raise LLMCallError(f"{where}: images by http URL are not fetched; inline them")
        else:
            image = Image.open(url.removeprefix("file://"))
        return image.convert("RGB")
    except LLMCallError:
        raise
    except (OSError, ValueError, binascii.Error) as e:
        raise LLMCallError(f"{where}: an image part could not be read: {e}") from e


def _has_images(messages: Sequence[Message]) -> bool:
    return any(
        isinstance(m.get("content"), list)
        and any(p.get("type") == "image_url" for p in m["content"])
        for m in messages
    )


class TransformersBackend(ChatBackend):
    """Generate with the transformers model in ``path`` on ``device`` (``"cpu"``, ``"cuda"``,
    ``"cuda:1"``). ``path`` may also be ``"smollm2"``: the packaged SmolLM2-135M-Instruct
    (:func:`~tvhighlights.llm.packaged.packaged_llm_path`, converted on first use)."""

    kind = "transformers"

    def __init__(self, path: str | Path, *, device: str = "cpu") -> None:
        self.where = str(path)
        self.model = ""
        self.device = device
        self._path: Path | None = None
        self._vision: bool | None = None
        self._loaded: tuple[Any, Any] | None = None  # (model, tokenizer or processor)
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- the folder and its config

    @property
    def path(self) -> Path:
        """The model folder (the packaged one is converted here on first use)."""
        if self._path is None:
            from .packaged import PACKAGED_LLM_ALIAS, packaged_llm_path

            self._path = (
                packaged_llm_path() if self.where == PACKAGED_LLM_ALIAS else Path(self.where)
            )
        return self._path

    def _config(self) -> dict[str, Any]:
        file = self.path / "config.json"
        try:
            return json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise LLMCallError(
                f"transformers backend: {self.path} is not a transformers model folder "
                f"(no readable config.json: {e})"
            ) from e

    @property
    def supports_images(self) -> bool:  # type: ignore[override]
        """True for an image-text-to-text model (read from its config, no weights loaded)."""
        if self._vision is None:
            from .packaged import PACKAGED_LLM_ALIAS

            if self.where == PACKAGED_LLM_ALIAS:
                self._vision = False
            else:
                config = self._config()
                try:
                    from transformers.models.auto.modeling_auto import (
                        MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES as VLMS,
                    )
                except ImportError:
                    VLMS = {}
                model_type = config.get("model_type", "")
                self._vision = model_type in VLMS or "vision_config" in config
        return self._vision

    # ---------------------------------------------------------------- loading

    def _load(self) -> tuple[Any, Any]:
        if self._loaded is not None:
            return self._loaded
        path, vision = self.path, self.supports_images
        t0 = time.perf_counter()
        try:
            import torch
            import transformers as tf
        except ImportError as e:
            raise LLMCallError(
                f"transformers backend ({path}): needs torch and transformers: "
                "`pip install 'transformers>=5,<6' torch`"
            ) from e
        dtype = torch.bfloat16 if str(self.device).startswith("cuda") else torch.float32
        try:
            if vision:
                processor = tf.AutoProcessor.from_pretrained(path)
                model = tf.AutoModelForImageTextToText.from_pretrained(path, dtype=dtype)
            else:
                processor = tf.AutoTokenizer.from_pretrained(path)
                model = tf.AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
            model = model.to(self.device).eval()
        except Exception as e:
            raise LLMCallError(
                f"transformers backend: could not load the model in {path} on {self.device}: "
                f"{type(e).__name__}: {e}"
            ) from e
        logger.info("loaded %s (%s) in %.1f s", path, type(model).__name__,
                    time.perf_counter() - t0)  # fmt: skip
        self._loaded = (model, processor)
        return self._loaded

    # ---------------------------------------------------------------- inputs

    def _text_inputs(self, tokenizer: Any, messages: Sequence[Message]) -> Any:
        plain = [{"role": m.get("role", "user"), "content": text_of(m)} for m in messages]
        if getattr(tokenizer, "chat_template", None):
            return tokenizer.apply_chat_template(
                plain, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
        return tokenizer(plain_chat_text(plain), return_tensors="pt")

    def _vision_inputs(self, processor: Any, messages: Sequence[Message]) -> Any:
        converted: list[dict[str, Any]] = []
        images: list[Any] = []
        for m in messages:
            content = m.get("content", "")
            parts = [{"type": "text", "text": content}] if isinstance(content, str) else []
            for p in content if isinstance(content, list) else []:
                if p.get("type") == "image_url":
                    url = p.get("image_url", {})
                    url = url.get("url", "") if isinstance(url, dict) else str(url)
                    images.append(_image(url, self.where))
                    parts.append({"type": "image", "image": images[-1]})
                elif p.get("type") == "text":
                    parts.append({"type": "text", "text": p.get("text", "")})
            converted.append({"role": m.get("role", "user"), "content": parts})
        if getattr(processor, "chat_template", None):
            return processor.apply_chat_template(
                converted, add_generation_prompt=True, tokenize=True, return_dict=True,
                return_tensors="pt",
            )  # fmt: skip
        token = getattr(processor, "image_token", "<image>")
        lines = []
        for m in converted:
            text = "".join(token if p["type"] == "image" else p["text"] for p in m["content"])
            lines.append(f"{str(m['role']).capitalize()}: {text}")
        text = "\n".join([*lines, "Assistant:"])
        return processor(text=text, images=images or None, return_tensors="pt")

    # ---------------------------------------------------------------- the call

    def chat(
        self, messages: Sequence[Message], *, max_tokens: int = 512, temperature: float = 0.0
    ) -> str:
        """Generate up to ``max_tokens`` new tokens; greedy when ``temperature`` is 0."""
        with self._lock:
            model, processor = self._load()
            vision = self.supports_images
            if _has_images(messages) and not vision:
                raise LLMCallError(
                    f"transformers backend ({self.path}): a text-only model got image parts; "
                    "use an image-text-to-text model (LLaVA, Qwen2-VL, ...) to describe frames"
                )
            try:
                import torch

                inputs = (self._vision_inputs if vision else self._text_inputs)(processor, messages)
                inputs = inputs.to(model.device)
                tokenizer = getattr(processor, "tokenizer", processor)
                gen: dict[str, Any] = {"max_new_tokens": int(max_tokens)}
                if temperature and temperature > 0:
                    gen.update(do_sample=True, temperature=float(temperature))
                else:
                    gen.update(do_sample=False, temperature=None, top_p=None, top_k=None)
                if getattr(model.generation_config, "pad_token_id", None) is None:
                    pad = tokenizer.pad_token_id
                    gen["pad_token_id"] = tokenizer.eos_token_id if pad is None else pad
                with torch.inference_mode():
                    out = model.generate(**inputs, **gen)
                new = out[0, inputs["input_ids"].shape[1] :]
                return tokenizer.decode(new, skip_special_tokens=True).strip()
            except LLMCallError:
                raise
            except Exception as e:
                raise LLMCallError(
                    f"transformers backend ({self.path}): generation failed: "
                    f"{type(e).__name__}: {e}"
                ) from e

    def close(self) -> None:
        """Drop the weights (they load again on the next call)."""
        with self._lock:
            self._loaded = None
