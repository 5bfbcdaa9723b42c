"""torchvision classifiers with their published weights, read from the torch hub cache."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from spectral_attribution.models.checkpoints import read_checkpoint
from spectral_attribution.models.layouts import _load_weights
from spectral_attribution.models.preprocessing import Preprocessing
from spectral_attribution.models.spec import ModelSpec
from spectral_attribution.models.wrapper import ModelWrapper

__all__ = ["TORCHVISION_MODELS", "torchvision_checkpoint_path"]

PREFIX = "torchvision"
PATTERN = "'torchvision:<arch>[:<WEIGHTS>]'"

#: Registered torchvision classifiers: name -> weights enum member.
TORCHVISION_MODELS: dict[str, str] = {
    "resnet18": "DEFAULT",
    "resnet50": "DEFAULT",
    "vit_b_16": "DEFAULT",
    "vgg16": "DEFAULT",
    "mobilenet_v2": "DEFAULT",
    "efficientnet_b0": "DEFAULT",
}

_INTERPOLATIONS = {"bilinear": "bilinear", "bicubic": "bicubic"}


def _torchvision_weights(arch: str, weights: str):
    import torchvision.models as tvm

    try:
        enum = tvm.get_model_weights(arch)
    except (ValueError, KeyError):
        raise KeyError(f"torchvision has no classifier {arch!r}; known: "
                       f"{sorted(tvm.list_models(module=tvm))}") from None
    try:
        return enum[weights]
    except KeyError:
        raise KeyError(f"torchvision {arch!r} has no weights {weights!r}; known: "
                       f"{[w.name for w in enum]} and 'DEFAULT'") from None


def _preprocessing_from_weights(w) -> Preprocessing:
    """Resize/crop/interpolation/mean/std of a torchvision weights entry (its ``transforms()``)."""
    t = w.transforms()
    interp = t.interpolation.value
    if interp not in _INTERPOLATIONS:
        raise ValueError(f"{w}: interpolation {interp!r} is not supported by Preprocessing")
    return Preprocessing(resize=int(t.resize_size[0]), crop=int(t.crop_size[0]),
                         mean=tuple(float(x) for x in t.mean), std=tuple(float(x) for x in t.std),
                         interpolation=interp)


def torchvision_checkpoint_path(arch: str, weights: str = "DEFAULT") -> Path:
    """Where torch hub keeps the checkpoint: ``torch.hub.get_dir()/checkpoints/<file of the URL>``."""
    w = _torchvision_weights(arch, weights)
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(w.url)


def _published_sha256(w) -> str | None:
    """The SHA-256 prefix torchvision publishes in the file name (``resnet18-f37072fd.pth``)."""
    match = torch.hub.HASH_REGEX.search(os.path.basename(w.url))
    return match.group(1) if match and match.group(1) else None


def _torchvision_file(w, download: bool = True) -> Path:
    """The hub-cache path of weights ``w``, downloaded there (hash-checked) when missing."""
    path = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(w.url)
    if path.is_file():
        return path
    reason = "download disabled"
    if download:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # writes to a temporary file, checks the hash prefix, then renames
            torch.hub.download_url_to_file(w.url, str(path), hash_prefix=_published_sha256(w),
                                           progress=False)
            reason = "no file was written"
        except Exception as exc:  # offline, proxy, hash mismatch, ...
            reason = f"{type(exc).__name__}: {exc}"
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {w} not found at {path} and the download from {w.url} "
                                f"failed ({reason}); copy the file there (or set TORCH_HOME)")
    return path


def _read_torchvision(w, download: bool = True) -> tuple[Any, Path]:
    path = _torchvision_file(w, download)
    obj = read_checkpoint(path, sha256=_published_sha256(w),
                          remedy=f"Delete it; the next load downloads it again from {w.url}.")
    return obj, path


def _torchvision_architecture(arch: str, w) -> nn.Module:
    """torchvision's ``arch`` built as its builder builds it for weights ``w``, without weights.

    The builders' constructor overrides (``torchvision.models.<arch>``):
    the number of classes of the weights, ViT's image size, MaxViT's input
    size, GoogLeNet's and Inception-v3's ``transform_input`` and auxiliary
    heads (GoogLeNet's are removed again after loading, see
    :func:`_finish_torchvision`).
    """
    import torchvision.models as tvm

    kwargs: dict[str, Any] = {}
    if w.meta.get("categories") is not None:
        kwargs["num_classes"] = len(w.meta["categories"])
    if arch.startswith("vit_"):
        kwargs["image_size"] = w.meta["min_size"][0]
    elif arch == "maxvit_t":
        kwargs["input_size"] = w.meta["min_size"]
    elif arch in ("googlenet", "inception_v3"):
        kwargs.update(transform_input=True, aux_logits=True, init_weights=False)
    return tvm.get_model(arch, weights=None, **kwargs)


def _finish_torchvision(arch: str, network: nn.Module) -> nn.Module:
    # as torchvision's builder does by default for pretrained GoogLeNet: drop
    # the auxiliary heads (Inception-v3 keeps its head; eval mode ignores it)
    if arch == "googlenet":
        network.aux_logits, network.aux1, network.aux2 = False, None, None
    return network


def _build_torchvision(spec: ModelSpec, weights: str | None = None, download: bool = True,
                       **_) -> ModelWrapper:
    arch = spec.options["arch"]
    w = _torchvision_weights(arch, weights or spec.options["weights"])
    # torchvision's own loader (weights.get_state_dict) unpickles the cached
    # file with weights_only=False: we read it ourselves and build the bare
    # architecture.
    obj, path = _read_torchvision(w, download)
    network = _torchvision_architecture(arch, w)
    _load_weights(network, obj, path)
    return ModelWrapper(_finish_torchvision(arch, network), _preprocessing_from_weights(w),
                        name=spec.name, source=str(path))


def _torchvision_spec(arch: str, weights: str = "DEFAULT", name: str | None = None) -> ModelSpec:
    w = _torchvision_weights(arch, weights)
    return ModelSpec(
        name=name or arch,
        builder=_build_torchvision,
        preprocessing=_preprocessing_from_weights(w),
        weights=f"torchvision {w} from {w.url}",
        description=f"torchvision {arch}, {w.name}; acc@1 {w.meta.get('_metrics', {}).get('ImageNet-1K', {}).get('acc@1', '?')} (published)",
        options={"arch": arch, "weights": w.name},
        family="torchvision",
        checkpoint=lambda a=arch, n=w.name: str(torchvision_checkpoint_path(a, n)),
    )


def builtin_specs() -> list[ModelSpec]:
    """The :data:`TORCHVISION_MODELS` entries (nothing is read)."""
    return [_torchvision_spec(arch, weights) for arch, weights in TORCHVISION_MODELS.items()]


def dynamic_spec(rest: str, name: str) -> ModelSpec:
    """``torchvision:<arch>[:<WEIGHTS>]``."""
    arch, _, weights = rest.partition(":")
    return _torchvision_spec(arch, weights or "DEFAULT", name=name)
