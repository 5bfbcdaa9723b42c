"""Sample tables: which images a run uses, with their labels.

Every source ends as a *sample table*, a :class:`pandas.DataFrame` with one row
per image and the columns

=============  ======  =====================================================
column         dtype   meaning
=============  ======  =====================================================
``image_id``   str     unique, lossless id of the file's path relative to the
                       source's root (:mod:`spectral_attribution.data.ids`,
                       scheme :data:`~spectral_attribution.data.ids.IMAGE_ID_SCHEME`):
                       letters, digits, ``._-/`` kept, anything else
                       percent-encoded (``a b.jpg`` → ``a%20b.jpg``)
``path``       str     absolute path of the image file
``label``      int64   ImageNet-1k class index, ``0..999`` (never ``uint8``:
                       the original code wrapped classes >= 256, METHOD.md §6)
``class_name`` str     human-readable class name (torchvision's list)
=============  ======  =====================================================

Sources: :func:`embedded_samples` (real photographs shipped inside installed
wheels, no network) and :func:`labelled_folder` (a folder labelled by
WordNet-id sub-folders or a ``labels.csv``). Decoding every image of a
table and drawing the sample are :mod:`spectral_attribution.data.sampling`.
The ImageNet validation set is :func:`spectral_attribution.data.imagenet.imagenet_val`;
:func:`spectral_attribution.data.sources.prepare_source` is the workflow's
single entry point.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from spectral_attribution._utils.tables import read_table
from spectral_attribution._utils.files import write_image
from spectral_attribution.data.classes import NUM_CLASSES, _wnid_index, imagenet_class_names
from spectral_attribution.data.ids import image_ids
from spectral_attribution.data.decoding import IMAGE_EXTENSIONS, load_image

__all__ = [
    "SAMPLE_COLUMNS",
    "EMBEDDED_IMAGES",
    "embedded_samples",
    "labelled_folder",
]


SAMPLE_COLUMNS = ("image_id", "path", "label", "class_name")


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
        write_image(image, dest, format="PNG")
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

    ``image_id`` is the file's path relative to ``root``, extension kept,
    with every character but letters, digits and ``._-/`` percent-encoded
    (:func:`spectral_attribution.data.ids.image_id`: ``yellow_lady's_slipper.JPEG``
    → ``yellow_lady%27s_slipper.JPEG``, ``n01440764/x.JPEG`` →
    ``n01440764/x.JPEG``): lossless, so two files never share an id. Two
    entries naming one file (``a.jpg`` and ``./a.jpg``) are refused, both
    named. Rows are sorted by path.

    Raises
    ------
    FileNotFoundError / NotADirectoryError
        ``root`` is missing; a file listed in the CSV is missing (all missing
        files are named, up to 20).
    ValueError
        Missing CSV column (named, with the columns present), a non-integer or
        out-of-range class index (row and value named), a ``wnid`` that
        disagrees with ``class_index``, duplicate files (both entries named:
        :class:`~spectral_attribution.data.ids.ImageIdCollision`), a
        sub-folder that is not an ImageNet-1k WordNet id, or no images at all.
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
        table = read_table(csv, all_text=True)
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
    df = _table(image_ids(paths, root, entries=list(table["file"])), paths, labels, names)
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
    df = _table(image_ids(paths, root), paths, labels)
    return df.sort_values("path", kind="stable").reset_index(drop=True)
