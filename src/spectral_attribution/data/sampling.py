"""Checking and sampling a sample table (see :mod:`spectral_attribution.data.samples`).

:func:`check_images` decodes every image of a table (in threads) and either
raises :class:`~spectral_attribution.data.decoding.ImageDecodeError` naming
the bad files or drops them; :func:`sample_images` draws ``n`` rows without
replacement with a fixed seed (optionally stratified by class);
:func:`sample_good_images` draws until ``n`` decodable images are found.
"""

from __future__ import annotations

import concurrent.futures
import os
from typing import Sequence

import numpy as np
import pandas as pd

from spectral_attribution.data.decoding import ImageDecodeError, load_image
from spectral_attribution.data.samples import _check_table

__all__ = [
    "check_images",
    "sample_images",
    "sample_good_images",
]


def _decode_errors(paths: Sequence[str], workers: int | None = None) -> list[str]:
    """One string per path: ``""`` when :func:`load_image` decodes it, else its error."""

    def one(p):
        try:
            load_image(p)
            return ""
        except (ImageDecodeError, FileNotFoundError, IsADirectoryError) as exc:
            return str(exc)

    workers = workers or min(8, os.cpu_count() or 1)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, list(paths)))


def _bad_image_error(bad: pd.DataFrame, tried: int) -> ImageDecodeError:
    lines = "\n".join(f"  {p}: {e}" for p, e in zip(bad["path"], bad["error"]))
    return ImageDecodeError(f"{len(bad)} of {tried} image(s) cannot be decoded "
                            f"(set skip_bad_images to leave them out):\n{lines}")


def check_images(df: pd.DataFrame, skip_bad: bool = False,
                 workers: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Decode every image of a sample table fully with :func:`load_image`.

    Returns
    -------
    (good, bad):
        ``good`` holds the rows that decode (same columns, index reset);
        ``bad`` the rows that do not, with an extra ``error`` column (str).

    Raises
    ------
    ImageDecodeError
        When some images fail and ``skip_bad`` is false; the message names
        *every* bad file and its error.
    """
    _check_table(df)
    errors = _decode_errors(df["path"], workers)
    ok = np.array([e == "" for e in errors], dtype=bool)
    bad = df.loc[~ok].copy()
    bad["error"] = pd.Series([e for e in errors if e], index=bad.index, dtype=object)
    if len(bad) and not skip_bad:
        raise _bad_image_error(bad, len(df))
    return df.loc[ok].reset_index(drop=True), bad.reset_index(drop=True)


def sample_good_images(df: pd.DataFrame, n: int, seed: int, stratify: bool = False,
                       skip_bad: bool = False,
                       workers: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n`` rows that decode, drawn without replacement, reproducibly from ``seed``.

    The first draw is exactly :func:`sample_images` ``(df, n, seed, stratify)``;
    its images are decoded (:func:`load_image`). With ``skip_bad``, each image
    that does not decode is replaced by a new draw among the rows never drawn
    (with ``stratify``, from the same label while one is left), and so on
    until ``n`` images decode or the table is exhausted. When every image
    decodes, the sample is that of :func:`sample_images`.

    Returns
    -------
    (good, bad):
        ``good``: ``n`` rows in table order, index reset; ``bad``: the drawn
        rows that did not decode, with an ``error`` column.

    Raises
    ------
    ImageDecodeError
        Some drawn image does not decode and ``skip_bad`` is false (every bad
        file named).
    ValueError
        ``n`` larger than the table, or (``skip_bad``) fewer than ``n``
        images of the table decode (the counts and the bad files are named).
    """
    positions = [int(p) for p in _sample_positions(df, n, seed, stratify)]  # = sample_images
    tried: set[int] = set()
    good: list[int] = []
    bad: list[tuple[int, str]] = []
    rnd = 0
    labels = df["label"].to_numpy()
    while True:
        tried.update(positions)
        errors = _decode_errors(df["path"].iloc[positions], workers)
        good += [p for p, e in zip(positions, errors) if not e]
        new_bad = [(p, e) for p, e in zip(positions, errors) if e]
        bad += new_bad
        if bad and not skip_bad:
            table = df.iloc[[p for p, _ in bad]].copy()
            table["error"] = [e for _, e in bad]
            raise _bad_image_error(table, len(tried))
        missing = n - len(good)
        if missing <= 0:
            break
        rest = np.array(sorted(set(range(len(df))) - tried), dtype=int)
        if not len(rest):
            listed = "; ".join(f"{df['path'].iloc[p]}: {e}" for p, e in bad[:20])
            raise ValueError(f"only {len(good)} of the {len(df)} images of the source decode, fewer "
                             f"than n_images = {n}; undecodable ({len(bad)}): {listed}")
        rnd += 1
        rng = np.random.default_rng([int(seed), rnd])  # reproducible replacement draws
        if stratify:
            positions = []
            for p, _ in new_bad:
                same = [q for q in rest if labels[q] == labels[p] and q not in positions]
                pool = same or [q for q in rest if q not in positions]
                if pool:
                    positions.append(int(rng.choice(pool)))
        else:
            positions = [int(q) for q in rng.choice(rest, size=min(missing, len(rest)), replace=False)]
    good_table = df.iloc[sorted(good)].reset_index(drop=True)
    bad_table = df.iloc[[p for p, _ in bad]].copy()
    bad_table["error"] = pd.Series([e for _, e in bad], index=bad_table.index, dtype=object)
    return good_table, bad_table.reset_index(drop=True)


def sample_images(df: pd.DataFrame, n: int, seed: int, stratify: bool = False) -> pd.DataFrame:
    """``n`` rows drawn **without replacement**, reproducibly from ``seed``.

    Parameters
    ----------
    df:
        A sample table.
    n:
        Number of rows, ``0 <= n <= len(df)``.
    seed:
        Integer seed of :func:`numpy.random.default_rng`; the same table and
        seed always give the same rows.
    stratify:
        Allocate the draws to labels proportionally to their frequency
        (largest-remainder rounding, ties broken by the seeded generator),
        then draw inside each label. With 1000 equally frequent classes and
        ``n = 1000`` that is exactly one image per class.

    Returns
    -------
    The selected rows in their original table order, index reset.

    Raises
    ------
    ValueError
        ``n`` negative or larger than the table (both named).
    TypeError
        ``n`` or ``seed`` not an integer.
    """
    return df.iloc[_sample_positions(df, n, seed, stratify)].reset_index(drop=True)


def _sample_positions(df: pd.DataFrame, n: int, seed: int, stratify: bool = False) -> np.ndarray:
    """Sorted row positions drawn by :func:`sample_images` (same checks and errors)."""
    _check_table(df)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n must be an integer, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if n > len(df):
        raise ValueError(f"cannot sample n={n} images without replacement from a table of {len(df)}")
    rng = np.random.default_rng(int(seed))
    if not stratify:
        chosen = rng.choice(len(df), size=n, replace=False)
    else:
        labels = df["label"].to_numpy()
        classes, counts = np.unique(labels, return_counts=True)
        quota = n * counts / counts.sum()
        alloc = np.floor(quota).astype(int)
        rest = n - alloc.sum()
        if rest:
            # largest remainders first; a random key breaks ties reproducibly
            order = np.lexsort((rng.random(len(classes)), -(quota - alloc)))
            alloc[order[:rest]] += 1
        chosen = []
        for c, k in zip(classes, alloc):
            members = np.flatnonzero(labels == c)
            if k:
                chosen.extend(rng.choice(members, size=k, replace=False))
        chosen = np.asarray(chosen, dtype=int)
    return np.sort(chosen)
