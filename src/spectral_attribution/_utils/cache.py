"""One rule for every cache the project keeps: verify an entry when it is read, rebuild one that fails.

A cache entry (a downloaded archive, an extracted data set, a prepared
sample, a backend export) is worth keeping only while it is what was built.
:func:`cached` reads an entry through a ``verify`` callable; when the entry
is missing it is built, and when ``verify`` fails the entry is moved aside
(:func:`move_aside`: ``NAME.corrupt``, ``NAME.corrupt1``, ... beside it, never
deleted, so that the bad bytes can still be looked at), one message naming the
entry, the reason and where it went is said (:func:`say_once`: a
:class:`CacheRebuiltWarning` and a log line, once per rebuild, not on every
later read), the entry is built again and verified again: the next read finds
a good entry and says nothing. A rebuilt entry that still fails raises
:class:`CacheEntryError`: the fault is then in the builder or its source, and
working around it (a slower path, forever) would hide it.

Standard library only: this module sits at the bottom of the layering.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Callable, TypeVar

__all__ = ["CacheEntryError", "CacheRebuiltWarning", "cached", "move_aside", "say_once"]

T = TypeVar("T")
log = logging.getLogger("spectral_attribution.cache")
_SAID: set[str] = set()


class CacheEntryError(RuntimeError):
    """A cache entry failed its check again right after it was rebuilt."""


class CacheRebuiltWarning(UserWarning):
    """A cache entry failed its check on read: it was moved aside and rebuilt."""


def move_aside(path: str | os.PathLike) -> Path:
    """Rename ``path`` (file or folder) to ``NAME.corrupt`` (``.corrupt1``, ``.corrupt2``... if taken).

    A ``.part`` suffix is dropped first (``x.tar.part`` → ``x.tar.corrupt``).
    The rename is atomic on one file system. Returns the new path.
    """
    path = Path(path)
    final = path.name[:-5] if path.name.endswith(".part") else path.name
    aside = path.with_name(f"{final}.corrupt")
    k = 1
    while aside.exists():
        aside = path.with_name(f"{final}.corrupt{k}")
        k += 1
    os.replace(path, aside)
    return aside


def say_once(message: str, key: str | None = None) -> bool:
    """Warn ``message`` (:class:`CacheRebuiltWarning`, and the log) once per ``key`` per process.

    Returns ``True`` when it was said now, ``False`` when it had been said.
    """
    key = message if key is None else key
    if key in _SAID:
        return False
    _SAID.add(key)
    log.warning("%s", message)
    warnings.warn(message, CacheRebuiltWarning, stacklevel=3)
    return True


def cached(path: str | os.PathLike, verify: Callable[[Path], T], build: Callable[[Path], None],
           what: str = "cache entry") -> T:
    """The verified content of the cache entry ``path``, built or rebuilt as needed.

    Parameters
    ----------
    path:
        The entry (a file or a folder).
    verify:
        ``verify(path)`` returns what the caller reads (e.g. the loaded
        object, or ``None``) or raises any ``Exception`` saying what is wrong
        (a checksum, a size, a truncated archive, a missing member).
    build:
        ``build(path)`` writes the entry (atomically, preferably). Called when
        the entry is missing, and once after a failed ``verify``; exceptions
        propagate (e.g. a download refused).
    what:
        How messages name the entry (``"ImageNet validation images"``).

    Returns
    -------
    What ``verify`` returned for the good entry.

    Raises
    ------
    CacheEntryError
        The rebuilt entry fails ``verify`` too (both reasons are named).
    """
    path = Path(path)
    if not path.exists():
        build(path)
        return verify(path)
    try:
        return verify(path)
    except Exception as first:  # noqa: BLE001 - any failure of the check means: rebuild
        aside = move_aside(path)
        say_once(f"{what} {path} failed its check ({type(first).__name__}: {first}); moved aside "
                 f"to {aside.name} and rebuilt", key=f"{what}:{aside}")  # one message per rebuild
        build(path)
        try:
            return verify(path)
        except Exception as second:  # noqa: BLE001
            raise CacheEntryError(f"{what} {path} was rebuilt after failing its check "
                                  f"({first}) and fails again: {second}") from second
