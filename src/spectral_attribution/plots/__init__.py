"""Figures of the studies, from tables, arrays and stored results only (never a model).

Every drawing function returns a :class:`matplotlib.figure.Figure`;
:func:`save_figure` writes it as vector PDF and PNG, atomically. The Agg
backend is selected on import, so figures are made without a display (CI,
clusters).

==================================================  ==========================================
module                                              what
==================================================  ==========================================
:mod:`~spectral_attribution.plots.common`           :func:`save_figure`, :func:`subbands_of`,
                                                    :func:`draw_subbands`, panel helpers
:mod:`~spectral_attribution.plots.explanations`     :func:`plot_explanation`,
                                                    :func:`plot_wcam_gallery`,
                                                    :func:`plot_reconstructions`,
                                                    :func:`render_from_results`
:mod:`~spectral_attribution.plots.study_figures`    :func:`plot_robustness`, :func:`plot_zoom`,
                                                    :func:`plot_depth_vs_robustness`,
                                                    :func:`plot_depth_orders`,
                                                    :func:`plot_faithfulness`
:mod:`~spectral_attribution.plots.claims`           :func:`plot_claims` (the claims table)
:mod:`~spectral_attribution.plots.figures`          the registry :data:`FIGURES` of the
                                                    workflow's figures, :func:`draw_figure`,
                                                    :func:`make_figure`
==================================================  ==========================================
"""

import matplotlib

matplotlib.use("Agg")  # figures are files: never need a display

from .claims import plot_claims  # noqa: E402
from .common import draw_subbands, save_figure, subbands_of  # noqa: E402
from .explanations import (  # noqa: E402
    image_for,
    plot_explanation,
    plot_reconstructions,
    plot_wcam_gallery,
    render_from_results,
)
from .figures import FIGURES, FigureMaker, draw_figure, make_figure  # noqa: E402
from .study_figures import (  # noqa: E402
    plot_depth_orders,
    plot_depth_vs_robustness,
    plot_faithfulness,
    plot_robustness,
    plot_zoom,
)

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
    "FigureMaker",
    "FIGURES",
    "draw_figure",
    "make_figure",
]
