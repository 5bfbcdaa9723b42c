"""mu-fidelity, insertion and deletion of one shard (rule `faithfulness`)."""

from spectral_attribution import pipeline

with pipeline.logged(snakemake.log[0]):
    pipeline.faithfulness_shard(
        snakemake.params.config,
        snakemake.wildcards.model,
        snakemake.input.wcam,
        snakemake.input.spatial,
        snakemake.input.samples,
        snakemake.output[0],
        threads=snakemake.threads,
    )
