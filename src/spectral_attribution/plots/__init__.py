"""Figures of the studies, from tables, arrays and stored results only (never a model).

Every drawing function returns a :class:`matplotlib.figure.Figure`;
:func:`save_figure` writes it as vector PDF and PNG, atomically. The Agg
backend is selected on import, so figures are made without a display (CI,
clusters).

Every figure follows one written style, the docstring of
:mod:`spectral_attribution.plots.style`: labels in w      ords with units (never a
raw column name), the number of images ``n`` on the figure, error bars said
to be a 95 % bootstrap CI or an SD, one legend per figure outside the
panels, the perceptually uniform viridis colour map with one shared,
labelled scale for maps that are compared (a map of negligible range drawn
flat with its range written), coinciding points spread so that all ``n``
show, a title on every panel.

========================================================  ==========================================
module                                                    what
========================================================  ==========================================
:mod:`~spectral_attribution.plots.style`                  the style guide; :func:`style`,
                                                          :func:`shared_norm`, :func:`draw_map`,
                                                          :func:`finish`, :func:`figure_legend`,
                                                          :func:`spread_overlaps`
:mod:`~spectral_attribution.plots.common`                 :func:`save_figure`, :func:`subbands_of`,
                                                          :func:`draw_subbands`, panel helpers
:mod:`~spectral_attribution.plots.explanations`           :func:`plot_explanation`,
                                                          :func:`plot_wcam_gallery`,
                                                          :func:`plot_reconstructions`,
                                                          :func:`render_from_results`
:mod:`~spectral_attribution.plots.depth_figures`          :func:`plot_depth_vs_robustness`,
                                                          :func:`plot_depth_orders`
:mod:`~spectral_attribution.plots.robustness_figures`     :func:`plot_robustness`, :func:`plot_zoom`
:mod:`~spectral_attribution.plots.method_figures`         :func:`plot_faithfulness`,
                                                          :func:`plot_methods`
:mod:`~spectral_attribution.plots.claims`                 :func:`plot_claims` (the claims table)
:mod:`~spectral_attribution.plots.figures`                the registry :data:`FIGURES` of the
                                                          workflow's figures, :func:`draw_figure`,
                                                          :func:`make_figure`
========================================================  ==========================================
"""

import matplotlib

matplotlib.use("Agg")  # figures are files: never need a display

from spectral_attribution.plots.claims import plot_claims  # noqa: E402
from spectral_attribution.plots.common import draw_subbands, save_figure, subbands_of  # noqa: E402
from spectral_attribution.plots.explanations import (
    image_for,
    plot_explanation,
    plot_reconstructions,
    plot_wcam_gallery,
    render_from_results,
)
from spectral_attribution.plots.figures import FIGURES, FigureMaker, draw_figure, make_figure  # noqa: E402
from spectral_attribution.plots.depth_figures import plot_depth_orders, plot_depth_vs_robustness  # noqa: E402
from spectral_attribution.plots.method_figures import plot_faithfulness, plot_methods  # noqa: E402
from spectral_attribution.plots.robustness_figures import plot_robustness, plot_zoom  # noqa: E402

__all__ = [
    "save_figure",
    "subbands_of",
    "draw_subbands",
    "plot_explanation",
    "plot_wcam_gallery",
    "plot_reconstructions",
    "render_from_results",
    "image_for",
    "plot_depth_vs_robustness",
    "plot_depth_orders",
    "plot_zoom",
    "plot_robustness",
    "plot_faithfulness",
    "plot_claims",
    "plot_methods",
    "FigureMaker",
    "FIGURES",
    "draw_figure",
    "make_figure",
]
