"""Reconstruction depths of one WCAM shard (rule `reconstruction`)."""

from spectral_attribution import pipeline

with pipeline.logged(snakemake.log[0]):
    pipeline.reconstruction_shard(
        snakemake.params.config,
        snakemake.wildcards.model,
        snakemake.wildcards.variant,
        snakemake.input.npz,
        snakemake.input.samples,
        snakemake.output[0],
        threads=snakemake.threads,
    )
