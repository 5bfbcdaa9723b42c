"""Helpers shared by every layer of the package (its lowest layer but for backends and progress).

One home for what several modules need, in the spirit of captum's
``_utils/common.py``. This module imports from the package only
:mod:`~spectral_attribution.backends` (lower still), and that and torch only
inside the functions that need them, so that
``spectral_attribution.results`` and ``spectral_attribution.pipeline``
(imported by Snakemake while it builds the DAG) stay cheap to import.

Sections
--------
Precision
    :data:`AUTOCAST_VALUES`, :func:`check_autocast`, :func:`autocast_dtype`,
    :func:`autocast_context`: the one table of accepted mixed-precision values.
Forward pass
    :class:`ForwardPass` and :func:`forward_logits`: the one batched loop
    through which the engine, the metrics and the studies call a model (the
    network runs through :mod:`spectral_attribution.backends`);
    :func:`forward_options` folds the deprecated ``autocast`` /
    ``channels_last`` arguments into ``precision`` / ``backend``.
Atomic writes
    :func:`atomic_path` and the writers built on it (:func:`write_text`,
    :func:`write_json`, :func:`write_csv`, :func:`write_npz`,
    :func:`write_image`).
Tables
    :func:`read_table` (identifiers stay strings, even ``"NA"``) and
    :func:`require_columns`.
Small checks
    :func:`as_image_list`, :func:`check_ids`, :func:`model_name`,
    :func:`model_device`, :func:`progress_bar`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover - typing only
    import torch

__all__ = [
    "AUTOCAST_VALUES",
    "check_autocast",
    "autocast_dtype",
    "autocast_context",
    "forward_options",
    "ForwardPass",
    "forward_logits",
    "predictions",
    "model_device",
    "check_device",
    "model_name",
    "umask",
    "atomic_path",
    "write_text",
    "to_json",
    "write_json",
    "write_csv",
    "write_npz",
    "write_image",
    "TEXT_COLUMNS",
    "is_text_column",
    "read_table",
    "require_columns",
    "as_image_list",
    "check_ids",
    "format_bytes",
    "progress_bar",
]


# --------------------------------------------------------------------------
# Precision
# --------------------------------------------------------------------------
#: Accepted values of every ``autocast`` argument of the package, and the
#: ``torch`` dtype each one autocasts the forward passes to (``None``: no
#: autocast, the network runs in float32).
AUTOCAST_VALUES: dict[str | None, str | None] = {
    None: None,
    "none": None,
    "float32": None,
    "bfloat16": "bfloat16",
    "float16": "float16",
}


def check_autocast(autocast: str | None) -> str | None:
    """Normalise an ``autocast`` value: ``None`` (float32) or ``"bfloat16"`` / ``"float16"``.

    ``None``, ``"none"`` and ``"float32"`` all mean "no autocast" and give
    ``None``; the other accepted values are returned unchanged.

    Raises
    ------
    ValueError
        ``autocast`` is not one of :data:`AUTOCAST_VALUES` (the accepted
        values are listed).
    """
    try:
        return AUTOCAST_VALUES[autocast]
    except (KeyError, TypeError):
        accepted = [v for v in AUTOCAST_VALUES if v is not None]
        raise ValueError(f"autocast must be None or one of {accepted}; got {autocast!r}") from None


def autocast_dtype(autocast: str | None):
    """The ``torch.dtype`` of an ``autocast`` value (``None`` for float32); see :func:`check_autocast`."""
    name = check_autocast(autocast)
    if name is None:
        return None
    import torch

    return getattr(torch, name)


def autocast_context(device_type: str, autocast: str | None):
    """``torch.autocast(device_type, dtype)`` for ``autocast``, or a null context for float32."""
    dtype = autocast_dtype(autocast)
    if dtype is None:
        return contextlib.nullcontext()
    import torch

    return torch.autocast(device_type=device_type, dtype=dtype)


# --------------------------------------------------------------------------
# The forward pass
# --------------------------------------------------------------------------
def model_device(model) -> "torch.device | None":
    """Where ``model`` runs: its ``device`` attribute (a :class:`~spectral_attribution.models.ModelWrapper`),
    else the device of its first parameter or buffer, else ``None`` (a bare callable)."""
    import torch

    dev = getattr(model, "device", None)
    if isinstance(dev, torch.device):
        return dev
    if isinstance(model, torch.nn.Module):
        for t in list(model.parameters()) + list(model.buffers()):
            return t.device
    return None


def check_device(device) -> "torch.device":
    """``torch.device(device)``, checked to exist on this machine.

    Parameters
    ----------
    device:
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``, a ``torch.device``...

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        Not a device name torch knows; a CUDA device on a torch build
        without CUDA, on a machine with no visible GPU, or with an index
        past the GPUs there are; ``"mps"`` where it is not available. The
        message names the device and what to use instead.
    """
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as err:
        raise ValueError(f"device {device!r} is not a torch device name ({err}); "
                         f"use e.g. cpu, cuda or cuda:1") from None
    if dev.type == "cuda":
        if torch.version.cuda is None:
            raise ValueError(f"device {str(device)!r}: this torch build ({torch.__version__}) has no "
                             f"CUDA support; use cpu, or install a CUDA build of torch")
        count = torch.cuda.device_count()
        if count == 0:
            raise ValueError(f"device {str(device)!r}: no CUDA GPU is visible on this machine "
                             f"(CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')!r}); "
                             f"use cpu")
        if dev.index is not None and dev.index >= count:
            raise ValueError(f"device {str(device)!r}: this machine has {count} CUDA GPU(s), "
                             f"cuda:0 to cuda:{count - 1}")
    elif dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(f"device {str(device)!r}: Apple's MPS is not available here; use cpu")
    return dev


def model_name(model) -> str:
    """The registry name of a model wrapper (``model.name``), else its class name."""
    return str(getattr(model, "name", type(model).__name__))


def forward_options(precision: str | None = "float32", backend: str = "eager",
                    autocast: str | None = None, channels_last: bool | None = None) -> tuple[str, str]:
    """``(precision, backend)`` as asked, with the deprecated ``autocast`` / ``channels_last`` folded in.

    ``autocast`` (``None``, ``"none"``, ``"float32"``, ``"bfloat16"``,
    ``"float16"``) was the package's precision argument before ``precision``;
    a value other than ``None`` becomes the precision. ``channels_last=True``
    becomes ``backend="channels_last"`` when ``backend`` is ``"eager"``.
    Both emit a :class:`DeprecationWarning`.

    Returns the requested values (``"auto"`` stays ``"auto"``: resolving needs
    the device and the model, see :mod:`spectral_attribution.backends`).

    Raises
    ------
    ValueError
        An ``autocast`` value not in :data:`AUTOCAST_VALUES`; ``autocast``
        and ``precision`` both given with different values (both named).
    """
    import warnings

    precision = "float32" if precision in (None, "none") else precision
    if autocast is not None:
        old = check_autocast(autocast) or "float32"
        warnings.warn("autocast= is deprecated; use precision= (float32, bfloat16, float16, auto)",
                      DeprecationWarning, stacklevel=3)
        if precision not in ("float32", old):
            raise ValueError(f"autocast={autocast!r} and precision={precision!r} disagree; "
                             f"give precision only (autocast is deprecated)")
        precision = old
    if channels_last:
        warnings.warn("channels_last= is deprecated; use backend='channels_last' (or 'auto')",
                      DeprecationWarning, stacklevel=3)
        if backend == "eager":
            backend = "channels_last"
    return precision, backend


class ForwardPass:
    """The one batched forward-pass loop of the package.

    The explainers' engine, the metrics (reconstruction depth, mu-fidelity,
    insertion / deletion) and the studies (predictions on corrupted copies)
    all call their model through an instance of this class, so that
    precision, backend and device are handled in one place: the network
    itself runs through :class:`spectral_attribution.backends.BackendForward`
    (eager PyTorch, or an exported / compiled copy checked against it).

    Parameters
    ----------
    model:
        A callable ``(b, C, H, W) -> logits (b, K)``, typically a
        :class:`~spectral_attribution.models.ModelWrapper` (``[0, 1]`` images in).
        It is never trained: calls run under ``torch.inference_mode``. A
        callable that is not a ``torch.nn.Module`` runs as it is (eager).
    batch_size:
        Images per forward pass when :meth:`__call__` gets a whole tensor or a
        list of images (batches given one by one are used as they come).
        A positive integer.
    precision:
        ``"float32"`` (default; ``None`` / ``"none"`` too), ``"bfloat16"``,
        ``"float16"`` (autocast of the model call only) or ``"auto"``
        (reduced precision only where the hardware runs it natively; see
        :func:`spectral_attribution.backends.resolve_precision`).
    backend:
        ``"eager"`` (default), ``"channels_last"``, ``"compile"``,
        ``"onnxruntime"``, ``"openvino"``, ``"cuda_graphs"`` or ``"auto"``
        (see :mod:`spectral_attribution.backends`; any backend but eager is
        used only where its logits agree with eager's within 1e-3).
    device:
        Where inputs are moved before the call; default
        :func:`model_device` of ``model`` (the CPU when that is unknown).
    autocast, channels_last:
        Deprecated spellings of ``precision`` and ``backend="channels_last"``
        (see :func:`forward_options`).

    Attributes
    ----------
    precision, backend:
        The resolved values (never ``"auto"``); ``backend`` builds the backend
        on a random example when no batch has been seen yet.

    Raises
    ------
    ValueError
        ``batch_size`` not a positive integer; an unknown precision, backend
        or ``autocast`` value (named); a backend other than eager/auto for a
        model that is not a ``torch.nn.Module``; a backend the device cannot
        run (e.g. ``onnxruntime`` on CUDA).
    """

    def __init__(self, model, batch_size: int = 64, precision: str | None = "float32",
                 backend: str = "eager", device=None, *, autocast: str | None = None,
                 channels_last: bool | None = None):
        import torch

        from . import backends

        if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        precision, backend = forward_options(precision, backend, autocast, channels_last)
        self.model = model
        self.batch_size = int(batch_size)
        self.device = torch.device(device) if device is not None else model_device(model)
        if isinstance(model, torch.nn.Module):
            self.runner = backends.BackendForward(model, backend, precision, self.device,
                                                  batch_size=self.batch_size)
            self.device = self.runner.device
            self.precision = self.runner.precision
        else:
            if backend not in ("eager", "auto"):
                raise ValueError(f"backend {backend!r} needs a torch.nn.Module; "
                                 f"got a {type(model).__name__} (use backend='eager')")
            self.runner = None
            self.precision = backends.resolve_precision(precision, self.device or "cpu")

    @property
    def backend(self) -> str:
        """The backend that runs the network (resolved; ``"eager"`` for plain callables)."""
        return "eager" if self.runner is None else self.runner.backend

    @property
    def autocast(self) -> str | None:
        """Deprecated: the resolved precision as the old ``autocast`` value (``None`` for float32)."""
        return None if self.precision == "float32" else self.precision

    def settings(self) -> dict:
        """``{"precision", "backend"}``: the resolved values, for the results."""
        return {"precision": self.precision, "backend": self.backend}

    def logits(self, x: "torch.Tensor") -> "torch.Tensor":
        """``float32`` logits ``(b, K)`` of one batch ``x`` ``(b, C, H, W)``, on the model's device.

        The single call site of the model in the package.
        """
        import torch

        if self.runner is not None:
            return self.runner(x)
        from .backends import AUTOCAST_DTYPES

        device = self.device if self.device is not None else x.device
        x = x.to(device)
        dtype = AUTOCAST_DTYPES[self.precision]
        context = (torch.autocast(device_type=device.type, dtype=dtype) if dtype is not None
                   else contextlib.nullcontext())
        with torch.inference_mode(), context:
            return self.model(x).float()

    def batches(self, images) -> Iterator["torch.Tensor"]:
        """The batches of ``images`` (see :meth:`__call__`), in order."""
        import torch

        if isinstance(images, torch.Tensor):
            if images.ndim == 3:
                images = images.unsqueeze(0)
            if images.ndim != 4:
                raise ValueError(f"images must be (B, C, H, W), got shape {tuple(images.shape)}")
            for start in range(0, len(images), self.batch_size):
                yield images[start:start + self.batch_size]
            return
        if isinstance(images, (list, tuple)) and images and torch.as_tensor(images[0]).ndim == 3:
            device = self.device if self.device is not None else torch.as_tensor(images[0]).device
            for start in range(0, len(images), self.batch_size):
                yield torch.stack([torch.as_tensor(x).to(device, torch.float32)
                                   for x in images[start:start + self.batch_size]])
            return
        yield from images

    def __call__(self, images, classes: int | Sequence[int] | None = None) -> "torch.Tensor":
        """``float32`` logits on the CPU, one row per image, in order.

        Parameters
        ----------
        images:
            A ``(N, C, H, W)`` tensor (cut into batches of ``batch_size``), a
            sequence of ``(C, H, W)`` tensors (stacked ``batch_size`` at a
            time, as ``float32``), or an iterable of ``(b, C, H, W)`` batches
            (e.g. a generator of perturbed images; each batch is consumed
            before the next is requested, so a generator may reuse its buffer).
        classes:
            Keep only these logit columns (an ``int`` or a list of ints),
            selected on the device before the copy to the CPU.

        Returns
        -------
        torch.Tensor
            ``(N, K)`` (or ``(N, len(classes))``) ``float32`` on the CPU;
            ``(0, 0)`` when there is no image.
        """
        import torch

        if isinstance(classes, (int, np.integer)):
            classes = [int(classes)]
        out = []
        for batch in self.batches(images):
            logits = self.logits(batch)
            if classes is not None:
                logits = logits[:, list(classes)]
            out.append(logits.cpu())
        return torch.cat(out) if out else torch.empty(0, 0)


def predictions(model, images, batch_size: int = 64, autocast: str | None = None, *,
                precision: str = "float32", backend: str = "eager"):
    """Predicted classes and their softmax probabilities, through :class:`ForwardPass`.

    Parameters
    ----------
    model, images, batch_size, precision, backend, autocast:
        As :class:`ForwardPass` (``images``: a ``(N, C, H, W)`` tensor or a
        sequence of ``(C, H, W)`` tensors in ``[0, 1]``; ``autocast``
        deprecated).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``int64`` classes ``(N,)`` (argmax of the logits) and ``float64``
        probabilities ``(N,)`` in ``[0, 1]`` (softmax, in float64, of the
        ``float32`` logits).
    """
    import torch

    logits = ForwardPass(model, batch_size, precision, backend, autocast=autocast)(images)
    if logits.numel() == 0:
        return np.empty(0, np.int64), np.empty(0)
    top = torch.softmax(logits.double(), dim=-1).max(dim=-1)
    return top.indices.numpy().astype(np.int64), top.values.numpy()


def forward_logits(model, images, batch_size: int = 64, precision: str = "float32",
                   backend: str = "eager", device=None,
                   classes: int | Sequence[int] | None = None) -> "torch.Tensor":
    """``ForwardPass(model, batch_size, precision, backend, device)(images, classes)``.

    ``float32`` CPU logits ``(N, K)`` of ``images``; see :class:`ForwardPass`.
    """
    return ForwardPass(model, batch_size, precision, backend, device)(images, classes)


# --------------------------------------------------------------------------
# Atomic writes
# --------------------------------------------------------------------------
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
def as_image_list(images) -> list:
    """``(B, 3, H, W)`` tensor or sequence of ``(3, H, W)`` tensors → list of ``(3, H, W)`` tensors.

    Raises
    ------
    ValueError
        A tensor of the wrong number of dimensions (its shape is given).
    """
    import torch

    if isinstance(images, torch.Tensor):
        if images.ndim == 3:
            images = images.unsqueeze(0)
        if images.ndim != 4:
            raise ValueError(f"images must be (B, 3, H, W), got shape {tuple(images.shape)}")
        return list(images)
    out = [torch.as_tensor(x) for x in images]
    for x in out:
        if x.ndim != 3:
            raise ValueError(f"each image must be (3, H, W), got shape {tuple(x.shape)}")
    return out


def format_bytes(nbytes: float) -> str:
    """``"480 KiB"``, ``"3.2 MiB"``, ``"6.1 GiB"``: a memory size for people (binary units)."""
    for unit, scale in (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if nbytes >= scale:
            value = nbytes / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{int(nbytes)} bytes"


def check_ids(image_ids: Sequence, count: int, what: str = "images") -> list[str]:
    """``image_ids`` as strings; ``ValueError`` unless there is one per ``count`` items."""
    ids = [str(i) for i in image_ids]
    if len(ids) != count:
        raise ValueError(f"got {len(ids)} image_ids for {count} {what}")
    return ids


def progress_bar(iterable, show, desc: str, total=None, unit: str = "images"):
    """``iterable``, reported by :func:`spectral_attribution.progress.track` when ``show`` allows.

    ``show``: ``False`` nothing; ``None`` a bar on a terminal only; ``True``
    a bar on a terminal and log lines elsewhere (every 10 % or 30 s). Each
    item's work runs inside ``progress.task("image k of N")``.
    """
    if show is False:
        return iterable
    from .progress import track

    return track(iterable, show, desc, total=total, unit=unit, label_items=True)


def mapping_get(mapping: Mapping, key: str, what: str):
    """``mapping[key]``, or a ``KeyError`` naming ``what`` and the keys present."""
    try:
        return mapping[key]
    except KeyError:
        raise KeyError(f"{what}: missing {key!r} (given: {sorted(mapping)})") from None
