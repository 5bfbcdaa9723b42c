"""Step of ``workflow/rules/figures.smk``: one figure as PDF and PNG (rules ``figure_*``),
from study tables (and, for the gallery and the reconstructions, shards); no model.

The step is the figure registry's own :func:`spectral_attribution.plots.figures.make_figure`
(``make_figure(name=..., inputs=..., stem=..., **options)``; names and options:
:data:`spectral_attribution.catalog.FIGURES`, :data:`~spectral_attribution.catalog.FIGURE_OPTIONS`),
imported here so that a rule's script finds its step by the rule file's name.
"""

from spectral_attribution.plots.figures import make_figure

__all__ = ["make_figure"]
