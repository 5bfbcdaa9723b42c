"""Load one configured model and record its weights hash (rule `model`)."""

from spectral_attribution import pipeline

with pipeline.logged(snakemake.log[0]):
    pipeline.check_model(snakemake.params.config, snakemake.wildcards.model, snakemake.output[0])
