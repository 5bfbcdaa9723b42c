"""One table as CSV/Markdown/LaTeX from study tables (rules `table_*`)."""

from pathlib import Path

from spectral_attribution import pipeline

with pipeline.logged(snakemake.log[0]):
    stem = Path(snakemake.output[0]).with_suffix("")
    pipeline.make_table(stem.name, dict(snakemake.input.items()), stem)
