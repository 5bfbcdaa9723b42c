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

import numpy as np
import pandas as pd

from .._common import read_table, require_columns, write_text
from .corruption import robustness_table
from .labels import label, level_sort_key
from .reconstruction import reconstruction_summary
from .table_format import (
    PM_SD,
    Column,
    TableFormat,
    display_table,
    to_html,
    to_latex,
    to_markdown,
)

__all__ = ["write_table", "TableMaker", "TABLES", "build_table", "make_table",
           "zoom_summary", "faithfulness_summary"]


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


# -- the workflow's tables: builders ---------------------------------------------------
def zoom_summary(zoom: pd.DataFrame) -> pd.DataFrame:
    """The zoom table in long form: one row per model and level, one column pair per view.

    Parameters
    ----------
    zoom:
        :func:`~spectral_attribution.studies.zoom.zoom_study` table (columns
        ``model, image_id, view, level, contribution``; several models
        concatenated).

    Returns
    -------
    pandas.DataFrame
        Columns ``model, level, nb_images``, then ``<view>_mean, <view>_sd``
        per view (in order of appearance; mean and SD, ``ddof=1``, of the
        level contribution over images), then ``difference_mean,
        difference_sd``: the per-image difference last view − first view
        (paired on ``image_id``). Levels coarsest first (approximation,
        then ``level_J`` … ``level_1``). NaN where a view has no such level
        (its ``J`` is smaller) or, for SDs, with one image.
    """
    require_columns(zoom, ["model", "image_id", "view", "level", "contribution"], "zoom table")
    views = list(dict.fromkeys(zoom["view"]))
    rows = []
    for model, part in zoom.groupby("model", sort=False):
        for level in sorted(part["level"].unique(), key=level_sort_key):
            at = part[part["level"] == level]
            row = {"model": model, "level": level, "nb_images": int(at["image_id"].nunique())}
            per_view = {}
            for view in views:
                values = at[at["view"] == view].set_index("image_id")["contribution"].astype(float)
                per_view[view] = values
                row[f"{view}_mean"] = float(values.mean()) if len(values) else np.nan
                row[f"{view}_sd"] = float(values.std(ddof=1)) if len(values) > 1 else np.nan
            first, last = per_view[views[0]], per_view[views[-1]]
            diff = (last - first).dropna() if len(views) > 1 else pd.Series(dtype=float)
            row["difference_mean"] = float(diff.mean()) if len(diff) else np.nan
            row["difference_sd"] = float(diff.std(ddof=1)) if len(diff) > 1 else np.nan
            rows.append(row)
    columns = ["model", "level", "nb_images",
               *[f"{v}_{s}" for v in views for s in ("mean", "sd")], "difference_mean", "difference_sd"]
    return pd.DataFrame(rows, columns=columns)


#: Metrics of the faithfulness table, in column order.
FAITHFULNESS_METRICS = ("mu_fidelity", "insertion_auc", "deletion_auc")


def faithfulness_summary(faith: pd.DataFrame) -> pd.DataFrame:
    """Mean and SD over images of each faithfulness metric, per model and method.

    Parameters
    ----------
    faith:
        :func:`~spectral_attribution.studies.faithfulness.faithfulness` table.

    Returns
    -------
    pandas.DataFrame
        Columns ``model, method, nb_images``, then ``<metric>_mean,
        <metric>_sd`` (``ddof=1``; NaN with one image) for ``mu_fidelity,
        insertion_auc, deletion_auc``.
    """
    require_columns(faith, ["model", "method", *FAITHFULNESS_METRICS], "faithfulness table")
    rows = []
    for (model, method), part in faith.groupby(["model", "method"], sort=False):
        row = {"model": model, "method": method,
               "nb_images": int(part["image_id"].nunique()) if "image_id" in part else len(part)}
        for metric in FAITHFULNESS_METRICS:
            values = part[metric].astype(float)
            row[f"{metric}_mean"] = float(values.mean())
            row[f"{metric}_sd"] = float(values.std(ddof=1)) if len(values) > 1 else np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=["model", "method", "nb_images",
                                       *[f"{m}_{s}" for m in FAITHFULNESS_METRICS
                                         for s in ("mean", "sd")]])


# -- the workflow's tables: how they are shown ------------------------------------------
def _fit_missing(row: pd.Series) -> str:
    """Why the depth-robustness fit of a row is empty."""
    if row.get("condition", "clean") != "clean":
        return "n/a (fit on clean images only)"
    restored = row.get("nb_images", np.nan) * row.get("found_share", np.nan)
    if pd.isna(restored) or round(float(restored)) < 3:
        return "n/a (fit needs ≥ 3 restored images)"
    return "n/a (all depths equal)"


_CLASSIFIER = Column("model", header="classifier", fmt=None)
_N = Column("nb_images", header="images (n)", fmt=None)

ROBUSTNESS_FORMAT = TableFormat(
    caption="Robustness per classifier: the share of an image's corrupted copies that keep "
            "its clean prediction (1: the prediction never changes), and the corruption and "
            "severity with the lowest robustness.",
    columns=(_CLASSIFIER, _N,
             Column("robustness_mean", spread="robustness_std",
                    header="robustness, mean ± SD (share of copies)"),
             Column("worst_corruption", header="worst corruption"),
             Column("worst_severity", header="its severity (1-5)", fmt=None),
             Column("worst_robustness", header="its robustness (share of images)")),
    notes=(PM_SD,),
)

RECONSTRUCTION_FORMAT = TableFormat(
    caption="Sufficient reconstruction per classifier and image set: share of images whose "
            "prediction is restored, median reconstruction depth with the WCAM's order and "
            "with random orders of the grid cells, and the least-squares fit of robustness "
            "on depth over the clean images.",
    columns=(_CLASSIFIER,
             Column("condition", header="image set"),
             _N,
             Column("found_share", header="restored (share of images)"),
             Column("depth_share_median", header="median depth, WCAM order (share of cells)",
                    missing="n/a (never restored)"),
             Column("random_depth_share_median",
                    header="median depth, random orders (share of cells)",
                    missing="n/a (never restored)"),
             Column("slope", header="slope (robustness per share of cells)", missing=_fit_missing),
             Column("r", paren="p", paren_name="p", header="Pearson r (p-value)",
                    missing=_fit_missing)),
    notes=("depth: fewest grid cells whose wavelet coefficients restore the prediction, as a "
           "share of the cells; medians over the images whose prediction is restored",
           "random orders: per image the median over the draws, then the median over images",
           "fit: robustness = slope × depth + intercept over the clean images with a depth "
           "(least squares; the intercept is in the CSV)"),
)


def _zoom_columns(df: pd.DataFrame) -> list[Column]:
    views = [c[: -len("_mean")] for c in df.columns
             if c.endswith("_mean") and c != "difference_mean"]
    cols = [_CLASSIFIER, Column("level", header="wavelet level"), _N]
    cols += [Column(f"{v}_mean", spread=f"{v}_sd", header=f"{v} view, mean ± SD",
                    missing="n/a (no such level in this view)") for v in views]
    if len(views) > 1:
        cols.append(Column("difference_mean", spread="difference_sd",
                           header=f"{views[-1]} − {views[0]}, mean ± SD",
                           missing="n/a (level in one view only)"))
    return cols


ZOOM_FORMAT = TableFormat(
    caption="Level contributions of the WCAM per classifier and wavelet level in each view "
            "(share of the total index per coefficient; the levels of one image and view sum "
            "to 1), and their per-image difference between the views.",
    columns=_zoom_columns,
    notes=(PM_SD, "difference: per image, the last view minus the first, then mean ± SD over "
                  "the images that have the level in both views",
           "detail level 1 holds the finest details; n/a: the view's wavelet has fewer levels"),
)


def _faithfulness_columns(df: pd.DataFrame) -> list[Column]:
    return [_CLASSIFIER, Column("method", header="attribution method"), _N,
            *[Column(f"{m}_mean", spread=f"{m}_sd", header=f"{label(m)}, mean ± SD")
              for m in FAITHFULNESS_METRICS]]


FAITHFULNESS_FORMAT = TableFormat(
    caption="Faithfulness of the WCAM and of the spatial Sobol' map per classifier: "
            "mu-fidelity (Spearman correlation between the summed indices of removed cells "
            "and the drop of the target's score), and the areas under the insertion and "
            "deletion curves.",
    columns=_faithfulness_columns,
    notes=(PM_SD,),
)


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
    format:
        How :func:`write_table` shows it to readers (``None``: every column,
        headers in words).
    """

    inputs: tuple[str, ...]
    build: Callable[..., pd.DataFrame]
    format: TableFormat | None = None


#: Table name → maker. Inputs: ``per_image`` / ``per_corruption``
#: (:func:`~spectral_attribution.studies.corruption.robustness_per_image`,
#: :func:`~spectral_attribution.studies.corruption.robustness_per_corruption`),
#: ``reconstruction`` (:func:`~spectral_attribution.studies.reconstruction.sufficient_reconstruction`),
#: ``zoom`` (:func:`~spectral_attribution.studies.zoom.zoom_study`),
#: ``faithfulness`` (:func:`~spectral_attribution.studies.faithfulness.faithfulness`).
TABLES: dict[str, TableMaker] = {
    "robustness": TableMaker(("per_image", "per_corruption"), robustness_table, ROBUSTNESS_FORMAT),
    "reconstruction": TableMaker(("reconstruction", "per_image"), reconstruction_summary,
                                 RECONSTRUCTION_FORMAT),
    "zoom": TableMaker(("zoom",), zoom_summary, ZOOM_FORMAT),
    "faithfulness": TableMaker(("faithfulness",), faithfulness_summary, FAITHFULNESS_FORMAT),
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
    missing = [key for key in maker.inputs if key not in inputs]
    if missing:
        raise KeyError(f"table {name!r} needs the study table(s) {missing}; given: {sorted(inputs)}")
    frames = [inputs[k] if isinstance(inputs[k], pd.DataFrame) else read_table(inputs[k])
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
