"""Resolve the image source and write the seeded sample (rule `samples`)."""

from spectral_attribution.pipeline.job import logged
from spectral_attribution.pipeline.steps import data

with logged(snakemake.log[0]):
    data.prepare_samples(**dict(snakemake.params.items()), out_csv=snakemake.output[0])
