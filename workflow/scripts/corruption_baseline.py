"""Predictions on the corrupted copies of one shard's images (rule `corruption_baseline`)."""

from spectral_attribution import pipeline

with pipeline.logged(snakemake.log[0]):
    pipeline.corruption_baseline_shard(
        snakemake.params.config,
        snakemake.wildcards.model,
        snakemake.wildcards.shard,
        snakemake.input.samples,
        snakemake.output[0],
        threads=snakemake.threads,
    )
