"""An annotator's session without a browser: moves, decisions, resuming, progress; the video
list from a dataset folder; the clips' pictures made in the background."""

from __future__ import annotations

import pytest
from annotated import make_video_dataset
from media import write_video

from tvhighlights.annotate.session import AnnotationSession
from tvhighlights.annotate.store import AnnotationStore
from tvhighlights.annotate.thumbnails import Thumbnails
from tvhighlights.annotate.videos import AnnotationVideo, load_videos
from tvhighlights.errors import InputFormatError, InvalidArgumentError


def _videos(tmp_path, sizes=(5, 3)) -> list[AnnotationVideo]:
    return [AnnotationVideo(f"v{i}", tmp_path / f"v{i}.mp4", n, duration=2.0 * n)
            for i, n in enumerate(sizes)]  # fmt: skip


def test_decisions_move_on_and_a_new_session_resumes_where_the_last_stopped(tmp_path):
    store = AnnotationStore(tmp_path / "store")
    s = AnnotationSession(store, _videos(tmp_path), "ann")
    assert (s.video.video_id, s.clip) == ("v0", 0)
    s.decide(False)
    assert s.clip == 1
    s.decide(True)  # a highlight without a category waits for one
    assert s.clip == 1 and s.decision.category is None
    s.decide(True, "CGI")
    assert s.clip == 2
    s.decide(False, "Action")  # a category makes it a highlight
    assert store.read("ann").latest[("v0", 2)].highlight
    s.step(2)  # past the end of v0: into v1
    assert (s.video.video_id, s.clip) == ("v1", 0)
    s.step(-1)
    assert (s.video.video_id, s.clip) == ("v0", 4)
    p = s.progress()
    assert (p.video_done, p.video_total, p.done, p.total) == (3, 5, 3, 8)

    again = AnnotationSession(store, _videos(tmp_path), "ann")
    assert (again.video.video_id, again.clip) == ("v0", 4)
    assert again.decisions["v0"][1].category == "CGI"
    # the next clip without a decision: after the current one, then the next videos
    assert again.next_unannotated()
    assert (again.video.video_id, again.clip) == ("v1", 0)
    again.select_video("v0")
    assert again.clip == 3  # the first clip of v0 without a decision
    with pytest.raises(InvalidArgumentError, match="unknown video"):
        again.select_video("nope")


def test_next_unannotated_video_and_all_done(tmp_path):
    store = AnnotationStore(tmp_path / "store")
    s = AnnotationSession(store, _videos(tmp_path, (2, 1)), "ann", advance=False)
    assert s.next_unannotated_video() and s.video.video_id == "v1"
    s.decide(False)
    assert s.next_unannotated_video() and (s.video.video_id, s.clip) == ("v0", 0)
    s.decide(True, "Emotional")
    s.goto(1)
    s.decide(False)
    assert not s.next_unannotated() and not s.next_unannotated_video()
    assert s.progress().videos_done == 2
    assert list(s.window(15)) == [0, 1]


def test_the_strip_window_stays_inside_the_video(tmp_path):
    s = AnnotationSession(AnnotationStore(tmp_path), _videos(tmp_path, (3600,)), "ann")
    assert list(s.window(15)) == list(range(15))
    s.goto(1800)
    assert list(s.window(15)) == list(range(1793, 1808))
    s.goto(99999)
    assert s.clip == 3599 and list(s.window(15))[-1] == 3599


def test_load_videos_from_a_dataset_and_a_csv(tmp_path):
    a = write_video(tmp_path / "a.mp4", 5.0)
    b = write_video(tmp_path / "b.mp4", 3.0)
    dataset = make_video_dataset(tmp_path, {"a": a, "b": b}, test=1)
    assert [v.video_id for v in load_videos(dataset)] == ["b"]  # default: the test split
    csv = tmp_path / "videos.csv"
    csv.write_text(f"video_id,path\nb,\na,{a}\n")
    got = load_videos(dataset, csv)
    assert [(v.video_id, v.num_clips, v.split) for v in got] == [
        ("b", 2, "test"),
        ("a", 3, "train"),
    ]
    assert got[0].clip_span(1) == (2.0, 3.0)

    csv.write_text("video_id\nb\nnope\nb\n")
    with pytest.raises(InputFormatError) as e:
        load_videos(dataset, csv)
    assert "line 3: video 'nope' is not a row" in str(e.value)
    assert "line 4: video 'b' is listed twice" in str(e.value)
    csv.write_text("id\nb\n")
    with pytest.raises(InputFormatError, match="no 'video_id' column"):
        load_videos(dataset, csv)

    b.unlink()  # the file moved after the build: reported by the video, not fatal
    (moved,) = load_videos(dataset, ["b"])
    assert "the video file is missing" in moved.missing


def test_thumbnails_are_made_once_in_the_background_and_cached(tmp_path):
    path = write_video(tmp_path / "v.mp4", 9.0, size=(64, 36))
    video = AnnotationVideo("v", path, 5, duration=9.0)
    thumbs = Thumbnails(tmp_path / "thumbs", width=32)
    assert thumbs.available(video, 0) is None
    thumbs.request(video)
    st = thumbs.wait(video, timeout=120)
    assert st.finished and st.error is None and st.made == 5
    pics = sorted(thumbs.path(video, 0).parent.glob("*.jpg"))
    assert [p.name for p in pics] == [f"{i:05d}.jpg" for i in range(5)]
    from PIL import Image

    assert Image.open(pics[0]).size == (32, 18)
    # a new process finds them on disk; a changed file gets new ones
    again = Thumbnails(tmp_path / "thumbs", width=32)
    assert again.status(video).made == 5 and again.available(video, 4) is not None
    write_video(path, 9.0, size=(64, 36), fps=12)
    assert Thumbnails(tmp_path / "thumbs", width=32).status(video).made == 0


def test_a_video_that_does_not_decode_stops_its_pictures_with_the_reason(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all")
    video = AnnotationVideo("bad", bad, 3, duration=6.0)
    thumbs = Thumbnails(tmp_path / "thumbs")
    st = thumbs.make(video)
    assert st.finished and st.error and "bad.mp4" in st.error


def test_pictures_start_at_the_strip_window_then_fill_in_the_rest(tmp_path):
    path = write_video(tmp_path / "v.mp4", 40.0, size=(64, 36))
    video = AnnotationVideo("v", path, 20, duration=40.0)
    thumbs = Thumbnails(tmp_path / "thumbs", width=32)
    thumbs.request(video, around=15)
    st = thumbs.wait(video, timeout=120)
    assert st.error is None and st.made == 20
    made = sorted(thumbs.path(video, 0).parent.glob("*.jpg"), key=lambda p: p.stat().st_mtime_ns)
    assert int(made[0].stem) == 7  # the window around clip 15 came first


def test_a_hand_edited_file_opens_with_the_bad_lines_named_and_skipped(tmp_path):
    store = AnnotationStore(tmp_path / "store")
    store.record("ann", "v0", 0, True, "Action")
    with open(store.path("ann"), "a") as fh:
        fh.write('{"video_id": "v0", "clip": 99, "highlight": true, "annotator": "ann"}\n')
        fh.write("not json at all\n")
    store.record("ann", "v0", 1, False)
    s = AnnotationSession(store, _videos(tmp_path), "ann")
    assert sorted(s.decisions["v0"]) == [0, 1]
    assert len(s.warnings) == 2
    assert any("line 2: clip 99 is out of range" in w for w in s.warnings)
    assert any("line 3: not JSON" in w for w in s.warnings)
    s.decide(False)  # and the annotator goes on: appending never touches the bad lines
    assert "not json at all" in store.path("ann").read_text()
