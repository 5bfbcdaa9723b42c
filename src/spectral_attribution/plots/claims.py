"""The claims figure: every claim's margin over each baseline, with its 95 % interval and verdict.

Drawn from the claims table (:func:`spectral_attribution.studies.claims.claims_table`)
only: no model, no shard.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from spectral_attribution._utils.tables import require_columns
from spectral_attribution.plots.style import (
    count_note,
    figure_legend,
    finish,
    new_figure,
    styled,
    value_label,
)

__all__ = ["VERDICT_COLOURS", "plot_claims"]

#: Colour of each verdict (colour-blind safe: blue / orange / grey).
VERDICT_COLOURS = {"supported": "#0072B2", "not supported": "#D55E00", "inconclusive": "#999999"}


def _row_label(row: pd.Series, several_models: bool, several_conditions: bool) -> str:
    text = f"{row['quantity']}: vs {row['baseline']}"
    if several_conditions:
        text += f" ({value_label('condition', row['condition'])})"
    if several_models:
        text = f"{row['model']}, " + text
    return text


@styled
def plot_claims(claims: pd.DataFrame):
    """Forest plot of the claims table, one panel per claim.

    Parameters
    ----------
    claims:
        The claims table (columns ``model, claim, condition, quantity,
        baseline, role, estimate, estimate_low, estimate_high, verdict``;
        ``n``, the images of each comparison, for the footnote).

    Returns
    -------
    matplotlib.figure.Figure
        Per claim, one line per comparison (``quantity``, ``baseline``,
        and the image set and model when there are several): the margin
        (positive favours the claim) with its 95 % interval, coloured by
        verdict; a filled marker for the deciding baseline (role
        ``"decides"``), a hollow one otherwise; a dashed line at 0. Units differ between
        claims (share of cells, correlation, share, score), hence one x axis
        per panel. One legend for the figure, outside the panels; the
        footnote gives n and what the error bars are.
    """
    require_columns(claims, ["model", "claim", "condition", "quantity", "baseline", "role",
                             "estimate", "estimate_low", "estimate_high", "verdict"], "claims table")
    claim_names = list(dict.fromkeys(claims["claim"]))
    several_models = claims["model"].nunique() > 1
    several_conditions = claims["condition"].nunique() > 1
    heights = [max(1, int((claims["claim"] == c).sum())) for c in claim_names] or [1]
    fig, axes = new_figure(len(heights), 1, figsize=(12, 0.3 * sum(heights) + 1.0 * len(heights) + 0.8),
                           gridspec_kw={"height_ratios": heights})
    handles = [plt.Line2D([], [], color=c, marker="o", linewidth=1.6) for c in VERDICT_COLOURS.values()]
    handles.append(plt.Line2D([], [], color="black", marker="o", markerfacecolor="white",
                              linestyle="none"))
    names = [*VERDICT_COLOURS, "hollow marker: does not\ndecide the verdict"]
    if "n" in claims.columns and claims["n"].notna().any():
        counts = claims.groupby("model", sort=False)["n"].max()
        n_text = count_note({m: int(v) for m, v in counts.items()}) + " (the most of any comparison)"
    else:
        n_text = "n = 0 images"
    if not claim_names:
        axes[0, 0].text(0.5, 0.5, "no claim measured", ha="center", va="center")
        axes[0, 0].set_axis_off()
        return finish(fig, "The paper's claims against their baselines", n_text)
    for ax, claim in zip(axes[:, 0], claim_names):
        part = claims[claims["claim"] == claim].reset_index(drop=True)
        ys = np.arange(len(part))[::-1]
        for y, (_, row) in zip(ys, part.iterrows()):
            colour = VERDICT_COLOURS.get(row["verdict"], "black")
            m, lo, hi = (float(row[k]) for k in ("estimate", "estimate_low", "estimate_high"))
            if np.isfinite(lo) and np.isfinite(hi):
                ax.plot([lo, hi], [y, y], color=colour, linewidth=1.6)
            if np.isfinite(m):
                strongest = str(row["role"]) == "decides"
                ax.plot([m], [y], marker="o", markersize=5, color=colour,
                        markerfacecolor=colour if strongest else "white")
        if not part["estimate"].astype(float).notna().any():
            ax.text(0.5, 0.5, "undefined on these images\n(too few, or a constant value)",
                    transform=ax.transAxes, ha="center", va="center", fontsize=7, color="0.35")
        ax.set_yticks(ys, [_row_label(r, several_models, several_conditions)
                           for _, r in part.iterrows()], fontsize=7)
        ax.axvline(0, color="black", linestyle="--", linewidth=0.8)
        ax.set_ylim(-0.7, len(part) - 0.3)
        ax.set_title(claim, loc="left")
        ax.set_xlabel("margin over the baseline (> 0 favours the claim)", fontsize=7.5)
    figure_legend(fig, handles, names, title="verdict of the comparison")
    return finish(fig, "The paper's claims against their model-free baselines", n_text,
                  ["error bars: 95 % bootstrap CI of the margin over images (claim b against a "
                   "confounder: of the difference of correlations)"])
