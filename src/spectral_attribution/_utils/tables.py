"""Reading the project's CSV tables: identifiers stay strings (even ``"NA"``), required columns are checked."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import pandas as pd

TEXT_COLUMNS = frozenset({"image_id", "source_image_id", "path", "file", "class_name",
                          "corruption", "model", "nickname", "wnid"})

# pandas' default NA strings (the list documented for ``pandas.read_csv``):
# they still mean "missing" in every column that is not an identifier.
_NA_STRINGS = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
               "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]


def is_text_column(name: str) -> bool:
    """Whether :func:`read_table` reads column ``name`` as text (see :data:`TEXT_COLUMNS`)."""
    return name in TEXT_COLUMNS or str(name).endswith("_id")


def read_table(path: str | os.PathLike, all_text: bool = False, **kw) -> pd.DataFrame:
    """Read a CSV file of the project, keeping identifiers as written.

    Identifier and name columns (:data:`TEXT_COLUMNS` and every column whose
    name ends in ``_id``) are read as ``str``, and only an empty field is
    missing there: an image named ``NA.jpg``, ``null.png``, ``nan.jpg`` or
    ``None.jpg`` keeps the id ``"NA"``, ``"null"``, ``"nan"`` or ``"None"``
    (pandas' defaults would turn them into NaN). Other columns are parsed as
    pandas does by default (numbers, and its usual NA strings).

    Parameters
    ----------
    path:
        The CSV file (with a header line).
    all_text:
        Read every column as ``str`` and nothing as missing (empty fields
        stay ``""``), e.g. for a user's ``labels.csv`` that is validated field
        by field.
    **kw:
        Passed to :func:`pandas.read_csv` (not ``dtype``, ``na_values`` or
        ``keep_default_na``).

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist (named).
    pandas.errors.EmptyDataError
        The file is empty (no header).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"table not found: {path}")
    if all_text:
        return pd.read_csv(path, dtype=str, keep_default_na=False, **kw)
    columns = pd.read_csv(path, nrows=0, **{k: v for k, v in kw.items() if k in ("sep", "encoding")}).columns
    text = [c for c in columns if is_text_column(c)]
    na_values = {c: ([""] if c in text else _NA_STRINGS) for c in columns}
    return pd.read_csv(path, dtype={c: str for c in text}, keep_default_na=False,
                       na_values=na_values, **kw)


def require_columns(df: pd.DataFrame, columns: Iterable[str], what: str = "table") -> None:
    """Check that ``df`` has every column of ``columns``.

    Raises
    ------
    KeyError
        Naming the missing column(s) and the columns ``df`` has.
    """
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"{what} lacks column(s) {missing}; it has {list(df.columns)}")


# --------------------------------------------------------------------------
# Small checks
# --------------------------------------------------------------------------
