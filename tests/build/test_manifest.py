import json

import pytest

from tvhighlights.build.manifest import read_derivatives, read_sources
from tvhighlights.errors import ManifestError


@pytest.fixture
def videos(tmp_path):
    for name in ("film.mp4", "clip1.mp4", "clip2.mp4", "film é.mp4"):
        (tmp_path / name).write_bytes(b"x")
    return tmp_path


def test_csv_sources_resolve_relative_paths(videos):
    m = videos / "sources.csv"
    m.write_text(
        "video_id,path,title,genre\nbbb,film.mp4,Big Buck Bunny,animation\n"
        "uni,film é.mp4,Unicode film,\n"
    )
    entries, problems = read_sources(m)
    assert problems == []
    assert [e.video_id for e in entries] == ["bbb", "uni"]
    assert entries[0].path == videos / "film.mp4"
    assert entries[0].genre == "animation"
    assert entries[1].genre is None
    assert entries[1].path.name == "film é.mp4"


def test_jsonl_derivatives(videos):
    m = videos / "derivatives.jsonl"
    rows = [
        {"clip_id": "c1", "path": "clip1.mp4", "title": "best scene", "engagement": 12},
        {"clip_id": "c2", "path": str(videos / "clip2.mp4"), "title": "edit", "platform": "tiktok"},
    ]
    m.write_text("".join(json.dumps(r) + "\n" for r in rows))
    entries, problems = read_derivatives(m)
    assert problems == []
    assert entries[0].engagement == 12
    assert entries[1].platform == "tiktok"


def test_bad_rows_are_reported_with_line_and_field_and_skipped(videos):
    m = videos / "sources.csv"
    m.write_text(
        "video_id,path,title\n"
        "a,film.mp4,A\n"
        "a,film.mp4,A again\n"  # listed twice
        "b,missing.mp4,B\n"  # bad path
        ",film.mp4,C\n"  # empty id
        "d,film.mp4,\n"  # empty title
    )
    entries, problems = read_sources(m)
    assert [e.video_id for e in entries] == ["a"]
    text = "\n".join(problems)
    assert "line 3 (video_id 'a'): listed twice (first on line 2)" in text
    assert "line 4 (video_id 'b'): field 'path': no such file" in text
    assert "line 5: field 'video_id' is empty" in text
    assert "line 6 (video_id 'd'): field 'title' is empty" in text


def test_bad_engagement(videos):
    m = videos / "d.csv"
    m.write_text("clip_id,path,title,engagement\nc1,clip1.mp4,t,lots\n")
    entries, problems = read_derivatives(m)
    assert entries == []
    assert "line 2 (clip_id 'c1'): field 'engagement' is 'lots'" in problems[0]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("s.csv", "video_id,title\nbbb,B\n", "missing column(s) path"),
        ("s.csv", "video_id,path,title\n", "no rows"),
        ("s.txt", "video_id,path,title\n", "unknown manifest format '.txt'"),
        ("s.jsonl", '{"video_id": "a", "path": "film.mp4", "title": "t"}\n{oops\n', "line 2"),
    ],
)
def test_unusable_manifests_raise(videos, name, content, expected):
    m = videos / name
    m.write_text(content)
    with pytest.raises(ManifestError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        read_sources(m)


def test_missing_manifest(tmp_path):
    with pytest.raises(ManifestError, match="file not found"):
        read_sources(tmp_path / "nope.csv")
