"""ImageNet validation archives with the official structure, in miniature.

:func:`mini_archives` builds ``ILSVRC2012_devkit_t12.tar.gz`` (``meta.mat``
with three leaf synsets and one inner node, the ground truth) and
``ILSVRC2012_img_val.tar`` (one random JPEG per ground-truth line) in memory.
Used by ``tests/data/test_downloads.py`` and the replication smoke run.
"""

from __future__ import annotations

import hashlib
import io
import tarfile

import numpy as np
from PIL import Image

# ILSVRC2012_IDs in the devkit follow their own order, not the sorted-wnid one
SYNSETS = [(1, "n15075141", "toilet tissue, toilet paper, bathroom tissue", 0),
           (2, "n01440764", "tench, Tinca tinca", 0),
           (3, "n02123045", "tabby, tabby cat", 0),
           (1001, "n00001740", "entity", 3)]  # an inner node: not a class
TRUTH = [3, 1, 2, 1, 3]  # -> labels 281, 999, 0, 999, 281
LABELS = [281, 999, 0, 999, 281]


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def meta_mat() -> bytes:
    import scipy.io

    dtype = [("ILSVRC2012_ID", "O"), ("WNID", "O"), ("words", "O"), ("gloss", "O"),
             ("num_children", "O"), ("children", "O"), ("wordnet_height", "O"), ("num_train_images", "O")]
    arr = np.zeros((len(SYNSETS), 1), dtype=dtype)
    for k, (i, w, words, nc) in enumerate(SYNSETS):
        arr[k, 0] = (i, w, words, "gloss", nc, np.zeros(0), 0, 1300)
    buf = io.BytesIO()
    scipy.io.savemat(buf, {"synsets": arr})
    return buf.getvalue()


def tar(members: dict[str, bytes], gz: bool) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w") as archive:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


def jpeg(seed: int, size: tuple[int, int] = (12, 16)) -> bytes:
    """A random RGB JPEG of ``size`` = (height, width) pixels."""
    a = np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="JPEG")
    return buf.getvalue()


def mini_archives(size: tuple[int, int] = (12, 16)) -> dict[str, tuple[str, bytes]]:
    """``{"devkit": (file name, bytes), "val": (file name, bytes)}`` with images of ``size``."""
    devkit = tar({"ILSVRC2012_devkit_t12/data/meta.mat": meta_mat(),
                  "ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt":
                      "".join(f"{t}\n" for t in TRUTH).encode(),
                  "ILSVRC2012_devkit_t12/readme.txt": b"mini devkit"}, gz=True)
    val = tar({f"ILSVRC2012_val_{k:08d}.JPEG": jpeg(k, size) for k in range(1, len(TRUTH) + 1)},
              gz=False)
    return {"devkit": ("ILSVRC2012_devkit_t12.tar.gz", devkit), "val": ("ILSVRC2012_img_val.tar", val)}


def archive_checksums(archives) -> dict[str, tuple[str, str]]:
    """``{"devkit": (file name, md5), "val": (file name, md5)}``, as ``imagenet_val(archives=)`` takes them."""
    return {k: (name, md5(payload)) for k, (name, payload) in archives.items()}
