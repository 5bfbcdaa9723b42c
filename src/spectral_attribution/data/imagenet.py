"""The ImageNet-1k validation set: verified, resumable downloads and extraction.

:func:`download` fetches one file (resumable, checksum-verified, atomic,
credentials never logged); :func:`imagenet_val` turns the official
ILSVRC2012 archives into a sample table (see
:mod:`spectral_attribution.data.samples`), extracting them once.
"""

from __future__ import annotations

import base64
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
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from spectral_attribution._utils.cache import cached, move_aside
from spectral_attribution._utils.files import umask
from spectral_attribution._utils.tables import read_table
from spectral_attribution.data.classes import imagenet_class_names, wnid_to_index
from spectral_attribution.data.samples import labelled_folder

__all__ = [
    "ChecksumError",
    "DownloadError",
    "IMAGENET_VAL_ARCHIVES",
    "IMAGENET_BASE_URL",
    "CREDENTIALS_ENV",
    "file_hash",
    "download",
    "imagenet_val",
]

log = logging.getLogger("spectral_attribution.data")


class ChecksumError(ValueError):
    """A downloaded or cached file does not match its published checksum."""


class DownloadError(OSError):
    """A download failed for good (authentication, not found, retries exhausted)."""


#: Official archive names and MD5s of the ILSVRC2012 validation data (the same
#: values as ``torchvision.datasets.imagenet.ARCHIVE_META``).
IMAGENET_VAL_ARCHIVES: dict[str, tuple[str, str]] = {
    "val": ("ILSVRC2012_img_val.tar", "29b22e2961454d5413ddabcf34fc5622"),
    "devkit": ("ILSVRC2012_devkit_t12.tar.gz", "fa75699e90414af021442c21a62c3abf"),
}
#: Where image-net.org serves them (an account is required).
IMAGENET_BASE_URL = "https://image-net.org/data/ILSVRC/2012/"

#: The environment variable holding image-net.org credentials: the default of
#: :func:`download`, :func:`imagenet_val` and the data source configuration
#: (``data.credentials_env``), one name everywhere.
CREDENTIALS_ENV = "IMAGENET_CREDENTIALS"

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
    return move_aside(path)  # the cache rule's (spectral_attribution._utils.cache)


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
      :data:`CREDENTIALS_ENV`, ``IMAGENET_CREDENTIALS``) as ``user:password`` (HTTP Basic)
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
