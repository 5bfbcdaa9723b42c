"""Figures of the study tables (never a model).

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
from spectral_attribution.data.corruptions import CORRUPTIONS, STANDARD_CORRUPTIONS, corruption_set_label
from spectral_attribution.metrics import depth_robustness_fit
from spectral_attribution.plots.common import level_key
from spectral_attribution.plots.style import (
    ERRORBARS,
    MAP_CMAP,
    count_note,
    figure_legend,
    finish,
    label,
    level_label,
    new_figure,
    spread_overlaps,
    styled,
    value_label,
)

__all__ = [
    "plot_depth_vs_robustness",
    "plot_depth_orders",
    "plot_zoom",
    "plot_robustness",
    "plot_faithfulness",
    "plot_methods",
]

#: Spacing of coinciding points, as a share of the axis span (about one marker).
_SPREAD = 0.025


def _colours(names) -> dict:
    """Name → one of matplotlib's default cycle colours, in order of appearance."""
    return {n: f"C{i % 10}" for i, n in enumerate(dict.fromkeys(names))}


def _images_per(df: pd.DataFrame, by: str = "model") -> dict:
    """Distinct images per group (``image_id`` when present, else rows)."""
    if "image_id" in df.columns:
        return df.groupby(by, sort=False)["image_id"].nunique().to_dict()
    return df.groupby(by, sort=False).size().to_dict()


def _span(values, pad_share: float = 0.06, minimum: float = 0.02, floor: float | None = 0.0):
    """Axis limits around ``values`` with a margin (at least ``minimum``), not below ``floor``."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return (0.0, 1.0)
    lo, hi = float(v.min()), float(v.max())
    pad = max(pad_share * (hi - lo), minimum)
    lo = lo - pad if floor is None else max(floor, lo - pad)
    return (lo, hi + pad)


@styled
def plot_depth_vs_robustness(df: pd.DataFrame, fits: pd.DataFrame | None = None,
                             depth: str = "depth_share", robustness: str = "robustness"):
    """Reconstruction depth against robustness, one colour and one linear fit per model.

    Every image is one point, semi-transparent with a dark edge; points that
    coincide are spread horizontally by :data:`_SPREAD` of the axis
    (:func:`~spectral_attribution.plots.style.spread_overlaps`, said in the
    footnote), so all ``n`` points show. Fits use the unmoved values.

    Parameters
    ----------
    df:
        Columns ``model``, ``depth`` (default ``depth_share``) and
        ``robustness`` (e.g. :func:`studies.sufficient_reconstruction` merged
        with :func:`studies.robustness_per_image` on ``model, image_id``).
        Images whose depth is NaN (prediction never restored) are counted in
        the footnote, not drawn.
    fits:
        Optional :func:`spectral_attribution.metrics.depth_robustness_fit`
        output (columns ``model, slope, intercept, r, p``); computed when
        ``None``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    require_columns(df, ["model", depth, robustness])
    if fits is None:
        fits = depth_robustness_fit(df, x=depth, y=robustness)
    fig, axes = new_figure(1, 1, figsize=(6.4, 4.2))
    ax = axes[0, 0]
    models = list(dict.fromkeys(df["model"]))
    colours = _colours(models)
    x = df[depth].astype(float).to_numpy()
    y = df[robustness].astype(float).to_numpy()
    shown = np.isfinite(x) & np.isfinite(y)
    xlim, ylim = _span(x[shown]), (-0.05, 1.05)
    xs = spread_overlaps(x, y, xlim, ylim, step=_SPREAD)
    moved = bool(np.any(np.abs(xs[shown] - x[shown]) > 0))
    xlim = _span(np.concatenate([xs[shown], x[shown]]))
    handles, names = [], []
    for m in models:
        sel = shown & (df["model"] == m).to_numpy()
        handles.append(ax.scatter(xs[sel], y[sel], s=38, color=colours[m], alpha=0.7,
                                  edgecolors="0.15", linewidths=0.7, zorder=3))
        names.append(m)
    fits = fits.set_index("model") if "model" in fits.columns else fits
    line_x = np.linspace(*xlim, 50)
    for m in models:
        if m in fits.index and np.isfinite(fits.loc[m, "slope"]):
            f = fits.loc[m]
            (line,) = ax.plot(line_x, f["intercept"] + f["slope"] * line_x, color=colours[m], lw=1.2)
            handles.append(line)
            names.append(f"{m}, fit:\nslope {f['slope']:.2f}, r {f['r']:.2f}, p {f['p']:.2g}")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel(label(depth))
    ax.set_ylabel(label(robustness))
    ax.set_title("clean images: one point per image")
    figure_legend(fig, handles, names, title=label("model"))
    missing = int((~shown).sum())
    notes = ["lines: least-squares fits"]
    if moved:
        notes.append(f"coinciding points spread horizontally, {_SPREAD:g} of the axis apart")
    if missing:
        notes.append(f"{missing} image(s) whose prediction was never restored not shown")
    counts = {m: int((shown & (df["model"] == m).to_numpy()).sum()) for m in models}
    return finish(fig, "Reconstruction depth against robustness", count_note(counts), notes)


#: The two orders of :func:`plot_depth_orders`: column → name in words.
_ORDERS = {"depth_share": "WCAM order",
           "random_depth_share_median": "random orders (median over draws)"}


@styled
def plot_depth_orders(df: pd.DataFrame):
    """Reconstruction depth with the WCAM order vs random orders, per model and condition.

    Clean images and corrupted copies are drawn in separate panels (their
    depths differ; pooling them would show a median that neither has): each
    box's median is the ``depth_share_median`` / ``random_depth_share_median``
    of :func:`studies.reconstruction_summary` for that model and condition,
    written above the box. Every image is a point over its box. Images whose
    prediction is never restored are treated as the table treats them: a
    NaN depth is left out (and counted in the footnote); a depth censored
    beyond the grid (share > 1) is kept, drawn hollow above a dotted line.

    Parameters
    ----------
    df:
        :func:`studies.sufficient_reconstruction` table (columns ``model,
        depth_share, random_depth_share_median``; optional ``condition``,
        else one panel "all images").

    Returns
    -------
    matplotlib.figure.Figure
        One panel per condition (clean first); per model two boxes, WCAM
        order and random orders. The median lines carry the gid
        ``"median|<model>|<condition>|<column>"``. Both orders are summarised over the same images: an
        image never restored gets the censored depth ``d + 1`` (a share above
        1, drawn hollow above the dotted line).
    """
    require_columns(df, ["model", "depth_share", "random_depth_share_median"])
    df = df.copy()
    if "condition" not in df.columns:
        df["condition"] = "all"
    present = list(dict.fromkeys(df["condition"]))
    conditions = [c for c in ("clean", "corrupted") if c in present] + \
        [c for c in present if c not in ("clean", "corrupted")]
    models = list(dict.fromkeys(df["model"]))
    colours = dict(zip(_ORDERS, ("C0", "C1")))
    width = max(3.2, 1.3 * len(models) + 1.2)
    fig, axes = new_figure(1, len(conditions), figsize=(width * len(conditions) + 1.8, 4.2),
                           sharey=True)
    every = df[list(_ORDERS)].to_numpy(dtype=float)
    top = max(1.0, float(np.nanmax(every, initial=1.0)))
    ylim = (0.0, top + 0.12)
    missing, censored = 0, False
    for ax, cond in zip(axes[0], conditions):
        part = df[df["condition"] == cond]
        for i, m in enumerate(models):
            rows = part[part["model"] == m]
            for j, (column, _) in enumerate(_ORDERS.items()):
                values = rows[column].astype(float).to_numpy()
                keep = np.isfinite(values)
                finite = values[keep]
                missing += len(values) - len(finite)
                pos = i + (j - 0.5) * 0.4
                if not len(finite):
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", matplotlib.MatplotlibDeprecationWarning)
                    box = ax.boxplot([finite], positions=[pos], widths=0.32, patch_artist=True,
                                     showfliers=False, manage_ticks=False)
                box["boxes"][0].set(facecolor=colours[column], alpha=0.35, edgecolor=colours[column])
                median = box["medians"][0]
                median.set(color="0.1", linewidth=1.6)
                median.set_gid(f"median|{m}|{cond}|{column}")
                med = float(np.median(finite))
                ax.text(pos, ylim[1] - 0.01, f"{med:.2f}", ha="center", va="top", fontsize=7)
                px = spread_overlaps(np.full(len(finite), pos), finite, (-0.6, len(models) - 0.4),
                                     ylim, step=0.03)
                # A depth above the whole grid (share > 1) is censored: never restored.
                over = finite > 1.0
                censored |= bool(over.any())
                ax.scatter(px[~over], finite[~over], s=16, color=colours[column], alpha=0.8,
                           edgecolors="0.15", linewidths=0.5, zorder=3)
                ax.scatter(px[over], finite[over], s=16, facecolors="none",
                           edgecolors=colours[column], linewidths=1.0, zorder=3)
        if top > 1.0:
            ax.axhline(1.0, color="0.6", lw=0.8, ls=":")
        ax.set_xticks(range(len(models)), models)
        ax.set_xlim(-0.6, len(models) - 0.4)
        ax.set_ylim(*ylim)
        ax.set_xlabel(label("model"))
        n_images = part.groupby("model")["depth_share"].size()
        ax.set_title(f"{value_label('condition', cond)} "
                     f"({count_note(n_images.to_dict(), 'images' if cond != 'corrupted' else 'copies')})")
    axes[0, 0].set_ylabel(label("depth_share"))
    handles = [Patch(facecolor=c, alpha=0.5, edgecolor=c) for c in colours.values()]
    figure_legend(fig, handles, list(_ORDERS.values()), title=label("order"))
    notes = [ERRORBARS["box"], "numbers: medians", "lower: fewer cells suffice"]
    if censored:
        notes.append("hollow points above the dotted line: never restored (depth censored "
                     "beyond the grid, counted in the boxes)")
    if missing:
        notes.append(f"{missing} value(s) never restored left out")
    per_condition = []
    for c in conditions:
        sizes = set(df[df["condition"] == c].groupby("model").size())
        what = value_label("condition", c) if c in ("clean", "corrupted") else "images"
        per_condition.append(f"{sizes.pop()} {what}" if len(sizes) == 1 else
                             f"{min(sizes)}-{max(sizes)} {what}")
    n = "n = " + " and ".join(per_condition) + (" per classifier" if len(models) > 1 else "")
    return finish(fig, "Reconstruction depth: WCAM order against random orders", n, notes)


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
                  count_note(_images_per(df)),
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
        counts = _images_per(df) if "image_id" in df.columns else \
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
                  count_note(_images_per(df)), [ERRORBARS["ci95"]])



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
