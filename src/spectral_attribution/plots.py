"""Figures of the studies, from tables and arrays only (never a model).

Every function returns a :class:`matplotlib.figure.Figure`; :func:`save_figure`
writes it as vector PDF and PNG. The Agg backend is selected on import, so
figures are made without a display (CI, clusters).

Inputs are the tables of :mod:`spectral_attribution.studies` (their columns are
listed in each function) and :class:`~spectral_attribution.explainers.Explanation`
objects (or anything with the attributes ``map``, ``spatial``, ``indices``,
``settings``, ``predicted``, ``score``, ``target``).

Dyadic layout: the sub-band boundaries drawn over a WCAM are those of
:meth:`spectral_attribution.transforms.WaveletTransform.subbands`, rebuilt from
the explanation's settings (``wavelet``, ``levels``) and the size of its
spatial map (the image size).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # figures are files: never need a display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

__all__ = [
    "save_figure",
    "subbands_of",
    "draw_subbands",
    "plot_explanation",
    "plot_wcam_gallery",
    "plot_reconstructions",
    "plot_depth_vs_robustness",
    "plot_depth_orders",
    "plot_zoom",
    "plot_robustness",
    "plot_faithfulness",
]


def save_figure(fig, stem, dpi: int = 150, close: bool = True) -> dict[str, Path]:
    """Save ``fig`` as ``<stem>.pdf`` (vector) and ``<stem>.png`` (``dpi``), atomically.

    Parent directories are created; each file is written to a temporary file
    in the target directory and moved into place.

    Returns
    -------
    dict
        ``{"pdf": Path, "png": Path}``.
    """
    raise NotImplementedError


def subbands_of(explanation):
    """Sub-bands (:class:`~spectral_attribution.transforms.SubBand`) of a WCAM's layout.

    Rebuilt from ``explanation.settings`` (``wavelet``, default ``"haar"``;
    ``levels``, default 3) and the image size (``settings["image_size"]`` or
    the shape of ``explanation.spatial``, else of ``explanation.map``).
    """
    raise NotImplementedError


def draw_subbands(ax, subbands, color: str = "white", linewidth: float = 0.8) -> None:
    """Draw the boundaries of the dyadic layout's blocks on ``ax`` (pixel coordinates)."""
    raise NotImplementedError


def plot_explanation(image: np.ndarray, explanation, title: str | None = None):
    """One image and its explanation: image, WCAM in the dyadic layout, spatial WCAM.

    Parameters
    ----------
    image:
        ``(H, W, 3)`` float array in ``[0, 1]`` (the image as the model saw
        it, after resize and crop); ``(3, H, W)`` tensors are accepted too.
    explanation:
        An :class:`~spectral_attribution.explainers.Explanation`. For a WCAM:
        three panels (image; ``explanation.map`` over the dyadic layout with
        the sub-band boundaries drawn; ``explanation.spatial`` overlaid on
        the image). For a spatial Sobol' map: image and overlay. For a
        Fourier-CAM: image and the map over the centred spectrum (or the
        radial profile for ring families).
    title:
        Figure title; by default the predicted class index and score.

    Returns
    -------
    matplotlib.figure.Figure
    """
    raise NotImplementedError


def plot_wcam_gallery(images: Sequence[np.ndarray], explanations, row_labels: Sequence[str],
                      model_names: Sequence[str]):
    """Gallery of WCAMs: rows are images (e.g. a clean image then its corrupted copies), columns models.

    Parameters
    ----------
    images:
        ``R`` arrays ``(H, W, 3)`` in ``[0, 1]``.
    explanations:
        ``R x M`` nested sequence: ``explanations[r][m]`` is the WCAM of
        image ``r`` by model ``m``.
    row_labels:
        ``R`` strings (e.g. ``"clean"``, ``"fog, severity 3"``).
    model_names:
        ``M`` strings.

    Returns
    -------
    matplotlib.figure.Figure
        ``R`` rows x ``1 + 2 M`` columns: the image, then per model the
        WCAM in the dyadic layout (sub-band boundaries drawn) and the spatial
        WCAM over the image.
    """
    raise NotImplementedError


def plot_reconstructions(images: Sequence[np.ndarray], reconstructions: Sequence[np.ndarray],
                         labels: Sequence[str]):
    """Images next to their reconstruction at the reconstruction depth.

    Parameters
    ----------
    images, reconstructions:
        ``R`` arrays ``(H, W, 3)`` in ``[0, 1]`` each (reconstructions as
        returned by :func:`spectral_attribution.metrics.keep_top_k`).
    labels:
        ``R`` captions (e.g. ``"tench, depth 12 (1.5 %)"``).

    Returns
    -------
    matplotlib.figure.Figure
        2 rows x ``R`` columns.
    """
    raise NotImplementedError


def plot_depth_vs_robustness(df: pd.DataFrame, fits: pd.DataFrame | None = None,
                             depth: str = "depth_share", robustness: str = "robustness"):
    """Reconstruction depth against robustness, one colour and one linear fit per model.

    Parameters
    ----------
    df:
        Columns ``model``, ``depth`` (default ``depth_share``) and
        ``robustness`` (e.g. :func:`studies.sufficient_reconstruction` merged
        with :func:`studies.robustness_per_image` on ``model, image_id``).
    fits:
        Optional :func:`spectral_attribution.metrics.depth_robustness_fit`
        output (columns ``model, slope, intercept, r, p``); computed when
        ``None``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    raise NotImplementedError


def plot_depth_orders(df: pd.DataFrame):
    """Reconstruction depth with the WCAM order vs random orders, per model.

    Parameters
    ----------
    df:
        :func:`studies.sufficient_reconstruction` table (columns ``model,
        depth_share, random_depth_share_median``; optional ``condition``).

    Returns
    -------
    matplotlib.figure.Figure
        Box plots of the depth as a share of ``d``, per model, WCAM order
        vs random order.
    """
    raise NotImplementedError


def plot_zoom(df: pd.DataFrame):
    """Level contributions, regular vs zoomed view, one panel per model.

    Parameters
    ----------
    df:
        :func:`studies.zoom_study` table (columns ``model, image_id, view,
        level, level_order, contribution``).

    Returns
    -------
    matplotlib.figure.Figure
        Bars (mean over images, 95 % CI) of the contribution per level,
        coloured by view.
    """
    raise NotImplementedError


def plot_robustness(df: pd.DataFrame):
    """Robustness per corruption and severity, one panel per model.

    Parameters
    ----------
    df:
        :func:`studies.corruption_baseline` table (columns ``model,
        corruption, severity, same_as_clean``) or
        :func:`studies.robustness_per_corruption` (``robustness`` instead of
        ``same_as_clean``).

    Returns
    -------
    matplotlib.figure.Figure
        Heat maps corruption x severity of the robustness in ``[0, 1]``.
    """
    raise NotImplementedError


def plot_faithfulness(df: pd.DataFrame):
    """mu-fidelity, insertion and deletion per model and method (WCAM vs spatial Sobol').

    Parameters
    ----------
    df:
        :func:`studies.faithfulness` table.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per metric, bars per model coloured by method.
    """
    raise NotImplementedError
