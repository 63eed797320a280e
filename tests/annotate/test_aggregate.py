"""The majority vote on hand-worked examples, and the test split it writes into a dataset."""

from __future__ import annotations

import json

import numpy as np
import pytest
from annotated import make_video_dataset
from cli_runner import run_cli
from media import write_video

from tvhighlights.annotate import AnnotationStore, aggregate_decisions, write_test_split
from tvhighlights.annotate.store import Decision
from tvhighlights.data import load_references, read_split
from tvhighlights.errors import InvalidArgumentError


def _votes(table: dict[str, list]) -> dict[str, dict]:
    """``{annotator: [entry per clip]}`` of one video ``v``; an entry is None (no decision),
    0 (not), 1 (highlight, no category) or a category name."""
    out = {}
    for name, entries in table.items():
        out[name] = {}
        for clip, e in enumerate(entries):
            if e is None:
                continue
            category = e if isinstance(e, str) else None
            out[name][("v", clip)] = Decision("v", clip, bool(e), category, name)
    return out


def test_three_annotators_majority_and_categories():
    votes = _votes({
        "a": ["Action", 0, "CGI", "Action", 1, 0],
        "b": ["Action", 0, 0, "Destruction", "Emotional", None],
        "c": ["CGI", "Others", "CGI", "Destruction", "Others", None],
    })  # fmt: skip
    agg = aggregate_decisions(votes, {"v": 6})
    v = agg.videos["v"]
    assert v.labels.tolist() == [1, 0, 1, 1, 1, 0]
    assert v.num_annotators.tolist() == [3, 3, 3, 3, 3, 1]
    # clip 0: Action 2 : CGI 1; clip 2: CGI by both who said yes; clip 3: Destruction 2 : 1;
    # clip 4: Emotional 1 : Others 1 (the highlight without a category does not count): a tie,
    # which goes to the earlier category, Emotional
    assert v.categories == ["Action", None, "CGI", "Destruction", "Emotional", None]
    assert v.complete and v.ties == 0
    assert agg.summary()["categories"] == {"Action": 1, "Destruction": 1, "CGI": 1,
                                           "Emotional": 1, "Others": 0}  # fmt: skip


def test_a_two_annotator_tie_follows_the_rule():
    votes = _votes({"a": ["Action", 0, 1], "b": [0, 0, 1]})
    neg = aggregate_decisions(votes, {"v": 3}).videos["v"]
    pos = aggregate_decisions(votes, {"v": 3}, tie="positive").videos["v"]
    assert neg.labels.tolist() == [0, 0, 1] and neg.ties == 1
    assert pos.labels.tolist() == [1, 0, 1] and pos.categories == ["Action", None, None]
    assert pos.highlight_without_category == 1  # clip 2: both said highlight, neither which
    with pytest.raises(InvalidArgumentError, match="tie"):
        aggregate_decisions(votes, {"v": 3}, tie="coin")


def test_too_few_annotators_leave_clips_unlabelled_never_guessed():
    votes = _votes({"a": [1, 0, None, 0], "b": [1, None, None, 0]})
    agg = aggregate_decisions(votes, {"v": 4, "w": 2}, min_annotators=2)
    v = agg.videos["v"]
    assert v.labels.tolist() == [1, -1, -1, 0] and v.unlabelled == [1, 2] and not v.complete
    assert agg.videos["w"].unlabelled == [0, 1]
    s = agg.summary()
    assert s["incomplete"] == {"v": 2, "w": 2} and s["complete"] == []
    with pytest.raises(InvalidArgumentError, match="min_annotators"):
        aggregate_decisions(votes, {"v": 4}, min_annotators=0)
    with pytest.raises(InvalidArgumentError, match="not among the videos"):
        aggregate_decisions(votes, {"w": 2})


@pytest.fixture
def dataset(tmp_path):
    vids = {f"v{i}": write_video(tmp_path / f"v{i}.mp4", 6.0 + 2 * i, size=(32, 18))
            for i in range(3)}  # fmt: skip
    return make_video_dataset(tmp_path, vids)


def _annotate(store: AnnotationStore, video: str, n: int, names=("a", "b", "c")):
    for k, name in enumerate(names):
        for clip in range(n):
            yes = clip == 1 or (clip == 2 and k == 0)
            store.record(name, video, clip, yes, "Action" if yes else None)


def test_the_test_split_is_written_and_loads_and_scores(dataset, tmp_path):
    import datasets

    store = AnnotationStore(tmp_path / "store")
    _annotate(store, "v0", 3)
    _annotate(store, "v1", 4)
    store.record("a", "v2", 0, True, "CGI")  # v2 is not finished: it stays in train
    sizes = {"v0": 3, "v1": 4, "v2": 5}
    agg = aggregate_decisions(store.read_all(sizes), sizes)
    write_test_split(dataset, agg)

    test = datasets.load_dataset(str(dataset), split="test")
    train = datasets.load_dataset(str(dataset), split="train")
    assert test["video_id"] == ["v0", "v1"] and train["video_id"] == ["v2"]
    assert test["labels"] == [[0, 1, 0], [0, 1, 0, 0]]
    assert test["num_annotators"] == [[3, 3, 3], [3, 3, 3, 3]]
    assert test["categories"][1] == [None, "Action", None, None]
    assert test.features["num_annotators"].feature.dtype == "int32"
    assert train["num_annotators"] == [None]
    assert read_split(dataset, "test").column("video_path").to_pylist()[0].endswith("v0.mp4")
    refs = load_references(dataset, split="test")
    assert [r.video_id for r in refs] == ["v0", "v1"]
    card = (dataset / "README.md").read_text()
    assert "3 annotators (a, b, c)" in card and "| videos | 2 |" in card
    report = json.loads((dataset / "annotation_report.json").read_text())
    assert report["moved_from_train"] == ["v0", "v1"] and report["incomplete"] == {"v2": 4}

    sub = tmp_path / "s.jsonl"
    lines = [{"video_id": "v0", "scores": [0.1, 0.9, 0.2]},
             {"video_id": "v1", "scores": [0.1, 0.8, 0.3, 0.2]}]  # fmt: skip
    sub.write_text("".join(json.dumps(x) + "\n" for x in lines))
    res = run_cli("eval", "--references", str(dataset), "--split", "test", "--submission",
                  str(sub), "--json", str(tmp_path / "m.json"))  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "100.00" in res.stdout  # the highlight clip is each video's top score

    # annotating again: the test split's rows are replaced, not repeated
    store.record("b", "v1", 2, True, "Others")
    store.record("c", "v1", 2, True, "Others")
    agg = aggregate_decisions(store.read_all(sizes), sizes)
    write_test_split(dataset, agg)
    test = datasets.load_dataset(str(dataset), split="test")
    assert test["video_id"] == ["v0", "v1"] and test["labels"][1] == [0, 1, 1, 0]
    assert test["categories"][1][2] == "Others"


def test_nothing_complete_writes_nothing(dataset, tmp_path):
    before = sorted(p.name for p in (dataset / "data").iterdir())
    store = AnnotationStore(tmp_path / "store")
    store.record("a", "v0", 0, True)
    agg = aggregate_decisions(store.read_all({"v0": 3}), {"v0": 3})
    with pytest.raises(InvalidArgumentError, match="no video is fully annotated"):
        write_test_split(dataset, agg)
    assert sorted(p.name for p in (dataset / "data").iterdir()) == before
    assert np.array_equal(agg.videos["v0"].labels, [1, -1, -1])
