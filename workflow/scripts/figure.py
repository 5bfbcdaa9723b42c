"""One figure as PDF and PNG (rules `figure_*`); its name and options are the rule's params."""

from pathlib import Path

from spectral_attribution.pipeline.job import logged
from spectral_attribution.pipeline.steps import figures

with logged(snakemake.log[0]):
    figures.make_figure(
        name=snakemake.params.name,
        inputs=dict(snakemake.input.items()),
        stem=Path(snakemake.output.pdf).with_suffix(""),
        **snakemake.params.options,
    )
