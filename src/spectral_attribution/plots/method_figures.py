"""Figures of the faithfulness study and the methods comparison (never a model).

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
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from spectral_attribution._utils.tables import require_columns
from spectral_attribution.plots.common import images_per, level_key
from spectral_attribution.plots.style import (
    ERRORBARS,
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
    "plot_faithfulness",
    "plot_methods",
]


#: Metrics of :func:`plot_faithfulness`, in panel order, and what their axis measures.
_FAITHFULNESS = ("mu_fidelity", "insertion_auc", "deletion_auc")
_FAITHFULNESS_UNITS = {
    "mu_fidelity": "Spearman correlation (-1 to 1)",
    "insertion_auc": "area under the target's score curve",
    "deletion_auc": "area under the target's score curve",
}


@styled
def plot_faithfulness(df: pd.DataFrame):
    """mu-fidelity, insertion and deletion per model and method (WCAM vs spatial Sobol').

    Parameters
    ----------
    df:
        :func:`studies.faithfulness` table (one row per image and method).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per metric, bars (mean over images, 95 % bootstrap CI,
        seed 0) per model coloured by method; one legend for the figure.
    """
    import seaborn as sns

    require_columns(df, ["model", "method", *_FAITHFULNESS])
    methods = list(dict.fromkeys(df["method"]))
    data = df.assign(_method=df["method"].map(lambda v: value_label("method", v)))
    palette = {value_label("method", v): f"C{i}" for i, v in enumerate(methods)}
    models = list(dict.fromkeys(df["model"]))
    fig, axes = new_figure(1, 3, figsize=(3.4 * 3 + 1.8, 3.8))
    for ax, metric in zip(axes[0], _FAITHFULNESS):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", matplotlib.MatplotlibDeprecationWarning)
            sns.barplot(data=data, x="model", y=metric, hue="_method", order=models,
                        hue_order=list(palette), palette=palette, errorbar=("ci", 95), seed=0,
                        legend=False, ax=ax)
        ax.set_title(label(metric))
        ax.set_ylabel(_FAITHFULNESS_UNITS[metric])
        ax.set_xlabel(label("model"))
        ax.tick_params(axis="x", labelrotation=30)
    figure_legend(fig, [Patch(facecolor=c) for c in palette.values()], list(palette),
                  title=label("method"))
    return finish(fig, "Faithfulness of the WCAM and of the spatial Sobol' map",
                  count_note(images_per(df)), [ERRORBARS["ci95"]])


def _mean_ci(values) -> tuple[float, float, float]:
    """Mean of ``values`` (NaN left out) and its 95 % seeded percentile bootstrap CI."""
    from spectral_attribution.studies.stats import bootstrap_ci

    e = bootstrap_ci(pd.Series(values).astype(float), "mean", seed=0)
    return e.estimate, e.low, e.high


def _ci_bars(ax, x, values, width, colour):
    """Bars of the means with their 95 % CI as error bars (a NaN mean draws nothing)."""
    stats = np.array([_mean_ci(v) for v in values], dtype=float).reshape(-1, 3)
    means = stats[:, 0]
    err = np.vstack([means - stats[:, 1], stats[:, 2] - means])
    ok = np.isfinite(means)
    ax.bar(np.asarray(x)[ok], means[ok], width, yerr=np.nan_to_num(err[:, ok]), capsize=2,
           color=colour, ecolor="black")


@styled
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
        map with the WCAM, over all cells and over detail cells (points:
        images; bars: mean); (b) share of the map's mass per wavelet level
        and (c) mu-fidelity, insertion and deletion AUC (bars: mean over
        images with its 95 % seeded bootstrap CI); (d) median wall time per
        image (log scale when every time is positive), annotated with the
        forward / backward passes. One legend for the figure, outside the
        panels; the footnote gives n and what the error bars are.
    """
    require_columns(df, ["method", "spearman", "spearman_details", "mu_fidelity",
                         "insertion_auc", "deletion_auc", "wall_time_s", "nb_forward",
                         "nb_backward", "image_id"], "methods table")
    methods = list(dict.fromkeys(df["method"]))
    colours = {m: f"C{i}" for i, m in enumerate(methods)}
    names = {m: value_label("method", m) for m in methods}
    n_images = df["image_id"].nunique()
    fig, axes = new_figure(1, 4, figsize=(14.5, 3.8))
    axes = axes[0]
    width = 0.8 / max(len(methods), 1)

    def offset(j: int, count: int) -> float:
        return (j - (count - 1) / 2) * 0.8 / max(count, 1)

    # (a) agreement with the WCAM, per image
    ax = axes[0]
    others = [m for m in methods if m != "wcam"]
    for k, column in enumerate(("spearman", "spearman_details")):
        for j, method in enumerate(others):
            values = df.loc[df["method"] == method, column].astype(float).dropna()
            x = k + offset(j, len(others))
            ax.scatter(np.full(len(values), x), values, color=colours[method], s=16, alpha=0.7,
                       edgecolors="black", linewidths=0.4)
            if len(values):
                ax.hlines(values.mean(), x - 0.12, x + 0.12, color="black", linewidth=1.5)
    ax.axhline(0, color="0.6", linewidth=0.6)
    ax.set_xticks([0, 1], ["all cells", "detail cells"])
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel("Spearman rho with the WCAM")
    ax.set_title("(a) rank agreement with the WCAM\n(points: images; bars: mean)")

    # (b) share of the mass per level
    ax = axes[1]
    levels = sorted([c[len("share_"):] for c in df.columns if c.startswith("share_")], key=level_key)
    for j, method in enumerate(methods):
        part = df[df["method"] == method]
        _ci_bars(ax, np.arange(len(levels)) + offset(j, len(methods)),
                 [part[f"share_{lvl}"] for lvl in levels], width, colours[method])
    ax.set_xticks(np.arange(len(levels)), [level_label(lvl) for lvl in levels], rotation=30)
    ax.set_ylabel("share of the map's mass")
    ax.set_title("(b) mass per wavelet level")

    # (c) faithfulness
    ax = axes[2]
    metrics = ("mu_fidelity", "insertion_auc", "deletion_auc")
    for j, method in enumerate(methods):
        part = df[df["method"] == method]
        _ci_bars(ax, np.arange(len(metrics)) + offset(j, len(methods)),
                 [part[c] for c in metrics], width, colours[method])
    ax.set_xticks(np.arange(len(metrics)), ["mu-fidelity", "insertion AUC", "deletion AUC"])
    ax.axhline(0, color="0.6", linewidth=0.6)
    ax.set_ylabel("score (deletion AUC: lower is better)")
    ax.set_title("(c) faithfulness of the cell ranking")

    # (d) cost
    ax = axes[3]
    medians = [float(df.loc[df["method"] == m, "wall_time_s"].astype(float).median()) for m in methods]
    ax.bar(np.arange(len(methods)), [v if np.isfinite(v) else 0 for v in medians],
           color=[colours[m] for m in methods])
    for j, method in enumerate(methods):
        part = df[df["method"] == method]
        fwd, bwd = int(part["nb_forward"].median()), int(part["nb_backward"].median())
        text = f"{fwd} forward" + (f"\n+ {bwd} backward" if bwd else "")
        y = medians[j] if np.isfinite(medians[j]) and medians[j] > 0 else 1.0
        ax.text(j, y, text, ha="center", va="bottom", fontsize=7)
    if all(np.isfinite(v) and v > 0 for v in medians):
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.set_xticks(np.arange(len(methods)), [names[m] for m in methods], rotation=30)
    ax.set_ylabel("time per image (s, median)")
    ax.set_title("(d) cost per image")
    figure_legend(fig, [Patch(facecolor=colours[m]) for m in methods], [names[m] for m in methods],
                  title=label("method"))
    return finish(fig, "WAM against WCAM on the same images, grid and class",
                  count_note(n_images), [ERRORBARS["ci95"] + " (panels b, c)",
                                         "times measured on the run's machine"])
