import numpy as np
import pytest

from tvhighlights.clips import clip_bounds, clip_index, num_clips, span_overlap, spans_to_labels


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        (0.0, 0),
        (0.9, 0),
        (0.9999, 0),  # short of the 1 s minimum by more than float noise
        (1.0, 1),
        (1.9, 1),
        (2.0, 1),
        (2.9, 1),
        (3.0, 2),
        (4.0, 2),
        (596.458333, 298),
        (600.0, 300),
        (3.9999999, 2),  # float noise below an exact multiple
        (4.0000001, 2),  # and above it
        (2.9999999, 2),  # float noise below the 1 s rest
        (0.9999999, 1),
    ],
)
def test_num_clips(duration, expected):
    assert num_clips(duration) == expected
    assert len(clip_bounds(duration)) == expected


def test_exact_multiples():
    for k in range(0, 50):
        assert num_clips(2.0 * k) == k
        assert num_clips(2.0 * k + 1.0) == k + 1
        assert num_clips(2.0 * k + 0.5) == k


def test_bounds_cover_grid_and_clamp_to_duration():
    b = clip_bounds(5.5)
    np.testing.assert_allclose(b, [[0, 2], [2, 4], [4, 5.5]])
    assert clip_bounds(0.5).shape == (0, 2)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_bad_duration(bad):
    with pytest.raises(ValueError, match="duration"):
        num_clips(bad)


def test_clip_index():
    assert clip_index(0.0, 10) == 0
    assert clip_index(1.999, 10) == 0
    assert clip_index(2.0, 10) == 1
    assert clip_index(10.0, 10) is None
    assert clip_index(4.5, 4.8) is None  # the 0.8 s tail is not a clip
    assert clip_index(-0.1, 10) is None


def test_span_overlap_merges_overlapping_spans():
    cov = span_overlap([(1, 3), (2, 5)], 6)
    np.testing.assert_allclose(cov, [1, 2, 1])


def test_spans_to_labels_threshold():
    # clip 0 holds 1.0 s of the span (>= 1 s: positive), clip 2 holds 0.5 s (negative)
    labels = spans_to_labels([(1, 4.5)], 6, min_overlap=1.0)
    np.testing.assert_array_equal(labels, [1, 1, 0])
    labels = spans_to_labels([(1, 4.5)], 6, min_overlap=1.5)
    np.testing.assert_array_equal(labels, [0, 1, 0])
    with pytest.raises(ValueError, match="before its start"):
        spans_to_labels([(3, 1)], 6)
