"""Models: the wrapper and preprocessing, the registry, weight sources, the forward loop and its backends.

Importing this package is cheap (no torch): the registry's names are looked up
on first use (PEP 562), so that the workflow can build its DAG from
:mod:`spectral_attribution.pipeline` without loading torch.

Layout
------
``core``
    Errors, :class:`Preprocessing`, :class:`ModelWrapper`, the registry
    (:func:`load_model`, :func:`list_models`), checkpoint sniffing and safe
    loading, state-dict layouts and the weight sources.
``forward``
    The one batched forward loop (:class:`ForwardPass`, :func:`forward_logits`).
``backends``
    Eager PyTorch, ``torch.compile``, CUDA graphs and ONNX Runtime behind one call.
``devices``
    Device leases (one GPU per job).
"""

from __future__ import annotations

import importlib


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    core = importlib.import_module("spectral_attribution.models.core")
    try:
        value = getattr(core, name)
    except AttributeError:
        raise AttributeError(f"module 'spectral_attribution.models' has no attribute {name!r}") from None
    return value
