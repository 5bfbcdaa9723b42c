"""Bootstrap intervals and paired tests on samples with known answers."""

import numpy as np
import pytest
from scipy import stats as sps

from spectral_attribution.studies import stats


def test_bootstrap_ci_of_a_constant_is_a_point():
    for statistic in ("mean", "median"):
        e = stats.bootstrap_ci(np.full(12, 0.25), statistic)
        assert (e.estimate, e.low, e.high, e.n, e.method) == (0.25, 0.25, 0.25, 12, "constant")
    one = stats.bootstrap_ci([3.0], "median", method="BCa")
    assert (one.estimate, one.low, one.high, one.n) == (3.0, 3.0, 3.0, 1)


def test_bootstrap_ci_drops_nan_and_empty_is_nan():
    e = stats.bootstrap_ci([1.0, np.nan, 1.0])
    assert e.n == 2 and e.low == e.high == 1.0
    empty = stats.bootstrap_ci([np.nan, np.nan])
    assert empty.n == 0 and np.isnan(empty.estimate) and np.isnan(empty.low) and empty.method == "none"


def test_bootstrap_ci_is_seeded_and_brackets_the_estimate():
    x = np.random.default_rng(0).normal(2.0, 1.0, 40)
    a = stats.bootstrap_ci(x, "mean", seed=3)
    assert a == stats.bootstrap_ci(x, "mean", seed=3)
    assert a != stats.bootstrap_ci(x, "mean", seed=4)
    assert a.estimate == x.mean() and a.low < a.estimate < a.high
    # the percentile interval of a mean: about mean -/+ 1.96 sd / sqrt(n)
    half = 1.96 * x.std() / np.sqrt(x.size)
    assert a.low == pytest.approx(x.mean() - half, abs=0.05)
    assert a.high == pytest.approx(x.mean() + half, abs=0.05)


def test_bca_falls_back_to_percentile_when_undefined():
    # one distinct value apart: BCa's acceleration is undefined for the median here
    x = np.array([0.0] * 15 + [1.0])
    e = stats.bootstrap_ci(x, "median", method="BCa")
    assert e.method == "percentile" and np.isfinite(e.low) and np.isfinite(e.high)
    assert e == stats.bootstrap_ci(x, "median", method="percentile")


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="statistic"):
        stats.bootstrap_ci([1, 2], "mode")
    with pytest.raises(ValueError, match="confidence"):
        stats.bootstrap_ci([1, 2], confidence=95)
    with pytest.raises(ValueError, match="method"):
        stats.bootstrap_ci([1, 2], method="bca")
    with pytest.raises(ValueError, match="1-D"):
        stats.paired_bootstrap_ci(([1, 2], [1, 2, 3]), stats.spearman)


def test_wilcoxon_known_values_and_zero_differences():
    t = stats.wilcoxon_test(np.arange(1, 17, dtype=float))
    # every difference positive: W- = 0, exact two-sided p = 2 / 2^16
    assert (t.test, t.statistic, t.n, t.n_nonzero) == ("wilcoxon", 0.0, 16, 16)
    assert t.p == pytest.approx(2 / 2 ** 16)
    zeros = stats.wilcoxon_test(np.zeros(7))
    assert (zeros.statistic, zeros.p, zeros.n, zeros.n_nonzero) == (0.0, 1.0, 7, 0)
    paired = stats.wilcoxon_test([1, 2, 3, 4.0], [1, 1, 1, 1.0])
    assert paired.n == 4 and paired.n_nonzero == 3
    assert paired.p == pytest.approx(sps.wilcoxon([0, 1, 2, 3.0], zero_method="pratt").pvalue)
    assert np.isnan(stats.wilcoxon_test([np.nan]).p)


def test_spearman_matches_scipy_and_is_vectorised():
    rng = np.random.default_rng(0)
    x, y = rng.random((2, 5, 30))
    y[0] = np.round(y[0], 1)  # ties
    got = stats.spearman(x, y, axis=-1)
    want = [sps.spearmanr(a, b).statistic for a, b in zip(x, y)]
    np.testing.assert_allclose(got, want)
    assert np.isnan(stats.spearman(np.ones(4), np.arange(4.0)))


def test_paired_bootstrap_of_a_correlation():
    x = np.arange(30, dtype=float)
    e = stats.paired_bootstrap_ci((x, 2 * x + 1), stats.spearman)
    # a perfect monotone relation stays perfect in every resample: a point interval
    assert (e.estimate, e.low, e.high, e.method) == (1.0, 1.0, 1.0, "constant")
    rng = np.random.default_rng(1)
    y = x + rng.normal(0, 10, x.size)
    e, dist = stats.paired_bootstrap_ci((x, y), stats.spearman, seed=2, return_distribution=True)
    assert e.low < e.estimate < e.high and dist.shape == (stats.NB_RESAMPLES,)
    assert stats.bootstrap_p_value(dist) < 0.05 < stats.bootstrap_p_value(dist - e.estimate)
    undefined = stats.paired_bootstrap_ci((np.ones(5), x[:5]), stats.spearman)
    assert np.isnan(undefined.estimate) and np.isnan(undefined.low) and undefined.n == 5


def test_bootstrap_p_value_known():
    assert stats.bootstrap_p_value([1.0, 2.0, 3.0, -1.0]) == 0.5
    assert stats.bootstrap_p_value([1.0, 2.0]) == 0.0
    assert np.isnan(stats.bootstrap_p_value([]))
