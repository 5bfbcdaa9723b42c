"""Tables of the studies: writing them, and the registry of the workflow's table makers.

:func:`write_table` writes any table as ``.csv`` (for programs: snake_case
columns, numbers, NaN), and as ``.md``, ``.tex`` and ``.html`` for readers
(headers in words with units, ``"mean ± SD"`` cells with a note saying what
``±`` is, NaN cells replaced by their reason, a caption; see
:mod:`spectral_attribution.studies.table_format`). The HTML page is what the
workflow's report shows, with links to the CSV and LaTeX files.

:data:`TABLES` maps each table of the workflow (``results/tables/{name}.*``)
to its maker: the study tables it reads (CSV files under
``results/studies/``), the function that builds it and how it is shown.
:func:`build_table` and :func:`make_table` run a maker by name; adding a
table is adding an entry.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import pandas as pd

from .._common import read_table, write_text
from .corruption import robustness_table
from .claims import claims_table, depth_robustness_fits
from .faithfulness import faithfulness_table
from .labels import label
from .methods import methods_table
from .noise import wcam_noise_table
from .reconstruction import reconstruction_summary
from .zoom import zoom_table
from .table_format import (
    Column,
    TableFormat,
    display_table,
    to_html,
    to_latex,
    to_markdown,
)

__all__ = ["write_table", "TableMaker", "TABLES", "build_table", "make_table", "CI_NOTE"]


def write_table(df: pd.DataFrame, stem, index: bool | None = None, floatfmt: str = ".4g",
                fmt: TableFormat | None = None, name: str | None = None) -> dict[str, Path]:
    """Write ``df`` as ``<stem>.csv`` for programs and ``.md``, ``.tex``, ``.html`` for readers.

    - **CSV**: the table as it is (snake_case columns, numbers, NaN as an
      empty cell), read back with
      :func:`~spectral_attribution._common.read_table`.
    - **Markdown** (tabulate pipe table, then ``Table: caption`` and ``Note:``
      lines), **LaTeX** (a ``table`` float with booktabs rules,
      ``\\caption{…}`` and ``\\label{tab:<name>}``, needs
      ``\\usepackage{booktabs}``; ``_`` escaped, ``±`` as ``$\\pm$``) and
      **HTML** (caption, table, notes, and download links to the CSV and
      LaTeX files embedded as ``data:`` URIs): the text table of
      :func:`~spectral_attribution.studies.table_format.display_table`.

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
        Write the index; ``None`` writes it only when it is named (e.g. a
        ``model`` index), not a bare row number.
    floatfmt:
        Number format of the reader's files when ``fmt`` is ``None``.
    fmt:
        How the table is shown (:class:`~spectral_attribution.studies.table_format.TableFormat`);
        ``None``: every column, headers from
        :func:`~spectral_attribution.studies.labels.label`, NaN as "n/a",
        the caption the name in words.
    name:
        The table's name, for ``\\label{tab:<name>}`` (default: the stem's name).

    Notes under the table: ``fmt.notes``, then the strings of
    ``df.attrs["notes"]`` (what a builder knows about this table's data).

    Returns
    -------
    dict
        ``{"csv": Path, "md": Path, "tex": Path, "html": Path}``.
    """
    stem = Path(stem)
    name = name or stem.name
    if index is None:
        index = any(n is not None for n in df.index.names)
    if fmt is None:
        fmt = TableFormat(caption=label(name).capitalize() + ".",
                          columns=lambda d: [Column(c, fmt=floatfmt) for c in d.columns])
    extra = [str(n) for n in df.attrs.get("notes", []) if str(n) not in fmt.notes]
    if extra:  # notes the builder attached to this table (e.g. how censored depths count)
        fmt = dataclasses.replace(fmt, notes=(*fmt.notes, *extra))
    shown = display_table(df if index else df.reset_index(drop=True), fmt)
    paths = {ext: stem.with_name(f"{stem.name}.{ext}") for ext in ("csv", "md", "tex", "html")}
    write_text(df.to_csv(index=index), paths["csv"])
    write_text(to_markdown(shown, fmt), paths["md"])
    write_text(to_latex(shown, fmt, name), paths["tex"])
    write_text(to_html(shown, fmt, name, {"CSV (for programs)": paths["csv"],
                                          "LaTeX": paths["tex"]}), paths["html"])
    return paths


# -- the workflow's tables: how they are shown ------------------------------------------
#: What "[low, high]" means in every summary table.
CI_NOTE = ("mean [low, high]: the mean over images and its 95 % percentile-bootstrap "
           "confidence interval (9,999 resamples over images, seeded; a single image gives a "
           "point interval)")


def _every_column(df: pd.DataFrame) -> list[Column]:
    """Every column of the table, headers in words (:func:`~.labels.label`)."""
    return [Column(c, fmt=None, missing="n/a (not computed for this row)") for c in df.columns]


def _format(caption: str, *notes: str) -> TableFormat:
    return TableFormat(caption=caption, columns=_every_column, notes=(CI_NOTE, *notes))


ROBUSTNESS_FORMAT = _format(
    "Robustness per classifier and corruption set: the share of an image's corrupted copies "
    "that keep its clean prediction (1: the prediction never changes).",
    "standard-15: the 15 corruptions of ImageNet-C's benchmark (the paper's); extra-4: its "
    "4 held-out ones")
RECONSTRUCTION_FORMAT = _format(
    "Sufficient reconstruction per classifier and image set: share of images whose prediction "
    "is restored, and reconstruction depths (share of the grid cells) with the WCAM's order "
    "and with random orders, over the same images.",
    "depth: fewest grid cells, added in the order's sequence, whose wavelet coefficients "
    "restore the prediction; an image never restored counts with the censored depth d + 1")
ZOOM_FORMAT = _format(
    "Level contributions of the WCAM per classifier, view and wavelet level (share of the "
    "total index per coefficient; the levels of one image and view sum to 1), their paired "
    "difference between the views, and how often the prediction changes between views.")
FAITHFULNESS_FORMAT = _format(
    "Faithfulness per classifier and attribution method (WCAM and spatial Sobol', each with "
    "its model-free baselines): mu-fidelity (Spearman correlation between the summed indices "
    "of removed cells and the drop of the target's score), and the areas under the "
    "insertion and deletion curves.")
CLAIMS_FORMAT = _format(
    "The paper's claims against their strongest model-free baselines: the WCAM's value, each "
    "baseline's, the margin with its 95 % CI, the paired Wilcoxon test and the verdict.")
WCAM_NOISE_FORMAT = _format(
    "Estimation noise of the WCAM: rank agreement of two WCAMs of the same image with design "
    "seeds s and s + 1, at the configured grid, levels and number of designs.")
DEPTH_ROBUSTNESS_FORMAT = _format(
    "Robustness against reconstruction depth, and against its confounders (the coarse-to-fine "
    "depth, the clean prediction's confidence): fits and Spearman correlations over the clean "
    "images.",
    "n/a: the fit needs at least 3 images with distinct values")
METHODS_FORMAT = _format(
    "WAM against WCAM on the same images, grid and class: rank agreement of the pooled maps, "
    "share of mass per wavelet level, faithfulness and cost per image.")


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
    format:
        How :func:`write_table` shows it to readers (``None``: every column,
        headers in words).
    """

    inputs: tuple[str, ...]
    build: Callable[..., pd.DataFrame]
    optional: tuple[str, ...] = ()
    format: TableFormat | None = None


#: Table name → maker. Inputs: ``per_image`` / ``per_corruption``
#: (:func:`~spectral_attribution.studies.corruption.robustness_per_image`,
#: :func:`~spectral_attribution.studies.corruption.robustness_per_corruption`),
#: ``reconstruction`` (:func:`~spectral_attribution.studies.reconstruction.sufficient_reconstruction`),
#: ``zoom`` (:func:`~spectral_attribution.studies.zoom.zoom_study`),
#: ``faithfulness`` (:func:`~spectral_attribution.studies.faithfulness.faithfulness`),
#: ``depth_baselines`` (:func:`~spectral_attribution.studies.depth_baselines.baseline_depths`),
#: ``wcam_noise`` (:func:`~spectral_attribution.studies.noise.wcam_noise`),
#: ``methods`` (:func:`~spectral_attribution.studies.methods.compare_methods`).
TABLES: dict[str, TableMaker] = {
    "robustness": TableMaker(("per_image", "per_corruption"), robustness_table,
                             format=ROBUSTNESS_FORMAT),
    "reconstruction": TableMaker(("reconstruction", "per_image"), reconstruction_summary,
                                 format=RECONSTRUCTION_FORMAT),
    "zoom": TableMaker(("zoom",), zoom_table, format=ZOOM_FORMAT),
    "faithfulness": TableMaker(("faithfulness",), faithfulness_table, format=FAITHFULNESS_FORMAT),
    "claims": TableMaker(("reconstruction", "depth_baselines", "per_image", "zoom", "faithfulness"),
                         claims_table, optional=("depth_baselines", "zoom", "faithfulness"),
                         format=CLAIMS_FORMAT),
    "wcam_noise": TableMaker(("wcam_noise",), wcam_noise_table, format=WCAM_NOISE_FORMAT),
    "depth_robustness": TableMaker(("reconstruction", "depth_baselines", "per_image"),
                                   depth_robustness_fits, optional=("depth_baselines",),
                                   format=DEPTH_ROBUSTNESS_FORMAT),
    "methods": TableMaker(("methods",), methods_table, format=METHODS_FORMAT),
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
    """:func:`build_table` then :func:`write_table` (with the table's format) to
    ``stem.csv/.md/.tex/.html``; returns the paths."""
    return write_table(build_table(name, inputs), stem, fmt=TABLES[name].format, name=name)
