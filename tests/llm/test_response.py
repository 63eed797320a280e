"""Finding the JSON in LLM answers as small and reasoning models write them."""

from __future__ import annotations

import pytest

from tvhighlights.errors import LLMResponseError
from tvhighlights.llm import json_values, parse_json_answer, strip_reasoning


def test_plain_fenced_and_surrounded_by_prose():
    assert parse_json_answer('{"score": 0.7}') == {"score": 0.7}
    fenced = 'Sure! Here it is:\n```json\n{"score": 0.4, "genre": "action"}\n```\nHope it helps.'
    assert parse_json_answer(fenced) == {"score": 0.4, "genre": "action"}
    prose = 'The clip is tense. {"score": 0.9} As you can see {"score": 0.1} is wrong.'
    assert json_values(prose) == [{"score": 0.9}, {"score": 0.1}]
    assert parse_json_answer("[1, 2]", list) == [1, 2]
    assert parse_json_answer('x [1] y {"a": [2]}', dict) == {"a": [2]}


def test_reasoning_blocks_are_skipped_even_with_json_inside():
    r1 = '<think>Maybe {"score": 0.2}? No, the fight is the climax.</think>\n{"score": 0.8}'
    assert parse_json_answer(r1) == {"score": 0.8}
    assert strip_reasoning("<think>still thinking {").strip() == ""
    with pytest.raises(LLMResponseError, match="no JSON object"):
        parse_json_answer('<think>the answer is {"score": 0.5}')  # cut off while thinking


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ('{"score": 0.6, "reason": "a chase', {"score": 0.6, "reason": "a chase"}),
        ('{"score": 0.6, "reason"', {"score": 0.6}),
        (
            '[{"index": 1, "on_topic": true}, {"index": 2, "on_to',
            [{"index": 1, "on_topic": True}, {"index": 2}],
        ),
        ('Answer: {"labels": [0.1, 0.9, 0.', {"labels": [0.1, 0.9]}),
        ('{"a": {"b": [1, 2', {"a": {"b": [1, 2]}}),
        ('{"quote": "he said \\"run', {"quote": 'he said "run'}),
    ],
)
def test_truncated_answers_are_closed_or_cut_back(answer, expected):
    assert parse_json_answer(answer, None) == expected


def test_repair_can_be_turned_off_and_complete_values_win():
    assert json_values('{"score": 0.6, "reason": "a ch', repair=False) == []
    assert json_values('{"a": 1} and then {"b": ') == [{"a": 1}]


@pytest.mark.parametrize("answer", ["", "   ", "no json here at all", "{]", "{'single': 1}"])
def test_unusable_answers_say_what_came_back(answer):
    with pytest.raises(LLMResponseError) as e:
        parse_json_answer(answer)
    text = str(e.value)
    assert "empty" in text or repr(" ".join(answer.split())[:200]) in text
