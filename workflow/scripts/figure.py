"""One figure as PDF and PNG (rules `figure_*`); its name is the output's stem."""

from pathlib import Path

from spectral_attribution import pipeline

with pipeline.logged(snakemake.log[0]):
    stem = Path(snakemake.output.pdf).with_suffix("")
    pipeline.make_figure(stem.name, snakemake.params.config, dict(snakemake.input.items()), stem)
