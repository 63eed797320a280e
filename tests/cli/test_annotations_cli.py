"""``tvhighlights annotations add-user | agreement | aggregate`` as a user runs them."""

from __future__ import annotations

import json

import pyarrow as pa
from annotated import make_video_dataset
from cli_runner import run_cli
from media import write_video
from tvhighlights.builders.tvhighlights.schema import FEATURE_ROWS, arrow_schema

from tvhighlights.annotate import AnnotationStore, Annotators
from tvhighlights.annotate.videos import load_videos
from tvhighlights.data import add_config, read_split


def _features(videos: dict[str, int]) -> pa.Table:
    rows = [
        {
            "video_id": v,
            "num_clips": n,
            "visual": [[float(i)] * 3 for i in range(n)],
            "audio": [[0.0]] * n,
            "audio_mask": [True] * n,
        }
        for v, n in videos.items()
    ]
    return pa.Table.from_pylist(rows, schema=arrow_schema(FEATURE_ROWS))


def test_add_user_agreement_and_aggregate_end_to_end(tmp_path):
    users = tmp_path / "annotators.json"
    for name in ("ann", "bob"):
        res = run_cli("annotations", "add-user", str(users), name, "--password-stdin",
                      input=f"pw-{name}\n")  # fmt: skip
        assert res.returncode == 0 and f"added {name}" in res.stdout, res.stderr
    assert Annotators(users)("bob", "pw-bob") and "pw-bob" not in users.read_text()
    res = run_cli("annotations", "add-user", str(users), "../evil", "--password-stdin", input="x\n")
    assert res.returncode == 1 and "annotator name '../evil' is not allowed" in res.stderr

    vids = {f"v{i}": write_video(tmp_path / f"v{i}.mp4", 5.0 + 2 * i, size=(32, 18))
            for i in range(3)}  # fmt: skip
    dataset = make_video_dataset(tmp_path, vids)
    add_config(dataset, "features", {"train": _features({"v0": 3, "v1": 4, "v2": 5})})
    store = AnnotationStore(tmp_path / "store")
    items = load_videos(dataset, ["v0", "v1"])
    store.write_videos({v.video_id: v.to_json() for v in items})

    res = run_cli("annotations", "aggregate", "--store", str(store.root), "--dataset",
                  str(dataset))  # fmt: skip
    assert res.returncode == 1 and "no annotator's file" in res.stderr

    for name, flips in (("ann", set()), ("bob", {2})):
        for v in items:
            for c in range(v.num_clips):
                yes = (c == 1) != (c in flips)
                store.record(name, v.video_id, c, yes, "Emotional" if yes else None)
    res = run_cli("annotations", "agreement", "--store", str(store.root), "--json",
                  str(tmp_path / "k.json"))  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert (
        "| Cohen's kappa | ann | bob |" in res.stdout and (store.root / "agreement.png").is_file()
    )
    kappas = json.loads((tmp_path / "k.json").read_text())
    assert kappas["overall"]["pairs"][0]["clips"] == 7

    summary = tmp_path / "s.json"
    res = run_cli("annotations", "aggregate", "--store", str(store.root), "--dataset",
                  str(dataset), "--tie", "positive", "--json", str(summary))  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "test split of" in res.stdout and "2 videos" in res.stdout
    assert "tvhighlights eval --references" in res.stdout
    test = read_split(dataset, "test").to_pylist()
    assert [r["video_id"] for r in test] == ["v0", "v1"]
    assert test[0]["labels"] == [0, 1, 1]  # clip 2: one of two said highlight, tie -> positive
    assert read_split(dataset, "train").column("video_id").to_pylist() == ["v2"]
    # the features rows moved with their videos
    assert read_split(dataset, "test", "features").column("video_id").to_pylist() == ["v0", "v1"]
    assert read_split(dataset, "train", "features").column("video_id").to_pylist() == ["v2"]
    assert json.loads((tmp_path / "s.json").read_text())["ties"] == 2


def test_bad_store_lines_and_a_store_without_videos_exit_1(tmp_path):
    a = write_video(tmp_path / "a.mp4", 5.0, size=(32, 18))
    dataset = make_video_dataset(tmp_path, {"a": a})
    store = AnnotationStore(tmp_path / "store")
    store.record("ann", "a", 0, True, "CGI")
    res = run_cli("annotations", "agreement", "--store", str(store.root))
    assert res.returncode == 1 and "videos.json" in res.stderr
    store.write_videos({"a": {"num_clips": 3}})
    with open(store.path("ann"), "a") as fh:
        fh.write('{"video_id": "a", "clip": 7, "highlight": true, "annotator": "ann"}\n')
    res = run_cli("annotations", "aggregate", "--store", str(store.root), "--dataset", str(dataset))
    assert res.returncode == 1
    assert "ann.jsonl" in res.stderr and "line 2: clip 7 is out of range" in res.stderr
    res = run_cli("annotations", "aggregate", "--store", str(store.root), "--dataset",
                  str(dataset), "--tie", "coin")  # fmt: skip
    assert res.returncode == 2 and "--tie" in res.stderr  # a usage error, before any reading
