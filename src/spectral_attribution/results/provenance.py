"""Provenance of a result: package versions, git commit, weights hash, device,
configuration and seed, as one JSON-ready dictionary (:func:`provenance`).
"""

from __future__ import annotations

import dataclasses
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

__all__ = [
    "provenance",
    "package_versions",
    "git_commit",
    "weights_hash",
]


# --------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------
_VERSIONED = ["spectral_attribution", "torch", "torchvision", "numpy", "scipy", "pywt",
              "pandas", "PIL", "imagecorruptions", "snakemake", "robustbench"]


def package_versions(names: Sequence[str] = _VERSIONED) -> dict[str, str]:
    """Versions of the packages that shape results; only those importable are listed.

    Modules are looked up in ``sys.modules`` first and imported only when they
    are cheap to import; a missing package is simply absent from the dict.
    """
    from importlib import metadata

    dist_names = {"spectral_attribution": "spectral-attribution", "pywt": "PyWavelets",
                  "PIL": "pillow", "imagecorruptions": "imagecorruptions-imaug"}
    out = {"python": platform.python_version()}
    for name in names:
        mod = sys.modules.get(name)
        version = getattr(mod, "__version__", None) if mod is not None else None
        if version is None:
            for dist in (dist_names.get(name), name):
                if dist is None:
                    continue
                try:
                    version = metadata.version(dist)
                    break
                except metadata.PackageNotFoundError:
                    continue
        if version is not None:
            out[name] = str(version)
    return out


def git_commit(path: str | os.PathLike | None = None) -> str | None:
    """``git rev-parse HEAD`` of the repository holding ``path`` (default: this package).

    Returns ``None`` when git or a repository is unavailable (an installed
    wheel has none); ``"<sha>-dirty"`` when tracked files have uncommitted changes.
    """
    where = Path(path) if path is not None else Path(__file__).resolve().parent
    if where.is_file():
        where = where.parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=where, capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{sha}-dirty" if dirty else sha or None


def weights_hash(model) -> str | None:
    """SHA-256 of a model's weights (hex; :func:`models.weights_sha256`), ``None`` for ``None``."""
    if model is None:
        return None
    from spectral_attribution.models import weights_sha256

    return weights_sha256(model)


def device_info(device=None) -> dict:
    """The torch device a computation ran on; GPU name and CUDA version for CUDA."""
    import torch

    dev = torch.device(device) if device is not None else torch.device("cpu")
    info = {"device": str(dev), "torch_threads": torch.get_num_threads()}
    if dev.type == "cuda" and torch.cuda.is_available():
        idx = dev.index if dev.index is not None else torch.cuda.current_device()
        info["gpu"] = torch.cuda.get_device_name(idx)
        info["cuda"] = torch.version.cuda
        info["cudnn"] = torch.backends.cudnn.version()
    return info


def provenance(config: dict | None = None, seed: int | None = None, model=None,
               device=None, **extra) -> dict:
    """What produced a result, as a JSON-serialisable dict.

    Parameters
    ----------
    config:
        The configuration (e.g. the workflow's config dict), stored verbatim.
    seed:
        The seed of the run.
    model:
        A :class:`~spectral_attribution.models.ModelWrapper` (its registry
        name, source and weights SHA-256 are recorded) or ``None``.
    device:
        The torch device used (``"cpu"``, ``"cuda:0"``...).
    **extra:
        Anything else to record (JSON-serialisable).

    Returns
    -------
    dict with keys ``created`` (UTC ISO time), ``host``, ``seed``, ``config``,
    ``versions``, ``device``, ``git_commit``, ``model`` (or ``None``) and the
    ``extra`` keys.
    """
    model_info = None
    if model is not None:
        model_info = {"name": getattr(model, "name", type(model).__name__),
                      "source": getattr(model, "source", ""),
                      "weights_sha256": weights_hash(model)}
        pre = getattr(model, "preprocessing", None)
        if pre is not None and dataclasses.is_dataclass(pre):
            model_info["preprocessing"] = dataclasses.asdict(pre)
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host": socket.gethostname(),
        "seed": seed,
        "config": config,
        "versions": package_versions(),
        "device": device_info(device),
        "git_commit": git_commit(),
        "model": model_info,
        **extra,
    }
