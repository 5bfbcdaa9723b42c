"""Concatenate per-shard study tables (rules `*_merge`)."""

from spectral_attribution import pipeline

with pipeline.logged(snakemake.log[0]):
    pipeline.concat_tables(list(snakemake.input), snakemake.output[0])
