"""Verdicts of the claims table: the rule declared in advance, Holm's correction, images needed.

Which row decides a claim (:data:`DECIDING_BASELINES`)
-------------------------------------------------------
Declared before any claims run, not chosen by the observed margin: for each
claim and quantity the **deciding baseline** is the strongest *trivial*
baseline by construction -- the one that looks at the image itself but at
no model (:mod:`spectral_attribution.studies.baselines`, the image's own
wavelet energy), because a WCAM that merely follows where the image's
energy sits adds nothing:

====  ==========================================  ===========================================
claim quantity                                    deciding baseline
====  ==========================================  ===========================================
a     reconstruction depth                        energy order
b     partial Spearman rho with robustness,       no relation (partial rho = 0)
      correctly classified images (confidence
      and energy depth partialled out)
c     approximation share, regular - zoomed       energy shift (the image's own share change)
d     mu-fidelity on subsets that keep the        energy map
      approximation; insertion AUC; deletion AUC
====  ==========================================  ===========================================

Every other row is shown with a **role**: ``"reference"`` (a model-free
baseline that does not decide: level prior, coarse-to-fine, within-level,
uniform map, mu-fidelity with subsets that may remove the approximation,
the uncorrected correlations), ``"sanity check"`` (random orders and random
attributions: beaten by construction, they can never decide) or
``"separate comparison"`` (spatial Sobol' against its centre prior, in its
own pixel domain: outside the WCAM claims' verdicts).

Verdict rule (:func:`verdict`)
------------------------------
With the estimate ``m`` (positive favours the claim), its 95 % interval
``[lo, hi]`` and the test's ``p`` (Holm-corrected for deciding rows):
**supported** when ``lo > 0`` and ``p < alpha``; **not supported** when
``m <= 0``; **inconclusive** otherwise or when any of them is NaN.

Holm's correction (:func:`holm`) runs over the deciding rows of the whole
table (all models and image sets); the other rows keep their raw ``p``
(``p_holm`` NaN) and their verdict is informative only.

Images needed (:func:`images_needed`): for an inconclusive deciding row,
the number of images at which a two-sided test at the Bonferroni level
``alpha / m`` (``m`` deciding rows, a bound on Holm's) would reach 80 %
power at the observed standardised effect (normal approximation:
``n = ((z_{1 - alpha / 2m} + z_{0.8}) / effect)^2``; for correlations
Fisher's ``atanh(rho)`` with ``+ 3``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["VERDICTS", "ROLES", "DECIDING_BASELINES", "SANITY_BASELINES", "verdict", "holm",
           "images_needed", "role_of", "apply_verdicts"]

VERDICTS = ("supported", "not supported", "inconclusive")
ROLES = ("decides", "reference", "sanity check", "separate comparison")
#: (claim id, quantity prefix) -> the baseline that decides it, declared in advance.
DECIDING_BASELINES: dict[tuple[str, str], str] = {
    ("a", "reconstruction depth (share of d)"): "energy order",
    ("b", "partial Spearman rho with robustness"): "no relation (partial rho = 0)",
    ("c", "approximation share"): "energy shift",
    ("d", "mu-fidelity, subsets keep the approximation"): "energy map",
    ("d", "insertion AUC"): "energy map",
    ("d", "deletion AUC"): "energy map",
}
#: Baselines that are beaten by construction: shown as sanity checks only.
SANITY_BASELINES = ("random order", "random attribution")
#: Power of :func:`images_needed`.
POWER = 0.8


def verdict(margin: float, low: float, high: float, p: float, alpha: float = 0.05) -> str:
    """``"supported"``, ``"not supported"`` or ``"inconclusive"`` by the rule of the module notes."""
    values = np.array([margin, low, high, p], dtype=np.float64)
    if not np.all(np.isfinite(values)):
        return "inconclusive"
    if low > 0 and p < alpha:
        return "supported"
    if margin <= 0:
        return "not supported"
    return "inconclusive"


def holm(p) -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm 1979), NaN kept as NaN.

    ``p_(k)`` (k-th smallest of the ``m`` finite ones) becomes
    ``max_{i <= k} min(1, (m - i + 1) p_(i))``: never below the raw p, at
    most 1, monotone in the raw order. Returns ``float64`` of ``p``'s length.
    """
    p = np.asarray(p, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = finite.size
    if m == 0:
        return out
    order = finite[np.argsort(p[finite], kind="stable")]
    adjusted = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(adjusted)
    return out


def images_needed(effect: float, nb_tests: int, alpha: float = 0.05, correlation: bool = False,
                  power: float = POWER) -> float:
    """Images that would decide a row at the observed standardised effect (module notes).

    ``effect``: mean / sd of the per-image differences, or a correlation
    (``correlation=True``). Returns a float (an integer value), NaN when the
    effect is 0 or not finite.
    """
    from scipy.stats import norm

    if not np.isfinite(effect) or effect == 0:
        return float("nan")
    z = norm.ppf(1 - alpha / (2 * max(1, int(nb_tests)))) + norm.ppf(power)
    if correlation:
        r = min(abs(float(effect)), 0.999999)
        return float(math.ceil((z / math.atanh(r)) ** 2 + 3))
    return float(math.ceil((z / abs(float(effect))) ** 2))


def role_of(claim: str, quantity: str, baseline: str) -> str:
    """The role of a comparison (:data:`ROLES`) by the declared rule; ``claim`` is its id (``"a"``...)."""
    if claim == "d'":
        return "separate comparison"
    names = str(baseline).split(" / ")  # baselines that gave the same values share a row
    for (key, prefix), deciding in DECIDING_BASELINES.items():
        if key == claim and quantity.startswith(prefix) and deciding in names:
            return "decides"
    if all(any(n.startswith(s) for s in SANITY_BASELINES) for n in names):
        return "sanity check"
    return "reference"


def apply_verdicts(table: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Add ``role``, ``p_holm``, ``verdict`` and ``images_needed`` to raw comparison rows.

    ``table`` needs ``claim_id, quantity, baseline, estimate, estimate_low,
    estimate_high, p, effect, effect_kind`` (``effect_kind`` ``"difference"``
    or ``"correlation"``). Deciding rows get Holm's p over all deciding rows
    and their verdict from it; the others their raw-p verdict and NaN
    ``p_holm``. ``images_needed`` is given for inconclusive deciding rows
    (NaN elsewhere).
    """
    out = table.copy()
    out["role"] = [role_of(c, q, b) for c, q, b in zip(out["claim_id"], out["quantity"],
                                                       out["baseline"])]
    deciding = out["role"].eq("decides").to_numpy()
    p_holm = np.full(len(out), np.nan)
    p_holm[deciding] = holm(out.loc[deciding, "p"].astype(float))
    out["p_holm"] = p_holm
    m = int(deciding.sum())
    verdicts, needed = [], []
    for k, row in enumerate(out.itertuples(index=False)):
        p = p_holm[k] if deciding[k] else float(row.p)
        v = verdict(row.estimate, row.estimate_low, row.estimate_high, p, alpha)
        verdicts.append(v)
        needed.append(images_needed(row.effect, m, alpha, row.effect_kind == "correlation")
                      if deciding[k] and v == "inconclusive" else float("nan"))
    out["verdict"] = verdicts
    out["images_needed"] = needed
    return out
