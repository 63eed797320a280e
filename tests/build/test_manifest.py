import json
from pathlib import Path

import pytest

from tvhighlights.build.manifest import read_derivatives, read_source_contexts, read_sources
from tvhighlights.build.titles import SourceContext
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


def test_csv_source_context_columns(videos):
    m = videos / "sources.csv"
    m.write_text(
        "video_id,path,title,genre,aliases,synopsis,characters,keywords,notes\n"
        'bbb,film.mp4,Big Buck Bunny,animation,BBB| Project Peach |,"A rabbit, bullied, '
        'takes revenge.",Buck|Frank|Rinky,rabbit|bunny|rabbit,extra column\n'
        "plain,film.mp4,Plain film,,,,,,\n",
        encoding="utf-8",
    )
    entries, problems = read_sources(m)
    assert problems == []
    bbb, plain = entries
    assert bbb.aliases == ("BBB", "Project Peach")
    assert bbb.synopsis == "A rabbit, bullied, takes revenge."
    assert bbb.characters == ("Buck", "Frank", "Rinky")
    assert bbb.keywords == ("rabbit", "bunny")  # repeats kept once
    assert (plain.aliases, plain.synopsis, plain.characters, plain.keywords) == ((), None, (), ())
    ctx = bbb.context()
    assert isinstance(ctx, SourceContext)
    assert ctx.pieces() == [
        "Big Buck Bunny",
        "Big Buck Bunny (animation)",
        "BBB",
        "Project Peach",
        "A rabbit, bullied, takes revenge.",
        "characters: Buck, Frank, Rinky",
        "keywords: rabbit, bunny",
    ]
    assert "Characters: Buck, Frank, Rinky" in ctx.text()
    assert plain.context() == SourceContext("Plain film")


def test_jsonl_source_context_lists_and_bad_values(videos):
    m = videos / "sources.jsonl"
    rows = [
        {
            "video_id": "ok",
            "path": "film.mp4",
            "title": "Sintel",
            "aliases": ["Durian"],
            "characters": "Sintel|Scales",  # |-separated text is accepted in JSONL too
            "keywords": ["dragon", "quest"],
            "synopsis": None,
        },
        {"video_id": "num", "path": "film.mp4", "title": "T", "characters": ["Buck", 3]},
        {"video_id": "obj", "path": "film.mp4", "title": "T", "keywords": {"a": 1}},
        {"video_id": "syn", "path": "film.mp4", "title": "T", "synopsis": ["one", "two"]},
        {"video_id": "gen", "path": "film.mp4", "title": "T", "genre": {"name": "x"}},
        {"video_id": "nested", "path": "film.mp4", "title": "T", "aliases": [["a"]]},
    ]
    m.write_text("".join(json.dumps(r) + "\n" for r in rows))
    entries, problems = read_sources(m)
    assert [e.video_id for e in entries] == ["ok"]
    ok = entries[0]
    assert ok.aliases == ("Durian",)
    assert ok.characters == ("Sintel", "Scales")
    assert ok.keywords == ("dragon", "quest")
    assert ok.synopsis is None
    text = "\n".join(problems)
    assert len(problems) == 5
    assert "line 2 (video_id 'num'): field 'characters': item 2 is 3, not text" in text
    assert "line 3 (video_id 'obj'): field 'keywords' is {\"a\": 1}, expected a list" in text
    assert "line 4 (video_id 'syn'): field 'synopsis' is a list, expected text" in text
    assert "line 5 (video_id 'gen'): field 'genre' is a dict, expected text" in text
    assert "line 6 (video_id 'nested'): field 'aliases': item 1 is [\"a\"], not text" in text
    assert all(p.startswith(str(m)) and p.endswith("this row is skipped") for p in problems)


def test_read_source_contexts_needs_no_videos(tmp_path):
    m = tmp_path / "sources.jsonl"
    rows = [
        {"video_id": "a", "title": "A film", "keywords": ["x"]},
        {"video_id": "a", "title": "again"},
        {"video_id": "b", "title": ""},
        {"video_id": "c", "title": "C", "aliases": [1]},
    ]
    m.write_text("".join(json.dumps(r) + "\n" for r in rows))
    contexts, problems = read_source_contexts(m)
    assert contexts == {"a": SourceContext("A film", keywords=("x",))}
    text = "\n".join(problems)
    assert "line 2 (video_id 'a'): listed twice (first on line 1)" in text
    assert "line 3 (video_id 'b'): field 'title' is empty" in text
    assert "line 4 (video_id 'c'): field 'aliases': item 1 is 1, not text" in text
    with pytest.raises(ManifestError, match="missing column"):
        (tmp_path / "s.csv").write_text("video_id,path\na,b\n")
        read_source_contexts(tmp_path / "s.csv")


def test_shipped_manifests_have_context():
    root = Path(__file__).resolve().parents[2]
    for path in (root / "examples/bbb/sources.csv", root / "tests/build/data/titles/sources.jsonl"):
        contexts, problems = read_source_contexts(path)
        assert problems == [], path
        for vid, c in contexts.items():
            assert c.aliases and c.synopsis and c.characters and c.keywords, (path, vid)
