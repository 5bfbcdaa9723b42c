"""Atomic writes: :func:`atomic_path` and the writers built on it.

A reader never sees a half-written file: each writer writes a temporary file
in the target's folder and renames it over the target.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd


def umask() -> int:
    """The process's file-mode creation mask (e.g. ``0o022``), read without changing it.

    Linux exposes it in ``/proc/self/status``; elsewhere it is read with
    :func:`os.umask` (set and restored at once).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` on success.

    The temporary name is ``.NAME.tmp-PID-RANDOM.EXT``: it keeps the suffix of
    ``path`` (writers such as ``matplotlib`` and ``numpy.savez`` look at it)
    and starts with a dot, so that globs like ``shard-*.npz`` never see it.
    Parent folders are created. The move is :func:`os.replace`, atomic on
    POSIX file systems: a reader sees the previous file or the new one, never
    a truncated one. On an exception the temporary file is removed and
    ``path`` is untouched.

    **File mode.** Before the move, the file gets the mode any new file gets
    from the user's umask (``0o666 & ~umask``: ``0644`` under umask ``022``,
    ``0640`` under ``027``), whatever mode the writer created it with (a
    ``tempfile``-style writer would leave ``0600``): figures, tables and
    shards are readable by the collaborators the umask allows.

    Raises
    ------
    FileNotFoundError
        The block wrote nothing to the temporary path.

    Example
    -------
    >>> with atomic_path("out/fig.pdf") as tmp:       # doctest: +SKIP
    ...     fig.savefig(tmp)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(path.suffixes[-1:])
    stem = path.name[: len(path.name) - len(suffix)] if suffix else path.name
    tmp = path.with_name(f".{stem}.tmp-{os.getpid()}-{secrets.token_hex(4)}{suffix}")
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written to the temporary file {tmp} for {path}")
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_text(text: str, path: str | os.PathLike) -> Path:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically; returns ``path``."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    return Path(path)


def _json_default(obj):
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, (set, tuple)):
        return list(obj)
    return str(obj)


def to_json(obj: Any, **kw) -> str:
    """JSON text of ``obj``; numpy scalars/arrays, paths and dataclasses are converted."""
    return json.dumps(obj, default=_json_default, **kw)


def write_json(obj: Any, path: str | os.PathLike) -> Path:
    """Write ``obj`` as indented, key-sorted JSON to ``path`` atomically."""
    return write_text(to_json(obj, indent=2, sort_keys=True) + "\n", path)


def write_csv(df: pd.DataFrame, path: str | os.PathLike, **kw) -> Path:
    """Write a DataFrame as CSV (no index unless ``index=True``) atomically."""
    kw.setdefault("index", False)
    with atomic_path(path) as tmp:
        df.to_csv(tmp, **kw)
    return Path(path)


def write_npz(path: str | os.PathLike, **arrays) -> Path:
    """``numpy.savez_compressed`` to ``path`` atomically (``path`` should end in ``.npz``)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
    return Path(path)


def write_image(image, path: str | os.PathLike, format: str = "PNG") -> Path:
    """Save a PIL image to ``path`` atomically (``format``: any PIL format name)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            image.save(fh, format=format)
    return Path(path)


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------
#: Columns read as text by :func:`read_table` (with every ``*_id`` column):
#: identifiers and names, which must never turn into numbers or NaN.
