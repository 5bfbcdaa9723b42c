"""The paper's claims, each against its trivial baselines: the claims table.

Each claim of *Scale Matters* (Kasmi et al. 2023) is restated as a paired
comparison over images between the WCAM and a baseline that needs no model
(:mod:`spectral_attribution.studies.baselines`); the rows are built in
:mod:`~spectral_attribution.studies.claims_rows`, the verdicts by the rule
declared in :mod:`~spectral_attribution.studies.verdicts`:

====  ======================================  ===========================================================
claim                                         compared with (deciding baseline first)
====  ======================================  ===========================================================
a     few coefficients suffice: the WCAM      **energy order** (the image's own wavelet energy per cell);
      order's reconstruction depth is         coarse-to-fine order; random order (sanity check); within
      shallow                                 the levels, the within-level order (approximation first)
b     models needing fewer coefficients are   **partial rho = 0** on correctly classified images, the
      more robust: depth and robustness       clean confidence and the energy depth partialled out; the
      correlate negatively over images        plain rho against 0 and against the energy depth, the
                                              coarse-to-fine depth and the confidence
c     zoom lowers the approximation share     **the image's own energy shift** between the views; the
      (regular - zoomed view, per             uniform map and the level prior (constants; one row when
      coefficient; by mass, labelled apart)   equal)
d     WCAMs are faithful (mu-fidelity on      **the energy map**; the level prior; a random attribution
      subsets that keep the approximation,    (sanity check); mu-fidelity on subsets that may remove the
      insertion, deletion)                    approximation as a reference
d'    spatial Sobol', in its own pixel        its centre prior: a separate comparison, outside the
      domain                                  WCAM's verdicts (another perturbation domain)
====  ======================================  ===========================================================

Estimate, interval, test
------------------------
For every comparison the **estimate** is oriented so that a positive value
favours the claim:

* paired per-image quantities (a, c, d): the per-image difference
  ``baseline - WCAM`` where lower is better (depth, deletion AUC) and
  ``WCAM - baseline`` otherwise; the estimate is the median (depths:
  discrete and censored) or the mean (everything else) of the differences,
  its 95 % interval a seeded percentile bootstrap over images (differences
  within float round-off, ``1e-9`` of the values' scale, count as 0), its
  test the Wilcoxon signed-rank test (zero differences per Pratt);
* correlations (b): ``-rho`` of the WCAM depth against "no relation"
  (Spearman's test), the WCAM depth's strength minus a confounder's (paired
  bootstrap interval and p), and the partial Spearman rho (t test with
  ``n - 2 - k`` degrees of freedom) on the correctly classified images.

Verdicts, roles (decides / reference / sanity check / separate
comparison), Holm's correction over the deciding rows and the images
needed: :mod:`spectral_attribution.studies.verdicts`.
:func:`claims_summary` writes the README's summary from the table, so the
summary cannot say more than the table.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from spectral_attribution._utils.tables import require_columns
from spectral_attribution.studies.claims_inputs import (
    clean_confidence,
    depth_per_image,
    model_free_level_share,
)
from spectral_attribution.studies.claims_rows import (
    CLAIMS,
    Rows,
    depth_rows,
    faithfulness_rows,
    robustness_rows,
    zoom_rows,
)
from spectral_attribution.studies.robustness_fits import depth_robustness_fits
from spectral_attribution.studies.stats import NB_RESAMPLES
from spectral_attribution.studies.verdicts import VERDICTS, apply_verdicts, verdict

__all__ = [
    "CLAIMS",
    "CLAIMS_COLUMNS",
    "VERDICTS",
    "verdict",
    "depth_per_image",
    "model_free_level_share",
    "claims_table",
    "claims_summary",
    "write_claims_summary",
    "depth_robustness_fits",
]

CLAIMS_COLUMNS = ["model", "claim", "condition", "quantity", "statistic", "wcam", "baseline",
                  "baseline_value", "role", "estimate", "estimate_low", "estimate_high", "test",
                  "test_statistic", "p", "p_holm", "n", "verdict", "images_needed"]


def claims_table(reconstruction: pd.DataFrame, depth_baselines: pd.DataFrame | None,
                 per_image: pd.DataFrame, zoom: pd.DataFrame | None = None,
                 faithfulness: pd.DataFrame | None = None,
                 wcam_noise: pd.DataFrame | None = None, seed: int = 0,
                 n_resamples: int = NB_RESAMPLES, alpha: float = 0.05) -> pd.DataFrame:
    """The claims table: every claim of the paper against each of its baselines.

    Parameters
    ----------
    reconstruction:
        :func:`~spectral_attribution.studies.reconstruction.sufficient_reconstruction`
        (claims a and b: the WCAM order's depth and the random orders).
    depth_baselines:
        :func:`~spectral_attribution.studies.depth_baselines.baseline_depths`
        (energy, coarse-to-fine, within-level and approximation-first
        depths; the clean confidence), or ``None``.
    per_image:
        :func:`~spectral_attribution.studies.corruption.robustness_per_image` (claim b).
    zoom:
        :func:`~spectral_attribution.studies.zoom.zoom_study` (claim c), or ``None``.
    faithfulness:
        :func:`~spectral_attribution.studies.faithfulness.faithfulness`
        with its baselines (claims d and d'), or ``None``.
    seed, n_resamples:
        Seed and size of every bootstrap (the same for every row).
    alpha:
        Significance level of the verdicts (after Holm for deciding rows).
    wcam_noise:
        :func:`~spectral_attribution.studies.noise.wcam_noise` with
        ``approximation_share_a/b``: its seed-to-seed standard deviation of
        the approximation share goes into the notes (claim c), or ``None``.

    Returns
    -------
    pandas.DataFrame
        One row per comparison, columns :data:`CLAIMS_COLUMNS`: ``estimate,
        estimate_low, estimate_high`` (numbers; > 0 favours the claim),
        ``role`` (words, :data:`~spectral_attribution.studies.verdicts.ROLES`),
        ``p`` (raw), ``p_holm`` (deciding rows), ``n`` (images),
        ``verdict``, ``images_needed`` (inconclusive deciding rows). A claim
        whose inputs are missing has no rows. ``attrs["notes"]``: footnotes.
    """
    require_columns(per_image, ["model", "image_id", "robustness"], "per-image robustness")
    rows = Rows(seed, n_resamples)
    depths = depth_per_image(reconstruction, depth_baselines)
    depth_rows(rows, depths)
    robustness_rows(rows, depths, clean_confidence(depth_baselines), per_image)
    if zoom is not None and not zoom.empty:
        zoom_rows(rows, zoom)
    if faithfulness is not None and not faithfulness.empty:
        faithfulness_rows(rows, faithfulness)
    raw = pd.DataFrame(rows.rows, columns=["model", "claim_id", "claim", "condition", "quantity",
                                           "statistic", "wcam", "baseline", "baseline_value",
                                           "estimate", "estimate_low", "estimate_high", "test",
                                           "test_statistic", "p", "n", "effect", "effect_kind"])
    table = apply_verdicts(raw, alpha)[CLAIMS_COLUMNS]
    for column in ("estimate", "estimate_low", "estimate_high", "p", "p_holm", "images_needed",
                   "wcam", "baseline_value", "test_statistic"):
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
    notes = list(CLAIMS_NOTES)
    noise = approximation_share_noise(wcam_noise)
    if noise is not None:
        notes.append(noise)
    table.attrs["notes"] = notes
    return table


def approximation_share_noise(wcam_noise: pd.DataFrame | None) -> str | None:
    """A note with the seed-to-seed sd of the approximation share (``sd(a - b) / sqrt 2``), or ``None``."""
    if wcam_noise is None or not {"approximation_share_a", "approximation_share_b"} <= set(wcam_noise):
        return None
    parts = []
    for (model, g, n), part in wcam_noise.groupby(["model", "grid_size", "nb_design"], sort=False):
        diff = (part["approximation_share_a"] - part["approximation_share_b"]).astype(float).dropna()
        if len(diff) >= 2:
            parts.append(f"{model}, grid {int(g)}, {int(n)} designs: "
                         f"{float(np.std(diff, ddof=1)) / np.sqrt(2):.3f} ({len(diff)} images)")
    if not parts:
        return None
    return ("Seed-to-seed noise of the WCAM's approximation share (per coefficient; sd of one "
            "estimate, from two seeds): " + "; ".join(parts) + ".")


#: Footnotes of the claims table (written under its Markdown and LaTeX versions).
CLAIMS_NOTES = (
    "estimate: oriented so that > 0 favours the claim (baseline - WCAM for depths and deletion, "
    "WCAM - baseline otherwise; for b, -rho or a difference of oriented rhos); median or mean "
    "of the per-image differences with its 95 % percentile bootstrap interval over images.",
    "role: 'decides' is the baseline declared in advance for the claim and quantity (the "
    "image's own wavelet energy; for b the partial correlation on correctly classified "
    "images); 'reference' rows inform, 'sanity check' rows (random orders and attributions) "
    "are beaten by construction, 'separate comparison' (spatial Sobol' in its pixel domain) "
    "is outside the WCAM's verdicts.",
    "verdict: supported when the interval lies above 0 and p < 0.05 (Holm-corrected p over "
    "the deciding rows for those rows); not supported when the estimate is <= 0; inconclusive "
    "otherwise. images_needed: images at which an inconclusive deciding row would be decided "
    "(80 % power at the observed standardised effect, Bonferroni level).",
    "Robustness (claim b) over ImageNet-C's standard corruptions when the run has them; depths "
    "censored at d + 1; the class of every metric is the one each WCAM explains.",
)


def claims_summary(table: pd.DataFrame) -> str:
    """The README's summary of the claims, generated from the claims table (Markdown).

    One line per claim: its deciding rows' verdicts (model, quantity,
    estimate and interval, Holm p, n, images needed when inconclusive); a
    claim *survives* only where every deciding row is supported. Nothing
    else is said, so the summary cannot claim more than the table.
    """
    require_columns(table, ["model", "claim", "quantity", "baseline", "role", "estimate",
                            "estimate_low", "estimate_high", "p_holm", "n", "verdict"],
                    "claims table")
    deciding = table[table["role"] == "decides"]
    lines = ["Each claim against the baseline declared in advance (the image's own wavelet "
             "energy, no model); Holm-corrected over the deciding rows. Generated from "
             "`results/tables/claims.csv`.", ""]
    for claim, part in deciding.groupby("claim", sort=False):
        verdicts = set(part["verdict"])
        overall = ("survives" if verdicts == {"supported"} else
                   "does not survive" if "not supported" in verdicts else "undecided")
        lines.append(f"- **{claim}** -- {overall}:")
        for row in part.itertuples(index=False):
            needed = getattr(row, "images_needed", np.nan)
            extra = (f"; about {int(needed)} images would decide it"
                     if pd.notna(needed) and row.verdict == "inconclusive" else "")
            lines.append(f"  - {row.model}, {row.quantity} vs {row.baseline}: {row.verdict} "
                         f"(estimate {row.estimate:.3f} [{row.estimate_low:.3f}, "
                         f"{row.estimate_high:.3f}], Holm p = {row.p_holm:.3g}, "
                         f"n = {int(row.n)}{extra})")
    if deciding.empty:
        lines.append("- no claim has a deciding row in this run (missing inputs).")
    return "\n".join(lines) + "\n"


def write_claims_summary(table: pd.DataFrame | str | os.PathLike, path: str | os.PathLike) -> str:
    """Write :func:`claims_summary` of ``table`` (a frame or the claims CSV) to ``path``; returns the text."""
    if not isinstance(table, pd.DataFrame):
        table = pd.read_csv(table)
    text = claims_summary(table)
    os.makedirs(os.path.dirname(os.fspath(path)) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return text
