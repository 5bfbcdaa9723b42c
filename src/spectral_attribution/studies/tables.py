"""Tables of the studies: writing them, and the registry of the workflow's table makers.

:func:`write_table` writes any table as ``.csv``, ``.md`` and ``.tex``.
:data:`TABLES` maps each table of the workflow (``results/tables/{name}.*``)
to its maker: the study tables it reads (CSV files under
``results/studies/``) and the function that builds it. :func:`build_table`
and :func:`make_table` run a maker by name; adding a table is adding an
entry.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import pandas as pd

from .._common import read_table, write_text
from .corruption import robustness_table
from .claims import claims_table, depth_robustness_fits
from .faithfulness import faithfulness_table
from .noise import wcam_noise_table
from .reconstruction import reconstruction_summary
from .zoom import zoom_table

__all__ = ["write_table", "TableMaker", "TABLES", "build_table", "make_table"]


def write_table(df: pd.DataFrame, stem, index: bool | None = None,
                floatfmt: str = ".4g") -> dict[str, Path]:
    """Write ``df`` as ``<stem>.csv``, ``<stem>.md`` (tabulate) and ``<stem>.tex``.

    The LaTeX table (``DataFrame.to_latex``, which needs ``jinja2``) is
    escaped (``_`` → ``\\_``) and ``±`` is written ``$\\pm$``; it uses
    booktabs rules (``\\usepackage{booktabs}``).

    Footnotes: the strings of ``df.attrs["notes"]`` (e.g. how censored
    depths count, which corruptions a robustness is computed on) are written
    under the Markdown and LaTeX tables; the CSV holds the data only.

    Each file is written atomically
    (:func:`~spectral_attribution._common.atomic_path`), so a reader never
    sees a partial table.

    Parameters
    ----------
    stem:
        Path without extension; parent directories are created.
    index:
        Write the index; ``None`` writes it only when it is named (e.g. the
        ``model`` index of :func:`zoom_table`), not a bare row number.

    Returns
    -------
    dict
        ``{"csv": Path, "md": Path, "tex": Path}``.
    """
    stem = Path(stem)
    if index is None:
        index = any(name is not None for name in df.index.names)
    notes = [str(n) for n in df.attrs.get("notes", [])]
    texts = {
        "csv": df.to_csv(index=index),
        # index levels as ordinary columns: tabulate prints a MultiIndex as tuples
        "md": (df.reset_index() if index else df).to_markdown(index=False, floatfmt=floatfmt) + "\n"
        + "".join(f"\n{note}\n" for note in notes),
        # escape: "_" in level names would break LaTeX; then a real \pm for "±"
        "tex": (df.to_latex(index=index, escape=True, float_format=lambda v: format(v, floatfmt))
                + "".join(f"\\par{{\\footnotesize {_latex_escape(note)}}}\n" for note in notes)
                ).replace("±", r"$\pm$"),
    }
    return {ext: write_text(text, stem.with_name(f"{stem.name}.{ext}")) for ext, text in texts.items()}


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}"}


def _latex_escape(text: str) -> str:
    """Escape LaTeX's special characters in a footnote (one pass, so escapes are not re-escaped)."""
    return "".join(_LATEX_SPECIAL.get(c, c) for c in text)


@dataclass(frozen=True)
class TableMaker:
    """One table of the workflow.

    Attributes
    ----------
    inputs:
        Names of the study tables it reads, in the order ``build`` takes them
        (e.g. ``("per_image", "per_corruption")``).
    build:
        ``build(*tables) -> pandas.DataFrame``.
    optional:
        Inputs that may be absent (a study switched off): ``build`` then
        gets ``None`` in their place.
    """

    inputs: tuple[str, ...]
    build: Callable[..., pd.DataFrame]
    optional: tuple[str, ...] = ()


#: Table name → maker. Inputs: ``per_image`` / ``per_corruption``
#: (:func:`~spectral_attribution.studies.corruption.robustness_per_image`,
#: :func:`~spectral_attribution.studies.corruption.robustness_per_corruption`),
#: ``reconstruction`` (:func:`~spectral_attribution.studies.reconstruction.sufficient_reconstruction`),
#: ``zoom`` (:func:`~spectral_attribution.studies.zoom.zoom_study`),
#: ``faithfulness`` (:func:`~spectral_attribution.studies.faithfulness.faithfulness`),
#: ``depth_baselines`` (:func:`~spectral_attribution.studies.depth_baselines.baseline_depths`),
#: ``wcam_noise`` (:func:`~spectral_attribution.studies.noise.wcam_noise`).
TABLES: dict[str, TableMaker] = {
    "robustness": TableMaker(("per_image", "per_corruption"), robustness_table),
    "reconstruction": TableMaker(("reconstruction", "per_image"), reconstruction_summary),
    "zoom": TableMaker(("zoom",), zoom_table),
    "faithfulness": TableMaker(("faithfulness",), faithfulness_table),
    "claims": TableMaker(("reconstruction", "depth_baselines", "per_image", "zoom", "faithfulness"),
                         claims_table, optional=("depth_baselines", "zoom", "faithfulness")),
    "wcam_noise": TableMaker(("wcam_noise",), wcam_noise_table),
    "depth_robustness": TableMaker(("reconstruction", "depth_baselines", "per_image"),
                                   depth_robustness_fits, optional=("depth_baselines",)),
}


def build_table(name: str, inputs: Mapping[str, str | os.PathLike | pd.DataFrame]) -> pd.DataFrame:
    """Build table ``name`` of :data:`TABLES` from its study tables.

    Parameters
    ----------
    inputs:
        Study-table name → CSV path (read with
        :func:`~spectral_attribution._common.read_table`) or DataFrame.

    Returns
    -------
    pandas.DataFrame
        With a plain row index (``model`` and ``method`` as ordinary columns).

    Raises
    ------
    ValueError
        Unknown table name (the known ones are listed).
    KeyError
        An input the maker needs is missing from ``inputs`` (named).
    """
    try:
        maker = TABLES[name]
    except KeyError:
        raise ValueError(f"unknown table {name!r}; expected one of {tuple(TABLES)}") from None
    missing = [key for key in maker.inputs if key not in inputs and key not in maker.optional]
    if missing:
        raise KeyError(f"table {name!r} needs the study table(s) {missing}; given: {sorted(inputs)}")
    frames = [None if k not in inputs else
              inputs[k] if isinstance(inputs[k], pd.DataFrame) else read_table(inputs[k])
              for k in maker.inputs]
    table = maker.build(*frames)
    notes = table.attrs.get("notes")
    if not isinstance(table.index, pd.RangeIndex):  # model (, method) as plain columns
        table = table.reset_index()
    if notes:
        table.attrs["notes"] = list(notes)
    return table


def make_table(name: str, inputs: Mapping[str, str | os.PathLike | pd.DataFrame], stem) -> dict[str, Path]:
    """:func:`build_table` then :func:`write_table` to ``stem.csv/.md/.tex``; returns the paths."""
    return write_table(build_table(name, inputs), stem)
