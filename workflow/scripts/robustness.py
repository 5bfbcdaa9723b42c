"""Robustness per image and per corruption from the baseline (rule `robustness`)."""

from spectral_attribution import pipeline

with pipeline.logged(snakemake.log[0]):
    pipeline.robustness_tables(
        snakemake.input[0], snakemake.output.per_image, snakemake.output.per_corruption
    )
