"""timm classifiers (``timm:<name>``): timm's architecture and data config, weights from the local cache.

``load_model("timm:convnext_tiny.fb_in1k")`` builds the architecture with
``timm.create_model(name, pretrained=False)`` and reads the weights itself,
through :func:`~spectral_attribution.models.checkpoints.read_checkpoint`
(``weights_only``; ``.safetensors`` or ``torch.save`` files), from where timm
and Hugging Face keep them:

1. the Hugging Face hub cache, for the entry's ``hf_hub_id``:
   ``$HF_HUB_CACHE`` (else ``$HF_HOME/hub``, else
   ``~/.cache/huggingface/hub``) ``/models--timm--<name>/snapshots/<revision>/``
   ``model.safetensors`` (or ``pytorch_model.bin``);
2. the torch hub cache, for an entry with a ``url``:
   ``torch.hub.get_dir()/checkpoints/<file of the URL>``.

With ``download=True`` (the default, as for torchvision) a missing file is
fetched into the Hugging Face cache with ``huggingface_hub``; offline, or
with ``download=False``, a missing file raises :class:`FileNotFoundError`
naming the paths looked at and the repository the weights come from.

The preprocessing is timm's own data config
(``timm.data.resolve_model_data_config``): crop = the input size, resize =
``floor(crop / crop_pct)`` (timm's ``transforms_imagenet_eval``), its mean,
std and interpolation. Configs this package's :class:`Preprocessing` cannot
express (non-square inputs, a crop mode other than ``center``, an
interpolation other than bilinear or bicubic) are refused in one line.

timm is an optional dependency (``pip install 'spectral-attribution[timm]'``):
importing it costs about a second and it is needed by no other source.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch

from spectral_attribution.models.checkpoints import read_checkpoint
from spectral_attribution.models.errors import UnsupportedModelError
from spectral_attribution.models.layouts import _load_weights
from spectral_attribution.models.preprocessing import Preprocessing
from spectral_attribution.models.spec import ModelSpec
from spectral_attribution.models.wrapper import ModelWrapper

__all__ = ["hf_hub_cache", "timm_preprocessing"]

PREFIX = "timm"
PATTERN = "'timm:<name>[.<tag>]'"
_HF_FILES = ("model.safetensors", "pytorch_model.bin")


def _timm():
    try:
        import timm
    except ImportError:
        raise ImportError("timm: models need the optional dependency timm: "
                          "pip install 'spectral-attribution[timm]'") from None
    return timm


def hf_hub_cache() -> Path:
    """The Hugging Face hub cache folder, read from the environment at each call."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "huggingface" / "hub"


def _architecture(name: str):
    """``timm.create_model(name, pretrained=False)`` in eval mode; KeyError for an unknown name."""
    timm = _timm()
    try:
        return timm.create_model(name, pretrained=False).eval()
    except RuntimeError as exc:  # "Unknown model (...)"
        raise KeyError(f"timm has no model {name!r} ({exc}); see timm.list_models()") from None


def timm_preprocessing(model) -> Preprocessing:
    """:class:`Preprocessing` of timm's data config for ``model`` (see the module docstring)."""
    from timm.data import resolve_model_data_config

    cfg = resolve_model_data_config(model)
    name = getattr(model, "pretrained_cfg", {}).get("architecture", type(model).__name__)
    _, h, w = cfg["input_size"]
    problems = []
    if h != w:
        problems.append(f"a {h} x {w} (non-square) input")
    if cfg.get("crop_mode", "center") != "center":
        problems.append(f"crop mode {cfg['crop_mode']!r}")
    if cfg.get("interpolation") not in ("bilinear", "bicubic"):
        problems.append(f"interpolation {cfg.get('interpolation')!r}")
    if problems:
        raise UnsupportedModelError(f"timm:{name}: its data config has {', '.join(problems)}, which "
                                    f"Preprocessing cannot express (square centre crops, bilinear "
                                    f"or bicubic)")
    crop_pct = float(cfg.get("crop_pct") or 1.0)
    return Preprocessing(resize=int(math.floor(h / crop_pct)), crop=int(h),
                         mean=tuple(float(x) for x in cfg["mean"]),
                         std=tuple(float(x) for x in cfg["std"]), interpolation=cfg["interpolation"])


def _candidates(cfg: dict) -> list[tuple[Path | None, str, str | None]]:
    """``(cached path or None, where it is expected, origin)`` for each place the weights may be."""
    from huggingface_hub import try_to_load_from_cache

    out = []
    repo = cfg.get("hf_hub_id")
    if repo:
        repo, _, revision = repo.partition("@")
        cache = hf_hub_cache()
        files = [cfg["hf_hub_filename"]] if cfg.get("hf_hub_filename") else list(_HF_FILES)
        folder = cache / f"models--{repo.replace('/', '--')}" / "snapshots" / "<revision>"
        for name in files:
            found = try_to_load_from_cache(repo, name, cache_dir=str(cache), revision=revision or None)
            out.append((Path(found) if isinstance(found, str) else None, str(folder / name),
                        f"https://huggingface.co/{repo}"))
    if cfg.get("url"):
        path = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(cfg["url"])
        out.append((path if path.is_file() else None, str(path), cfg["url"]))
    return out


def _weights_file(name: str, cfg: dict, download: bool) -> Path:
    """The local weights file of the timm entry ``cfg`` (downloaded when missing and allowed)."""
    places = _candidates(cfg)
    for path, _, _ in places:
        if path is not None:
            return path
    if not places:
        raise UnsupportedModelError(f"timm:{name} has no published weights (no hf_hub_id nor url "
                                    f"in its pretrained config)")
    reason = "download disabled"
    repo = cfg.get("hf_hub_id")
    if download and repo:
        from huggingface_hub import hf_hub_download

        repo, _, revision = repo.partition("@")
        for filename in ([cfg["hf_hub_filename"]] if cfg.get("hf_hub_filename") else _HF_FILES):
            try:
                return Path(hf_hub_download(repo, filename, revision=revision or None,
                                            cache_dir=str(hf_hub_cache())))
            except Exception as exc:  # offline, missing file, ...
                reason = f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}"
    looked = "; ".join(f"{where} (from {origin})" for _, where, origin in places)
    raise FileNotFoundError(f"timm:{name}: weights not found in the local caches: {looked}; the "
                            f"download failed ({reason}). Run timm.create_model({name!r}, "
                            f"pretrained=True) once where there is network, or copy the file there")


def _build_timm(spec: ModelSpec, download: bool = True, **_) -> ModelWrapper:
    name = spec.options["name"]
    # the architecture dynamic_spec built to read the data config (once), else a new one
    network = spec.options.pop("network", None) or _architecture(name)
    cfg = dict(getattr(network, "pretrained_cfg", {}) or {})
    pre = timm_preprocessing(network)
    path = _weights_file(name, cfg, download)
    obj = read_checkpoint(path, remedy="Delete it; the next load with download=True fetches it again.")
    _load_weights(network, obj, path)
    return ModelWrapper(network, pre, name=spec.name, source=str(path))


def builtin_specs() -> list[ModelSpec]:
    return []


def dynamic_spec(rest: str, name: str) -> ModelSpec:
    """``timm:<name>``: the architecture is built here to read its data config (no weights)."""
    network = _architecture(rest)
    cfg = getattr(network, "pretrained_cfg", {}) or {}
    origin = cfg.get("hf_hub_id") or cfg.get("url") or "no published weights"
    return ModelSpec(name=name, builder=_build_timm, preprocessing=timm_preprocessing(network),
                     weights=f"timm {rest} ({origin}), local Hugging Face / torch hub cache",
                     description=f"timm {rest}", options={"name": rest, "network": network}, family="timm")
