"""One table as CSV/Markdown/LaTeX from study tables (rules `table_*`); its name is the rule's param."""

from pathlib import Path

from spectral_attribution.pipeline.job import logged
from spectral_attribution.pipeline.steps import tables

with logged(snakemake.log[0]):
    tables.make_table(
        name=snakemake.params.name,
        inputs=dict(snakemake.input.items()),
        stem=Path(snakemake.output[0]).with_suffix(""),
    )
