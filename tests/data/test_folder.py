"""The dataset folder: written atomically, opened by `datasets.load_dataset` with its features."""

import json

import numpy as np
import pytest
from tvhighlights.builders.tvhighlights import write_dataset

from tvhighlights.build.plots import plot_vote_histogram, plot_vote_timelines
from tvhighlights.data import merge_datasets, push_dataset, read_split
from tvhighlights.data.references import load_references as load_dataset_references
from tvhighlights.errors import ReferencesError, TVHighlightsError


def _row(vid, votes, labels, **kw):
    n = len(votes)
    row = dict(
        video_id=vid,
        source_id=kw.pop("source_id", vid),
        title=f"Title {vid}",
        genre="drama",
        start=0.0,
        end=2.0 * n,
        duration=2.0 * n,
        num_clips=n,
        votes=votes,
        scores=[v / max(1, max(votes)) for v in votes],
        labels=labels,
        categories=None,
        video_label=int(any(labels)),
        num_derivatives=max(votes),
        video_path=f"/v/{vid}.mp4",
    )
    row.update(kw)
    return row


MATCH = dict(
    derivative_id="d1",
    derivative_title="best scene",
    platform="tiktok",
    engagement=10,
    shot_index=0,
    deriv_start=0.0,
    deriv_end=4.0,
    source_id="a",
    source_start=2.0,
    source_end=6.0,
    speed=1.0,
    flipped=False,
    confidence=0.9,
    num_frames=16,
    mean_distance=3.5,
)


@pytest.fixture
def folder(tmp_path):
    out = tmp_path / "tvh"
    images = {
        "votes.png": lambda p: plot_vote_timelines([("a", np.array([0, 2, 1]), [0, 1, 1])], p),
        "hist.png": lambda p: plot_vote_histogram([np.array([0, 2, 1])], p),
    }
    write_dataset(
        out,
        {
            "train": [_row("a", [0, 2, 1], [0, 1, 1]), _row("b", [0, 0], [0, 0])],
            "test": [_row("c", [1, 0, 0], [1, 0, 0], categories=["Action", None, None])],
        },
        matches=[MATCH],
        report={"sources": 3},
        images=images,
    )
    return out


def test_load_dataset_opens_the_folder_with_declared_features(folder, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    from datasets import ClassLabel, List, Value, load_dataset

    ds = load_dataset(str(folder), cache_dir=str(tmp_path / "hf"))
    assert set(ds) == {"train", "test"}
    feats = ds["train"].features
    assert feats["votes"] == List(Value("int32"))
    assert feats["labels"] == List(ClassLabel(names=["neg", "pos"]))
    assert feats["video_label"] == ClassLabel(names=["neg", "pos"])
    assert ds["train"][0]["votes"] == [0, 2, 1]
    assert ds["test"][0]["categories"] == ["Action", None, None]
    matches = load_dataset(str(folder), "matches", cache_dir=str(tmp_path / "hf"))["train"]
    assert matches[0]["derivative_id"] == "d1"
    assert (folder / "images" / "votes.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((folder / "build_report.json").read_text()) == {"sources": 3}


def test_references_from_folder(folder):
    refs = load_dataset_references(folder, "test")
    assert refs[0].video_id == "c"
    assert refs[0].categories == ("Action", None, None)
    assert read_split(folder, "train").num_rows == 2
    with pytest.raises(ReferencesError, match="no split 'val'"):
        load_dataset_references(folder, "val")


def test_failed_write_keeps_the_old_folder(folder):
    before = (folder / "README.md").read_text()

    def broken(path):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_dataset(folder, {"train": [_row("z", [1], [1])]}, images={"x.png": broken})
    assert (folder / "README.md").read_text() == before
    assert sorted(p.name for p in folder.parent.iterdir()) == ["tvh"]  # no temp folder left


def test_empty_dataset_is_an_error(tmp_path):
    with pytest.raises(TVHighlightsError, match="no rows"):
        write_dataset(tmp_path / "x", {"train": []})


def test_merge_shards(tmp_path):
    a = write_dataset(tmp_path / "s0", {"train": [_row("a", [1], [1])]}, matches=[MATCH])
    b = write_dataset(tmp_path / "s1", {"train": [_row("b", [0], [0])]})
    merged = merge_datasets([a, b], tmp_path / "all")
    assert [r["video_id"] for r in read_split(merged, "train").to_pylist()] == ["a", "b"]
    assert read_split(merged, "train", config="matches").num_rows == 1
    with pytest.raises(TVHighlightsError, match="'a' \\(train\\) is also in"):
        merge_datasets([a, a], tmp_path / "dup")


def test_push_dry_run_lists_files(folder):
    files = dict(push_dataset(folder, "org/tvhighlights", dry_run=True))
    assert {"README.md", "images/votes.png", "build_report.json"} <= set(files)
    assert {f.split("-")[0] for f in files if f.endswith(".parquet")} == {
        "data/train",
        "data/test",
        "matches/train",
    }
    assert all(size > 0 for size in files.values())
    with pytest.raises(TVHighlightsError, match="not a dataset folder"):
        push_dataset(folder / "data", "org/x", dry_run=True)


def test_rebuilt_folder_is_reread_by_datasets(tmp_path, monkeypatch):
    """`datasets` caches a local folder by its data file names: a rebuild must rename them."""
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    from datasets import load_dataset

    cache = str(tmp_path / "hf")
    out = tmp_path / "tvh"
    write_dataset(out, {"train": [_row("a", [1, 2], [1, 1])]})
    assert load_dataset(str(out), cache_dir=cache)["train"][0]["votes"] == [1, 2]
    write_dataset(out, {"train": [_row("a", [3, 0, 1], [1, 0, 0])]})
    assert load_dataset(str(out), cache_dir=cache)["train"][0]["votes"] == [3, 0, 1]


def test_folder_references_are_checked_as_strictly_as_jsonl(tmp_path):
    """One validator for every source of references: a bad row of a dataset folder is named."""
    out = tmp_path / "tvh"
    bad = _row("c", [1, 0, 0], [1, 2, 0], categories=["Action", None])  # label 2, 2 categories
    write_dataset(out, {"train": [_row("a", [0], [0])], "test": [bad, _row("c", [0], [0])]})
    with pytest.raises(ReferencesError) as info:
        load_dataset_references(out, "test")
    problems = info.value.problems
    assert problems[0] == "test row 0 (video 'c'): labels[1] is 2, expected 0 or 1"
    assert problems[1] == "test row 1 (video 'c'): duplicate video, first given on test row 0"
