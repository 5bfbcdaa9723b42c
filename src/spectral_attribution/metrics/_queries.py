"""Model queries shared by the reconstruction and faithfulness metrics.

Masks ``(m, d)`` with values in ``[0, 1]`` (1 keeps a grid cell) are turned
into images by a perturbation and sent, a batch at a time, through the
package's one forward loop
(:class:`~spectral_attribution.models.forward.ForwardPass`); the logits come
back as a float32 CPU tensor ``(m, K)``.
"""

from __future__ import annotations

import numpy as np
import torch

from spectral_attribution.models.forward import ForwardPass, model_device


# --------------------------------------------------------------------------
# Model queries
# --------------------------------------------------------------------------
# numpy < 2 names it trapz.
_trapezoid = getattr(np, "trapezoid", None) or getattr(np, "trapz")

def _device(model, context) -> torch.device:
    """Where masks are built: the model's device, else the context's, else the CPU."""
    dev = model_device(model) if model is not None else None
    if dev is not None:
        return dev
    tensors = getattr(context, "tensors", None)
    if isinstance(tensors, dict):
        for t in tensors.values():
            if isinstance(t, torch.Tensor):
                return t.device
    return torch.device("cpu")


def _logits(model, perturbation, context, masks: np.ndarray, batch_size: int,
            autocast: str | None = None, *,
            precision: str = "float32", backend: str = "eager") -> torch.Tensor:
    """Logits ``(m, K)`` (float32, CPU) of the images built from ``masks`` ``(m, d)``.

    The images are built a batch at a time and go through the package's one
    forward loop (:class:`~spectral_attribution.models.forward.ForwardPass`).
    """
    forward = ForwardPass(model, batch_size, precision, backend, autocast=autocast)
    device = _device(model, context)

    def images():
        for start in range(0, len(masks), forward.batch_size):
            m = torch.as_tensor(np.asarray(masks[start:start + forward.batch_size], dtype=np.float32),
                                device=device)
            yield perturbation(context, m)

    return forward(images())


def _scores(logits: torch.Tensor, target: int, score: str) -> np.ndarray:
    if not 0 <= target < logits.shape[-1]:
        raise ValueError(f"target {target} is outside the model's {logits.shape[-1]} classes "
                         f"[0, {logits.shape[-1]})")
    if score == "logit":
        return logits[:, target].double().numpy()
    if score == "probability":
        return torch.softmax(logits.double(), dim=-1)[:, target].numpy()
    raise ValueError(f"score must be 'logit' or 'probability', got {score!r}")


def _dim(perturbation, dim=None) -> int:
    d = dim if dim is not None else getattr(perturbation, "dim", None)
    if d is None:
        raise ValueError("the perturbation has no 'dim'; pass dim explicitly")
    return int(d)
