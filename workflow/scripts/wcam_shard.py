"""WCAMs of the clean images or of the corrupted copies of one shard (rule `wcam`)."""

from spectral_attribution import pipeline

with pipeline.logged(snakemake.log[0]):
    pipeline.explain_shard(
        **dict(snakemake.params.items()),
        nickname=snakemake.wildcards.model,
        variant=snakemake.wildcards.variant,
        shard=snakemake.wildcards.shard,
        samples_csv=snakemake.input.samples,
        out_npz=snakemake.output.npz,
        selection_csv=snakemake.input.get("selection"),
        threads=snakemake.threads,
    )
