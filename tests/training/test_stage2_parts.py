"""Stage 2's parts on hand-worked inputs: NLC's losses and label start, LLG's answer parser
and merge rule, HPI's merging and contradiction rules, the signals describer, the report."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tvhighlights.errors import LLMResponseError
from tvhighlights.llm.signals import describe_cues
from tvhighlights.training.stage2.hpi import (
    drop_contradictions,
    merge_similar,
    parse_correction,
    parse_patterns,
)
from tvhighlights.training.stage2.llg import (
    GENRES,
    chunks,
    llg_messages,
    merge_with_model,
    normalise_genre,
    parse_llg_answer,
    snap,
)
from tvhighlights.training.stage2.nlc import collapse_problem, init_label_logits, nlc_loss
from tvhighlights.training.stage2.report import round_table

# ------------------------------------------------------------------------------------ NLC


def test_labels_start_exactly_at_the_noisy_labels():
    y = torch.tensor([0.0, 0.1, 0.5, 0.9, 1.0])
    yd = torch.softmax(init_label_logits(y), -1)[:, 1]
    assert torch.allclose(yd, y.clamp(1e-6, 1 - 1e-6), atol=1e-6)


def test_nlc_loss_matches_the_papers_formulas():
    logits = torch.tensor([2.0, -1.0, 0.3])
    y_n = torch.tensor([0.9, 0.2, 0.5])
    tilde = init_label_logits(torch.tensor([0.7, 0.4, 0.5])).requires_grad_(True)
    w = torch.ones(3)
    total, parts = nlc_loss(logits, tilde, y_n, w, lambda_cp=0.1, lambda_s=0.4)
    p = torch.sigmoid(logits)
    f = torch.stack([1 - p, p], -1)
    yd = torch.softmax(tilde.detach(), -1)
    yn = torch.stack([1 - y_n, y_n], -1)
    kl = (f * (f.log() - yd.log())).sum(-1)  # KL(f || y^d), the model's distribution first
    cp = -(yn * yd.log()).sum(-1)
    ent = -(f * f.log()).sum(-1)
    assert math.isclose(
        float(total.detach()), float((kl + 0.1 * cp + 0.4 * ent).sum()), rel_tol=1e-5
    )
    assert math.isclose(parts["cp"], float(cp.mean()), rel_tol=1e-5)
    total.backward()
    # d/d(ỹ) of KL(f||softmax ỹ) + 0.1 * CE(y_n, softmax ỹ) = (y^d - f) + 0.1 (y^d - y_n)
    expected = (yd - f) + 0.1 * (yd - yn)
    assert torch.allclose(tilde.grad, expected, atol=1e-5)


def test_unlabelled_clips_do_not_count():
    logits = torch.tensor([1.0, -3.0])
    tilde = init_label_logits(torch.tensor([0.5, 0.5])).requires_grad_(True)
    total, _ = nlc_loss(logits, tilde, torch.tensor([0.5, 0.5]), torch.tensor([1.0, 0.0]))
    total.backward()
    assert torch.all(tilde.grad[1] == 0)


def test_collapse_check():
    rng = np.random.default_rng(0)
    healthy = torch.tensor(rng.random(200) < 0.15, dtype=torch.float32) * 0.8 + 0.1
    assert collapse_problem(healthy, 0.15) is None
    assert "spread" in collapse_problem(torch.full((200,), 0.3), 0.15)
    assert "fell" in collapse_problem(torch.tensor([0.9] * 2 + [0.1] * 198), 0.15)
    assert "rose" in collapse_problem(torch.tensor([0.9] * 150 + [0.1] * 50), 0.15)


# ------------------------------------------------------------------------------------ LLG


def test_llg_answers_in_every_form_a_model_writes():
    g = list(GENRES)
    a = parse_llg_answer(
        "<think>the genre is action; clip 2 is a fight</think>\nHere you go:\n```json\n"
        '{"genre": "Action", "scores": [{"clip": 1, "score": 0.23}, {"clip": 2, "score": "90%"}]}'
        "\n```\nHope this helps.",
        2,
        g,
    )
    assert a.genre == "action" and a.scores.tolist() == [0.2, 0.9] and not a.problems
    b = parse_llg_answer('{"genre": "science fiction", "scores": [0.1, 0.7, 0.3]}', 3, g)
    assert b.genre == "sci-fi" and b.scores.tolist() == [0.1, 0.7, 0.3]
    c = parse_llg_answer('{"genre": "telenovela", "scores": {"1": 1.4, "3": 0.5}}', 3, g)
    assert c.genre is None and c.problems["unknown genre"] == 1
    assert c.problems["out of range"] == 1 and c.problems["missing clip"] == 2
    assert np.isnan(c.scores[:2]).all() and c.scores[2] == 0.5
    # cut off by max_tokens in the middle of the third entry: the first two survive
    d = parse_llg_answer(
        '{"scores": [{"clip": 1, "score": 0.4}, {"clip": 2, "score": 0.6}, {"cl', 3, g
    )
    assert d.scores[:2].tolist() == [0.4, 0.6] and d.problems["missing clip"] == 1
    with pytest.raises(LLMResponseError, match="no clip scores"):
        parse_llg_answer("I cannot rate these clips.", 3, g)


def test_genre_normalisation_and_snapping():
    assert normalise_genre(" Sci_Fi ", GENRES) == "sci-fi"
    assert normalise_genre("wuxia", GENRES) == "action"
    assert normalise_genre(3, GENRES) is None
    assert [snap(x) for x in (0.04, 0.05, 0.96, 0.349)] == [0.0, 0.1, 1.0, 0.3]
    assert chunks(25, 12) == [(0, 12), (12, 24), (24, 25)]


def test_merge_with_confident_model_predictions():
    y_llm = np.array([0.8, np.nan, 0.2, np.nan, 0.6])
    model = np.array([0.95, 0.97, 0.05, 0.5, 0.5])
    y, w = merge_with_model(y_llm, model, low=0.1, high=0.9, model_weight=0.5)
    assert y.tolist() == pytest.approx([0.9, 1.0, 0.1, 0.0, 0.6])
    assert w.tolist() == [1, 1, 1, 0, 1]  # clip 4: neither source, left out
    _, w2 = merge_with_model(y_llm, None, low=None, high=None)
    assert w2.tolist() == [1, 0, 1, 0, 1]


def test_llg_prompt_carries_descriptions_times_and_patterns():
    msgs = llg_messages(
        "Film",
        "drama",
        ["loud; fast motion", None],
        62.0,
        {"highlight": ["a fight"], "non_highlight": []},
        ["drama", "action"],
    )
    text = msgs[-1]["content"]
    assert "clip 1 (1:02-1:04): loud; fast motion" in text
    assert "clip 2 (1:04-1:06): (no description)" in text
    assert "- a fight" in text and "one of: drama, action" in text


# ------------------------------------------------------------------------------------ HPI


class WordEmbedder:
    """Bag-of-words vectors: the rules under test, not a model's judgement."""

    def encode(self, texts):
        vocab = sorted({w for t in texts for w in t.lower().split()} | {"_"})
        m = np.array([[t.lower().split().count(w) for w in vocab] for t in texts], float)
        return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_patterns_merge_and_contradictions_drop():
    kept, dropped = merge_similar(["fast fight", "fight fast", "quiet talk"], WordEmbedder(), 0.8)
    assert kept == ["fast fight", "quiet talk"] and "merged into" in dropped[0]["why"]
    h, n, d = drop_contradictions(
        ["loud music", "a fight"], ["loud music", "talk"], WordEmbedder(), 0.8
    )
    assert h == ["a fight"] and n == ["talk"] and len(d) == 2


def test_merge_uses_real_sentence_embeddings():
    from tvhighlights.llm.embeddings import TextEmbedder

    kept, _ = merge_similar(
        ["a fierce sword fight", "an intense sword battle", "a quiet conversation"],
        TextEmbedder(),
        0.7,
    )
    assert kept == ["a fierce sword fight", "a quiet conversation"]


def test_hpi_answers_are_checked():
    h, n = parse_patterns(
        '<think>x</think>{"highlights": ["- Loud impacts.", 3], "non_highlight": "static dialogue"}'
    )
    assert h == ["Loud impacts"] and n == ["static dialogue"]
    with pytest.raises(LLMResponseError):
        parse_patterns('{"highlight": [], "non_highlight": []}')
    with pytest.raises(LLMResponseError):  # the template copied back is no pattern
        parse_patterns('{"highlight": ["pattern", "..."], "non_highlight": []}')
    assert parse_correction('{"keep": ["h1", "N2", "X9"]}', ["H1", "H2", "N1", "N2"]) == {
        "H1",
        "N2",
    }
    with pytest.raises(LLMResponseError):
        parse_correction("keep them all", ["H1"])


# ---------------------------------------------------------------------------- describer, report


def test_signals_description_says_what_was_measured():
    text = describe_cues(
        {
            "lufs": -12.0,
            "speech_ratio": 0.05,
            "motion_mean": 0.09,
            "cut_rate": 1.5,
            "luma_mean": 0.1,
            "onset_rate": 5.0,
        },
        {"lufs": -30.0, "motion_mean": 0.02},
    )
    assert text.startswith("loud (-12 LUFS, louder than most of the video)")
    for words in (
        "no speech: music or effects",
        "fast motion",
        "rapid cutting (3 cuts)",
        "dark",
        "busy sound",
    ):
        assert words in text
    assert describe_cues({}) == "nothing measured."


def test_round_table_leaves_out_columns_no_round_has():
    t = round_table(
        [
            {"round": 0, "val_clip_auc": 80.0},
            {"round": 1, "val_clip_auc": 85.5, "llm_coverage": 0.9},
        ]
    )
    assert t.splitlines()[0] == "| round | val AUC | LLM coverage |"
    assert "| 1 | 85.50 | 0.900 |" in t
