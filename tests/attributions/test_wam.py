"""WAM (gradients in the wavelet domain) on models whose attributions are known."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from spectral_attribution.attributions.explanation import Explanation
from spectral_attribution.attributions.perturbations import WaveletPerturbation
from spectral_attribution.models import ModelWrapper, Preprocessing
from spectral_attribution.attributions.transforms import (
    WaveletTransform,
    pool_on_grid,
    spatial_projection,
    upsample_masks,
)
from spectral_attribution.attributions.wam import WAM

from toys import ConstantModel, LowPassModel, RegionModel, small_cnn


def image(h=32, w=32, seed=0, batch=1):
    return torch.rand(batch, 3, h, w, generator=torch.Generator().manual_seed(seed))


class Linear(nn.Module):
    """Logit 0 is ``<w, x>``, logit 1 is ``-<w, x>``."""

    def __init__(self, weight: torch.Tensor):
        super().__init__()
        self.register_buffer("weight", weight)

    def forward(self, x):
        y = (x * self.weight).sum(dim=(1, 2, 3))
        return torch.stack([y, -y], dim=1)


class Counting(nn.Module):
    """Records the number of images of every forward pass."""

    def __init__(self, network):
        super().__init__()
        self.network, self.sizes = network, []

    def forward(self, x):
        self.sizes.append(x.shape[0])
        return self.network(x)


# -- the transform the gradients go through ---------------------------------
def test_haar_transform_is_orthonormal():
    transform = WaveletTransform("haar", 3)
    gen = torch.Generator().manual_seed(1)
    x, y = (torch.randn(2, 3, 32, 48, generator=gen, dtype=torch.float64) for _ in range(2))
    torch.testing.assert_close((transform(x) * transform(y)).sum(), (x * y).sum(), rtol=1e-12, atol=0)
    torch.testing.assert_close(transform(x).norm(), x.norm(), rtol=1e-12, atol=0)


# -- known values on a linear model -------------------------------------------
def test_gradient_of_a_linear_model_is_the_haar_transform_of_its_weights():
    # f = <w, x> = <W w, W x> (W orthonormal): d f / d z = W w.
    w = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    [e] = WAM(Linear(w), variant="gradient", grid_size=8, levels=3)(image(), targets=0)
    expected = WaveletTransform("haar", 3)(w)[0]
    np.testing.assert_allclose(e.attributions, expected.numpy(), atol=1e-5, rtol=0)
    np.testing.assert_allclose(e.map, expected.abs().sum(0).numpy(), atol=1e-5, rtol=0)
    [neg] = WAM(Linear(w), variant="gradient", grid_size=8)(image(), targets=1)
    np.testing.assert_allclose(neg.attributions, -expected.numpy(), atol=1e-5, rtol=0)
    assert e.settings["nb_forward"] == e.settings["nb_backward"] == 1


def test_gradient_goes_through_the_models_normalisation():
    # f = <w, (x - m) / s>: d f / d z = W (w / s).
    w = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.5)
    model = ModelWrapper(Linear(w), Preprocessing(resize=None, crop=None, mean=mean, std=std))
    [e] = WAM(model, variant="gradient", grid_size=4)(image(), targets=0)
    expected = WaveletTransform("haar", 3)(w / torch.tensor(std).view(1, 3, 1, 1))[0]
    np.testing.assert_allclose(e.attributions, expected.numpy(), atol=1e-5, rtol=0)


def test_padding_rule_gradient_is_the_transform_of_the_zero_padded_weights():
    # A 30 x 27 image is padded to 32 x 32 and cropped after the inverse: the
    # crop's adjoint pads the weights with zeros.
    w = torch.randn(1, 3, 30, 27, generator=torch.Generator().manual_seed(4))
    [e] = WAM(Linear(w), variant="gradient", grid_size=8)(image(30, 27), targets=0)
    expected = WaveletTransform("haar", 3)(F.pad(w, (0, 5, 0, 2)))[0]
    assert e.map.shape == (32, 32) and e.spatial.shape == (30, 27)
    np.testing.assert_allclose(e.attributions, expected.numpy(), atol=1e-5, rtol=0)


def test_smoothgrad_of_a_linear_model_is_its_gradient_and_ig_its_exact_decomposition():
    w = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    x = image()
    grad = WaveletTransform("haar", 3)(w)[0].numpy()
    [sg] = WAM(Linear(w), variant="smoothgrad", nb_samples=7, grid_size=8)(x, targets=0)
    np.testing.assert_allclose(sg.attributions, grad, atol=1e-5, rtol=0)
    [ig] = WAM(Linear(w), variant="integratedgrad", nb_steps=3, grid_size=8)(x, targets=0)
    coeffs = WaveletTransform("haar", 3)(x)[0].numpy()
    np.testing.assert_allclose(ig.attributions, coeffs * grad, atol=1e-5, rtol=0)
    np.testing.assert_allclose(ig.attributions.sum(), float((w * x).sum()), rtol=1e-5)


def test_integrated_gradients_of_a_linear_model_are_complete_with_another_wavelet():
    # db2 is not orthonormal with its symmetric boundary, but the inverse of the
    # coefficients is the image again: sum(a) = <w, x> - <w, 0> exactly.
    w = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(6))
    x = image()
    [e] = WAM(Linear(w), variant="integratedgrad", wavelet="db2", levels=2, nb_steps=2,
              grid_size=4)(x, targets=0)
    assert e.map.shape == WaveletTransform("db2", 2).layout_shape(32, 32)
    np.testing.assert_allclose(e.attributions.sum(), float((w * x).sum()), rtol=1e-5)


# -- Integrated Gradients: completeness ------------------------------------------
@pytest.mark.parametrize("rule,steps", [("trapezoid", 32), ("midpoint", 32)])
@pytest.mark.parametrize("make", [small_cnn, LowPassModel])
def test_integrated_gradients_are_complete_on_nonlinear_models(make, rule, steps):
    x = image()
    [e] = WAM(make(), variant="integratedgrad", nb_steps=steps, rule=rule, grid_size=8)(x)
    expected = e.score - e.settings["baseline_score"]
    assert abs(expected) > 1e-3
    assert abs(e.attributions.sum() - expected) < 0.01 * abs(expected)
    # The baseline is the black image, scored by the same model.
    with torch.no_grad():
        black = make().eval()(torch.zeros_like(x))[0, e.target]
    assert e.settings["baseline_score"] == pytest.approx(float(black), abs=1e-6)
    assert e.settings["nb_forward"] == steps + (rule == "midpoint")


# -- the low-pass toy model ------------------------------------------------
@pytest.mark.parametrize("variant", ["gradient", "smoothgrad", "integratedgrad"])
def test_low_pass_model_puts_its_mass_on_the_approximation_block(variant):
    # 32 px, J = 3: the approximation block is 4 x 4, exactly cell (0, 0) of an 8 x 8 grid.
    [e] = WAM(LowPassModel(), variant=variant, grid_size=8, nb_samples=8, nb_steps=8)(image())
    approx = e.subbands[0]
    assert approx.name == "approximation"
    assert e.map[approx.slices].sum() / e.map.sum() > 0.99
    assert e.indices[0, 0] / e.indices.sum() > 0.99
    assert e.indices.shape == (8, 8) and e.map.shape == (32, 32) and e.spatial.shape == (32, 32)


def test_region_model_puts_the_spatial_projection_in_its_region():
    model = RegionModel(slice(16, 32), slice(0, 16), nb_classes=400, target=300)
    [e] = WAM(model, variant="gradient", grid_size=8)(image(), targets=300)
    assert e.spatial[16:, :16].sum() / e.spatial.sum() > 0.8


# -- pooling onto the WCAM grid ----------------------------------------------
def test_pooling_sums_the_map_over_the_wcam_cells():
    # A map that is constant on the WCAM's cells pools to value x cell area;
    # 37 x 50 is not a multiple of 6, so cells differ in size.
    g, size = 6, (37, 50)
    grid = torch.arange(1.0, g * g + 1, dtype=torch.float64).view(1, g, g)
    layout_map = upsample_masks(grid, size)[0, 0]
    area = pool_on_grid(torch.ones(size, dtype=torch.float64), g)
    np.testing.assert_allclose(pool_on_grid(layout_map, g).numpy(), (grid[0] * area).numpy())
    # Cells are 6 or 7 rows (37 / 6) by 8 or 9 columns (50 / 6).
    assert area.sum() == 37 * 50 and set(area.flatten().tolist()) == {48.0, 54.0, 56.0, 63.0}


def test_wam_cells_are_the_cells_the_wcam_masks():
    # Cell i of the WAM is the set of coefficients that WCAM mask i scales.
    x = image(40, 56)
    [e] = WAM(small_cnn(), variant="gradient", grid_size=5, levels=3)(x)
    pert = WaveletPerturbation("haar", 3, 5)
    layout = pert.prepare(x[0]).tensors["layout"]
    for cell in (0, 7, 24):
        onehot = torch.zeros(1, 5, 5)
        onehot.view(-1)[cell] = 1
        mask = upsample_masks(onehot, layout.shape[-2:])[0, 0].numpy() > 0
        assert e.indices.flat[cell] == pytest.approx(e.map[mask].sum(), rel=1e-5)


def test_wcam_and_wam_share_one_spatial_projection():
    # The WCAM's spatial map is the projection of its map; the WAM's too.
    from spectral_attribution.attributions.wcam import WCAM

    x, model = image(40, 56), small_cnn()
    [wcam] = WCAM(model, grid_size=4, nb_design=2, levels=2)(x)
    [wam] = WAM(model, variant="gradient", grid_size=4, levels=2)(x)
    transform = WaveletTransform("haar", 2)
    for e in (wcam, wam):
        np.testing.assert_allclose(
            e.spatial, spatial_projection(torch.from_numpy(e.map), transform, (40, 56)).numpy(),
            rtol=1e-6, atol=1e-7)


def test_spatial_projection_of_one_band_is_its_block_resized():
    # A map that is 1 on the approximation block only projects to 1 everywhere
    # (bilinear resize of a constant); 1 on one level-1 detail block too.
    transform = WaveletTransform("haar", 2)
    bands = transform.subbands(16, 24)
    for band in (bands[0], bands[-1]):
        layout_map = torch.zeros(16, 24, dtype=torch.float64)
        layout_map[band.slices] = 1.0
        np.testing.assert_allclose(spatial_projection(layout_map, transform, (16, 24)).numpy(), 1.0)


# -- reproducibility ------------------------------------------------------
def test_smoothgrad_seed_makes_it_reproducible_and_another_seed_changes_it():
    model, x = small_cnn(), image()
    kw = dict(variant="smoothgrad", nb_samples=6, noise_level=0.2, grid_size=4)
    one = WAM(model, seed=3, **kw)(x)[0]
    two = WAM(model, seed=3, **kw)(x)[0]
    other = WAM(model, seed=4, **kw)(x)[0]
    np.testing.assert_array_equal(one.attributions, two.attributions)
    np.testing.assert_array_equal(one.indices, two.indices)
    assert not np.allclose(one.attributions, other.attributions)
    assert one.settings["seed"] == 3 and one.settings["sigma"] == pytest.approx(0.2 * float(x.max() - x.min()))
    # Same noise draws whatever the batch size and the other images of the call.
    smaller = WAM(model, seed=3, batch_size=4, **kw)(torch.cat([image(seed=9), x]))[1]
    np.testing.assert_allclose(smaller.attributions, one.attributions, atol=1e-6, rtol=1e-5)


def test_zero_noise_smoothgrad_is_the_gradient():
    model, x = small_cnn(), image()
    [sg] = WAM(model, variant="smoothgrad", noise_level=0.0, nb_samples=3, grid_size=4)(x)
    [g] = WAM(model, variant="gradient", grid_size=4)(x)
    np.testing.assert_allclose(sg.attributions, g.attributions, atol=1e-6, rtol=1e-5)


# -- model state -----------------------------------------------------------
@pytest.mark.parametrize("variant", ["gradient", "smoothgrad", "integratedgrad"])
def test_model_state_is_left_as_it_was(variant):
    model = small_cnn().train()
    before = copy.deepcopy(model.state_dict())
    modes = [m.training for m in model.modules()]
    seen = []
    model[1].register_forward_hook(lambda m, i, o: seen.append(m.training))
    explainer = WAM(model, variant=variant, grid_size=4, nb_samples=3, nb_steps=3)
    [e] = explainer(image())
    [e_ref] = WAM(copy.deepcopy(model).eval(), variant=variant, grid_size=4,
                  nb_samples=3, nb_steps=3)(image())
    assert seen and not any(seen)                       # batch norm ran in eval mode
    assert [m.training for m in model.modules()] == modes  # training flags restored
    assert all(p.requires_grad for p in model.parameters())
    assert all(p.grad is None for p in model.parameters())
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, before[key], rtol=0, atol=0)
    np.testing.assert_allclose(e.attributions, e_ref.attributions, atol=1e-6)


def test_a_wrapped_model_stays_frozen_and_in_eval_mode():
    model = ModelWrapper(small_cnn())
    WAM(model, variant="integratedgrad", nb_steps=2, grid_size=4)(image())
    assert not model.training and not model.network.training
    assert not any(p.requires_grad or p.grad is not None for p in model.parameters())


def test_works_under_inference_mode_and_no_grad():
    model, x = small_cnn(), image()
    [plain] = WAM(model, variant="gradient", grid_size=4)(x)
    with torch.inference_mode():
        [inf] = WAM(model, variant="gradient", grid_size=4)(x)
    with torch.no_grad():
        [nog] = WAM(model, variant="gradient", grid_size=4)(x)
    np.testing.assert_array_equal(plain.attributions, inf.attributions)
    np.testing.assert_array_equal(plain.attributions, nog.attributions)


# -- batching ----------------------------------------------------------------
@pytest.mark.parametrize("variant,count,expected", [
    ("gradient", 1, [1, 1]),
    ("smoothgrad", 10, [1, 4, 4, 2]),
    ("integratedgrad", 9, [1, 4, 4, 1]),
])
def test_no_forward_pass_holds_more_than_batch_size_images(variant, count, expected):
    # Memory of one call follows the batch size: first the clean image, then
    # the samples / path points batch_size at a time.
    model = Counting(small_cnn())
    explainer = WAM(model, variant=variant, nb_samples=count, nb_steps=count,
                    batch_size=4, grid_size=4)
    model.sizes.clear()  # wrapping a bare network checks its output once (models.as_wrapper)
    explainer(image(batch=2))
    assert model.sizes == expected * 2
    assert explainer.nb_forward == count == sum(expected) - 1


def test_batch_size_does_not_change_the_result():
    model, x = small_cnn(), image()
    a = WAM(model, variant="integratedgrad", nb_steps=7, batch_size=2, grid_size=4)(x)[0]
    b = WAM(model, variant="integratedgrad", nb_steps=7, batch_size=16, grid_size=4)(x)[0]
    np.testing.assert_allclose(a.attributions, b.attributions, atol=1e-6, rtol=1e-5)


# -- results, API, errors -------------------------------------------------------
def test_explanation_saves_and_loads_with_its_signed_attributions(tmp_path):
    [e] = WAM(LowPassModel(), variant="smoothgrad", nb_samples=2, grid_size=4)(image(30, 27))
    assert isinstance(e, Explanation) and e.method == "wam"
    path = e.save(tmp_path / "one")
    back = Explanation.load(path)
    for name in ("indices", "map", "spatial", "attributions"):
        np.testing.assert_array_equal(getattr(back, name), getattr(e, name))
    assert back.attributions.shape == (3, 32, 32) and back.attributions.dtype == np.float32
    assert (back.target, back.predicted, back.score, back.settings) == (
        e.target, e.predicted, e.score, e.settings)
    assert [b.name for b in back.subbands][:2] == ["approximation", "horizontal"]
    assert not list(tmp_path.glob("*.tmp"))
    for key in ("variant", "nb_samples", "noise_level", "nb_steps", "seed", "grid_size",
                "levels", "wavelet", "nb_forward", "nb_backward", "image_size"):
        assert key in e.settings, key


def test_attribute_returns_the_pooled_indices_by_default():
    explainer = WAM(LowPassModel(), variant="gradient", grid_size=4)
    x = image(batch=2)
    out = explainer.attribute(x, target=1)
    es = explainer(x, targets=1)
    assert out.shape == (2, 4, 4) and out.dtype == torch.float32
    np.testing.assert_array_equal(out[1].numpy(), es[1].indices)
    assert explainer.attribute(x, target=1, output="attributions").shape == (2, 3, 32, 32)
    assert explainer.attribute(x, target=1, output="spatial").shape == (2, 32, 32)


def test_constant_model_gives_zero_attributions():
    [e] = WAM(ConstantModel(), variant="smoothgrad", nb_samples=2, grid_size=4)(image())
    np.testing.assert_array_equal(e.indices, 0)
    np.testing.assert_array_equal(e.attributions, 0)


def test_bad_arguments_raise_clear_errors():
    model = LowPassModel()
    with pytest.raises(ValueError, match="unknown WAM variant 'saliency'"):
        WAM(model, variant="saliency")
    with pytest.raises(ValueError, match="nb_steps must be an integer >= 2"):
        WAM(model, variant="integratedgrad", nb_steps=1)
    WAM(model, variant="integratedgrad", nb_steps=1, rule="midpoint")
    with pytest.raises(ValueError, match="unknown integration rule"):
        WAM(model, rule="simpson")
    with pytest.raises(ValueError, match="nb_samples"):
        WAM(model, nb_samples=0)
    with pytest.raises(ValueError, match="noise_level"):
        WAM(model, noise_level=-0.1)
    with pytest.raises(ValueError, match="batch_size"):
        WAM(model, batch_size=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        WAM(model, grid_size=4)(image() * 255)
    with pytest.raises(ValueError, match="target 3 is outside the model's 3 classes"):
        WAM(model, grid_size=4)(image(), targets=3)
    with pytest.raises(ValueError, match="got 1 targets for 2 images"):
        WAM(model, grid_size=4)(image(batch=2), targets=[0])
    with pytest.raises(ValueError, match="unknown output"):
        WAM(model, grid_size=4).attribute(image(), output="nope")
