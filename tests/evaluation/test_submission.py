import json

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from tvhighlights.errors import ReferencesError, SubmissionError
from tvhighlights.evaluation.submission import (
    evaluate_submission,
    load_references,
    load_submission,
    write_submission,
)


def _write_lines(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def refs_path(tmp_path):
    rows = [
        {"video_id": "a", "labels": [0, 1, 1, 0], "genre": "drama", "split": "test"},
        {"video_id": "b", "labels": [1, 0, 0], "genre": "action", "split": "test"},
        {"video_id": "c", "labels": [0, 0], "genre": "action", "split": "test"},  # no positive
        {"video_id": "d", "labels": [1, 0], "split": "train"},
    ]
    return _write_lines(tmp_path / "refs.jsonl", [json.dumps(r) for r in rows])


def _sub(tmp_path, rows, name="sub.jsonl"):
    return _write_lines(tmp_path / name, [json.dumps(r) for r in rows])


GOOD = [
    {"video_id": "a", "scores": [0.1, 0.8, 0.5, 0.5]},
    {"video_id": "b", "scores": [3, 1, 2]},
    {"video_id": "c", "scores": [0.0, 1.0]},
]


def test_scores_a_valid_submission_like_sklearn(tmp_path, refs_path):
    result = evaluate_submission(_sub(tmp_path, GOOD), refs_path, split="test")
    y = np.concatenate([[0, 1, 1, 0], [1, 0, 0], [0, 0]])
    s = np.concatenate([r["scores"] for r in GOOD])
    assert result["num_videos"] == 3
    assert result["num_clips"] == 9
    assert result["pooled_auc"] == pytest.approx(100 * roc_auc_score(y, s))
    assert result["pooled_ap"] == pytest.approx(100 * average_precision_score(y, s))
    per_video_auc = [roc_auc_score([0, 1, 1, 0], [0.1, 0.8, 0.5, 0.5]), 1.0]
    assert result["video_auc"] == pytest.approx(100 * np.mean(per_video_auc))
    assert result["num_videos_skipped"] == 1
    assert set(result["per_genre"]) == {"drama", "action"}


def test_split_filter(refs_path):
    assert [r.video_id for r in load_references(refs_path, split="train")] == ["d"]
    assert len(load_references(refs_path)) == 4
    with pytest.raises(ReferencesError, match="no video in split 'val'"):
        load_references(refs_path, split="val")


def test_builtin_reference_by_name():
    refs = load_references("bbb-trailer")
    assert [r.video_id for r in refs] == ["bbb"]
    assert refs[0].num_clips == 298


def _problems(tmp_path, refs_path, lines):
    path = _write_lines(tmp_path / "bad.jsonl", lines)
    refs = load_references(refs_path, split="test")
    with pytest.raises(SubmissionError) as info:
        load_submission(path, refs)
    assert str(path) in str(info.value)
    return info.value.problems


@pytest.mark.parametrize(
    ("bad_line", "expected"),
    [
        ('{"video_id": "a", "scores": [0.1, NaN, 0.5, 0.5]}', "scores[1] is nan"),
        ('{"video_id": "a", "scores": [0.1, Infinity, 0.5, 0.5]}', "scores[1] is inf"),
        ('{"video_id": "a", "scores": [0.1, "high", 0.5, 0.5]}', "scores[1] is 'high'"),
        ('{"video_id": "a", "scores": [0.1, null, 0.5, 0.5]}', "scores[1] is None"),
        ('{"video_id": "a", "scores": [0.1, true, 0.5, 0.5]}', "scores[1] is True"),
        ('{"video_id": "a", "scores": [0.1, 0.5, 0.5]}', "has 3 scores, expected 4"),
        ('{"video_id": "a", "scores": 0.5}', "'scores' must be a list"),
        ('{"video_id": "a"}', "missing field 'scores'"),
        ('{"scores": [1, 2, 3, 4]}', "'video_id' must be a non-empty string"),
        ('{"video_id": "a", "scores": [0.1, 0.8, 0.5, 0.5]', "line 1: invalid JSON"),
        ("[1, 2]", "line 1: expected a JSON object"),
    ],
)
def test_each_bad_line_is_named(tmp_path, refs_path, bad_line, expected):
    problems = _problems(tmp_path, refs_path, [bad_line, *map(json.dumps, GOOD[1:])])
    assert expected in problems[0]
    assert problems[0].startswith("line 1")
    # a line without a usable video id also leaves video 'a' without a line
    assert problems[1:] in ([], ["1 reference video(s) have no line: 'a'"]), problems


def test_duplicate_unknown_missing_blank_and_bad_json_line_numbers(tmp_path, refs_path):
    lines = [
        json.dumps(GOOD[0]),
        json.dumps(GOOD[0]),  # duplicate
        "",  # blank
        json.dumps({"video_id": "zzz", "scores": [1.0]}),  # unknown
        "{not json",
    ]  # b and c missing
    problems = _problems(tmp_path, refs_path, lines)
    text = "\n".join(problems)
    assert "line 2 (video 'a'): duplicate video, first given on line 1" in text
    assert "line 3: blank line" in text
    assert "line 4 (video 'zzz'): unknown video" in text
    assert "line 5: invalid JSON" in text
    assert "2 reference video(s) have no line: 'b', 'c'" in text


def test_bom_and_empty_file_are_reported(tmp_path, refs_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "".join(json.dumps(r) + "\n" for r in GOOD).encode())
    refs = load_references(refs_path, split="test")
    with pytest.raises(SubmissionError, match="byte-order mark"):
        load_submission(path, refs)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(SubmissionError, match="the file is empty"):
        load_submission(empty, refs)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(SubmissionError, match="file not found"):
        load_submission(tmp_path / "nope.jsonl")
    with pytest.raises(SubmissionError, match="is a directory"):
        load_submission(tmp_path)


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"video_id": "caf\xe9", "scores": [1]}\n')
    with pytest.raises(SubmissionError, match="line 1: not valid UTF-8"):
        load_submission(path)


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"video_id": "x", "labels": [0, 2]}, "labels[1] is 2, expected 0 or 1"),
        ({"video_id": "x", "labels": [0, True]}, "labels[1] is True"),
        ({"video_id": "x", "labels": []}, "'labels' is empty"),
        ({"video_id": "x"}, "missing field 'labels'"),
        ({"video_id": "x", "labels": [0, 1], "categories": ["Action"]}, "'categories' has 1"),
        ({"video_id": "x", "labels": [0, 1], "genre": 3}, "'genre' must be a string"),
        ({"video_id": 7, "labels": [0, 1]}, "'video_id' must be a non-empty string"),
    ],
)
def test_bad_references(tmp_path, bad, expected):
    good = json.dumps({"video_id": "ok", "labels": [1]})
    path = _write_lines(tmp_path / "refs.jsonl", [good, json.dumps(bad)])
    with pytest.raises(ReferencesError) as info:
        load_references(path)
    (problem,) = info.value.problems
    assert problem.startswith("line 2")
    assert expected in problem


def test_duplicate_reference(tmp_path):
    row = json.dumps({"video_id": "x", "labels": [0, 1]})
    path = _write_lines(tmp_path / "refs.jsonl", [row, row])
    with pytest.raises(ReferencesError, match="line 2 \\(video 'x'\\): duplicate video"):
        load_references(path)


def test_write_submission_roundtrip_and_atomic(tmp_path):
    out = tmp_path / "sub" / "p.jsonl"
    write_submission(out, {"a": np.array([0.25, 0.5]), "b": [1, 2, 3]})
    loaded = load_submission(out)
    np.testing.assert_allclose(loaded["a"], [0.25, 0.5])
    before = out.read_bytes()
    with pytest.raises(ValueError, match="video 'bad'"):
        write_submission(out, {"a": [1.0], "bad": [float("nan")]})
    assert out.read_bytes() == before  # a failed write leaves the old file whole
    assert [p.name for p in out.parent.iterdir()] == ["p.jsonl"]  # no temp file left
