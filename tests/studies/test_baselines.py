"""Model-free baselines: level ranks of the grid cells, orders and attributions, seeded."""

import numpy as np
import pytest

from spectral_attribution.studies import baselines as B
from spectral_attribution.attributions.explanation import Explanation
from spectral_attribution.attributions.transforms import WaveletTransform


def wcam_like(grid_size, levels, size):
    return Explanation(method="wcam", indices=np.zeros((grid_size, grid_size), np.float32),
                       map=np.zeros((size, size), np.float32), spatial=None, target=0, predicted=0,
                       score=0.0, predicted_score=0.0,
                       settings={"wavelet": "haar", "levels": levels, "grid_size": grid_size,
                                 "image_size": [size, size]})


def test_level_ranks_of_an_aligned_grid():
    # 32 px, J = 2, grid 4 (8-px cells): approximation = cell (0, 0), level 2 = the three
    # other cells of the top-left quarter, level 1 = the rest.
    ranks = B.cell_level_ranks(wcam_like(4, 2, 32))
    np.testing.assert_array_equal(ranks, [[0, 1, 2, 2], [1, 1, 2, 2], [2, 2, 2, 2], [2, 2, 2, 2]])
    bands = WaveletTransform("haar", 2).subbands(32, 32)
    np.testing.assert_array_equal(B.cell_level_ranks(bands, 4), ranks)
    assert B.level_names(2) == ["approximation", "level_2", "level_1"]


def test_a_straddling_cell_takes_its_coarsest_level():
    # The paper's grid 28 at 224 px, J = 3: 8-px cells, a 28-px approximation block.
    ranks = B.cell_level_ranks(wcam_like(28, 3, 224))
    assert (ranks[:4, :4] == 0).all()          # cell 3 covers rows 24-32: approximation and level 3
    assert ranks[4, 0] == 1 and ranks[0, 4] == 1 and ranks[6, 6] == 1   # level 3: rows 28-56
    assert ranks[7, 0] == 2 and ranks[13, 13] == 2                      # level 2: rows 56-112
    assert ranks[14, 0] == 3 and ranks[27, 27] == 3                     # level 1
    assert np.bincount(ranks.ravel()).tolist() == [16, 33, 147, 588]


def test_level_prior_generalises_to_J():
    ranks = B.cell_level_ranks(wcam_like(8, 3, 64))
    prior = B.level_prior(ranks)
    assert prior[0, 0] == 4 and prior[0, 1] == 3 and prior[0, 2] == 2 and prior[7, 7] == 1
    assert sorted(np.unique(B.level_prior(B.cell_level_ranks(wcam_like(16, 4, 64))))) == [1, 2, 3, 4, 5]


def test_coarse_to_fine_order_sorts_levels_and_breaks_ties_by_seed():
    ranks = B.cell_level_ranks(wcam_like(8, 3, 64))
    order = B.coarse_to_fine_order(ranks, seed=(0, 1))
    assert sorted(order.tolist()) == list(range(64))
    assert (np.diff(ranks.ravel()[order]) >= 0).all()            # levels never go back
    assert order[0] == 0                                         # the one approximation cell
    np.testing.assert_array_equal(order, B.coarse_to_fine_order(ranks, seed=(0, 1)))
    assert not np.array_equal(order, B.coarse_to_fine_order(ranks, seed=(0, 2)))


def test_within_level_order_keeps_the_reference_level_sequence():
    ranks = B.cell_level_ranks(wcam_like(8, 3, 64))
    reference = np.random.default_rng(5).permutation(64)
    first = B.approximation_first(reference, ranks)
    assert first[0] == 0 and sorted(first.tolist()) == list(range(64))
    np.testing.assert_array_equal(first[1:], reference[reference != 0])
    order = B.within_level_order(ranks, seed=7, reference=first)
    flat = ranks.ravel()
    np.testing.assert_array_equal(flat[order], flat[first])      # same level at every position
    assert sorted(order.tolist()) == list(range(64)) and not np.array_equal(order, first)
    np.testing.assert_array_equal(order, B.within_level_order(ranks, seed=7, reference=first))
    # without a reference: the coarse-to-fine sequence of levels
    plain = B.within_level_order(ranks, seed=7)
    assert (np.diff(flat[plain]) >= 0).all()


def test_random_baselines_are_reproducible_from_their_seed():
    for make in (lambda s: B.random_order(16, s), lambda s: B.random_attribution((4, 4), s)):
        np.testing.assert_array_equal(make((1, 2, 3)), make((1, 2, 3)))
        assert not np.array_equal(make((1, 2, 3)), make((1, 2, 4)))
    a = B.random_attribution((4, 4), 0)
    assert a.shape == (4, 4) and a.min() >= 0 and a.max() < 1
    np.testing.assert_array_equal(B.random_order(16, 9), np.random.default_rng([9]).permutation(16))


def test_centre_distance_prior_known_values():
    prior = B.centre_distance_prior(3, (6, 6))
    assert prior[1, 1] == 1.0 and prior[0, 0] == 0.0
    assert prior[0, 1] == pytest.approx(1 - 1 / np.sqrt(2))
    np.testing.assert_array_equal(prior, prior.T)
    assert B.centre_distance_prior(1, (5, 7)).tolist() == [[1.0]]


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="grid_size"):
        B.cell_level_ranks(WaveletTransform("haar", 2).subbands(32, 32))
    with pytest.raises(ValueError, match="permutation"):
        B.approximation_first([0, 0, 1, 2], np.zeros(4, int))
    with pytest.raises(ValueError, match="non-negative integers"):
        B.coarse_to_fine_order(np.array([0.5, 1.0]))
