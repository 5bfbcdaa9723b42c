"""RobustBench's ImageNet zoo (checkpoints under ``MODEL_DIR/imagenet/<threat>/<Name>.pt``)."""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import torch
from torch import nn

from spectral_attribution.models.checkpoints import read_checkpoint
from spectral_attribution.models.errors import CheckpointError, UnsupportedModelError
from spectral_attribution.models.layouts import _check_normaliser, _load_weights
from spectral_attribution.models.preprocessing import IMAGENET_MEAN, IMAGENET_STD, Preprocessing
from spectral_attribution.models.sources.torchvision import _read_torchvision
from spectral_attribution.models.spec import ModelSpec
from spectral_attribution.models.wrapper import ModelWrapper

__all__ = ["ROBUSTBENCH_MODELS", "robustbench_model_dir", "robustbench_checkpoint_path"]

PREFIX = "robustbench"
PATTERN = "'robustbench:<threat>:<Name>'"

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
    mean_std = (IMAGENET_MEAN, IMAGENET_STD)  # robustbench.model_zoo.imagenet's mu, sigma

    if "Standard" in name and not path.is_file():
        # RobustBench's Standard_R50 *is* torchvision's ResNet-50 IMAGENET1K_V1
        # behind its normaliser; read those weights from the torch hub cache.
        network = normalize_model(tvm.resnet50(), *mean_std)
        w = tvm.ResNet50_Weights.IMAGENET1K_V1
        try:
            obj, hub = _read_torchvision(w, download)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"RobustBench {name}: no checkpoint at {path} nor torchvision's "
                f"{Path(torch.hub.get_dir()) / 'checkpoints' / os.path.basename(w.url)} "
                f"(origin {w.url}); place either file there") from None
        _load_weights(network.model, obj, hub)
        return ModelWrapper(network, spec.preprocessing, name=spec.name, source=str(hub))

    gdrive = entry.get("gdrive_id")
    if isinstance(gdrive, list):
        raise UnsupportedModelError(f"RobustBench {name} is an ensemble of checkpoints; not supported")
    if not gdrive and "Standard" not in name:
        raise UnsupportedModelError(f"RobustBench {name} has no checkpoint file of its own (a timm "
                                  f"model downloaded by timm); not supported")
    network = normalize_model(tvm.resnet50(), *mean_std) if "Standard" in name else entry["model"]()
    origin = f"https://drive.google.com/uc?id={gdrive}"
    fresh = False
    if not path.is_file():
        if download:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                rb_utils.download_gdrive_new(gdrive, path)
            except Exception as exc:  # offline, quota, ...: report below
                log_exc = f"{type(exc).__name__}: {exc}"
            else:
                log_exc = "no file was written"
            fresh = path.is_file()
        else:
            log_exc = "download disabled"
        if not path.is_file():
            raise FileNotFoundError(f"RobustBench checkpoint for {name} ({threat}) not found at "
                                    f"{path}; it comes from {origin} ({log_exc}). Place the file "
                                    f"there or set SPECTRAL_ATTRIBUTION_MODEL_DIR / model_dir")
    remedy = (f"Delete it; the next load downloads it again from {origin}." if download else
              f"Delete it and download it again from {origin}.")
    try:
        obj = read_checkpoint(path, remedy=remedy)
    except CheckpointError as exc:
        if not fresh:
            raise
        # what we just downloaded is not the checkpoint (a quota page, ...):
        # set it aside so that the next load downloads again
        bad = path.with_name(path.name + ".corrupt")
        path.replace(bad)
        raise CheckpointError(f"{exc} (the download was moved to {bad})") from None
    if isinstance(network, nn.Sequential) and hasattr(network, "normalize") and hasattr(network, "model"):
        # RobustBench's normalize_model: the file holds the inner network's
        # weights (and maybe a normaliser, which must agree with RobustBench's)
        found = _load_weights(network.model, obj, path)
        _check_normaliser(found, network.normalize.mean.flatten().tolist(),
                          network.normalize.std.flatten().tolist(), path,
                          f"RobustBench's normaliser for {name}")
    else:
        _load_weights(network, obj, path)
    return ModelWrapper(network, spec.preprocessing, name=spec.name, source=str(path))


def _robustbench_spec(model: str, threat: str, name: str | None = None,
                      preprocessing: str | None = "Res256Crop224") -> ModelSpec:
    if threat not in _THREATS:
        raise KeyError(f"unknown RobustBench threat model {threat!r}; expected one of {_THREATS}")
    pre_name = ROBUSTBENCH_MODELS.get((threat, model))
    if pre_name is None:  # a zoo model we did not register: ask RobustBench
        model_dicts, Dataset, Threat, *_ = _import_robustbench()
        try:
            entry = model_dicts[Dataset.imagenet][Threat(threat)][model]
        except (KeyError, ValueError):
            raise KeyError(f"RobustBench has no ImageNet model {model!r} for threat model {threat!r}") from None
        pre_name = entry.get("preprocessing")  # absent for timm-only entries
    if pre_name not in _RB_PREPROCESSING:
        raise UnsupportedModelError(f"RobustBench preprocessing {pre_name!r} of {model} is not supported")
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


def builtin_specs() -> list[ModelSpec]:
    """The :data:`ROBUSTBENCH_MODELS` entries (RobustBench is not imported)."""
    return [_robustbench_spec(model, threat) for (threat, model) in ROBUSTBENCH_MODELS]


def dynamic_spec(rest: str, name: str) -> ModelSpec:
    """``robustbench:<threat>:<Name>``."""
    if rest.count(":") != 1:
        raise KeyError(f"model {name!r}: expected 'robustbench:<threat>:<Name>'")
    threat, model = rest.split(":")
    return _robustbench_spec(model, threat, name=name)
