"""The call cache: durable appends, keys that change with what matters, torn lines survived."""

from __future__ import annotations

import json
import threading

from tvhighlights.llm import CallCache, call_key


def test_answers_survive_a_new_cache_on_the_same_file(tmp_path):
    path = tmp_path / "cache" / "calls.jsonl"
    cache = CallCache(path)
    k = call_key("openai", "smollm2", "llg-v1", {"messages": [{"role": "user", "content": "x"}]})
    assert cache.get(k) is None and cache.misses == 1
    cache.put(k, '{"score": 0.5}', seconds=1.25)
    again = CallCache(path)
    assert again.get(k) == '{"score": 0.5}' and again.hits == 1 and len(again) == 1
    row = json.loads(path.read_text().splitlines()[0])
    assert row["key"] == k and row["seconds"] == 1.25


def test_keys_change_with_backend_model_prompt_version_and_input_only():
    base = ("openai", "m", "v1", {"b": 1, "a": [1, 2]})
    k = call_key(*base)
    assert call_key("openai", "m", "v1", {"a": [1, 2], "b": 1}) == k  # key order does not count
    others = [
        ("transformers", "m", "v1", base[3]),
        ("openai", "m2", "v1", base[3]),
        ("openai", "m", "v2", base[3]),
        ("openai", "m", "v1", {"b": 2, "a": [1, 2]}),
    ]
    for other in others:
        assert call_key(*other) != k


def test_a_torn_last_line_is_skipped_and_the_next_answer_stays_whole(tmp_path):
    path = tmp_path / "calls.jsonl"
    cache = CallCache(path)
    cache.put("k1", "one")
    with open(path, "ab") as fh:  # a kill in the middle of a write
        fh.write(b'{"key": "k2", "answ')
    cache = CallCache(path)
    assert cache.skipped == 1 and cache.get("k1") == "one" and "k2" not in cache
    cache.put("k3", "three")
    fresh = CallCache(path)
    assert fresh.get("k3") == "three" and fresh.get("k1") == "one" and fresh.skipped == 1


def test_threads_appending_at_once_lose_nothing(tmp_path):
    path = tmp_path / "calls.jsonl"
    cache = CallCache(path)

    def work(t: int) -> None:
        for i in range(25):
            cache.put(f"{t}-{i}", f"answer {t} {i}")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    fresh = CallCache(path)
    assert len(fresh) == 100 and fresh.skipped == 0
    assert fresh.get("3-24") == "answer 3 24"
