"""Faithfulness of the WCAM and of the spatial Sobol' map: mu-fidelity, insertion, deletion.

Removing a grid cell zeroes its wavelet coefficients (WCAM) or its pixels
(spatial Sobol'); the metrics are those of :mod:`spectral_attribution.metrics`
(Bhatt et al., IJCAI 2020; Petsiuk et al., BMVC 2018).

Every attribution is scored next to model-free baselines on the same
perturbation (:mod:`spectral_attribution.studies.baselines`): the *level prior* and
a *random attribution* for the WCAM, the *centre prior* for spatial Sobol'.
mu-fidelity's subsets and their forward passes do not depend on the
attribution, so they are computed once per image and domain and shared by
every attribution of that domain.
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
from spectral_attribution.studies.baselines import (
    BASELINE_KINDS,
    ENERGY_NORMALISATION,
    cell_energy,
    cell_level_ranks,
    centre_distance_prior,
    energy_layout,
    level_prior,
    random_attribution,
)
from spectral_attribution.attributions.perturbations import spatial_perturbation_for, wavelet_perturbation_for
from spectral_attribution.studies.stats import bootstrap_ci
from spectral_attribution.attributions.targets import target_source_of

__all__ = ["FAITHFULNESS_METHODS", "faithfulness", "faithfulness_scores", "faithfulness_table"]

#: Methods of the faithfulness table, by domain: the attribution first, then its baselines.
FAITHFULNESS_METHODS: dict[str, tuple[str, ...]] = {
    "wavelet": ("wcam", "energy", "level-prior", "random-attribution"),
    "spatial": ("spatial-sobol", "centre-prior"),
}
_COLUMNS = ["model", "image_id", "method", "domain", "target", "target_source", "dim",
            "mu_fidelity", "mu_fidelity_approximation_kept", "insertion_auc", "deletion_auc"]


def faithfulness_scores(model, image: torch.Tensor, explanation, perturbation, seed,
                        nb_subsets: int = 128, subset_fraction: float = 0.2, steps: int = 32,
                        batch_size: int = 64, score: str = "probability",
                        autocast: str | None = None, *, precision: str = "float32",
                        backend: str = "eager") -> dict:
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
        :func:`~spectral_attribution.attributions.perturbations.perturbation_for` of the
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
                             autocast=autocast, precision=precision, backend=backend)
    curves = metrics.insertion_deletion(model, perturbation, ctx, explanation.indices, target,
                                        steps, batch_size, score, autocast, precision=precision,
                                        backend=backend, tie_break=_tie_break(explanation))
    return {"dim": perturbation.dim, "mu_fidelity": mu,
            "insertion_auc": curves["insertion_auc"], "deletion_auc": curves["deletion_auc"]}


def faithfulness(model, images, image_ids: Sequence[str], wcam_explanations,
                 spatial_explanations=None, nb_subsets: int = 128,
                 subset_fraction: float = 0.2, steps: int = 32, seed: int = 0,
                 batch_size: int = 64, score: str = "probability",
                 autocast: str | None = None, progress=None,
                 baselines: bool = True, *, precision: str = "float32",
                 backend: str = "eager") -> pd.DataFrame:
    """mu-fidelity, insertion and deletion of the WCAM, the spatial Sobol' map and their baselines.

    For each image and each method: the attribution is the explanation's
    ``indices`` (one Sobol' total index per grid cell) or a baseline over
    the same cells; cells are removed by zeroing the wavelet coefficients
    under them (WCAM and its baselines, through
    :class:`~spectral_attribution.attributions.perturbations.WaveletPerturbation`) or the
    pixels under them (spatial Sobol' and its baseline, ``x * m``). See
    :func:`spectral_attribution.metrics.mu_fidelity`,
    :func:`~spectral_attribution.metrics.insertion_auc` and
    :func:`~spectral_attribution.metrics.deletion_auc`.

    Methods (``baselines=True``): ``wcam``, ``energy`` (the image's own
    wavelet energy per cell, no model:
    :func:`~spectral_attribution.studies.baselines.cell_energy` with the
    declared normalisation), ``level-prior``
    (:func:`~spectral_attribution.studies.baselines.level_prior` of the WCAM's grid),
    ``random-attribution`` (:func:`~spectral_attribution.studies.baselines.random_attribution`,
    seed ``(seed, i, 0, 3)``), and with spatial explanations
    ``spatial-sobol`` and ``centre-prior``
    (:func:`~spectral_attribution.studies.baselines.centre_distance_prior`). The
    class scored is each explanation's ``target``; a baseline is scored for
    the class of the explanation whose grid it shares.

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
        ``numpy.random.default_rng([seed, i])`` (both domains; the same
        subsets when their grids have the same ``d``), and those that keep
        the approximation with ``[seed, i, 1]``.
    baselines:
        Also score the baselines (default). ``False``: ``wcam`` and
        ``spatial-sobol`` only.

    Returns
    -------
    pandas.DataFrame
        One row per image x method, columns ``model, image_id, method,
        domain, target, target_source, dim, mu_fidelity,
        mu_fidelity_approximation_kept, insertion_auc, deletion_auc``.
        ``domain`` is ``"wavelet"`` or ``"spatial"``; ``target`` is the class
        the explanation explains, which every metric of its row scores, and
        ``target_source`` where it came from
        (:func:`~spectral_attribution.attributions.targets.target_source_of`; a
        baseline's are those of the explanation whose grid it shares).
        mu-fidelity in ``[-1, 1]``, higher is better;
        ``mu_fidelity_approximation_kept`` is mu-fidelity on subsets that
        never remove a cell over the approximation (level rank 0 of
        :func:`~spectral_attribution.studies.baselines.cell_level_ranks`), so that
        the one cell that removes most of the image cannot dominate the
        correlation (NaN for the spatial domain, and when every cell covers
        the approximation); AUCs in ``[0, 1]`` with probabilities,
        insertion higher and deletion lower is better.
    """
    # every setting is checked before the first forward pass
    nb_subsets = parameters.check_nb_subsets(nb_subsets)
    subset_fraction = parameters.check_subset_fraction(subset_fraction)
    steps = parameters.check_steps(steps)
    batch_size = parameters.check_batch_size(batch_size)
    if score not in ("probability", "logit"):
        raise ValueError(f"score must be 'probability' or 'logit', got {score!r}")
    images = as_image_list(images)
    ids = check_ids(image_ids, len(images))
    wcam_explanations = list(wcam_explanations)
    spatial_explanations = None if spatial_explanations is None else list(spatial_explanations)
    for what, ex in (("WCAM", wcam_explanations), ("spatial", spatial_explanations)):
        if ex is not None and len(ex) != len(images):
            raise ValueError(f"got {len(ex)} {what} explanations for {len(images)} images")
    device = model_device(model) or torch.device("cpu")
    common = dict(nb_subsets=int(nb_subsets), subset_fraction=float(subset_fraction),
                  steps=int(steps), batch_size=batch_size, score=score,
                  autocast=autocast, precision=precision, backend=backend)
    rows = []
    for i in progress_bar(range(len(images)), progress, "faithfulness"):
        image = images[i].to(device, torch.float32)
        head = {"model": model_name(model), "image_id": ids[i]}
        expl = wcam_explanations[i]
        ranks = cell_level_ranks(expl)
        attributions = {"wcam": expl.indices}
        if baselines:
            s = expl.settings
            layout, _ = energy_layout(image, s.get("wavelet", "haar"), int(s["levels"]),
                                      ENERGY_NORMALISATION)
            attributions["energy"] = cell_energy(layout, int(s["grid_size"]))
            attributions["level-prior"] = level_prior(ranks)
            attributions["random-attribution"] = random_attribution(
                ranks.shape, (seed, i, 0, BASELINE_KINDS["random_attribution"]))
        kept = np.flatnonzero(ranks.ravel() > 0)
        rows += _score(model, wavelet_perturbation_for(expl), image, attributions, int(expl.target),
                       (seed, i), kept, {**head, "target_source": target_source_of(expl)},
                       "wavelet", tie_breaks={"wcam": _tie_break(expl)}, **common)
        if spatial_explanations is not None:
            sexpl = spatial_explanations[i]
            attributions = {"spatial-sobol": sexpl.indices}
            if baselines:
                attributions["centre-prior"] = centre_distance_prior(
                    int(sexpl.indices.shape[0]), tuple(image.shape[-2:]))
            rows += _score(model, spatial_perturbation_for(sexpl), image, attributions,
                           int(sexpl.target), (seed, i), None,
                           {**head, "target_source": target_source_of(sexpl)}, "spatial",
                           tie_breaks={"spatial-sobol": _tie_break(sexpl)}, **common)
    return pd.DataFrame(rows, columns=_COLUMNS)


def _tie_break(explanation):
    """A screened explanation's ``bounds`` (the order of its screened-out cells), else ``None``."""
    return explanation.bounds if getattr(explanation, "screened_out", None) is not None else None


def _score(model, pert, image, attributions: dict, target: int, seed, kept, head: dict,
           domain: str, *, nb_subsets, subset_fraction, steps, batch_size, score,
           autocast, precision, backend, tie_breaks: dict | None = None) -> list[dict]:
    """Rows of one image and domain: the subsets' forward passes once, then each attribution
    (``tie_breaks``: method → the order of its tied cells, see :func:`_tie_break`)."""
    ctx = pert.prepare(image)
    d = pert.dim
    subsets = metrics.removal_subsets(d, subset_fraction, nb_subsets, seed)
    drops = metrics.subset_drops(model, pert, ctx, target, subsets, batch_size, "logit", autocast, precision=precision, backend=backend)
    kept_subsets = kept_drops = None
    if kept is not None and len(kept):
        kept_subsets = metrics.removal_subsets(d, subset_fraction, nb_subsets, (*seed, 1), allowed=kept)
        kept_drops = metrics.subset_drops(model, pert, ctx, target, kept_subsets, batch_size,
                                          "logit", autocast, precision=precision, backend=backend)
    rows = []
    for method, attribution in attributions.items():
        a = np.asarray(attribution, dtype=np.float64).ravel()
        curves = metrics.insertion_deletion(model, pert, ctx, a, target, steps, batch_size, score,
                                            autocast, precision=precision, backend=backend,
                                            tie_break=(tie_breaks or {}).get(method))
        rows.append({**head, "method": method, "domain": domain, "target": target, "dim": d,
                     "mu_fidelity": metrics.mu_fidelity_from_drops(a, subsets, drops),
                     "mu_fidelity_approximation_kept": (
                         metrics.mu_fidelity_from_drops(a, kept_subsets, kept_drops)
                         if kept_subsets is not None else float("nan")),
                     "insertion_auc": curves["insertion_auc"],
                     "deletion_auc": curves["deletion_auc"]})
    return rows


def faithfulness_table(df: pd.DataFrame, digits: int = 3, seed: int = 0) -> pd.DataFrame:
    """Mean of each faithfulness metric per model and method, with its 95 % confidence interval.

    The interval is a seeded percentile bootstrap over images
    (:func:`spectral_attribution.studies.stats.bootstrap_ci`); NaN values (e.g.
    mu-fidelity of a constant output) are left out of their metric.

    Returns
    -------
    pandas.DataFrame
        Index ``model, method``; columns ``mu_fidelity``,
        ``mu_fidelity_approximation_kept`` (when present), ``insertion_auc``,
        ``deletion_auc`` as ``"mean [low, high]"`` strings with ``digits``
        decimals (NaN where no image has a value), and ``nb_images``.
    """
    cols = ["mu_fidelity", "insertion_auc", "deletion_auc"]
    require_columns(df, ["model", "method"] + cols)
    if "mu_fidelity_approximation_kept" in df.columns:
        cols.insert(1, "mu_fidelity_approximation_kept")
    rows = []
    for (model, method), part in df.groupby(["model", "method"], sort=False):
        row = {"model": model, "method": method}
        for c in cols:
            values = part[c].astype(float)
            # no finite value (e.g. the approximation-kept variant of a spatial method): NaN
            row[c] = (bootstrap_ci(values, "mean", seed=seed).format(digits)
                      if values.notna().any() else float("nan"))
        row["nb_images"] = int(part["image_id"].nunique()) if "image_id" in part else len(part)
        rows.append(row)
    return pd.DataFrame(rows, columns=["model", "method", *cols, "nb_images"]).set_index(["model", "method"])
