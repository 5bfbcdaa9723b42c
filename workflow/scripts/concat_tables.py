"""Concatenate per-shard study tables (rules `*_merge`)."""

from spectral_attribution.pipeline.job import logged
from spectral_attribution.pipeline.steps import common

with logged(snakemake.log[0]):
    common.concat_tables(list(snakemake.input), snakemake.output[0])
