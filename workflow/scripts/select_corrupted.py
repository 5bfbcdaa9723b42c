"""Choose the corrupted copies that get a WCAM (rule `select_corrupted`)."""

from spectral_attribution import pipeline

with pipeline.logged(snakemake.log[0]):
    pipeline.select_corrupted(
        **dict(snakemake.params.items()),
        baseline_csvs=list(snakemake.input),
        out_csv=snakemake.output[0],
    )
