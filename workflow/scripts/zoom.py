"""Level contributions, regular vs zoomed view, of one shard (rule `zoom`)."""

from spectral_attribution import pipeline

with pipeline.logged(snakemake.log[0]):
    pipeline.zoom_shard(
        **dict(snakemake.params.items()),
        nickname=snakemake.wildcards.model,
        shard=snakemake.wildcards.shard,
        samples_csv=snakemake.input.samples,
        out_csv=snakemake.output[0],
        threads=snakemake.threads,
    )
