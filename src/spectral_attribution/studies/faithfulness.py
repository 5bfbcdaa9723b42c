"""Faithfulness of the WCAM and of the spatial Sobol' map: mu-fidelity, insertion, deletion.

Removing a grid cell zeroes its wavelet coefficients (WCAM) or its pixels
(spatial Sobol'); the metrics are those of :mod:`spectral_attribution.metrics`
(Bhatt et al., IJCAI 2020; Petsiuk et al., BMVC 2018).
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd
import torch

from .. import metrics
from .._common import (
    as_image_list,
    check_ids,
    model_device,
    model_name,
    progress_bar,
    require_columns,
)
from ..perturbations import spatial_perturbation_for, wavelet_perturbation_for

__all__ = ["faithfulness", "faithfulness_scores", "faithfulness_table"]


def faithfulness_scores(model, image: torch.Tensor, explanation, perturbation, seed,
                        nb_subsets: int = 128, subset_fraction: float = 0.2, steps: int = 32,
                        batch_size: int = 64, score: str = "probability",
                        autocast: str | None = None) -> dict:
    """mu-fidelity, insertion and deletion of one explanation of one image.

    The attribution is ``explanation.indices`` (one value per input of
    ``perturbation``), the class ``explanation.target``; mu-fidelity uses the
    logit and subsets drawn with ``numpy.random.default_rng(seed)`` (two
    explanations scored with the same ``seed`` and the same ``d`` are scored
    on the same subsets), insertion/deletion the ``score`` over ``steps``
    steps (:func:`spectral_attribution.metrics.mu_fidelity`,
    :func:`~spectral_attribution.metrics.insertion_deletion`).

    Parameters
    ----------
    image:
        ``(C, H, W)`` float tensor in ``[0, 1]`` on the model's device.
    perturbation:
        How a cell is removed (e.g.
        :func:`~spectral_attribution.perturbations.perturbation_for` of the
        explanation).

    Returns
    -------
    dict
        ``dim`` (``d``), ``mu_fidelity`` (in ``[-1, 1]``), ``insertion_auc``,
        ``deletion_auc`` (in ``[0, 1]`` with probabilities).
    """
    ctx = perturbation.prepare(image)
    target = int(explanation.target)
    mu = metrics.mu_fidelity(model, perturbation, ctx, explanation.indices, target,
                             subset_fraction, nb_subsets, seed, batch_size, "logit",
                             autocast=autocast)
    curves = metrics.insertion_deletion(model, perturbation, ctx, explanation.indices, target,
                                        steps, batch_size, score, autocast)
    return {"dim": perturbation.dim, "mu_fidelity": mu,
            "insertion_auc": curves["insertion_auc"], "deletion_auc": curves["deletion_auc"]}


def faithfulness(model, images, image_ids: Sequence[str], wcam_explanations,
                 spatial_explanations=None, nb_subsets: int = 128,
                 subset_fraction: float = 0.2, steps: int = 32, seed: int = 0,
                 batch_size: int = 64, score: str = "probability",
                 autocast: str | None = None, progress=None) -> pd.DataFrame:
    """mu-fidelity, insertion and deletion of the WCAM and the spatial Sobol' map.

    For each image and each method: the attribution is the explanation's
    ``indices`` (one Sobol' total index per grid cell); cells are removed by
    zeroing the wavelet coefficients under them (WCAM, through
    :class:`~spectral_attribution.perturbations.WaveletPerturbation`) or the
    pixels under them (spatial Sobol', ``x * m``). See
    :func:`spectral_attribution.metrics.mu_fidelity`,
    :func:`~spectral_attribution.metrics.insertion_auc` and
    :func:`~spectral_attribution.metrics.deletion_auc`.

    Parameters
    ----------
    nb_subsets, subset_fraction:
        mu-fidelity: number of random subsets and their size as a share of
        the cells.
    steps:
        Insertion/deletion: number of steps between 0 and all cells.
    score:
        Score of insertion/deletion: ``"probability"`` (softmax of the
        target, Petsiuk et al.) or ``"logit"``. mu-fidelity always uses the
        logit (the quantity the Sobol' indices explain).
    seed:
        mu-fidelity subsets of image ``i`` are drawn with
        ``numpy.random.default_rng([seed, i])``: both methods of an image
        are scored on the same subsets when their grids have the same ``d``.

    Returns
    -------
    pandas.DataFrame
        One row per image x method, columns ``model, image_id, method,
        target, dim, mu_fidelity, insertion_auc, deletion_auc`` (``method`` is
        ``"wcam"`` or ``"spatial-sobol"``; mu-fidelity in ``[-1, 1]``, higher
        is better; AUCs in ``[0, 1]`` with probabilities, insertion higher
        and deletion lower is better).
    """
    images = as_image_list(images)
    ids = check_ids(image_ids, len(images))
    wcam_explanations = list(wcam_explanations)
    spatial_explanations = None if spatial_explanations is None else list(spatial_explanations)
    for what, ex in (("WCAM", wcam_explanations), ("spatial", spatial_explanations)):
        if ex is not None and len(ex) != len(images):
            raise ValueError(f"got {len(ex)} {what} explanations for {len(images)} images")
    device = model_device(model) or torch.device("cpu")
    rows = []
    for i in progress_bar(range(len(images)), progress, "faithfulness"):
        image = images[i].to(device, torch.float32)
        pairs = [("wcam", wcam_explanations[i], wavelet_perturbation_for)]
        if spatial_explanations is not None:
            pairs.append(("spatial-sobol", spatial_explanations[i], spatial_perturbation_for))
        for method, expl, make in pairs:
            scores = faithfulness_scores(model, image, expl, make(expl), (seed, i), nb_subsets,
                                         subset_fraction, steps, batch_size, score, autocast)
            rows.append({"model": model_name(model), "image_id": ids[i], "method": method,
                         "target": int(expl.target), **scores})
    return pd.DataFrame(rows, columns=["model", "image_id", "method", "target", "dim",
                                       "mu_fidelity", "insertion_auc", "deletion_auc"])


def faithfulness_table(df: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """Mean (± std) of each faithfulness metric per model and method.

    Returns
    -------
    pandas.DataFrame
        Index ``model, method``; columns ``mu_fidelity, insertion_auc,
        deletion_auc`` as ``"mean ± std"`` strings, and ``nb_images``.
    """
    cols = ["mu_fidelity", "insertion_auc", "deletion_auc"]
    require_columns(df, ["model", "method"] + cols)
    rows = []
    for (model, method), part in df.groupby(["model", "method"], sort=False):
        row = {"model": model, "method": method}
        for c in cols:
            row[c] = f"{part[c].mean():.{digits}f} ± {part[c].std():.{digits}f}"
        row["nb_images"] = int(part["image_id"].nunique()) if "image_id" in part else len(part)
        rows.append(row)
    return pd.DataFrame(rows, columns=["model", "method", *cols, "nb_images"]).set_index(["model", "method"])
