"""Verified, resumable, atomic downloads of one file (:func:`download`).

Bytes go to ``dest.part`` and are resumed with HTTP ``Range`` requests; the
complete file is checked against its MD5/SHA-256 before it is renamed into
place (:class:`ChecksumError` otherwise); credentials (the environment
variable :data:`CREDENTIALS_ENV`, a URL's ``user:password`` or a cookie
file) are never logged, written or shown in an error message. Written for the
ImageNet archives (:mod:`spectral_attribution.data.imagenet`), usable for
any URL.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import http.cookiejar
import logging
import os
import re
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from spectral_attribution._utils.cache import move_aside

__all__ = [
    "ChecksumError",
    "DownloadError",
    "CREDENTIALS_ENV",
    "file_hash",
    "download",
]


log = logging.getLogger("spectral_attribution.data")


class ChecksumError(ValueError):
    """A downloaded or cached file does not match its published checksum."""


class DownloadError(OSError):
    """A download failed for good (authentication, not found, retries exhausted)."""

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
