"""The dataset builder: a real ``datasets.GeneratorBasedBuilder`` prepared from manifests of real
video, whose configs, the published folder and ``load_dataset(folder)`` agree on one schema."""

from __future__ import annotations

import csv

import pyarrow.parquet as pq
import pytest
from tvhighlights.builders.tvhighlights import (
    CONFIG_FEATURES,
    FEATURE_ROWS,
    MATCH_ROWS,
    VIDEO_ROWS,
    TVHighlightsBuilder,
)
from tvhighlights.builders.tvhighlights.schema import arrow_schema

from tvhighlights.build import BuildConfig
from tvhighlights.build.simulate import simulate_derivative
from tvhighlights.errors import InvalidArgumentError


def test_one_schema_per_config():
    assert set(CONFIG_FEATURES) == {"default", "windowed", "matches", "features"}
    schema = arrow_schema(VIDEO_ROWS)
    assert str(schema.field("labels").type) == "list<item: int64>"  # ClassLabel storage
    assert str(schema.field("votes").type) == "list<item: int32>"
    assert not schema.metadata  # no datasets metadata: the same rows give the same bytes
    assert "flipped" in MATCH_ROWS and "audio_mask" in FEATURE_ROWS


def test_builder_needs_manifests(tmp_path):
    builder = TVHighlightsBuilder(cache_dir=str(tmp_path / "hf"))
    with pytest.raises(InvalidArgumentError, match="sources= and derivatives="):
        builder.download_and_prepare()


def test_windowed_preset_cuts_rows_of_120_seconds(tmp_path):
    builder = TVHighlightsBuilder(cache_dir=str(tmp_path / "hf"), config_name="windowed")
    assert builder.config.build.window == 120.0
    assert TVHighlightsBuilder(cache_dir=str(tmp_path / "hf")).config.build.window is None


@pytest.fixture(scope="module")
def manifests(tmp_path_factory, sample):
    """The real trailer as the source; a mirrored re-upload of 10-20 s of it; an off-topic clip."""
    root = tmp_path_factory.mktemp("builder")
    source = sample("bbb_trailer")
    flip = simulate_derivative(source, "trailer", [(10.0, 20.0)], root / "flip.mp4",
                               family="hflip", seed=3)  # fmt: skip
    with open(root / "sources.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["video_id", "path", "title", "genre"])
        w.writerow(["trailer", str(source), "Big Buck Bunny trailer", "animation"])
    with open(root / "derivatives.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["clip_id", "path", "title"])
        w.writerow(["flip", "flip.mp4", "Bunny scene mirrored"])
        w.writerow(["concert", str(sample("iscc_mp4")), "live concert full set"])
    return root, flip


@pytest.mark.slow
def test_prepare_as_dataset_and_the_published_folder_agree(manifests, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    from datasets import load_dataset

    root, _ = manifests
    common = {
        "sources": str(root / "sources.csv"),
        "derivatives": [str(root / "derivatives.csv")],
        "build": BuildConfig(title_filter="none", window=20.0),
        "work_dir": str(tmp_path / "work"),
    }
    builder = TVHighlightsBuilder(cache_dir=str(tmp_path / "hf"), **common)
    builder.download_and_prepare()
    ds = builder.as_dataset()
    assert set(ds) == {"train"}
    assert ds["train"].features == VIDEO_ROWS
    rows = ds["train"].to_list()
    assert [r["video_id"] for r in rows] == ["trailer_w0000", "trailer_w0001", "trailer_w0002"]
    first = rows[0]  # 0-20 s: the mirrored re-upload of 10-20 s voted for clips 5..9
    assert first["votes"][5:10] == [1] * 5 and first["votes"][:5] == [0] * 5
    assert first["video_label"] == 1 and rows[2]["video_label"] == 0

    matches = TVHighlightsBuilder(cache_dir=str(tmp_path / "hf"), config_name="matches", **common)
    matches.download_and_prepare()
    audit = matches.as_dataset()["train"]
    assert audit.features == MATCH_ROWS
    assert set(audit["derivative_id"]) == {"flip"} and all(audit["flipped"])

    # the published folder: written from the same build (no work redone), read without us
    out = builder.write_folder(tmp_path / "tvh")
    published = load_dataset(str(out), cache_dir=str(tmp_path / "hf-read"))
    assert published["train"].features == VIDEO_ROWS
    assert published["train"].to_list() == rows
    (parquet,) = (out / "data").glob("train-*.parquet")
    assert pq.read_schema(parquet).remove_metadata() == arrow_schema(VIDEO_ROWS)
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "| window | 20.0 |" in card and "| sources | 1 |" in card


@pytest.mark.slow
def test_features_config_from_a_feature_folder(manifests, tmp_path, sample):
    from tvhighlights.features import extract_features, get_extractor, requests_from_paths

    root, _ = manifests
    extract_features(
        requests_from_paths([f"trailer={sample('bbb_trailer')}"]),
        [get_extractor("handcrafted", vad="heuristic")],
        tmp_path / "features",
    )
    builder = TVHighlightsBuilder(
        cache_dir=str(tmp_path / "hf"),
        config_name="features",
        sources=str(root / "sources.csv"),
        derivatives=[str(root / "derivatives.csv")],
        build=BuildConfig(title_filter="none"),
        work_dir=str(tmp_path / "work"),
        features_dir=str(tmp_path / "features"),
    )
    builder.download_and_prepare()
    (row,) = builder.as_dataset()["train"].to_list()
    assert row["video_id"] == "trailer" and row["num_clips"] == 28
    assert len(row["visual"]) == 28 and len(row["visual"][0]) == 21 and len(row["audio"][0]) == 13
