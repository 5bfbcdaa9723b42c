"""Explain the images of one shard (rule `wcam`)."""

from spectral_attribution import pipeline

with pipeline.logged(snakemake.log[0]):
    pipeline.explain_shard(
        snakemake.params.config,
        snakemake.wildcards.model,
        snakemake.wildcards.variant,
        snakemake.wildcards.shard,
        snakemake.input.samples,
        snakemake.output.npz,
        selection_csv=snakemake.input.get("selection"),
        threads=snakemake.threads,
    )
