"""Tables of the studies: writing them, and the registry of the workflow's table makers.

(Just over 400 lines: the registry of table makers, one short function per table, and the writer they share.)

:func:`write_table` writes any table as ``.csv`` (for programs, tidy: snake_case
columns, numbers, NaN, an interval as ``x``, ``x_low``, ``x_high``), and as ``.md``, ``.tex`` and ``.html`` for readers
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

from spectral_attribution import catalog
from spectral_attribution._utils.tables import read_table
from spectral_attribution._utils.files import write_text
from spectral_attribution.studies.corruption import robustness_table
from spectral_attribution.studies.claims import claims_table, depth_robustness_fits
from spectral_attribution.studies.faithfulness import faithfulness_table
from spectral_attribution.studies.labels import label, value_label
from spectral_attribution.studies.methods import methods_table
from spectral_attribution.studies.noise import wcam_noise_table
from spectral_attribution.studies.reconstruction import reconstruction_summary
from spectral_attribution.studies.zoom import zoom_table
from spectral_attribution.studies.table_format import (
    Column,
    TableFormat,
    display_table,
    format_p,
    interval_columns,
    tidy_table,
    to_html,
    to_latex,
    to_markdown,
)

__all__ = ["write_table", "TableMaker", "TABLES", "build_table", "make_table", "CI_NOTE", "ci_note"]


def write_table(df: pd.DataFrame, stem, index: bool | None = None, floatfmt: str = ".4g",
                fmt: TableFormat | None = None, name: str | None = None) -> dict[str, Path]:
    """Write ``df`` as ``<stem>.csv`` for programs and ``.md``, ``.tex``, ``.html`` for readers.

    - **CSV**: the table as tidy data (snake_case columns, numbers, NaN as
      an empty cell; a column of ``"x [low, high]"`` cells is written as the
      numbers ``x``, ``x_low``, ``x_high`` by
      :func:`~spectral_attribution.studies.table_format.tidy_table`), read
      back with :func:`~spectral_attribution._utils.tables.read_table`.
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
    (:func:`~spectral_attribution._utils.files.atomic_path`), so a reader never
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

    Notes
    -----
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
    df = tidy_table(df)  # "x [low, high]" text cells -> x, x_low, x_high numbers
    shown = display_table(df if index else df.reset_index(drop=True), fmt)
    paths = {ext: stem.with_name(f"{stem.name}.{ext}") for ext in ("csv", "md", "tex", "html")}
    write_text(df.to_csv(index=index), paths["csv"])
    write_text(to_markdown(shown, fmt), paths["md"])
    write_text(to_latex(shown, fmt, name), paths["tex"])
    write_text(to_html(shown, fmt, name, {"CSV (for programs)": paths["csv"],
                                          "LaTeX": paths["tex"]}), paths["html"])
    return paths


# -- the workflow's tables: how they are shown ------------------------------------------
def ci_note(statistic: str = "mean") -> str:
    """What ``"<statistic> [low, high]"`` means in a summary table."""
    return (f"{statistic} [low, high]: the {statistic} over images and its 95 % percentile-bootstrap "
            "confidence interval (9,999 resamples of the images, seeded; a single image or a "
            "constant sample gives a point interval)")


#: What "[low, high]" means in the tables of means.
CI_NOTE = ci_note("mean")
_CI = "mean [95 % CI]"


def _ci(source: str, header: str, fmt: str = ".3f", missing: str = "n/a (no image has a value)",
        statistic: str = "mean") -> Column:
    """An estimate with its interval: a ``"mean [low, high]"`` string column, or a numeric
    ``source`` with its ``source_low`` / ``source_high`` bounds."""
    return Column(source, header=f"{header}, {statistic} [95 % CI]", fmt=fmt, missing=missing,
                  ci=(f"{source}_low", f"{source}_high"), words=False)


def _p(row: pd.Series, p: str = "p", n: str | None = None, test: str | None = None) -> str:
    text = format_p(row.get(p))
    extra = [str(row[test]).replace("wilcoxon", "Wilcoxon").replace("spearman", "Spearman")
             if test and pd.notna(row.get(test)) else None,
             f"n = {int(row[n])}" if n and pd.notna(row.get(n)) else None]
    extra = [e for e in extra if e]
    return text + (f" ({', '.join(extra)})" if extra else "")


def _fit_missing(row: pd.Series) -> str:
    if str(row.get("condition", "clean")) != "clean":
        return "n/a (fit on clean images only)"
    return "n/a (fit needs ≥ 3 images with distinct depths and robustness)"


ROBUSTNESS_FORMAT = TableFormat(
    caption="Robustness per classifier and corruption set: the share of an image's corrupted "
            "copies that keep its clean prediction (1: the prediction never changes), and the "
            "corruption and severity of lowest robustness.",
    columns=[Column("model"), Column("corruptions", header="corruption set"),
             Column("nb_images", header="images (n)", fmt=None),
             Column("robustness_mean", header=f"robustness (share of copies), {_CI}",
                    ci=("robustness_low", "robustness_high"), missing="n/a (no image)"),
             Column("worst_corruption"), Column("worst_severity", header="its severity (1-5)", fmt=None),
             Column("worst_robustness", header="its robustness (share of images)")],
    notes=(CI_NOTE, "The SD over images is in the CSV (robustness_std)."))

RECONSTRUCTION_FORMAT = TableFormat(
    caption="Sufficient reconstruction per classifier and image set: share of images whose "
            "prediction the WCAM order restores, and median reconstruction depths (share of the "
            "grid cells) with the WCAM's order and with random orders, over the same images; for "
            "the clean images, the fit of robustness on depth.",
    columns=[Column("model"), Column("condition"),
             Column("nb_images", header="images (n)", fmt=None),
             Column("found_share", header="restored by the WCAM order (share of images)"),
             _ci("depth_share_median", "depth, WCAM order (share of cells)", statistic="median"),
             Column("random_depth_share_median",
                    header="depth, random orders (share of cells), median [95 % CI] "
                           "(share of draws that restore)",
                    ci=("random_depth_share_median_low", "random_depth_share_median_high"),
                    paren="random_found_share", paren_fmt=".2f", words=False,
                    missing="n/a (no random draws)"),
             Column("wilcoxon_p", header="Wilcoxon p, WCAM vs random (n)",
                    render=lambda r: _p(r, "wilcoxon_p", "wilcoxon_n"),
                    missing="n/a (no paired images)"),
             Column("slope", header="slope of robustness on depth (Pearson r)", paren="r",
                    paren_name="r", fmt=".3f", missing=_fit_missing)],
    notes=(ci_note("median"),
           "depth: fewest grid cells, added in the order's sequence, whose wavelet coefficients "
           "restore the prediction. Random orders: each image's median over its draws, then the "
           "median over images. Intercept and p of the fit are in the CSV."))


def _zoom_columns(df: pd.DataFrame) -> list[Column]:
    bounds = {b for c in df.columns for b in (interval_columns(df.columns, c) or ())}
    views = [c[len("difference_"):] for c in df.columns
             if c.startswith("difference_") and c not in bounds]
    first = [c for c in df.columns if c not in ("model", "level", "nb_images") and c not in bounds
             and not c.startswith(("difference_", "wilcoxon_"))]
    cols = [Column("model"), Column("level"), Column("nb_images", header="images (n)", fmt=None)]
    cols += [Column(v, header=f"{value_label('view', v)}, {_CI}", words=False,
                    missing="n/a (no such level in this view)") for v in first]
    for v in views:
        cols.append(Column(f"difference_{v}", header=f"{first[0]} − {v}, {_CI}", words=False,
                           missing="n/a (level in one view only)"))
        cols.append(Column(f"wilcoxon_p_{v}", header=f"Wilcoxon p, {first[0]} vs {v}",
                           render=lambda r, v=v: format_p(r[f"wilcoxon_p_{v}"]),
                           missing="n/a (level in one view only)"))
    return cols


ZOOM_FORMAT = TableFormat(
    caption="Level contributions of the WCAM per classifier and wavelet level (approximation "
            "first, then the coarsest to the finest details) in each view, and their paired "
            "difference between the views.",
    columns=_zoom_columns, notes=(CI_NOTE,))


def _method_columns(metrics: Mapping[str, str]):
    return [_ci(c, h, missing="n/a (undefined for this method)") for c, h in metrics.items()]


FAITHFULNESS_FORMAT = TableFormat(
    caption="Faithfulness per classifier and attribution method (WCAM and spatial Sobol', each "
            "with its model-free baselines): mu-fidelity (Spearman correlation between the "
            "summed indices of removed cells and the drop of the target's score), and the areas "
            "under the insertion and deletion curves.",
    columns=[Column("model"), Column("method"), Column("nb_images", header="images (n)", fmt=None),
             *_method_columns({"mu_fidelity": "mu-fidelity",
                               "mu_fidelity_approximation_kept": "mu-fidelity, approximation kept",
                               "insertion_auc": "insertion AUC (higher is better)",
                               "deletion_auc": "deletion AUC (lower is better)"})],
    notes=(CI_NOTE, "n/a: a metric the method has no value for (e.g. mu-fidelity of a constant "
                    "output, or the approximation-kept variant of a spatial method)."))


def _undefined(row: pd.Series) -> str:
    if str(row.get("statistic")) == "rho":
        return "n/a (a correlation needs ≥ 2 images with distinct values)"
    return "n/a (no image with both values)"


def _claim_value(row: pd.Series, column: str) -> str:
    value = row.get(column)
    return "n/a" if pd.isna(value) else f"{float(value):.3f}"


CLAIMS_FORMAT = TableFormat(
    caption="The paper's claims against their model-free baselines: the WCAM's value, the "
            "baseline's, the margin (> 0 favours the claim) with its 95 % CI, the paired test "
            "and the verdict.",
    columns=[Column("model"),
             Column("claim", header="claim (image set)",
                    render=lambda r: f"{r['claim']} ({value_label('condition', r['condition'])})"),
             Column("quantity", header="quantity (statistic over images)",
                    render=lambda r: f"{r['quantity']}, {r['statistic']}"),
             Column("wcam", header="WCAM", render=lambda r: _claim_value(r, "wcam"),
                    missing=_undefined),
             Column("baseline", header="baseline (its value), role",
                    render=lambda r: f"{r['baseline']} ({_claim_value(r, 'baseline_value')}), "
                                     f"{r['role']}"),
             _ci("estimate", "margin", missing=_undefined, statistic="estimate"),
             Column("p", header="p (test, n)", render=lambda r: _p(r, "p", "n", "test"),
                    missing=lambda r: f"n/a (too few images for the test, n = {int(r['n'])})"
                    if pd.notna(r.get("n")) else "n/a (too few images for the test)"),
             Column("verdict", header="verdict",
                    render=lambda r: str(r["verdict"]) + (
                        f" (Holm p {format_p(r['p_holm'])})" if pd.notna(r.get("p_holm")) else "")
                    + (f", about {int(r['images_needed'])} images would decide it"
                       if pd.notna(r.get("images_needed")) else ""))],
    notes=("estimate [low, high]: the margin over images and its 95 % confidence interval "
           "(percentile bootstrap, 9,999 resamples of the images, seeded); WCAM and baseline: "
           "their values over the same images (median, mean or rho, as the quantity says).",))


def _configuration(row: pd.Series) -> str:
    return (f"grid {int(row['grid_size'])}, {int(row['nb_design'])} designs, "
            f"J = {int(row['levels'])}")


WCAM_NOISE_FORMAT = TableFormat(
    caption="Estimation noise of the WCAM: rank agreement of two WCAMs of the same image with "
            "design seeds s and s + 1, at the configured grid, levels and number of designs.",
    columns=[Column("model"),
             Column("grid_size", header="configuration", render=_configuration),
             Column("nb_images", header="images (n)", fmt=None),
             _ci("spearman", "Spearman rho between seeds"),
             Column("spearman_min", header="lowest Spearman rho"),
             Column("same_top_cell", header="same most important cell (share of images)"),
             Column("top_overlap", header="overlap of the top cells (share, mean)")],
    notes=(CI_NOTE,))

DEPTH_ROBUSTNESS_FORMAT = TableFormat(
    caption="Robustness against reconstruction depth, and against its possible confounders "
            "(the coarse-to-fine depth, the clean prediction's confidence): least-squares fits "
            "and Spearman correlations over the clean images.",
    columns=[Column("model"), Column("images", header="images"),
             Column("predictor", words=False),
             Column("n", header="images in the fit (n)", fmt=None),
             Column("slope", header="slope, estimate [95 % t interval]",
                    ci=("slope_low", "slope_high"),
                    missing="n/a (the fit needs ≥ 3 images with distinct values)"),
             Column("r", header="Pearson r (p)",
                    render=lambda r: f"{float(r['r']):.3f} (p {'' if format_p(r['p']).startswith('<') else '= '}"
                                     f"{format_p(r['p'])})",
                    missing="n/a (the fit needs ≥ 3 images with distinct values)"),
             _ci("spearman", "Spearman rho", missing="n/a (needs ≥ 2 images with distinct values)",
                 statistic="estimate")],
    notes=("estimate [low, high]: for the slope, its 95 % t interval (n - 2 degrees of freedom); "
           "for Spearman rho, its 95 % percentile-bootstrap interval (9,999 resamples of the "
           "images, seeded).",))


def _cost(row: pd.Series) -> str:
    return (f"{float(row['wall_time_s']):.3g} s; {int(row['nb_forward'])} forward, "
            f"{int(row['nb_backward'])} backward")


METHODS_FORMAT = TableFormat(
    caption="WAM against WCAM on the same images, grid and class: rank agreement of the pooled "
            "maps with the WCAM, share of mass on the approximation, faithfulness and cost per "
            "image.",
    columns=[Column("model"), Column("method"), Column("nb_images", header="images (n)", fmt=None),
             *_method_columns({"spearman": "Spearman rho with the WCAM",
                               "share_approximation": "share on the approximation",
                               "mu_fidelity": "mu-fidelity",
                               "insertion_auc": "insertion AUC"}),
             Column("wall_time_s", header="cost per image (median)", render=_cost)],
    notes=(CI_NOTE, "Left out here, in the CSV: the rank agreement on the detail cells only "
                    "(spearman_details) and the deletion AUC (deletion_auc)."))


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
_MAKERS: dict[str, TableMaker] = {
    "robustness": TableMaker(("per_image", "per_corruption"), robustness_table,
                             format=ROBUSTNESS_FORMAT),
    "reconstruction": TableMaker(("reconstruction", "per_image"), reconstruction_summary,
                                 format=RECONSTRUCTION_FORMAT),
    "zoom": TableMaker(("zoom",), zoom_table, format=ZOOM_FORMAT),
    "faithfulness": TableMaker(("faithfulness",), faithfulness_table, format=FAITHFULNESS_FORMAT),
    "claims": TableMaker(("reconstruction", "depth_baselines", "per_image", "zoom", "faithfulness",
                          "wcam_noise"),
                         claims_table, optional=("depth_baselines", "zoom", "faithfulness",
                                                 "wcam_noise"),
                         format=CLAIMS_FORMAT),
    "wcam_noise": TableMaker(("wcam_noise",), wcam_noise_table, format=WCAM_NOISE_FORMAT),
    "depth_robustness": TableMaker(("reconstruction", "depth_baselines", "per_image"),
                                   depth_robustness_fits, optional=("depth_baselines",),
                                   format=DEPTH_ROBUSTNESS_FORMAT),
    "methods": TableMaker(("methods",), methods_table, format=METHODS_FORMAT),
}
#: The registry, in the order and with the names of :data:`spectral_attribution.catalog.TABLES`
#: (a name without a maker fails here, at import).
TABLES: dict[str, TableMaker] = {name: _MAKERS[name] for name in catalog.TABLES}


def build_table(name: str, inputs: Mapping[str, str | os.PathLike | pd.DataFrame]) -> pd.DataFrame:
    """Build table ``name`` of :data:`TABLES` from its study tables.

    Parameters
    ----------
    inputs:
        Study-table name → CSV path (read with
        :func:`~spectral_attribution._utils.tables.read_table`) or DataFrame.

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
