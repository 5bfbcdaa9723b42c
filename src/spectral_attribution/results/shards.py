"""Shards: the unit in which the workflow stores explanations.

(Just over 400 lines: one job, the shard file, of which 70 are this description of its format.)

The workflow computes explanations by *shard*: a fixed chunk of the sampled
images, for one model and one *variant*:

* ``clean``: the WCAM of each sampled image;
* ``corrupted``: the WCAM of the corrupted copies chosen for each image
  (image ids ``"{image_id}@{corruption}-{severity}"``; extra manifest columns
  ``source_image_id, corruption, severity, copy_seed``);
* ``spatial``: the spatial Sobol' map of each image (for the faithfulness
  study); these live in a folder of their own, ``results/spatial/{model}/``
  (:func:`shard_folder`).

WAM explanations (:class:`~spectral_attribution.attributions.wam.WAM`, for the methods
comparison) have their own folder, one variant per WAM variant configured
(``gradient``, ``smoothgrad``, ``integratedgrad``)::

    results/wam/{model}/{variant}/shard-000.npz

A shard is two files side by side::

    results/wcam/{model}/{variant}/shard-000.npz   # stacked arrays + provenance
    results/wcam/{model}/{variant}/shard-000.csv   # manifest, one row per image
    results/spatial/{model}/shard-000.npz          # the spatial variant
    results/wam/{model}/{variant}/shard-000.npz    # WAM explanations (method="wam")

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
``estimated``       bool             ``(n, g, g)`` cells estimated (screened
                                     explanations only; absent otherwise)
``bounds``          float32          ``(n, g, g)`` group index bounding each
                                     screened-out cell (screened only)
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
``prediction``, ``score``, ``target``, ``settings`` (JSON), ``seed``; the
workflow adds ``target_policy`` and ``target_source`` (which class each
explanation explains and why: :mod:`spectral_attribution.attributions.targets`), then
:data:`INTEGRITY_COLUMNS`: ``npz_bytes`` and ``npz_sha256``, the size and
SHA-256 of the ``.npz`` (the same on every row), and extra columns where the
workflow records them (``wall_time_s``: seconds spent explaining the image,
for the methods comparison). The manifest is written
*after* the arrays: a shard is complete exactly when its manifest exists and
the ``.npz`` has the recorded size and checksum. Manifests are read with
:func:`~spectral_attribution._utils.tables.read_table`, so image ids such as
``"NA"`` or ``"null"`` stay strings.

Integrity
---------
:func:`load_shard` (and so :func:`load_explanation`, ``spectral-attribution
show`` and every step of the workflow that reads a shard) checks the ``.npz``
against its manifest first (:func:`verify_shard`): a truncated or altered
file raises :class:`ShardIntegrityError`, which names the file and says how
to recompute it. The workflow checks every shard when it starts and sets a
bad one aside so that the run recomputes it
(:mod:`spectral_attribution.pipeline.run_checks`). An empty shard has no manifest row
to carry a checksum; its file is checked by the zip format's own CRCs when it
is read.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from spectral_attribution import catalog
from spectral_attribution._utils.files import atomic_path, to_json, write_csv
from spectral_attribution._utils.tables import read_table

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST_COLUMNS",
    "INTEGRITY_COLUMNS",
    "ShardIntegrityError",
    "verify_shard",
    "file_sha256",
    "Shard",
    "write_shard",
    "load_shard",
    "shard_folder",
]


FORMAT_VERSION = 1
MANIFEST_COLUMNS = ["position", "image_id", "label", "prediction", "score", "target",
                    "settings", "seed"]
#: Manifest columns that record the ``.npz`` a manifest belongs to (same value on every row).
INTEGRITY_COLUMNS = ["npz_bytes", "npz_sha256"]


class ShardIntegrityError(ValueError):
    """A shard's ``.npz`` does not match its manifest, or cannot be read (the file is named)."""


def _recompute_hint(npz_path: Path) -> str:
    return (f"recompute it: run the workflow again (it sets bad shards aside and recomputes "
            f"them), or delete {npz_path.name} and {npz_path.with_suffix('.csv').name} "
            f"in {npz_path.parent} and rerun")


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
    # optional arrays, all or none: estimated/bounds are those of screened explanations
    for key, dtype in (("spatial", np.float32), ("attributions", np.float32),
                       ("estimated", bool), ("bounds", np.float32)):
        values = [getattr(e, key, None) for e in explanations]
        if n and all(v is not None for v in values):
            arrays[key] = _stack(key, values, dtype)
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

    # The arrays are compressed in memory once, so that the manifest can record
    # the size and SHA-256 of exactly the bytes written.
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    data = buffer.getvalue()
    manifest["npz_bytes"] = [len(data)] * n
    manifest["npz_sha256"] = [hashlib.sha256(data).hexdigest()] * n
    with atomic_path(npz_path) as tmp:
        tmp.write_bytes(data)
    write_csv(manifest, manifest_path)
    return npz_path, manifest_path


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read ``chunk`` bytes at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


# (path, size, mtime_ns) -> SHA-256 of files already hashed in this process
_HASHED: dict[tuple[str, int, int], str] = {}


def _cached_sha256(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASHED:
        _HASHED[key] = file_sha256(path)
    return _HASHED[key]


def verify_shard(npz_path: str | os.PathLike, manifest: pd.DataFrame | None = None) -> None:
    """Check a shard's ``.npz`` against the size and SHA-256 its manifest records.

    Parameters
    ----------
    npz_path:
        The ``.npz``; its manifest is the ``.csv`` beside it.
    manifest:
        The manifest, if already read.

    Raises
    ------
    FileNotFoundError
        The manifest or the ``.npz`` is missing (the shard is incomplete).
    ShardIntegrityError
        The file's size or checksum differs from the manifest's (a truncated
        copy, a disk fault); the message names the file, both values and how
        to recompute it. Manifests written before checksums were recorded
        (no :data:`INTEGRITY_COLUMNS`) and empty shards pass.
    """
    npz_path = Path(npz_path)
    manifest_path = npz_path.with_suffix(".csv")
    if not manifest_path.exists():
        raise FileNotFoundError(f"shard manifest {manifest_path} is missing (incomplete shard?)")
    if not npz_path.exists():
        raise FileNotFoundError(f"shard arrays {npz_path} are missing")
    if manifest is None:
        manifest = read_table(manifest_path)
    if manifest.empty or not set(INTEGRITY_COLUMNS) <= set(manifest.columns):
        return
    want_size, want_sha = int(manifest["npz_bytes"].iloc[0]), str(manifest["npz_sha256"].iloc[0])
    size = npz_path.stat().st_size
    if size != want_size:
        raise ShardIntegrityError(f"shard {npz_path} is corrupted: {size:,} bytes, its manifest "
                                  f"records {want_size:,} (truncated or partly copied?); "
                                  + _recompute_hint(npz_path))
    sha = _cached_sha256(npz_path)
    if sha != want_sha:
        raise ShardIntegrityError(f"shard {npz_path} is corrupted: its SHA-256 is {sha[:12]}..., its "
                                  f"manifest records {want_sha[:12]}...; " + _recompute_hint(npz_path))


def load_shard(npz_path: str | os.PathLike) -> Shard:
    """Load a shard written by :func:`write_shard`, after :func:`verify_shard`.

    Raises
    ------
    FileNotFoundError
        The ``.npz`` or its manifest (``.csv`` beside it) is missing; a shard
        without a manifest is incomplete.
    ShardIntegrityError
        (a ``ValueError``) The ``.npz`` does not match its manifest, or is
        not a readable shard (the file is named, with how to recompute it).
    ValueError
        Unknown ``format_version``.
    """
    npz_path = Path(npz_path)
    manifest_path = npz_path.with_suffix(".csv")
    if not manifest_path.exists():
        raise FileNotFoundError(f"shard manifest {manifest_path} is missing (incomplete shard?)")
    manifest = read_table(manifest_path)
    verify_shard(npz_path, manifest)
    from spectral_attribution.attributions.explanation import Explanation

    try:
        with np.load(npz_path, allow_pickle=False) as z:
            version = int(z["format_version"])
            if version != FORMAT_VERSION:
                raise ValueError(f"{npz_path}: shard format {version}, this version reads {FORMAT_VERSION}")
            prov = json.loads(str(z["provenance"]))
            spatial = z["spatial"] if "spatial" in z.files else None
            attributions = z["attributions"] if "attributions" in z.files else None
            estimated = z["estimated"] if "estimated" in z.files else None
            bounds = z["bounds"] if "bounds" in z.files else None
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
                    "estimated": None if estimated is None else estimated[i],
                    "bounds": None if bounds is None else bounds[i],
                }))
    except ShardIntegrityError:
        raise
    except ValueError as err:
        if "shard format" in str(err):
            raise
        raise ShardIntegrityError(f"shard {npz_path} cannot be read ({type(err).__name__}: {err}); "
                                  + _recompute_hint(npz_path)) from None
    except (OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as err:
        raise ShardIntegrityError(f"shard {npz_path} cannot be read ({type(err).__name__}: {err}); "
                                  + _recompute_hint(npz_path)) from None
    if len(exps) != len(manifest):
        raise ShardIntegrityError(f"shard {npz_path} holds {len(exps)} explanations, its manifest "
                                  f"{len(manifest)} rows; " + _recompute_hint(npz_path))
    return Shard(exps, manifest, prov, npz_path)


#: Variants of a shard (see the module docstring).
SHARD_VARIANTS = catalog.SHARD_VARIANTS
#: Variants of a WAM shard (``method="wam"``): the WAM's variants.
WAM_VARIANTS = catalog.WAM_VARIANTS
#: Folders of shards under a results folder, by method.
SHARD_METHODS = catalog.SHARD_METHODS


def shard_folder(results_dir: str | os.PathLike, model: str, variant: str = "clean",
                 method: str = "wcam") -> Path:
    """Folder of the shards of ``model``/``variant``: ``results_dir/wcam/{model}/{variant}`` for
    the WCAMs (``clean``, ``corrupted``), ``results_dir/spatial/{model}`` for ``spatial``, and
    ``results_dir/wam/{model}/{variant}`` for ``method="wam"`` (a WAM variant).

    Raises
    ------
    ValueError
        Unknown method or variant (the known ones are listed).
    """
    if method == "wam":
        if variant not in WAM_VARIANTS:
            raise ValueError(f"unknown WAM variant {variant!r}; expected one of {WAM_VARIANTS}")
        return Path(results_dir) / "wam" / model / variant
    if method != "wcam":
        raise ValueError(f"unknown method {method!r}; expected one of {SHARD_METHODS}")
    if variant not in SHARD_VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {SHARD_VARIANTS}")
    if variant == "spatial":
        return Path(results_dir) / "spatial" / model
    return Path(results_dir) / "wcam" / model / variant
