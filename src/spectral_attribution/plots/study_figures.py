"""Figures of the study tables (never a model).

Inputs are the tables of :mod:`spectral_attribution.studies` (their columns
are listed in each function); every function returns a
:class:`matplotlib.figure.Figure`.
"""

from __future__ import annotations

import warnings

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .._common import require_columns
from ..corruptions import CORRUPTIONS, STANDARD_CORRUPTIONS, corruption_set_label
from ..metrics import depth_robustness_fit
from .common import level_key

__all__ = [
    "plot_depth_vs_robustness",
    "plot_depth_orders",
    "plot_zoom",
    "plot_robustness",
    "plot_faithfulness",
]


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

    require_columns(df, ["model", depth, robustness])
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
        vs random order, over the same images (never restored: the censored
        depth ``d + 1``, a share above 1).
    """
    import seaborn as sns

    require_columns(df, ["model", "depth_share", "random_depth_share_median"])
    keep = [c for c in ("model", "condition") if c in df.columns]
    long = df.melt(id_vars=keep, value_vars=["depth_share", "random_depth_share_median"],
                   var_name="order", value_name="depth (share of cells)")
    long["order"] = long["order"].map({"depth_share": "WCAM order",
                                       "random_depth_share_median": "random order (median)"})
    fig, ax = plt.subplots(figsize=(max(4.0, 1.6 * df["model"].nunique() + 2), 4.0))
    with warnings.catch_warnings():
        # seaborn 0.13 passes matplotlib 3.11's deprecated ``vert`` to bxp
        warnings.simplefilter("ignore", matplotlib.MatplotlibDeprecationWarning)
        sns.boxplot(data=long, x="model", y="depth (share of cells)", hue="order", ax=ax)
    top = float(np.nanmax(long["depth (share of cells)"].to_numpy(dtype=float), initial=1.0))
    ax.set_ylim(0, max(1.02, top * 1.02))
    ax.axhline(1.0, color="0.6", lw=0.8, ls=":")  # above: censored (never restored)
    ax.set_title("reconstruction depth (lower: fewer coefficients suffice; "
                 "above the line: never restored)", fontsize=9)
    fig.tight_layout()
    return fig


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
        Bars (mean over images, 95 % CI) of the contribution per level,
        coloured by view: per level when the views share ``J``; per
        physical scale (named by the first view's level) otherwise
        (:func:`spectral_attribution.studies.zoom.zoom_measure`).
    """
    import seaborn as sns

    require_columns(df, ["model", "view", "level", "level_order", "contribution"])
    models = list(dict.fromkeys(df["model"]))
    by_scale = "levels" in df and df["levels"].nunique() > 1
    if by_scale:
        require_columns(df, ["scale_level", "scale_contribution"])
        df = df[df["scale_contribution"].notna()]
        x, y = "scale_level", "scale_contribution"
    else:
        x, y = "level", "contribution"
    levels = sorted(df[x].unique(), key=level_key)  # coarsest first
    fig, axes = plt.subplots(1, len(models), figsize=(3.6 * len(models), 3.6), squeeze=False,
                             sharey=True)
    for ax, m in zip(axes[0], models):
        sns.barplot(data=df[df["model"] == m], x=x, y=y, hue="view",
                    order=levels, errorbar=("ci", 95), ax=ax)
        ax.set_title(m + (" (per physical scale)" if by_scale else ""), fontsize=9)
        if by_scale:
            ax.set_xlabel(f"scale (as the {df['view'].iloc[0]} view's level)")
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
        Heat maps corruption x severity of the robustness in ``[0, 1]``; the
        title names the corruption set
        (:func:`~spectral_attribution.corruptions.corruption_set_label`), and
        a line separates the standard corruptions from the extras.
    """
    if "robustness" not in df.columns:
        require_columns(df, ["model", "corruption", "severity", "same_as_clean"])
        df = (df.groupby(["model", "corruption", "severity"], sort=False)["same_as_clean"]
              .mean().rename("robustness").reset_index())
    require_columns(df, ["model", "corruption", "severity", "robustness"])
    models = list(dict.fromkeys(df["model"]))
    present = set(df["corruption"])
    order = [c for c in CORRUPTIONS if c in present] + sorted(present - set(CORRUPTIONS))
    nb_standard = sum(c in STANDARD_CORRUPTIONS for c in order)
    known = [c for c in order if c in CORRUPTIONS]
    label = corruption_set_label(known) if known else "unknown corruptions"
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
        if 0 < nb_standard < len(order):  # standard above, extras below
            ax.axhline(nb_standard - 0.5, color="white", lw=2)
    fig.suptitle(f"corruptions: {label}", fontsize=9)
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
    require_columns(df, ["model", "method"] + metrics_)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), squeeze=False)
    for ax, metric in zip(axes[0], metrics_):
        sns.barplot(data=df, x="model", y=metric, hue="method", errorbar=("ci", 95), ax=ax)
        ax.set_title({"mu_fidelity": "mu-fidelity (higher better)",
                      "insertion_auc": "insertion AUC (higher better)",
                      "deletion_auc": "deletion AUC (lower better)"}[metric], fontsize=9)
        ax.tick_params(axis="x", labelrotation=30)
    fig.tight_layout()
    return fig
