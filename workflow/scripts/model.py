"""Load one configured model and record its weights hash (rule `model`)."""

from spectral_attribution.pipeline.job import logged
from spectral_attribution.pipeline.steps import models

with logged(snakemake.log[0]):
    models.check_model(
        model=snakemake.params.model,
        nickname=snakemake.wildcards.model,
        out_json=snakemake.output[0],
    )
