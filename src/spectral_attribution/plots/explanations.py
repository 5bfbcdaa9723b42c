"""Figures of explanations: one image's WCAM, galleries, reconstructions, and rendering from results.

Inputs are :class:`~spectral_attribution.attributions.explanation.Explanation` objects
(or anything with the attributes ``map``, ``spatial``, ``indices``,
``settings``, ``predicted``, ``score``, ``target``) and ``(H, W, 3)`` images
in ``[0, 1]``. Dyadic layout: the sub-band boundaries drawn over a WCAM are
those of :meth:`spectral_attribution.attributions.transforms.WaveletTransform.subbands`,
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

from spectral_attribution import results
from spectral_attribution._utils.files import atomic_path
from spectral_attribution._utils.tables import read_table
from spectral_attribution.data import load_image
from spectral_attribution.studies.corruption import corrupted_copy
from spectral_attribution.plots.common import as_hwc, save_figure, show_image, show_overlay, show_wcam
from spectral_attribution.plots.style import (
    INDEX_LABEL,
    SPATIAL_LABEL,
    add_colorbar,
    draw_map,
    finish,
    new_figure,
    shared_norm,
    styled,
)

__all__ = [
    "plot_explanation",
    "screened_mask",
    "shade_screened",
    "plot_wcam_gallery",
    "plot_reconstructions",
    "render_from_results",
    "image_for",
]


#: RGBA of the shade over screened-out cells (grey, 60 % opaque) and their hatch.
SCREENED_RGBA = (0.55, 0.55, 0.55, 0.6)
SCREENED_HATCH = "////"


def screened_mask(explanation, shape=None) -> np.ndarray | None:
    """``bool`` ``shape`` mask (default ``explanation.map``'s) of the positions of the cells
    screened out (:attr:`Explanation.screened_out`), by the nearest upsampling of the maps
    (:func:`~spectral_attribution.attributions.perturbations.cell_ranges`); ``None`` when every
    cell was estimated, or for ring families (1-D indices)."""
    from spectral_attribution.attributions.perturbations import cell_ranges

    out = getattr(explanation, "screened_out", None)
    if out is None or np.ndim(out) != 2:
        return None
    h, w = shape if shape is not None else np.shape(explanation.map)
    g_r, g_c = out.shape
    row_cell = np.repeat(np.arange(g_r), np.diff(cell_ranges(g_r, h), axis=1).ravel())
    col_cell = np.repeat(np.arange(g_c), np.diff(cell_ranges(g_c, w), axis=1).ravel())
    return out[np.ix_(row_cell, col_cell)]


def shade_screened(ax, explanation, shape=None):
    """Grey out, and hatch, the cells screened out of ``explanation`` on ``ax``, whose image
    is drawn in pixel coordinates of ``shape`` (default the map's); for rings, grey crosses
    at 0. Returns the number of cells marked (0 when every cell was estimated)."""
    out = getattr(explanation, "screened_out", None)
    if out is None:
        return 0
    if np.ndim(out) == 1:
        rings = np.flatnonzero(out)
        ax.plot(rings, np.zeros(len(rings)), "x", color=SCREENED_RGBA[:3], label="screened out")
        ax.legend(loc="upper right", fontsize="small")
        return int(len(rings))
    mask = screened_mask(explanation, shape)
    h, w = mask.shape
    shade = np.zeros((h, w, 4))
    shade[mask] = SCREENED_RGBA
    ax.imshow(shade, extent=(-0.5, w - 0.5, h - 0.5, -0.5), interpolation="nearest")
    ax.contourf(np.arange(w), np.arange(h), mask.astype(float), levels=[0.5, 1.5],
                colors="none", hatches=[SCREENED_HATCH])
    return int(out.sum())


@styled
def plot_explanation(image: np.ndarray, explanation, title: str | None = None):
    """One image and its explanation: image, WCAM in the dyadic layout, spatial WCAM.

    Parameters
    ----------
    image:
        ``(H, W, 3)`` float array in ``[0, 1]`` (the image as the model saw
        it, after resize and crop); ``(3, H, W)`` tensors are accepted too.
    explanation:
        An :class:`~spectral_attribution.attributions.explanation.Explanation`. For a WCAM
        or a WAM: three panels (image; ``explanation.map`` over the dyadic
        layout with the sub-band boundaries drawn; ``explanation.spatial``
        overlaid on the image). For a spatial Sobol' map: image and overlay. For a
        Fourier-CAM: image and the map over the centred spectrum (or the
        radial profile for ring families).
    title:
        Figure title; by default the predicted class index and score.

    Returns
    -------
    matplotlib.figure.Figure
        Each map on its own scale from 0 (viridis) with a colour bar
        labelled "Sobol' total index"; a map of negligible range is drawn
        flat with its range written
        (:func:`~spectral_attribution.plots.style.draw_map`).
    """
    image = as_hwc(image)
    method = getattr(explanation, "method", "wcam")
    panels = 3 if method in ("wcam", "wam") else 2
    fig, axes = new_figure(1, panels, figsize=(3.3 * panels, 3.6))
    axes = axes[0]
    show_image(axes[0], image, "image")
    if method in ("wcam", "wam"):
        name = "WCAM" if method == "wcam" else "WAM"
        show_wcam(axes[1], explanation, f"{name} (dyadic layout)")
        shade_screened(axes[1], explanation)
        if show_overlay(axes[2], image, explanation.spatial, f"spatial {name}") is not None:
            add_colorbar(fig, shared_norm([explanation.spatial]), [axes[2]], SPATIAL_LABEL,
                         fraction=0.046, pad=0.04)
    elif method == "spatial-sobol":
        show_overlay(axes[1], image, explanation.map, "spatial Sobol'")
        shade_screened(axes[1], explanation)
        add_colorbar(fig, shared_norm([explanation.map]), [axes[1]], INDEX_LABEL,
                     fraction=0.046, pad=0.04)
    else:
        indices = np.asarray(explanation.indices)
        if indices.ndim == 1:
            axes[1].plot(np.arange(len(indices)), indices, marker="o")
            axes[1].set_xlabel("ring (0 = zero frequency)")
            axes[1].set_ylabel(INDEX_LABEL)
            axes[1].set_title("Fourier-CAM")
            shade_screened(axes[1], explanation)
        else:
            im = draw_map(axes[1], explanation.map, shared_norm([explanation.map]))
            axes[1].set_title("Fourier-CAM (centred spectrum)")
            shade_screened(axes[1], explanation)
            axes[1].axis("off")
            fig.colorbar(im, ax=axes[1], fraction=0.046, pad=0.04, label=INDEX_LABEL)
    if title is None:
        title = (f"predicted {explanation.predicted} (logit {explanation.predicted_score:.2f})"
                 + ("" if explanation.target == explanation.predicted
                    else f", explained {explanation.target} (logit {explanation.score:.2f})"))
    return finish(fig, title, "n = 1 image")


@styled
def plot_wcam_gallery(images: Sequence[np.ndarray], explanations, row_labels: Sequence[str],
                      model_names: Sequence[str], n_note: str | None = None):
    """Gallery of WCAMs: rows are images (e.g. a clean image then its corrupted copies), columns models.

    Colour scales: the WCAMs of all panels share one scale, and the spatial
    WCAMs another, both from 0 (:func:`~spectral_attribution.plots.style.shared_norm`),
    each with one labelled colour bar: panels are compared across
    classifiers and corruptions, so a map with 100 times smaller indices
    looks 100 times darker instead of being stretched to the same contrast.
    A map whose range is below
    :data:`~spectral_attribution.plots.style.FLAT_FRACTION` of its scale is
    drawn flat with its range written on the panel.

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
    n_note:
        Footnote's count (default ``"n = R images shown"``).

    Returns
    -------
    matplotlib.figure.Figure
        ``R`` rows x ``1 + 2 M`` columns: the image, then per model the
        WCAM in the dyadic layout (sub-band boundaries drawn) and the spatial
        WCAM over the image; two colour bars at the right.
    """
    nb_rows, nb_models = len(images), len(model_names)
    if len(explanations) != nb_rows or len(row_labels) != nb_rows:
        raise ValueError(f"got {len(images)} images, {len(explanations)} rows of explanations "
                         f"and {len(row_labels)} row labels")
    for r, row in enumerate(explanations):
        if len(row) != nb_models:
            raise ValueError(f"row {r} has {len(row)} explanations for {nb_models} models")
    cols = 1 + 2 * nb_models
    every = [e for row in explanations for e in row]
    wcam_norm = shared_norm(e.map for e in every)
    spatial_norm = shared_norm(getattr(e, "spatial", None) for e in every)
    fig, axes = new_figure(nb_rows, cols, figsize=(2.0 * cols + 1.6, 2.1 * nb_rows + 0.8))
    spatial_im = None
    for r in range(nb_rows):
        image = as_hwc(images[r])
        show_image(axes[r, 0], image, "image" if r == 0 else None, ylabel=row_labels[r])
        for m in range(nb_models):
            e = explanations[r][m]
            show_wcam(axes[r, 1 + 2 * m], e, f"{model_names[m]}\nWCAM" if r == 0 else None,
                                colorbar=False, norm=wcam_norm)
            im = show_overlay(axes[r, 2 + 2 * m], image, getattr(e, "spatial", None),
                              f"{model_names[m]}\nspatial WCAM" if r == 0 else None,
                              norm=spatial_norm)
            spatial_im = im if im is not None else spatial_im
    add_colorbar(fig, wcam_norm, axes, INDEX_LABEL + " (WCAM)")
    if spatial_im is not None:
        add_colorbar(fig, spatial_norm, axes, SPATIAL_LABEL)
    return finish(fig, "WCAMs of clean images and of their corrupted copies",
                  n_note or f"n = {nb_rows} images shown",
                  ["one colour scale per kind of map, shared by every panel",
                   "white lines: wavelet sub-bands (approximation top left)"])


@styled
def plot_reconstructions(images: Sequence[np.ndarray], reconstructions: Sequence[np.ndarray],
                         labels: Sequence[str], n_note: str | None = None):
    """Images next to their reconstruction at the reconstruction depth.

    Parameters
    ----------
    images, reconstructions:
        ``R`` arrays ``(H, W, 3)`` in ``[0, 1]`` each (reconstructions as
        returned by :func:`spectral_attribution.metrics.keep_top_k`).
    labels:
        ``R`` captions (e.g. ``"tench, depth 12 (1.5 %)"``).
    n_note:
        Footnote's count (default ``"n = R images shown"``).

    Returns
    -------
    matplotlib.figure.Figure
        2 rows x ``R`` columns.
    """
    if not len(images) == len(reconstructions) == len(labels):
        raise ValueError(f"got {len(images)} images, {len(reconstructions)} reconstructions "
                         f"and {len(labels)} labels")
    n = len(images)
    fig, axes = new_figure(2, n, figsize=(2.4 * n + 0.4, 5.4))
    for i in range(n):
        show_image(axes[0, i], as_hwc(images[i]), None, ylabel="image" if i == 0 else None)
        show_image(axes[1, i], as_hwc(reconstructions[i]), None,
                   ylabel="reconstruction" if i == 0 else None)
        axes[1, i].set_xlabel(labels[i], fontsize=8)
    return finish(fig, "Reconstructions from the most important grid cells of the WCAM",
                  n_note or f"n = {n} images shown",
                  ["depth: fewest cells whose wavelet coefficients restore the prediction"])


def render_from_results(results_dir: str | os.PathLike, model: str, image_id: str,
                        out_path: str | os.PathLike, variant: str = "clean", formats=None):
    """Draw one image's WCAM from a results folder into ``out_path``.

    With ``formats`` (e.g. ``("pdf", "png")``), ``out_path`` is a *stem*,
    never parsed: ``stem.<format>`` is written for each format and
    ``{format: Path}`` returned (a name built from an image id, such as
    ``m-dog.jpg``, gives ``m-dog.jpg.pdf``, never a JPEG). Without
    ``formats``: an ``out_path`` the caller chose ending in
    ``.pdf``/``.png``/``.svg``/``.jpg``/``.eps`` is that one file, and the
    path is returned; any other path is a stem for ``stem.pdf`` and
    ``stem.png``.
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
    if formats is not None:  # a stem, whatever it ends with
        return save_figure(figure, out_path, formats=tuple(formats))
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
