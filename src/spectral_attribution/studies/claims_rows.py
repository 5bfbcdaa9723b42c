"""Rows of the claims table: one paired comparison of the WCAM with one baseline each.

Split out of :mod:`spectral_attribution.studies.claims`; the definitions
(margin orientation, statistics, tests) are in that module's notes, the
roles and verdicts in :mod:`spectral_attribution.studies.verdicts`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spectral_attribution._utils.tables import require_columns
from spectral_attribution.studies.claims_inputs import depths_with_robustness, model_free_level_share
from spectral_attribution.studies.stats import (
    bootstrap_ci,
    bootstrap_p_value,
    paired_bootstrap_ci,
    partial_spearman,
    partial_spearman_p,
    spearman,
    wilcoxon_test,
)
from spectral_attribution.studies.zoom import zoom_differences

__all__ = ["CLAIMS", "ROUND_OFF", "Rows", "depth_rows", "robustness_rows", "zoom_rows",
           "faithfulness_rows"]

#: Claim id -> statement (the ``claim`` column holds ``"<id>: <statement>"``).
CLAIMS: dict[str, str] = {
    "a": "few coefficients suffice",
    "b": "fewer coefficients, more robust",
    "c": "zoom lowers the approximation share",
    "d": "WCAMs are faithful",
    "d'": "spatial Sobol' is faithful (its own pixel domain)",
}
#: Per-image differences smaller than this (relative to the values' scale) are ties.
ROUND_OFF = 1e-9


class Rows:
    """Accumulates the raw rows (one per comparison) before :func:`~.verdicts.apply_verdicts`.

    Two baselines of one comparison whose per-image values are identical
    (e.g. two constants that the definition makes equal) give one row named
    ``"first / second"``.
    """

    def __init__(self, seed: int, n_resamples: int):
        self.rows: list[dict] = []
        self.seed, self.n_resamples = int(seed), int(n_resamples)
        self._seen: dict[tuple, list[tuple[np.ndarray, int]]] = {}

    def head(self, model, claim: str, condition: str) -> dict:
        return {"model": model, "claim_id": claim, "claim": f"{claim}: {CLAIMS[claim]}",
                "condition": condition}

    def paired(self, head: dict, quantity: str, statistic: str, wcam, base, baseline: str,
               lower_is_better: bool) -> None:
        w, b = np.asarray(wcam, dtype=np.float64), np.asarray(base, dtype=np.float64)
        key = (*head.values(), quantity)
        for values, index in self._seen.get(key, []):
            if values.shape == b.shape and np.array_equal(values, b, equal_nan=True):
                self.rows[index]["baseline"] += f" / {baseline}"
                return
        keep = np.isfinite(w) & np.isfinite(b)
        self._seen.setdefault(key, []).append((b.copy(), len(self.rows)))
        w, b = w[keep], b[keep]
        diff = (b - w) if lower_is_better else (w - b)
        # float round-off is a tie, not evidence: |difference| <= 1e-9 x scale counts as 0
        scale = max(1.0, float(np.max(np.abs(np.concatenate([w, b])), initial=0.0)))
        diff = np.where(np.abs(diff) <= ROUND_OFF * scale, 0.0, diff)
        fn = np.median if statistic == "median" else np.mean
        est = bootstrap_ci(diff, statistic, n_resamples=self.n_resamples, seed=self.seed)
        test = wilcoxon_test(diff)
        sd = float(np.std(diff, ddof=1)) if diff.size > 1 else np.nan
        effect = float(np.mean(diff)) / sd if sd and np.isfinite(sd) and sd > 0 else np.nan
        self.add(head, quantity, statistic, float(fn(w)) if w.size else np.nan, baseline,
                 float(fn(b)) if b.size else np.nan, est, "wilcoxon", test.statistic, test.p,
                 test.n, effect, "difference")

    def add(self, head, quantity, statistic, wcam, baseline, baseline_value, est, test,
            test_statistic, p, n, effect=np.nan, effect_kind="difference") -> None:
        self.rows.append({**head, "quantity": quantity, "statistic": statistic, "wcam": wcam,
                          "baseline": baseline, "baseline_value": baseline_value,
                          "estimate": est.estimate, "estimate_low": est.low,
                          "estimate_high": est.high, "test": test,
                          "test_statistic": test_statistic, "p": p, "n": int(n),
                          "effect": effect, "effect_kind": effect_kind})


_DEPTH_BASELINES = (("energy", "energy order"), ("coarse_to_fine", "coarse-to-fine order"),
                    ("random", "random order"))


def depth_rows(rows: Rows, depths: pd.DataFrame) -> None:
    """Claim a: the WCAM order's depth against each model-free order's, per image."""
    quantity = "reconstruction depth (share of d)"
    for (model, condition), part in depths.groupby(["model", "condition"], sort=False):
        wide = part.pivot_table(index="image_id", columns="order", values="depth_share",
                                aggfunc="first")
        head = rows.head(model, "a", condition)
        for order, name in _DEPTH_BASELINES:
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


def _neg_partial(xw, y, *covariates, axis=-1):
    return -partial_spearman(xw, y, *covariates, axis=axis)


def robustness_rows(rows: Rows, depths: pd.DataFrame, confidence: pd.DataFrame | None,
                    per_image: pd.DataFrame) -> None:
    """Claim b: rank correlations of depth and robustness over the clean images.

    The deciding row is the partial Spearman correlation on the correctly
    classified images only, with the clean confidence and the energy
    order's depth (the coarse-to-fine one when there is no energy depth)
    partialled out; the plain correlations are references.
    """
    from scipy import stats

    if depths[depths["condition"] == "clean"].empty:
        return
    wide = depths_with_robustness(depths, per_image, confidence)
    quantity = "Spearman rho with robustness"
    for model, part in wide.groupby("model", sort=False):
        head = rows.head(model, "b", "clean")
        xw, y = part["wcam"].to_numpy(float), part["robustness"].to_numpy(float)
        rho = spearman(xw, y) if len(part) >= 2 else np.nan
        est = paired_bootstrap_ci((xw, y), _neg_rho, n_resamples=rows.n_resamples, seed=rows.seed)
        keep = np.isfinite(xw) & np.isfinite(y)
        test_p = (float(stats.spearmanr(xw[keep], y[keep]).pvalue)
                  if keep.sum() >= 3 and np.isfinite(rho) else np.nan)
        rows.add(head, quantity, "rho", rho, "no relation (rho = 0)", 0.0, est, "spearman", rho,
                 test_p, est.n, -rho, "correlation")
        others = []
        for column, name in (("energy", "energy depth"), ("coarse_to_fine", "coarse-to-fine depth")):
            if column in part:
                others.append((name, part[column], _margin_depth))
        if "confidence" in part:
            others.append(("clean confidence", part["confidence"], _margin_confidence))
        for name, x, fn in others:
            xb = x.to_numpy(float)
            est, dist = paired_bootstrap_ci((xw, xb, y), fn, n_resamples=rows.n_resamples,
                                            seed=rows.seed, return_distribution=True)
            rows.add(head, quantity, "rho", rho, name, spearman(xb, y) if len(part) >= 2 else np.nan,
                     est, "bootstrap", est.estimate, bootstrap_p_value(dist), est.n)
        _partial_row(rows, head, part)


def _partial_row(rows: Rows, head: dict, part: pd.DataFrame) -> None:
    covariates = [c for c in ("confidence",) if c in part]
    covariates += ["energy"] if "energy" in part else (["coarse_to_fine"] if "coarse_to_fine" in part else [])
    good = part[part["correct"].astype(bool)]
    names = {"confidence": "confidence", "energy": "energy depth", "coarse_to_fine": "coarse-to-fine depth"}
    quantity = ("partial Spearman rho with robustness, correctly classified images"
                + (f" ({', '.join(names[c] for c in covariates)} partialled out)" if covariates else ""))
    samples = [good["wcam"].to_numpy(float), good["robustness"].to_numpy(float),
               *(good[c].to_numpy(float) for c in covariates)]
    est = paired_bootstrap_ci(samples, _neg_partial, n_resamples=rows.n_resamples, seed=rows.seed)
    keep = np.logical_and.reduce([np.isfinite(s) for s in samples]) if len(good) else np.zeros(0, bool)
    r = partial_spearman(*(s[keep] for s in samples)) if keep.sum() >= len(samples) + 1 else np.nan
    p = partial_spearman_p(r, int(keep.sum()), len(covariates))
    rows.add(head, quantity, "partial rho", r, "no relation (partial rho = 0)", 0.0, est,
             "partial spearman", r, p, int(keep.sum()), -r if np.isfinite(r) else np.nan,
             "correlation")


def zoom_rows(rows: Rows, zoom: pd.DataFrame) -> None:
    """Claim c: the drop of the approximation share between views, per image.

    Per coefficient (the zoom study's share) against the image's own energy
    shift (deciding) and the constant shares of a uniform map and of the
    level prior; by mass against no change.
    """
    diffs = zoom_differences(zoom)
    diffs = diffs[diffs["level"] == "approximation"]
    if diffs.empty:
        return
    first, second = diffs["first_view"].iloc[0], diffs["second_view"].iloc[0]
    measure = diffs["measure"].iloc[0]
    energy = mass = None
    if "energy_contribution" in zoom.columns and zoom["energy_contribution"].notna().any():
        energy = zoom_differences(zoom, measure="energy_contribution")
        energy = energy[energy["level"] == "approximation"]
    if "mass_contribution" in zoom.columns and zoom["mass_contribution"].notna().any():
        mass = zoom_differences(zoom, measure="mass_contribution")
        mass = mass[mass["level"] == "approximation"]
    geometry = {}
    for view in (first, second):
        part = zoom[zoom["view"] == view]
        if {"grid_size", "crop", "levels"} <= set(part.columns):
            spec = part[["grid_size", "crop", "levels"]].iloc[0]
            over = (None if measure == "contribution"
                    else list(dict.fromkeys(part.loc[part[measure].notna(), "level"])))
            geometry[view] = (int(spec["grid_size"]), int(spec["crop"]), int(spec["levels"]), over)
    quantity = f"approximation share per coefficient, {first} - {second}"
    for model, part in diffs.groupby("model", sort=False):
        head = rows.head(model, "c", "clean")
        part = part.set_index("image_id")
        if energy is not None:
            e = energy[energy["model"] == model].set_index("image_id")["difference"]
            rows.paired(head, quantity, "mean", part["difference"], e.reindex(part.index),
                        "energy shift", False)
        if len(geometry) == 2:
            for kind, name in (("uniform", "uniform map"), ("level-prior", "level prior")):
                shares = [model_free_level_share(kind, g, size, levels, normalise_over=over)
                          for g, size, levels, over in (geometry[first], geometry[second])]
                base = np.full(len(part), shares[0] - shares[1])
                rows.paired(head, quantity, "mean", part["difference"], base, name, False)
        if mass is not None:
            m = mass[mass["model"] == model].set_index("image_id")["difference"]
            rows.paired(head, f"approximation mass share, {first} - {second}", "mean", m,
                        np.zeros(len(m)), "no change (0)", False)


_FAITHFULNESS = [
    ("mu_fidelity_approximation_kept", "mu-fidelity, subsets keep the approximation", False),
    ("mu_fidelity", "mu-fidelity, subsets may remove the approximation", False),
    ("insertion_auc", "insertion AUC", False),
    ("deletion_auc", "deletion AUC", True),
]
#: (attribution, claim, its baselines): each compared in its own perturbation domain.
_FAITHFULNESS_COMPARISONS = [
    ("wcam", "d", [("energy", "energy map"), ("level-prior", "level prior"),
                   ("random-attribution", "random attribution")]),
    ("spatial-sobol", "d'", [("centre-prior", "centre prior")]),
]


def faithfulness_rows(rows: Rows, faithfulness: pd.DataFrame) -> None:
    """Claim d: the WCAM against the energy map, the level prior and a random attribution
    (wavelet domain); claim d': spatial Sobol' against its centre prior (pixel domain)."""
    require_columns(faithfulness, ["model", "image_id", "method"], "faithfulness table")
    for model, part in faithfulness.groupby("model", sort=False):
        for attribution, claim, baselines in _FAITHFULNESS_COMPARISONS:
            head = rows.head(model, claim, "clean")
            for column, quantity, lower in _FAITHFULNESS:
                if column not in part.columns:
                    continue
                wide = part.pivot_table(index="image_id", columns="method", values=column,
                                        aggfunc="first", dropna=False)
                if attribution not in wide or not wide[attribution].notna().any():
                    continue
                for method, name in baselines:
                    if method in wide and wide[method].notna().any():
                        rows.paired(head, quantity, "mean", wide[attribution], wide[method], name,
                                    lower)
