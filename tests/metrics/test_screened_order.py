"""Cell orders of screened explanations: screened-out cells after the estimated ones, by their group's index."""

import numpy as np
import pytest

from spectral_attribution import metrics
from spectral_attribution.attributions.explanation import Explanation


def _explanation(indices, estimated=None, bounds=None):
    g = indices.shape[0]
    return Explanation(method="wcam", indices=indices, map=np.zeros((4 * g, 4 * g), np.float32), spatial=None,
                       target=1, predicted=1, score=0.0, predicted_score=0.0,
                       estimated=estimated, bounds=bounds)


def test_full_estimate_is_the_plain_decreasing_order():
    idx = np.array([[0.1, 0.4], [0.3, 0.2]], np.float32)
    assert metrics.explanation_order(_explanation(idx)).tolist() == [1, 2, 3, 0]


def test_screened_cells_follow_estimated_ones_by_decreasing_group_index():
    # cells 0 and 3 estimated (0.5, 0.2); cells 1, 2 screened out with group indices 0.004, 0.009
    idx = np.array([[0.5, 0.0], [0.0, 0.2]], np.float32)
    est = np.array([[True, False], [False, True]])
    bounds = np.array([[0.5, 0.004], [0.009, 0.2]], np.float32)
    order = metrics.explanation_order(_explanation(idx, est, bounds))
    assert order.tolist() == [0, 3, 2, 1]
    # without the bounds the tie at 0 falls back to row-major order
    assert metrics.importance_order(idx).tolist() == [0, 3, 1, 2]


def test_tie_break_must_match_the_number_of_cells():
    with pytest.raises(ValueError, match="tie_break has 3 values, attribution 4"):
        metrics.importance_order(np.zeros(4), np.zeros(3))
