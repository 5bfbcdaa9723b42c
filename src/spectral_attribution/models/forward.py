"""The one batched forward loop through which the engine, the metrics and the studies call a model.

:class:`ForwardPass` and :func:`forward_logits` run the network through
:mod:`spectral_attribution.models.backends`; :func:`forward_options` folds the
deprecated ``autocast`` / ``channels_last`` arguments into ``precision`` /
``backend``; :func:`available_device`, :func:`model_device` and
:func:`model_name` are the small checks the loop needs.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING, Iterator, Sequence

import numpy as np

from spectral_attribution._utils.autocast import check_autocast

if TYPE_CHECKING:  # pragma: no cover - typing only
    import torch

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


def available_device(device) -> "torch.device":
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
    the device and the model, see :mod:`spectral_attribution.models.backends`).

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
    itself runs through :class:`spectral_attribution.models.backends.BackendForward`
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
        :func:`spectral_attribution.models.backends.resolve_precision`).
    backend:
        ``"eager"`` (default), ``"channels_last"``, ``"compile"``,
        ``"onnxruntime"``, ``"openvino"``, ``"cuda_graphs"`` or ``"auto"``
        (see :mod:`spectral_attribution.models.backends`; any backend but eager is
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

        from spectral_attribution.models import backends

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
        from spectral_attribution.models.backends import AUTOCAST_DTYPES

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
            from spectral_attribution._utils.checks import check_images

            images = check_images(images)  # (N, C, H, W), channels first (issue 22 §2)
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
