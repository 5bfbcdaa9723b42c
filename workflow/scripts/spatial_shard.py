"""Spatial Sobol' maps of one shard's images, for the faithfulness study (rule `spatial_sobol`)."""

from spectral_attribution import pipeline

with pipeline.logged(snakemake.log[0]):
    pipeline.explain_shard(
        **dict(snakemake.params.items()),
        nickname=snakemake.wildcards.model,
        variant="spatial",
        shard=snakemake.wildcards.shard,
        samples_csv=snakemake.input.samples,
        out_npz=snakemake.output.npz,
        threads=snakemake.threads,
    )
