"""Input and output of results: atomic writes, shards, manifests, provenance.

This module only reads and writes files; drawing a stored explanation is
:func:`spectral_attribution.plots.render_from_results`.

Every file this module writes is first written to a hidden temporary file in
the destination folder (``.NAME.tmp-PID-RANDOM.EXT``) and then moved into
place with :func:`os.replace`, which is atomic on POSIX file systems: a run
killed half-way leaves either the previous file, or no file, never a
truncated one that looks complete. The writers (:func:`atomic_path`,
:func:`write_text`, :func:`write_json`, :func:`write_csv`, :func:`write_npz`)
are those of :mod:`spectral_attribution._common`, re-exported here.

Shards
------
The workflow computes explanations by *shard*: a fixed chunk of the sampled
images, for one model and one *variant*:

* ``clean``: the WCAM of each sampled image;
* ``corrupted``: the WCAM of the corrupted copies chosen for each image
  (image ids ``"{image_id}@{corruption}-{severity}"``; extra manifest columns
  ``source_image_id, corruption, severity, copy_seed``);
* ``spatial``: the spatial Sobol' map of each image (for the faithfulness
  study).

WAM explanations (:class:`~spectral_attribution.wam.WAM`, for the methods
comparison) have their own folder, one variant per WAM variant configured
(``gradient``, ``smoothgrad``, ``integratedgrad``)::

    results/wam/{model}/{variant}/shard-000.npz

A shard is two files side by side::

    results/{method}/{model}/{variant}/shard-000.npz   # stacked arrays + provenance
    results/{method}/{model}/{variant}/shard-000.csv   # manifest, one row per image

(``method`` the folder: ``wcam`` or ``wam``.)

``shard-NNN.npz`` (``numpy.savez_compressed``, no pickled objects) holds

==================  ===============  ==========================================
key                 dtype            shape / meaning
==================  ===============  ==========================================
``image_id``        unicode          ``(n,)`` image identifiers
``indices``         float32          ``(n, g, g)`` (or ``(n, g)`` for rings)
``map``             float32          ``(n, Hl, Wl)`` indices on the layout
``spatial``         float32          ``(n, H, W)``; absent when ``None``
``attributions``    float32          ``(n, C, Hl, Wl)`` signed coefficient
                                     attributions (WAM); absent when ``None``
``target``          int64            ``(n,)`` explained class
``predicted``       int64            ``(n,)`` predicted class (clean input)
``score``           float64          ``(n,)`` target logit
``predicted_score`` float64          ``(n,)`` predicted-class logit
``method``          unicode          ``(n,)`` ``"wcam"`` etc.
``settings``        unicode          ``(n,)`` JSON of each ``Explanation.settings``
``provenance``      unicode          ``()`` JSON, see :func:`provenance`
``format_version``  int64            ``()`` currently ``1``
==================  ===============  ==========================================

``shard-NNN.csv`` has the columns :data:`MANIFEST_COLUMNS`: ``position`` (row
in the ``.npz``), ``image_id``, ``label`` (``-1`` when unknown),
``prediction``, ``score``, ``target``, ``settings`` (JSON), ``seed``, and
extra columns where the workflow records them (``wall_time_s``: seconds spent
explaining the image, for the methods comparison). The
manifest is written *after* the arrays: a shard is complete exactly when its
manifest exists. Manifests are read with
:func:`~spectral_attribution._common.read_table`, so image ids such as
``"NA"`` or ``"null"`` stay strings.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import pandas as pd

from ._common import atomic_path, read_table, to_json, write_csv, write_json, write_npz, write_text

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST_COLUMNS",
    "atomic_path",
    "write_text",
    "to_json",
    "write_json",
    "write_csv",
    "write_npz",
    "provenance",
    "package_versions",
    "git_commit",
    "weights_hash",
    "Shard",
    "write_shard",
    "load_shard",
    "shard_paths",
    "load_manifest",
    "load_explanation",
    "iter_explanations",
    "preprocessing_of",
]

FORMAT_VERSION = 1
MANIFEST_COLUMNS = ["position", "image_id", "label", "prediction", "score", "target",
                    "settings", "seed"]


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
    from .models import weights_sha256

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


# --------------------------------------------------------------------------
# Shards
# --------------------------------------------------------------------------
@dataclass
class Shard:
    """A loaded shard: its explanations, manifest and provenance.

    Attributes
    ----------
    explanations:
        ``list[Explanation]`` in manifest order.
    manifest:
        DataFrame with :data:`MANIFEST_COLUMNS` (plus any extra columns written).
    provenance:
        The dict given to :func:`write_shard`.
    path:
        Path of the ``.npz``.
    """

    explanations: list
    manifest: pd.DataFrame
    provenance: dict = field(default_factory=dict)
    path: Path | None = None

    def __len__(self) -> int:
        return len(self.explanations)

    def get(self, image_id: str):
        """The explanation of ``image_id``; ``KeyError`` if absent."""
        ids = [str(i) for i in self.manifest["image_id"]]
        try:
            return self.explanations[ids.index(str(image_id))]
        except ValueError:
            raise KeyError(f"image {image_id!r} is not in shard {self.path}") from None


def _stack(name: str, arrays: list, dtype) -> np.ndarray:
    shapes = {tuple(np.shape(a)) for a in arrays}
    if len(shapes) > 1:
        raise ValueError(
            f"cannot stack explanations of different shapes in one shard: {name} has shapes "
            f"{sorted(shapes)}; use a fixed crop so that every image has the same size")
    return np.stack([np.asarray(a, dtype=dtype) for a in arrays]) if arrays else np.zeros((0,), dtype)


def write_shard(npz_path: str | os.PathLike, explanations: Sequence, image_ids: Sequence[str],
                labels: Sequence[int] | None = None, seed: int | None = None,
                provenance: dict | None = None, manifest_path: str | os.PathLike | None = None,
                extra_columns: dict[str, Sequence] | None = None) -> tuple[Path, Path]:
    """Write explanations of one shard: the ``.npz`` first, then the manifest CSV.

    Parameters
    ----------
    npz_path:
        Destination ``.npz`` (e.g. ``results/wcam/m/clean/shard-000.npz``).
    explanations:
        ``Explanation`` objects (anything with the attributes ``method``,
        ``indices``, ``map``, ``spatial``, ``target``, ``predicted``,
        ``score``, ``predicted_score``, ``settings``), all of the same shapes.
    image_ids:
        One identifier per explanation.
    labels:
        Ground-truth labels (``-1`` or ``None`` for unknown); default all ``-1``.
    seed:
        Seed recorded in each manifest row.
    provenance:
        Dict stored as JSON inside the ``.npz`` (see :func:`provenance`).
    manifest_path:
        Destination CSV; default ``npz_path`` with suffix ``.csv``.
    extra_columns:
        Additional manifest columns (same length as ``explanations``).

    Returns
    -------
    ``(npz_path, manifest_path)``

    Raises
    ------
    ValueError
        Lengths differ, or the explanations have different shapes.
    """
    n = len(explanations)
    image_ids = [str(i) for i in image_ids]
    if len(image_ids) != n:
        raise ValueError(f"{n} explanations but {len(image_ids)} image ids")
    if labels is None:
        labels = [-1] * n
    labels = [-1 if (lab is None or (isinstance(lab, float) and np.isnan(lab))) else int(lab)
              for lab in labels]
    if len(labels) != n:
        raise ValueError(f"{n} explanations but {len(labels)} labels")
    npz_path = Path(npz_path)
    manifest_path = Path(manifest_path) if manifest_path is not None else npz_path.with_suffix(".csv")

    arrays = {
        "image_id": np.array(image_ids, dtype=str),
        "indices": _stack("indices", [e.indices for e in explanations], np.float32),
        "map": _stack("map", [e.map for e in explanations], np.float32),
        "target": np.array([int(e.target) for e in explanations], dtype=np.int64),
        "predicted": np.array([int(e.predicted) for e in explanations], dtype=np.int64),
        "score": np.array([float(e.score) for e in explanations], dtype=np.float64),
        "predicted_score": np.array([float(getattr(e, "predicted_score", np.nan))
                                     for e in explanations], dtype=np.float64),
        "method": np.array([str(e.method) for e in explanations], dtype=str),
        "settings": np.array([to_json(e.settings, sort_keys=True) for e in explanations], dtype=str),
        "provenance": np.array(to_json(provenance or {}, sort_keys=True)),
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
    }
    for key in ("spatial", "attributions"):  # optional arrays: all or none
        values = [getattr(e, key, None) for e in explanations]
        if n and all(v is not None for v in values):
            arrays[key] = _stack(key, values, np.float32)
        elif any(v is not None for v in values):
            raise ValueError(f"some explanations have {key!r} and others do not")

    manifest = pd.DataFrame({
        "position": np.arange(n),
        "image_id": image_ids,
        "label": labels,
        "prediction": arrays["predicted"],
        "score": arrays["score"],
        "target": arrays["target"],
        "settings": list(arrays["settings"]),
        "seed": [seed if seed is not None else -1] * n,
    })
    for key, values in (extra_columns or {}).items():
        if len(values) != n:
            raise ValueError(f"extra column {key!r} has {len(values)} values for {n} explanations")
        manifest[key] = list(values)

    write_npz(npz_path, **arrays)
    write_csv(manifest, manifest_path)
    return npz_path, manifest_path


def load_shard(npz_path: str | os.PathLike) -> Shard:
    """Load a shard written by :func:`write_shard`.

    Raises
    ------
    FileNotFoundError
        The ``.npz`` or its manifest (``.csv`` beside it) is missing; a shard
        without a manifest is incomplete.
    ValueError
        Unknown ``format_version``.
    """
    npz_path = Path(npz_path)
    manifest_path = npz_path.with_suffix(".csv")
    if not manifest_path.exists():
        raise FileNotFoundError(f"shard manifest {manifest_path} is missing (incomplete shard?)")
    if not npz_path.exists():
        raise FileNotFoundError(f"shard arrays {npz_path} are missing")
    manifest = read_table(manifest_path)
    from .explanation import Explanation

    with np.load(npz_path, allow_pickle=False) as z:
        version = int(z["format_version"])
        if version != FORMAT_VERSION:
            raise ValueError(f"{npz_path}: shard format {version}, this version reads {FORMAT_VERSION}")
        prov = json.loads(str(z["provenance"]))
        spatial = z["spatial"] if "spatial" in z.files else None
        attributions = z["attributions"] if "attributions" in z.files else None
        exps = []
        for i in range(len(z["image_id"])):
            exps.append(Explanation(**{
                "method": str(z["method"][i]),
                "indices": z["indices"][i],
                "map": z["map"][i],
                "spatial": None if spatial is None else spatial[i],
                "target": int(z["target"][i]),
                "predicted": int(z["predicted"][i]),
                "score": float(z["score"][i]),
                "predicted_score": float(z["predicted_score"][i]),
                "settings": json.loads(str(z["settings"][i])),
                "attributions": None if attributions is None else attributions[i],
            }))
    return Shard(exps, manifest, prov, npz_path)


def shard_paths(results_dir: str | os.PathLike, model: str, variant: str = "clean",
                method: str = "wcam") -> list[Path]:
    """The complete shards (``.npz`` whose manifest exists) of ``method/model/variant``, sorted."""
    folder = Path(results_dir) / method / model / variant
    return sorted(p for p in folder.glob("shard-*.npz") if p.with_suffix(".csv").exists())


def load_manifest(results_dir: str | os.PathLike, model: str, variant: str = "clean",
                  method: str = "wcam") -> pd.DataFrame:
    """All manifests of ``method/model/variant`` concatenated, with a ``shard`` column (npz path)."""
    frames = []
    for p in shard_paths(results_dir, model, variant, method):
        df = read_table(p.with_suffix(".csv"))
        df["shard"] = str(p)
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=MANIFEST_COLUMNS + ["shard"])
    return pd.concat(frames, ignore_index=True)


def _missing(results_dir, model, variant, method="wcam") -> str:
    base = Path(results_dir) / method
    models = sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
    variants = sorted(p.name for p in (base / model).iterdir() if p.is_dir()) \
        if (base / model).is_dir() else []
    return (f"no shards for model {model!r}, variant {variant!r} under {base} "
            f"(models there: {models}; variants of {model!r}: {variants})")


def load_explanation(results_dir: str | os.PathLike, model: str, image_id: str,
                     variant: str = "clean", method: str = "wcam"):
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
    method:
        Folder of the shards under ``results_dir``: ``"wcam"`` (default: the
        Sobol' explanations) or ``"wam"``.

    Raises
    ------
    FileNotFoundError
        No complete shard for this model/variant.
    KeyError
        The image is in none of the shards (the message lists a few that are).
    """
    manifest = load_manifest(results_dir, model, variant, method)
    if manifest.empty:
        raise FileNotFoundError(_missing(results_dir, model, variant, method))
    rows = manifest[manifest["image_id"] == str(image_id)]
    if rows.empty:
        known = list(manifest["image_id"][:10])
        raise KeyError(f"image {image_id!r} not found for model {model!r}, variant {variant!r}; "
                       f"images there include {known}")
    row = rows.iloc[0]
    return load_shard(row["shard"]).explanations[int(row["position"])]


def iter_explanations(results_dir: str | os.PathLike, model: str, variant: str = "clean",
                      method: str = "wcam") -> Iterator[tuple[pd.Series, Any]]:
    """Yield ``(manifest_row, Explanation)`` for every image of ``method/model/variant``."""
    for p in shard_paths(results_dir, model, variant, method):
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
    from . import models

    info_path = Path(results_dir) / "models" / f"{model}.json"
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    pre = info.get("preprocessing")
    if pre:
        return models.Preprocessing(**{k: tuple(v) if isinstance(v, list) else v
                                       for k, v in pre.items()})
    name = info.get("registry_name", model)
    spec = models.REGISTRY.get(name)
    return spec.preprocessing if spec is not None else models.Preprocessing()
