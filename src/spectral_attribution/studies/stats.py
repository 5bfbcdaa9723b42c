"""Uncertainty of the studies' summaries: bootstrap confidence intervals and paired tests.

(Just over 400 lines: bootstrap intervals, paired tests and their corrections, used together by every study summary.)

The studies summarise per-image values (depths, shares, correlations) over a
few dozen images; every summary here comes with a confidence interval from
a bootstrap over images, and every comparison of two methods on the same
images with a paired test. NumPy and SciPy only (``scipy.stats.bootstrap``,
``scipy.stats.wilcoxon``).

* :func:`bootstrap_ci` -- an :class:`Estimate` (value, 95 % CI, n) of the
  mean or median of one sample (e.g. per-image differences of two methods);
* :func:`paired_bootstrap_ci` -- the same for a statistic of paired samples
  (e.g. a Spearman correlation over images), resampling images;
* :func:`wilcoxon_test` -- the Wilcoxon signed-rank test of paired values, a
  :class:`PairedTest` (statistic, p, n);
* :func:`spearman` -- Spearman's rank correlation, vectorised over resamples.

Choices
-------
* **Percentile bootstrap** (Efron & Tibshirani 1993, ch. 13) by default, not
  BCa: the studies' samples are small (16-100 images) and often discrete
  with many ties (depths in cells, censored at ``d + 1``), where BCa's
  jackknife acceleration is undefined or unstable (SciPy then returns NaN
  bounds). ``method="BCa"`` is available; when SciPy cannot compute it the
  percentile interval is returned and :attr:`Estimate.method` says so.
* **Seeded**: resamples are drawn with ``numpy.random.default_rng(seed)``;
  the same seed gives the same interval on every machine.
* **A constant sample** (every value equal, or a single value) gives the
  point interval ``[v, v]``, not an error or NaN; an empty sample (after
  dropping NaN) gives NaN with ``n = 0``.
* **Wilcoxon, zero differences**: images on which both methods give the same
  value are ranked with the others and then dropped from the signed-rank
  sum (Pratt 1959, ``zero_method="pratt"``), which keeps the test
  conservative when many images tie (common with depths). ``n`` is the
  number of pairs (images), ``n_nonzero`` those with a non-zero difference.
  All differences zero gives statistic 0 and p = 1 (no evidence of a
  difference). SciPy's ``method="auto"`` uses the exact null distribution
  for small samples without zeros or ties and the normal approximation
  otherwise.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np

__all__ = [
    "Estimate",
    "PairedTest",
    "bootstrap_ci",
    "paired_bootstrap_ci",
    "wilcoxon_test",
    "bootstrap_p_value",
    "spearman",
    "partial_spearman",
    "partial_spearman_p",
]

#: Default number of bootstrap resamples.
NB_RESAMPLES = 9999


@dataclass(frozen=True)
class Estimate:
    """A summary over images with its confidence interval.

    Attributes
    ----------
    estimate:
        The statistic on the whole sample (float; NaN when ``n == 0``).
    low, high:
        Bounds of the confidence interval (same unit as ``estimate``;
        ``low == high == estimate`` for a constant sample).
    n:
        Number of (finite) observations the statistic was computed on.
    confidence:
        Confidence level in ``(0, 1)``, e.g. 0.95.
    statistic:
        ``"mean"``, ``"median"`` or the name of a callable.
    method:
        ``"percentile"``, ``"BCa"``, ``"constant"`` (point interval) or
        ``"none"`` (empty sample).
    """

    estimate: float
    low: float
    high: float
    n: int
    confidence: float = 0.95
    statistic: str = "mean"
    method: str = "percentile"

    def as_dict(self, prefix: str = "") -> dict:
        """``{prefix + "estimate": ..., prefix + "low": ..., ...}`` (for table rows)."""
        return {prefix + k: v for k, v in asdict(self).items()}

    def format(self, digits: int = 3) -> str:
        """``"estimate [low, high]"`` with ``digits`` decimals (``"nan"`` when undefined)."""
        return f"{self.estimate:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"

    def excludes_zero(self) -> int:
        """``+1`` when the interval lies above 0, ``-1`` below 0, ``0`` otherwise (or NaN)."""
        if self.low > 0:
            return 1
        if self.high < 0:
            return -1
        return 0


@dataclass(frozen=True)
class PairedTest:
    """Result of a paired test.

    Attributes
    ----------
    test:
        ``"wilcoxon"`` (signed-rank, :func:`wilcoxon_test`) or ``"bootstrap"``
        (:func:`bootstrap_p_value`).
    statistic:
        The test's statistic (Wilcoxon: the smaller of the signed-rank sums
        as SciPy reports it for a two-sided test).
    p:
        Two-sided p-value in ``[0, 1]`` (NaN when fewer than one pair).
    n:
        Number of pairs (images).
    n_nonzero:
        Pairs with a non-zero difference (Wilcoxon), else ``n``.
    """

    test: str
    statistic: float
    p: float
    n: int
    n_nonzero: int

    def as_dict(self, prefix: str = "") -> dict:
        return {prefix + k: v for k, v in asdict(self).items()}


_STATISTICS: dict[str, Callable] = {"mean": np.mean, "median": np.median}


def _statistic(statistic) -> tuple[str, Callable]:
    if callable(statistic):
        return getattr(statistic, "__name__", "statistic"), statistic
    try:
        return statistic, _STATISTICS[statistic]
    except KeyError:
        raise ValueError(f"statistic must be 'mean', 'median' or a callable, got {statistic!r}") from None


def _check(confidence: float, method: str, n_resamples: int) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if method not in ("percentile", "BCa"):
        raise ValueError(f"method must be 'percentile' or 'BCa', got {method!r}")
    if int(n_resamples) != n_resamples or n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive integer, got {n_resamples!r}")


def bootstrap_ci(sample, statistic="mean", confidence: float = 0.95,
                 n_resamples: int = NB_RESAMPLES, seed: int = 0,
                 method: str = "percentile") -> Estimate:
    """Bootstrap confidence interval of the mean or median of one sample.

    Parameters
    ----------
    sample:
        1-D array-like of floats (one value per image); NaN values are
        dropped first.
    statistic:
        ``"mean"`` (default), ``"median"``, or a callable
        ``f(array, axis=-1) -> array`` (vectorised over resamples).
    confidence:
        Level of the interval, in ``(0, 1)``.
    n_resamples:
        Bootstrap resamples (default 9,999).
    seed:
        Seed of ``numpy.random.default_rng`` for the resamples.
    method:
        ``"percentile"`` (default; see the module docstring) or ``"BCa"``.

    Returns
    -------
    Estimate
        ``estimate`` the statistic of the sample; ``[low, high]`` the
        interval; a point interval for a constant sample (``method
        "constant"``); NaN with ``n = 0`` (``method "none"``) for an empty one.

    Raises
    ------
    ValueError
        Bad ``statistic``, ``confidence``, ``method`` or ``n_resamples``; a
        sample that is not 1-D.
    """
    from scipy import stats

    name, fn = _statistic(statistic)
    _check(confidence, method, n_resamples)
    x = np.asarray(sample, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"sample must be 1-D, got shape {x.shape}")
    x = x[np.isfinite(x)]
    if x.size == 0:
        nan = float("nan")
        return Estimate(nan, nan, nan, 0, confidence, name, "none")
    value = float(fn(x))
    if np.ptp(x) == 0:
        return Estimate(value, value, value, int(x.size), confidence, name, "constant")
    with warnings.catch_warnings():
        # an undefined BCa interval is handled below (percentile instead)
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        res = stats.bootstrap((x,), fn, n_resamples=int(n_resamples), confidence_level=confidence,
                              method=method, vectorized=True, rng=np.random.default_rng(seed))
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if method == "BCa" and not (np.isfinite(low) and np.isfinite(high)):
        # BCa undefined for this sample (degenerate acceleration): percentile instead.
        return _replace_method(bootstrap_ci(x, fn, confidence, n_resamples, seed, "percentile"),
                               name, "percentile")
    return Estimate(value, low, high, int(x.size), confidence, name, method)


def _replace_method(e: Estimate, name: str, method: str) -> Estimate:
    return Estimate(e.estimate, e.low, e.high, e.n, e.confidence, name, method)


def paired_bootstrap_ci(samples, statistic: Callable, confidence: float = 0.95,
                        n_resamples: int = NB_RESAMPLES, seed: int = 0,
                        method: str = "percentile", return_distribution: bool = False):
    """Bootstrap confidence interval of a statistic of paired samples (images resampled jointly).

    Parameters
    ----------
    samples:
        A sequence of 1-D array-likes of the same length, one value per image
        in each (e.g. ``(depth, robustness)``); images with a NaN in any
        sample are dropped.
    statistic:
        ``f(*samples, axis=-1) -> array``, vectorised over resamples (e.g.
        :func:`spearman`, or a margin between two correlations).
    return_distribution:
        Also return the ``(n_resamples,)`` bootstrap distribution (empty
        when the statistic is undefined on the sample).

    Returns
    -------
    Estimate (or ``(Estimate, numpy.ndarray)``)
        A statistic undefined on the whole sample (NaN, e.g. a correlation
        with a constant sample) gives NaN bounds, method ``"none"``; a
        bootstrap distribution whose values all equal the estimate gives a
        point interval (``"constant"``). Resamples on which the statistic is
        undefined are left out of the percentile bounds.

    Raises
    ------
    ValueError
        Samples of different lengths, or bad parameters.
    """
    from scipy import stats

    _check(confidence, method, n_resamples)
    arrays = [np.asarray(v, dtype=np.float64) for v in samples]
    if not arrays or any(a.ndim != 1 or a.shape != arrays[0].shape for a in arrays):
        raise ValueError(f"samples must be 1-D of one length, got shapes {[a.shape for a in arrays]}")
    keep = np.logical_and.reduce([np.isfinite(a) for a in arrays])
    arrays = [a[keep] for a in arrays]
    n = int(keep.sum())
    name = getattr(statistic, "__name__", "statistic")
    nan = float("nan")
    value = float(statistic(*arrays, axis=-1)) if n else nan
    if not np.isfinite(value) or n < 2:
        if np.isfinite(value):  # one image: a point interval
            out = Estimate(value, value, value, n, confidence, name, "constant")
        else:
            out = Estimate(value, nan, nan, n, confidence, name, "none")
        return (out, np.empty(0)) if return_distribution else out
    with warnings.catch_warnings():
        # resamples where the statistic is undefined are handled below
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        res = stats.bootstrap(tuple(arrays), statistic, n_resamples=int(n_resamples), paired=True,
                              confidence_level=confidence, method=method, vectorized=True,
                              rng=np.random.default_rng(seed))
    dist = np.asarray(res.bootstrap_distribution, dtype=np.float64)
    finite = dist[np.isfinite(dist)]
    if finite.size == dist.size and np.all(finite == value):
        out = Estimate(value, value, value, n, confidence, name, "constant")
        return (out, dist) if return_distribution else out
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    used = method
    if not (np.isfinite(low) and np.isfinite(high)) and finite.size:
        alpha = (1 - confidence) / 2
        low, high = (float(v) for v in np.quantile(finite, [alpha, 1 - alpha]))
        used = "percentile"
    out = Estimate(value, low, high, n, confidence, name, used)
    return (out, dist) if return_distribution else out


def bootstrap_p_value(distribution, null: float = 0.0) -> float:
    """Two-sided p-value of a bootstrap distribution against ``null``.

    ``p = min(1, 2 min(P*(T <= null), P*(T >= null)))`` over the finite
    resampled values ``T`` (the percentile-interval test: ``p < 1 - c``
    exactly when the ``c`` percentile interval excludes ``null``). NaN for
    an empty distribution. Used where no per-image difference exists (a
    difference of two correlations).
    """
    t = np.asarray(distribution, dtype=np.float64)
    t = t[np.isfinite(t)]
    if t.size == 0:
        return float("nan")
    return float(min(1.0, 2 * min(np.mean(t <= null), np.mean(t >= null))))


def wilcoxon_test(x, y=None) -> PairedTest:
    """Wilcoxon signed-rank test of paired values (two-sided), zero differences per Pratt.

    Parameters
    ----------
    x, y:
        Paired 1-D array-likes (one pair per image); with ``y=None``, ``x``
        holds the differences. Pairs with a NaN are dropped.

    Returns
    -------
    PairedTest
        ``test="wilcoxon"``, SciPy's statistic and two-sided p-value, ``n``
        pairs and ``n_nonzero`` non-zero differences. All differences zero:
        statistic 0, p 1. No pair: NaN.

    Raises
    ------
    ValueError
        ``x`` and ``y`` of different shapes.
    """
    from scipy import stats

    d = np.asarray(x, dtype=np.float64)
    if y is not None:
        y = np.asarray(y, dtype=np.float64)
        if y.shape != d.shape:
            raise ValueError(f"x and y must have the same shape, got {d.shape} and {y.shape}")
        d = d - y
    d = d.ravel()
    d = d[np.isfinite(d)]
    nonzero = int(np.count_nonzero(d))
    if d.size == 0:
        return PairedTest("wilcoxon", float("nan"), float("nan"), 0, 0)
    if nonzero == 0:
        return PairedTest("wilcoxon", 0.0, 1.0, int(d.size), 0)
    res = stats.wilcoxon(d, zero_method="pratt", alternative="two-sided", method="auto")
    return PairedTest("wilcoxon", float(res.statistic), float(res.pvalue), int(d.size), nonzero)


def spearman(x, y, axis: int = -1):
    """Spearman's rank correlation of ``x`` and ``y`` along ``axis`` (vectorised, ties averaged).

    The Pearson correlation of the average ranks (``scipy.stats.rankdata``).
    Returns a float or an array over the other axes; NaN where either
    sample is constant.
    """
    from scipy import stats

    rx = stats.rankdata(np.asarray(x, dtype=np.float64), axis=axis)
    ry = stats.rankdata(np.asarray(y, dtype=np.float64), axis=axis)
    rx = rx - rx.mean(axis=axis, keepdims=True)
    ry = ry - ry.mean(axis=axis, keepdims=True)
    den = np.sqrt((rx ** 2).sum(axis=axis) * (ry ** 2).sum(axis=axis))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (rx * ry).sum(axis=axis) / den
    out = np.where(den > 0, out, np.nan)
    return float(out) if np.ndim(out) == 0 else out


def partial_spearman(x, y, *covariates, axis: int = -1):
    """Spearman's partial rank correlation of ``x`` and ``y`` given ``covariates`` (vectorised).

    Every variable is replaced by its average ranks along ``axis``; the
    ranks of ``x`` and ``y`` are regressed (least squares, with an
    intercept) on the ranks of the covariates, and the result is the
    Pearson correlation of the two residuals (the rank version of the
    partial correlation). With no covariate it equals :func:`spearman`.
    Returns a float or an array over the other axes, in ``[-1, 1]``; NaN
    where a residual is constant.
    """
    from scipy import stats

    def ranks(v):
        return np.moveaxis(stats.rankdata(np.asarray(v, dtype=np.float64), axis=axis), axis, -1)

    rx, ry = ranks(x), ranks(y)
    design = np.stack([np.ones_like(rx)] + [ranks(c) for c in covariates], axis=-1)  # (..., n, k+1)

    def residual(v):
        coef = np.linalg.pinv(design) @ v[..., None]
        return v - (design @ coef)[..., 0]

    ex, ey = residual(rx), residual(ry)
    ex = ex - ex.mean(axis=-1, keepdims=True)
    ey = ey - ey.mean(axis=-1, keepdims=True)
    den = np.sqrt((ex ** 2).sum(axis=-1) * (ey ** 2).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (ex * ey).sum(axis=-1) / den
    out = np.where(den > 1e-12 * max(1, rx.shape[-1]), out, np.nan)
    return float(out) if np.ndim(out) == 0 else out


def partial_spearman_p(r: float, n: int, nb_covariates: int) -> float:
    """Two-sided p-value of a partial correlation ``r`` of ``n`` images (t with ``n - 2 - k`` df)."""
    from scipy import stats

    df = int(n) - 2 - int(nb_covariates)
    if not np.isfinite(r) or df < 1:
        return float("nan")
    if abs(r) >= 1:
        return 0.0
    t = r * np.sqrt(df / (1 - r * r))
    return float(2 * stats.t.sf(abs(t), df))
