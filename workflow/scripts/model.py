"""Load one configured model and record its weights hash (rule `model`)."""

from spectral_attribution import pipeline

with pipeline.logged(snakemake.log[0]):
    pipeline.check_model(
        model=snakemake.params.model,
        nickname=snakemake.wildcards.model,
        out_json=snakemake.output[0],
    )
