"""Reconstruction depths of one WCAM shard with model-free orders (rule `depth_baselines`)."""

from spectral_attribution import pipeline

with pipeline.logged(snakemake.log[0]):
    pipeline.depth_baselines_shard(
        snakemake.params.config,
        snakemake.wildcards.model,
        snakemake.wildcards.variant,
        snakemake.input.npz,
        snakemake.input.samples,
        snakemake.output[0],
        threads=snakemake.threads,
    )
