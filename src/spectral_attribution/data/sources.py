"""The workflow's single entry point to images: :func:`prepare_source`.

It validates a data-source configuration (keys named in every error),
builds the source's sample table (:mod:`~spectral_attribution.data.samples`,
:mod:`~spectral_attribution.data.imagenet`), draws the sample and decodes
every sampled image.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from spectral_attribution._utils.parameters import check_seed
from spectral_attribution.data.downloads import CREDENTIALS_ENV
from spectral_attribution.data.imagenet import IMAGENET_BASE_URL, imagenet_val
from spectral_attribution.data.samples import embedded_samples, labelled_folder
from spectral_attribution.data.sampling import check_images, sample_good_images

__all__ = ["prepare_source", "check_source"]


_SOURCE_KEYS: dict[str, dict[str, tuple[type | tuple[type, ...], Any]]] = {
    # key: (accepted types, default); default ... means required
    "common": {
        "source": (str, ...),
        "n_images": ((int, type(None)), None),
        "seed": (int, 0),
        "stratify": (bool, False),
        "skip_bad_images": (bool, False),
    },
    "embedded": {},
    "folder": {"root": ((str, os.PathLike), ...)},
    "imagenet": {
        "root": ((str, os.PathLike), ...),
        "download": (bool, False),
        "base_url": (str, IMAGENET_BASE_URL),
        "credentials_env": (str, CREDENTIALS_ENV),
        "cookie_file": ((str, os.PathLike, type(None)), None),
    },
}


def _validate_config(config: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(config, Mapping):
        raise TypeError(f"data source config must be a mapping, got {type(config).__name__}")
    source = config.get("source")
    if source is None:
        raise ValueError("data source config: missing key 'source' (one of 'embedded', 'folder', 'imagenet')")
    if source not in ("embedded", "folder", "imagenet"):
        raise ValueError(f"data source config: key 'source' has value {source!r}; "
                         f"expected one of 'embedded', 'folder', 'imagenet'")
    allowed = {**_SOURCE_KEYS["common"], **_SOURCE_KEYS[source]}
    unknown = sorted(set(config) - set(allowed))
    if unknown:
        raise ValueError(f"data source config ({source}): unknown key(s) {unknown}; "
                         f"allowed keys are {sorted(allowed)}")
    out = {}
    for key, (types, default) in allowed.items():
        if key not in config:
            if default is ...:
                raise ValueError(f"data source config ({source}): missing key {key!r}")
            out[key] = default
            continue
        value = config[key]
        bad_bool = isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,))
        if not isinstance(value, types) or bad_bool:
            raise TypeError(f"data source config ({source}): key {key!r} has value {value!r} "
                            f"of type {type(value).__name__}")
        out[key] = value
    if out["n_images"] is not None and out["n_images"] < 1:
        raise ValueError(f"data source config: key 'n_images' must be >= 1 or null, got {out['n_images']}")
    check_seed(out["seed"], "data source config: key 'seed'")
    return out


def _check_count(cfg: dict, count: int) -> None:
    if cfg["n_images"] is not None and cfg["n_images"] > count:
        where = f" ({cfg['root']})" if cfg.get("root") else ""
        raise ValueError(f"data source config: key 'n_images' is {cfg['n_images']} but the "
                         f"{cfg['source']} source{where} has only {count} images")


def check_source(config: Mapping[str, Any]) -> int | None:
    """What :func:`prepare_source` checks without decoding or downloading, made at start-up.

    The keys (named in every error); the listing of a ``folder`` source, or
    of an ImageNet set already extracted (labels, image ids and their
    collisions, both files named: :func:`~spectral_attribution.data.samples.labelled_folder`);
    and ``n_images`` against the number of images. The workflow calls it
    before any job (:func:`spectral_attribution.pipeline.run_checks.at_start`),
    so a configuration that cannot run is refused before anything is computed
    or recorded.

    Returns
    -------
    int or None
        The number of images of the source; ``None`` when it is known only
        once the source is prepared (ImageNet not extracted yet).

    Raises
    ------
    ValueError, TypeError, FileNotFoundError
        As :func:`prepare_source`, e.g. ``data source config: key 'n_images'
        is 50 but the folder source (photos) has only 7 images``.
    """
    cfg = _validate_config(config)
    source = cfg["source"]
    if source == "embedded":
        from spectral_attribution.data.samples import EMBEDDED_IMAGES

        count: int | None = len(EMBEDDED_IMAGES)
    elif source == "folder":
        count = len(labelled_folder(cfg["root"]))
    else:
        val = Path(cfg["root"]) / "val"
        count = len(labelled_folder(val)) if (val / "labels.csv").is_file() else None
    if count is not None:
        _check_count(cfg, count)
    return count


def prepare_source(config: Mapping[str, Any], out_dir: str | os.PathLike) -> pd.DataFrame:
    """Build the sample table of a data source described by ``config``.

    Keys (unknown keys, wrong types and missing required keys raise errors
    naming the key):

    ====================  ==========  ==========================================
    key                   sources     meaning
    ====================  ==========  ==========================================
    ``source``            all         ``"embedded"``, ``"folder"`` or ``"imagenet"``
    ``n_images``          all         int ≥ 1 or ``None`` (all images; default)
    ``seed``              all         int seed of the sampling (default 0)
    ``stratify``          all         sample proportionally per label (default false)
    ``skip_bad_images``   all         leave undecodable images out with a warning
                                      and draw others in their place, instead
                                      of failing (default false)
    ``root``              folder,     the labelled folder (see :func:`labelled_folder`);
                          imagenet    the ImageNet root (see :func:`imagenet_val`)
    ``download``          imagenet    fetch missing archives (default false)
    ``base_url``          imagenet    where to fetch them (default image-net.org)
    ``credentials_env``   imagenet    env var with ``user:password`` or a token
                                      (default ``IMAGENET_CREDENTIALS``)
    ``cookie_file``       imagenet    Netscape cookie file (default none)
    ====================  ==========  ==========================================

    ``out_dir`` receives only images that must be materialised (the embedded
    photographs, as PNG); folder images are read in place, ImageNet is
    extracted under ``root``. The sample (:func:`sample_good_images`:
    seeded, without replacement) holds exactly ``n_images`` images that
    decode: with ``skip_bad_images``, each undecodable image drawn is replaced
    by another draw (a warning names them); without it, any undecodable image
    drawn stops the run, naming every bad file. With ``n_images`` null, every
    image of the source is decoded.

    Returns
    -------
    A sample table (``image_id, path, label, class_name``); its
    ``attrs["skipped_images"]`` lists the images left out (with an ``error``
    column), which :func:`spectral_attribution.pipeline.prepare_samples`
    writes to ``results/data/skipped_images.csv``.

    Raises
    ------
    ValueError
        Bad keys (named); ``n_images`` larger than the source, or (with
        ``skip_bad_images``) than the images of the source that decode.
    ImageDecodeError
        An undecodable image was drawn and ``skip_bad_images`` is false.
    """
    cfg = _validate_config(config)
    source = cfg["source"]
    if source == "embedded":
        table = embedded_samples(out_dir)
    elif source == "folder":
        table = labelled_folder(cfg["root"])
    else:
        table = imagenet_val(cfg["root"], download_missing=cfg["download"], base_url=cfg["base_url"],
                             credentials_env=cfg["credentials_env"], cookie_file=cfg["cookie_file"])
    if cfg["n_images"] is not None:
        _check_count(cfg, len(table))
        good, bad = sample_good_images(table, cfg["n_images"], cfg["seed"], stratify=cfg["stratify"],
                                       skip_bad=cfg["skip_bad_images"])
    else:
        good, bad = check_images(table, skip_bad=cfg["skip_bad_images"])
    if len(bad):
        warnings.warn(f"{len(bad)} undecodable image(s) left out: {list(bad['path'])}", stacklevel=2)
    # The caller writes these out next to the sample (results/data/skipped_images.csv).
    good.attrs["skipped_images"] = bad
    return good
