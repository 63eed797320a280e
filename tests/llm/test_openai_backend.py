"""The OpenAI backend against a real ``transformers serve`` (tiny random models, real HTTP,
the real ``openai`` client): text, a base64 image, the cache, and the server's model pin."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tvhighlights.errors import LLMCallError
from tvhighlights.llm import (
    ClipToDescribe,
    LLMClient,
    OpenAIBackend,
    VLMDescriber,
    get_describer,
    get_llm,
    image_part,
)

ASK = [
    {"role": "system", "content": "You answer briefly."},
    {"role": "user", "content": "Is this a highlight? Answer yes or no."},
]


def _jpeg(colour=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buf, format="JPEG")
    return buf.getvalue()


def test_text_chat_and_the_cache(qwen_server, tmp_path):
    cache = tmp_path / "calls.jsonl"
    client = LLMClient(OpenAIBackend(qwen_server.base_url, qwen_server.model, timeout=60),
                       cache, max_tokens=8)  # fmt: skip
    first = client.ask(ASK, "p@1")
    assert first.ok and isinstance(first.answer, str) and not first.cached
    second = client.ask(ASK, "p@1")
    assert second.cached and second.answer == first.answer
    # one call reached the server; the second came from the cache file
    assert (client.stats.calls, client.stats.cached, client.stats.retries) == (1, 1, 0)
    assert client.cache is not None and len(client.cache) == 1 and client.cache.hits == 1
    fresh = get_llm(qwen_server.spec(), cache=cache, max_tokens=8)
    assert fresh.ask(ASK, "p@1").cached and fresh.stats.calls == 0


def test_the_model_may_be_left_out_but_not_named_wrong(qwen_server):
    # transformers serve is pinned to its folder: no model is fine, another one is a 400
    assert isinstance(OpenAIBackend(qwen_server.base_url, "").chat(ASK, max_tokens=4), str)
    client = get_llm(qwen_server.spec(with_model=False), max_tokens=4)
    assert client.ask(ASK, "p@1").ok
    with pytest.raises(LLMCallError, match="HTTP 400: Server is pinned to") as e:
        OpenAIBackend(qwen_server.base_url, "some-other-model").chat(ASK, max_tokens=4)
    assert not e.value.retryable and qwen_server.base_url in str(e.value)
    assert "'some-other-model'" in str(e.value)


def test_several_calls_at_once(qwen_server):
    client = get_llm(qwen_server.spec(), concurrency=3, max_tokens=4)
    asks = [[{"role": "user", "content": f"question {i}"}] for i in range(4)]
    results = client.ask_many(asks, "p@1")
    assert all(r.ok for r in results) and client.stats.calls == 4


def test_an_image_part_reaches_the_vlm(llava_server, tmp_path):
    client = get_llm(llava_server.spec(), cache=tmp_path / "c.jsonl", max_tokens=6)
    ask = [{"role": "user", "content": [{"type": "text", "text": "What colour is it?"},
                                        image_part(_jpeg())]}]  # fmt: skip
    r = client.ask(ask, "p@1")
    assert r.ok, r.error
    # another image is another request; the same image hits the cache
    other = [{"role": "user", "content": [ask[0]["content"][0], image_part(_jpeg((0, 0, 255)))]}]
    assert not client.ask(other, "p@1").cached
    assert client.ask(ask, "p@1").cached
    assert client.stats.calls == 2


def test_the_vlm_describer_on_a_real_clip(llava_server, sample):
    video = str(sample("bbb_trailer"))
    clips = [ClipToDescribe("trailer", i, 2.0 * i, 2.0 * i + 2, video, title="BBB trailer")
             for i in range(2)]  # fmt: skip
    describer = get_describer(llava_server.spec(), max_tokens=8)
    assert isinstance(describer, VLMDescriber)
    out = describer.describe(clips)
    assert len(out) == 2 and all(d is None or isinstance(d, str) for d in out)
    stats = describer.client.stats
    assert stats.calls == 2 and not stats.failures
