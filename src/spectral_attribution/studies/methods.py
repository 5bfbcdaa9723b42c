"""WAM against WCAM on the same images, grid and class: agreement, faithfulness, cost.

The WCAM (Kasmi et al. 2023) estimates Sobol' total indices of ``g x g``
cells of wavelet coefficients with thousands of forward passes; the WAM
(Kasmi et al., ICML 2025; :class:`~spectral_attribution.attributions.wam.WAM`) takes
gradients with respect to the same coefficients with tens of forward and
backward passes, and its map pooled onto the WCAM's grid
(:func:`~spectral_attribution.attributions.transforms.pool_on_grid`) describes the same
cells. For every image this study reports, per method:

* ``spearman``: Spearman rank correlation, over the ``g^2`` cells, of the
  method's ``indices`` with the WCAM's (1 for the WCAM itself);
  ``spearman_details``: the same over the cells that hold detail
  coefficients only (cells touching the approximation block left out), so
  that agreement on *which details* matter is read apart from the
  approximation;
* ``share_approximation``, ``share_level_J`` ... ``share_level_1``: the share
  of the map's mass on each level (:func:`spectral_attribution.metrics.level_contributions`
  with ``per_coefficient=False``): *where in scale* each method puts its
  attribution;
* ``mu_fidelity``, ``insertion_auc``, ``deletion_auc``: faithfulness of the
  cell ranking, with the same removal (zeroing a cell's wavelet
  coefficients), the same random subsets and the same steps for every method
  (:func:`~spectral_attribution.studies.faithfulness.faithfulness_scores`);
* ``wall_time_s`` (given by the caller, e.g. the workflow's manifests),
  ``nb_forward`` (the method's passes plus the one on the clean image) and
  ``nb_backward``.
"""

from __future__ import annotations

import warnings
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from spectral_attribution import metrics
from spectral_attribution._utils.checks import as_image_list, check_ids, progress_bar
from spectral_attribution.models.forward import model_device, model_name
from spectral_attribution._utils.tables import require_columns
from spectral_attribution.attributions.perturbations import wavelet_perturbation_for
from spectral_attribution.attributions.transforms import pool_on_grid
from spectral_attribution.studies.faithfulness import faithfulness_scores

__all__ = ["compare_methods", "methods_table", "detail_cells", "rank_agreement"]

#: The metric columns of :func:`compare_methods`, in table order.
METRICS = ("spearman", "spearman_details", "mu_fidelity", "insertion_auc", "deletion_auc",
           "share_approximation")


def detail_cells(explanation) -> np.ndarray:
    """``(g, g)`` bool: the grid cells that hold no approximation coefficient.

    A cell is left out when any of its coefficients lies in the approximation
    block of the explanation's layout (``explanation.subbands[0]``), so the
    cells kept hold detail coefficients only.
    """
    bands = explanation.subbands
    layout = np.zeros(np.shape(explanation.map), dtype=np.float64)
    layout[bands[0].slices] = 1.0
    g = int(np.shape(explanation.indices)[-1])
    return pool_on_grid(torch.from_numpy(layout), g).numpy() == 0


def rank_agreement(a, b, keep=None) -> float:
    """Spearman rank correlation of two attributions over cells (NaN when one is constant).

    Parameters
    ----------
    a, b:
        Arrays of the same shape (e.g. two ``(g, g)`` ``indices``).
    keep:
        Optional bool mask of the same shape: only these cells count.
    """
    from scipy import stats

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare attributions of shapes {a.shape} and {b.shape}")
    if keep is not None:
        a, b = a[keep], b[keep]
    a, b = a.ravel(), b.ravel()
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(stats.spearmanr(a, b)[0])


def _level_shares(explanation) -> dict:
    shares = metrics.level_contributions(explanation.map, explanation.subbands, per_coefficient=False)
    return {f"share_{name}": float(v) for name, v in shares.items()}


def compare_methods(model, images, image_ids: Sequence[str], wcam_explanations,
                    others: Mapping[str, Sequence], wall_times: Mapping[str, Sequence[float]] | None = None,
                    nb_subsets: int = 128, subset_fraction: float = 0.2, steps: int = 32,
                    seed: int = 0, batch_size: int = 64, score: str = "probability",
                    autocast: str | None = None, progress=None, *, precision: str = "float32",
                    backend: str = "eager") -> pd.DataFrame:
    """Compare other attributions of the wavelet grid (WAMs) with the WCAM, image by image.

    Parameters
    ----------
    model:
        The classifier explained (a :class:`~spectral_attribution.models.ModelWrapper`).
    images:
        ``(B, 3, H, W)`` float tensor (or list of ``(3, H, W)``) in ``[0, 1]``.
    image_ids:
        ``B`` identifiers.
    wcam_explanations:
        ``B`` WCAM :class:`~spectral_attribution.attributions.explanation.Explanation`
        objects, the reference.
    others:
        Method label (e.g. ``"wam-smoothgrad"``) → ``B`` explanations on the
        same grid (same ``g``, levels and wavelet) and for the same class as
        the WCAM of each image, e.g. WAMs.
    wall_times:
        Optional method label (``"wcam"`` and the labels of ``others``) →
        ``B`` seconds; missing ones are NaN.
    nb_subsets, subset_fraction, steps, score, batch_size, autocast, precision, backend:
        The faithfulness metrics' settings, the same for every method (see
        :func:`~spectral_attribution.studies.faithfulness.faithfulness`).
    seed:
        mu-fidelity subsets of image ``i`` are drawn with
        ``numpy.random.default_rng([seed, i])``: the same for every method,
        and the same as :func:`~spectral_attribution.studies.faithfulness.faithfulness`
        draws for the WCAM of the same call.

    Returns
    -------
    pandas.DataFrame
        One row per image x method (``"wcam"`` first): ``model, image_id,
        method, variant, target, dim, spearman, spearman_details,
        mu_fidelity, insertion_auc, deletion_auc, share_approximation,
        share_level_J, ..., share_level_1, wall_time_s, nb_forward,
        nb_backward`` (see the module docstring).

    Raises
    ------
    ValueError
        Lengths differ, or an explanation of an image is for another class
        or another grid than its WCAM (the image and the method are named).
    """
    images = as_image_list(images)
    ids = check_ids(image_ids, len(images))
    methods = {"wcam": list(wcam_explanations), **{k: list(v) for k, v in others.items()}}
    wall_times = dict(wall_times or {})
    for label, exps in methods.items():
        if len(exps) != len(images):
            raise ValueError(f"got {len(exps)} {label} explanations for {len(images)} images")
        times = wall_times.get(label)
        if times is not None and len(times) != len(images):
            raise ValueError(f"got {len(times)} wall times of {label} for {len(images)} images")
    device = model_device(model) or torch.device("cpu")
    rows = []
    for i in progress_bar(range(len(images)), progress, "methods"):
        reference = methods["wcam"][i]
        details = detail_cells(reference)
        image = images[i].to(device, torch.float32)
        for label, exps in methods.items():
            e = exps[i]
            if int(e.target) != int(reference.target):
                raise ValueError(f"image {ids[i]!r}: {label} explains class {int(e.target)}, "
                                 f"the WCAM class {int(reference.target)}")
            if np.shape(e.indices) != np.shape(reference.indices):
                raise ValueError(f"image {ids[i]!r}: {label} has a grid of shape {np.shape(e.indices)}, "
                                 f"the WCAM {np.shape(reference.indices)}")
            scores = faithfulness_scores(model, image, e, wavelet_perturbation_for(e), (seed, i),
                                         nb_subsets, subset_fraction, steps, batch_size, score,
                                         autocast, precision=precision, backend=backend)
            times = wall_times.get(label)
            rows.append({
                "model": model_name(model), "image_id": ids[i], "method": label,
                "variant": str(e.settings.get("variant", "")) if e.method == "wam" else "",
                "target": int(e.target), "dim": scores.pop("dim"),
                "spearman": rank_agreement(e.indices, reference.indices),
                "spearman_details": rank_agreement(e.indices, reference.indices, details),
                **scores, **_level_shares(e),
                "wall_time_s": float(times[i]) if times is not None else float("nan"),
                "nb_forward": int(e.settings.get("nb_forward", 0)) + 1,
                "nb_backward": int(e.settings.get("nb_backward", 0) or 0),
            })
    return pd.DataFrame(rows)


def methods_table(df: pd.DataFrame, digits: int = 3, seed: int = 0) -> pd.DataFrame:
    """Mean of each comparison metric per model and method with its 95 % CI, and the cost.

    Returns
    -------
    pandas.DataFrame
        Index ``model, method``; columns ``spearman, spearman_details,
        mu_fidelity, insertion_auc, deletion_auc, share_approximation`` as
        ``"mean [low, high]"`` strings over the images with ``digits``
        decimals (95 % seeded percentile bootstrap over images,
        :func:`~spectral_attribution.studies.stats.bootstrap_ci`; NaN values left
        out; NaN when no image has a value), ``wall_time_s`` (median seconds
        per image), ``nb_forward``, ``nb_backward`` (per image, median) and
        ``nb_images``.
    """
    from spectral_attribution.studies.stats import bootstrap_ci

    require_columns(df, ["model", "method", "image_id", *METRICS, "wall_time_s", "nb_forward",
                         "nb_backward"], "methods table")
    rows = []
    for (model, method), part in df.groupby(["model", "method"], sort=False):
        row = {"model": model, "method": method}
        for c in METRICS:
            values = part[c].astype(float)
            row[c] = (bootstrap_ci(values, "mean", seed=seed).format(digits)
                      if values.notna().any() else np.nan)
        row["wall_time_s"] = float(part["wall_time_s"].astype(float).median())
        row["nb_forward"] = int(part["nb_forward"].median())
        row["nb_backward"] = int(part["nb_backward"].median())
        row["nb_images"] = int(part["image_id"].nunique())
        rows.append(row)
    columns = ["model", "method", *METRICS, "wall_time_s", "nb_forward", "nb_backward", "nb_images"]
    return pd.DataFrame(rows, columns=columns).set_index(["model", "method"])
