"""Robustness per image and per corruption from the baseline (rule `robustness`)."""

from spectral_attribution.pipeline.job import logged
from spectral_attribution.pipeline.steps import corruptions

with logged(snakemake.log[0]):
    corruptions.robustness_tables(
        snakemake.input[0], snakemake.output.per_image, snakemake.output.per_corruption
    )
