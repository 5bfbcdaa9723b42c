"""Reconstruction depth with model-free orders: does the WCAM order beat knowing the levels?

:func:`baseline_depths` measures, on the images and WCAMs of the sufficient
reconstruction study (:mod:`~spectral_attribution.studies.reconstruction`),
the reconstruction depth of orders of the grid cells that need no model
(:mod:`spectral_attribution.studies.baselines`):

==============================  ================================================================
order                           cells taken in the order of
==============================  ================================================================
``wcam``                        decreasing WCAM total index (the study's order)
``coarse_to_fine``              increasing level rank (approximation first), ties at random
``wcam_approximation_first``    the WCAM order with its approximation cells moved first
``within_level``                ``wcam_approximation_first`` with the cells of each level
                                permuted at random among that level's positions
``random``                      a uniform random permutation (as the study's random orders)
``energy``                      decreasing energy of the image's own wavelet coefficients in the
                                cell (no model; :func:`~spectral_attribution.studies.baselines.energy_order`
                                with the declared normalisation), ties at random
==============================  ================================================================

``wcam_approximation_first`` against ``within_level`` isolates what the WCAM
adds beyond its allocation of cells to levels: both take the same number of
cells of each level at every ``k``, and the approximation first.

Definitions shared with the study: the reference label of an image is the
class its WCAM explains (``Explanation.target``); an order that never
restores it within the ``k`` tried gets the censored depth ``K + 1`` (``K``
the largest ``k`` tried, ``d`` by default), so every image counts in every
summary and the same images summarise every order.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import torch

from spectral_attribution import metrics
from spectral_attribution._utils.checks import as_image_list, check_ids, progress_bar
from spectral_attribution.models.forward import model_device, model_name, predictions
from spectral_attribution.studies.baselines import (
    BASELINE_KINDS,
    approximation_first,
    ENERGY_NORMALISATION,
    cell_energy,
    cell_level_ranks,
    coarse_to_fine_order,
    energy_layout,
    energy_order,
    within_level_order,
)
from spectral_attribution.attributions.perturbations import wavelet_perturbation_for

__all__ = ["DEPTH_ORDERS", "baseline_depths", "censored_depth"]

#: Orders :func:`baseline_depths` knows, in table order.
DEPTH_ORDERS = ("wcam", "coarse_to_fine", "wcam_approximation_first", "within_level", "random",
                "energy")
_RANDOM_ORDERS = {"coarse_to_fine", "within_level", "random"}
_COLUMNS = ["model", "image_id", "condition", "order", "reference_label", "dim", "max_k",
            "nb_draws", "depth", "depth_share", "found_share", "depths", "predicted", "confidence"]


def censored_depth(result: metrics.ReconstructionDepth, max_k: int) -> float:
    """The depth of a :class:`~spectral_attribution.metrics.ReconstructionDepth`, ``max_k + 1`` when not found.

    (:func:`~spectral_attribution.metrics.reconstruction_depth` censors at the
    largest ``k`` tried + 1 itself; this states the rule where the table is made.)
    """
    return float(result.depth) if result.found else float(max_k + 1)


def baseline_depths(model, images, explanations, image_ids: Sequence[str],
                    conditions: Sequence[str] | str = "clean",
                    orders: Sequence[str] = ("wcam", "coarse_to_fine", "wcam_approximation_first",
                                             "within_level", "energy"),
                    nb_draws: int = 3, seed: int = 0, batch_size: int = 64,
                    max_k: int | None = None, extra_columns: pd.DataFrame | None = None,
                    autocast: str | None = None, progress=None, *,
                        precision: str = "float32", backend: str = "eager") -> pd.DataFrame:
    """Reconstruction depth of each image with the WCAM order and model-free orders.

    For each image and order: keep the wavelet coefficients of the first
    ``k`` cells of the order (zero elsewhere), invert, classify; the depth
    is the smallest ``k`` at which the model predicts the WCAM's target
    (:func:`spectral_attribution.metrics.reconstruction_depth`), censored at
    ``K + 1`` (:func:`censored_depth`). Random orders are drawn
    ``nb_draws`` times and summarised by the median of their censored depths.

    Parameters
    ----------
    images:
        The images the explanations were computed on, ``(B, 3, H, W)`` or a
        sequence of ``(3, H, W)`` tensors in ``[0, 1]``.
    explanations:
        One WCAM :class:`~spectral_attribution.attributions.explanation.Explanation` per image.
    conditions:
        ``"clean"`` / ``"corrupted"`` per image (or one for all), copied into
        the table.
    orders:
        Names among :data:`DEPTH_ORDERS`.
    nb_draws, seed:
        Draws of each random order; draw ``r`` of image ``i`` uses the seed
        ``(seed, i, r, kind)`` with ``kind`` of
        :data:`~spectral_attribution.studies.baselines.BASELINE_KINDS`, except
        ``random``, which uses ``(seed, i, r)``; ``energy`` is drawn once
        (its ties broken with ``(seed, i, 0, 5)``); as the study's random orders
        (:func:`~spectral_attribution.metrics.random_order_depths`), so that
        both give the same depths.
    max_k:
        Largest ``k`` tried (``None``: ``d``).
    extra_columns:
        One row per image (e.g. ``source_image_id, corruption, severity``),
        copied into every row of that image.

    Returns
    -------
    pandas.DataFrame
        One row per image x order, columns ``model, image_id, condition,
        order, reference_label, dim, max_k, nb_draws, depth, depth_share,
        found_share, depths, predicted, confidence`` (+ ``extra_columns``).
        ``depth`` is the (median) censored depth in ``1..K + 1`` cells,
        ``depth_share = depth / d``, ``found_share`` the share of draws that
        restore the label, ``depths`` the ``;``-separated censored depths of
        the draws; ``predicted`` and ``confidence`` (softmax probability of
        the predicted class, in ``[0, 1]``) are the model's on the image
        itself.

    Raises
    ------
    ValueError
        Unknown order, mismatched lengths, ``nb_draws < 1``.
    """
    images = as_image_list(images)
    explanations = list(explanations)
    ids = check_ids(image_ids, len(images))
    if len(explanations) != len(images):
        raise ValueError(f"got {len(explanations)} explanations for {len(images)} images")
    unknown = sorted(set(orders) - set(DEPTH_ORDERS))
    if unknown:
        raise ValueError(f"unknown orders {unknown}; expected some of {DEPTH_ORDERS}")
    if int(nb_draws) != nb_draws or nb_draws < 1:
        raise ValueError(f"nb_draws must be a positive integer, got {nb_draws!r}")
    if isinstance(conditions, str):
        conditions = [conditions] * len(images)
    if len(conditions) != len(images):
        raise ValueError(f"got {len(conditions)} conditions for {len(images)} images")
    if extra_columns is not None and len(extra_columns) != len(images):
        raise ValueError(f"extra_columns has {len(extra_columns)} rows for {len(images)} images")
    predicted, confidence = (predictions(model, images, batch_size, autocast, precision=precision, backend=backend) if images
                             else ([], []))
    device = model_device(model) or torch.device("cpu")
    extra = None if extra_columns is None else extra_columns.reset_index(drop=True)
    rows = []
    for i in progress_bar(range(len(images)), progress, "baseline depths"):
        expl = explanations[i]
        pert = wavelet_perturbation_for(expl)
        ctx = pert.prepare(images[i].to(device, torch.float32))
        d = pert.dim
        top = d if max_k is None else min(int(max_k), d)
        k_values = np.arange(1, top + 1)
        ranks = cell_level_ranks(expl)
        ref = int(expl.target)
        wcam = metrics.explanation_order(expl)
        energy = None
        if "energy" in orders:
            s = expl.settings
            layout, _ = energy_layout(images[i], s.get("wavelet", "haar"), int(s["levels"]),
                                      ENERGY_NORMALISATION)
            energy = cell_energy(layout, int(s["grid_size"]))
        known: dict[bytes, float] = {}  # one scan per distinct order

        def depth_of(order) -> tuple[float, bool]:
            key = np.asarray(order, dtype=np.int64).tobytes()
            if key not in known:
                res = metrics.reconstruction_depth(model, pert, ctx, order, ref, k_values,
                                                   batch_size, autocast, precision=precision, backend=backend)
                known[key] = censored_depth(res, top)
            return known[key], known[key] <= top

        for name in orders:
            draws = int(nb_draws) if name in _RANDOM_ORDERS else 1
            results = [depth_of(_order(name, wcam, ranks, d, (seed, i, r), energy))
                       for r in range(draws)]
            depths = np.array([v for v, _ in results])
            row = {"model": model_name(model), "image_id": ids[i], "condition": conditions[i],
                   "order": name, "reference_label": ref, "dim": d, "max_k": top,
                   "nb_draws": draws, "depth": float(np.median(depths)),
                   "depth_share": float(np.median(depths)) / d,
                   "found_share": float(np.mean([f for _, f in results])),
                   "depths": ";".join(f"{v:g}" for v in depths),
                   "predicted": int(predicted[i]), "confidence": float(confidence[i])}
            if extra is not None:
                row.update({k: v for k, v in extra.iloc[i].items() if k not in row})
            rows.append(row)
    columns = _COLUMNS + ([c for c in extra.columns if c not in _COLUMNS] if extra is not None else [])
    return pd.DataFrame(rows, columns=columns)


def _order(name: str, wcam: np.ndarray, ranks: np.ndarray, d: int, key, energy=None) -> np.ndarray:
    seed, i, r = (int(v) for v in key)
    if name == "wcam":
        return wcam
    if name == "energy":
        return energy_order(energy, (seed, i, r, BASELINE_KINDS["energy"]))
    if name == "wcam_approximation_first":
        return approximation_first(wcam, ranks)
    if name == "coarse_to_fine":
        return coarse_to_fine_order(ranks, (seed, i, r, BASELINE_KINDS["coarse_to_fine"]))
    if name == "within_level":
        return within_level_order(ranks, (seed, i, r, BASELINE_KINDS["within_level"]),
                                  reference=approximation_first(wcam, ranks))
    # "random": the stream of metrics.random_order_depths
    return np.random.default_rng([seed, i, r]).permutation(d)
