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
    "plot_methods",
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


def plot_methods(df: pd.DataFrame):
    """WAM against WCAM (:func:`studies.compare_methods`): agreement, scale, faithfulness, cost.

    Parameters
    ----------
    df:
        :func:`studies.compare_methods` table (all models pooled; one colour
        per method, WCAM first).

    Returns
    -------
    matplotlib.figure.Figure
        Four panels: (a) Spearman rank correlation of each method's pooled
        map with the WCAM, over all cells and over detail cells (one point
        per image); (b) share of the map's mass per wavelet level (mean over
        images); (c) mu-fidelity, insertion and deletion AUC (bars: mean
        over images, whiskers: standard deviation); (d) median wall time per
        image (log scale), annotated with the forward / backward passes.
    """
    require_columns(df, ["method", "spearman", "spearman_details", "mu_fidelity",
                         "insertion_auc", "deletion_auc", "wall_time_s", "nb_forward",
                         "nb_backward", "image_id"], "methods table")
    methods = list(dict.fromkeys(df["method"]))
    colours = dict(zip(methods, plt.get_cmap("tab10").colors))
    n_images = df["image_id"].nunique()
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.6))
    width = 0.8 / max(len(methods), 1)

    # (a) agreement with the WCAM, per image
    ax = axes[0]
    others = [m for m in methods if m != "wcam"]
    for k, column in enumerate(("spearman", "spearman_details")):
        for j, method in enumerate(others):
            values = df.loc[df["method"] == method, column].astype(float).dropna()
            x = k + (j - (len(others) - 1) / 2) * 0.8 / max(len(others), 1)
            ax.scatter(np.full(len(values), x), values, color=colours[method], s=14, alpha=0.7,
                       label=method if k == 0 else None)
            if len(values):
                ax.hlines(values.mean(), x - 0.12, x + 0.12, color="black", linewidth=1.5)
    ax.axhline(0, color="grey", linewidth=0.6)
    ax.set_xticks([0, 1], ["all cells", "detail cells"])
    ax.set_ylim(-1, 1)
    ax.set_ylabel("Spearman ρ with the WCAM")
    ax.set_title("(a) rank agreement of pooled maps\n(points: images, bars: mean)", fontsize=9)
    if others:
        ax.legend(fontsize=7, loc="lower left")

    # (b) share of the mass per level
    ax = axes[1]
    levels = sorted([c[len("share_"):] for c in df.columns if c.startswith("share_")], key=level_key)
    for j, method in enumerate(methods):
        part = df[df["method"] == method]
        means = [float(part[f"share_{lvl}"].astype(float).mean()) for lvl in levels]
        ax.bar(np.arange(len(levels)) + (j - (len(methods) - 1) / 2) * width, means, width,
               color=colours[method], label=method)
    ax.set_xticks(np.arange(len(levels)),
                  [lvl.replace("level_", "level ") for lvl in levels], fontsize=8)
    ax.set_ylabel("share of the map's mass")
    ax.set_title("(b) where in scale (mean over images)", fontsize=9)
    ax.legend(fontsize=7)

    # (c) faithfulness
    ax = axes[2]
    names = {"mu_fidelity": "μ-fidelity ↑", "insertion_auc": "insertion ↑", "deletion_auc": "deletion ↓"}
    for j, method in enumerate(methods):
        part = df[df["method"] == method]
        means = [float(part[c].astype(float).mean()) for c in names]
        stds = [float(part[c].astype(float).std()) if len(part) > 1 else 0.0 for c in names]
        ax.bar(np.arange(len(names)) + (j - (len(methods) - 1) / 2) * width, means, width,
               yerr=stds, capsize=2, color=colours[method], label=method)
    ax.set_xticks(np.arange(len(names)), list(names.values()), fontsize=8)
    ax.axhline(0, color="grey", linewidth=0.6)
    ax.set_title("(c) faithfulness of the cell ranking\n(mean ± std over images)", fontsize=9)
    ax.legend(fontsize=7)

    # (d) cost
    ax = axes[3]
    medians = [float(df.loc[df["method"] == m, "wall_time_s"].astype(float).median()) for m in methods]
    ax.bar(np.arange(len(methods)), [v if np.isfinite(v) else 0 for v in medians],
           color=[colours[m] for m in methods])
    for j, method in enumerate(methods):
        part = df[df["method"] == method]
        fwd, bwd = int(part["nb_forward"].median()), int(part["nb_backward"].median())
        label = f"{fwd} fwd" + (f"\n+ {bwd} bwd" if bwd else "")
        y = medians[j] if np.isfinite(medians[j]) and medians[j] > 0 else 1.0
        ax.text(j, y, label, ha="center", va="bottom", fontsize=7)
    if all(np.isfinite(v) and v > 0 for v in medians):
        ax.set_yscale("log")
    ax.set_xticks(np.arange(len(methods)), methods, rotation=20, fontsize=8)
    ax.set_ylabel("wall time per image (s, median)")
    ax.set_title("(d) cost per image", fontsize=9)
    fig.suptitle(f"WAM against WCAM on the same grid and class ({n_images} images)", fontsize=10)
    fig.tight_layout()
    return fig
