"""Choose the corrupted copies that get a WCAM (rule `select_corrupted`)."""

from spectral_attribution.pipeline.job import logged
from spectral_attribution.pipeline.steps import corruptions

with logged(snakemake.log[0]):
    corruptions.select_corrupted(
        **dict(snakemake.params.items()),
        baseline_csvs=list(snakemake.input),
        out_csv=snakemake.output[0],
    )
