"""The configuration a results folder was made with, and the shards it declares.

The workflow records the configuration of its last run in
``results/config.yaml`` (:func:`write_run_config`). Readers take the shards
that configuration declares (:func:`declared_shards`: every model, the
variants it computes, ``ceil(n_images / shard_size)`` shards), never
whatever files a glob finds: a shard left over from a run with more images
is never read.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from spectral_attribution._utils.files import to_json, write_text
from spectral_attribution.results.shards import shard_folder

__all__ = [
    "RUN_CONFIG",
    "write_run_config",
    "read_run_config",
    "run_variants",
    "shard_count",
    "shard_path",
    "declared_shards",
    "shard_paths",
]


#: The file, inside a results folder, that records the configuration of the run that made it.
RUN_CONFIG = "config.yaml"


# --------------------------------------------------------------------------
# The configuration a results folder was made with, and the shards it declares
# --------------------------------------------------------------------------
def write_run_config(config: dict, results_dir: str | os.PathLike) -> Path:
    """Record ``config`` (the whole, validated configuration) as ``results_dir/config.yaml``.

    The workflow does it when a run starts. The file is a complete
    configuration: ``snakemake --configfile results/config.yaml ...`` runs
    with exactly the settings of that run.
    """
    import yaml

    header = ("# The configuration of the last workflow run that wrote this folder (recorded when\n"
              "# the run started). Commands for this folder: snakemake --configfile "
              f"{Path(results_dir) / RUN_CONFIG} ...\n")
    text = yaml.safe_dump(json.loads(to_json(config)), sort_keys=False, default_flow_style=False)
    return write_text(header + text, Path(results_dir) / RUN_CONFIG)


def read_run_config(results_dir: str | os.PathLike) -> dict:
    """The configuration recorded in ``results_dir/config.yaml``.

    Raises
    ------
    FileNotFoundError
        The folder has no ``config.yaml`` (not a results folder of the
        workflow, or no run has started there); the message says so.
    ValueError
        The file is not a YAML mapping.
    """
    import yaml

    path = Path(results_dir) / RUN_CONFIG
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: {results_dir} is not a results folder of the workflow, or no run has "
            f"started there (the workflow records its configuration there when a run starts; it "
            f"says which shards the folder holds)")
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ValueError(f"{path} is not valid YAML: {err}") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path} is not a configuration (a YAML mapping)")
    return config


def _wam_variants(config: dict) -> list[str]:
    """The WAM variants of ``config["methods"]`` (``"wam"`` alone: ``smoothgrad``)."""
    out = []
    for item in config.get("methods") or []:
        if item == "wam":
            out.append("smoothgrad")
        elif isinstance(item, dict) and item.get("method") == "wam":
            out.append(str(item.get("variant") or "smoothgrad"))
    return out


def run_variants(config: dict, method: str = "wcam") -> list[str]:
    """Variants a configuration computes: ``clean``; ``corrupted`` when
    ``corruptions.explain.per_image > 0``; ``spatial`` when ``faithfulness.enabled``;
    with ``method="wam"``, the WAM variants of its ``methods`` list."""
    if method == "wam":
        return _wam_variants(config)
    out = ["clean"]
    if int(((config.get("corruptions") or {}).get("explain") or {}).get("per_image", 0) or 0) > 0:
        out.append("corrupted")
    if (config.get("faithfulness") or {}).get("enabled", False):
        out.append("spatial")
    return out


def shard_count(config: dict) -> int:
    """``ceil(data.n_images / wcam.shard_size)``: the number of shards of a configuration."""
    return math.ceil(int(config["data"]["n_images"]) / int(config["wcam"]["shard_size"]))


def shard_path(results_dir: str | os.PathLike, model: str, variant: str, shard: int | str,
               method: str = "wcam") -> Path:
    """``shard_folder(results_dir, model, variant, method) / "shard-NNN.npz"`` (:func:`shard_folder`)."""
    return shard_folder(results_dir, model, variant, method) / f"shard-{int(shard):03d}.npz"


def declared_shards(results_dir: str | os.PathLike, model: str, variant: str = "clean",
                    config: dict | None = None, method: str = "wcam") -> list[Path]:
    """The ``.npz`` paths of the shards ``config`` declares for ``model`` / ``variant``.

    Parameters
    ----------
    config:
        A workflow configuration; default: the one recorded in
        ``results_dir/config.yaml`` (:func:`read_run_config`).

    Returns
    -------
    list of Path
        In shard order; empty when the configuration does not compute
        ``variant`` (:func:`run_variants`).

    Raises
    ------
    FileNotFoundError
        No ``config`` and no recorded configuration.
    KeyError
        ``model`` is not part of the configuration (the configured ones are
        named).
    """
    if config is None:
        config = read_run_config(results_dir)
    models = [m["nickname"] if isinstance(m, dict) else str(m) for m in config.get("models", [])]
    if model not in models:
        raise KeyError(f"model {model!r} is not in the configuration of {results_dir} "
                       f"(models: {models})")
    if variant not in run_variants(config, method):
        return []
    return [shard_path(results_dir, model, variant, k, method) for k in range(shard_count(config))]


def shard_paths(results_dir: str | os.PathLike, model: str, variant: str = "clean",
                config: dict | None = None, method: str = "wcam") -> list[Path]:
    """The complete shards (manifest present) among those :func:`declared_shards` lists, in order.

    ``config`` defaults to the configuration recorded in
    ``results_dir/config.yaml``; shards it does not declare (left over from
    another configuration) are never returned.
    """
    return [p for p in declared_shards(results_dir, model, variant, config, method)
            if p.with_suffix(".csv").exists()]
