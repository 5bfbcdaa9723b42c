"""Seed-to-seed noise of the WCAM on each model's first clean shard (rule `wcam_noise`)."""

from spectral_attribution import pipeline

with pipeline.logged(snakemake.log[0]):
    config = snakemake.params.config
    nicknames = pipeline.nicknames(config)
    pipeline.wcam_noise(
        config,
        dict(zip(nicknames, snakemake.input.npz)),
        snakemake.input.samples,
        snakemake.output[0],
        threads=snakemake.threads,
    )
