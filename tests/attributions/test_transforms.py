"""Wavelet and Fourier transforms: PyWavelets agreement, exact round trips, masks."""

import warnings

import numpy as np
import pytest
import pywt
import torch

from spectral_attribution.attributions.transforms import (
    WaveletTransform,
    centred_spectrum,
    inverse_centred_spectrum,
    ring_index,
    upsample_masks,
)

WAVELETS = ["haar", "db2", "sym4", "bior2.2", "coif1"]
SIZES = [(32, 32), (13, 9), (37, 50), (224, 224)]


@pytest.mark.parametrize("wavelet", WAVELETS)
@pytest.mark.parametrize("levels", [1, 3])
@pytest.mark.parametrize("size", SIZES)
def test_round_trip_is_exact(wavelet, levels, size):
    t = WaveletTransform(wavelet, levels, check_depth=False)  # exact even where pywt warns
    x = torch.rand(2, 3, *size, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    layout = t.forward(x)
    assert layout.shape[-2:] == t.layout_shape(*size)
    torch.testing.assert_close(t.inverse(layout, size), x, atol=1e-10, rtol=0)


@pytest.mark.parametrize("wavelet", WAVELETS)
@pytest.mark.parametrize("size", [(32, 32), (37, 50)])
def test_layout_matches_pywavelets_coeffs_to_array(wavelet, size):
    t = WaveletTransform(wavelet, 3, check_depth=False)  # as pywt, which warns "level too high"
    x = torch.rand(1, 1, *size, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    padded = t._pad(x)[0, 0].numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pywt: "level too high" for tiny images
        expected, _ = pywt.coeffs_to_array(pywt.wavedec2(padded, wavelet, level=3, mode="symmetric"))
    np.testing.assert_allclose(t.forward(x)[0, 0].numpy(), expected, atol=1e-12)


def test_haar_subbands_follow_the_dyadic_layout():
    bands = WaveletTransform("haar", 3).subbands(224, 224)
    assert [(b.name, b.level) for b in bands[:4]] == [
        ("approximation", 3), ("horizontal", 3), ("vertical", 3), ("diagonal", 3)]
    approx, h3, v3, d3 = bands[:4]
    assert approx.rows == approx.cols == (0, 28)
    assert h3.rows == (28, 56) and h3.cols == (0, 28)      # bottom-left
    assert v3.rows == (0, 28) and v3.cols == (28, 56)      # top-right
    assert d3.rows == (28, 56) and d3.cols == (28, 56)     # bottom-right
    assert bands[-1].rows == (112, 224) and bands[-1].cols == (112, 224)
    assert sum(b.size for b in bands) == 224 * 224


def test_odd_sizes_are_padded_to_multiples_of_two_to_the_levels():
    t = WaveletTransform("haar", 3)
    assert t.padded_shape(225, 300) == (232, 304)
    assert t.layout_shape(225, 300) == (232, 304)
    assert t.padded_shape(224, 224) == (224, 224)


@pytest.mark.parametrize("wavelet", ["haar", "db2"])
def test_all_ones_mask_leaves_the_image_unchanged(wavelet):
    t = WaveletTransform(wavelet, 3)
    x = torch.rand(1, 3, 37, 50)
    layout = t.forward(x)
    mask = upsample_masks(torch.ones(1, 28, 28), layout.shape[-2:])
    torch.testing.assert_close(t.inverse(layout * mask, (37, 50)), x, atol=1e-5, rtol=0)


def approximation_only(t: WaveletTransform, x: torch.Tensor) -> torch.Tensor:
    """Inverse transform of ``x``'s approximation coefficients alone."""
    layout = t.forward(x)
    keep = torch.zeros_like(layout)
    approx = t.subbands(*x.shape[-2:])[0]
    keep[..., approx.slices[0], approx.slices[1]] = 1
    return t.inverse(layout * keep, x.shape[-2:])


def test_approximation_only_gives_the_haar_low_pass_image():
    x = torch.rand(1, 3, 64, 48, dtype=torch.float64)
    low = approximation_only(WaveletTransform("haar", 3), x)
    # The 3-level Haar low-pass image is the mean over 8 x 8 blocks.
    block_means = torch.nn.functional.avg_pool2d(x, 8)
    torch.testing.assert_close(low, block_means.repeat_interleave(8, -2).repeat_interleave(8, -1))


def test_approximation_only_matches_pywavelets_for_other_wavelets():
    x = torch.rand(1, 1, 32, 32, dtype=torch.float64)
    coeffs = pywt.wavedec2(x[0, 0].numpy(), "db2", level=2, mode="symmetric")
    coeffs = [coeffs[0]] + [tuple(np.zeros_like(c) for c in level) for level in coeffs[1:]]
    expected = pywt.waverec2(coeffs, "db2", mode="symmetric")[:32, :32]
    low = approximation_only(WaveletTransform("db2", 2), x)
    np.testing.assert_allclose(low[0, 0].numpy(), expected, atol=1e-10)


def test_bad_wavelet_and_levels_raise():
    with pytest.raises(ValueError, match="'morl'"):
        WaveletTransform("morl")
    with pytest.raises(ValueError, match="levels"):
        WaveletTransform("haar", 0)


def test_nearest_upsampling_repeats_cells():
    masks = torch.arange(4.0).view(1, 2, 2)
    up = upsample_masks(masks, (4, 6))
    assert up.shape == (1, 1, 4, 6)
    assert up[0, 0, 0].tolist() == [0, 0, 0, 1, 1, 1]
    assert up[0, 0, 3].tolist() == [2, 2, 2, 3, 3, 3]


def test_fourier_round_trip_keeps_the_sign():
    x = torch.randn(2, 3, 15, 20, dtype=torch.float64)
    torch.testing.assert_close(inverse_centred_spectrum(centred_spectrum(x)), x)


@pytest.mark.parametrize("family", ["square", "circle"])
def test_rings_start_at_zero_frequency_and_cover_every_ring(family):
    rings = ring_index(33, 40, 6, family)
    assert rings.shape == (33, 40)
    assert rings[16, 20] == 0          # fftshift's zero frequency
    assert set(rings.unique().tolist()) == set(range(6))
    assert rings[0, 0] == 5            # the corner is in the outer ring
    with pytest.raises(ValueError, match="triangle"):
        ring_index(8, 8, 2, "triangle")
