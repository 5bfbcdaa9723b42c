"""How a table is shown to a reader: headers in words, "±" cells, NaN cells with their reason.

A table has two faces. Its **CSV** is for programs (tidy data): snake_case
column names, one row per observation, one number per cell, NaN where a
value does not exist, an estimate and its interval as three numeric columns
``x``, ``x_low``, ``x_high`` (:func:`tidy_table` makes sure of it), words
only in label columns (model, method, condition, ...). Its
**Markdown, LaTeX and HTML** renderings are for readers: headers in words
with units (:mod:`spectral_attribution.studies.labels`), an estimate and its
95 % confidence interval in one cell ``"0.750 [0.610, 0.880]"`` (or a mean
and its spread ``"0.750 ± 0.120"``) with a note that says what the brackets
or ``±`` are,
a NaN cell replaced by why it is empty (``"n/a (1 image)"``), a caption,
and (LaTeX) a ``\\label{tab:<name>}``.

:class:`Column` says how one displayed column is made from the CSV's
columns, :class:`TableFormat` gathers a table's columns, caption and notes;
:func:`display_table` builds the text table, and :func:`to_markdown`,
:func:`to_latex`, :func:`to_html` render it.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from spectral_attribution.studies.labels import label, value_label

__all__ = ["Column", "TableFormat", "display_table", "to_markdown", "to_latex", "to_html",
           "latex_escape", "PM_SD", "one_image", "format_p", "tidy_table", "interval_columns", "LABEL_COLUMNS"]

#: The columns of the workflow's tables that hold words (labels of a row), not statistics;
#: every other column of a table's CSV is numeric (checked by tests/studies/test_tables.py).
LABEL_COLUMNS = frozenset({"model", "method", "condition", "level", "view", "corruption",
                           "corruptions", "worst_corruption", "claim", "quantity", "statistic",
                           "baseline", "test", "verdict", "predictor", "image_id",
                           "target_policy", "target_source", "role", "images"})

#: What "±" means in the tables whose spreads are standard deviations.
PM_SD = "mean ± SD: over the n images (SD with n - 1 degrees of freedom)"

Reason = str | Callable[[pd.Series], str]


def format_p(p) -> str:
    """A p-value as a reader wants it: ``"0.031"``, ``"0.42"``, ``"< 0.001"``; NaN as ``"n/a"``."""
    if p is None or pd.isna(p):
        return "n/a"
    p = float(p)
    return "< 0.001" if p < 0.001 else f"{p:.2g}" if p >= 0.01 else f"{p:.3f}"


_NUMBER = r"[-+−]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|inf|nan)"
_INTERVAL = re.compile(rf"^\s*({_NUMBER})\s*\[\s*(?:({_NUMBER})\s*,\s*({_NUMBER})|n/a)\s*\]\s*$")


def _float(text: str | None) -> float:
    return np.nan if text is None else float(text.replace("−", "-"))


def interval_columns(columns: Sequence[str], source: str) -> tuple[str, str] | None:
    """``(source_low, source_high)`` when both are among ``columns``, else ``None``.

    The naming rule of interval bounds in every table: an estimate ``x`` and
    its confidence interval ``x_low``, ``x_high``.
    """
    bounds = (f"{source}_low", f"{source}_high")
    return bounds if all(b in columns for b in bounds) else None


def tidy_table(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every ``"x [low, high]"`` text column split into numbers ``x``, ``x_low``, ``x_high``.

    A column whose non-missing cells are all strings of the form
    ``"0.645 [0.501, 0.774]"`` (an estimate and its interval, as
    :meth:`spectral_attribution.studies.stats.Estimate.format` writes it;
    ``"nan"`` and ``"[n/a]"`` read as NaN) becomes three float64 columns,
    in place: ``x`` (the estimate), ``x_low`` and ``x_high``. Every other
    column is left as it is, so the result is what a program reads back
    with ``pandas.read_csv``: numbers in the statistic columns, words only
    in the label columns. The readable cell is made again, from the three
    numbers, by :func:`display_table`. ``df.attrs`` is kept.

    Raises
    ------
    ValueError
        A column to split whose ``x_low`` or ``x_high`` already exists (named).
    """
    out = df.copy()
    for column in list(df.columns):
        values = df[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        present = values.dropna()
        if present.empty or not all(isinstance(v, str) for v in present):
            continue
        matches = [_INTERVAL.match(v) for v in present]
        if not all(matches):
            continue
        low_name, high_name = f"{column}_low", f"{column}_high"
        taken = [c for c in (low_name, high_name) if c in df.columns]
        if taken:
            raise ValueError(f"column {column!r} holds intervals but {taken} already exist")
        parsed = pd.DataFrame([(_float(m[1]), _float(m[2]), _float(m[3])) for m in matches],
                              index=present.index, columns=[column, low_name, high_name])
        parsed = parsed.reindex(values.index).astype("float64")
        at = list(out.columns).index(column)
        out = out.drop(columns=column)
        for k, name in enumerate((column, low_name, high_name)):
            out.insert(at + k, name, parsed[name])
    out.attrs = dict(df.attrs)
    return out


def one_image(row: pd.Series, count: str = "nb_images") -> str:
    """Reason of a missing SD: ``"n/a (1 image)"`` when the row has one image, else ``"n/a"``."""
    n = row.get(count, np.nan)
    return "n/a (1 image)" if pd.notna(n) and int(n) < 2 else "n/a"


@dataclass(frozen=True)
class Column:
    """One displayed column.

    Attributes
    ----------
    source:
        The CSV column shown.
    spread:
        Optional second column, shown in the same cell as ``"source ± spread"``.
    header:
        Header in words; default :func:`~spectral_attribution.studies.labels.label`
        of ``source``.
    fmt:
        Format of numbers (``".3f"``, ``".2g"``); ``None`` shows the value
        as it is, integral floats as integers.
    missing:
        Text of a NaN ``source`` cell, or a function ``row -> text``.
    spread_missing:
        Text (or ``row -> text``) after ``±`` when ``spread`` is NaN; default
        :func:`one_image`.
    words:
        Show values through :func:`~spectral_attribution.studies.labels.value_label`
        (corruption, level, condition, method names in words).
    paren, paren_fmt, paren_name:
        Optional column shown in parentheses after the value, formatted with
        ``paren_fmt`` and named ``paren_name`` (``"-0.62 (p = 0.01)"``).
    ci:
        Optional ``(low, high)`` columns of the value's confidence interval,
        shown after it as ``"0.420 [0.310, 0.530]"`` (a NaN bound: ``"[n/a]"``);
        ``None``: ``source_low`` and ``source_high`` when the table has both.
    render:
        Optional function ``row -> text`` that makes the whole cell (for
        cells combining several columns); a NaN ``source`` still gives
        ``missing``.
    """

    source: str
    spread: str | None = None
    header: str | None = None
    fmt: str | None = ".3f"
    missing: Reason = "n/a"
    spread_missing: Reason = one_image
    words: bool = True
    paren: str | None = None
    paren_fmt: str = ".2g"
    paren_name: str = ""
    ci: tuple[str, str] | None = None
    render: Callable[[pd.Series], str] | None = None


@dataclass(frozen=True)
class TableFormat:
    """How a table is shown: its caption, columns and notes.

    Attributes
    ----------
    caption:
        One or two sentences: what a row is, what the numbers are.
    columns:
        The displayed columns, or a function ``df -> columns`` (for tables
        whose columns depend on the data, e.g. one per view). Empty: every
        column of the table, headers from
        :func:`~spectral_attribution.studies.labels.label`.
    notes:
        Lines under the table: what ``±`` is, what "n/a" means, units.
    """

    caption: str
    columns: Sequence[Column] | Callable[[pd.DataFrame], Sequence[Column]] = ()
    notes: Sequence[str] = field(default_factory=tuple)

    def columns_for(self, df: pd.DataFrame) -> list[Column]:
        """The displayed columns for ``df``: those whose ``source`` is in it."""
        cols = self.columns(df) if callable(self.columns) else list(self.columns)
        if not cols:
            bounds = {b for c in df.columns for b in (interval_columns(df.columns, c) or ())}
            cols = [Column(c, fmt=".4g") for c in df.columns if c not in bounds]
        return [c for c in cols if c.source in df.columns]


def _reason(reason: Reason, row: pd.Series) -> str:
    return reason(row) if callable(reason) else reason


def _number(value, fmt: str | None) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if fmt is None:
            return str(int(value)) if float(value).is_integer() else format(float(value), ".4g")
        return format(float(value), fmt)
    return str(value)


def _cell(row: pd.Series, col: Column) -> str:
    value = row[col.source]
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return _reason(col.missing, row)
    if col.render is not None:
        return col.render(row)
    if isinstance(value, str):
        text = value_label(col.source, value) if col.words else value
    else:
        text = _number(value, col.fmt)
    ci = col.ci if col.ci is not None else interval_columns(row.index, col.source)
    if ci is not None and all(c in row.index for c in ci):
        low, high = (row[c] for c in ci)
        text += (" [n/a]" if pd.isna(low) or pd.isna(high)
                 else f" [{_number(low, col.fmt)}, {_number(high, col.fmt)}]")
    if col.spread is not None and col.spread in row.index:
        spread = row[col.spread]
        text += " ± " + (_reason(col.spread_missing, row) if pd.isna(spread)
                         else _number(spread, col.fmt))
    if col.paren is not None and col.paren in row.index and pd.notna(row[col.paren]):
        name = f"{col.paren_name} = " if col.paren_name else ""
        text += f" ({name}{_number(row[col.paren], col.paren_fmt)})"
    return text


def display_table(df: pd.DataFrame, fmt: TableFormat | None = None) -> pd.DataFrame:
    """The text table a reader sees: headers in words, ``±`` cells, NaN cells with a reason.

    Returns
    -------
    pandas.DataFrame
        Strings only, one column per displayed :class:`Column`, headed by
        its ``header``; the row index is a plain range.
    """
    fmt = fmt or TableFormat(caption="")
    df = df.reset_index() if any(n is not None for n in df.index.names) else df.reset_index(drop=True)
    cols = fmt.columns_for(df)
    out = {}
    for col in cols:
        header = col.header or label(col.source)
        out[header] = [_cell(row, col) for _, row in df.iterrows()]
    return pd.DataFrame(out, columns=list(out))


def to_markdown(display: pd.DataFrame, fmt: TableFormat | None = None) -> str:
    """Markdown (pipe table), then ``Table: caption`` (pandoc's caption line) and the notes."""
    text = display.to_markdown(index=False, disable_numparse=True) + "\n"
    if fmt is not None and fmt.caption:
        text += f"\nTable: {fmt.caption}\n"
    for note in (fmt.notes if fmt is not None else ()):
        text += f"\nNote: {note}\n"
    return text


_LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
                  "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "\\": r"\textbackslash{}"}
#: Characters that are not ASCII, as LaTeX writes them (after escaping).
_LATEX_SYMBOLS = {"±": r"$\pm$", "≥": r"$\geq$", "≤": r"$\leq$", "−": r"$-$", "μ": r"$\mu$",
                  "×": r"$\times$"}


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped and ``±``, ``≥``, ... as math."""
    text = "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))
    return _symbols(text)


def _symbols(text: str) -> str:
    for ch, tex in _LATEX_SYMBOLS.items():
        text = text.replace(ch, tex)
    return text


def to_latex(display: pd.DataFrame, fmt: TableFormat | None, name: str) -> str:
    """A ``table`` float: booktabs ``tabular``, ``\\caption{…}``, ``\\label{tab:<name>}``, notes.

    Cells and headers are escaped (``_`` → ``\\_``); ``±`` is ``$\\pm$``.
    Needs ``\\usepackage{booktabs}``.
    """
    caption = latex_escape(fmt.caption if fmt is not None and fmt.caption else label(name))
    body = display.to_latex(index=False, escape=True, column_format="l" * display.shape[1])
    body = _symbols(body)
    notes = "".join(f"\\par\\smallskip\\footnotesize {latex_escape(n)}\n"
                    for n in (fmt.notes if fmt is not None else ()))
    safe = re.sub(r"[^A-Za-z0-9:_-]", "-", name)
    return ("\\begin{table}[htbp]\n\\centering\n"
            f"\\caption{{{caption}}}\n\\label{{tab:{safe}}}\n"
            f"{body}{notes}\\end{{table}}\n")


def to_html(display: pd.DataFrame, fmt: TableFormat | None, name: str,
            attachments: Mapping[str, str | Path] | None = None) -> str:
    """A standalone HTML page: caption, the table, the notes, and download links.

    ``attachments`` maps a link text (``"CSV"``) to a file whose bytes are
    embedded as a ``data:`` URI with its file name, so the links work in the
    Snakemake report and wherever the page is copied.
    """
    caption = fmt.caption if fmt is not None and fmt.caption else label(name)
    table = display.to_html(index=False, escape=True, border=0, na_rep="n/a")
    table = table.replace("<table", "<table class=\"study\"", 1).replace(
        "<thead>", f"<caption>{html.escape(caption)}</caption>\n  <thead>", 1)
    notes = "".join(f"<p class=\"note\">{html.escape(n)}</p>\n"
                    for n in (fmt.notes if fmt is not None else ()))
    links = []
    for text, path in (attachments or {}).items():
        path = Path(path)
        mime = {".csv": "text/csv", ".tex": "application/x-tex", ".md": "text/markdown"}.get(
            path.suffix, "text/plain")
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        links.append(f"<a download=\"{html.escape(path.name)}\" "
                     f"href=\"data:{mime};charset=utf-8;base64,{data}\">{html.escape(text)}</a>")
    files = (f"<p class=\"files\">Download: {' · '.join(links)}</p>\n" if links else "")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(caption)}</title>\n<style>\n"
            "body { font-family: sans-serif; font-size: 14px; margin: 1em; }\n"
            "table.study { border-collapse: collapse; }\n"
            "table.study caption { caption-side: top; text-align: left; font-weight: bold;"
            " padding-bottom: 0.5em; max-width: 60em; }\n"
            "table.study th, table.study td { padding: 0.25em 0.8em; text-align: left; }\n"
            "table.study thead th { border-bottom: 1px solid #333; }\n"
            "table.study tbody tr:last-child td { border-bottom: 1px solid #333; }\n"
            "p.note { font-size: 12px; color: #444; margin: 0.3em 0; max-width: 60em; }\n"
            "</style>\n</head>\n<body>\n"
            f"{table}\n{notes}{files}</body>\n</html>\n")
