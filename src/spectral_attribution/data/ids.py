"""Image ids: a lossless, unique, documented function of an image's path.

Scheme 2 (:data:`IMAGE_ID_SCHEME`)
----------------------------------
The id of an image file is its path relative to the source's root (POSIX
separators, normalised: no ``.`` or ``..`` parts, extension kept), in which

* every letter and digit (any script: ``é``, ``ß``, ``猫``), ``.``, ``_``, ``-``
  and the separator ``/`` are kept as is;
* every other character (space, ``%``, ``@``, ``'``, ``+``, ``#``, ``\``,
  combining accents...) is written ``%XX`` for each byte of its UTF-8 form
  (percent-encoding, upper-case hex).

So ``café.jpg`` → ``café.jpg``, ``a b.jpg`` → ``a%20b.jpg``, ``a_b.jpg`` →
``a_b.jpg``, ``dog.jpg`` and ``dog.png`` stay apart, and
``n01440764/x.JPEG`` stays ``n01440764/x.JPEG``. Because ``%`` itself is
encoded, :func:`path_of_id` gives the relative path back exactly: two files
never share an id, and ``@`` (which separates a corrupted copy's clean id
from its corruption, ``"{image_id}@{corruption}-{severity}"``) never occurs
inside an id. An id is a name, never a file name to parse: nothing reads a
format from its suffix, and nothing uses it as a path (``show`` builds its
default output name from it with ``/`` replaced).

Scheme 1 (before this module) kept only ``[A-Za-z0-9._-]`` of the stem,
replacing the rest with ``_`` (lossy: ``café`` → ``caf``, ``a b`` and ``a_b``
collided). Which scheme made a sample table is recorded beside it
(:data:`IMAGE_ID_SCHEME`).

Built-in sources whose images have fixed names keep them: the embedded
photographs are ``chelsea``, ``coffee``, ...
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path, PurePath
from typing import Sequence

__all__ = ["IMAGE_ID_SCHEME", "image_id", "path_of_id", "image_ids", "ImageIdCollision"]

#: Version of the id scheme (recorded with every sample table; see the module docstring).
IMAGE_ID_SCHEME = 2

_KEEP_ASCII = frozenset("._-/")


class ImageIdCollision(ValueError):
    """Two entries of one source name the same file (both are named)."""


def _keep(ch: str) -> bool:
    if ch.isascii():
        return ch.isalnum() or ch in _KEEP_ASCII
    return ch.isalnum()  # letters and digits of any script; marks, spaces, symbols encoded


def image_id(relative_path: str | os.PathLike) -> str:
    """The id of the image at ``relative_path`` (relative to its source's root); see the module docstring.

    Raises
    ------
    ValueError
        An empty path, or one that is ``.`` after normalisation.
    """
    text = PurePath(relative_path).as_posix() if isinstance(relative_path, PurePath) else \
        str(relative_path).replace(os.sep, "/")
    norm = posixpath.normpath(text)
    if norm in ("", "."):
        raise ValueError(f"no image id for the path {relative_path!r}")
    return "".join(ch if _keep(ch) else "".join(f"%{b:02X}" for b in ch.encode("utf-8"))
                   for ch in norm)


def path_of_id(image_id_: str) -> str:
    """The relative path (POSIX) an id was made from: the inverse of :func:`image_id`."""
    out = bytearray()
    k = 0
    while k < len(image_id_):
        ch = image_id_[k]
        if ch == "%":
            out.append(int(image_id_[k + 1:k + 3], 16))
            k += 3
        else:
            out += ch.encode("utf-8")
            k += 1
    return out.decode("utf-8")


def image_ids(paths: Sequence[str | os.PathLike], root: str | os.PathLike,
              entries: Sequence[str] | None = None) -> list[str]:
    """The ids of ``paths`` (files under ``root``), checked unique.

    Parameters
    ----------
    paths:
        The image files.
    root:
        The source's root: ids are made from the paths relative to it (a
        path outside it keeps its ``..`` parts).
    entries:
        How the source names each file (e.g. the ``file`` column of a
        ``labels.csv``), for messages; default the paths.

    Raises
    ------
    ImageIdCollision
        Two entries name the same file (``a.jpg`` and ``./a.jpg``, or two
        spellings of one file on a case-insensitive file system, or two hard
        links): both entries are named. Raised before any image is decoded.
    """
    root = Path(root)
    names = [str(e) for e in (entries if entries is not None else paths)]
    ids = [image_id(os.path.relpath(Path(p), root)) for p in paths]
    first: dict = {}
    for k, (p, i) in enumerate(zip(paths, ids)):
        keys = [("id", i)]
        try:
            st = os.stat(p)
            keys.append(("file", st.st_dev, st.st_ino))
        except OSError:
            pass
        for key in keys:
            if key in first:
                j = first[key]
                raise ImageIdCollision(
                    f"{names[j]!r} and {names[k]!r} name the same image"
                    + (f" (id {i!r})" if key[0] == "id" else " file")
                    + f" in {root}; list each image once")
            first[key] = k
    return ids
