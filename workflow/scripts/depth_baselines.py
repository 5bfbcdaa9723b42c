"""Reconstruction depths of one WCAM shard with model-free orders (rule `depth_baselines`)."""

from spectral_attribution.pipeline.job import logged
from spectral_attribution.pipeline.steps import baselines

with logged(snakemake.log[0]):
    baselines.depth_baselines_shard(
        **dict(snakemake.params.items()),
        nickname=snakemake.wildcards.model,
        variant=snakemake.wildcards.variant,
        shard_npz=snakemake.input.npz,
        samples_csv=snakemake.input.samples,
        out_csv=snakemake.output[0],
        threads=snakemake.threads,
    )
