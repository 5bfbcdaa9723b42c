"""Predictions on the corrupted copies of one shard's images (rule `corruption_baseline`)."""

from spectral_attribution.pipeline.job import logged
from spectral_attribution.pipeline.steps import corruptions

with logged(snakemake.log[0]):
    corruptions.corruption_baseline_shard(
        **dict(snakemake.params.items()),
        nickname=snakemake.wildcards.model,
        shard=snakemake.wildcards.shard,
        samples_csv=snakemake.input.samples,
        out_csv=snakemake.output[0],
        threads=snakemake.threads,
    )
