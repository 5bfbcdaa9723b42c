"""Stand-in weights and data for the replication smoke run (``tests/workflow/test_replication_smoke.py``).

:func:`write_checkpoints` saves, for every model of a configuration, randomly
initialised weights of the model's architecture exactly where
:func:`spectral_attribution.models.load_model` looks for the real file:

* RobustBench ``robustbench:<threat>:<Name>``: ``MODEL_DIR/imagenet/<threat>/<Name>.pt``,
  the state dict of the network RobustBench's model zoo builds for that entry
  (the inner network for a ``normalize_model`` wrapper), as ``torch.save`` writes it;
* torchvision ``<arch>``: ``$TORCH_HOME/hub/checkpoints/<file of the weights' URL>``,
  the state dict of the architecture torchvision builds for those weights.

:func:`write_imagenet` writes the miniature validation archive and devkit of
``tests/imagenet_mini.py`` under the data root.

Both kinds of file are verified by the package against *published* hashes
(torchvision's SHA-256 prefix in the file name, the ILSVRC2012 archives'
MD5s), which no stand-in can match. :func:`write_shim` writes a
``sitecustomize.py`` that the run's Python processes load (through
``PYTHONPATH``): when ``spectral_attribution.models.sources.torchvision`` (which
defines ``_published_sha256``) or
``spectral_attribution.data.imagenet`` is imported, it replaces those
published hashes by the stand-ins' own (read from ``standins.json``), so the
verification code still runs, on the stand-in files. Nothing else changes.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch

from imagenet_mini import archive_checksums, mini_archives


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def _robustbench_network(name: str, threat: str) -> torch.nn.Module:
    """The network whose weights RobustBench's checkpoint of ``name`` holds."""
    import torchvision.models as tvm

    from spectral_attribution.models.sources import robustbench

    if "Standard" in name:
        return tvm.resnet50()
    model_dicts, Dataset, Threat, *_ = robustbench._import_robustbench()
    network = model_dicts[Dataset.imagenet][Threat(threat)][name]["model"]()
    if isinstance(network, torch.nn.Sequential) and hasattr(network, "model"):
        return network.model  # normalize_model(...): the file holds the inner network
    return network


def write_checkpoints(config: dict, model_dir: Path, torch_home: Path) -> dict:
    """Random weights for every model of ``config["models"]``; returns ``{nickname: path}``
    and, under ``"sha256"``, the torchvision files' SHA-256 by file name."""
    from spectral_attribution import models
    from spectral_attribution.models.sources import torchvision as tv_source

    written, sha = {}, {}
    for seed, entry in enumerate(config["models"]):
        name = entry["name"]
        torch.manual_seed(seed)  # distinct weights per model: a mix-up changes the results
        if name.startswith("robustbench:"):
            _, threat, model = name.split(":")
            path = models.robustbench_checkpoint_path(model, threat, model_dir)
            network = _robustbench_network(model, threat)
        else:
            arch, _, weights = name.removeprefix("torchvision:").partition(":")
            w = tv_source._torchvision_weights(arch, weights or "DEFAULT")
            path = Path(torch_home) / "hub" / "checkpoints" / os.path.basename(w.url)
            network = tv_source._torchvision_architecture(arch, w)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(network.state_dict(), path)
        written[entry["nickname"]] = path
        if not name.startswith("robustbench:"):
            sha[path.name] = _sha256(path)
    return {"paths": written, "sha256": sha}


def write_imagenet(root: Path, size=(300, 400)) -> dict:
    """The miniature ILSVRC2012 validation archive and devkit under ``root``; returns their MD5s."""
    root.mkdir(parents=True, exist_ok=True)
    archives = mini_archives(size)
    for name, payload in archives.values():
        (root / name).write_bytes(payload)
    return archive_checksums(archives)


_SHIM = '''"""Stand-in hashes for the replication smoke run: see tests/standins.py."""
import importlib.machinery
import json
import os
import sys

_STANDINS = json.loads(open(os.environ["SPECTRAL_ATTRIBUTION_STANDINS"]).read())


def _models(module):
    published = module._published_sha256

    def stand_in(w):
        return _STANDINS["sha256"].get(os.path.basename(w.url)) or published(w)

    module._published_sha256 = stand_in


def _imagenet(module):
    module.IMAGENET_VAL_ARCHIVES = {k: tuple(v) for k, v in _STANDINS["archives"].items()}


_PATCHES = {"spectral_attribution.models.sources.torchvision": _models, "spectral_attribution.data.imagenet": _imagenet}


class _Finder:
    def find_spec(self, name, path=None, target=None):
        if name not in _PATCHES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            _PATCHES[name](module)

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _Finder())
'''


def write_shim(folder: Path, standins: dict) -> dict:
    """``folder/sitecustomize.py`` and ``folder/standins.json``; returns the environment
    variables the run needs (``PYTHONPATH`` first entry and the JSON's path)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "standins.json").write_text(json.dumps(standins))
    (folder / "sitecustomize.py").write_text(_SHIM)
    return {"SPECTRAL_ATTRIBUTION_STANDINS": str(folder / "standins.json"), "shim": str(folder)}
