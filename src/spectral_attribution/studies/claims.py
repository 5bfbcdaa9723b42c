"""The paper's claims, each against its trivial baselines: the claims table.

Each claim of *Scale Matters* (Kasmi et al. 2023) is restated as a paired
comparison over images between the WCAM and a baseline that needs no model
or no attribution (:mod:`spectral_attribution.studies.baselines`):

====  ===========================================  ====================================================
claim                                              compared with
====  ===========================================  ====================================================
a     few coefficients suffice: the WCAM order's   a random order, the coarse-to-fine order, and (both
      reconstruction depth is shallow              approximation first) the within-level order
b     models needing fewer coefficients are more   no relation (rho = 0), and the same correlation for
      robust: depth and robustness correlate       the coarse-to-fine depth and for the clean
      negatively over images                       prediction's confidence (possible confounders)
c     zoom lowers the approximation share          the same drop for a uniform map and for the level
      (regular - zoomed view)                      prior (what the definition gives without a model)
d     WCAMs are faithful (mu-fidelity, mu-fidelity  the level prior, a random attribution, spatial
      keeping the approximation, insertion,         Sobol' (not for the approximation-kept variant)
      deletion)
====  ===========================================  ====================================================

Margin, interval, test
----------------------
For every comparison the **margin** is oriented so that a positive value
favours the claim:

* paired per-image quantities (a, c, d): the per-image difference
  ``baseline - WCAM`` where lower is better (depth, deletion AUC) and
  ``WCAM - baseline`` otherwise; the margin is the median (depths: discrete
  and censored) or the mean (everything else) of the differences, its 95 %
  interval a seeded percentile bootstrap over images (differences within
  float round-off, ``1e-9`` of the values' scale, count as 0)
  (:func:`~spectral_attribution.studies.stats.bootstrap_ci`), its test the Wilcoxon
  signed-rank test of the differences
  (:func:`~spectral_attribution.studies.stats.wilcoxon_test`, zero differences per
  Pratt, ``n`` images);
* correlations (b): the strength of a predictor is its Spearman
  correlation with robustness oriented in the claimed direction (``-rho``
  for depths, ``+rho`` for confidence). Against "no relation" the margin is
  ``-rho`` of the WCAM depth, tested with Spearman's test; against a
  confounder it is the WCAM depth's strength minus the confounder's, with a
  paired bootstrap over images (the predictors and robustness of an image
  resampled together) for the interval and the two-sided bootstrap p-value
  (:func:`~spectral_attribution.studies.stats.bootstrap_p_value`): a correlation
  has no per-image difference for a Wilcoxon test.

Verdict rule (:func:`verdict`)
------------------------------
With the margin ``m``, its interval ``[lo, hi]`` and the test's ``p``:

* **supported**: ``lo > 0`` and ``p < 0.05`` -- the interval excludes 0 in
  the claimed direction and the test agrees;
* **not supported**: ``m <= 0`` -- the baseline is at least as good at the
  point estimate (this includes every interval that excludes 0 in the
  other direction);
* **inconclusive**: otherwise (``m > 0`` but the interval reaches 0 or
  ``p >= 0.05``), and whenever ``m``, ``lo``, ``hi`` or ``p`` is NaN.

A claim *survives its strongest baseline* when it is supported against the
baseline of smallest margin among its comparisons of one quantity (column
``strongest``).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from spectral_attribution import metrics
from spectral_attribution._utils.tables import require_columns
from spectral_attribution.studies.baselines import cell_level_ranks, level_prior
from spectral_attribution.attributions.perturbations import cell_ranges
from spectral_attribution.studies.stats import (
    NB_RESAMPLES,
    bootstrap_ci,
    bootstrap_p_value,
    paired_bootstrap_ci,
    spearman,
    wilcoxon_test,
)
from spectral_attribution.attributions.transforms import WaveletTransform
from spectral_attribution.studies.zoom import zoom_differences

__all__ = [
    "CLAIMS",
    "CLAIMS_COLUMNS",
    "VERDICTS",
    "verdict",
    "depth_per_image",
    "model_free_level_share",
    "claims_table",
    "depth_robustness_fits",
]

#: Claim id -> statement (the ``claim`` column holds ``"<id>: <statement>"``).
CLAIMS: dict[str, str] = {
    "a": "few coefficients suffice",
    "b": "fewer coefficients, more robust",
    "c": "zoom lowers the approximation share",
    "d": "WCAMs are faithful",
}
VERDICTS = ("supported", "not supported", "inconclusive")
#: Per-image differences smaller than this (relative to the values' scale) are ties.
ROUND_OFF = 1e-9
CLAIMS_COLUMNS = ["model", "claim", "condition", "quantity", "statistic", "wcam", "baseline",
                  "baseline_value", "margin", "margin_low", "margin_high", "test", "test_statistic",
                  "p", "n", "verdict", "strongest"]


def verdict(margin: float, low: float, high: float, p: float, alpha: float = 0.05) -> str:
    """``"supported"``, ``"not supported"`` or ``"inconclusive"`` by the rule of the module docstring.

    Parameters
    ----------
    margin, low, high:
        The margin (positive favours the claim) and its confidence interval.
    p:
        The paired test's two-sided p-value.
    alpha:
        Significance level (0.05).
    """
    values = np.array([margin, low, high, p], dtype=np.float64)
    if not np.all(np.isfinite(values)):
        return "inconclusive"
    if low > 0 and p < alpha:
        return "supported"
    if margin <= 0:
        return "not supported"
    return "inconclusive"


# --------------------------------------------------------------------------
# Per-image inputs
# --------------------------------------------------------------------------
def _censor(depth, dim) -> np.ndarray:
    """Depths in cells with unreached ones (NaN) set to ``dim + 1``."""
    depth = np.asarray(depth, dtype=np.float64)
    return np.where(np.isnan(depth), np.asarray(dim, dtype=np.float64) + 1, depth)


def _median_of_draws(text, dim: int) -> float:
    draws = [float(v) for v in str(text).split(";") if v.strip() != ""]
    if not draws:
        return float("nan")
    return float(np.median(_censor(draws, dim)))


def depth_per_image(reconstruction: pd.DataFrame, depth_baselines: pd.DataFrame | None = None
                    ) -> pd.DataFrame:
    """Reconstruction depths of every image and order in one long table.

    ``wcam`` and ``random`` come from the sufficient reconstruction study
    (:func:`~spectral_attribution.studies.reconstruction.sufficient_reconstruction`:
    ``depth``, and the median of the draws in ``random_depths``), the other
    orders from :func:`~spectral_attribution.studies.depth_baselines.baseline_depths`
    (when it also holds ``wcam`` or ``random``, the study's values are kept).
    Unreached depths (NaN) are censored at ``d + 1``.

    Returns
    -------
    pandas.DataFrame
        Columns ``model, image_id, condition, order, dim, depth,
        depth_share`` (``depth_share = depth / d``).
    """
    require_columns(reconstruction, ["model", "image_id", "condition", "dim", "depth"],
                    "reconstruction table")
    base = reconstruction[["model", "image_id", "condition", "dim"]].reset_index(drop=True)
    frames = [base.assign(order="wcam", depth=_censor(reconstruction["depth"], reconstruction["dim"]))]
    if "random_depths" in reconstruction.columns:
        frames.append(base.assign(order="random", depth=[
            _median_of_draws(t, int(d)) for t, d in zip(reconstruction["random_depths"],
                                                         reconstruction["dim"])]))
    if depth_baselines is not None and not depth_baselines.empty:
        require_columns(depth_baselines, ["model", "image_id", "condition", "order", "dim", "depth"],
                        "baseline depths table")
        taken = {f["order"].iloc[0] for f in frames if len(f)}
        extra = depth_baselines[~depth_baselines["order"].isin(taken)]
        frames.append(extra[["model", "image_id", "condition", "dim", "order", "depth"]]
                      .assign(depth=lambda f: _censor(f["depth"], f["dim"])))
    out = pd.concat(frames, ignore_index=True)
    out["depth_share"] = out["depth"] / out["dim"]
    return out[["model", "image_id", "condition", "order", "dim", "depth", "depth_share"]]


def model_free_level_share(kind: str, grid_size: int, size: int, levels: int,
                           wavelet: str = "haar", normalise_over: Sequence[str] | None = None) -> float:
    """Approximation share of a model-free map, by the zoom study's definition.

    The map is ``kind`` on the ``g x g`` grid over the dyadic layout of a
    ``size x size`` image at ``J = levels`` -- ``"uniform"`` (every cell 1)
    or ``"level-prior"`` (:func:`~spectral_attribution.studies.baselines.level_prior`)
    -- upsampled to the layout like a WCAM's map, and summarised by
    :func:`spectral_attribution.metrics.level_contributions` (per
    coefficient; over the levels ``normalise_over`` when given, as the zoom
    study's contributions per physical scale). It is what the definition
    gives an image whose WCAM carries no information: the part of a change
    between views that no model causes.
    """
    transform = WaveletTransform(wavelet, int(levels))
    bands = transform.subbands(int(size), int(size))
    height, width = transform.layout_shape(int(size), int(size))
    g = int(grid_size)
    if kind == "uniform":
        cells = np.ones((g, g))
    elif kind == "level-prior":
        cells = level_prior(cell_level_ranks(bands, g))
    else:
        raise ValueError(f"kind must be 'uniform' or 'level-prior', got {kind!r}")
    rows, cols = cell_ranges(g, height), cell_ranges(g, width)
    grid_map = np.repeat(np.repeat(cells, rows[:, 1] - rows[:, 0], axis=0), cols[:, 1] - cols[:, 0], axis=1)
    extra = {} if normalise_over is None else {"normalise_over": list(normalise_over)}
    return float(metrics.level_contributions(grid_map, bands, True, **extra)["approximation"])


# --------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------
class _Rows:
    """Accumulates the rows of the claims table (one per comparison)."""

    def __init__(self, seed: int, n_resamples: int, alpha: float):
        self.rows: list[dict] = []
        self.seed, self.n_resamples, self.alpha = int(seed), int(n_resamples), float(alpha)

    def paired(self, head: dict, quantity: str, statistic: str, wcam, base, baseline: str,
               lower_is_better: bool) -> None:
        w, b = np.asarray(wcam, dtype=np.float64), np.asarray(base, dtype=np.float64)
        keep = np.isfinite(w) & np.isfinite(b)
        w, b = w[keep], b[keep]
        diff = (b - w) if lower_is_better else (w - b)
        # float round-off is a tie, not evidence: |difference| <= 1e-9 x scale counts as 0
        scale = max(1.0, float(np.max(np.abs(np.concatenate([w, b])), initial=0.0)))
        diff = np.where(np.abs(diff) <= ROUND_OFF * scale, 0.0, diff)
        fn = np.median if statistic == "median" else np.mean
        est = bootstrap_ci(diff, statistic, n_resamples=self.n_resamples, seed=self.seed)
        test = wilcoxon_test(diff)
        self._add(head, quantity, statistic, float(fn(w)) if w.size else np.nan, baseline,
                  float(fn(b)) if b.size else np.nan, est, "wilcoxon", test.statistic, test.p, test.n)

    def _add(self, head, quantity, statistic, wcam, baseline, baseline_value, est, test,
             test_statistic, p, n) -> None:
        self.rows.append({**head, "quantity": quantity, "statistic": statistic, "wcam": wcam,
                          "baseline": baseline, "baseline_value": baseline_value,
                          "margin": est.estimate, "margin_low": est.low, "margin_high": est.high,
                          "test": test, "test_statistic": test_statistic, "p": p, "n": int(n),
                          "verdict": verdict(est.estimate, est.low, est.high, p, self.alpha)})


def _claim(key: str) -> str:
    return f"{key}: {CLAIMS[key]}"


def _depth_claims(rows: _Rows, depths: pd.DataFrame) -> None:
    quantity = "reconstruction depth (share of d)"
    for (model, condition), part in depths.groupby(["model", "condition"], sort=False):
        wide = part.pivot_table(index="image_id", columns="order", values="depth_share",
                                aggfunc="first")
        head = {"model": model, "claim": _claim("a"), "condition": condition}
        for order, name in (("random", "random order"), ("coarse_to_fine", "coarse-to-fine order")):
            if "wcam" in wide and order in wide:
                rows.paired(head, quantity, "median", wide["wcam"], wide[order], name, True)
        if {"wcam_approximation_first", "within_level"} <= set(wide.columns):
            rows.paired(head, quantity + ", approximation first", "median",
                        wide["wcam_approximation_first"], wide["within_level"],
                        "within-level order", True)


def _neg_rho(x, y, axis=-1):
    return -spearman(x, y, axis=axis)


def _margin_depth(xw, xb, y, axis=-1):
    # strength of the WCAM depth minus that of another depth (both -rho)
    return spearman(xb, y, axis=axis) - spearman(xw, y, axis=axis)


def _margin_confidence(xw, c, y, axis=-1):
    # strength of the WCAM depth (-rho) minus that of the confidence (+rho)
    return -spearman(xw, y, axis=axis) - spearman(c, y, axis=axis)


def _depths_with_robustness(clean: pd.DataFrame, per_image: pd.DataFrame) -> pd.DataFrame:
    """Clean depths (shares of ``d``), one column per order, joined with each image's
    robustness: over ImageNet-C's 15 standard corruptions (the paper's) when
    ``per_image`` has that column, else over every corruption of the run."""
    wide = clean.pivot_table(index=["model", "image_id"], columns="order", values="depth_share",
                             aggfunc="first").reset_index()
    column = ("robustness_standard" if "robustness_standard" in per_image.columns
              and per_image["robustness_standard"].notna().any() else "robustness")
    return wide.merge(per_image[["model", "image_id", column]].rename(columns={column: "robustness"}),
                      on=["model", "image_id"], how="inner")


def _robustness_claims(rows: _Rows, depths: pd.DataFrame, confidence: pd.DataFrame | None,
                       per_image: pd.DataFrame) -> None:
    from scipy import stats

    clean = depths[depths["condition"] == "clean"]
    if clean.empty:
        return
    wide = _depths_with_robustness(clean, per_image)
    if confidence is not None:
        wide = wide.merge(confidence, on=["model", "image_id"], how="left")
    quantity = "Spearman rho with robustness"
    for model, part in wide.groupby("model", sort=False):
        head = {"model": model, "claim": _claim("b"), "condition": "clean"}
        xw, y = part["wcam"].to_numpy(float), part["robustness"].to_numpy(float)
        rho = spearman(xw, y) if len(part) >= 2 else np.nan
        est = paired_bootstrap_ci((xw, y), _neg_rho, n_resamples=rows.n_resamples, seed=rows.seed)
        keep = np.isfinite(xw) & np.isfinite(y)
        test_p = (float(stats.spearmanr(xw[keep], y[keep]).pvalue)
                  if keep.sum() >= 3 and np.isfinite(rho) else np.nan)
        rows._add(head, quantity, "rho", rho, "no relation (rho = 0)", 0.0, est, "spearman", rho,
                  test_p, est.n)
        others = []
        if "coarse_to_fine" in part:
            others.append(("coarse-to-fine depth", part["coarse_to_fine"], _margin_depth))
        if "confidence" in part:
            others.append(("clean confidence", part["confidence"], _margin_confidence))
        for name, x, fn in others:
            xb = x.to_numpy(float)
            est, dist = paired_bootstrap_ci((xw, xb, y), fn, n_resamples=rows.n_resamples,
                                            seed=rows.seed, return_distribution=True)
            rows._add(head, quantity, "rho", rho, name, spearman(xb, y) if len(part) >= 2 else np.nan,
                      est, "bootstrap", est.estimate, bootstrap_p_value(dist), est.n)


def _zoom_claims(rows: _Rows, zoom: pd.DataFrame) -> None:
    diffs = zoom_differences(zoom)
    diffs = diffs[diffs["level"] == "approximation"]
    if diffs.empty:
        return
    first, second = diffs["first_view"].iloc[0], diffs["second_view"].iloc[0]
    measure = diffs["measure"].iloc[0]
    geometry = {}
    for view in (first, second):
        part = zoom[zoom["view"] == view]
        if not {"grid_size", "crop", "levels"} <= set(part.columns):
            return
        spec = part[["grid_size", "crop", "levels"]].iloc[0]
        # the levels the view's measure is normalised over
        over = (None if measure == "contribution"
                else list(dict.fromkeys(part.loc[part[measure].notna(), "level"])))
        geometry[view] = (int(spec["grid_size"]), int(spec["crop"]), int(spec["levels"]), over)
    quantity = f"approximation share, {first} - {second}"
    for model, part in diffs.groupby("model", sort=False):
        head = {"model": model, "claim": _claim("c"), "condition": "clean"}
        for kind, name in (("uniform", "uniform map"), ("level-prior", "level prior")):
            shares = [model_free_level_share(kind, g, size, levels, normalise_over=over)
                      for g, size, levels, over in (geometry[first], geometry[second])]
            base = np.full(len(part), shares[0] - shares[1])
            rows.paired(head, quantity, "mean", part["difference"], base, name, False)


_FAITHFULNESS = [
    ("mu_fidelity", "mu-fidelity", False),
    ("mu_fidelity_approximation_kept", "mu-fidelity, approximation kept", False),
    ("insertion_auc", "insertion AUC", False),
    ("deletion_auc", "deletion AUC", True),
]
_FAITHFULNESS_BASELINES = [("level-prior", "level prior"), ("random-attribution", "random attribution"),
                           ("spatial-sobol", "spatial Sobol'")]


def _faithfulness_claims(rows: _Rows, faithfulness: pd.DataFrame) -> None:
    require_columns(faithfulness, ["model", "image_id", "method"], "faithfulness table")
    for model, part in faithfulness.groupby("model", sort=False):
        head = {"model": model, "claim": _claim("d"), "condition": "clean"}
        for column, quantity, lower in _FAITHFULNESS:
            if column not in part.columns:
                continue
            wide = part.pivot_table(index="image_id", columns="method", values=column,
                                    aggfunc="first", dropna=False)
            if "wcam" not in wide:
                continue
            for method, name in _FAITHFULNESS_BASELINES:
                if method in wide and wide[method].notna().any():
                    rows.paired(head, quantity, "mean", wide["wcam"], wide[method], name, lower)


def claims_table(reconstruction: pd.DataFrame, depth_baselines: pd.DataFrame | None,
                 per_image: pd.DataFrame, zoom: pd.DataFrame | None = None,
                 faithfulness: pd.DataFrame | None = None, seed: int = 0,
                 n_resamples: int = NB_RESAMPLES, alpha: float = 0.05) -> pd.DataFrame:
    """The claims table: every claim of the paper against each of its baselines.

    Parameters
    ----------
    reconstruction:
        :func:`~spectral_attribution.studies.reconstruction.sufficient_reconstruction`
        (claims a and b: the WCAM order's depth and the random orders).
    depth_baselines:
        :func:`~spectral_attribution.studies.depth_baselines.baseline_depths`
        (coarse-to-fine, within-level and approximation-first WCAM depths;
        the clean confidence), or ``None``.
    per_image:
        :func:`~spectral_attribution.studies.corruption.robustness_per_image`
        (claim b).
    zoom:
        :func:`~spectral_attribution.studies.zoom.zoom_study` (claim c), or ``None``.
    faithfulness:
        :func:`~spectral_attribution.studies.faithfulness.faithfulness`
        with its baselines (claim d), or ``None``.
    seed, n_resamples:
        Seed and size of every bootstrap (the same for every row).
    alpha:
        Significance level of the verdicts.

    Returns
    -------
    pandas.DataFrame
        One row per comparison, columns :data:`CLAIMS_COLUMNS`: ``model,
        claim, condition, quantity, statistic`` (median / mean / rho),
        ``wcam`` (the WCAM's value), ``baseline``, ``baseline_value``,
        ``margin, margin_low, margin_high`` (positive favours the claim; 95 %
        interval), ``test, test_statistic, p, n`` (images), ``verdict``
        (:func:`verdict`) and ``strongest`` (bool: the baseline of smallest
        margin among the rows of one model, claim, condition and quantity).
        A claim whose inputs are missing has no rows.
    """
    require_columns(per_image, ["model", "image_id", "robustness"], "per-image robustness")
    rows = _Rows(seed, n_resamples, alpha)
    depths = depth_per_image(reconstruction, depth_baselines)
    _depth_claims(rows, depths)
    confidence = None
    if depth_baselines is not None and {"confidence", "condition"} <= set(depth_baselines.columns):
        confidence = (depth_baselines[depth_baselines["condition"] == "clean"]
                      .groupby(["model", "image_id"], sort=False)["confidence"].first().reset_index())
    _robustness_claims(rows, depths, confidence, per_image)
    if zoom is not None and not zoom.empty:
        _zoom_claims(rows, zoom)
    if faithfulness is not None and not faithfulness.empty:
        _faithfulness_claims(rows, faithfulness)
    table = pd.DataFrame(rows.rows, columns=CLAIMS_COLUMNS[:-1])
    key = ["model", "claim", "condition", "quantity"]
    margin = table["margin"].astype(float).fillna(np.inf)
    table["strongest"] = margin.eq(margin.groupby([table[k] for k in key]).transform("min")) \
        & table["margin"].notna()
    # one strongest row per group (the first on ties)
    table["strongest"] &= ~table.duplicated(key + ["strongest"]) | ~table["strongest"]
    table = table[CLAIMS_COLUMNS]
    table.attrs["notes"] = list(CLAIMS_NOTES)
    return table


#: Footnotes of the claims table (written under its Markdown and LaTeX versions).
CLAIMS_NOTES = (
    "margin: oriented so that > 0 favours the claim (baseline - WCAM for depths and deletion, "
    "WCAM - baseline otherwise; for b, the WCAM depth's -rho minus the baseline's oriented rho); "
    "median or mean of the per-image differences with its 95 % percentile bootstrap interval "
    "over images (seeded).",
    "test: Wilcoxon signed-rank of the per-image differences (zero differences per Pratt), "
    "Spearman's test against rho = 0, or the bootstrap p-value for differences of correlations; "
    "n: images.",
    "verdict: supported when the interval lies above 0 and p < 0.05; not supported when the "
    "margin is <= 0 (the baseline is at least as good); inconclusive otherwise. strongest: the "
    "baseline of smallest margin for the claim and quantity.",
    "Robustness (claim b) over ImageNet-C's standard corruptions when the run has them; depths "
    "censored at d + 1; the class of every metric is the one each WCAM explains.",
)


#: Predictors of robustness compared by :func:`depth_robustness_fits`: name -> column of the join.
_PREDICTORS = {"WCAM depth (share of d)": "wcam", "coarse-to-fine depth (share of d)": "coarse_to_fine",
               "clean confidence": "confidence"}


def depth_robustness_fits(reconstruction: pd.DataFrame, depth_baselines: pd.DataFrame | None,
                          per_image: pd.DataFrame, seed: int = 0,
                          n_resamples: int = NB_RESAMPLES) -> pd.DataFrame:
    """The depth-robustness fit, and the same fit for its possible confounders, per model.

    Over the clean images: robustness (over the standard corruptions when
    known) against the WCAM's reconstruction depth, the coarse-to-fine
    order's depth (median of its draws) and the clean prediction's confidence
    (softmax probability), each with the least-squares line of
    :func:`spectral_attribution.metrics.depth_robustness_fit` and Spearman's
    rank correlation with its 95 % seeded percentile bootstrap interval. If a
    model-free depth or the confidence predicts robustness as well as the
    WCAM depth, the paper's relation says little about what the WCAM adds.

    Returns
    -------
    pandas.DataFrame
        One row per model and predictor, columns ``model, predictor, n,
        slope, slope_low, slope_high, r, p, spearman, spearman_low,
        spearman_high`` (depths as shares of ``d``, confidence in ``[0, 1]``;
        NaN where undefined).
    """
    require_columns(per_image, ["model", "image_id", "robustness"], "per-image robustness")
    depths = depth_per_image(reconstruction, depth_baselines)
    clean = depths[depths["condition"] == "clean"]
    wide = _depths_with_robustness(clean, per_image)
    if depth_baselines is not None and "confidence" in depth_baselines.columns:
        conf = (depth_baselines[depth_baselines["condition"] == "clean"]
                .groupby(["model", "image_id"], sort=False)["confidence"].first().reset_index())
        wide = wide.merge(conf, on=["model", "image_id"], how="left")
    rows = []
    for model, part in wide.groupby("model", sort=False):
        for name, col in _PREDICTORS.items():
            if col not in part:
                continue
            fit = metrics.depth_robustness_fit(part[[col, "robustness"]], x=col, by=None).iloc[0]
            rho = paired_bootstrap_ci((part[col].astype(float), part["robustness"].astype(float)),
                                      spearman, n_resamples=n_resamples, seed=seed)
            rows.append({"model": model, "predictor": name, "n": int(fit["n"]),
                         "slope": fit["slope"], "slope_low": fit["slope_low"],
                         "slope_high": fit["slope_high"], "r": fit["r"], "p": fit["p"],
                         "spearman": rho.estimate, "spearman_low": rho.low,
                         "spearman_high": rho.high})
    out = pd.DataFrame(rows, columns=["model", "predictor", "n", "slope", "slope_low", "slope_high",
                                      "r", "p", "spearman", "spearman_low", "spearman_high"])
    out.attrs["notes"] = [
        "Robustness (over ImageNet-C's standard corruptions when the run has them) of each clean "
        "image against three predictors: slope of the least-squares line with its 95 % t "
        "interval, Pearson r and p, Spearman rho with its 95 % percentile bootstrap interval."]
    return out
