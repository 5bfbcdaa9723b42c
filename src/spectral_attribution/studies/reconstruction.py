"""Sufficient reconstruction: how few wavelet coefficients, in WCAM order, restore a prediction.

* :func:`sufficient_reconstruction` -- the *reconstruction depth* of each
  image with the WCAM order of the grid cells and with random orders;
* :func:`depth_and_robustness` -- the depths joined with the robustness of
  each prediction (the paper's depth-robustness relation);
* :func:`reconstruction_summary` -- the study's table.

Reconstruction depth (METHOD.md, section 4; Kasmi et al. 2023): the smallest
number ``k`` of grid cells of wavelet coefficients, taken in decreasing order
of their Sobol' total index (all others zeroed), whose inverse transform is
classified as the class the WCAM explains (``Explanation.target``, chosen by
the target policy, :mod:`spectral_attribution.attributions.targets`). An image whose class
is never restored gets the *censored* depth ``d + 1``: every image counts in
every median, and the WCAM order and the random orders are summarised over
the same images.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import torch

from spectral_attribution import metrics
from spectral_attribution._utils import parameters
from spectral_attribution._utils.checks import as_image_list, check_ids, progress_bar
from spectral_attribution.models.forward import model_device, model_name
from spectral_attribution._utils.tables import require_columns
from spectral_attribution.attributions.perturbations import wavelet_perturbation_for
from spectral_attribution.attributions.targets import target_source_of

__all__ = ["RECONSTRUCTION_COLUMNS", "CENSORING_NOTE", "sufficient_reconstruction",
           "depth_and_robustness", "reconstruction_summary"]

#: Columns of :func:`sufficient_reconstruction` (before ``extra_columns``).
RECONSTRUCTION_COLUMNS = ["model", "image_id", "condition", "target", "target_source",
                          "target_policy", "prediction", "dim", "depth", "depth_share", "found",
                          "random_depth_median", "random_depth_share_median",
                          "random_found_share", "random_depths"]

#: The footnote of every table of depths.
CENSORING_NOTE = ("Depths are numbers of grid cells (shares: of the d cells); an image whose class "
                  "is never restored counts with the censored depth d + 1, so every order is "
                  "summarised over the same images.")


def sufficient_reconstruction(model, images, explanations, image_ids: Sequence[str],
                              conditions: Sequence[str] | str = "clean",
                              nb_random_draws: int = 5, seed: int = 0,
                              batch_size: int = 64, max_k: int | None = None,
                              extra_columns: pd.DataFrame | None = None,
                              autocast: str | None = None, progress=None, *,
                        precision: str = "float32", backend: str = "eager") -> pd.DataFrame:
    """Reconstruction depth with the WCAM order and with random orders.

    For each image: rank the WCAM's grid cells by decreasing Sobol' total
    index, keep the top ``k`` cells of the wavelet coefficients (zero
    elsewhere), invert, classify; the *reconstruction depth* is the smallest
    ``k`` at which the model predicts the class the explanation explains,
    ``Explanation.target`` (METHOD.md, section 4;
    :func:`spectral_attribution.metrics.reconstruction_depth`). Which class
    that is, the label or the prediction, the target policy decided when the
    WCAM was made (:mod:`spectral_attribution.attributions.targets`): the explanation and
    its depth cannot be about different classes. The same is done for
    ``nb_random_draws`` random orders of the same cells.

    *Censoring*: when no ``k`` restores the class, the depth is ``d + 1``
    (``max_k + 1`` with ``max_k``) and ``found`` is False; the image keeps
    its place in every median (ranked after every restored image), so an
    order that fails more often cannot look better.

    Parameters
    ----------
    images:
        The images the explanations were computed on (clean or corrupted),
        ``(B, 3, H, W)`` tensor or sequence of ``(3, H, W)`` tensors in ``[0, 1]``.
    explanations:
        One WCAM :class:`~spectral_attribution.attributions.explanation.Explanation` per image.
    conditions:
        ``"clean"`` / ``"corrupted"`` per image (or one for all).
    nb_random_draws, seed:
        Number of random orders per image; draw ``r`` of image ``i`` uses
        ``numpy.random.default_rng([seed, i, r])`` (see
        :func:`spectral_attribution.metrics.random_order_depths`).
    max_k:
        Largest ``k`` tried (``None``: ``d``); depths beyond are censored at
        ``max_k + 1``.
    extra_columns:
        Optional table with one row per image (e.g. ``corruption, severity``)
        whose columns are copied into the result.

    Returns
    -------
    pandas.DataFrame
        One row per image, columns :data:`RECONSTRUCTION_COLUMNS` (+
        ``extra_columns``): ``model, image_id, condition``; ``target`` (the
        class explained and scored), ``target_source`` (``"prediction"``,
        ``"label"``, ``"prediction_fallback"`` or ``"given"``,
        :func:`~spectral_attribution.attributions.targets.target_source_of`),
        ``target_policy`` (recorded in the explanation's settings, ``""``
        when none), ``prediction`` (the model's prediction on the image);
        ``dim`` (``d``); ``depth`` an integer number of cells in ``1..d``,
        or ``d + 1`` when censored (``found`` False); ``depth_share =
        depth / d`` in ``(0, (d + 1) / d]``; ``random_depth_median`` (median
        over the draws, censored draws at ``d + 1``), its share,
        ``random_found_share`` (share of draws that restore the class) and
        ``random_depths`` (the ``;``-separated draws).
    """
    # every setting is checked before the first forward pass
    nb_random_draws = parameters.check_nb_random_draws(nb_random_draws)
    max_k = parameters.check_max_k(max_k)
    batch_size = parameters.check_batch_size(batch_size)
    images = as_image_list(images)
    explanations = list(explanations)
    ids = check_ids(image_ids, len(images))
    if len(explanations) != len(images):
        raise ValueError(f"got {len(explanations)} explanations for {len(images)} images")
    if isinstance(conditions, str):
        conditions = [conditions] * len(images)
    if len(conditions) != len(images):
        raise ValueError(f"got {len(conditions)} conditions for {len(images)} images")
    bad = sorted(set(conditions) - {"clean", "corrupted"})
    if bad:
        raise ValueError(f"conditions must be 'clean' or 'corrupted', got {bad}")
    if extra_columns is not None and len(extra_columns) != len(images):
        raise ValueError(f"extra_columns has {len(extra_columns)} rows for {len(images)} images")
    device = model_device(model) or torch.device("cpu")
    rows, cache = [], {}
    for i in progress_bar(range(len(images)), progress, "reconstruction"):
        expl = explanations[i]
        key = tuple(sorted((k, str(v)) for k, v in expl.settings.items()
                           if k in ("wavelet", "levels", "grid_size", "drop_approximation")))
        pert = cache.get(key) or cache.setdefault(key, wavelet_perturbation_for(expl))
        ctx = pert.prepare(images[i].to(device, torch.float32))
        d = pert.dim
        k_values = None if max_k is None else np.arange(1, min(int(max_k), d) + 1)
        target = int(expl.target)  # the class explained is the class scored
        res = metrics.reconstruction_depth(model, pert, ctx, metrics.explanation_order(expl),
                                           target, k_values, batch_size, autocast, precision=precision, backend=backend)
        rnd = metrics.random_order_depths(model, pert, ctx, target, nb_random_draws, (seed, i),
                                          k_values, batch_size, autocast, precision=precision, backend=backend)
        censored = d + 1 if k_values is None else int(k_values[-1]) + 1
        median = float(np.median(rnd))  # censored draws are d + 1: every draw counts
        rows.append({
            "model": model_name(model), "image_id": ids[i], "condition": conditions[i],
            "target": target, "target_source": target_source_of(expl),
            "target_policy": str(expl.settings.get("target_policy", "")),
            "prediction": int(expl.predicted), "dim": d, "depth": res.depth,
            "depth_share": res.share, "found": res.found, "random_depth_median": median,
            "random_depth_share_median": median / d,
            "random_found_share": float(np.mean(rnd < censored)),
            "random_depths": ";".join(f"{v:g}" for v in rnd),
        })
    out = pd.DataFrame(rows, columns=RECONSTRUCTION_COLUMNS)
    if extra_columns is not None:
        extra = extra_columns.reset_index(drop=True)
        extra = extra[[c for c in extra.columns if c not in out.columns]]
        out = pd.concat([out, extra], axis=1)
    return out


def depth_and_robustness(reconstruction: pd.DataFrame, robustness: pd.DataFrame,
                         condition: str | None = None, how: str = "left") -> pd.DataFrame:
    """Join a :func:`sufficient_reconstruction` table with :func:`~spectral_attribution.studies.corruption.robustness_per_image`.

    The one join of depth with robustness in the package. Joined on
    ``model, image_id`` (for corrupted copies ``image_id`` is the clean
    image's id, so each copy gets the robustness of its clean image).

    Parameters
    ----------
    condition:
        Keep only the reconstruction rows of this ``condition``
        (``"clean"`` or ``"corrupted"``); ``None`` keeps all.
    how:
        ``"left"`` (default: every reconstruction row, robustness NaN where
        unknown) or ``"inner"`` (only rows with a robustness), as
        :meth:`pandas.DataFrame.merge`.

    Returns
    -------
    pandas.DataFrame
        The reconstruction rows with a ``robustness`` column added (in
        ``[0, 1]``), ready for :func:`spectral_attribution.metrics.depth_robustness_fit`
        and :func:`spectral_attribution.plots.plot_depth_vs_robustness`.

    Raises
    ------
    KeyError
        A table lacks a column (named).
    pandas.errors.MergeError
        ``robustness`` has two rows for one ``model, image_id``.
    """
    require_columns(reconstruction, ["model", "image_id"] + (["condition"] if condition else []),
                    "reconstruction table")
    require_columns(robustness, ["model", "image_id", "robustness"], "robustness table")
    if condition is not None:
        reconstruction = reconstruction[reconstruction["condition"] == condition]
    return reconstruction.merge(robustness[["model", "image_id", "robustness"]],
                                on=["model", "image_id"], how=how, validate="many_to_one")


def reconstruction_summary(recon: pd.DataFrame, per_image: pd.DataFrame) -> pd.DataFrame:
    """The reconstruction table: per model and condition, every image counted.

    For each ``model`` and ``condition`` (``clean`` / ``corrupted``) of a
    :func:`sufficient_reconstruction` table: the number of images; the
    median depth over **all** images, in cells and as a share of ``d``,
    with the WCAM order and with random orders (each image's median over its
    draws, then the median over images), an image never restored counting
    with its censored depth ``d + 1``; the share of images the WCAM order
    restores and the share of random draws that restore; and, for the clean
    images, the linear fit of the depth share against robustness
    (:func:`depth_and_robustness`, :func:`~spectral_attribution.metrics.depth_robustness_fit`).
    Both orders are summarised over the same images, so an order that fails
    more often cannot look better.

    Parameters
    ----------
    recon:
        :func:`sufficient_reconstruction` rows (several models and conditions).
    per_image:
        :func:`~spectral_attribution.studies.corruption.robustness_per_image`;
        its ``corruptions`` column (the set robustness is computed on) is
        carried into the table when present.

    Returns
    -------
    pandas.DataFrame
        Columns ``model, condition, target_policy, nb_images, depth_median,
        depth_share_median, random_depth_median, random_depth_share_median,
        found_share, random_found_share`` (shares in ``[0, 1]``; depth
        shares up to ``(d + 1) / d``), ``corruptions``, ``slope, intercept,
        r, p`` (NaN for the corrupted condition). ``attrs["notes"]`` holds
        the censoring footnote (:data:`CENSORING_NOTE`), written under the
        table by :func:`~spectral_attribution.studies.tables.write_table`.

    Raises
    ------
    KeyError
        A column is missing (named).
    """
    require_columns(recon, ["model", "condition", "image_id", "depth", "depth_share", "found",
                            "random_depth_median", "random_depth_share_median",
                            "random_found_share"], "reconstruction table")
    recon = recon.copy()
    if "target_policy" not in recon:
        recon["target_policy"] = ""
    recon["target_policy"] = recon["target_policy"].fillna("").astype(str)
    g = recon.groupby(["model", "condition"], sort=False)
    out = g.agg(target_policy=("target_policy", lambda v: ",".join(sorted(set(v) - {""}))),
                nb_images=("image_id", "size"),
                depth_median=("depth", "median"), depth_share_median=("depth_share", "median"),
                random_depth_median=("random_depth_median", "median"),
                random_depth_share_median=("random_depth_share_median", "median"),
                found_share=("found", "mean"),
                random_found_share=("random_found_share", "mean")).reset_index()
    out["found_share"] = out["found_share"].astype(float)
    if "corruptions" in per_image.columns and len(per_image):
        labels = per_image.groupby("model", sort=False)["corruptions"].first()
        out["corruptions"] = out["model"].map(labels)
    else:
        out["corruptions"] = ""
    for col in ("slope", "intercept", "r", "p"):
        out[col] = np.nan
    merged = depth_and_robustness(recon, per_image, condition="clean", how="inner")
    if not merged.empty:
        fits = metrics.depth_robustness_fit(merged).set_index("model")
        clean = out["condition"] == "clean"
        for col in ("slope", "intercept", "r", "p"):
            out.loc[clean, col] = out.loc[clean, "model"].map(fits[col]).to_numpy(dtype=float)
    out = _with_intervals(out, recon)
    out.attrs["notes"] = [CENSORING_NOTE, INTERVAL_NOTE]
    return out


#: The footnote on the intervals and the paired test of :func:`reconstruction_summary`.
INTERVAL_NOTE = ("Intervals: 95 % percentile bootstrap over images (seeded) of the medians; "
                 "Wilcoxon p: two-sided signed-rank test of the per-image depth shares, WCAM order "
                 "vs the median of the random orders (zero differences per Pratt); n: the images "
                 "paired.")


def _with_intervals(out: pd.DataFrame, recon: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """``out`` with the 95 % intervals of its median depth shares and the paired test, per group.

    Adds ``depth_share_median_low/high``, ``random_depth_share_median_low/high``
    (:func:`~spectral_attribution.studies.stats.bootstrap_ci` of the median over
    images) and ``wilcoxon_statistic, wilcoxon_p, wilcoxon_n``
    (:func:`~spectral_attribution.studies.stats.wilcoxon_test` of ``depth_share``
    against ``random_depth_share_median``), after the medians.
    """
    from spectral_attribution.studies.stats import bootstrap_ci, wilcoxon_test

    extra = []
    for _, row in out.iterrows():
        part = recon[(recon["model"] == row["model"]) & (recon["condition"] == row["condition"])]
        wcam = bootstrap_ci(part["depth_share"].astype(float), "median", seed=seed)
        rnd = bootstrap_ci(part["random_depth_share_median"].astype(float), "median", seed=seed)
        test = wilcoxon_test(part["depth_share"].astype(float),
                             part["random_depth_share_median"].astype(float))
        extra.append({"depth_share_median_low": wcam.low, "depth_share_median_high": wcam.high,
                      "random_depth_share_median_low": rnd.low,
                      "random_depth_share_median_high": rnd.high,
                      "wilcoxon_statistic": test.statistic, "wilcoxon_p": test.p,
                      "wilcoxon_n": test.n})
    extra = pd.DataFrame(extra, index=out.index, columns=[
        "depth_share_median_low", "depth_share_median_high", "random_depth_share_median_low",
        "random_depth_share_median_high", "wilcoxon_statistic", "wilcoxon_p", "wilcoxon_n"])
    cols = list(out.columns)
    at = cols.index("random_depth_share_median") + 1 if "random_depth_share_median" in cols else len(cols)
    return pd.concat([out[cols[:at]], extra, out[cols[at:]]], axis=1)
