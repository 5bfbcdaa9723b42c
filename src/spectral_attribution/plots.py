"""Figures of the studies, from tables and arrays only (never a model).

Every function returns a :class:`matplotlib.figure.Figure`; :func:`save_figure`
writes it as vector PDF and PNG. The Agg backend is selected on import, so
figures are made without a display (CI, clusters).

Inputs are the tables of :mod:`spectral_attribution.studies` (their columns are
listed in each function) and :class:`~spectral_attribution.explanation.Explanation`
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
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = {}
    for ext in ("pdf", "png"):
        target = stem.with_name(stem.name + "." + ext)
        fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
        os.close(fd)
        try:
            fig.savefig(tmp, format=ext, dpi=dpi, bbox_inches="tight")
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        paths[ext] = target
    if close:
        plt.close(fig)
    return paths


def subbands_of(explanation):
    """Sub-bands (:class:`~spectral_attribution.transforms.SubBand`) of a WCAM's layout.

    Rebuilt from ``explanation.settings`` (``wavelet``, default ``"haar"``;
    ``levels``, default 3) and the image size (``settings["image_size"]`` or
    the shape of ``explanation.spatial``, else of ``explanation.map``).
    """
    from .transforms import WaveletTransform

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
    image = _as_hwc(image)
    method = getattr(explanation, "method", "wcam")
    panels = 3 if method == "wcam" else 2
    fig, axes = plt.subplots(1, panels, figsize=(3.2 * panels, 3.4), squeeze=False)
    axes = axes[0]
    _show_image(axes[0], image, "image")
    if method == "wcam":
        _show_wcam(axes[1], explanation, "WCAM (dyadic layout)")
        _show_overlay(axes[2], image, explanation.spatial, "spatial WCAM")
    elif method == "spatial-sobol":
        _show_overlay(axes[1], image, explanation.map, "spatial Sobol'")
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


def _as_hwc(image) -> np.ndarray:
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


def _show_image(ax, image, title=None) -> None:
    ax.imshow(image)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)


def _show_wcam(ax, explanation, title=None, colorbar: bool = True) -> None:
    im = ax.imshow(explanation.map, cmap="jet", interpolation="nearest")
    draw_subbands(ax, subbands_of(explanation))
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)


def _show_overlay(ax, image, heat, title=None, alpha: float = 0.5) -> None:
    ax.imshow(image)
    if heat is not None:
        heat = np.asarray(heat, dtype=np.float32)
        # Colour scale from 0: a nearly uniform map must not look contrasted.
        ax.imshow(heat, cmap="jet", alpha=alpha, interpolation="bilinear",
                  vmin=min(0.0, float(heat.min())), vmax=max(float(heat.max()), 1e-12),
                  extent=(-0.5, image.shape[1] - 0.5, image.shape[0] - 0.5, -0.5))
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)


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
        image = _as_hwc(images[r])
        _show_image(axes[r, 0], image, "image" if r == 0 else None)
        axes[r, 0].text(-0.08, 0.5, row_labels[r], transform=axes[r, 0].transAxes, rotation=90,
                        ha="right", va="center", fontsize=9)
        for m in range(nb_models):
            e = explanations[r][m]
            _show_wcam(axes[r, 1 + 2 * m], e, f"{model_names[m]}\nWCAM" if r == 0 else None,
                       colorbar=False)
            _show_overlay(axes[r, 2 + 2 * m], image, e.spatial,
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
        _show_image(axes[0, i], _as_hwc(images[i]), "image")
        _show_image(axes[1, i], _as_hwc(reconstructions[i]), labels[i])
    fig.tight_layout()
    return fig


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
    import seaborn as sns

    from .metrics import depth_robustness_fit

    _require(df, ["model", depth, robustness])
    if fits is None:
        fits = depth_robustness_fit(df, x=depth, y=robustness)
    fig, ax = plt.subplots(figsize=(5.5, 4.0))
    models = list(dict.fromkeys(df["model"]))
    palette = dict(zip(models, sns.color_palette(n_colors=max(len(models), 1))))
    sns.scatterplot(data=df, x=depth, y=robustness, hue="model", hue_order=models,
                    palette=palette, ax=ax, alpha=0.7)
    fits = fits.set_index("model") if "model" in fits.columns else fits
    finite = df[depth].astype(float).dropna()
    xs = np.linspace(float(finite.min()), float(finite.max()), 50) if len(finite) else np.array([])
    for m in models:
        if m in fits.index and np.isfinite(fits.loc[m, "slope"]):
            f = fits.loc[m]
            ax.plot(xs, f["intercept"] + f["slope"] * xs, color=palette[m],
                    label=f"{m}: slope {f['slope']:.2f}, r {f['r']:.2f}, p {f['p']:.2g}")
    ax.set_xlabel("reconstruction depth (share of cells)" if depth == "depth_share"
                  else "reconstruction depth (cells)")
    ax.set_ylabel("robustness")
    ax.set_ylim(-0.05, 1.05)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


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
    import seaborn as sns

    _require(df, ["model", "depth_share", "random_depth_share_median"])
    keep = [c for c in ("model", "condition") if c in df.columns]
    long = df.melt(id_vars=keep, value_vars=["depth_share", "random_depth_share_median"],
                   var_name="order", value_name="depth (share of cells)")
    long["order"] = long["order"].map({"depth_share": "WCAM order",
                                       "random_depth_share_median": "random order (median)"})
    fig, ax = plt.subplots(figsize=(max(4.0, 1.6 * df["model"].nunique() + 2), 4.0))
    import warnings

    with warnings.catch_warnings():
        # seaborn 0.13 passes matplotlib 3.11's deprecated ``vert`` to bxp
        warnings.simplefilter("ignore", matplotlib.MatplotlibDeprecationWarning)
        sns.boxplot(data=long, x="model", y="depth (share of cells)", hue="order", ax=ax)
    ax.set_ylim(0, 1.02)
    ax.set_title("reconstruction depth (lower: fewer coefficients suffice)", fontsize=9)
    fig.tight_layout()
    return fig


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
    import seaborn as sns

    _require(df, ["model", "view", "level", "level_order", "contribution"])
    models = list(dict.fromkeys(df["model"]))
    # Coarsest first across views: J differs between views, so level_order does not.
    levels = sorted(df["level"].unique(), key=_level_key)
    fig, axes = plt.subplots(1, len(models), figsize=(3.6 * len(models), 3.6), squeeze=False,
                             sharey=True)
    for ax, m in zip(axes[0], models):
        sns.barplot(data=df[df["model"] == m], x="level", y="contribution", hue="view",
                    order=levels, errorbar=("ci", 95), ax=ax)
        ax.set_title(m, fontsize=9)
        ax.set_ylim(0, 1)
        ax.tick_params(axis="x", labelrotation=30)
    fig.tight_layout()
    return fig


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
    from .corruptions import CORRUPTIONS

    if "robustness" not in df.columns:
        _require(df, ["model", "corruption", "severity", "same_as_clean"])
        df = (df.groupby(["model", "corruption", "severity"], sort=False)["same_as_clean"]
              .mean().rename("robustness").reset_index())
    _require(df, ["model", "corruption", "severity", "robustness"])
    models = list(dict.fromkeys(df["model"]))
    present = set(df["corruption"])
    order = [c for c in CORRUPTIONS if c in present] + sorted(present - set(CORRUPTIONS))
    fig, axes = plt.subplots(1, len(models), figsize=(2.6 * len(models) + 1.5, 0.3 * len(order) + 1.6),
                             squeeze=False)
    for k, (ax, m) in enumerate(zip(axes[0], models)):
        grid = (df[df["model"] == m].pivot_table(index="corruption", columns="severity",
                                                 values="robustness", aggfunc="mean")
                .reindex(order))
        im = ax.imshow(grid.to_numpy(dtype=float), vmin=0, vmax=1, cmap="viridis", aspect="auto")
        ax.set_xticks(range(grid.shape[1]), [str(c) for c in grid.columns])
        ax.set_yticks(range(len(order)), order if k == 0 else [""] * len(order), fontsize=7)
        ax.set_xlabel("severity")
        ax.set_title(m, fontsize=9)
    fig.colorbar(im, ax=list(axes[0]), label="robustness", fraction=0.05)
    return fig


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
    import seaborn as sns

    metrics_ = ["mu_fidelity", "insertion_auc", "deletion_auc"]
    _require(df, ["model", "method"] + metrics_)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), squeeze=False)
    for ax, metric in zip(axes[0], metrics_):
        sns.barplot(data=df, x="model", y=metric, hue="method", errorbar=("ci", 95), ax=ax)
        ax.set_title({"mu_fidelity": "mu-fidelity (higher better)",
                      "insertion_auc": "insertion AUC (higher better)",
                      "deletion_auc": "deletion AUC (lower better)"}[metric], fontsize=9)
        ax.tick_params(axis="x", labelrotation=30)
    fig.tight_layout()
    return fig


def _level_key(level: str):
    """Sort key: approximation, then ``level_j`` by decreasing ``j`` (coarsest first)."""
    if level == "approximation":
        return (0, 0)
    try:
        return (1, -int(str(level).rsplit("_", 1)[-1]))
    except ValueError:
        return (2, str(level))


def _require(df: pd.DataFrame, columns) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"table lacks column(s) {missing}; it has {list(df.columns)}")
