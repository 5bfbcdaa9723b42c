"""The studies of *Scale Matters* (Kasmi et al. 2023) as functions returning tidy tables.

Every study takes a :class:`~spectral_attribution.models.ModelWrapper`, images
already prepared for it (``(3, H, W)`` float tensors in ``[0, 1]``, i.e.
after the model's resize and crop, before its normalisation) or PIL images
where the study changes the preprocessing itself (zoom), and returns a
:class:`pandas.DataFrame` in long ("tidy") form: one row per observation, one
column per variable. Tables are written with :func:`write_table`.

Studies (METHOD.md, section 4):

* :func:`corruption_baseline` -- predictions on the ImageNet-C corruptions at
  severities 1-5; :func:`robustness_per_image` turns them into the
  *robustness* of each prediction; :func:`select_corrupted_copies` picks which
  corrupted copies to explain; :func:`corrupted_copy` rebuilds one.
* :func:`sufficient_reconstruction` -- *reconstruction depth* of each image
  with the WCAM order of the grid cells and with random orders.
* :func:`zoom_study` / :func:`zoom_table` -- *level contributions* of the WCAM
  for the regular and the zoomed view.
* :func:`faithfulness` / :func:`faithfulness_table` -- mu-fidelity,
  insertion and deletion of the WCAM and of the spatial Sobol' map.

Common columns: ``model`` (registry name of the model), ``image_id`` (a
string naming the image, e.g. its file name).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import torch

__all__ = [
    "corruption_baseline",
    "robustness_per_image",
    "robustness_per_corruption",
    "select_corrupted_copies",
    "corrupted_copy",
    "wavelet_perturbation_for",
    "sufficient_reconstruction",
    "ZOOM_VIEWS",
    "zoom_study",
    "zoom_table",
    "faithfulness",
    "faithfulness_table",
    "write_table",
]


def corruption_baseline(model, images, image_ids: Sequence[str], corruptions=None,
                        severities: Sequence[int] = (1, 2, 3, 4, 5), seed: int = 0,
                        batch_size: int = 64, labels: Sequence[int] | None = None,
                        progress=None) -> pd.DataFrame:
    """Predictions of ``model`` on every corrupted copy of every image.

    Parameters
    ----------
    model:
        :class:`~spectral_attribution.models.ModelWrapper` (or any callable
        ``(B, 3, H, W) [0, 1] -> logits (B, K)``).
    images:
        ``(B, 3, H, W)`` float tensor in ``[0, 1]`` or a sequence of ``(3, H, W)``
        tensors, already at the model's input resolution (the corruption is
        applied after resize + crop, as in ImageNet-C).
    image_ids:
        One string per image.
    corruptions:
        Names among :data:`spectral_attribution.corruptions.CORRUPTIONS`;
        ``None`` means all 19 (15 standard + 4 extra).
    severities:
        Integers in 1..5.
    seed:
        Base seed; the copy ``(image i, corruption c, severity s)`` uses
        :func:`spectral_attribution.corruptions.copy_seed` ``(seed, i, c, s)``,
        recorded in column ``copy_seed``.
    labels:
        Optional ground-truth class indices (recorded in column ``label``,
        ``-1`` when not given).

    Returns
    -------
    pandas.DataFrame
        One row per image x corruption x severity, columns
        ``model, image_id, label, clean_prediction, clean_score, corruption,
        severity, copy_seed, corrupted_prediction, corrupted_score,
        same_as_clean`` (scores are softmax probabilities of the predicted
        class, in ``[0, 1]``; ``same_as_clean`` is a bool).

    Raises
    ------
    ValueError
        Unknown corruption, severity outside 1..5, ``len(image_ids)`` not the
        number of images.

    Notes
    -----
    Cost: ``19 x 5`` corruptions per image on the CPU (``glass_blur`` is the
    slowest, about a second per 224-px image) plus as many forward passes.
    """
    raise NotImplementedError


def robustness_per_image(baseline: pd.DataFrame) -> pd.DataFrame:
    """Robustness of each prediction from a :func:`corruption_baseline` table.

    Returns
    -------
    pandas.DataFrame
        One row per ``(model, image_id)``, columns ``model, image_id, label,
        clean_prediction, nb_copies, robustness`` with ``robustness`` the share
        (in ``[0, 1]``) of the image's corrupted copies on which the model
        predicts its clean prediction (:func:`spectral_attribution.metrics.robustness`).
    """
    raise NotImplementedError


def robustness_per_corruption(baseline: pd.DataFrame) -> pd.DataFrame:
    """Robustness per model, corruption and severity (for :func:`plots.plot_robustness`).

    Returns
    -------
    pandas.DataFrame
        Columns ``model, corruption, severity, nb_images, robustness``
        (mean of ``same_as_clean`` over images, in ``[0, 1]``).
    """
    raise NotImplementedError


def select_corrupted_copies(baseline: pd.DataFrame, per_image: int = 1,
                            severities: Sequence[int] | None = None,
                            prefer_changed: bool = True, seed: int = 0) -> pd.DataFrame:
    """Pick, for every ``(model, image_id)``, which corrupted copies to explain.

    Among the rows of ``baseline`` (restricted to ``severities`` when given),
    draw ``per_image`` copies without replacement, seeded; with
    ``prefer_changed`` the copies whose prediction differs from the clean one
    are drawn first (they show where the prediction moves to), then the others.

    Returns
    -------
    pandas.DataFrame
        A subset of the rows of ``baseline`` (same columns), sorted by
        ``model, image_id``.
    """
    raise NotImplementedError


def corrupted_copy(image, corruption: str, severity: int, copy_seed: int):
    """Rebuild a corrupted copy recorded in a :func:`corruption_baseline` row.

    ``image`` is the clean ``(3, H, W)`` tensor in ``[0, 1]``; returns the same
    type and shape. Same as :func:`spectral_attribution.corruptions.corrupt`.
    """
    raise NotImplementedError


def wavelet_perturbation_for(explanation):
    """The :class:`~spectral_attribution.explainers.WaveletPerturbation` an explanation was made with.

    Rebuilt from ``explanation.settings`` (``wavelet``, ``levels``,
    ``grid_size``, ``drop_approximation``).
    """
    raise NotImplementedError


def sufficient_reconstruction(model, images, explanations, image_ids: Sequence[str],
                              conditions: Sequence[str] | str = "clean",
                              reference_labels: Sequence[int] | None = None,
                              nb_random_draws: int = 5, seed: int = 0,
                              batch_size: int = 64, max_k: int | None = None,
                              extra_columns: pd.DataFrame | None = None,
                              progress=None) -> pd.DataFrame:
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
        One WCAM :class:`~spectral_attribution.explainers.Explanation` per image.
    conditions:
        ``"clean"`` / ``"corrupted"`` per image (or one for all).
    reference_labels:
        Label to restore per image; ``None`` uses the model's prediction on
        the image itself (its clean prediction for a clean image, its
        prediction on the corrupted image for a corrupted one).
    nb_random_draws, seed:
        Number of random orders per image; draw ``r`` of image ``i`` uses
        ``numpy.random.default_rng([seed, i, r])``.
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
    raise NotImplementedError


#: The two views of the zoom study: name -> (resize, crop, wavelet levels J).
ZOOM_VIEWS: dict[str, tuple[int, int, int]] = {
    "regular": (256, 224, 3),
    "zoomed": (512, 224, 4),
}


def zoom_study(model, pil_images, image_ids: Sequence[str], grid_size: int = 28,
               nb_design: int = 8, seed: int = 0, batch_size: int = 64,
               views: dict[str, tuple[int, int, int]] | None = None,
               per_coefficient: bool = True, explainer_kwargs: dict | None = None,
               progress=None) -> pd.DataFrame:
    """Level contributions of the WCAM in the regular and the zoomed view.

    Regular view: Resize(256) + CenterCrop(224), ``J = 3``; zoomed view:
    Resize(512) + CenterCrop(224), ``J = 4`` (:data:`ZOOM_VIEWS`). Each image is
    prepared with the model's interpolation and normalisation but the view's
    resize and crop, explained with a WCAM of ``J`` levels (target: the
    model's prediction in that view), and its map is summarised by
    :func:`spectral_attribution.metrics.level_contributions`.

    Parameters
    ----------
    pil_images:
        Sequence of PIL RGB images (original resolution).
    explainer_kwargs:
        Extra keyword arguments of :class:`~spectral_attribution.explainers.WCAM`
        (e.g. ``autocast="bfloat16"``).

    Returns
    -------
    pandas.DataFrame
        One row per image x view x level, columns ``model, image_id, view,
        resize, crop, levels, grid_size, nb_design, seed, target, level,
        level_order, contribution``. ``level`` is ``"approximation"`` or
        ``"level_j"`` (``j = J`` coarsest .. ``1`` finest);
        ``level_order`` is 0 for the approximation then 1, 2, ... from
        coarsest to finest; contributions of one image and view sum to 1.
    """
    raise NotImplementedError


def zoom_table(df: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """The zoom table in the layout of the original: models x (view, level).

    Parameters
    ----------
    df:
        Output of :func:`zoom_study` (several models concatenated).

    Returns
    -------
    pandas.DataFrame
        Index ``model``; one column per ``view`` and ``level`` named
        ``"<view> <level>"`` (e.g. ``"regular approximation"``,
        ``"zoomed level_4"``), in view order then level order, holding
        ``"mean ± std"`` strings over images with ``digits`` decimals (std with
        ``ddof=1``; ``"mean ± nan"`` for a single image).
    """
    raise NotImplementedError


def faithfulness(model, images, image_ids: Sequence[str], wcam_explanations,
                 spatial_explanations=None, nb_subsets: int = 128,
                 subset_fraction: float = 0.2, steps: int = 32, seed: int = 0,
                 batch_size: int = 64, score: str = "probability",
                 progress=None) -> pd.DataFrame:
    """mu-fidelity, insertion and deletion of the WCAM and the spatial Sobol' map.

    For each image and each method: the attribution is the explanation's
    ``indices`` (one Sobol' total index per grid cell); cells are removed by
    zeroing the wavelet coefficients under them (WCAM, through
    :class:`~spectral_attribution.explainers.WaveletPerturbation`) or the
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
        ``"probability"`` (softmax of the target, Petsiuk et al.) or ``"logit"``.

    Returns
    -------
    pandas.DataFrame
        One row per image x method, columns ``model, image_id, method,
        target, dim, mu_fidelity, insertion_auc, deletion_auc`` (``method`` is
        ``"wcam"`` or ``"spatial-sobol"``; mu-fidelity in ``[-1, 1]``, higher
        is better; AUCs in ``[0, 1]`` with probabilities, insertion higher
        and deletion lower is better).
    """
    raise NotImplementedError


def faithfulness_table(df: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """Mean (± std) of each faithfulness metric per model and method.

    Returns
    -------
    pandas.DataFrame
        Index ``model, method``; columns ``mu_fidelity, insertion_auc,
        deletion_auc`` as ``"mean ± std"`` strings, and ``nb_images``.
    """
    raise NotImplementedError


def write_table(df: pd.DataFrame, stem, index: bool | None = None,
                floatfmt: str = ".4g") -> dict[str, Path]:
    """Write ``df`` as ``<stem>.csv``, ``<stem>.md`` (tabulate) and ``<stem>.tex``.

    Each file is written to a temporary file in the same directory and moved
    into place (``os.replace``), so a reader never sees a partial table.

    Parameters
    ----------
    stem:
        Path without extension; parent directories are created.
    index:
        Write the index; ``None`` writes it only when it is not a plain
        ``RangeIndex``.

    Returns
    -------
    dict
        ``{"csv": Path, "md": Path, "tex": Path}``.
    """
    raise NotImplementedError
