"""WAM maps of the images of one shard (rule `wam`)."""

from spectral_attribution import pipeline

with pipeline.logged(snakemake.log[0]):
    pipeline.wam_shard(
        snakemake.params.config,
        snakemake.wildcards.model,
        snakemake.wildcards.wam,
        snakemake.wildcards.shard,
        snakemake.input.samples,
        snakemake.output.npz,
        threads=snakemake.threads,
    )
