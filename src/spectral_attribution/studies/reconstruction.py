"""Sufficient reconstruction: how few wavelet coefficients, in WCAM order, restore a prediction.

* :func:`sufficient_reconstruction` -- the *reconstruction depth* of each
  image with the WCAM order of the grid cells and with random orders;
* :func:`depth_and_robustness` -- the depths joined with the robustness of
  each prediction (the paper's depth-robustness relation);
* :func:`reconstruction_summary` -- the study's table.

Reconstruction depth (METHOD.md, section 4; Kasmi et al. 2023): the smallest
number ``k`` of grid cells of wavelet coefficients, taken in decreasing order
of their Sobol' total index (all others zeroed), whose inverse transform is
classified as the reference label.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import torch

from .. import metrics, parameters
from .._common import (
    as_image_list,
    check_ids,
    model_device,
    model_name,
    predictions,
    progress_bar,
    require_columns,
)
from ..perturbations import wavelet_perturbation_for

__all__ = ["sufficient_reconstruction", "depth_and_robustness", "reconstruction_summary"]


def sufficient_reconstruction(model, images, explanations, image_ids: Sequence[str],
                              conditions: Sequence[str] | str = "clean",
                              reference_labels: Sequence[int] | None = None,
                              nb_random_draws: int = 5, seed: int = 0,
                              batch_size: int = 64, max_k: int | None = None,
                              extra_columns: pd.DataFrame | None = None,
                              autocast: str | None = None, progress=None) -> pd.DataFrame:
    """Reconstruction depth with the WCAM order and with random orders.

    For each image: rank the WCAM's grid cells by decreasing Sobol' total
    index, keep the top ``k`` cells of the wavelet coefficients (zero
    elsewhere), invert, classify; the *reconstruction depth* is the smallest
    ``k`` at which the model predicts the *reference label* (METHOD.md,
    section 4; :func:`spectral_attribution.metrics.reconstruction_depth`).
    The same is done for ``nb_random_draws`` random orders of the same cells.

    Parameters
    ----------
    images:
        The images the explanations were computed on (clean or corrupted),
        ``(B, 3, H, W)`` tensor or sequence of ``(3, H, W)`` tensors in ``[0, 1]``.
    explanations:
        One WCAM :class:`~spectral_attribution.explanation.Explanation` per image.
    conditions:
        ``"clean"`` / ``"corrupted"`` per image (or one for all).
    reference_labels:
        Label to restore per image; ``None`` uses the model's prediction on
        the image itself (its clean prediction for a clean image, its
        prediction on the corrupted image for a corrupted one).
    nb_random_draws, seed:
        Number of random orders per image; draw ``r`` of image ``i`` uses
        ``numpy.random.default_rng([seed, i, r])`` (see
        :func:`spectral_attribution.metrics.random_order_depths`).
    max_k:
        Largest ``k`` tried (``None``: ``d``); depths beyond are NaN.
    extra_columns:
        Optional table with one row per image (e.g. ``corruption, severity``)
        whose columns are copied into the result.

    Returns
    -------
    pandas.DataFrame
        One row per image, columns ``model, image_id, condition,
        reference_label, dim, depth, depth_share, found, random_depth_median,
        random_depth_share_median, random_found_share, random_depths``
        (+ ``extra_columns``). ``depth`` is an integer number of cells in
        ``1..d`` (NaN when the label is never restored, ``found`` False);
        ``depth_share = depth / d`` in ``(0, 1]``; ``random_depths`` is the
        ``;``-separated list of the draws' depths (``nan`` when not found).
        The random median is taken with unreached draws counted as ``+inf``
        (NaN if more than half never restore the label).
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
    if reference_labels is not None and len(reference_labels) != len(images):
        raise ValueError(f"got {len(reference_labels)} reference labels for {len(images)} images")
    if extra_columns is not None and len(extra_columns) != len(images):
        raise ValueError(f"extra_columns has {len(extra_columns)} rows for {len(images)} images")
    if reference_labels is None:
        reference_labels, _ = predictions(model, images, batch_size, autocast)
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
        ref = int(reference_labels[i])
        res = metrics.reconstruction_depth(model, pert, ctx, metrics.importance_order(expl.indices),
                                           ref, k_values, batch_size, autocast)
        rnd = metrics.random_order_depths(model, pert, ctx, ref, nb_random_draws, (seed, i),
                                          k_values, batch_size, autocast)
        # Unreached draws count as +inf: the median is NaN when most never restore the label.
        median = float(np.median(np.where(np.isnan(rnd), np.inf, rnd)))
        median = median if np.isfinite(median) else float("nan")
        rows.append({
            "model": model_name(model), "image_id": ids[i], "condition": conditions[i],
            "reference_label": ref, "dim": d, "depth": res.depth, "depth_share": res.share,
            "found": res.found, "random_depth_median": median,
            "random_depth_share_median": median / d,
            "random_found_share": float(np.mean(~np.isnan(rnd))),
            "random_depths": ";".join(f"{v:g}" for v in rnd),
        })
    out = pd.DataFrame(rows, columns=["model", "image_id", "condition", "reference_label", "dim",
                                      "depth", "depth_share", "found", "random_depth_median",
                                      "random_depth_share_median", "random_found_share",
                                      "random_depths"])
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
    """Per model and condition: median depth (share of ``d``) with the WCAM and random orders,
    share of images restored, and the linear fit of depth against robustness (clean images).

    Columns ``model, condition, nb_images, found_share, depth_share_median,
    random_depth_share_median, slope, intercept, r, p``.
    """
    g = recon.groupby(["model", "condition"], sort=False)
    out = g.agg(nb_images=("image_id", "size"), found_share=("found", "mean"),
                depth_share_median=("depth_share", "median"),
                random_depth_share_median=("random_depth_share_median", "median")).reset_index()
    merged = depth_and_robustness(recon, per_image, condition="clean", how="inner")
    if not merged.empty:
        fits = metrics.depth_robustness_fit(merged)
        fits = fits[[c for c in ("model", "slope", "intercept", "r", "p") if c in fits.columns]]
        fits = fits.assign(condition="clean")
        out = out.merge(fits, on=["model", "condition"], how="left")
    return out
