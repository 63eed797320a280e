"""What goes wrong between the client and a server, played on cue by the stub server: every
failure is retried or not as it should be, counted, and never cached."""

from __future__ import annotations

import json

import pytest
from llm_servers import delay, garbage, ok, reset, status, stub_server, truncated

from tvhighlights.errors import LLMCallError, LLMResponseError
from tvhighlights.llm import LLMClient, OpenAIBackend, get_llm, json_values, parse_json_answer

ASK = [{"role": "user", "content": "hello"}]


def client_for(stub, *, timeout=5.0, **kw):
    kw = {"retries": 2, "backoff": 0.01, **kw}
    return LLMClient(OpenAIBackend(stub.base_url, "m", timeout=timeout), **kw)


def test_a_timeout_is_retried_then_succeeds():
    with stub_server([delay(0.8), ok("fine")]) as stub:
        client = client_for(stub, timeout=0.25)
        r = client.ask(ASK, "p@1")
        assert (r.answer, r.error, r.cached) == ("fine", None, False)
        assert stub.count == 2
        assert (client.stats.calls, client.stats.retries, dict(client.stats.failures)) == (2, 1, {})


def test_a_reset_connection_and_429_are_retried():
    with stub_server([reset(), status(429), ok("back")]) as stub:
        client = client_for(stub)
        assert client.ask(ASK, "p@1").answer == "back"
        assert stub.count == 3 and client.stats.retries == 2


def test_500s_until_the_retries_run_out(tmp_path):
    cache = tmp_path / "calls.jsonl"
    with stub_server(status(500, "model crashed")) as stub:
        client = client_for(stub, cache=cache)
        r = client.ask(ASK, "p@1")
        assert r.answer is None and not r.ok
        assert (
            "HTTP 500: model crashed" in r.error and stub.base_url in r.error and "'m'" in r.error
        )
        assert stub.count == 3  # 1 + 2 retries
        assert client.stats.to_dict()["failures"] == {"call failed": 1}
        assert client.stats.retries == 2
    assert not cache.exists() or cache.read_text() == ""  # nothing cached


def test_a_400_is_not_retried():
    with stub_server(status(400, "Server is pinned to '/models/x'; requested 'm'.")) as stub:
        client = client_for(stub)
        r = client.ask(ASK, "p@1")
        assert stub.count == 1 and client.stats.retries == 0
        assert "HTTP 400: Server is pinned to '/models/x'" in r.error


def test_a_body_that_is_not_json_fails_without_retry():
    with stub_server(garbage()) as stub:
        backend = OpenAIBackend(stub.base_url, "m")
        with pytest.raises(LLMCallError, match="not a chat completion") as e:
            backend.chat(ASK)
        assert not e.value.retryable and stub.base_url in str(e.value)
        assert client_for(stub).ask(ASK, "p@1").error is not None
        assert stub.count == 2


def test_messy_and_truncated_content_comes_back_as_text_for_the_json_finder():
    messy = '<think>hmm</think>Sure!\n```json\n{"keep": ["H1", "N2"]}\n```\nHope that helps.'
    with stub_server([ok(messy), truncated('{"keep": ["H1", "N2", "H'), ok("no json here")]) as s:
        client = client_for(s)
        a, b, c = (client.ask([{"role": "user", "content": str(i)}], "p@1").answer
                   for i in range(3))  # fmt: skip
    assert a == messy and parse_json_answer(a) == {"keep": ["H1", "N2"]}
    assert json_values(b) == [{"keep": ["H1", "N2", "H"]}]
    with pytest.raises(LLMResponseError, match="no JSON object"):
        parse_json_answer(c)


def test_no_more_calls_in_flight_than_the_concurrency():
    with stub_server(ok("x", after=0.2)) as stub:
        client = client_for(stub, concurrency=3)
        results = client.ask_many([[{"role": "user", "content": f"q{i}"}] for i in range(9)], "p@1")
        assert all(r.answer == "x" for r in results)
        assert stub.count == 9
        assert 2 <= stub.max_in_flight <= 3


def test_the_cache_file_outlives_the_client(tmp_path):
    cache = tmp_path / "calls.jsonl"
    asks = [[{"role": "user", "content": f"q{i}"}] for i in range(3)]
    with stub_server(lambda body: ok("a:" + body["messages"][0]["content"])) as stub:
        first = get_llm(stub.spec("m"), cache=cache)
        assert [r.answer for r in first.ask_many(asks, "p@1")] == ["a:q0", "a:q1", "a:q2"]
        assert stub.count == 3
        rows = [json.loads(line) for line in cache.read_text().splitlines()]
        assert len(rows) == 3 and {r["prompt"] for r in rows} == {"p@1"}
        again = get_llm(stub.spec("m"), cache=cache)  # a new process would do the same
        assert [r.answer for r in again.ask_many(asks, "p@1")] == ["a:q0", "a:q1", "a:q2"]
        assert stub.count == 3
        assert (again.stats.cached, again.stats.calls) == (3, 0)
        # a new prompt version asks again
        assert again.ask(asks[0], "p@2").answer == "a:q0" and stub.count == 4


def test_an_empty_model_is_left_out_of_the_request_and_parameters_are_sent():
    with stub_server(ok("hi")) as stub:
        assert get_llm(stub.spec(""), max_tokens=33).ask(ASK, "p@1").answer == "hi"
        body = stub.requests[0]
        assert "model" not in body
        assert (body["max_tokens"], body["temperature"], body["messages"]) == (33, 0.0, ASK)
        assert not body.get("stream")


def test_a_server_that_is_not_there(tmp_path):
    from llm_servers import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"
    r = get_llm(f"openai:{url}:m", retries=1, backoff=0.01).ask(ASK, "p@1")
    assert "connection failed" in r.error and url in r.error
