from dataclasses import dataclass

import numpy as np
import pytest

from tvhighlights.build.voting import (
    LabelRule,
    clip_labels,
    count_votes,
    video_label,
    vote_scores,
    windows,
)
from tvhighlights.clips import num_clips


@dataclass
class M:
    derivative_id: str
    source_id: str
    source_start: float
    source_end: float


def test_one_vote_per_derivative_per_clip():
    matches = [
        M("d1", "s", 0.0, 3.0),  # clips 0 (2 s) and 1 (1 s)
        M("d1", "s", 2.5, 4.0),  # same derivative again on clip 1: still one vote
        M("d2", "s", 2.0, 6.0),  # clips 1, 2
        M("d3", "s", 7.0, 7.5),  # covers only 0.5 s of clip 3: no vote
        M("d4", "other", 0.0, 10.0),  # a source not in durations: ignored
    ]
    votes = count_votes(matches, {"s": 10.0}, min_overlap=1.0)
    np.testing.assert_array_equal(votes["s"], [1, 2, 1, 0, 0])
    assert votes["s"].dtype == np.int32
    # the union of d1's two spans covers clip 1 for 2 s: with a 1.5 s threshold it counts once
    votes = count_votes(matches, {"s": 10.0}, min_overlap=1.5)
    np.testing.assert_array_equal(votes["s"], [1, 2, 1, 0, 0])


def test_scores_and_labels_follow_the_rule():
    votes = np.array([0, 1, 4, 2, 3])
    np.testing.assert_allclose(vote_scores(votes), [0, 0.25, 1, 0.5, 0.75])
    rule = LabelRule(min_votes=2, min_score=0.5)
    np.testing.assert_array_equal(clip_labels(votes, rule), [0, 0, 1, 1, 1])
    assert video_label(clip_labels(votes, rule), LabelRule(min_positive_clips=3)) == 1
    assert video_label(clip_labels(votes, rule), LabelRule(min_positive_clips=4)) == 0
    np.testing.assert_array_equal(vote_scores(np.zeros(3, int)), [0, 0, 0])
    assert video_label(np.zeros(3, int), LabelRule()) == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_overlap": 0},
        {"min_overlap": 2.5},
        {"min_votes": 0},
        {"min_score": 1.5},
        {"min_positive_clips": 0},
    ],
)
def test_bad_rules(kwargs):
    with pytest.raises(ValueError):
        LabelRule(**kwargs)


def test_windows_slice_the_grid():
    assert windows(10.0, None) == [(0.0, 10.0)]
    w = windows(25.0, 10.0)
    assert w == [(0.0, 10.0), (10.0, 20.0), (20.0, 25.0)]
    # per-window clip counts add up to the source's
    assert sum(num_clips(e - s) for s, e in w) == num_clips(25.0)
    # a 0.5 s tail is no clip of the grid, so no window either
    assert windows(20.5, 10.0) == [(0.0, 10.0), (10.0, 20.0)]
    with pytest.raises(ValueError, match="multiple of 2"):
        windows(25.0, 3.0)


def test_coverage_is_what_the_votes_sum():
    from tvhighlights.build.voting import derivative_coverage, votes_from_coverage

    matches = [M("d1", "s", 0.0, 3.0), M("d2", "s", 2.0, 6.0), M("d2", "s", 8.0, 9.5)]
    cov = derivative_coverage(matches, {"s": 10.0})
    np.testing.assert_array_equal(cov["s"]["d1"], [1, 1, 0, 0, 0])
    np.testing.assert_array_equal(cov["s"]["d2"], [0, 1, 1, 0, 1])
    votes = votes_from_coverage(cov, {"s": 10.0})
    np.testing.assert_array_equal(votes["s"], count_votes(matches, {"s": 10.0})["s"])
