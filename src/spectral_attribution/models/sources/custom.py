"""A torchvision architecture with the user's own checkpoint (``custom:<arch>``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from spectral_attribution.models.checkpoints import read_checkpoint
from spectral_attribution.models.layouts import _check_normaliser, _load_weights
from spectral_attribution.models.preprocessing import IMAGENET_MEAN, IMAGENET_STD, Preprocessing
from spectral_attribution.models.spec import ModelSpec
from spectral_attribution.models.wrapper import ModelWrapper

PREFIX = "custom"
PATTERN = "'custom:<arch>'"


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


def builtin_specs() -> list[ModelSpec]:
    return []


def dynamic_spec(rest: str, name: str) -> ModelSpec:
    """``custom:<arch>``."""
    return _custom_spec(rest)
