"""The ImageNet-1k validation set as a sample table, extracted once.

:func:`imagenet_val` turns the official ILSVRC2012 archives
(:data:`IMAGENET_VAL_ARCHIVES`, fetched from :data:`IMAGENET_BASE_URL` with
:func:`spectral_attribution.data.downloads.download` when asked) into a sample
table (see :mod:`spectral_attribution.data.samples`).
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
import urllib.parse
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from spectral_attribution._utils.cache import cached
from spectral_attribution._utils.files import umask
from spectral_attribution._utils.tables import read_table
from spectral_attribution.data.classes import imagenet_class_names, wnid_to_index
from spectral_attribution.data.downloads import CREDENTIALS_ENV, _verify, download
from spectral_attribution.data.samples import labelled_folder

__all__ = [
    "IMAGENET_VAL_ARCHIVES",
    "IMAGENET_BASE_URL",
    "imagenet_val",
]


#: Official archive names and MD5s of the ILSVRC2012 validation data (the same
#: values as ``torchvision.datasets.imagenet.ARCHIVE_META``).
IMAGENET_VAL_ARCHIVES: dict[str, tuple[str, str]] = {
    "val": ("ILSVRC2012_img_val.tar", "29b22e2961454d5413ddabcf34fc5622"),
    "devkit": ("ILSVRC2012_devkit_t12.tar.gz", "fa75699e90414af021442c21a62c3abf"),
}
#: Where image-net.org serves them (an account is required).
IMAGENET_BASE_URL = "https://image-net.org/data/ILSVRC/2012/"


def _read_devkit(devkit: Path) -> tuple[dict[int, str], list[int]]:
    """(ILSVRC2012_ID -> wnid for the leaf synsets, ground-truth IDs of the val images)."""
    import scipy.io

    meta_bytes = truth_bytes = None
    try:
        with tarfile.open(devkit, "r:*") as tar:
            for member in tar.getmembers():
                if member.name.endswith("data/meta.mat"):
                    meta_bytes = tar.extractfile(member).read()
                elif member.name.endswith("data/ILSVRC2012_validation_ground_truth.txt"):
                    truth_bytes = tar.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ValueError(f"cannot read devkit archive {devkit}: {exc}") from exc
    if meta_bytes is None or truth_bytes is None:
        raise ValueError(f"devkit archive {devkit} lacks data/meta.mat or "
                         f"data/ILSVRC2012_validation_ground_truth.txt")
    synsets = scipy.io.loadmat(io.BytesIO(meta_bytes), squeeze_me=True)["synsets"]
    id_to_wnid = {}
    for s in np.atleast_1d(synsets):
        # fields: ILSVRC2012_ID, WNID, words, gloss, num_children, ...; leaves are the classes
        if int(s["num_children"]) == 0:
            id_to_wnid[int(s["ILSVRC2012_ID"])] = str(s["WNID"])
    truth = [int(x) for x in truth_bytes.decode().split()]
    return id_to_wnid, truth


def imagenet_val(root: str | os.PathLike, *, download_missing: bool = False,
                 base_url: str = IMAGENET_BASE_URL, credentials_env: str | None = CREDENTIALS_ENV,
                 cookie_file: str | os.PathLike | None = None, progress: bool = True,
                 archives: Mapping[str, tuple[str, str]] | None = None) -> pd.DataFrame:
    """The ILSVRC2012 validation set (50 000 images) as a sample table.

    Layout under ``root``::

        ILSVRC2012_img_val.tar          official archive (6.3 GB)
        ILSVRC2012_devkit_t12.tar.gz    official devkit (ground truth, meta.mat)
        val/ILSVRC2012_val_00000001.JPEG ...   extracted here, once
        val/labels.csv                  file, wnid, class_index, class_name

    The first call verifies both archives against their published MD5s
    (:data:`IMAGENET_VAL_ARCHIVES`, the values torchvision checks), reads the
    devkit's ``meta.mat`` and ground truth (ILSVRC2012_ID → WordNet id →
    standard index through :data:`IMAGENET_WNIDS`), extracts the images into
    a temporary folder with ``labels.csv`` and renames it to ``val/``
    atomically. Later calls read ``val/labels.csv`` through
    :func:`labelled_folder` and need neither archive.

    Parameters
    ----------
    download_missing:
        Fetch missing archives from ``base_url`` with :func:`download`
        (resumable, checksum verified). Off by default: the archives need an
        image-net.org account; credentials come from the environment variable
        ``credentials_env`` (``user:password`` or token) or a ``cookie_file``.
    archives:
        ``{"val": (file name, md5), "devkit": (file name, md5)}`` overriding the
        official names and checksums (tests use tiny archives).

    Raises
    ------
    FileNotFoundError
        An archive is missing and ``download_missing`` is false (the message
        names the expected path and the URL).
    ChecksumError
        An archive does not match its MD5 (it is moved aside as ``.corrupt``).
    ValueError
        The devkit is malformed, or the number of images differs from the
        number of ground-truth labels.
    """
    root = Path(root).resolve()
    val_dir = root / "val"

    def extract(val_dir: Path) -> None:
        _extract_val(root, val_dir, archives, download_missing, base_url, credentials_env,
                     cookie_file, progress)

    # The extracted set is a cache of the archive: verified on every read (every file
    # listed, of the size recorded at extraction), moved aside and extracted again when
    # it fails (an interrupted extraction by another tool, a truncated or deleted image).
    return cached(val_dir, _verified_val, extract, what="extracted ImageNet validation set")


def _verified_val(val_dir: Path) -> pd.DataFrame:
    """The sample table of an extracted ``val/``; raises when a file is missing or has another size."""
    labels = val_dir / "labels.csv"
    if not labels.is_file():
        raise FileNotFoundError(f"{labels} is missing (an interrupted extraction?)")
    table = read_table(labels, all_text=True)
    if "bytes" in table.columns:
        for name, size in zip(table["file"], table["bytes"]):
            path = val_dir / name
            actual = path.stat().st_size if path.is_file() else None
            if actual != int(size):
                raise ValueError(f"{path.name} has {actual} bytes, {size} when extracted"
                                 if actual is not None else f"{path.name} is missing")
    return labelled_folder(val_dir)


def _extract_val(root: Path, val_dir: Path, archives, download_missing: bool, base_url: str,
                 credentials_env, cookie_file, progress: bool) -> None:
    """Verify (or download) both archives and extract the images and ``labels.csv`` into ``val_dir``, atomically."""
    archives = dict(IMAGENET_VAL_ARCHIVES if archives is None else archives)
    files = {}
    for key in ("devkit", "val"):
        name, md5 = archives[key]
        path = root / name
        url = urllib.parse.urljoin(base_url, name)
        if not path.is_file() and not download_missing:
            raise FileNotFoundError(
                f"ImageNet archive not found: {path}. Download it (image-net.org account needed) "
                f"from {url} and place it there, or set download_missing=True / "
                f"download: true with credentials in ${credentials_env}")
        if path.is_file() and not download_missing:
            _verify(path, md5, None)  # a damaged archive is moved aside, never extracted
            files[key] = path
        else:
            files[key] = download(url, path, md5=md5, credentials_env=credentials_env,
                                  cookie_file=cookie_file, progress=progress)

    id_to_wnid, truth = _read_devkit(files["devkit"])
    try:
        wnids = [id_to_wnid[i] for i in truth]
    except KeyError as exc:
        raise ValueError(f"devkit {files['devkit']}: ground truth uses ILSVRC2012_ID {exc} "
                         f"absent from meta.mat") from None
    labels = [wnid_to_index(w) for w in wnids]

    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".val.", dir=root))
    # mkdtemp makes a private (0700) folder; the extracted set is data to share like any folder
    os.chmod(tmp, 0o777 & ~umask())
    try:
        try:
            with tarfile.open(files["val"], "r:*") as tar:
                members = [m for m in tar.getmembers() if m.isfile()]
                for m in members:  # a flat archive of JPEGs: refuse anything else
                    if "/" in m.name.strip("./") or m.name.startswith(("/", "..")):
                        raise ValueError(f"unexpected member {m.name!r} in {files['val']}")
                mode = 0o666 & ~umask()  # like any new file, not the archive's recorded mode

                def data_with_umask(member, dest):
                    return tarfile.data_filter(member, dest).replace(mode=mode, deep=False)

                tar.extractall(tmp, members=members, filter=data_with_umask)
        except (tarfile.TarError, EOFError) as exc:
            raise ValueError(f"cannot extract {files['val']}: {exc}") from exc
        images = sorted(p.name for p in tmp.iterdir() if p.is_file())
        if len(images) != len(labels):
            raise ValueError(f"{files['val']} holds {len(images)} images but the devkit ground "
                             f"truth lists {len(labels)} labels")
        names = imagenet_class_names()
        sizes = [(tmp / name).stat().st_size for name in images]  # checked on every read
        pd.DataFrame({"file": images, "wnid": wnids, "class_index": labels,
                      "class_name": [names[i] for i in labels],
                      "bytes": sizes}).to_csv(tmp / "labels.csv", index=False)
        os.replace(tmp, val_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
