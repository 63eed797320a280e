"""The VLM describer's requests, read off the stub server: frames from the clip's own span,
small JPEGs after the prompt's text, cached, and ``None`` where a clip cannot be described."""

from __future__ import annotations

import base64
import io

import pytest
from llm_servers import ok, status, stub_server
from PIL import Image

from tvhighlights.llm import ClipToDescribe, VLMDescriber, get_describer, get_llm
from tvhighlights.llm.vlm import clip_frames, frame_times


def test_frame_times_are_the_middles_of_equal_slices():
    assert frame_times(10.0, 12.0, 4) == [10.25, 10.75, 11.25, 11.75]
    assert frame_times(0.0, 2.0, 1) == [1.0]


def test_frames_of_a_clip_are_small_jpegs(sample):
    jpegs = clip_frames(str(sample("bbb_trailer")), 2.0, 4.0, num_frames=4, max_side=336)
    assert len(jpegs) == 4
    images = [Image.open(io.BytesIO(j)) for j in jpegs]
    assert {im.format for im in images} == {"JPEG"}
    assert {im.size for im in images} == {(336, 189)}  # 1280x720 scaled to 336 on the long side


def _images(body):
    user = next(m for m in body["messages"] if m["role"] == "user")
    parts = user["content"]
    assert parts[0]["type"] == "text"
    urls = [p["image_url"]["url"] for p in parts[1:]]
    assert all(u.startswith("data:image/jpeg;base64,") for u in urls)
    return parts[0]["text"], [Image.open(io.BytesIO(base64.b64decode(u.split(",", 1)[1])))
                              for u in urls]  # fmt: skip


def test_describe_sends_frames_and_caches(sample, tmp_path):
    video = str(sample("bbb_trailer"))
    clips = [
        ClipToDescribe("t", 0, 0.0, 2.0, video, title="Big Buck Bunny trailer"),
        ClipToDescribe("t", 1, 2.0, 4.0, video, title="Big Buck Bunny trailer"),
        ClipToDescribe("t", 2, 24.0, 26.0, None, title="no file"),
        ClipToDescribe("t", 3, 0.0, 2.0, str(tmp_path / "missing.mp4")),
    ]
    answers = ["<think>frames...</think> A rabbit  wakes up.\n", "   "]
    with stub_server([ok(a) for a in answers]) as stub:
        describer = get_describer(stub.spec("llava"), cache=tmp_path / "calls.jsonl",
                                  concurrency=1)  # fmt: skip
        assert isinstance(describer, VLMDescriber)
        out = describer.describe(clips)
        assert out == ["A rabbit wakes up.", None, None, None]  # empty answer: None too
        assert stub.count == 2  # no call for clips without readable frames
        text, images = _images(stub.requests[0])
        assert '4 frames, in order, from a 2-second clip of "Big Buck Bunny trailer"' in text
        assert "(0.0 s to 2.0 s)" in text
        assert len(images) == 4 and max(images[0].size) == 336
        assert stub.requests[0]["messages"][0]["role"] == "system"
        # the same clips again: every answer from the cache
        again = get_describer(stub.spec("llava"), cache=tmp_path / "calls.jsonl")
        assert again.describe(clips[:2]) == out[:2] and stub.count == 2


def test_a_failed_call_is_none_and_the_version_follows_the_frames(sample):
    video = str(sample("bbb_trailer"))
    with stub_server(status(400, "bad image")) as stub:
        describer = VLMDescriber(get_llm(stub.spec("llava"), retries=0), num_frames=2)
        assert describer.version == "describe_clip@1/2f"
        assert describer.describe([ClipToDescribe("t", 0, 1.0, 3.0, video)]) == [None]
        assert len(_images(stub.requests[0])[1]) == 2
        assert describer.client.stats.failures["call failed"] == 1


def test_bad_options():
    from tvhighlights.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="num_frames >= 1"):
        VLMDescriber(get_llm("openai:http://h/v1"), num_frames=0)
