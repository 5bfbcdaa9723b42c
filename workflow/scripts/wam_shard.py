"""WAM maps of the images of one shard (rule `wam`)."""

from spectral_attribution.pipeline.job import logged
from spectral_attribution.pipeline.steps import methods

with logged(snakemake.log[0]):
    methods.wam_shard(
        **dict(snakemake.params.items()),
        nickname=snakemake.wildcards.model,
        variant=snakemake.wildcards.wam,
        shard=snakemake.wildcards.shard,
        samples_csv=snakemake.input.samples,
        out_npz=snakemake.output.npz,
        threads=snakemake.threads,
    )
