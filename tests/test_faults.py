"""Issue 22: kinds of faults, each fixed where it can occur, tested on several instances.

§1 targets are integers (every public callable: explainers, WAM, metrics, target policy);
§2 image tensors in the wrong layout are refused with their shape and the expected layout;
§4 the depth limit of every wavelet is PyWavelets' (filter length), not Haar's;
§5 image ids are lossless and unique, never parsed as file names;
§6 a cache entry that fails its check is moved aside and rebuilt, said once.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from spectral_attribution import metrics
from spectral_attribution._utils import parameters as P
from spectral_attribution._utils.cache import CacheEntryError, CacheRebuiltWarning, cached
from spectral_attribution._utils.checks import as_image_list, check_images
from spectral_attribution.attributions.fourier_cam import FourierCAM
from spectral_attribution.attributions.perturbations import (
    FourierPerturbation,
    SpatialPerturbation,
    WaveletPerturbation,
)
from spectral_attribution.attributions.spatial_sobol import SpatialSobol
from spectral_attribution.attributions.targets import explain_with_policy
from spectral_attribution.attributions.transforms import WaveletTransform
from spectral_attribution.attributions.wam import WAM
from spectral_attribution.attributions.wcam import WCAM, WaveletSobol
from spectral_attribution.data.ids import IMAGE_ID_SCHEME, ImageIdCollision, image_id, path_of_id
from spectral_attribution.data.samples import labelled_folder
from toys import LowPassModel

MODEL = LowPassModel(nb_classes=3)
IMAGE = torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(0))
SMALL = dict(grid_size=2, nb_design=2)


def _explainers():
    return {
        "wcam": WCAM(MODEL, levels=2, **SMALL),
        "fourier-cam": FourierCAM(MODEL, family="grid", **SMALL),
        "spatial-sobol": SpatialSobol(MODEL, **SMALL),
        "wam": WAM(MODEL, variant="gradient", grid_size=2, levels=2),
        "wavelet-sobol": WaveletSobol(MODEL, grid_size=2, nb_design=2, levels=2),
    }


# --------------------------------------------------------------------------
# §1 targets are integers: bool, float (even 3.0), strings refused everywhere
# --------------------------------------------------------------------------
BAD_TARGETS = {"float": 1.7, "integral float": 1.0, "bool": True, "string": "1",
               "float list": [1.0], "float array": np.array([1.5]),
               "float tensor": torch.tensor([1.0]), "bool tensor": torch.tensor([True]),
               "negative": -1}


@pytest.mark.parametrize("method", ["wcam", "fourier-cam", "spatial-sobol", "wam", "wavelet-sobol"])
@pytest.mark.parametrize("kind", list(BAD_TARGETS))
def test_every_explainer_refuses_a_target_that_is_not_an_integer(method, kind):
    explainer = _explainers()[method]
    with pytest.raises(ValueError, match=r"targets?(\[0\])? must be an? integer|must be integer class"):
        explainer(IMAGE[None], BAD_TARGETS[kind])


@pytest.mark.parametrize("method", ["wcam", "fourier-cam", "spatial-sobol", "wam"])
def test_attribute_refuses_a_float_target_and_takes_numpy_and_tensor_integers(method):
    explainer = _explainers()[method]
    with pytest.raises(ValueError, match="got 2.5 \\(float\\)"):
        explainer.attribute(IMAGE[None], target=2.5)
    by_int = explainer.attribute(IMAGE[None], target=2)
    for same in (np.int64(2), torch.tensor(2), torch.tensor([2]), np.array([2], dtype=np.int32)):
        torch.testing.assert_close(explainer.attribute(IMAGE[None], target=same), by_int)


def test_the_metrics_refuse_float_and_bool_classes_before_any_forward_pass():
    pert = WaveletPerturbation("haar", 2, 2)
    ctx = pert.prepare(IMAGE)
    attribution = np.arange(4.0)
    with pytest.raises(ValueError, match="target must be an integer class index >= 0, got 1.5"):
        metrics.insertion_deletion(MODEL, pert, ctx, attribution, 1.5, steps=2)
    with pytest.raises(ValueError, match="target must be an integer class index >= 0, got True"):
        metrics.mu_fidelity(MODEL, pert, ctx, attribution, True, nb_subsets=2)
    with pytest.raises(ValueError, match="reference_label must be an integer class index >= 0, got 2.0"):
        metrics.reconstruction_depth(MODEL, pert, ctx, np.arange(4), 2.0)
    with pytest.raises(ValueError, match="reference_label must be .* got '2'"):
        metrics.reconstruction_curve(MODEL, pert, ctx, np.arange(4), [1, 2], "2")
    with pytest.raises(ValueError, match="target 7 is outside the model's 3 classes"):
        metrics.insertion_deletion(MODEL, pert, ctx, attribution, 7, steps=2)


def test_the_target_policy_refuses_fractional_labels():
    with pytest.raises(ValueError, match=r"labels\[1\] must be a class index .* got 3.7"):
        explain_with_policy(_explainers()["wcam"], torch.stack([IMAGE, IMAGE]), "label",
                            labels=[1, 3.7])


def test_table_labels_are_integers_with_unknown_as_minus_one():
    assert P.check_labels([281.0, None, float("nan"), np.float32("nan"), -1, np.int64(3)], 6) == \
        [281, -1, -1, -1, -1, 3]
    for bad in (3.7, True, "3", -2):
        with pytest.raises(ValueError, match=r"labels\[0\] must be a class index"):
            P.check_labels([bad], 1)


def test_the_target_rule_is_the_command_lines():
    assert P.check_targets(np.array([[1], [2]]), 2) == [1, 2]
    assert P.check_targets(None, 3) == [None] * 3
    assert P.check_targets(np.int16(4), 2) == [4, 4]
    with pytest.raises(ValueError, match="got 1 targets for 2 images"):
        P.check_targets([1], 2)


# --------------------------------------------------------------------------
# §2 image tensors in the wrong layout: one line, the shape and the layout
# --------------------------------------------------------------------------
NHWC = IMAGE.permute(1, 2, 0)[None]  # (1, 32, 32, 3)


@pytest.mark.parametrize("method", ["wcam", "fourier-cam", "spatial-sobol", "wam", "wavelet-sobol"])
def test_every_explainer_refuses_a_channels_last_batch_naming_its_shape(method):
    with pytest.raises(ValueError, match=re.escape("images has shape (1, 32, 32, 3): channels last "
                                                   "(N, H, W, C); expected (N, C, H, W) with C in (1, 3)")):
        _explainers()[method](NHWC, [0])


@pytest.mark.parametrize("call", [
    lambda: _explainers()["wcam"].attribute(NHWC[0], target=0),               # one (H, W, C) image
    lambda: WaveletPerturbation("haar", 2, 2).prepare(NHWC[0]),
    lambda: FourierPerturbation(2, "grid").prepare(NHWC[0]),
    lambda: SpatialPerturbation(2).prepare(NHWC[0]),
    lambda: WaveletTransform("haar", 2).forward(NHWC),
    lambda: as_image_list(torch.rand(2, 16, 16, 3)),                          # the studies' entry
    lambda: as_image_list([torch.rand(16, 16, 3)]),
])
def test_every_entry_taking_images_refuses_channels_last(call):
    with pytest.raises(ValueError, match=r"has shape \(.*\): channels last .*expected \((N, )?C, H, W\)"):
        call()


def test_the_layout_checker_names_wrong_dimensions_and_channel_counts():
    with pytest.raises(ValueError, match=re.escape("images has shape (32, 32) (2 dimensions); expected "
                                                   "(N, C, H, W) or one (C, H, W) image")):
        check_images(torch.rand(32, 32))
    with pytest.raises(ValueError, match=re.escape("images has shape (1, 5, 8, 8): 5 channels")):
        check_images(torch.rand(1, 5, 8, 8))
    with pytest.raises(ValueError, match="must be a float tensor"):
        check_images(torch.zeros(1, 3, 8, 8, dtype=torch.uint8), pixel_range=True)
    assert check_images(torch.rand(3, 8, 8)).shape == (1, 3, 8, 8)
    assert check_images(torch.rand(2, 1, 8, 8)).shape == (2, 1, 8, 8)


# --------------------------------------------------------------------------
# §4 the wavelet's own depth limit (PyWavelets' dwt_max_level), not Haar's
# --------------------------------------------------------------------------
@pytest.mark.parametrize("wavelet, side, levels, top", [
    ("db4", 64, 5, 3),     # the example: Haar's rule allowed 6
    ("sym4", 32, 3, 2),
    ("coif1", 37, 3, 2),
    ("db2", 32, 4, 3),
    ("dmey", 224, 2, 1),
])
def test_levels_beyond_the_wavelets_limit_are_refused_with_the_limit(wavelet, side, levels, top):
    assert P.max_levels(side, wavelet) == top
    message = f"levels {levels} is too deep for a {side}-pixel side: .* at most {top} levels for wavelet '{wavelet}'"
    with pytest.raises(ValueError, match=message):
        P.check_levels(levels, side, wavelet=wavelet)
    image = torch.rand(3, side, side, generator=torch.Generator().manual_seed(1))
    with pytest.raises(ValueError, match=message):
        WCAM(MODEL, levels=levels, wavelet=wavelet, **SMALL)(image[None], [0])
    with pytest.raises(ValueError, match=message):
        WAM(MODEL, variant="gradient", grid_size=2, levels=levels, wavelet=wavelet)(image[None], [0])
    P.check_levels(top, side, wavelet=wavelet)  # the limit itself is accepted


def test_haar_keeps_its_limit():
    assert [P.max_levels(s) for s in (32, 224, 288, 9)] == [5, 7, 8, 3]
    assert [P.max_levels(s, "db4") for s in (64, 224)] == [3, 5]


# --------------------------------------------------------------------------
# §5 image ids: lossless, unique, never parsed as a file name
# --------------------------------------------------------------------------
def _folder(root: Path, names) -> Path:
    folder = root / "n01440764"
    folder.mkdir(parents=True)
    for k, name in enumerate(names):
        Image.new("RGB", (8, 8), (10 * k, 0, 0)).save(folder / name, format="PNG")
    return root


def test_ids_are_lossless_and_unique_for_awkward_names(tmp_path):
    names = ["café.jpg", "a b.jpg", "a_b.jpg", "dog.jpg", "dog.png", "x@y%.jpg", "ß猫.png"]
    df = labelled_folder(_folder(tmp_path, names))
    ids = df["image_id"].tolist()
    assert df["image_id"].is_unique and len(ids) == len(names)
    assert sorted(path_of_id(i) for i in ids) == sorted(f"n01440764/{n}" for n in names)
    assert "n01440764/café.jpg" in ids and "n01440764/a%20b.jpg" in ids
    assert "n01440764/a_b.jpg" in ids and "n01440764/x%40y%25.jpg" in ids
    assert all("@" not in i for i in ids)
    assert IMAGE_ID_SCHEME == 2


def test_the_id_function_round_trips():
    for rel in ["a b.jpg", "a_b.jpg", "café.jpg", "cafe\u0301.jpg", "100%.png", "x/y z.JPEG", "@.png"]:
        assert path_of_id(image_id(rel)) == rel
    assert image_id("./sub/../a.jpg") == "a.jpg"
    assert len({image_id(r) for r in ["a b", "a_b", "a%20b", "a+b"]}) == 4


def test_two_entries_naming_one_file_are_refused_with_both_named(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "a.jpg")
    pd.DataFrame({"file": ["a.jpg", "./a.jpg"], "class_index": [1, 1]}).to_csv(
        tmp_path / "labels.csv", index=False)
    with pytest.raises(ImageIdCollision, match="'a.jpg' and './a.jpg' name the same image"):
        labelled_folder(tmp_path)
    (tmp_path / "b.jpg").hardlink_to(tmp_path / "a.jpg")
    pd.DataFrame({"file": ["a.jpg", "b.jpg"], "class_index": [1, 1]}).to_csv(
        tmp_path / "labels.csv", index=False)
    with pytest.raises(ImageIdCollision, match="'a.jpg' and 'b.jpg' name the same image file"):
        labelled_folder(tmp_path)


def test_explain_names_outputs_losslessly_and_refuses_two_images_with_one_name(tmp_path):
    from spectral_attribution.cli.explain import _output_names
    from spectral_attribution.cli.parser import UsageError

    paths = [Path(n) for n in ["café.jpg", "a b.jpg", "a_b.jpg", "dog.jpg", "dog.png"]]
    assert _output_names(paths) == ["café", "a%20b", "a_b", "dog.jpg", "dog.png"]
    with pytest.raises(UsageError, match="a/x.jpg and b/x.jpg would both write x.jpg.npz"):
        _output_names([Path("a/x.jpg"), Path("b/x.jpg"), Path("x.png")])


def test_show_never_reads_a_format_from_the_image_id(tmp_path, monkeypatch, capsys):
    from spectral_attribution import results
    from spectral_attribution.attributions.explanation import Explanation
    from spectral_attribution.cli import main

    e = Explanation("wcam", np.zeros((2, 2), np.float32), np.zeros((8, 8), np.float32), None,
                    target=1, predicted=1, score=0.0, predicted_score=0.0,
                    settings={"levels": 2, "image_size": [8, 8]})
    results.write_shard(tmp_path / "results" / "wcam" / "m" / "clean" / "shard-000.npz", [e], ["dog.jpg"])
    results.write_run_config({"seed": 0, "data": {"n_images": 1}, "wcam": {"shard_size": 1},
                              "models": [{"nickname": "m"}]}, tmp_path / "results")
    monkeypatch.chdir(tmp_path)
    assert main(["show", str(tmp_path / "results"), "--model", "m", "--image", "dog.jpg"]) == 0
    assert sorted(p.name for p in tmp_path.glob("m-dog*")) == ["m-dog.jpg.pdf", "m-dog.jpg.png"]
    assert (tmp_path / "m-dog.jpg.pdf").read_bytes()[:4] == b"%PDF"
    assert main(["show", str(tmp_path / "results"), "--model", "m", "--image", "dog.jpg",
                 "--format", "svg", "--out", str(tmp_path / "figs")]) == 0
    assert (tmp_path / "figs.svg").read_bytes().lstrip().startswith(b"<?xml")  # a stem + --format


# --------------------------------------------------------------------------
# §6 caches: verified on read, moved aside, rebuilt, said once
# --------------------------------------------------------------------------
def test_a_cache_entry_that_fails_is_moved_aside_rebuilt_and_said_once(tmp_path):
    built = []

    def build(path):
        built.append(path)
        path.write_text("good")

    def verify(path):
        text = path.read_text()
        if text != "good":
            raise ValueError(f"holds {text!r}")
        return text

    entry = tmp_path / "entry.bin"
    assert cached(entry, verify, build, "test entry") == "good" and len(built) == 1
    assert cached(entry, verify, build, "test entry") == "good" and len(built) == 1  # verified, kept
    for aside in ("entry.bin.corrupt", "entry.bin.corrupt1", None):
        if aside:
            entry.write_text("trunc")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert cached(entry, verify, build, "test entry") == "good"
        said = [str(w.message) for w in caught if w.category is CacheRebuiltWarning]
        assert said == ([f"test entry {entry} failed its check (ValueError: holds 'trunc'); moved "
                         f"aside to {aside} and rebuilt"] if aside else [])  # once per rebuild
    assert len(built) == 3
    assert (tmp_path / "entry.bin.corrupt").read_text() == "trunc"
    assert (tmp_path / "entry.bin.corrupt1").read_text() == "trunc"
    with pytest.raises(CacheEntryError, match="fails again"):
        entry.write_text("bad")
        cached(entry, verify, lambda p: p.write_text("still bad"), "test entry")


def test_a_damaged_extracted_imagenet_set_is_extracted_again(tmp_path):
    from imagenet_mini import archive_checksums, mini_archives
    from spectral_attribution.data import imagenet as D

    archives = mini_archives()
    for name, data in archives.values():
        (tmp_path / name).write_bytes(data)
    meta = archive_checksums(archives)
    first = D.imagenet_val(tmp_path, archives=meta)
    victim = Path(first["path"][1])
    good = victim.read_bytes()
    victim.write_bytes(good[:40])  # truncated after extraction
    with pytest.warns(CacheRebuiltWarning, match="has 40 bytes"):
        again = D.imagenet_val(tmp_path, archives=meta)
    assert victim.read_bytes() == good and again.equals(first)
    assert (tmp_path / "val.corrupt").is_dir()
    victim.unlink()  # a deleted image
    with pytest.warns(CacheRebuiltWarning, match="is missing"):
        D.imagenet_val(tmp_path, archives=meta)
    assert victim.read_bytes() == good
    (tmp_path / "val" / "labels.csv").unlink()  # an extraction interrupted by another tool
    with pytest.warns(CacheRebuiltWarning, match="labels.csv is missing"):
        assert D.imagenet_val(tmp_path, archives=meta).equals(first)


# --------------------------------------------------------------------------
# §7 checks that need the data run at start-up, before anything is recorded
# --------------------------------------------------------------------------
def _run_config(root, n_images, source="folder"):
    data = {"source": source, "n_images": n_images, "stratify": False, "skip_bad_images": False}
    if root is not None:
        data["root"] = str(root)
    return {"seed": 0, "data": data, "models": [{"nickname": "m", "name": "efficientnet-lite0"}],
            "wcam": {"shard_size": 2}, "corruptions": {"names": ["fog"], "severities": [1],
                                                       "explain": {"per_image": 0}}}


def _seven(tmp_path):
    return _folder(tmp_path / "photos", [f"p{k}.png" for k in range(7)])


@pytest.mark.parametrize("make, message", [
    (lambda t: _run_config(_seven(t), 50), r"config key 'data': .*key 'n_images' is 50 but the folder "
                                           r"source \(.*photos\) has only 7 images"),
    (lambda t: _run_config(None, 9, "embedded"), r"key 'n_images' is 9 but the embedded source has only 6"),
    (lambda t: _run_config(t / "absent", 2), r"config key 'data': image folder not found: .*absent"),
    (lambda t: _run_config(_collision(t), 1), r"'a.jpg' and './a.jpg' name the same image"),
])
def test_data_checks_run_at_start_before_the_configuration_is_recorded(tmp_path, monkeypatch, capsys,
                                                                       make, message):
    from spectral_attribution.pipeline import run_checks

    monkeypatch.chdir(tmp_path)
    config = make(tmp_path)
    with pytest.raises(run_checks.DataCheckError, match=message):
        run_checks.at_start(config)
    with pytest.raises(SystemExit):  # the Snakefile's hook: one line, status 1, nothing recorded
        run_checks.at_start(config, exit_on_mismatch=True)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("spectral-attribution: error: config key 'data': ")
    assert not (tmp_path / "results" / "config.yaml").exists()


def _collision(tmp_path):
    root = tmp_path / "dup"
    root.mkdir()
    Image.new("RGB", (8, 8)).save(root / "a.jpg")
    pd.DataFrame({"file": ["a.jpg", "./a.jpg"], "class_index": [1, 1]}).to_csv(root / "labels.csv", index=False)
    return root


def test_a_corrected_configuration_is_accepted_where_the_failed_run_made_no_results(tmp_path, monkeypatch):
    from spectral_attribution import results
    from spectral_attribution.pipeline import run_checks

    monkeypatch.chdir(tmp_path)
    root = _seven(tmp_path)
    # what main left behind: the configuration recorded, the model job's file, no sample
    run_checks.record(_run_config(root, 50))
    results.write_json({"nickname": "m"}, tmp_path / "results" / "models" / "m.json")
    assert run_checks.at_start(_run_config(root, 7)) == []         # accepted
    run_checks.record(_run_config(root, 7))
    assert results.read_run_config("results")["data"]["n_images"] == 7
    # once the run drew its sample, another data selection is another configuration
    results.write_csv(pd.DataFrame({"image_id": ["x"]}), tmp_path / "results" / "data" / "samples.csv")
    with pytest.raises(run_checks.ConfigurationMismatch, match="data.n_images: 7 there, 5 now"):
        run_checks.at_start(_run_config(root, 5))


def test_an_imagenet_source_not_yet_extracted_is_checked_by_its_job(tmp_path):
    from spectral_attribution.data.sources import check_source

    assert check_source({"source": "imagenet", "root": str(tmp_path), "n_images": 10}) is None
    assert check_source({"source": "folder", "root": str(_seven(tmp_path)), "n_images": 7}) == 7
