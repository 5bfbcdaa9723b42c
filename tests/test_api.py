"""The public API: top-level exports, captum's ``attribute(x, target=...)``, the original's
``WaveletSobol`` call, user estimators and the one precision table."""

import warnings

import numpy as np
import pytest
import torch

import spectral_attribution as sa
from spectral_attribution import FourierCAM, SpatialSobol, WaveletSobol, WCAM
from spectral_attribution._utils.autocast import AUTOCAST_VALUES, check_autocast

from toys import DCModel, DetailRegionModel, LowPassModel, RegionModel


def images(count=2, size=32, seed=0):
    return torch.rand(count, 3, size, size, generator=torch.Generator().manual_seed(seed))


# --------------------------------------------------------------------------
# Top level
# --------------------------------------------------------------------------
def test_top_level_exports_are_the_library_objects():
    from spectral_attribution import Explanation, load_model
    from spectral_attribution.attributions import explanation, fourier_cam, spatial_sobol, wcam
    from spectral_attribution import models

    assert WCAM is wcam.WCAM and FourierCAM is fourier_cam.FourierCAM
    assert SpatialSobol is spatial_sobol.SpatialSobol and WaveletSobol is wcam.WaveletSobol
    assert Explanation is explanation.Explanation and load_model is models.load_model
    from spectral_attribution import WAM
    from spectral_attribution.attributions import wam

    assert WAM is wam.WAM
    assert sa.__version__ == "0.1.0"
    assert {"WCAM", "FourierCAM", "SpatialSobol", "WaveletSobol", "WAM", "Explanation",
            "load_model"} <= set(sa.__all__) <= set(dir(sa))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        sa.nope  # noqa: B018


# --------------------------------------------------------------------------
# attribute(inputs, target=...)
# --------------------------------------------------------------------------
def test_attribute_with_captums_keyword_returns_the_indices_tensor():
    x = images()
    explainer = WCAM(LowPassModel(), grid_size=8, nb_design=4)
    attributions = explainer.attribute(x, target=0)
    assert isinstance(attributions, torch.Tensor)
    assert attributions.shape == (2, 8, 8) and attributions.dtype == torch.float32
    # 32 px, J = 3: the approximation is cell (0, 0); the low-pass model puts its mass there.
    share = attributions[:, 0, 0] / attributions.sum(dim=(1, 2))
    assert (share > 0.999).all()
    # The same numbers as the Explanation objects of __call__.
    for a, e in zip(attributions, explainer(x, 0)):
        np.testing.assert_array_equal(a.numpy(), e.indices)
        assert e.target == 0


def test_attribute_maps_and_per_image_targets():
    x = images(2, 32)
    explainer = WCAM(LowPassModel(), grid_size=8, nb_design=4)
    maps = explainer.attribute(x, target=torch.tensor([0, 2]), output="map")
    spatial = explainer.attribute(x, target=[0, 2], output="spatial")
    assert maps.shape == spatial.shape == (2, 32, 32)
    for i, (m, s, e) in enumerate(zip(maps, spatial, explainer(x, [0, 2]))):
        np.testing.assert_array_equal(m.numpy(), e.map)
        np.testing.assert_array_equal(s.numpy(), e.spatial)
        assert e.target == [0, 2][i]
    with pytest.raises(ValueError, match="output must be"):
        explainer.attribute(x, target=0, output="heatmap")


def test_attribute_shapes_of_the_other_explainers():
    x = images(2, 32)
    rings = FourierCAM(DCModel(), grid_size=6, nb_design=4).attribute(x, target=0)
    assert rings.shape == (2, 6)
    assert (rings[:, 0] / rings.sum(dim=1) > 0.999).all()    # the zero frequency
    with pytest.raises(ValueError, match="no 'spatial'"):
        FourierCAM(DCModel(), grid_size=6, nb_design=4).attribute(x, target=0, output="spatial")
    model = RegionModel(slice(16, 32), slice(0, 16), target=3, nb_classes=5)
    cells = SpatialSobol(model, grid_size=4, nb_design=8).attribute(x, target=3)
    assert cells.shape == (2, 4, 4)
    assert (cells[:, :2] == 0).all() and (cells[:, :, 2:] == 0).all()  # outside the region


# --------------------------------------------------------------------------
# The original code's call
# --------------------------------------------------------------------------
def test_wavelet_sobol_runs_the_original_call_and_returns_its_layout():
    x = images(2, 224, seed=1)
    y = [0, 0]
    model = DetailRegionModel(slice(112, 224), slice(0, 112))
    # the original call's grid, size, levels and options; 2 designs instead of its 8 (the
    # layout and the exact zeros checked here do not depend on them; 4 x fewer passes)
    explainer = WaveletSobol(model, grid_size=28, nb_design=2, batch_size=128,
                             opt={"size": 224, "levels": 3, "approx_coeffs": False})
    wcams = explainer(x, y)
    assert isinstance(wcams, list) and len(wcams) == 2
    for w, e in zip(wcams, explainer.explanations):
        assert isinstance(w, np.ndarray) and w.dtype == np.float32 and w.shape == (224, 224)
        # The g x g indices upsampled (nearest) onto the 224 x 224 dyadic layout.
        np.testing.assert_array_equal(w, e.map)
        np.testing.assert_array_equal(w[::8, ::8], e.indices)
        # approx_coeffs False: the approximation block (28 x 28 at J = 3) plays no part,
        # and this model reads only the finest details (level 1: the bottom-right 112 x 112
        # block and its two neighbours), under its region (rows 112:224, cols 0:112).
        assert e.settings["drop_approximation"] is True and e.settings["levels"] == 3
        assert not w[:24, :24].any()            # cells inside the approximation block: exactly 0
        assert np.abs(w[:28, :28]).max() < 1e-6
        level1 = np.zeros((224, 224), bool)
        level1[112:, :112] = level1[:112, 112:] = level1[112:, 112:] = True
        assert w[~level1].max() < 1e-6 and w[level1].sum() > 0
    assert [s.shape for s in explainer.spatial_cam] == [(224, 224), (224, 224)]


def test_wavelet_sobol_options_map_onto_the_wcam():
    x = images(1, 32)
    model = LowPassModel()
    kept = WaveletSobol(model, grid_size=8, nb_design=4, opt={"size": 8})(x, [1])
    reference = WCAM(model, grid_size=8, nb_design=4, screening=None)(x, 1)[0]  # WaveletSobol: full
    np.testing.assert_array_equal(kept[0], reference.indices)            # size == grid_size: raw indices
    assert WaveletSobol(model, grid_size=8, nb_design=4)(x, [1])[0].shape == (32, 32)  # image size
    # "approximation" (the paper's scripts' name) False = drop_approximation=True.
    [w] = WaveletSobol(model, grid_size=8, nb_design=4, opt={"approximation": False, "size": 64})(x, [1])
    [drop] = WCAM(model, grid_size=8, nb_design=4, drop_approximation=True, screening=None)(x, 1)
    assert w.shape == (64, 64)
    np.testing.assert_array_equal(w[::8, ::8], drop.indices)
    assert not w[:8, :8].any()             # cell (0, 0) is the approximation block at 32 px, J = 3
    with pytest.raises(ValueError, match="sampling"):
        WaveletSobol(model, opt={"sampling": "diagonal"})
    with pytest.raises(ValueError, match="disagree"):
        WaveletSobol(model, levels=2, opt={"levels": 3})
    with pytest.raises(ValueError, match="size"):
        WaveletSobol(model, opt={"size": 0})


# --------------------------------------------------------------------------
# Estimators: by name or a user's callable
# --------------------------------------------------------------------------
def test_a_user_estimator_is_used_and_recorded():
    from spectral_attribution.attributions.sobol.estimators import ESTIMATORS, register_estimator

    def my_jansen(y_a, y_b, y_c):
        return ESTIMATORS["jansen"](y_a, y_b, y_c)

    x = images(1, 32)
    [mine] = WCAM(LowPassModel(), grid_size=4, nb_design=4, estimator=my_jansen)(x, 0)
    [ref] = WCAM(LowPassModel(), grid_size=4, nb_design=4)(x, 0)
    np.testing.assert_array_equal(mine.indices, ref.indices)
    assert mine.settings["estimator"] == "my_jansen" and ref.settings["estimator"] == "jansen"
    my_jansen.name = "jansen-copy"
    register_estimator("jansen-copy", my_jansen)
    try:
        [named] = WCAM(LowPassModel(), grid_size=4, nb_design=4, estimator="jansen-copy")(x, 0)
        np.testing.assert_array_equal(named.indices, ref.indices)
        assert named.settings["estimator"] == "jansen-copy"
        with pytest.raises(ValueError, match="already registered"):
            register_estimator("jansen-copy", my_jansen)
    finally:
        ESTIMATORS.pop("jansen-copy")


# --------------------------------------------------------------------------
# One precision table
# --------------------------------------------------------------------------
@pytest.mark.parametrize("value", sorted(AUTOCAST_VALUES, key=str))
def test_every_autocast_value_is_accepted_everywhere(value):
    from spectral_attribution import metrics, studies
    from spectral_attribution.attributions.perturbations import SpatialPerturbation

    from helpers_studies import ConstantModel

    x = images(1, 32)
    assert WCAM(LowPassModel(), grid_size=2, nb_design=2, autocast=value).autocast == check_autocast(value)
    pert = SpatialPerturbation(2)
    ctx = pert.prepare(x[0])
    curves = metrics.insertion_deletion(LowPassModel(), pert, ctx, np.arange(4.0), 0, steps=2,
                                        autocast=value)
    assert curves["fractions"].tolist() == [0.0, 0.5, 1.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = studies.corruption_baseline(ConstantModel(), x, ["a"], corruptions=["contrast"],
                                           severities=[1], autocast=value)
    assert base["same_as_clean"].tolist() == [True]


def test_float32_autocast_gives_the_float32_numbers_and_bad_values_are_named():
    from spectral_attribution import metrics
    from spectral_attribution.attributions.perturbations import SpatialPerturbation

    pert = SpatialPerturbation(2)
    ctx = pert.prepare(images(1, 16)[0])
    a = metrics.insertion_deletion(LowPassModel(), pert, ctx, np.arange(4.0), 0, steps=4, autocast="float32")
    b = metrics.insertion_deletion(LowPassModel(), pert, ctx, np.arange(4.0), 0, steps=4, autocast=None)
    np.testing.assert_array_equal(a["insertion"], b["insertion"])
    for call in (lambda: check_autocast("float64"),
                 lambda: WCAM(LowPassModel(), grid_size=2, autocast="float64"),
                 lambda: metrics.insertion_deletion(LowPassModel(), pert, ctx, np.arange(4.0), 0,
                                                    autocast="float64")):
        with pytest.raises(ValueError, match="float64"):
            call()
