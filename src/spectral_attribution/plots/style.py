"""The figures' style guide, and the helpers that apply it.

Every figure of :mod:`spectral_attribution.plots` follows these rules, so a
reviewer can read it without the code:

1. **Labels in words, with units.** Axis labels, tick labels, legend entries
   and panel titles never show a raw column name (``level_4``,
   ``depth_share_median``): :func:`label` and :func:`value_label` map
   columns and values to words with their unit (shares are in [0, 1]), from
   the one dictionary :mod:`spectral_attribution.studies.labels` that the
   table headers use too.
2. **The number of images.** Every figure says how many images it shows or
   summarises (``n = 6 images per classifier``) in its footnote
   (:func:`finish`).
3. **Error bars are named.** A figure with error bars says what they are in
   its footnote: :data:`ERRORBARS` (``"95 % bootstrap CI of the mean"`` for
   bars drawn from per-image values, ``"± 1 SD"`` where only a spread is
   known). CIs are preferred wherever the data allow them; box plots say
   what the box and whiskers are.
4. **One legend per figure, outside the data.** Legends are drawn once, for
   the whole figure, outside every panel (:func:`figure_legend`), never on
   each panel and never over bars, whiskers or points.
5. **Perceptually uniform colour maps.** Maps (WCAMs, spatial WCAMs,
   heat maps) use :data:`MAP_CMAP` (viridis); never ``jet``.
6. **Shared colour scales.** Panels that are compared (a gallery's WCAMs
   across classifiers and corruptions, any grid of maps) share one scale
   from 0 (:func:`shared_norm`) and one labelled colour bar
   (:data:`INDEX_LABEL`): a map 100 times smaller looks 100 times darker. A
   map whose range is negligible on that scale (below :data:`FLAT_FRACTION`
   of it) is drawn flat at its mean, with its range written on the panel
   (:func:`draw_map`), instead of being stretched into false contrast.
7. **Every point visible.** Points that coincide are spread apart
   (:func:`spread_overlaps`; the footnote says so) and drawn semi-transparent
   with an edge, so all ``n`` points can be counted.
8. **Panel titles.** Every panel has a title (classifier, metric, images).

:func:`style` is the matplotlib ``rcParams`` context of the figures
(:func:`styled` decorates a drawing function with it); :func:`new_figure`
makes a figure with constrained layout, which keeps the outside legend,
colour bars and footnote clear of the panels.
"""

from __future__ import annotations

import contextlib
import functools
import textwrap
from typing import Iterable, Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from spectral_attribution.studies.labels import label, level_label, short_label, value_label

__all__ = [
    "MAP_CMAP",
    "INDEX_LABEL",
    "SPATIAL_LABEL",
    "FLAT_FRACTION",
    "ERRORBARS",
    "RC",
    "style",
    "styled",
    "new_figure",
    "label",
    "short_label",
    "value_label",
    "level_label",
    "count_note",
    "finish",
    "figure_legend",
    "spread_overlaps",
    "shared_norm",
    "is_negligible",
    "draw_map",
    "add_colorbar",
]

#: Colour map of every map and heat map (perceptually uniform).
MAP_CMAP = "viridis"
#: Colour bar label of WCAMs (the dyadic layout).
INDEX_LABEL = "Sobol' total index"
#: Colour bar label of spatial WCAMs (the layout's indices summed over sub-bands).
SPATIAL_LABEL = "Sobol' total index, summed over sub-bands"
#: A map whose range (max - min) is at most this share of the shared colour
#: scale is drawn flat: 0.5 % of the scale spans about one of viridis' 256
#: colours, a difference the eye cannot see.
FLAT_FRACTION = 0.005
#: What error bars are, as the footnotes say it.
ERRORBARS: dict[str, str] = {
    "ci95": "error bars: 95 % bootstrap CI of the mean over images",
    "sd": "error bars: mean ± 1 SD over images",
    "box": "boxes: quartiles and median; whiskers: 1.5 IQR; points: images",
}

#: rcParams of the figures.
RC: dict = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.title_fontsize": 8,
    "legend.frameon": False,
    "figure.titlesize": 10,
    "image.cmap": MAP_CMAP,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "savefig.dpi": 150,
}


@contextlib.contextmanager
def style():
    """Context in which figures are drawn with :data:`RC`."""
    with mpl.rc_context(RC):
        yield


def styled(draw):
    """Decorator: run a drawing function inside :func:`style`."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        with style():
            return draw(*args, **kwargs)

    return wrapper


def new_figure(nrows: int = 1, ncols: int = 1, figsize=None, **kwargs):
    """``plt.subplots`` with constrained layout and ``squeeze=False``: ``(fig, axes 2-D)``."""
    return plt.subplots(nrows, ncols, figsize=figsize, layout="constrained", squeeze=False,
                        **kwargs)


def count_note(counts, what: str = "images", per: str = "classifier") -> str:
    """``"n = 6 images"``, ``"n = 6 images per classifier"`` or ``"n = 6 (a), 5 (b) images"``.

    ``counts`` is an int, or a mapping group → int (one per ``per``).
    """
    if isinstance(counts, Mapping):
        values = [int(v) for v in counts.values()]
        if not values:
            return f"n = 0 {what}"
        if len(set(values)) == 1:
            return f"n = {values[0]} {what}" + (f" per {per}" if len(values) > 1 else "")
        return "n = " + ", ".join(f"{int(v)} ({k})" for k, v in counts.items()) + f" {what}"
    return f"n = {int(counts)} {what}"


def finish(fig, title: str | None = None, n: str | None = None, notes: Iterable[str] = ()):
    """Title the figure and write its footnote: ``n`` first, then ``notes`` (error bars, jitter).

    The footnote is the figure's ``supxlabel`` (small, left-aligned), so the
    constrained layout keeps it clear of the panels. Returns ``fig``.
    """
    if title:
        fig.suptitle(title)
    parts = [p for p in (n, *notes) if p]
    if parts:
        # Wrapped to the figure's width (about 15 characters per inch at 7.5 pt).
        width = max(40, int(fig.get_figwidth() * 15))
        text = textwrap.fill("; ".join(parts) + ".", width=width)
        fig.supxlabel(text, x=0.0, ha="left", fontsize=7.5, color="0.25", linespacing=1.3)
    return fig


def figure_legend(fig, handles, labels, title: str | None = None, ncols: int = 1):
    """One legend for the whole figure, outside every panel (right, centred). Returns it."""
    if not handles:
        return None
    return fig.legend(handles, labels, title=title, loc="outside right center", ncols=ncols)


def spread_overlaps(x, y, xlim: Sequence[float], ylim: Sequence[float],
                    step: float = 0.025) -> np.ndarray:
    """``x`` with coinciding points spread horizontally, so that every point shows.

    Points closer than ``step / 2`` (as a share of the axes' spans ``xlim``,
    ``ylim``) in both directions form a group; the ``k`` points of a group
    are placed ``step`` apart, centred on the group's first point. Other
    points do not move. Deterministic (no random jitter), so figures are
    reproducible.

    Returns
    -------
    numpy.ndarray
        ``float`` array of the shape of ``x``.
    """
    x = np.asarray(x, dtype=float).copy()
    y = np.asarray(y, dtype=float)
    xspan = float(xlim[1] - xlim[0]) or 1.0
    yspan = float(ylim[1] - ylim[0]) or 1.0
    u, v = (x - xlim[0]) / xspan, (y - ylim[0]) / yspan
    assigned = np.zeros(len(x), dtype=bool)
    for i in np.argsort(u, kind="stable"):
        if assigned[i] or not (np.isfinite(u[i]) and np.isfinite(v[i])):
            continue
        near = (~assigned & (np.abs(u - u[i]) < step / 2) & (np.abs(v - v[i]) < step / 2))
        members = np.flatnonzero(near)
        assigned[members] = True
        if len(members) > 1:
            offsets = (np.arange(len(members)) - (len(members) - 1) / 2) * step * xspan
            x[members] = x[i] + offsets
    return x


# -- colour scales ------------------------------------------------------------------
def shared_norm(maps: Iterable) -> mpl.colors.Normalize:
    """One colour scale for maps that are compared: from ``min(0, min)`` to the largest value.

    Sobol' total indices are non-negative: starting at 0 makes a map's
    colour proportional to its values, so a map 100 times smaller looks 100
    times darker. NaNs are ignored; an all-zero set gets the scale [0, 1e-12]
    (then every map is flat, see :func:`is_negligible`).
    """
    lo, hi = 0.0, -np.inf
    for m in maps:
        if m is None:
            continue
        a = np.asarray(m, dtype=float)
        if a.size and np.isfinite(a).any():
            lo = min(lo, float(np.nanmin(a)))
            hi = max(hi, float(np.nanmax(a)))
    if not np.isfinite(hi) or hi <= lo:
        hi = lo + 1e-12
    return mpl.colors.Normalize(vmin=lo, vmax=hi)


def is_negligible(values, norm: mpl.colors.Normalize, fraction: float = FLAT_FRACTION) -> bool:
    """Whether ``values``' range is at most ``fraction`` of the colour scale ``norm``."""
    a = np.asarray(values, dtype=float)
    if not np.isfinite(a).any():
        return True
    return float(np.nanmax(a) - np.nanmin(a)) <= fraction * float(norm.vmax - norm.vmin)


def draw_map(ax, values, norm: mpl.colors.Normalize, cmap: str = MAP_CMAP,
             fraction: float = FLAT_FRACTION, **imshow_kwargs):
    """Draw ``values`` ``(h, w)`` with ``imshow`` on the colour scale ``norm``.

    A map whose range is negligible on that scale (:func:`is_negligible`) is
    drawn flat, at its mean, and its range is written on the panel
    (``"flat: 0.2497-0.2503"``): stretching it would show contrast that is
    not there. Returns the ``AxesImage``.
    """
    a = np.asarray(values, dtype=float)
    flat = is_negligible(a, norm, fraction)
    shown = np.full_like(a, float(np.nanmean(a)) if np.isfinite(a).any() else 0.0) if flat else a
    im = ax.imshow(shown, cmap=cmap, norm=norm, **imshow_kwargs)
    if flat:
        lo, hi = (float(np.nanmin(a)), float(np.nanmax(a))) if np.isfinite(a).any() else (0.0, 0.0)
        ax.text(0.5, 0.5, f"flat: {lo:.4g}-{hi:.4g}", transform=ax.transAxes, ha="center",
                va="center", fontsize=7, color="white",
                bbox={"facecolor": "black", "alpha": 0.55, "edgecolor": "none", "pad": 1.5})
    return im


def add_colorbar(fig, norm: mpl.colors.Normalize, axes, text: str = INDEX_LABEL,
                 cmap: str = MAP_CMAP, **kwargs):
    """One colour bar of the scale ``norm`` for ``axes`` (a sequence), labelled ``text``.

    Drawn from the scale itself, not from an image: an overlay's
    transparency does not wash out the bar. Returns the colour bar.
    """
    kwargs.setdefault("shrink", 0.8)
    kwargs.setdefault("aspect", 30)
    mappable = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
    return fig.colorbar(mappable, ax=list(np.ravel(axes)), label=text, **kwargs)
