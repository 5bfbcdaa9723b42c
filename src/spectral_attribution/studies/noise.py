"""Estimation noise of the WCAM: how much two WCAMs of one image differ when only the seed does.

A WCAM is a Monte-Carlo estimate (``n`` designs of a scrambled Sobol'
sequence): claims made with it (its order of the cells, its level
contributions) cannot be sharper than its own seed-to-seed agreement.
:func:`wcam_noise` explains each image again with another seed, at the
grid, levels and designs of a reference WCAM, and reports the rank
agreement of the two.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from spectral_attribution import metrics
from spectral_attribution._utils.checks import as_image_list, check_ids, progress_bar
from spectral_attribution.models.forward import model_name
from spectral_attribution._utils.tables import require_columns
from spectral_attribution.models.backends import BACKENDS
from spectral_attribution.attributions.wcam import WCAM
from spectral_attribution.studies.stats import bootstrap_ci, spearman

__all__ = ["wcam_noise", "wcam_noise_table"]

_COLUMNS = ["model", "image_id", "target", "grid_size", "nb_design", "levels", "wavelet",
            "estimator", "seed_a", "seed_b", "spearman", "same_top_cell", "top_overlap",
            "approximation_share_a", "approximation_share_b"]


def _share(explanation) -> float:
    try:
        return float(metrics.level_contributions(explanation.map, explanation.subbands)["approximation"])
    except (AttributeError, ValueError, TypeError):
        return float("nan")


def wcam_noise(model, images, image_ids: Sequence[str], explanations, seed_offset: int = 1,
               top_share: float = 0.1, explainer_kwargs: dict | None = None,
               progress=None) -> pd.DataFrame:
    """Seed-to-seed agreement of WCAMs: Spearman correlation of two estimates of one image's indices.

    For each image, a second WCAM is computed with the settings recorded in
    its reference explanation (``grid_size``, ``nb_design``, ``levels``,
    ``wavelet``, ``estimator``, ``drop_approximation``, ``precision``,
    ``backend``; older results' ``autocast``), for the same target, with the seed
    ``settings["seed"] + seed_offset``; only the Sobol' design differs.

    Parameters
    ----------
    images:
        The images of ``explanations``, ``(B, 3, H, W)`` or a sequence of
        ``(3, H, W)`` tensors in ``[0, 1]``.
    explanations:
        The reference WCAMs (e.g. a shard of the workflow).
    seed_offset:
        Added to the reference's seed for the second WCAM (non-zero).
    top_share:
        Share of the cells compared by ``top_overlap``.
    explainer_kwargs:
        Overrides of the :class:`~spectral_attribution.attributions.wcam.WCAM`
        keyword arguments (e.g. ``batch_size``, ``device``).

    Returns
    -------
    pandas.DataFrame
        One row per image, columns ``model, image_id, target, grid_size,
        nb_design, levels, wavelet, estimator, seed_a, seed_b, spearman``
        (Spearman's rank correlation of the two ``(g, g)`` index arrays, in
        ``[-1, 1]``; NaN when either is constant), ``same_top_cell`` (bool:
        both rank the same cell first) and ``top_overlap`` (share of the top
        ``ceil(top_share * d)`` cells of the first that are also in the
        second's, in ``[0, 1]``).

    Raises
    ------
    ValueError
        ``seed_offset == 0``, mismatched lengths, a non-WCAM explanation.
    """
    images = as_image_list(images)
    explanations = list(explanations)
    ids = check_ids(image_ids, len(images))
    if len(explanations) != len(images):
        raise ValueError(f"got {len(explanations)} explanations for {len(images)} images")
    if int(seed_offset) == 0:
        raise ValueError("seed_offset must be non-zero: the second WCAM needs another seed")
    if not 0 < top_share <= 1:
        raise ValueError(f"top_share must be in (0, 1], got {top_share!r}")
    rows, explainers = [], {}
    for i in progress_bar(range(len(images)), progress, "WCAM noise"):
        ref = explanations[i]
        if getattr(ref, "method", None) != "wcam":
            raise ValueError(f"image {ids[i]!r}: expected a WCAM explanation, got {ref.method!r}")
        s = ref.settings
        seed_b = int(s["seed"]) + int(seed_offset)
        kw = {"grid_size": int(s["grid_size"]), "nb_design": int(s["nb_design"]),
              "levels": int(s["levels"]), "wavelet": s.get("wavelet", "haar"),
              "drop_approximation": bool(s.get("drop_approximation", False)),
              "estimator": s.get("estimator", "jansen"), "seed": seed_b,
              "precision": s.get("precision") or s.get("autocast") or "float32",
              "backend": s["backend"] if s.get("backend") in BACKENDS else "eager",
              "screening": s.get("screening"),  # as the reference (absent: a full design)
              "progress": False, **(explainer_kwargs or {})}
        key = tuple(sorted((k, str(v)) for k, v in kw.items()))
        explainer = explainers.get(key) or explainers.setdefault(key, WCAM(model, **kw))
        [other] = explainer(images[i][None], [int(ref.target)])
        a = np.asarray(ref.indices, dtype=np.float64).ravel()
        b = np.asarray(other.indices, dtype=np.float64).ravel()
        top = int(np.ceil(top_share * a.size))
        top_a, top_b = np.argsort(-a, kind="stable")[:top], np.argsort(-b, kind="stable")[:top]
        rows.append({"model": model_name(model), "image_id": ids[i], "target": int(ref.target),
                     "grid_size": kw["grid_size"], "nb_design": kw["nb_design"],
                     "levels": kw["levels"], "wavelet": kw["wavelet"], "estimator": kw["estimator"],
                     "seed_a": int(s["seed"]), "seed_b": seed_b, "spearman": spearman(a, b),
                     "same_top_cell": bool(top_a[0] == top_b[0]),
                     "top_overlap": len(np.intersect1d(top_a, top_b)) / top,
                     # per-coefficient approximation share of each estimate (claim c's noise)
                     "approximation_share_a": _share(ref), "approximation_share_b": _share(other)})
    return pd.DataFrame(rows, columns=_COLUMNS)


def wcam_noise_table(df: pd.DataFrame, digits: int = 3, seed: int = 0) -> pd.DataFrame:
    """The WCAM's estimation noise per model and configuration.

    Returns
    -------
    pandas.DataFrame
        One row per ``model, grid_size, nb_design, levels``: ``nb_images``,
        ``spearman`` (mean seed-to-seed Spearman correlation with its 95 %
        seeded percentile bootstrap interval over images, ``"mean [low,
        high]"``), ``spearman_min``, ``same_top_cell`` (share of images,
        in ``[0, 1]``) and ``top_overlap`` (mean).
    """
    keys = ["model", "grid_size", "nb_design", "levels"]
    require_columns(df, keys + ["image_id", "spearman", "same_top_cell", "top_overlap"],
                    "WCAM noise table")
    rows = []
    for key, part in df.groupby(keys, sort=False):
        rows.append({**dict(zip(keys, key)), "nb_images": len(part),
                     "spearman": (bootstrap_ci(part["spearman"].astype(float), "mean",
                                               seed=seed).format(digits)
                                  if part["spearman"].notna().any() else float("nan")),
                     "spearman_min": float(part["spearman"].min()),
                     "same_top_cell": float(part["same_top_cell"].astype(bool).mean()),
                     "top_overlap": float(part["top_overlap"].mean())})
    return pd.DataFrame(rows, columns=keys + ["nb_images", "spearman", "spearman_min",
                                              "same_top_cell", "top_overlap"])
