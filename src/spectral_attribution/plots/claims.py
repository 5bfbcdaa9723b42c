"""The claims figure: every claim's margin over each baseline, with its 95 % interval and verdict.

Drawn from the claims table (:func:`spectral_attribution.studies.claims.claims_table`)
only: no model, no shard.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .._common import require_columns

__all__ = ["VERDICT_COLOURS", "plot_claims"]

#: Colour of each verdict (colour-blind safe: blue / orange / grey).
VERDICT_COLOURS = {"supported": "#0072B2", "not supported": "#D55E00", "inconclusive": "#999999"}


def plot_claims(claims: pd.DataFrame):
    """Forest plot of the claims table, one panel per claim.

    Parameters
    ----------
    claims:
        The claims table (columns ``model, claim, condition, quantity,
        baseline, margin, margin_low, margin_high, verdict, strongest``).

    Returns
    -------
    matplotlib.figure.Figure
        Per claim, one line per comparison (``quantity``, ``baseline``,
        and the condition and model when there are several): the margin
        (positive favours the claim) with its 95 % interval, coloured by
        verdict; a filled marker for the strongest baseline of its group, a
        hollow one otherwise; a dashed line at 0. Units differ between
        claims (share of cells, correlation, share, score), hence one x axis
        per panel.
    """
    require_columns(claims, ["model", "claim", "condition", "quantity", "baseline", "margin",
                             "margin_low", "margin_high", "verdict", "strongest"], "claims table")
    claim_names = list(dict.fromkeys(claims["claim"]))
    several_models = claims["model"].nunique() > 1
    several_conditions = claims["condition"].nunique() > 1
    heights = [max(1, int((claims["claim"] == c).sum())) for c in claim_names] or [1]
    fig, axes = plt.subplots(len(heights), 1, figsize=(7.5, 0.32 * sum(heights) + 1.1 * len(heights)),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    if not claim_names:
        axes[0, 0].text(0.5, 0.5, "no claim measured", ha="center", va="center")
        axes[0, 0].set_axis_off()
        return fig
    for ax, claim in zip(axes[:, 0], claim_names):
        part = claims[claims["claim"] == claim].reset_index(drop=True)
        ys = np.arange(len(part))[::-1]
        for y, (_, row) in zip(ys, part.iterrows()):
            colour = VERDICT_COLOURS.get(row["verdict"], "black")
            m, lo, hi = (float(row[k]) for k in ("margin", "margin_low", "margin_high"))
            if np.isfinite(lo) and np.isfinite(hi):
                ax.plot([lo, hi], [y, y], color=colour, linewidth=1.6)
            if np.isfinite(m):
                strongest = str(row["strongest"]).lower() == "true"
                ax.plot([m], [y], marker="o", markersize=5, color=colour,
                        markerfacecolor=colour if strongest else "white")
        labels = []
        for _, row in part.iterrows():
            label = f"{row['quantity']} vs {row['baseline']}"
            if several_conditions:
                label += f" [{row['condition']}]"
            if several_models:
                label = f"{row['model']}: " + label
            labels.append(label)
        if not part["margin"].astype(float).notna().any():
            ax.text(0.5, 0.5, "undefined on these images (e.g. fewer than 3, or a constant value)",
                    transform=ax.transAxes, ha="center", va="center", fontsize=7, color="#555555")
        ax.set_yticks(ys, labels, fontsize=7)
        ax.axvline(0, color="black", linestyle="--", linewidth=0.8)
        ax.set_ylim(-0.7, len(part) - 0.3)
        ax.set_title(claim, fontsize=9, loc="left")
        ax.tick_params(axis="x", labelsize=7)
    axes[-1, 0].set_xlabel("margin over the baseline (> 0 favours the claim), 95 % CI", fontsize=8)
    handles = [plt.Line2D([], [], color=c, marker="o", linewidth=1.6, label=v)
               for v, c in VERDICT_COLOURS.items()]
    handles.append(plt.Line2D([], [], color="black", marker="o", markerfacecolor="white",
                              linestyle="none", label="hollow: not the strongest baseline"))
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=7, frameon=False,
               bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout()
    return fig
