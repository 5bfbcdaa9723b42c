"""ImageNet-C corruptions: names, severity validation, seeding, types."""

import numpy as np
import pytest
import torch

from spectral_attribution.data.corruptions import (
    CORRUPTIONS,
    EXTRA_CORRUPTIONS,
    STANDARD_CORRUPTIONS,
    check_severity,
    copy_seed,
    corrupt,
    corrupt_many,
)


@pytest.fixture(scope="module")
def image_u8():
    return (np.random.default_rng(0).random((32, 40, 3)) * 255).astype(np.uint8)


def test_names_match_the_package():
    from imagecorruptions import get_corruption_names

    assert CORRUPTIONS == tuple(get_corruption_names("all"))
    assert len(STANDARD_CORRUPTIONS) == 15 and len(EXTRA_CORRUPTIONS) == 4


@pytest.mark.parametrize("bad", [0, 6, -1, 2.5, True])
def test_severity_out_of_range_raises(image_u8, bad):
    with pytest.raises(ValueError, match="severity"):
        corrupt(image_u8, "fog", bad)


def test_unknown_corruption_names_the_value(image_u8):
    with pytest.raises(ValueError, match="'foggy'"):
        corrupt(image_u8, "foggy", 1)


def test_small_or_wrong_images_raise():
    with pytest.raises(ValueError, match="32"):
        corrupt(np.zeros((16, 16, 3), np.uint8), "fog", 1)
    with pytest.raises(ValueError, match="uint8"):
        corrupt(np.zeros((32, 32, 3), np.float32), "fog", 1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        corrupt(torch.full((3, 32, 32), 2.0), "fog", 1)


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_every_corruption_is_deterministic_given_the_seed(image_u8, name):
    a = corrupt(image_u8, name, 3, seed=7)
    b = corrupt(image_u8, name, 3, seed=7)
    assert a.dtype == np.uint8 and a.shape == image_u8.shape
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["gaussian_noise", "impulse_noise", "glass_blur", "frost"])
def test_random_corruptions_change_with_the_seed(image_u8, name):
    assert not np.array_equal(corrupt(image_u8, name, 2, seed=1), corrupt(image_u8, name, 2, seed=2))


def test_global_numpy_state_is_restored(image_u8):
    np.random.seed(123)
    expected = np.random.random(3)
    np.random.seed(123)
    corrupt(image_u8, "gaussian_noise", 5, seed=0)
    np.testing.assert_array_equal(np.random.random(3), expected)


def test_tensor_in_tensor_out():
    x = torch.rand(3, 32, 32)
    y = corrupt(x, "contrast", 5, seed=0)
    assert isinstance(y, torch.Tensor) and y.dtype == torch.float32 and y.shape == x.shape
    assert 0 <= float(y.min()) and float(y.max()) <= 1
    # contrast at severity 5 pulls pixels towards the mean: lower spread
    assert float(y.std()) < float(x.std())


def test_severity_increases_the_damage(image_u8):
    errors = [np.abs(corrupt(image_u8, "gaussian_noise", s, 0).astype(float) - image_u8).mean()
              for s in (1, 3, 5)]
    assert errors[0] < errors[1] < errors[2]


def test_copy_seed_is_stable_and_distinct():
    assert copy_seed(0, 1, "fog", 2) == copy_seed(0, 1, "fog", 2)
    seeds = {copy_seed(0, i, n, s) for i in range(2) for n in ("fog", "snow") for s in (1, 2)}
    assert len(seeds) == 8
    assert all(0 <= s < 2**31 for s in seeds)


def test_corrupt_many_yields_every_copy(image_u8):
    copies = list(corrupt_many(image_u8, ["fog", "contrast"], [1, 5], seed=3, image_index=2))
    assert [(n, s) for n, s, _, _ in copies] == [("fog", 1), ("fog", 5), ("contrast", 1), ("contrast", 5)]
    name, sev, seed, img = copies[0]
    np.testing.assert_array_equal(img, corrupt(image_u8, name, sev, seed))
    assert check_severity(np.int64(4)) == 4


def test_corruption_sets_and_their_labels():
    from pathlib import Path

    import yaml

    from spectral_attribution.data.corruptions import (
        CORRUPTION_SETS,
        corruption_set_label,
        corruption_set_of,
        resolve_corruptions,
    )

    assert resolve_corruptions("standard-15") == STANDARD_CORRUPTIONS == resolve_corruptions(None)
    assert resolve_corruptions("extra-4") == ("speckle_noise", "gaussian_blur", "spatter", "saturate")
    assert resolve_corruptions("all-19") == CORRUPTIONS and len(CORRUPTION_SETS["all-19"]) == 19
    assert resolve_corruptions(["fog", "saturate"]) == ("fog", "saturate")
    with pytest.raises(ValueError, match="'standard-16'.*standard-15"):
        resolve_corruptions("standard-16")
    with pytest.raises(ValueError, match="twice.*fog"):
        resolve_corruptions(["fog", "fog"])
    assert [corruption_set_label(CORRUPTION_SETS[k]) for k in CORRUPTION_SETS] == list(CORRUPTION_SETS)
    assert corruption_set_label(["saturate", "spatter"]) == "2 of extra-4"
    assert corruption_set_label(["fog", "spatter", "fog"]) == "2 of all-19"
    assert corruption_set_of("fog") == "standard-15" and corruption_set_of("spatter") == "extra-4"
    # the embedded default keeps its 6 corruptions, and they are named as such
    config = yaml.safe_load((Path(__file__).resolve().parents[2] / "config" / "config.yaml").read_text())
    assert corruption_set_label(config["corruptions"]["names"]) == "6 of standard-15"
