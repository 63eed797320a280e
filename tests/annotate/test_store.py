"""The decisions store: durable appends, the last decision wins, torn and bad lines."""

from __future__ import annotations

import json
import multiprocessing as mp

import pytest

from tvhighlights.annotate.store import AnnotationStore, check_annotator_name
from tvhighlights.errors import AnnotationStoreError, InvalidArgumentError

VIDEOS = {"a": 4, "b": 2}


def test_round_trip_and_the_last_decision_wins(tmp_path):
    st = AnnotationStore(tmp_path)
    st.record("ann", "a", 0, True, "Action", app_version="9.9")
    st.record("ann", "a", 1, False)
    st.record("ann", "a", 0, True, "CGI")
    got = st.read("ann", VIDEOS)
    assert got.lines == 3 and not got.warnings
    assert {k: (d.highlight, d.category) for k, d in got.latest.items()} == {
        ("a", 0): (True, "CGI"),
        ("a", 1): (False, None),
    }
    first = json.loads((tmp_path / "ann.jsonl").read_text().splitlines()[0])
    assert first["app_version"] == "9.9" and first["annotator"] == "ann" and first["time"]
    assert st.annotators() == ["ann"]
    assert st.read("nobody").latest == {}


def test_a_torn_last_line_is_skipped_and_nothing_earlier_is_lost(tmp_path):
    st = AnnotationStore(tmp_path)
    st.record("ann", "a", 0, True, "Action")
    st.record("ann", "a", 1, False)
    with open(tmp_path / "ann.jsonl", "ab") as fh:  # a crash in the middle of a write
        fh.write(b'{"video_id": "a", "clip": 2, "highl')
    got = st.read("ann", VIDEOS)
    assert set(got.latest) == {("a", 0), ("a", 1)}
    assert len(got.warnings) == 1 and "ann.jsonl: line 3: not JSON" in got.warnings[0]
    st.record("ann", "a", 3, True)  # the next append starts on a line of its own
    got = st.read("ann", VIDEOS)
    assert set(got.latest) == {("a", 0), ("a", 1), ("a", 3)} and len(got.warnings) == 1


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('["a", 0]', "line 2: expected a JSON object"),
        ('{"video_id": "zz", "clip": 0, "highlight": true, "annotator": "ann"}',
         "line 2: unknown video 'zz'"),
        ('{"video_id": "b", "clip": 2, "highlight": true, "annotator": "ann"}',
         "line 2: clip 2 is out of range: video 'b' has 2 clips"),
        ('{"video_id": "a", "clip": 0, "highlight": true, "category": "Funny", "annotator": "ann"}',
         "line 2: 'category' must be one of"),
        ('{"video_id": "a", "clip": 0, "highlight": false, "category": "CGI", "annotator": "ann"}',
         "is given for a clip that is not a highlight"),
        ('{"video_id": "a", "clip": -1, "highlight": true, "annotator": "ann"}',
         "'clip' must be an integer >= 0"),
        ('{"video_id": "a", "clip": 0, "highlight": true, "annotator": "eve"}',
         "written by 'eve', not 'ann'"),
    ],
)  # fmt: skip
def test_bad_lines_are_errors_naming_file_and_line_or_warnings(tmp_path, line, problem):
    st = AnnotationStore(tmp_path)
    st.record("ann", "a", 1, False)
    with open(tmp_path / "ann.jsonl", "a") as fh:
        fh.write(line + "\n")
    st.record("ann", "a", 2, True, "Others")
    with pytest.raises(AnnotationStoreError) as e:
        st.read("ann", VIDEOS)
    assert "ann.jsonl" in str(e.value) and problem in str(e.value)
    lenient = st.read("ann", VIDEOS, strict=False)
    assert set(lenient.latest) == {("a", 1), ("a", 2)}
    assert any(problem in w for w in lenient.warnings)


@pytest.mark.parametrize("name", ["../x", "a/b", "..", ".hidden", "", "x" * 65, "a b", None])
def test_names_that_could_be_paths_are_refused(tmp_path, name):
    with pytest.raises(InvalidArgumentError, match="annotator name"):
        check_annotator_name(name)
    with pytest.raises(InvalidArgumentError):
        AnnotationStore(tmp_path).record(name, "a", 0, True)
    assert not list(tmp_path.iterdir())


def test_position_and_videos_are_remembered(tmp_path):
    st = AnnotationStore(tmp_path)
    assert st.position("ann") is None and st.videos() == {}
    st.save_position("ann", "b", 1)
    assert st.position("ann") == ("b", 1)
    st.write_videos({"a": {"num_clips": 4}})
    st.write_videos({"b": {"num_clips": 2}})
    assert st.videos() == {"a": {"num_clips": 4}, "b": {"num_clips": 2}}
    (tmp_path / "videos.json").write_text("{oops")
    with pytest.raises(AnnotationStoreError, match=r"videos\.json"):
        st.videos()


def _append_many(root: str, name: str, video: str, n: int) -> None:
    st = AnnotationStore(root)
    for i in range(n):
        st.record(name, video, i, i % 2 == 0, "Action" if i % 2 == 0 else None)


@pytest.mark.parametrize("same_file", [True, False])
def test_two_processes_saving_at_once_lose_nothing(tmp_path, same_file):
    n = 300
    ctx = mp.get_context("spawn")
    names = ("ann", "ann") if same_file else ("ann", "bob")
    procs = [ctx.Process(target=_append_many, args=(str(tmp_path), name, video, n))
             for name, video in zip(names, ("a", "b"), strict=True)]  # fmt: skip
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    st = AnnotationStore(tmp_path)
    videos = {"a": n, "b": n}
    total = sum(len(st.read(name, videos).latest) for name in set(names))
    assert total == 2 * n
    for name in set(names):
        got = st.read(name, videos)
        assert not got.warnings and got.lines == (2 * n if same_file else n)
