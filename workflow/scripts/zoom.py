"""Level contributions, regular vs zoomed view, of one shard (rule `zoom`)."""

from spectral_attribution.pipeline.job import logged
from spectral_attribution.pipeline.steps import zoom

with logged(snakemake.log[0]):
    zoom.zoom_shard(
        **dict(snakemake.params.items()),
        nickname=snakemake.wildcards.model,
        shard=snakemake.wildcards.shard,
        samples_csv=snakemake.input.samples,
        out_csv=snakemake.output[0],
        threads=snakemake.threads,
    )
