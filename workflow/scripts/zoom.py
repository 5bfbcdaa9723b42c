"""Level contributions, regular vs zoomed view, of one shard (rule `zoom`)."""

from spectral_attribution import pipeline

with pipeline.logged(snakemake.log[0]):
    pipeline.zoom_shard(
        snakemake.params.config,
        snakemake.wildcards.model,
        snakemake.wildcards.shard,
        snakemake.input.samples,
        snakemake.output[0],
        threads=snakemake.threads,
    )
