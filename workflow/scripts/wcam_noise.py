"""Seed-to-seed noise of the WCAM on each model's first clean shard (rule `wcam_noise`)."""

from spectral_attribution.pipeline.job import logged
from spectral_attribution.pipeline.steps import baselines

with logged(snakemake.log[0]):
    params = dict(snakemake.params.items())
    baselines.measure_wcam_noise(
        **params,
        shard_npzs=dict(zip(params["models"], snakemake.input.npz)),
        samples_csv=snakemake.input.samples,
        out_csv=snakemake.output[0],
        threads=snakemake.threads,
    )
