"""Classifiers paired with their preprocessing, always in eval and inference mode.

A :class:`ModelWrapper` takes images in pixel space, ``[0, 1]`` floats of
shape ``(B, 3, H, W)`` already resized and cropped, applies the network's own
normalisation, and returns logits ``(B, K)``. Every explainer perturbs images
*before* that normalisation (see METHOD.md, section 6). Networks whose
``forward`` returns a tuple, a dict or an output object are unwrapped to their
logits (:func:`as_logits`); anything else is refused when the model is wrapped.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
from torch import nn

from spectral_attribution.models.errors import ModelOutputError
from spectral_attribution.models.preprocessing import Preprocessing

__all__ = ["ModelWrapper", "as_wrapper", "as_logits"]


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
