"""Reading a results folder back: the manifests of its declared shards
(:func:`load_manifest`), one explanation (:func:`load_explanation`), all of
them (:func:`iter_explanations`), and a model's recorded preprocessing
(:func:`preprocessing_of`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from spectral_attribution._utils.tables import read_table
from spectral_attribution.results.run_config import (
    declared_shards,
    read_run_config,
    run_variants,
    shard_paths,
)
from spectral_attribution.results.shards import MANIFEST_COLUMNS, load_shard

__all__ = [
    "load_manifest",
    "load_explanation",
    "iter_explanations",
    "preprocessing_of",
]


def load_manifest(results_dir: str | os.PathLike, model: str, variant: str = "clean",
                  config: dict | None = None, method: str = "wcam") -> pd.DataFrame:
    """The manifests of the declared, complete shards of ``model``/``variant``, concatenated,
    with a ``shard`` column (npz path); see :func:`shard_paths`."""
    frames = []
    for p in shard_paths(results_dir, model, variant, config, method):
        df = read_table(p.with_suffix(".csv"))
        df["shard"] = str(p)
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=MANIFEST_COLUMNS + ["shard"])
    return pd.concat(frames, ignore_index=True)


def _missing(results_dir, model, variant, config, method="wcam") -> str:
    declared = declared_shards(results_dir, model, variant, config, method)
    if not declared:
        computed = run_variants(config if config is not None else read_run_config(results_dir),
                                method)
        return (f"the configuration of {results_dir} computes no {variant!r} variant "
                f"(variants: {computed})")
    return (f"no complete shard for model {model!r}, variant {variant!r} under {results_dir}: "
            f"its configuration declares {len(declared)} ({declared[0].parent}/shard-000.npz to "
            f"shard-{len(declared) - 1:03d}.npz) and none has its manifest yet; run the workflow")


def load_explanation(results_dir: str | os.PathLike, model: str, image_id: str,
                     variant: str = "clean", config: dict | None = None, method: str = "wcam"):
    """The ``Explanation`` of one image, found through the shard manifests.

    Parameters
    ----------
    results_dir:
        The ``results/`` folder of a workflow run.
    model:
        The model's nickname as in the configuration (folder name under ``wcam/``).
    image_id:
        Identifier as in ``results/data/samples.csv``.
    variant:
        ``"clean"`` (default), ``"corrupted"`` (ids ``"IMAGE@CORRUPTION-SEVERITY"``)
        or ``"spatial"`` (spatial Sobol' maps); with ``method="wam"``, the WAM
        variant (``"gradient"``, ``"smoothgrad"``, ``"integratedgrad"``).
    config:
        The configuration whose shards are read (:func:`declared_shards`);
        default: the one recorded in ``results_dir/config.yaml``.
    method:
        Folder of the shards under ``results_dir``: ``"wcam"`` (default: the
        Sobol' explanations) or ``"wam"``.

    Raises
    ------
    FileNotFoundError
        No recorded configuration, a variant the configuration does not
        compute, or no complete shard for this model/variant.
    KeyError
        A model the configuration does not have, or an image in none of its
        shards (the message lists a few that are).
    ShardIntegrityError
        The shard holding the image does not match its manifest.
    """
    manifest = load_manifest(results_dir, model, variant, config, method)
    if manifest.empty:
        raise FileNotFoundError(_missing(results_dir, model, variant, config, method))
    rows = manifest[manifest["image_id"] == str(image_id)]
    if rows.empty:
        known = list(manifest["image_id"][:10])
        raise KeyError(f"image {image_id!r} not found for model {model!r}, variant {variant!r}; "
                       f"images there include {known}")
    row = rows.iloc[0]
    return load_shard(row["shard"]).explanations[int(row["position"])]


def iter_explanations(results_dir: str | os.PathLike, model: str, variant: str = "clean",
                      config: dict | None = None, method: str = "wcam") -> Iterator[tuple[pd.Series, Any]]:
    """Yield ``(manifest_row, Explanation)`` for every image of the declared shards of ``model``/``variant``."""
    for p in shard_paths(results_dir, model, variant, config, method):
        shard = load_shard(p)
        for (_, row), exp in zip(shard.manifest.iterrows(), shard.explanations):
            yield row, exp


def preprocessing_of(results_dir: str | os.PathLike, model: str):
    """The preprocessing of model ``model`` as the workflow recorded it.

    Read from ``results/models/{model}.json`` (written by the workflow's
    ``model`` rule); when that file is absent or has no preprocessing, the
    registry's preprocessing of its registry name (or of ``model`` itself);
    else the default :class:`~spectral_attribution.models.Preprocessing`.

    Returns
    -------
    spectral_attribution.models.Preprocessing
    """
    from spectral_attribution import models

    info_path = Path(results_dir) / "models" / f"{model}.json"
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    pre = info.get("preprocessing")
    if pre:
        return models.Preprocessing(**{k: tuple(v) if isinstance(v, list) else v
                                       for k, v in pre.items()})
    name = info.get("registry_name", model)
    from spectral_attribution.models.registry import REGISTRY

    spec = REGISTRY.get(name)
    return spec.preprocessing if spec is not None else models.Preprocessing()
