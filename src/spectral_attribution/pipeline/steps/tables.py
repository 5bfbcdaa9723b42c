"""Step of ``workflow/rules/tables.smk``: one table as CSV, Markdown, LaTeX and HTML (rules
``table_*``), from study tables only (no model).

The step is the table registry's own :func:`spectral_attribution.studies.tables.make_table`
(``make_table(name=..., inputs=..., stem=...)``; names:
:data:`spectral_attribution.catalog.TABLES`), imported here so that a rule's
script finds its step by the rule file's name.
"""

from spectral_attribution.studies.tables import make_table

__all__ = ["make_table"]
