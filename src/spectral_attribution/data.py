"""Image sources: decoding to RGB, tidy sample tables, seeded sampling, downloads.

Every source ends as a *sample table*, a :class:`pandas.DataFrame` with one row
per image and the columns

=============  ======  =====================================================
column         dtype   meaning
=============  ======  =====================================================
``image_id``   str     unique, filesystem-safe (``[A-Za-z0-9._-]``) identifier
``path``       str     absolute path of the image file
``label``      int64   ImageNet-1k class index, ``0..999`` (never ``uint8``:
                       the original code wrapped classes >= 256, METHOD.md §6)
``class_name`` str     human-readable class name (torchvision's list)
=============  ======  =====================================================

Sources
-------
* :func:`embedded_samples`: real photographs shipped inside installed wheels
  (scikit-image, matplotlib), written as PNG files; no network.
* :func:`labelled_folder`: a folder of images labelled either by WordNet-id
  sub-folders (ImageNet *train* layout) or by a ``labels.csv``.
* :func:`imagenet_val`: the ILSVRC2012 validation set, from the official
  archives (downloaded with :func:`download` when asked, checksums verified).
* :func:`prepare_source`: the single entry point the workflow calls.

Class indices follow the standard ImageNet-1k convention: the index of a
WordNet id in the *sorted* list of the 1000 ILSVRC2012 synsets
(:data:`IMAGENET_WNIDS`, bundled here; identical to the ordering of
torchvision's ``ImageFolder`` on the full train set, of timm's
``imagenet_synsets.txt`` and of RobustBench's ``imagenet_class_to_id_map.json``).
"""

from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import http.client
import http.cookiejar
import io
import logging
import os
import re
import shutil
import socket
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = [
    "ImageDecodeError",
    "ChecksumError",
    "DownloadError",
    "SAMPLE_COLUMNS",
    "IMAGE_EXTENSIONS",
    "IMAGENET_WNIDS",
    "IMAGENET_VAL_ARCHIVES",
    "IMAGENET_BASE_URL",
    "EMBEDDED_IMAGES",
    "imagenet_class_names",
    "wnid_to_index",
    "load_image",
    "embedded_samples",
    "labelled_folder",
    "check_images",
    "sample_images",
    "download",
    "file_hash",
    "imagenet_val",
    "prepare_source",
]

log = logging.getLogger(__name__)

SAMPLE_COLUMNS = ("image_id", "path", "label", "class_name")

#: File name endings read as images by :func:`labelled_folder` (case-insensitive).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")

NUM_CLASSES = 1000


class ImageDecodeError(ValueError):
    """An image file could not be decoded; the message names the file(s)."""


class ChecksumError(ValueError):
    """A downloaded or cached file does not match its published checksum."""


class DownloadError(OSError):
    """A download failed for good (authentication, not found, retries exhausted)."""


# --------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------
def _sixteen_bit_to_8(image: Image.Image) -> Image.Image:
    # PIL's convert("L") on I;16 clips at 255 instead of scaling: do it by hand,
    # rounding 0..65535 onto 0..255 (65535 -> 255, 32768 -> 128).
    a = np.asarray(image, dtype=np.int64)
    a = np.clip(a, 0, 65535)
    a8 = ((a * 255 + 32767) // 65535).astype(np.uint8)
    return Image.fromarray(a8, mode="L") if a8.ndim == 2 else Image.fromarray(a8)


def _composite_on_white(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def load_image(path: str | os.PathLike) -> Image.Image:
    """Decode an image file fully into an 8-bit RGB :class:`PIL.Image.Image`.

    Conversions (the returned image is always mode ``"RGB"``, ``uint8``
    ``0..255``, with the file's EXIF orientation applied by
    :func:`PIL.ImageOps.exif_transpose`, so its size may be transposed):

    * ``1``, ``L``, ``CMYK``, ``YCbCr``, ``P`` without transparency: PIL's
      ``convert("RGB")`` (greyscale replicated on the three channels).
    * ``RGBA``, ``LA``, ``PA``, ``La``, ``RGBa`` and ``P`` with a transparency
      key: **composited on a white background** (transparent pixels hold
      arbitrary colours, which dropping alpha would expose).
    * ``I;16``/``I;16L``/``I;16B``/``I`` (16-bit): scaled ``0..65535 →
      0..255`` with rounding (PIL's own conversion would clip at 255).
    * ``F`` (float): values in ``[0, 1]`` are scaled by 255, others clipped to
      ``0..255``.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ImageDecodeError
        The file is not a decodable image (unknown format, truncated data,
        decompression bomb, unsupported mode); the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file not found: {path}")
    try:
        with Image.open(path) as im:
            im.load()  # full decode now: truncated files fail here, not later
            image = ImageOps.exif_transpose(im)
            if image is im:
                image = im.copy()
        mode = image.mode
        if mode == "RGB":
            return image
        if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
            return _sixteen_bit_to_8(image).convert("RGB")
        if mode == "F":
            a = np.asarray(image, dtype=np.float64)
            if np.nanmax(a) <= 1.0:
                a = a * 255.0
            a = np.clip(np.nan_to_num(a), 0, 255).round().astype(np.uint8)
            return Image.fromarray(a, mode="L").convert("RGB")
        if mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
                mode == "P" and "transparency" in image.info):
            return _composite_on_white(image)
        return image.convert("RGB")
    except ImageDecodeError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
            Image.DecompressionBombError) as exc:
        raise ImageDecodeError(f"cannot decode image file {path}: {type(exc).__name__}: {exc}") from exc


# --------------------------------------------------------------------------
# ImageNet class list
# --------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _wnid_index() -> dict[str, int]:
    return {w: i for i, w in enumerate(IMAGENET_WNIDS)}


def wnid_to_index(wnid: str) -> int:
    """ImageNet-1k class index ``0..999`` of a WordNet id such as ``"n01440764"``.

    Raises ``KeyError`` naming the id when it is not one of the 1000 classes.
    """
    try:
        return _wnid_index()[wnid]
    except KeyError:
        raise KeyError(f"{wnid!r} is not one of the 1000 ImageNet-1k WordNet ids") from None


@lru_cache(maxsize=1)
def imagenet_class_names() -> tuple[str, ...]:
    """The 1000 ImageNet class names, index-aligned (torchvision's weights metadata)."""
    from torchvision.models import ResNet50_Weights

    names = tuple(ResNet50_Weights.IMAGENET1K_V2.meta["categories"])
    assert len(names) == NUM_CLASSES
    return names


# --------------------------------------------------------------------------
# Sample tables
# --------------------------------------------------------------------------
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe_id(text: str) -> str:
    s = _SAFE.sub("_", text).strip("._-")
    return s or "image"


def _ids_for(paths: Sequence[Path], root: Path | None) -> list[str]:
    """File stems made filesystem-safe; colliding stems fall back to the relative path."""
    stems = [_safe_id(p.stem) for p in paths]
    counts = pd.Series(stems).value_counts()
    ids = []
    for p, s in zip(paths, stems):
        if counts[s] > 1:
            rel = p.relative_to(root) if root is not None else p
            s = _safe_id(str(rel).replace(os.sep, "__"))
        ids.append(s)
    if len(set(ids)) != len(ids):  # pragma: no cover - needs two identical relative paths
        dup = pd.Series(ids)[pd.Series(ids).duplicated()].tolist()
        raise ValueError(f"image ids are not unique after sanitising: {dup[:10]}")
    return ids


def _table(image_ids, paths, labels, class_names=None) -> pd.DataFrame:
    labels = [int(x) for x in labels]
    bad = [x for x in labels if not 0 <= x < NUM_CLASSES]
    if bad:
        raise ValueError(f"class indices outside 0..{NUM_CLASSES - 1}: {sorted(set(bad))[:10]}")
    if class_names is None:
        names = imagenet_class_names()
        class_names = [names[x] for x in labels]
    df = pd.DataFrame({
        "image_id": pd.Series(list(image_ids), dtype=str),
        "path": pd.Series([str(Path(p).resolve()) for p in paths], dtype=str),
        "label": pd.Series(labels, dtype="int64"),
        "class_name": pd.Series([str(c) for c in class_names], dtype=str),
    })
    if df["image_id"].duplicated().any():
        raise ValueError(f"duplicate image_id: {df.loc[df['image_id'].duplicated(), 'image_id'].tolist()[:10]}")
    return df


def _check_table(df: pd.DataFrame, what: str = "sample table") -> None:
    missing = [c for c in SAMPLE_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}; it has {list(df.columns)}")


def _write_png_atomic(image: Image.Image, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            image.save(fh, format="PNG")
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


#: The embedded photographs: ``image_id -> (package, file, ImageNet index, why)``.
EMBEDDED_IMAGES: dict[str, tuple[str, str, int, str]] = {
    "chelsea": ("scikit-image", "chelsea.png", 281,
                "Chelsea, a ginger tabby cat: 281 'tabby' (models often answer 285 'Egyptian cat' or "
                "282 'tiger cat', which are the neighbouring domestic-cat classes)"),
    "coffee": ("scikit-image", "coffee.png", 967,
               "a cup of coffee with crema on a saucer: 967 'espresso' (968 'cup' is the container)"),
    "rocket": ("scikit-image", "rocket.jpg", 657,
               "a SpaceX Falcon 9 on its launch pad: 657 'missile' (n03773504), the ImageNet synset "
               "whose photographs include launch vehicles; there is no 'rocket' class"),
    "motorcycle": ("scikit-image", "motorcycle_left.png", 665,
                   "left image of the Middlebury stereo motorcycle (a Yamaha): 665 'moped', the synset "
                   "that holds ImageNet's motorcycle photographs; there is no 'motorcycle' class"),
    "camera": ("scikit-image", "camera.png", 872,
               "'cameraman' (greyscale): a photographer behind a camera on a tripod: 872 'tripod'"),
    "grace_hopper": ("matplotlib", "grace_hopper.jpg", 652,
                     "Rear Admiral Grace Hopper in US Navy dress uniform: 652 'military uniform'"),
}


def _embedded_source(package: str, filename: str) -> Path:
    if package == "scikit-image":
        import skimage.data

        path = Path(skimage.data.__file__).parent / filename
    elif package == "matplotlib":
        import matplotlib

        path = Path(matplotlib.get_data_path()) / "sample_data" / filename
    else:  # pragma: no cover - table is static
        raise ValueError(f"unknown package {package!r}")
    if not path.is_file():
        raise FileNotFoundError(f"embedded image {filename!r} not found in the installed {package} "
                                f"package (looked at {path}); reinstall {package}")
    return path


def embedded_samples(dest_dir: str | os.PathLike) -> pd.DataFrame:
    """Real photographs shipped inside installed wheels, written as PNG files.

    No network is used. Each picture is decoded with :func:`load_image`
    (so the greyscale ``camera`` becomes RGB) and written atomically as
    ``dest_dir/<image_id>.png`` (8-bit RGB); rerunning overwrites identical
    files.

    ================  ===================================  =====  ==================
    image_id          file (package)                       label  class_name
    ================  ===================================  =====  ==================
    ``chelsea``       ``chelsea.png`` (scikit-image)       281    tabby
    ``coffee``        ``coffee.png`` (scikit-image)        967    espresso
    ``rocket``        ``rocket.jpg`` (scikit-image)        657    missile
    ``motorcycle``    ``motorcycle_left.png`` (skimage)    665    moped
    ``camera``        ``camera.png`` (scikit-image)        872    tripod
    ``grace_hopper``  ``grace_hopper.jpg`` (matplotlib)    652    military uniform
    ================  ===================================  =====  ==================

    Why these labels: Chelsea is a ginger *tabby* cat (the neighbouring classes
    285 Egyptian cat and 282 tiger cat are what classifiers often answer);
    the coffee picture is a cup of espresso-like coffee with crema (968 'cup'
    would be the container); ImageNet-1k has no rocket class, and its
    'missile' synset (n03773504) contains launch vehicles; it has no
    motorcycle class either, and its 'moped' synset holds its motorcycle
    photographs; the cameraman stands behind a camera on a *tripod*; Grace
    Hopper wears US Navy dress uniform. ``astronaut`` (no ImageNet class fits
    a portrait in a spacesuit) and the motion-blurred ``clock_motion`` are left
    out on purpose.

    Returns
    -------
    A sample table (see the module docstring) of 6 rows, in the order above.

    Raises
    ------
    FileNotFoundError
        An installed package lacks one of the files.
    """
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    ids, paths, labels = [], [], []
    for image_id, (package, filename, label, _why) in EMBEDDED_IMAGES.items():
        image = load_image(_embedded_source(package, filename))
        dest = dest_dir / f"{image_id}.png"
        _write_png_atomic(image, dest)
        ids.append(image_id)
        paths.append(dest)
        labels.append(label)
    return _table(ids, paths, labels)


def _is_image_file(p: Path) -> bool:
    return p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")


def labelled_folder(root: str | os.PathLike, labels_file: str = "labels.csv") -> pd.DataFrame:
    """A sample table of a folder of labelled images.

    Two layouts are understood:

    1. ``root/labels.csv`` exists (the layout of ``shared/data/imagenet-sample``):
       a CSV with at least the columns ``file`` (path relative to ``root``;
       any characters, apostrophes included) and ``class_index`` (integer
       ``0..999``; ``label`` is accepted as an alias). Optional columns:
       ``class_name`` (kept, otherwise torchvision's name is used) and
       ``wnid`` (checked against ``class_index``).
    2. Otherwise one sub-folder per WordNet id (the ImageNet *train* layout,
       ``root/n01440764/*.JPEG``); images are found recursively inside each
       sub-folder by extension (:data:`IMAGE_EXTENSIONS`), other files and
       hidden entries are ignored. Indices come from :data:`IMAGENET_WNIDS`,
       so a folder holding a subset of classes still gets the right indices.

    ``image_id`` is the file stem with unsafe characters replaced by ``_``
    (``yellow_lady's_slipper`` → ``yellow_lady_s_slipper``); stems that
    collide use the relative path instead. Rows are sorted by path.

    Raises
    ------
    FileNotFoundError / NotADirectoryError
        ``root`` is missing; a file listed in the CSV is missing (all missing
        files are named, up to 20).
    ValueError
        Missing CSV column (named, with the columns present), a non-integer or
        out-of-range class index (row and value named), a ``wnid`` that
        disagrees with ``class_index``, duplicate files, a sub-folder that is
        not an ImageNet-1k WordNet id, or no images at all.
    """
    root = Path(root).resolve()
    if not root.exists():
        raise FileNotFoundError(f"image folder not found: {root}")
    if not root.is_dir():
        raise NotADirectoryError(f"not a folder: {root}")
    csv = root / labels_file
    if csv.is_file():
        return _from_csv(root, csv)
    return _from_wnid_folders(root, csv)


def _from_csv(root: Path, csv: Path) -> pd.DataFrame:
    try:
        table = pd.read_csv(csv, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise ValueError(f"cannot read labels file {csv}: {exc}") from exc
    columns = list(table.columns)
    if "file" not in columns:
        raise ValueError(f"labels file {csv} has no 'file' column; its columns are {columns}")
    label_col = "class_index" if "class_index" in columns else ("label" if "label" in columns else None)
    if label_col is None:
        raise ValueError(f"labels file {csv} has no 'class_index' (or 'label') column; "
                         f"its columns are {columns}")
    if len(table) == 0:
        raise ValueError(f"labels file {csv} lists no images")
    labels = []
    for row, value in enumerate(table[label_col], start=2):  # row 1 is the header
        try:
            v = int(str(value).strip())
        except ValueError:
            raise ValueError(f"{csv}, line {row}: column {label_col!r} value {value!r} "
                             f"is not an integer class index") from None
        if not 0 <= v < NUM_CLASSES:
            raise ValueError(f"{csv}, line {row}: column {label_col!r} value {v} "
                             f"is outside 0..{NUM_CLASSES - 1}")
        labels.append(v)
    if "wnid" in columns:
        for row, (w, v) in enumerate(zip(table["wnid"], labels), start=2):
            if w and _wnid_index().get(w) != v:
                raise ValueError(f"{csv}, line {row}: wnid {w!r} is class "
                                 f"{_wnid_index().get(w)} but {label_col} says {v}")
    dup = table["file"][table["file"].duplicated()].tolist()
    if dup:
        raise ValueError(f"labels file {csv} lists files more than once: {dup[:10]}")
    paths = [root / f for f in table["file"]]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        more = f" (and {len(missing) - 20} more)" if len(missing) > 20 else ""
        raise FileNotFoundError(f"labels file {csv} lists {len(missing)} missing file(s): "
                                f"{missing[:20]}{more}")
    names = list(table["class_name"]) if "class_name" in columns else None
    if names is not None:
        defaults = imagenet_class_names()
        names = [n if n else defaults[v] for n, v in zip(names, labels)]
    df = _table(_ids_for(paths, root), paths, labels, names)
    return df.sort_values("path", kind="stable").reset_index(drop=True)


def _from_wnid_folders(root: Path, csv: Path) -> pd.DataFrame:
    subdirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not subdirs:
        raise ValueError(f"{root} has neither a {csv.name} nor WordNet-id sub-folders "
                         f"(e.g. {root / 'n01440764'})")
    unknown = [p.name for p in subdirs if p.name not in _wnid_index()]
    if unknown:
        raise ValueError(f"sub-folders of {root} that are not ImageNet-1k WordNet ids: {unknown[:20]} "
                         f"(expected names like 'n01440764', or a {csv.name} file)")
    paths, labels = [], []
    for d in subdirs:
        files = sorted(p for p in d.rglob("*") if _is_image_file(p))
        paths += files
        labels += [_wnid_index()[d.name]] * len(files)
    if not paths:
        raise ValueError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) under {root}")
    df = _table(_ids_for(paths, root), paths, labels)
    return df.sort_values("path", kind="stable").reset_index(drop=True)


def check_images(df: pd.DataFrame, skip_bad: bool = False,
                 workers: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Decode every image of a sample table fully with :func:`load_image`.

    Returns
    -------
    (good, bad):
        ``good`` holds the rows that decode (same columns, index reset);
        ``bad`` the rows that do not, with an extra ``error`` column (str).

    Raises
    ------
    ImageDecodeError
        When some images fail and ``skip_bad`` is false; the message names
        *every* bad file and its error.
    """
    _check_table(df)
    paths = list(df["path"])

    def one(p):
        try:
            load_image(p)
            return ""
        except (ImageDecodeError, FileNotFoundError) as exc:
            return str(exc)

    workers = workers or min(8, os.cpu_count() or 1)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        errors = list(pool.map(one, paths))
    ok = np.array([e == "" for e in errors], dtype=bool)
    bad = df.loc[~ok].copy()
    bad["error"] = [e for e in errors if e]
    if len(bad) and not skip_bad:
        lines = "\n".join(f"  {p}: {e}" for p, e in zip(bad["path"], bad["error"]))
        raise ImageDecodeError(f"{len(bad)} of {len(df)} image(s) cannot be decoded "
                               f"(set skip_bad_images to leave them out):\n{lines}")
    return df.loc[ok].reset_index(drop=True), bad.reset_index(drop=True)


def sample_images(df: pd.DataFrame, n: int, seed: int, stratify: bool = False) -> pd.DataFrame:
    """``n`` rows drawn **without replacement**, reproducibly from ``seed``.

    Parameters
    ----------
    df:
        A sample table.
    n:
        Number of rows, ``0 <= n <= len(df)``.
    seed:
        Integer seed of :func:`numpy.random.default_rng`; the same table and
        seed always give the same rows.
    stratify:
        Allocate the draws to labels proportionally to their frequency
        (largest-remainder rounding, ties broken by the seeded generator),
        then draw inside each label. With 1000 equally frequent classes and
        ``n = 1000`` that is exactly one image per class.

    Returns
    -------
    The selected rows in their original table order, index reset.

    Raises
    ------
    ValueError
        ``n`` negative or larger than the table (both named).
    TypeError
        ``n`` or ``seed`` not an integer.
    """
    _check_table(df)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n must be an integer, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if n > len(df):
        raise ValueError(f"cannot sample n={n} images without replacement from a table of {len(df)}")
    rng = np.random.default_rng(int(seed))
    if not stratify:
        chosen = rng.choice(len(df), size=n, replace=False)
    else:
        labels = df["label"].to_numpy()
        classes, counts = np.unique(labels, return_counts=True)
        quota = n * counts / counts.sum()
        alloc = np.floor(quota).astype(int)
        rest = n - alloc.sum()
        if rest:
            # largest remainders first; a random key breaks ties reproducibly
            order = np.lexsort((rng.random(len(classes)), -(quota - alloc)))
            alloc[order[:rest]] += 1
        chosen = []
        for c, k in zip(classes, alloc):
            members = np.flatnonzero(labels == c)
            if k:
                chosen.extend(rng.choice(members, size=k, replace=False))
        chosen = np.asarray(chosen, dtype=int)
    return df.iloc[np.sort(chosen)].reset_index(drop=True)


# --------------------------------------------------------------------------
# Downloads
# --------------------------------------------------------------------------
#: Official archive names and MD5s of the ILSVRC2012 validation data (the same
#: values as ``torchvision.datasets.imagenet.ARCHIVE_META``).
IMAGENET_VAL_ARCHIVES: dict[str, tuple[str, str]] = {
    "val": ("ILSVRC2012_img_val.tar", "29b22e2961454d5413ddabcf34fc5622"),
    "devkit": ("ILSVRC2012_devkit_t12.tar.gz", "fa75699e90414af021442c21a62c3abf"),
}
#: Where image-net.org serves them (an account is required).
IMAGENET_BASE_URL = "https://image-net.org/data/ILSVRC/2012/"

#: Default environment variable holding credentials for :func:`download`.
CREDENTIALS_ENV = "SPECTRAL_ATTRIBUTION_CREDENTIALS"

_RETRYABLE = (urllib.error.URLError, http.client.HTTPException, ConnectionError,
              TimeoutError, socket.timeout)


def file_hash(path: str | os.PathLike, algorithm: str = "sha256", chunk: int = 1 << 22) -> str:
    """Hex digest of a file's bytes (``"md5"``, ``"sha256"``, any :mod:`hashlib` name)."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def _redact(url: str) -> str:
    """URL without user-info, query or fragment: safe for logs and error messages."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def _auth_header(url: str, credentials_env: str | None) -> tuple[str, dict[str, str]]:
    """Strip user-info from ``url``; build an Authorization header from it or the env var."""
    parts = urllib.parse.urlsplit(url)
    headers: dict[str, str] = {}
    secret = None
    if parts.username is not None:
        secret = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        url = urllib.parse.urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    elif credentials_env and os.environ.get(credentials_env):
        secret = os.environ[credentials_env]
    if secret:
        if ":" in secret:  # user:password -> HTTP Basic
            headers["Authorization"] = "Basic " + base64.b64encode(secret.encode()).decode()
        else:  # a bare token -> Bearer
            headers["Authorization"] = f"Bearer {secret}"
    return url, headers


def _verify(path: Path, md5: str | None, sha256: str | None) -> None:
    for algo, expected in (("md5", md5), ("sha256", sha256)):
        if expected:
            actual = file_hash(path, algo)
            if actual.lower() != expected.lower():
                aside = _move_aside(path)
                raise ChecksumError(f"{path.name}: {algo} {actual} does not match the expected "
                                    f"{expected.lower()}; the file was moved aside to {aside} and "
                                    f"will not be used (delete it, then download again)")


def _move_aside(path: Path) -> Path:
    final = path.name[:-5] if path.name.endswith(".part") else path.name
    aside = path.with_name(f"{final}.corrupt")
    k = 1
    while aside.exists():
        aside = path.with_name(f"{final}.corrupt{k}")
        k += 1
    os.replace(path, aside)
    return aside


def download(url: str, dest: str | os.PathLike, *, md5: str | None = None,
             sha256: str | None = None, credentials_env: str | None = CREDENTIALS_ENV,
             cookie_file: str | os.PathLike | None = None, progress: bool = True,
             retries: int = 5, backoff_s: float = 1.0, timeout_s: float = 60.0,
             chunk_bytes: int = 1 << 20) -> Path:
    """Download ``url`` to ``dest``: resumable, verified, atomic.

    * **Resumable**: bytes go to ``dest + ".part"``; on a dropped connection
      (or a rerun after an interrupted one) the download continues with an HTTP
      ``Range: bytes=<size of .part>-`` request, up to ``retries`` times in
      one call, waiting ``backoff_s * attempt`` seconds in between. A server
      that ignores ``Range`` (answers 200) restarts the file from zero.
    * **Verified**: when ``md5`` and/or ``sha256`` (hex) are given, the
      complete file is hashed before it is renamed to ``dest``. A mismatch
      moves the file aside to ``dest + ".corrupt"`` and raises
      :class:`ChecksumError`: a corrupted archive is never used. An existing
      ``dest`` that matches is returned without any network access; one that
      does not is moved aside and downloaded again. Without checksums an
      existing ``dest`` is trusted.
    * **Credentials** (never logged, never written to any file, never part of
      an error message): ``user:password`` in the URL, or the value of the
      environment variable ``credentials_env`` (default
      ``SPECTRAL_ATTRIBUTION_CREDENTIALS``) as ``user:password`` (HTTP Basic)
      or a bare token (``Authorization: Bearer``); and/or a Netscape-format
      ``cookie_file`` (as exported from a logged-in browser session). Logs and
      messages show the URL without user-info or query string.
    * **Progress**: a :mod:`tqdm` bar on stderr when ``progress`` is true *and*
      stderr is a terminal.

    Only the standard library (:mod:`urllib`) is used.

    Returns
    -------
    Path of the verified file.

    Raises
    ------
    ChecksumError
        The downloaded file does not match ``md5``/``sha256``.
    DownloadError
        HTTP 401/403 (credentials missing or refused: the message names
        ``credentials_env``), 404 or another client error, or all retries
        failed (the last error is chained).
    """
    from tqdm.auto import tqdm

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    if dest.is_file():
        if not (md5 or sha256):
            return dest
        try:
            _verify(dest, md5, sha256)
            return dest
        except ChecksumError as exc:
            log.warning("%s", exc)

    clean_url, headers = _auth_header(url, credentials_env)
    shown = _redact(url)
    handlers: list[Any] = []
    if cookie_file is not None:
        jar = http.cookiejar.MozillaCookieJar()
        try:
            jar.load(str(cookie_file), ignore_discard=True, ignore_expires=True)
        except (OSError, http.cookiejar.LoadError) as exc:
            raise DownloadError(f"cannot read cookie file {cookie_file}: {type(exc).__name__}") from None
        handlers.append(urllib.request.HTTPCookieProcessor(jar))
    opener = urllib.request.build_opener(*handlers)

    last_error: BaseException | None = None
    total: int | None = None
    for attempt in range(retries + 1):
        offset = part.stat().st_size if part.exists() else 0
        if total is not None and offset == total:
            break
        request = urllib.request.Request(clean_url, headers=dict(headers))
        if offset:
            request.add_header("Range", f"bytes={offset}-")
        try:
            with opener.open(request, timeout=timeout_s) as response:
                status = response.status
                length = response.headers.get("Content-Length")
                if status == 206:
                    crange = response.headers.get("Content-Range", "")
                    m = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", crange)
                    if not m or int(m.group(1)) != offset:
                        raise DownloadError(f"{shown}: unexpected Content-Range {crange!r} "
                                            f"for a resume at byte {offset}")
                    total = int(m.group(3)) if m.group(3) != "*" else None
                    mode = "ab"
                else:  # 200: the whole file (Range ignored or not sent)
                    offset = 0
                    total = int(length) if length is not None else None
                    mode = "wb"
                log.info("downloading %s -> %s (from byte %d)", shown, dest, offset)
                bar = tqdm(total=total, initial=offset, unit="B", unit_scale=True,
                           desc=dest.name, disable=not (progress and sys.stderr.isatty()))
                try:
                    with open(part, mode) as fh:
                        while True:
                            block = response.read(chunk_bytes)
                            if not block:
                                break
                            fh.write(block)
                            bar.update(len(block))
                finally:
                    bar.close()
            size = part.stat().st_size
            if total is not None and size < total:
                raise ConnectionError(f"connection closed at byte {size} of {total}")
            break
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and offset:
                break  # the .part file already holds everything: verify below
            if exc.code in (401, 403):
                raise DownloadError(
                    f"{shown}: HTTP {exc.code} (authentication required or refused); put "
                    f"'user:password' or a token in the environment variable "
                    f"{credentials_env or CREDENTIALS_ENV!r}, or pass a cookie file") from None
            if 400 <= exc.code < 500:
                raise DownloadError(f"{shown}: HTTP {exc.code} {exc.reason}") from None
            last_error = exc
        except DownloadError:
            raise
        except (*_RETRYABLE, OSError) as exc:
            last_error = exc
        if attempt < retries:
            log.warning("download of %s interrupted (%s: %s); resuming (attempt %d of %d)",
                        shown, type(last_error).__name__, last_error, attempt + 1, retries)
            time.sleep(backoff_s * (attempt + 1))
    else:
        raise DownloadError(f"{shown}: download failed after {retries + 1} attempts; the partial "
                            f"file {part} is kept for a later resume") from last_error

    _verify(part, md5, sha256)
    os.replace(part, dest)
    return dest


# --------------------------------------------------------------------------
# ImageNet-1k validation set
# --------------------------------------------------------------------------
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
                 base_url: str = IMAGENET_BASE_URL, credentials_env: str | None = "IMAGENET_CREDENTIALS",
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
    if (val_dir / "labels.csv").is_file():
        return labelled_folder(val_dir)
    if val_dir.exists():
        raise ValueError(f"{val_dir} exists but has no labels.csv (an interrupted extraction "
                         f"by another tool?); move it away and rerun")
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
    try:
        try:
            with tarfile.open(files["val"], "r:*") as tar:
                members = [m for m in tar.getmembers() if m.isfile()]
                for m in members:  # a flat archive of JPEGs: refuse anything else
                    if "/" in m.name.strip("./") or m.name.startswith(("/", "..")):
                        raise ValueError(f"unexpected member {m.name!r} in {files['val']}")
                tar.extractall(tmp, members=members, filter="data")
        except (tarfile.TarError, EOFError) as exc:
            raise ValueError(f"cannot extract {files['val']}: {exc}") from exc
        images = sorted(p.name for p in tmp.iterdir() if p.is_file())
        if len(images) != len(labels):
            raise ValueError(f"{files['val']} holds {len(images)} images but the devkit ground "
                             f"truth lists {len(labels)} labels")
        names = imagenet_class_names()
        pd.DataFrame({"file": images, "wnid": wnids, "class_index": labels,
                      "class_name": [names[i] for i in labels]}).to_csv(tmp / "labels.csv", index=False)
        os.replace(tmp, val_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return labelled_folder(val_dir)


# --------------------------------------------------------------------------
# The workflow's entry point
# --------------------------------------------------------------------------
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
        "credentials_env": (str, "IMAGENET_CREDENTIALS"),
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
    return out


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
                                      instead of failing (default false)
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
    extracted under ``root``. Sampling (:func:`sample_images`, without
    replacement) happens first, then the sampled images are decoded with
    :func:`check_images`, so with ``skip_bad_images`` the table may hold fewer
    than ``n_images`` rows (a warning says how many were dropped).

    Returns
    -------
    A sample table (``image_id, path, label, class_name``).
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
        if cfg["n_images"] > len(table):
            raise ValueError(f"data source config: key 'n_images' is {cfg['n_images']} but the "
                             f"{source} source has only {len(table)} images")
        table = sample_images(table, cfg["n_images"], cfg["seed"], stratify=cfg["stratify"])
    good, bad = check_images(table, skip_bad=cfg["skip_bad_images"])
    if len(bad):
        warnings.warn(f"{len(bad)} undecodable image(s) left out: {list(bad['path'])}", stacklevel=2)
    # The caller writes these out next to the sample (results/data/skipped_images.csv).
    good.attrs["skipped_images"] = bad
    return good


# --------------------------------------------------------------------------
# The 1000 ILSVRC2012 WordNet ids, sorted: list position = class index.
# Checked against torchvision/timm/RobustBench orderings in tests/test_data.py.
# --------------------------------------------------------------------------
_WNID_DIGITS = """
01440764 01443537 01484850 01491361 01494475 01496331 01498041 01514668
01514859 01518878 01530575 01531178 01532829 01534433 01537544 01558993
01560419 01580077 01582220 01592084 01601694 01608432 01614925 01616318
01622779 01629819 01630670 01631663 01632458 01632777 01641577 01644373
01644900 01664065 01665541 01667114 01667778 01669191 01675722 01677366
01682714 01685808 01687978 01688243 01689811 01692333 01693334 01694178
01695060 01697457 01698640 01704323 01728572 01728920 01729322 01729977
01734418 01735189 01737021 01739381 01740131 01742172 01744401 01748264
01749939 01751748 01753488 01755581 01756291 01768244 01770081 01770393
01773157 01773549 01773797 01774384 01774750 01775062 01776313 01784675
01795545 01796340 01797886 01798484 01806143 01806567 01807496 01817953
01818515 01819313 01820546 01824575 01828970 01829413 01833805 01843065
01843383 01847000 01855032 01855672 01860187 01871265 01872401 01873310
01877812 01882714 01883070 01910747 01914609 01917289 01924916 01930112
01943899 01944390 01945685 01950731 01955084 01968897 01978287 01978455
01980166 01981276 01983481 01984695 01985128 01986214 01990800 02002556
02002724 02006656 02007558 02009229 02009912 02011460 02012849 02013706
02017213 02018207 02018795 02025239 02027492 02028035 02033041 02037110
02051845 02056570 02058221 02066245 02071294 02074367 02077923 02085620
02085782 02085936 02086079 02086240 02086646 02086910 02087046 02087394
02088094 02088238 02088364 02088466 02088632 02089078 02089867 02089973
02090379 02090622 02090721 02091032 02091134 02091244 02091467 02091635
02091831 02092002 02092339 02093256 02093428 02093647 02093754 02093859
02093991 02094114 02094258 02094433 02095314 02095570 02095889 02096051
02096177 02096294 02096437 02096585 02097047 02097130 02097209 02097298
02097474 02097658 02098105 02098286 02098413 02099267 02099429 02099601
02099712 02099849 02100236 02100583 02100735 02100877 02101006 02101388
02101556 02102040 02102177 02102318 02102480 02102973 02104029 02104365
02105056 02105162 02105251 02105412 02105505 02105641 02105855 02106030
02106166 02106382 02106550 02106662 02107142 02107312 02107574 02107683
02107908 02108000 02108089 02108422 02108551 02108915 02109047 02109525
02109961 02110063 02110185 02110341 02110627 02110806 02110958 02111129
02111277 02111500 02111889 02112018 02112137 02112350 02112706 02113023
02113186 02113624 02113712 02113799 02113978 02114367 02114548 02114712
02114855 02115641 02115913 02116738 02117135 02119022 02119789 02120079
02120505 02123045 02123159 02123394 02123597 02124075 02125311 02127052
02128385 02128757 02128925 02129165 02129604 02130308 02132136 02133161
02134084 02134418 02137549 02138441 02165105 02165456 02167151 02168699
02169497 02172182 02174001 02177972 02190166 02206856 02219486 02226429
02229544 02231487 02233338 02236044 02256656 02259212 02264363 02268443
02268853 02276258 02277742 02279972 02280649 02281406 02281787 02317335
02319095 02321529 02325366 02326432 02328150 02342885 02346627 02356798
02361337 02363005 02364673 02389026 02391049 02395406 02396427 02397096
02398521 02403003 02408429 02410509 02412080 02415577 02417914 02422106
02422699 02423022 02437312 02437616 02441942 02442845 02443114 02443484
02444819 02445715 02447366 02454379 02457408 02480495 02480855 02481823
02483362 02483708 02484975 02486261 02486410 02487347 02488291 02488702
02489166 02490219 02492035 02492660 02493509 02493793 02494079 02497673
02500267 02504013 02504458 02509815 02510455 02514041 02526121 02536864
02606052 02607072 02640242 02641379 02643566 02655020 02666196 02667093
02669723 02672831 02676566 02687172 02690373 02692877 02699494 02701002
02704792 02708093 02727426 02730930 02747177 02749479 02769748 02776631
02777292 02782093 02783161 02786058 02787622 02788148 02790996 02791124
02791270 02793495 02794156 02795169 02797295 02799071 02802426 02804414
02804610 02807133 02808304 02808440 02814533 02814860 02815834 02817516
02823428 02823750 02825657 02834397 02835271 02837789 02840245 02841315
02843684 02859443 02860847 02865351 02869837 02870880 02871525 02877765
02879718 02883205 02892201 02892767 02894605 02895154 02906734 02909870
02910353 02916936 02917067 02927161 02930766 02939185 02948072 02950826
02951358 02951585 02963159 02965783 02966193 02966687 02971356 02974003
02977058 02978881 02979186 02980441 02981792 02988304 02992211 02992529
02999410 03000134 03000247 03000684 03014705 03016953 03017168 03018349
03026506 03028079 03032252 03041632 03042490 03045698 03047690 03062245
03063599 03063689 03065424 03075370 03085013 03089624 03095699 03100240
03109150 03110669 03124043 03124170 03125729 03126707 03127747 03127925
03131574 03133878 03134739 03141823 03146219 03160309 03179701 03180011
03187595 03188531 03196217 03197337 03201208 03207743 03207941 03208938
03216828 03218198 03220513 03223299 03240683 03249569 03250847 03255030
03259280 03271574 03272010 03272562 03290653 03291819 03297495 03314780
03325584 03337140 03344393 03345487 03347037 03355925 03372029 03376595
03379051 03384352 03388043 03388183 03388549 03393912 03394916 03400231
03404251 03417042 03424325 03425413 03443371 03444034 03445777 03445924
03447447 03447721 03450230 03452741 03457902 03459775 03461385 03467068
03476684 03476991 03478589 03481172 03482405 03483316 03485407 03485794
03492542 03494278 03495258 03496892 03498962 03527444 03529860 03530642
03532672 03534580 03535780 03538406 03544143 03584254 03584829 03590841
03594734 03594945 03595614 03598930 03599486 03602883 03617480 03623198
03627232 03630383 03633091 03637318 03642806 03649909 03657121 03658185
03661043 03662601 03666591 03670208 03673027 03676483 03680355 03690938
03691459 03692522 03697007 03706229 03709823 03710193 03710637 03710721
03717622 03720891 03721384 03724870 03729826 03733131 03733281 03733805
03742115 03743016 03759954 03761084 03763968 03764736 03769881 03770439
03770679 03773504 03775071 03775546 03776460 03777568 03777754 03781244
03782006 03785016 03786901 03787032 03788195 03788365 03791053 03792782
03792972 03793489 03794056 03796401 03803284 03804744 03814639 03814906
03825788 03832673 03837869 03838899 03840681 03841143 03843555 03854065
03857828 03866082 03868242 03868863 03871628 03873416 03874293 03874599
03876231 03877472 03877845 03884397 03887697 03888257 03888605 03891251
03891332 03895866 03899768 03902125 03903868 03908618 03908714 03916031
03920288 03924679 03929660 03929855 03930313 03930630 03933933 03935335
03937543 03938244 03942813 03944341 03947888 03950228 03954731 03956157
03958227 03961711 03967562 03970156 03976467 03976657 03977966 03980874
03982430 03983396 03991062 03992509 03995372 03998194 04004767 04005630
04008634 04009552 04019541 04023962 04026417 04033901 04033995 04037443
04039381 04040759 04041544 04044716 04049303 04065272 04067472 04069434
04070727 04074963 04081281 04086273 04090263 04099969 04111531 04116512
04118538 04118776 04120489 04125021 04127249 04131690 04133789 04136333
04141076 04141327 04141975 04146614 04147183 04149813 04152593 04153751
04154565 04162706 04179913 04192698 04200800 04201297 04204238 04204347
04208210 04209133 04209239 04228054 04229816 04235860 04238763 04239074
04243546 04251144 04252077 04252225 04254120 04254680 04254777 04258138
04259630 04263257 04264628 04265275 04266014 04270147 04273569 04275548
04277352 04285008 04286575 04296562 04310018 04311004 04311174 04317175
04325704 04326547 04328186 04330267 04332243 04335435 04336792 04344873
04346328 04347754 04350905 04355338 04355933 04356056 04357314 04366367
04367480 04370456 04371430 04371774 04372370 04376876 04380533 04389033
04392985 04398044 04399382 04404412 04409515 04417672 04418357 04423845
04428191 04429376 04435653 04442312 04443257 04447861 04456115 04458633
04461696 04462240 04465501 04467665 04476259 04479046 04482393 04483307
04485082 04486054 04487081 04487394 04493381 04501370 04505470 04507155
04509417 04515003 04517823 04522168 04523525 04525038 04525305 04532106
04532670 04536866 04540053 04542943 04548280 04548362 04550184 04552348
04553703 04554684 04557648 04560804 04562935 04579145 04579432 04584207
04589890 04590129 04591157 04591713 04592741 04596742 04597913 04599235
04604644 04606251 04612504 04613696 06359193 06596364 06785654 06794110
06874185 07248320 07565083 07579787 07583066 07584110 07590611 07613480
07614500 07615774 07684084 07693725 07695742 07697313 07697537 07711569
07714571 07714990 07715103 07716358 07716906 07717410 07717556 07718472
07718747 07720875 07730033 07734744 07742313 07745940 07747607 07749582
07753113 07753275 07753592 07754684 07760859 07768694 07802026 07831146
07836838 07860988 07871810 07873807 07875152 07880968 07892512 07920052
07930864 07932039 09193705 09229709 09246464 09256479 09288635 09332890
09399592 09421951 09428293 09468604 09472597 09835506 10148035 10565667
11879895 11939491 12057211 12144580 12267677 12620546 12768682 12985857
12998815 13037406 13040303 13044778 13052670 13054560 13133613 15075141
"""

#: The 1000 ImageNet-1k WordNet ids; ``IMAGENET_WNIDS[i]`` is class ``i``.
IMAGENET_WNIDS: tuple[str, ...] = tuple("n" + d for d in _WNID_DIGITS.split())
assert len(IMAGENET_WNIDS) == NUM_CLASSES and list(IMAGENET_WNIDS) == sorted(IMAGENET_WNIDS)
