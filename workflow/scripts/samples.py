"""Resolve the image source and write the seeded sample (rule `samples`)."""

from spectral_attribution import pipeline

with pipeline.logged(snakemake.log[0]):
    pipeline.prepare_samples(**dict(snakemake.params.items()), out_csv=snakemake.output[0])
