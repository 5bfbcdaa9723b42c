"""Figures of the reconstruction-depth study (never a model).

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
from spectral_attribution.metrics import depth_robustness_fit
from spectral_attribution.plots.style import (
    ERRORBARS,
    count_note,
    figure_legend,
    finish,
    label,
    new_figure,
    spread_overlaps,
    styled,
    value_label,
)

__all__ = [
    "plot_depth_vs_robustness",
    "plot_depth_orders",
]


#: Spacing of coinciding points, as a share of the axis span (about one marker).
_SPREAD = 0.025


def _colours(names) -> dict:
    """Name → one of matplotlib's default cycle colours, in order of appearance."""
    return {n: f"C{i % 10}" for i, n in enumerate(dict.fromkeys(names))}


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
