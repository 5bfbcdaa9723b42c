"""WCAMs of the clean images or of the corrupted copies of one shard (rule `wcam`)."""

from spectral_attribution.pipeline.job import logged
from spectral_attribution.pipeline.steps import wcam

with logged(snakemake.log[0]):
    wcam.explain_shard(
        **dict(snakemake.params.items()),
        nickname=snakemake.wildcards.model,
        variant=snakemake.wildcards.variant,
        shard=snakemake.wildcards.shard,
        samples_csv=snakemake.input.samples,
        out_npz=snakemake.output.npz,
        selection_csv=snakemake.input.get("selection"),
        threads=snakemake.threads,
    )
