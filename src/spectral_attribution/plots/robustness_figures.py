"""Figures of the robustness and zoom studies (never a model).

Inputs are the tables of :mod:`spectral_attribution.studies` (their columns
are listed in each function); every function returns a
:class:`matplotlib.figure.Figure` drawn in the style of
:mod:`spectral_attribution.plots.style`: labels in words with units, the
number of images and what the error bars are in the footnote, one legend
outside the panels, every point visible.
"""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from spectral_attribution._utils.tables import require_columns
from spectral_attribution.data.corruptions import (
    CORRUPTIONS,
    STANDARD_CORRUPTIONS,
    corruption_set_label,
)
from spectral_attribution.plots.common import images_per, level_key
from spectral_attribution.plots.style import (
    ERRORBARS,
    MAP_CMAP,
    count_note,
    figure_legend,
    finish,
    label,
    level_label,
    new_figure,
    styled,
    value_label,
)

__all__ = [
    "plot_zoom",
    "plot_robustness",
]


@styled
def plot_zoom(df: pd.DataFrame):
    """Level contributions, regular vs zoomed view, one panel per model.

    Parameters
    ----------
    df:
        :func:`studies.zoom_study` table (columns ``model, image_id, view,
        level, level_order, contribution``; with views of different ``J``,
        ``levels, scale_level, scale_contribution``).

    Returns
    -------
    matplotlib.figure.Figure
        Bars (mean over images, 95 % bootstrap CI, seed 0) of the
        contribution per level, coloured by view; levels coarsest first,
        named in words ("approximation", "detail level 4", ...). Per physical scale
        when the views' ``J`` differ (the scale named by the first view's
        level; :func:`spectral_attribution.studies.zoom.zoom_measure`).
    """
    import seaborn as sns

    require_columns(df, ["model", "view", "level", "level_order", "contribution"])
    models = list(dict.fromkeys(df["model"]))
    views = list(dict.fromkeys(df["view"]))
    by_scale = "levels" in df and df["levels"].nunique() > 1
    if by_scale:  # J differs: compare the same frequency band of the original image
        require_columns(df, ["scale_level", "scale_contribution"])
        df = df[df["scale_contribution"].notna()]
        x, y = "scale_level", "scale_contribution"
    else:
        x, y = "level", "contribution"
    levels = sorted(df[x].unique(), key=level_key)  # coarsest first
    data = df.assign(_level=df[x].map(level_label),
                     _view=df["view"].map(lambda v: value_label("view", v)))
    palette = {value_label("view", v): f"C{i}" for i, v in enumerate(views)}
    fig, axes = new_figure(1, len(models), figsize=(3.8 * len(models) + 1.6, 3.8), sharey=True)
    for ax, m in zip(axes[0], models):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", matplotlib.MatplotlibDeprecationWarning)
            sns.barplot(data=data[data["model"] == m], x="_level", y=y, hue="_view",
                        order=[level_label(lv) for lv in levels], hue_order=list(palette),
                        palette=palette, errorbar=("ci", 95), seed=0, legend=False, ax=ax)
        ax.set_title(m + (" (per physical scale)" if by_scale else ""))
        ax.set_ylim(0, 1)
        ax.set_xlabel(label("level"))
        ax.set_ylabel("")
        ax.tick_params(axis="x", labelrotation=30)
    axes[0, 0].set_ylabel(label("contribution"))
    figure_legend(fig, [Patch(facecolor=c) for c in palette.values()], list(palette),
                  title=label("view"))
    return finish(fig, "Level contributions in the regular and the zoomed view",
                  count_note(images_per(df)),
                  [ERRORBARS["ci95"], "contributions of one image and view sum to 1",
                   "detail level 1: finest"])


@styled
def plot_robustness(df: pd.DataFrame):
    """Robustness per corruption and severity, one panel per model.

    Parameters
    ----------
    df:
        :func:`studies.corruption_baseline` table (columns ``model,
        corruption, severity, same_as_clean``; optional ``image_id``) or
        :func:`studies.robustness_per_corruption` (``robustness`` instead of
        ``same_as_clean``, and ``nb_images``).

    Returns
    -------
    matplotlib.figure.Figure
        Heat maps corruption x severity of the robustness in ``[0, 1]``
        (viridis, one colour bar), each cell's value written in it. The title names
        the corruption set (:func:`~spectral_attribution.data.corruptions.corruption_set_label`),
        and a line separates the standard corruptions from the extras.
    """
    if "robustness" not in df.columns:
        require_columns(df, ["model", "corruption", "severity", "same_as_clean"])
        counts = images_per(df) if "image_id" in df.columns else \
            df.groupby(["model", "corruption", "severity"], sort=False).size().groupby("model").max().to_dict()
        df = (df.groupby(["model", "corruption", "severity"], sort=False)["same_as_clean"]
              .mean().rename("robustness").reset_index())
    else:
        counts = (df.groupby("model", sort=False)["nb_images"].max().astype(int).to_dict()
                  if "nb_images" in df.columns else None)
    require_columns(df, ["model", "corruption", "severity", "robustness"])
    models = list(dict.fromkeys(df["model"]))
    present = set(df["corruption"])
    order = [c for c in CORRUPTIONS if c in present] + sorted(present - set(CORRUPTIONS))
    nb_standard = sum(c in STANDARD_CORRUPTIONS for c in order)
    known = [c for c in order if c in CORRUPTIONS]
    set_label = corruption_set_label(known) if known else "unknown corruptions"
    fig, axes = new_figure(1, len(models), figsize=(2.8 * len(models) + 2.6, 0.32 * len(order) + 2.0))
    im = None
    for k, (ax, m) in enumerate(zip(axes[0], models)):
        grid = (df[df["model"] == m].pivot_table(index="corruption", columns="severity",
                                                 values="robustness", aggfunc="mean")
                .reindex(order))
        values = grid.to_numpy(dtype=float)
        im = ax.imshow(values, vmin=0, vmax=1, cmap=MAP_CMAP, aspect="auto")
        for (r, c), v in np.ndenumerate(values):
            if np.isfinite(v):
                ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=6.5,
                        color="black" if v > 0.6 else "white")
        ax.set_xticks(range(grid.shape[1]), [str(c) for c in grid.columns])
        ax.set_yticks(range(len(order)),
                      [value_label("corruption", c) for c in order] if k == 0 else [""] * len(order))
        ax.set_xlabel(label("severity"))
        ax.set_title(m)
        for spine in ax.spines.values():
            spine.set_visible(False)
        if 0 < nb_standard < len(order):  # standard above, extras below
            ax.axhline(nb_standard - 0.5, color="white", lw=2)
    fig.colorbar(im, ax=list(axes[0]), label="robustness (share of images keeping\ntheir clean prediction)",
                 shrink=0.9)
    n = count_note(counts) if counts else None
    notes = ["cells: share of images whose corrupted copy keeps the clean prediction"]
    if 0 < nb_standard < len(order):
        notes.append("white line: the 15 standard corruptions above, the extra ones below")
    return finish(fig, f"Robustness to ImageNet-C corruptions ({set_label})", n, notes)
