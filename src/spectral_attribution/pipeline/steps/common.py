"""Step shared by the rule files: the ``*_merge`` rules (``workflow/rules/common.smk``
holds the rules' shared helpers; this module their shared step)."""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from spectral_attribution import results
from spectral_attribution._utils.tables import read_table

__all__ = ["concat_tables"]


def concat_tables(inputs: Sequence, out_csv) -> pd.DataFrame:
    """Concatenate CSV tables (same columns) into ``out_csv``; empty tables are skipped
    unless all are empty (then the first one's columns are kept)."""
    frames = [read_table(p) for p in inputs]
    frames = [f for f in frames if not f.empty] or frames[:1]
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    results.write_csv(df, out_csv)
    return df
