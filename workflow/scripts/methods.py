"""WAM against WCAM on the images of one shard (rule `methods`)."""

from spectral_attribution import pipeline

with pipeline.logged(snakemake.log[0]):
    pipeline.methods_shard(
        snakemake.params.config,
        snakemake.wildcards.model,
        snakemake.input.wcam,
        {variant: snakemake.input[f"wam_{variant}"] for variant in snakemake.params.variants},
        snakemake.input.samples,
        snakemake.output[0],
        threads=snakemake.threads,
    )
