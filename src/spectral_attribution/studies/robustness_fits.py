"""The depth-robustness fit and its confounders (split out of the claims module).

:func:`depth_robustness_fits` fits robustness against the WCAM depth and
against its possible confounders, over every clean image and over the
correctly classified ones only, and gives the WCAM depth's partial Spearman
correlation with robustness once the confounders are partialled out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spectral_attribution import metrics
from spectral_attribution._utils.tables import require_columns
from spectral_attribution.studies.claims_inputs import (
    clean_confidence,
    depth_per_image,
    depths_with_robustness,
)
from spectral_attribution.studies.stats import (
    NB_RESAMPLES,
    paired_bootstrap_ci,
    partial_spearman,
    partial_spearman_p,
    spearman,
)

__all__ = ["depth_robustness_fits"]

#: Predictors of robustness compared by :func:`depth_robustness_fits`: name -> column of the join.
_PREDICTORS = {"WCAM depth (share of d)": "wcam", "energy depth (share of d)": "energy",
               "coarse-to-fine depth (share of d)": "coarse_to_fine",
               "clean confidence": "confidence"}
_COLUMNS = ["model", "images", "predictor", "n", "slope", "slope_low", "slope_high", "r", "p",
            "spearman", "spearman_low", "spearman_high"]


def depth_robustness_fits(reconstruction: pd.DataFrame, depth_baselines: pd.DataFrame | None,
                          per_image: pd.DataFrame, seed: int = 0,
                          n_resamples: int = NB_RESAMPLES) -> pd.DataFrame:
    """The depth-robustness fit, and the same fit for its possible confounders, per model.

    For two image sets (``images``: ``"all clean"``, and ``"correctly
    classified"`` where the clean prediction is the label): robustness
    (over the standard corruptions when known) against the WCAM's
    reconstruction depth, the energy order's and the coarse-to-fine order's
    depths and the clean confidence (softmax probability), each with the
    least-squares line of :func:`spectral_attribution.metrics.depth_robustness_fit`
    and Spearman's rho with its 95 % seeded percentile bootstrap interval;
    then the row ``"WCAM depth | confounders"``: the partial Spearman rho of
    the WCAM depth given the other predictors present (slope and r NaN,
    ``p`` the partial correlation's t test).

    Returns
    -------
    pandas.DataFrame
        One row per model, image set and predictor, columns ``model,
        images, predictor, n, slope, slope_low, slope_high, r, p, spearman,
        spearman_low, spearman_high`` (depths as shares of ``d``, confidence
        in ``[0, 1]``; NaN where undefined).
    """
    require_columns(per_image, ["model", "image_id", "robustness"], "per-image robustness")
    depths = depth_per_image(reconstruction, depth_baselines)
    wide = depths_with_robustness(depths, per_image, clean_confidence(depth_baselines))
    rows = []
    for model, everything in wide.groupby("model", sort=False):
        for images, part in (("all clean", everything),
                             ("correctly classified", everything[everything["correct"]])):
            present = [c for c in _PREDICTORS.values() if c in part]
            for name, col in _PREDICTORS.items():
                if col not in part:
                    continue
                if len(part) >= 1:
                    fit = metrics.depth_robustness_fit(part[[col, "robustness"]], x=col,
                                                       by=None).iloc[0]
                else:
                    fit = pd.Series({"n": 0, "slope": np.nan, "slope_low": np.nan,
                                     "slope_high": np.nan, "r": np.nan, "p": np.nan})
                rho = paired_bootstrap_ci((part[col].astype(float), part["robustness"].astype(float)),
                                          spearman, n_resamples=n_resamples, seed=seed)
                rows.append({"model": model, "images": images, "predictor": name,
                             "n": int(fit["n"]), "slope": fit["slope"],
                             "slope_low": fit["slope_low"], "slope_high": fit["slope_high"],
                             "r": fit["r"], "p": fit["p"], "spearman": rho.estimate,
                             "spearman_low": rho.low, "spearman_high": rho.high})
            covariates = [c for c in present if c not in ("wcam", "coarse_to_fine")
                          or (c == "coarse_to_fine" and "energy" not in present)]
            if "wcam" in part and covariates:
                samples = [part["wcam"].astype(float), part["robustness"].astype(float),
                           *(part[c].astype(float) for c in covariates)]
                est = paired_bootstrap_ci(samples, partial_spearman, n_resamples=n_resamples,
                                          seed=seed)
                rows.append({"model": model, "images": images,
                             "predictor": "WCAM depth | " + ", ".join(covariates),
                             "n": est.n, "slope": np.nan, "slope_low": np.nan,
                             "slope_high": np.nan, "r": np.nan,
                             "p": partial_spearman_p(est.estimate, est.n, len(covariates)),
                             "spearman": est.estimate, "spearman_low": est.low,
                             "spearman_high": est.high})
    out = pd.DataFrame(rows, columns=_COLUMNS)
    out.attrs["notes"] = [
        "Robustness (over ImageNet-C's standard corruptions when the run has them) of each clean "
        "image against each predictor: slope of the least-squares line with its 95 % t "
        "interval, Pearson r and p, Spearman rho with its 95 % percentile bootstrap interval; "
        "'correctly classified': the clean prediction is the label. 'WCAM depth | ...': the "
        "partial Spearman rho given the predictors named (t test, n - 2 - k degrees of freedom)."]
    return out
