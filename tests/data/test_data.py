"""Data sources: decoding odd images, sample tables, sampling, the prepare_source entry point."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from spectral_attribution import data as D
from spectral_attribution.data import ImageDecodeError


# --------------------------------------------------------------------------
# load_image
# --------------------------------------------------------------------------
def _save(tmp_path: Path, image: Image.Image, name: str, **kw) -> Path:
    path = tmp_path / name
    image.save(path, **kw)
    return path


def test_rgb_round_trip_is_exact(tmp_path):
    a = np.random.default_rng(0).integers(0, 256, (7, 9, 3), dtype=np.uint8)
    out = D.load_image(_save(tmp_path, Image.fromarray(a), "rgb.png"))
    assert out.mode == "RGB" and out.size == (9, 7)
    np.testing.assert_array_equal(np.asarray(out), a)


def test_greyscale_is_replicated(tmp_path):
    a = np.array([[0, 100, 255]] * 2, dtype=np.uint8)  # 2 rows: 1-pixel sides are refused
    out = np.asarray(D.load_image(_save(tmp_path, Image.fromarray(a, "L"), "grey.png")))
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out[..., 0], a)
    np.testing.assert_array_equal(out[..., 1], a)
    np.testing.assert_array_equal(out[..., 2], a)


def test_palette_without_and_with_transparency(tmp_path):
    p = Image.new("P", (2, 2))
    p.putpalette([255, 0, 0, 0, 0, 255] + [0] * (256 * 3 - 6))
    for row in (0, 1):
        p.putpixel((0, row), 0)
        p.putpixel((1, row), 1)
    out = np.asarray(D.load_image(_save(tmp_path, p, "pal.png")))
    np.testing.assert_array_equal(out[0], [[255, 0, 0], [0, 0, 255]])
    # index 1 transparent -> composited on white
    out = np.asarray(D.load_image(_save(tmp_path, p, "pal_t.png", transparency=1)))
    np.testing.assert_array_equal(out[0], [[255, 0, 0], [255, 255, 255]])


def test_rgba_is_composited_on_white(tmp_path):
    a = np.array([[[255, 0, 0, 255], [255, 0, 0, 0], [0, 0, 0, 128]]] * 2, dtype=np.uint8)
    out = np.asarray(D.load_image(_save(tmp_path, Image.fromarray(a, "RGBA"), "rgba.png"))).astype(int)
    np.testing.assert_array_equal(out[0, 0], [255, 0, 0])
    np.testing.assert_array_equal(out[0, 1], [255, 255, 255])  # fully transparent: white, not red
    assert np.all(np.abs(out[0, 2] - 127) <= 1)  # half-transparent black over white


def test_la_is_composited_on_white(tmp_path):
    a = np.array([[[0, 0], [0, 255]]] * 2, dtype=np.uint8)
    out = np.asarray(D.load_image(_save(tmp_path, Image.fromarray(a, "LA"), "la.png")))
    np.testing.assert_array_equal(out[0], [[255, 255, 255], [0, 0, 0]])


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    c = Image.new("CMYK", (8, 8), (0, 0, 0, 0))  # no ink: white
    out = np.asarray(D.load_image(_save(tmp_path, c, "cmyk.jpg", quality=100))).astype(int)
    assert out.shape == (8, 8, 3) and np.all(out >= 250)
    c = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # magenta + yellow ink: red
    out = np.asarray(D.load_image(_save(tmp_path, c, "cmyk_red.tif"))).astype(int)
    np.testing.assert_array_equal(out[0, 0], [255, 0, 0])


def test_sixteen_bit_is_scaled_not_clipped(tmp_path):
    a = np.array([[0, 257, 32768, 65535]] * 2, dtype=np.uint16)
    im = Image.fromarray(a)
    assert im.mode.startswith("I;16")
    path = _save(tmp_path, im, "deep.png")
    assert Image.open(path).mode.startswith("I")
    out = np.asarray(D.load_image(path))
    np.testing.assert_array_equal(out[0, :, 0], [0, 1, 128, 255])


def test_exif_orientation_is_applied(tmp_path):
    # 3 wide x 2 high, top-left pixel red; EXIF 6 = "rotate 90 degrees clockwise to view"
    a = np.zeros((2, 3, 3), dtype=np.uint8)
    a[0, 0] = [255, 0, 0]
    im = Image.fromarray(a)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = _save(tmp_path, im, "rot.png", exif=exif.tobytes())
    out = D.load_image(path)
    assert out.size == (2, 3)  # transposed
    o = np.asarray(out)
    assert tuple(o[0, 1]) == (255, 0, 0)  # red moved to the top-right corner


def test_tiny_image(tmp_path):
    out = D.load_image(_save(tmp_path, Image.new("RGB", (5, 3), (1, 2, 3)), "tiny.bmp"))
    assert out.size == (5, 3) and out.getpixel((4, 2)) == (1, 2, 3)


def test_truncated_and_garbage_files_name_the_file(tmp_path):
    a = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    good = _save(tmp_path, Image.fromarray(a), "full.jpg", quality=90)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    with pytest.raises(ImageDecodeError, match="cut.jpg"):
        D.load_image(cut)
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"this is not an image at all")
    with pytest.raises(ImageDecodeError, match="junk.png"):
        D.load_image(junk)
    assert issubclass(ImageDecodeError, ValueError)
    with pytest.raises(FileNotFoundError, match="absent.png"):
        D.load_image(tmp_path / "absent.png")


# --------------------------------------------------------------------------
# Class list
# --------------------------------------------------------------------------
def test_wnid_list_is_the_standard_ordering():
    assert len(D.IMAGENET_WNIDS) == 1000 and list(D.IMAGENET_WNIDS) == sorted(D.IMAGENET_WNIDS)
    digest = hashlib.sha256(" ".join(D.IMAGENET_WNIDS).encode()).hexdigest()
    assert digest == "791ce0333040dd249d13133f90d28ef0263ffc01e5de0afd85b3e32048d7d456"
    assert D.wnid_to_index("n01440764") == 0 and D.wnid_to_index("n15075141") == 999
    assert D.wnid_to_index("n02123045") == 281 and D.imagenet_class_names()[281] == "tabby"
    with pytest.raises(KeyError, match="n99999999"):
        D.wnid_to_index("n99999999")


def test_wnid_list_agrees_with_robustbench_map():
    rb = pytest.importorskip("importlib.util").find_spec("robustbench")
    if rb is None:
        pytest.skip("robustbench not installed")
    mapping = json.loads((Path(rb.submodule_search_locations[0]) / "helper_files"
                          / "imagenet_class_to_id_map.json").read_text())
    assert mapping == {w: i for i, w in enumerate(D.IMAGENET_WNIDS)}


# --------------------------------------------------------------------------
# Folders
# --------------------------------------------------------------------------
def _img(path: Path, colour=(10, 20, 30), size=(6, 4)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


def test_csv_layout(tmp_path):
    _img(tmp_path / "a.png")
    _img(tmp_path / "sub" / "yellow_lady's_slipper.jpg")
    _img(tmp_path / "c.png")
    pd.DataFrame({"file": ["a.png", "sub/yellow_lady's_slipper.jpg", "c.png"],
                  "class_index": [999, 300, 0]}).to_csv(tmp_path / "labels.csv", index=False)
    df = D.labelled_folder(tmp_path)
    assert list(df.columns) == list(D.SAMPLE_COLUMNS)
    assert df["label"].dtype == np.int64
    by_id = df.set_index("image_id")
    assert by_id.loc["a.png", "label"] == 999 and by_id.loc["a.png", "class_name"] == "toilet tissue"
    assert by_id.loc["sub/yellow_lady%27s_slipper.jpg", "label"] == 300  # > 255: no uint8 wrap
    assert by_id.loc["c.png", "label"] == 0
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in df["path"])
    # ids are the relative paths, losslessly encoded (issue 22 §5)
    assert all(set(i) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/%")
               for i in df["image_id"])


def test_csv_errors_name_column_line_and_file(tmp_path):
    _img(tmp_path / "a.png")
    csv = tmp_path / "labels.csv"
    csv.write_text("file,klass\na.png,1\n")
    with pytest.raises(ValueError, match="class_index"):
        D.labelled_folder(tmp_path)
    csv.write_text("name,class_index\na.png,1\n")
    with pytest.raises(ValueError, match="'file'"):
        D.labelled_folder(tmp_path)
    csv.write_text("file,class_index\na.png,1000\n")
    with pytest.raises(ValueError, match=r"line 2.*1000"):
        D.labelled_folder(tmp_path)
    csv.write_text("file,class_index\na.png,cat\n")
    with pytest.raises(ValueError, match=r"line 2.*'cat'"):
        D.labelled_folder(tmp_path)
    csv.write_text("file,class_index\na.png,1\nmissing.png,2\n")
    with pytest.raises(FileNotFoundError, match="missing.png"):
        D.labelled_folder(tmp_path)
    csv.write_text("file,wnid,class_index\na.png,n01440764,5\n")
    with pytest.raises(ValueError, match="n01440764"):
        D.labelled_folder(tmp_path)


def test_wnid_folder_layout(tmp_path):
    _img(tmp_path / "n01440764" / "n01440764_1.JPEG")
    _img(tmp_path / "n01440764" / "n01440764_2.jpeg")
    _img(tmp_path / "n15075141" / "deep" / "x.png")
    (tmp_path / "n15075141" / "notes.txt").write_text("ignored")
    (tmp_path / ".cache").mkdir()
    df = D.labelled_folder(tmp_path)
    assert df["label"].tolist() == [0, 0, 999]
    assert df["image_id"].tolist() == ["n01440764/n01440764_1.JPEG", "n01440764/n01440764_2.jpeg",
                                       "n15075141/deep/x.png"]
    assert df["class_name"].tolist() == ["tench", "tench", "toilet tissue"]


def test_wnid_folder_errors(tmp_path):
    _img(tmp_path / "cats" / "a.png")
    with pytest.raises(ValueError, match="cats"):
        D.labelled_folder(tmp_path)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        D.labelled_folder(tmp_path / "nowhere")


def test_colliding_stems_get_distinct_ids(tmp_path):
    _img(tmp_path / "n01440764" / "img.png")
    _img(tmp_path / "n01443537" / "img.png")
    df = D.labelled_folder(tmp_path)
    assert df["image_id"].is_unique and len(df) == 2


# --------------------------------------------------------------------------
# check_images
# --------------------------------------------------------------------------
def test_check_images_names_every_bad_file(tmp_path):
    _img(tmp_path / "n01440764" / "ok.png")
    (tmp_path / "n01440764" / "bad1.png").write_bytes(b"nope")
    (tmp_path / "n01443537").mkdir()
    (tmp_path / "n01443537" / "bad2.jpg").write_bytes(b"\xff\xd8\xff garbage")
    df = D.labelled_folder(tmp_path)
    with pytest.raises(ImageDecodeError) as info:
        D.check_images(df)
    assert "bad1.png" in str(info.value) and "bad2.jpg" in str(info.value)
    assert "2 of 3" in str(info.value)
    good, bad = D.check_images(df, skip_bad=True)
    assert good["image_id"].tolist() == ["n01440764/ok.png"]
    assert sorted(bad["image_id"]) == ["n01440764/bad1.png", "n01443537/bad2.jpg"] and bad["error"].str.len().gt(0).all()


# --------------------------------------------------------------------------
# sample_images
# --------------------------------------------------------------------------
def _table(labels) -> pd.DataFrame:
    n = len(labels)
    return pd.DataFrame({"image_id": [f"i{k:03d}" for k in range(n)], "path": [f"/x/{k}.png" for k in range(n)],
                         "label": np.asarray(labels, dtype=np.int64), "class_name": ["c"] * n})


def test_sampling_without_replacement_reproducible():
    df = _table(np.arange(50) % 7)
    a = D.sample_images(df, 20, seed=3)
    b = D.sample_images(df, 20, seed=3)
    c = D.sample_images(df, 20, seed=4)
    assert a.equals(b) and not a.equals(c)
    assert a["image_id"].is_unique and len(a) == 20
    full = D.sample_images(df, 50, seed=0)
    assert sorted(full["image_id"]) == sorted(df["image_id"])  # n = len: a permutation, no duplicate
    assert len(D.sample_images(df, 0, seed=0)) == 0
    with pytest.raises(ValueError, match="n=51"):
        D.sample_images(df, 51, seed=0)
    with pytest.raises(TypeError, match="seed"):
        D.sample_images(df, 5, seed=None)


def test_stratified_sampling_allocation():
    df = _table(np.repeat(np.arange(10), 10))
    s = D.sample_images(df, 20, seed=0, stratify=True)
    assert s["label"].value_counts().to_dict() == {k: 2 for k in range(10)}
    # 6/3/1 images, n = 4: quotas 2.4/1.2/0.4 -> floors 2/1/0, the remainder to the largest fraction
    df = _table([0] * 6 + [1] * 3 + [2] * 1)
    s = D.sample_images(df, 4, seed=0, stratify=True)
    assert s["label"].value_counts().sort_index().to_dict() == {0: 2, 1: 1, 2: 1}
    assert D.sample_images(df, 4, seed=9, stratify=True).equals(D.sample_images(df, 4, seed=9, stratify=True))


# --------------------------------------------------------------------------
# Embedded photographs and prepare_source
# --------------------------------------------------------------------------
def test_embedded_samples(tmp_path):
    df = D.embedded_samples(tmp_path / "emb")
    assert df["image_id"].tolist() == ["chelsea", "coffee", "rocket", "motorcycle", "camera", "grace_hopper"]
    assert df["label"].tolist() == [281, 967, 657, 665, 872, 652]
    assert df["class_name"].tolist() == ["tabby", "espresso", "missile", "moped", "tripod", "military uniform"]
    for p in df["path"]:
        with Image.open(p) as im:
            assert im.format == "PNG" and im.mode == "RGB"
    assert Image.open(tmp_path / "emb" / "chelsea.png").size == (451, 300)
    assert sorted(x.name for x in (tmp_path / "emb").iterdir()) == sorted(f"{i}.png" for i in df["image_id"])


def test_prepare_source_embedded_sampled(tmp_path):
    cfg = {"source": "embedded", "n_images": 3, "seed": 1}
    a = D.prepare_source(cfg, tmp_path / "a")
    b = D.prepare_source(cfg, tmp_path / "b")
    assert len(a) == 3 and a["image_id"].tolist() == b["image_id"].tolist()
    assert len(D.prepare_source({"source": "embedded"}, tmp_path / "c")) == 6


def test_prepare_source_validates_keys(tmp_path):
    with pytest.raises(ValueError, match="'source'"):
        D.prepare_source({}, tmp_path)
    with pytest.raises(ValueError, match="'webcam'"):
        D.prepare_source({"source": "webcam"}, tmp_path)
    with pytest.raises(ValueError, match="n_imgs"):
        D.prepare_source({"source": "embedded", "n_imgs": 3}, tmp_path)
    with pytest.raises(ValueError, match="'root'"):
        D.prepare_source({"source": "folder"}, tmp_path)
    with pytest.raises(TypeError, match="'seed'"):
        D.prepare_source({"source": "embedded", "seed": "0"}, tmp_path)
    with pytest.raises(TypeError, match="'n_images'"):
        D.prepare_source({"source": "embedded", "n_images": True}, tmp_path)
    with pytest.raises(ValueError, match="download"):  # an imagenet-only key on a folder source
        D.prepare_source({"source": "folder", "root": str(tmp_path), "download": True}, tmp_path)
    with pytest.raises(ValueError, match="'n_images' is 7"):
        D.prepare_source({"source": "embedded", "n_images": 7}, tmp_path)


def test_prepare_source_folder_skips_bad_images(tmp_path):
    root = tmp_path / "imgs"
    _img(root / "n01440764" / "a.png")
    _img(root / "n01440764" / "b.png")
    (root / "n01443537").mkdir()
    (root / "n01443537" / "broken.png").write_bytes(b"x")
    out = tmp_path / "out"
    with pytest.raises(ImageDecodeError, match="broken.png"):
        D.prepare_source({"source": "folder", "root": str(root)}, out)
    with pytest.warns(UserWarning, match="broken.png"):
        df = D.prepare_source({"source": "folder", "root": str(root), "skip_bad_images": True}, out)
    assert df["image_id"].tolist() == ["n01440764/a.png", "n01440764/b.png"]
    assert not out.exists()  # folder images are read in place: nothing written
    skipped = df.attrs["skipped_images"]
    assert [Path(p).name for p in skipped["path"]] == ["broken.png"] and skipped["error"].iloc[0]


def test_prepare_samples_lists_skipped_images_beside_the_sample(tmp_path):
    from spectral_attribution.pipeline import prepare_samples, source_params

    root = tmp_path / "imgs"
    _img(root / "n01440764" / "a.png")
    (root / "n01443537").mkdir()
    (root / "n01443537" / "broken.png").write_bytes(b"x")
    config = {"seed": 0, "data": {"source": "folder", "root": str(root), "n_images": None,
                                  "skip_bad_images": True, "cache_dir": str(tmp_path / "c")}}
    with pytest.warns(UserWarning, match="broken.png"):
        sample = prepare_samples(source=source_params(config), cache_dir=tmp_path / "c",
                                 out_csv=tmp_path / "data" / "samples.csv")
    assert sample["image_id"].tolist() == ["n01440764/a.png"]
    skipped = pd.read_csv(tmp_path / "data" / "skipped_images.csv")
    assert skipped["path"].str.endswith("broken.png").tolist() == [True]


# --------------------------------------------------------------------------
# The 500 real ImageNet photographs of ../shared
# --------------------------------------------------------------------------
def test_imagenet_sample_folder(imagenet_sample):
    df = D.labelled_folder(imagenet_sample)
    assert len(df) == 500 and df["image_id"].is_unique
    assert df["label"].dtype == np.int64
    assert sorted(df["label"]) == list(range(0, 1000, 2))
    row = df[df["path"].str.contains("lady's")].iloc[0]
    assert row["label"] == 986 and row["image_id"] == "n12057211_yellow_lady%27s_slipper.JPEG"
    labels = pd.read_csv(imagenet_sample / "labels.csv")
    assert all(D.IMAGENET_WNIDS[c] == w for w, c in zip(labels["wnid"], labels["class_index"]))
    good, bad = D.check_images(df)
    assert len(good) == 500 and len(bad) == 0
    s = D.sample_images(df, 50, seed=0, stratify=True)
    assert s["label"].is_unique and len(s) == 50
    grey = [p for p in good["path"] if Image.open(p).mode != "RGB"]
    assert grey, "the sample is documented to contain greyscale JPEGs"
    assert D.load_image(grey[0]).mode == "RGB"


# --------------------------------------------------------------------------
# Size guards: refused from the header, before any pixel is decoded
# --------------------------------------------------------------------------
def _png_header(path: Path, width: int, height: int) -> Path:
    """A PNG that declares ``width x height`` (8-bit RGB) but holds no pixel data."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("width, height, message", [
    (100_000, 100_000, r"huge.png declares more pixels than the limit of 89,478,485"),
    (10_000, 10_000, r"huge.png is 10000 x 10000 pixels \(100,000,000 pixels\): more than the "
                     r"limit of 89,478,485 pixels"),
    (1, 100_000, r"huge.png is 1 x 100000 pixels: a side is shorter than the minimum of 2 pixels"),
    (2, 100_000, r"huge.png is 2 x 100000 pixels: aspect ratio 50,000:1 exceeds the limit of 50:1"),
    (1, 1, r"huge.png is 1 x 1 pixels: a side is shorter than the minimum of 2 pixels"),
])
def test_image_size_guards_name_the_file_and_the_limit(tmp_path, width, height, message):
    path = _png_header(tmp_path / "huge.png", width, height)
    with pytest.raises(D.ImageSizeError, match=message):
        D.load_image(path)
    assert issubclass(D.ImageSizeError, ImageDecodeError)  # skip_bad_images leaves them out too


def test_size_limits_at_the_bounds(tmp_path):
    limits = D.SizeLimits(max_pixels=600, max_aspect=4, min_side=3)
    D.check_image_size(12, 3, "ok", limits)         # aspect 4, side 3, 36 pixels: inside
    D.check_image_size(24, 25, "ok", limits)        # 600 pixels
    with pytest.raises(D.ImageSizeError, match="601"):
        D.check_image_size(601, 1 + 0 * 3, "x", D.SizeLimits(max_pixels=600, max_aspect=1000, min_side=1))
    with pytest.raises(D.ImageSizeError, match="aspect ratio 5:1"):
        D.check_image_size(15, 3, "x", limits)
    with pytest.raises(D.ImageSizeError, match="minimum of 3"):
        D.check_image_size(4, 2, "x", limits)


def test_a_folder_is_not_an_image(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder, not an image file"):
        D.load_image(tmp_path)


# --------------------------------------------------------------------------
# skip_bad_images: the sample holds n_images images that decode
# --------------------------------------------------------------------------
def _folder_with_bad(tmp_path, good=3, bad=2):
    root = tmp_path / "imgs"
    names = []
    for k in range(good):
        names.append(_img(root / f"good{k}.png", colour=(10 * k, 0, 0)).name)
    for k in range(bad):
        (root / f"bad{k}.png").write_bytes(b"not a png")
        names.append(f"bad{k}.png")
    pd.DataFrame({"file": names, "class_index": [1] * len(names)}).to_csv(root / "labels.csv", index=False)
    return root


@pytest.mark.parametrize("seed", range(6))
def test_skip_bad_images_samples_until_n_good_images(tmp_path, seed):
    root = _folder_with_bad(tmp_path)
    config = {"source": "folder", "root": str(root), "n_images": 3, "seed": seed, "skip_bad_images": True}
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        df = D.prepare_source(config, tmp_path / "out")
    assert df["image_id"].tolist() == ["good0.png", "good1.png", "good2.png"]   # all 3 good ones, table order
    skipped = df.attrs["skipped_images"]
    assert set(skipped["image_id"]) <= {"bad0.png", "bad1.png"} and skipped["error"].dtype == object
    assert skipped["error"].str.contains("cannot decode").all()


def test_skip_bad_images_keeps_the_sample_when_every_image_decodes(tmp_path):
    root = _folder_with_bad(tmp_path, good=6, bad=0)
    table = D.labelled_folder(root)
    good, bad = D.sample_good_images(table, 3, seed=4, skip_bad=True)
    assert good.equals(D.sample_images(table, 3, seed=4)) and bad.empty


def test_skip_bad_images_with_too_few_good_images_says_so(tmp_path):
    root = _folder_with_bad(tmp_path, good=2, bad=3)
    with pytest.raises(ValueError, match=r"only 2 of the 5 images of the source decode, fewer than "
                                         r"n_images = 3; undecodable \(3\)"):
        D.prepare_source({"source": "folder", "root": str(root), "n_images": 3,
                          "skip_bad_images": True}, tmp_path / "out")


def test_skip_bad_images_replacements_stay_in_the_label_when_stratified(tmp_path):
    root = tmp_path / "imgs"
    names, labels = [], []
    for label, count in ((1, 4), (2, 4)):
        for k in range(count):
            names.append(_img(root / f"c{label}_{k}.png", colour=(k, label, 0)).name)
            labels.append(label)
    (root / "c1_0.png").write_bytes(b"broken")
    (root / "c2_1.png").write_bytes(b"broken")
    pd.DataFrame({"file": names, "class_index": labels}).to_csv(root / "labels.csv", index=False)
    table = D.labelled_folder(root)
    for seed in range(5):
        good, bad = D.sample_good_images(table, 4, seed=seed, stratify=True, skip_bad=True)
        assert sorted(good["label"]) == [1, 1, 2, 2]                 # strata kept
        assert not good["image_id"].isin(["c1_0.png", "c2_1.png"]).any()
