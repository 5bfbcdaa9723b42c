"""Figures of explanations: one image's WCAM, galleries, reconstructions, and rendering from results.

Inputs are :class:`~spectral_attribution.explanation.Explanation` objects
(or anything with the attributes ``map``, ``spatial``, ``indices``,
``settings``, ``predicted``, ``score``, ``target``) and ``(H, W, 3)`` images
in ``[0, 1]``. Dyadic layout: the sub-band boundaries drawn over a WCAM are
those of :meth:`spectral_attribution.transforms.WaveletTransform.subbands`,
rebuilt from the explanation's settings (``wavelet``, ``levels``) and the
image size. :func:`render_from_results` draws one explanation stored in a
workflow's ``results/`` folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

from .. import results
from .._common import atomic_path, read_table
from ..data import load_image
from ..studies.corruption import corrupted_copy
from .common import as_hwc, save_figure, show_image, show_overlay, show_wcam

__all__ = [
    "plot_explanation",
    "plot_wcam_gallery",
    "plot_reconstructions",
    "render_from_results",
    "image_for",
]


def plot_explanation(image: np.ndarray, explanation, title: str | None = None):
    """One image and its explanation: image, WCAM in the dyadic layout, spatial WCAM.

    Parameters
    ----------
    image:
        ``(H, W, 3)`` float array in ``[0, 1]`` (the image as the model saw
        it, after resize and crop); ``(3, H, W)`` tensors are accepted too.
    explanation:
        An :class:`~spectral_attribution.explanation.Explanation`. For a WCAM:
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
    image = as_hwc(image)
    method = getattr(explanation, "method", "wcam")
    panels = 3 if method == "wcam" else 2
    fig, axes = plt.subplots(1, panels, figsize=(3.2 * panels, 3.4), squeeze=False)
    axes = axes[0]
    show_image(axes[0], image, "image")
    if method == "wcam":
        show_wcam(axes[1], explanation, "WCAM (dyadic layout)")
        show_overlay(axes[2], image, explanation.spatial, "spatial WCAM")
    elif method == "spatial-sobol":
        show_overlay(axes[1], image, explanation.map, "spatial Sobol'")
    else:
        indices = np.asarray(explanation.indices)
        if indices.ndim == 1:
            axes[1].plot(np.arange(len(indices)), indices, marker="o")
            axes[1].set_xlabel("ring (0 = zero frequency)")
            axes[1].set_ylabel("Sobol' total index")
            axes[1].set_title("Fourier-CAM")
        else:
            im = axes[1].imshow(explanation.map, cmap="jet")
            axes[1].set_title("Fourier-CAM (centred spectrum)")
            axes[1].axis("off")
            fig.colorbar(im, ax=axes[1], fraction=0.046, pad=0.04)
    if title is None:
        title = (f"predicted {explanation.predicted} (logit {explanation.predicted_score:.2f})"
                 + ("" if explanation.target == explanation.predicted
                    else f", explained {explanation.target} (logit {explanation.score:.2f})"))
    fig.suptitle(title)
    fig.tight_layout()
    return fig


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
    nb_rows, nb_models = len(images), len(model_names)
    if len(explanations) != nb_rows or len(row_labels) != nb_rows:
        raise ValueError(f"got {len(images)} images, {len(explanations)} rows of explanations "
                         f"and {len(row_labels)} row labels")
    for r, row in enumerate(explanations):
        if len(row) != nb_models:
            raise ValueError(f"row {r} has {len(row)} explanations for {nb_models} models")
    cols = 1 + 2 * nb_models
    fig, axes = plt.subplots(nb_rows, cols, figsize=(2.1 * cols, 2.2 * nb_rows), squeeze=False)
    for r in range(nb_rows):
        image = as_hwc(images[r])
        show_image(axes[r, 0], image, "image" if r == 0 else None)
        axes[r, 0].text(-0.08, 0.5, row_labels[r], transform=axes[r, 0].transAxes, rotation=90,
                        ha="right", va="center", fontsize=9)
        for m in range(nb_models):
            e = explanations[r][m]
            show_wcam(axes[r, 1 + 2 * m], e, f"{model_names[m]}\nWCAM" if r == 0 else None,
                       colorbar=False)
            show_overlay(axes[r, 2 + 2 * m], image, e.spatial,
                          f"{model_names[m]}\nspatial WCAM" if r == 0 else None)
    fig.tight_layout()
    return fig


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
    if not len(images) == len(reconstructions) == len(labels):
        raise ValueError(f"got {len(images)} images, {len(reconstructions)} reconstructions "
                         f"and {len(labels)} labels")
    n = len(images)
    fig, axes = plt.subplots(2, n, figsize=(2.4 * n, 5.0), squeeze=False)
    for i in range(n):
        show_image(axes[0, i], as_hwc(images[i]), "image")
        show_image(axes[1, i], as_hwc(reconstructions[i]), labels[i])
    fig.tight_layout()
    return fig


def render_from_results(results_dir: str | os.PathLike, model: str, image_id: str,
                        out_path: str | os.PathLike, variant: str = "clean"):
    """Draw one image's WCAM from a results folder into ``out_path``.

    ``out_path`` ending in ``.pdf``/``.png``/``.svg``/``.jpg``/``.eps``: that
    file, and the path is returned. Any other path is a *stem*: ``stem.pdf``
    and ``stem.png`` are written and ``{"pdf": Path, "png": Path}`` returned.
    ``variant`` is ``"clean"``, ``"corrupted"`` (ids ``"IMAGE@CORRUPTION-SEVERITY"``,
    see ``results/wcam/MODEL/corrupted/*.csv``) or ``"spatial"``.

    The image is read again from ``results/data/samples.csv`` (column
    ``path``) and prepared with the preprocessing recorded in
    ``results/models/{model}.json`` (no model is loaded; a grey image stands
    in when the file is gone); the figure is
    :func:`plot_explanation` (image, WCAM over the
    dyadic layout, spatial WCAM). Returns ``out_path``.

    Raises
    ------
    FileNotFoundError, KeyError
        As :func:`spectral_attribution.results.load_explanation`.
    """
    results_dir = Path(results_dir)
    explanation = results.load_explanation(results_dir, model, image_id, variant)
    image = image_for(results_dir, model, image_id, variant)
    if image is None:  # image file gone: draw the maps over a grey image of the right size
        ref = explanation.spatial if explanation.spatial is not None else explanation.map
        image = np.full((*np.shape(ref)[-2:], 3), 0.5, dtype=np.float32)
    figure = plot_explanation(image, explanation, title=f"{model}: {image_id}")
    out_path = Path(out_path)
    if out_path.suffix.lower() not in _FIGURE_SUFFIXES:  # a stem: PDF and PNG
        return save_figure(figure, out_path)
    with atomic_path(out_path) as tmp:
        figure.savefig(tmp, bbox_inches="tight", dpi=150)
    plt.close(figure)
    return out_path


_FIGURE_SUFFIXES = (".pdf", ".png", ".svg", ".jpg", ".jpeg", ".eps")


def image_for(results_dir: str | os.PathLike, model: str, image_id: str, variant: str = "clean"):
    """The prepared ``(H, W, 3)`` float image of ``image_id`` for display, or ``None``.

    Read from ``results/data/samples.csv`` (column ``path``) and prepared
    with the preprocessing recorded for ``model``
    (:func:`spectral_attribution.results.preprocessing_of`). Corrupted copies
    (manifest columns ``source_image_id, corruption, severity, copy_seed``)
    are rebuilt from the clean image. ``None`` when the sample table or the
    image file is gone, or anything else fails (display only).
    """
    results_dir = Path(results_dir)
    samples = results_dir / "data" / "samples.csv"
    if not samples.exists():
        return None
    try:
        row = None
        manifest = results.load_manifest(results_dir, model, variant)
        hits = manifest[manifest["image_id"] == str(image_id)]
        if not hits.empty and "corruption" in hits.columns:
            row = hits.iloc[0]
        source_id = str(row["source_image_id"]) if row is not None else str(image_id)
        df = read_table(samples)
        rows = df[df["image_id"] == source_id]
        if rows.empty or not Path(rows.iloc[0]["path"]).exists():
            return None
        tensor = results.preprocessing_of(results_dir, model).to_tensor(load_image(rows.iloc[0]["path"]))
        if row is not None:
            tensor = corrupted_copy(tensor, str(row["corruption"]), int(row["severity"]),
                                    int(row["copy_seed"]))
        return tensor.permute(1, 2, 0).numpy()
    except Exception:  # display only: fall back to a grey image
        return None
