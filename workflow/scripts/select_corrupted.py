"""Choose the corrupted copies that get a WCAM (rule `select_corrupted`)."""

from spectral_attribution import pipeline

with pipeline.logged(snakemake.log[0]):
    pipeline.select_corrupted(snakemake.params.config, list(snakemake.input), snakemake.output[0])
