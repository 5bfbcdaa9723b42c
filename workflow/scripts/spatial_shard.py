"""Spatial Sobol' maps of one shard's images, for the faithfulness study (rule `spatial_sobol`)."""

from spectral_attribution.pipeline.job import logged
from spectral_attribution.pipeline.steps import wcam

with logged(snakemake.log[0]):
    wcam.explain_shard(
        **dict(snakemake.params.items()),
        nickname=snakemake.wildcards.model,
        variant="spatial",
        shard=snakemake.wildcards.shard,
        samples_csv=snakemake.input.samples,
        out_npz=snakemake.output.npz,
        threads=snakemake.threads,
    )
