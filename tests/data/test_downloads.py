"""Downloads against a local HTTP server: resume, checksums, credentials; ImageNet val archives."""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import logging
import threading

import numpy as np
import pytest

from imagenet_mini import archive_checksums, mini_archives
from spectral_attribution import data as D


# --------------------------------------------------------------------------
# A small HTTP server with Range support, optional auth and connection drops
# --------------------------------------------------------------------------
class _State:
    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.auth: str | None = None  # expected "Authorization" header value
        self.drop_after: int | None = None  # bytes sent before the next 200/206 response is cut
        self.requests: list[dict] = []


def _handler(state: _State):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def do_GET(self):
            state.requests.append({"path": self.path, "range": self.headers.get("Range"),
                                   "auth": self.headers.get("Authorization")})
            if state.auth is not None and self.headers.get("Authorization") != state.auth:
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = state.files.get(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            start = 0
            rng = self.headers.get("Range")
            if rng:
                start = int(rng.split("=")[1].split("-")[0])
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            chunk = body[start:]
            self.send_header("Content-Length", str(len(chunk)))
            self.end_headers()
            if state.drop_after is not None:
                cut, state.drop_after = state.drop_after, None
                self.wfile.write(chunk[:cut])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)  # drop the connection mid-file
                return
            self.wfile.write(chunk)

    return Handler


@pytest.fixture
def server():
    state = _State()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


def _md5(b: bytes) -> str:
    return hashlib.md5(b).hexdigest()


PAYLOAD = np.random.default_rng(0).integers(0, 256, 300_000, dtype=np.uint8).tobytes()


# --------------------------------------------------------------------------
# download()
# --------------------------------------------------------------------------
def test_download_verifies_and_is_atomic(server, tmp_path):
    server.files["/f.bin"] = PAYLOAD
    dest = D.download(server.base + "f.bin", tmp_path / "f.bin", md5=_md5(PAYLOAD),
                      sha256=hashlib.sha256(PAYLOAD).hexdigest(), progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]
    # present and matching: no request at all
    n = len(server.requests)
    D.download(server.base + "f.bin", tmp_path / "f.bin", md5=_md5(PAYLOAD), progress=False)
    assert len(server.requests) == n


def test_download_resumes_after_dropped_connection(server, tmp_path):
    server.files["/f.bin"] = PAYLOAD
    server.drop_after = 100_000
    dest = D.download(server.base + "f.bin", tmp_path / "f.bin", md5=_md5(PAYLOAD),
                      progress=False, backoff_s=0, chunk_bytes=4096)
    assert dest.read_bytes() == PAYLOAD
    assert server.requests[0]["range"] is None
    assert server.requests[1]["range"] == "bytes=100000-"  # resumed, not restarted
    assert len(server.requests) == 2


def test_download_resumes_an_existing_part_file(server, tmp_path):
    server.files["/f.bin"] = PAYLOAD
    (tmp_path / "f.bin.part").write_bytes(PAYLOAD[:1234])
    D.download(server.base + "f.bin", tmp_path / "f.bin", md5=_md5(PAYLOAD), progress=False)
    assert (tmp_path / "f.bin").read_bytes() == PAYLOAD
    assert [r["range"] for r in server.requests] == ["bytes=1234-"]
    # a .part that already holds everything (server answers 416) is verified and used
    (tmp_path / "g.bin.part").write_bytes(PAYLOAD)
    server.files["/g.bin"] = PAYLOAD
    D.download(server.base + "g.bin", tmp_path / "g.bin", md5=_md5(PAYLOAD), progress=False)
    assert (tmp_path / "g.bin").read_bytes() == PAYLOAD


def test_corrupted_download_is_moved_aside(server, tmp_path):
    server.files["/f.tar"] = PAYLOAD[:-1] + b"\x00"
    with pytest.raises(D.ChecksumError, match=_md5(PAYLOAD)) as info:
        D.download(server.base + "f.tar", tmp_path / "f.tar", md5=_md5(PAYLOAD), progress=False)
    assert "moved aside" in str(info.value)
    assert not (tmp_path / "f.tar").exists() and not (tmp_path / "f.tar.part").exists()
    assert (tmp_path / "f.tar.corrupt").read_bytes() == server.files["/f.tar"]
    # an existing corrupted file is moved aside too, then fetched again
    server.files["/f.tar"] = PAYLOAD
    (tmp_path / "f.tar").write_bytes(b"stale")
    D.download(server.base + "f.tar", tmp_path / "f.tar", md5=_md5(PAYLOAD), progress=False)
    assert (tmp_path / "f.tar").read_bytes() == PAYLOAD
    assert (tmp_path / "f.tar.corrupt1").read_bytes() == b"stale"


def test_credentials_from_env_never_written(server, tmp_path, monkeypatch, caplog):
    secret = "alice:s3cret-PASSWORD-42"
    server.auth = "Basic " + base64.b64encode(secret.encode()).decode()
    server.files["/f.bin"] = PAYLOAD
    caplog.set_level(logging.DEBUG)
    with pytest.raises(D.DownloadError, match="MY_IMAGENET_CREDS") as info:
        D.download(server.base + "f.bin", tmp_path / "f.bin", credentials_env="MY_IMAGENET_CREDS",
                   progress=False)
    assert "s3cret" not in str(info.value)
    monkeypatch.setenv("MY_IMAGENET_CREDS", secret)
    server.drop_after = 50_000  # also exercise the retry path's logging
    D.download(server.base + "f.bin", tmp_path / "f.bin", md5=_md5(PAYLOAD),
               credentials_env="MY_IMAGENET_CREDS", progress=False, backoff_s=0)
    assert (tmp_path / "f.bin").read_bytes() == PAYLOAD
    encoded = base64.b64encode(secret.encode()).decode()
    for f in tmp_path.rglob("*"):
        if f.is_file() and f.name != "f.bin":
            assert b"s3cret" not in f.read_bytes() and encoded.encode() not in f.read_bytes()
    assert "s3cret" not in caplog.text and encoded not in caplog.text
    # credentials in the URL are used, and never shown either
    server.files["/h.bin"] = PAYLOAD
    host = server.base.split("//")[1]
    D.download(f"http://alice:s3cret-PASSWORD-42@{host}h.bin", tmp_path / "h.bin", progress=False)
    assert server.requests[-1]["auth"] == server.auth
    assert "s3cret" not in caplog.text


def test_missing_file_is_a_clear_error(server, tmp_path):
    with pytest.raises(D.DownloadError, match="404"):
        D.download(server.base + "nothing.tar", tmp_path / "x.tar", progress=False)


# --------------------------------------------------------------------------
# ImageNet validation archives with the official structure, in miniature
# --------------------------------------------------------------------------
@pytest.fixture
def archives():
    return mini_archives()


def _meta(archives):
    return archive_checksums(archives)


def test_published_imagenet_checksums():
    # the values torchvision.datasets.imagenet checks
    assert D.IMAGENET_VAL_ARCHIVES["val"] == ("ILSVRC2012_img_val.tar", "29b22e2961454d5413ddabcf34fc5622")
    assert D.IMAGENET_VAL_ARCHIVES["devkit"] == ("ILSVRC2012_devkit_t12.tar.gz",
                                                 "fa75699e90414af021442c21a62c3abf")
    tv = pytest.importorskip("torchvision.datasets.imagenet")
    assert tv.ARCHIVE_META["val"] == D.IMAGENET_VAL_ARCHIVES["val"]
    assert tv.ARCHIVE_META["devkit"] == D.IMAGENET_VAL_ARCHIVES["devkit"]


def test_imagenet_val_download_extract_and_label(server, archives, tmp_path):
    for name, data in archives.values():
        server.files["/" + name] = data
    server.drop_after = 3000  # the first archive's transfer is cut once
    root = tmp_path / "imagenet"
    df = D.imagenet_val(root, download_missing=True, base_url=server.base, archives=_meta(archives),
                        progress=False)
    assert df["image_id"].tolist() == [f"ILSVRC2012_val_{k:08d}.JPEG" for k in range(1, 6)]
    assert df["label"].tolist() == [281, 999, 0, 999, 281]
    assert df["class_name"].tolist() == ["tabby", "toilet tissue", "tench", "toilet tissue", "tabby"]
    assert (root / "val" / "labels.csv").is_file()
    assert not [p for p in root.iterdir() if p.name.startswith(".val.")]  # temporary folder gone
    np.testing.assert_array_equal(np.asarray(D.load_image(df["path"][0])).shape, (12, 16, 3))
    # later calls need neither archive nor network
    for name, _ in archives.values():
        (root / name).unlink()
    n = len(server.requests)
    again = D.imagenet_val(root)
    assert again.equals(df) and len(server.requests) == n
    # and prepare_source reads the extracted set, sampling without replacement
    s = D.prepare_source({"source": "imagenet", "root": str(root), "n_images": 3, "seed": 0,
                          "stratify": True}, tmp_path / "out")
    assert sorted(s["label"]) == [0, 281, 999]


def test_imagenet_val_missing_archive_offline(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        D.imagenet_val(tmp_path)
    msg = str(info.value)
    assert str(tmp_path / "ILSVRC2012_devkit_t12.tar.gz") in msg
    assert "https://image-net.org/data/ILSVRC/2012/ILSVRC2012_devkit_t12.tar.gz" in msg


def test_imagenet_val_corrupted_archive_is_not_used(archives, tmp_path):
    for name, data in archives.values():
        (tmp_path / name).write_bytes(data)
    meta = _meta(archives)
    meta["val"] = (meta["val"][0], "0" * 32)  # what a damaged archive looks like
    with pytest.raises(D.ChecksumError, match="ILSVRC2012_img_val.tar"):
        D.imagenet_val(tmp_path, archives=meta, download_missing=False)
    assert (tmp_path / "ILSVRC2012_img_val.tar.corrupt").is_file()
    assert not (tmp_path / "val").exists()


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_extracted_validation_set_follows_the_umask(archives, tmp_path, mask):
    import os
    import stat

    for name, data in archives.values():
        (tmp_path / name).write_bytes(data)
    old = os.umask(mask)
    try:
        D.imagenet_val(tmp_path, archives=_meta(archives), download_missing=False)
    finally:
        os.umask(old)
    val = tmp_path / "val"
    assert stat.S_IMODE(val.stat().st_mode) == 0o777 & ~mask      # not mkdtemp's 0700
    assert {stat.S_IMODE(p.stat().st_mode) for p in val.iterdir()} == {0o666 & ~mask}
