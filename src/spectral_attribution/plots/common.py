"""Shared pieces of the figures: saving, the dyadic layout, image panels.

The Agg backend is selected by :mod:`spectral_attribution.plots` on import,
so figures are made without a display (CI, clusters).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from spectral_attribution._utils.files import atomic_path
from spectral_attribution.attributions.transforms import WaveletTransform
from spectral_attribution.studies.labels import level_sort_key
from spectral_attribution.plots.style import INDEX_LABEL, draw_map, shared_norm

__all__ = [
    "save_figure",
    "subbands_of",
    "draw_subbands",
    "as_hwc",
    "show_image",
    "show_wcam",
    "show_overlay",
    "level_key",
    "images_per",
]


#: Formats :func:`save_figure` writes (matplotlib names them; the suffix is the format).
FIGURE_FORMATS = ("pdf", "png", "svg", "jpg", "eps")


def save_figure(fig, stem, dpi: int = 150, close: bool = True,
                formats=("pdf", "png")) -> dict[str, Path]:
    """Save ``fig`` as ``<stem>.pdf`` (vector) and ``<stem>.png`` (``dpi``), atomically.

    ``stem`` is a name, never parsed: ``<stem>.<format>`` is written for each
    of ``formats`` (:data:`FIGURE_FORMATS`) even when ``stem`` already ends in
    something that looks like a suffix (``dog.jpg`` → ``dog.jpg.pdf``).
    Parent directories are created; each file is written atomically
    (:func:`~spectral_attribution._utils.files.atomic_path`).

    Returns
    -------
    dict
        ``{"pdf": Path, "png": Path}`` (one entry per format).

    Raises
    ------
    ValueError
        A format outside :data:`FIGURE_FORMATS`.
    """
    stem = Path(stem)
    bad = [f for f in formats if f not in FIGURE_FORMATS]
    if bad:
        raise ValueError(f"unknown figure format(s) {bad}; expected some of {list(FIGURE_FORMATS)}")
    paths = {}
    for ext in formats:
        target = stem.with_name(stem.name + "." + ext)
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=ext, dpi=dpi, bbox_inches="tight")
        paths[ext] = target
    if close:
        plt.close(fig)
    return paths


def subbands_of(explanation):
    """Sub-bands (:class:`~spectral_attribution.attributions.transforms.SubBand`) of a WCAM's layout.

    Rebuilt from ``explanation.settings`` (``wavelet``, default ``"haar"``;
    ``levels``, default 3) and the image size (``settings["image_size"]`` or
    the shape of ``explanation.spatial``, else of ``explanation.map``).
    """
    settings = getattr(explanation, "settings", None) or {}
    size = settings.get("image_size")
    if size is None:
        ref = explanation.spatial if getattr(explanation, "spatial", None) is not None else explanation.map
        size = np.shape(ref)[-2:]
    transform = WaveletTransform(settings.get("wavelet", "haar"), int(settings.get("levels", 3)))
    return transform.subbands(int(size[0]), int(size[1]))


def draw_subbands(ax, subbands, color: str = "white", linewidth: float = 0.8) -> None:
    """Draw the boundaries of the dyadic layout's blocks on ``ax`` (pixel coordinates)."""
    from matplotlib.patches import Rectangle

    for band in subbands:
        (r0, r1), (c0, c1) = band.rows, band.cols
        # imshow puts pixel centres on integers: block edges are at -0.5.
        ax.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), c1 - c0, r1 - r0, fill=False,
                               edgecolor=color, linewidth=linewidth))


def as_hwc(image) -> np.ndarray:
    """``(H, W, 3)`` float array in ``[0, 1]`` from an array or a ``(3, H, W)`` tensor."""
    if hasattr(image, "detach"):
        image = image.detach().cpu().float().numpy()
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 3 and image.shape[0] in (1, 3) and image.shape[-1] not in (1, 3):
        image = np.transpose(image, (1, 2, 0))
    if image.ndim != 3 or image.shape[-1] not in (1, 3):
        raise ValueError(f"expected an (H, W, 3) image, got shape {image.shape}")
    if image.dtype == np.uint8 or image.max() > 1.0 + 1e-3:
        image = image / 255.0
    return np.clip(image, 0.0, 1.0)


def show_image(ax, image, title=None, ylabel: str | None = None) -> None:
    """Draw an ``(H, W, 3)`` image on ``ax`` without ticks or frame, with an optional small title.

    ``ylabel`` (e.g. a gallery's row label) is written left of the image;
    the constrained layout keeps it clear of the neighbouring panel.
    """
    ax.imshow(image)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)


def show_wcam(ax, explanation, title=None, colorbar: bool = True, norm=None):
    """Draw a WCAM's ``map`` (viridis) with its sub-band boundaries on ``ax``.

    ``norm`` is the colour scale (:func:`~spectral_attribution.plots.style.shared_norm`
    of the maps compared; by default this map's, from 0). A map of
    negligible range on that scale is drawn flat with its range written
    (:func:`~spectral_attribution.plots.style.draw_map`). ``colorbar`` adds a
    colour bar labelled "Sobol' total index". Returns the ``AxesImage``.
    """
    norm = shared_norm([explanation.map]) if norm is None else norm
    im = draw_map(ax, explanation.map, norm, interpolation="nearest")
    draw_subbands(ax, subbands_of(explanation))
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label=INDEX_LABEL)
    return im


def show_overlay(ax, image, heat, title=None, alpha: float = 0.5, norm=None):
    """Draw ``heat`` ``(h, w)`` over ``image`` ``(H, W, 3)`` (stretched to it).

    Colour scale ``norm`` (by default this map's, from 0: a nearly uniform
    map must not look contrasted; see
    :func:`~spectral_attribution.plots.style.draw_map`). Returns the
    ``AxesImage`` of the heat map, or ``None`` without one.
    """
    ax.imshow(image)
    im = None
    if heat is not None:
        heat = np.asarray(heat, dtype=np.float32)
        norm = shared_norm([heat]) if norm is None else norm
        im = draw_map(ax, heat, norm, alpha=alpha, interpolation="bilinear",
                      extent=(-0.5, image.shape[1] - 0.5, image.shape[0] - 0.5, -0.5))
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return im


def level_key(level: str):
    """Sort key: approximation, then ``level_j`` by decreasing ``j`` (coarsest first)
    (:func:`~spectral_attribution.studies.labels.level_sort_key`)."""
    return level_sort_key(level)


def images_per(df: pd.DataFrame, by: str = "model") -> dict:
    """Distinct images per group of a study table, for the figures' footnotes.

    ``df`` is any study table with the column ``by``; the count is of distinct
    ``image_id`` values when the table has that column, else of rows. Returns
    ``{group: count}`` in order of appearance.
    """
    if "image_id" in df.columns:
        return df.groupby(by, sort=False)["image_id"].nunique().to_dict()
    return df.groupby(by, sort=False).size().to_dict()
