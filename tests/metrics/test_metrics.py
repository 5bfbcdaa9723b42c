"""Metrics on constructed cases with known values."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from helpers_studies import LinearLogits, ToyPerturbation, one_hot_depth_setup
from spectral_attribution import metrics as M
from spectral_attribution.attributions.transforms import WaveletTransform


# -- level contributions ----------------------------------------------------
def _blockwise_map(levels=2, size=8, values=(3.0, 2.0, 1.0)):
    bands = WaveletTransform("haar", levels).subbands(size, size)
    m = np.zeros((size, size))
    for band in bands:
        key = 0 if band.name == "approximation" else levels - band.level + 1
        m[band.slices] = values[key]
    return m, bands


def test_level_contributions_of_a_map_uniform_per_block():
    m, bands = _blockwise_map(values=(3.0, 2.0, 1.0))
    per_coef = M.level_contributions(m, bands)
    assert list(per_coef.index) == ["approximation", "level_2", "level_1"]
    np.testing.assert_allclose(per_coef.values, [3 / 6, 2 / 6, 1 / 6])
    # by mass: blocks of 4, 3 x 4 and 3 x 16 coefficients
    by_mass = M.level_contributions(m, bands, per_coefficient=False)
    masses = np.array([3 * 4, 2 * 12, 1 * 48])
    np.testing.assert_allclose(by_mass.values, masses / masses.sum())
    assert M.approximation_mass(m, bands) == pytest.approx(12 / 84)
    assert M.approximation_share(m, bands) == pytest.approx(0.5)   # per coefficient
    # normalised over some levels only: the others are NaN
    part = M.level_contributions(m, bands, normalise_over=["approximation", "level_2"])
    np.testing.assert_allclose(part.values, [3 / 5, 2 / 5, np.nan])
    with pytest.raises(ValueError, match="level_3"):
        M.level_contributions(m, bands, normalise_over=["level_3"])


def test_level_contributions_uniform_map_and_zero_map():
    bands = WaveletTransform("haar", 3).subbands(16, 16)
    uniform = M.level_contributions(np.ones((16, 16)), bands)
    np.testing.assert_allclose(uniform.values, 0.25)
    assert M.approximation_share(np.ones((16, 16)), bands) == 0.25          # 1 / (J + 1)
    assert M.approximation_mass(np.ones((16, 16)), bands) == 1 / 64          # 4^-J
    assert M.level_contributions(np.zeros((16, 16)), bands).isna().all()
    with pytest.raises(ValueError, match="outside the map"):
        M.level_contributions(np.ones((8, 8)), bands)


def test_level_contributions_accepts_an_explanation():
    m, bands = _blockwise_map()

    class Fake:
        map = m
        subbands = bands

    pd.testing.assert_series_equal(M.level_contributions(Fake()), M.level_contributions(m, bands))


def test_spatial_spread():
    assert M.spatial_spread(np.ones((10, 10)), 0.9) == pytest.approx(0.9)
    assert M.spatial_spread(np.ones((10, 10)), 0.5) == pytest.approx(0.5)
    one = np.zeros((10, 10))
    one[3, 4] = 2.0
    assert M.spatial_spread(one, 0.9) == pytest.approx(0.01)
    assert math.isnan(M.spatial_spread(np.zeros((4, 4))))
    with pytest.raises(ValueError):
        M.spatial_spread(one, 0.0)


def test_robustness():
    assert M.robustness(3, [3, 3, 3]) == 1.0
    assert M.robustness(3, [3, 1, 3, 2]) == 0.5
    with pytest.raises(ValueError):
        M.robustness(3, [])


# -- reconstruction ---------------------------------------------------------
def test_top_k_masks_and_order():
    order = M.importance_order([0.1, 0.5, 0.2, 0.5])
    assert list(order) == [1, 3, 2, 0]  # ties keep row-major order
    masks = M.top_k_masks(order, [0, 1, 2, 4])
    np.testing.assert_array_equal(masks, [[0, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 1], [1, 1, 1, 1]])
    with pytest.raises(ValueError, match="permutation"):
        M.top_k_masks([0, 0, 1], [1])
    with pytest.raises(ValueError, match="k values"):
        M.top_k_masks(order, [5])


def test_all_mass_on_one_cell_gives_depth_one():
    model, pert, ctx = one_hot_depth_setup(dim=9, cell=4)
    wcam = np.zeros(9)
    wcam[4] = 1.0
    res = M.reconstruction_depth(model, pert, ctx, M.importance_order(wcam), reference_label=1)
    assert res.found and res.depth == 1 and res.share == pytest.approx(1 / 9) and res.dim == 9
    # an attribution putting that cell last needs all 9 cells
    last = M.reconstruction_depth(model, pert, ctx, M.importance_order(-wcam), reference_label=1)
    assert last.depth == 9 and last.share == 1.0


def test_depth_never_reached_is_censored_and_flagged():
    model, pert, ctx = one_hot_depth_setup(dim=9, cell=4)
    res = M.reconstruction_depth(model, pert, ctx, np.arange(9), reference_label=1, k_values=[1, 2, 3])
    assert not res.found and res.depth == 4 and res.share == 4 / 9   # largest k tried + 1
    # class 0 is the prediction without cell 4: an order with cell 4 first never gives it
    first = M.reconstruction_depth(model, pert, ctx, [4, 0, 1, 2, 3, 5, 6, 7, 8], reference_label=0)
    assert not first.found and first.depth == 10 and first.share == 10 / 9   # d + 1


def test_depth_scan_in_small_batches_stops_early():
    model, pert, ctx = one_hot_depth_setup(dim=9, cell=4)
    res = M.reconstruction_depth(model, pert, ctx, np.arange(9), reference_label=1, batch_size=2)
    assert res.depth == 5 and res.nb_forward == 6  # k = 1..6 evaluated, hit at 5
    # default batches grow from 8: k = 1..8 evaluated, not all 64 of a batch
    res = M.reconstruction_depth(model, pert, ctx, np.arange(9), reference_label=1, batch_size=64)
    assert res.depth == 5 and res.nb_forward == 8


def test_reconstruction_curve_columns_and_values():
    model, pert, ctx = one_hot_depth_setup(dim=9, cell=4)
    curve = M.reconstruction_curve(model, pert, ctx, np.arange(9), [0, 4, 5, 9], reference_label=1)
    assert list(curve.columns) == ["k", "share", "predicted", "reference_logit",
                                   "reference_probability", "is_reference"]
    assert list(curve["is_reference"]) == [False, False, True, True]
    np.testing.assert_allclose(curve["reference_logit"], [0, 0, 1, 1])
    np.testing.assert_allclose(curve["reference_probability"][2], 1 / (1 + math.exp(-0.5)))


def test_random_order_depths_reproducible_and_known():
    model, pert, ctx = one_hot_depth_setup(dim=9, cell=4)
    a = M.random_order_depths(model, pert, ctx, 1, nb_draws=6, seed=11)
    b = M.random_order_depths(model, pert, ctx, 1, nb_draws=6, seed=11)
    np.testing.assert_array_equal(a, b)
    expected = [1 + int(np.flatnonzero(np.random.default_rng([11, r]).permutation(9) == 4)[0])
                for r in range(6)]
    np.testing.assert_array_equal(a, expected)
    # draw r does not depend on the number of draws
    np.testing.assert_array_equal(M.random_order_depths(model, pert, ctx, 1, nb_draws=2, seed=11), a[:2])
    assert not np.array_equal(M.random_order_depths(model, pert, ctx, 1, nb_draws=6, seed=12), a)


def test_keep_top_k_with_the_wavelet_perturbation():
    from spectral_attribution.attributions.perturbations import WaveletPerturbation

    pert = WaveletPerturbation("haar", 2, grid_size=4)
    x = torch.rand(3, 16, 16)
    ctx = pert.prepare(x)
    full = M.keep_top_k(pert, ctx, np.arange(16), 16)
    torch.testing.assert_close(full, x, atol=1e-5, rtol=0)
    # only the approximation cell (0, 0): the image is the 4x4-block average
    approx = M.keep_top_k(pert, ctx, np.arange(16), 1)
    blocks = x.reshape(3, 4, 4, 4, 4).mean(dim=(2, 4))
    torch.testing.assert_close(approx, blocks.repeat_interleave(4, 1).repeat_interleave(4, 2),
                               atol=1e-5, rtol=0)


def test_depth_robustness_fit():
    x = np.linspace(0, 1, 10)
    df = pd.DataFrame({"model": ["a"] * 10 + ["b"] * 10,
                       "depth_share": np.concatenate([x, x]),
                       "robustness": np.concatenate([1 - 2 * x, 0.5 + x + 0.1 * np.sin(7 * x)])})
    fits = M.depth_robustness_fit(df).set_index("model")
    assert fits.loc["a", "slope"] == pytest.approx(-2) and fits.loc["a", "intercept"] == pytest.approx(1)
    assert fits.loc["a", "r"] == pytest.approx(-1) and fits.loc["a", "n"] == 10
    ref = stats.linregress(x, 0.5 + x + 0.1 * np.sin(7 * x))
    t = stats.t.ppf(0.975, 8)
    assert fits.loc["b", "slope"] == pytest.approx(ref.slope)
    assert fits.loc["b", "slope_low"] == pytest.approx(ref.slope - t * ref.stderr)
    assert fits.loc["b", "intercept_high"] == pytest.approx(ref.intercept + t * ref.intercept_stderr)
    assert fits.loc["b", "p"] == pytest.approx(ref.pvalue)
    small = M.depth_robustness_fit(df.head(2))
    assert math.isnan(small.loc[0, "slope"])
    with pytest.raises(KeyError, match="'depth'"):
        M.depth_robustness_fit(df, x="depth")


# -- faithfulness -------------------------------------------------------------
def _linear_setup(d=12, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(d, 3)).astype(np.float32)
    v = rng.uniform(0.5, 1.5, size=d).astype(np.float32)
    pert = ToyPerturbation(d)
    return LinearLogits(w), pert, pert.prepare(v), w, v


def test_mu_fidelity_of_the_true_drop_of_a_linear_model_is_one():
    model, pert, ctx, w, v = _linear_setup()
    true_drop = w[:, 2] * v  # removing cell i lowers the logit of class 2 by w_i2 v_i
    assert M.mu_fidelity(model, pert, ctx, true_drop, 2, nb_subsets=64, seed=0) == pytest.approx(1.0)
    assert M.mu_fidelity(model, pert, ctx, true_drop, 2, nb_subsets=64, correlation="pearson") \
        == pytest.approx(1.0)
    assert M.mu_fidelity(model, pert, ctx, -true_drop, 2, nb_subsets=64) == pytest.approx(-1.0)
    rnd = M.mu_fidelity(model, pert, ctx, np.random.default_rng(5).normal(size=12), 2, nb_subsets=64)
    assert abs(rnd) < 0.9
    with pytest.raises(ValueError, match="d=12"):
        M.mu_fidelity(model, pert, ctx, true_drop[:5], 2)


def test_insertion_deletion_known_curves():
    d = 4
    w = np.zeros((d, 2), np.float32)
    w[:, 0] = [1.0, 4.0, 2.0, 3.0]
    model = LinearLogits(w)
    pert = ToyPerturbation(d)
    ctx = pert.prepare(np.ones(d))
    res = M.insertion_deletion(model, pert, ctx, w[:, 0], 0, steps=4, score="logit")
    np.testing.assert_allclose(res["fractions"], [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(res["insertion"], [0, 4, 7, 9, 10])
    np.testing.assert_allclose(res["deletion"], [10, 6, 3, 1, 0])
    assert res["insertion_auc"] == pytest.approx(0.25 * (0 / 2 + 4 + 7 + 9 + 10 / 2))
    assert res["deletion_auc"] == pytest.approx(0.25 * (10 / 2 + 6 + 3 + 1 + 0 / 2))
    # the best order beats the worst
    worst = M.insertion_deletion(model, pert, ctx, -w[:, 0], 0, steps=4, score="logit")
    assert worst["insertion_auc"] < res["insertion_auc"] and worst["deletion_auc"] > res["deletion_auc"]
    prob = M.insertion_auc(model, pert, ctx, w[:, 0], 0, steps=4)
    assert 0 <= prob <= 1
    assert M.deletion_auc(model, pert, ctx, w[:, 0], 0, steps=4) <= prob


def test_faithfulness_on_real_perturbations_runs():
    from spectral_attribution.attributions.perturbations import SpatialPerturbation, WaveletPerturbation

    from helpers_studies import TinyNet, wrap

    model = wrap(TinyNet())
    x = torch.rand(3, 32, 32)
    for pert in (WaveletPerturbation("haar", 2, grid_size=4), SpatialPerturbation(grid_size=4)):
        ctx = pert.prepare(x)
        attr = np.random.default_rng(0).random(16)
        mu = M.mu_fidelity(model, pert, ctx, attr, 0, nb_subsets=16)
        assert -1 <= mu <= 1
        res = M.insertion_deletion(model, pert, ctx, attr, 0, steps=4)
        assert 0 <= res["insertion_auc"] <= 1 and 0 <= res["deletion_auc"] <= 1
