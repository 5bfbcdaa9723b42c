"""Size guards beyond decoding: the Sobol' design and the engine's batches (issue 9, item 7).

The guards on image files (pixels, aspect ratio, sides) are in test_data.py.
"""

import pytest
import torch

from spectral_attribution.attributions.sobol import engine, design as sobol
from spectral_attribution.attributions.fourier_cam import FourierCAM
from spectral_attribution.attributions.wcam import WCAM

from toys import LowPassModel


def test_a_grid_beyond_scipys_sobol_dimensions_names_the_grid_and_its_limit():
    # the explainer applies the parameter rule of the grid first (named, with its maximum) ...
    with pytest.raises(ValueError, match=r"grid_size 500 gives 2 x 250000 Sobol' dimensions, more "
                                         r"than the 21201 SciPy supports; the maximum grid_size is 102"):
        WCAM(LowPassModel(), grid_size=500, nb_design=2)
    # ... and the design itself refuses any d beyond SciPy's dimensions
    with pytest.raises(ValueError, match=r"d = 250,000 inputs \(e\.g\. a 500 x 500 grid\).*"
                                         r"at most 21,201 dimensions.*at most 102 x 102 cells"):
        sobol.SobolDesign.create(250_000, 2)
    sobol.SobolDesign.create(sobol.MAX_DIM, 2)              # the largest design SciPy draws
    with pytest.raises(ValueError, match="d <= 10,600"):
        sobol.SobolDesign.create(sobol.MAX_DIM + 1, 2)
    FourierCAM(LowPassModel(), grid_size=500, nb_design=2, family="circle")  # 500 rings: fine


def test_a_design_too_large_for_memory_is_refused_before_drawing():
    # 2 * 2^20 * 784 * 4 bytes = 6.1 GiB for A and B
    with pytest.raises(ValueError, match=r"n = 1,048,576 base points and d = 784 inputs needs "
                                         r"6\.1 GiB .* limit is 2\.0 GiB"):
        sobol.SobolDesign.create(784, 2 ** 20)


def test_engine_refuses_images_whose_batches_exceed_the_memory_bound(monkeypatch):
    monkeypatch.setattr(engine, "MAX_BATCH_BYTES", 1024 ** 2)   # 1 MiB for the test
    x = torch.rand(1, 3, 60, 60)                                 # padded to 64 x 64 for J = 3
    big = WCAM(LowPassModel(), grid_size=8, nb_design=2, levels=3, batch_size=64)  # 132 passes
    # (64 + 2) * 3 * 64 * 64 * 4 bytes = 3.1 MiB
    with pytest.raises(ValueError, match=r"images of 3 x 60 x 60 need 3\.1 MiB .*64 per batch \+ 2 "
                                         r"cached, float32, layout 64 x 64\); the limit is 1\.0 MiB"):
        big(x, targets=0)
    small = WCAM(LowPassModel(), grid_size=2, nb_design=2, levels=3, batch_size=8)
    # (8 + 2) * 3 * 64 * 64 * 4 = 480 KiB: inside the bound
    [e] = small(x, targets=0)
    assert e.indices.shape == (2, 2)


# --------------------------------------------------------------------------
# In-memory images: the guard sits in Preprocessing.to_tensor (issue 22 §3)
# --------------------------------------------------------------------------
@pytest.mark.parametrize("make, match", [
    (lambda: __import__("PIL.Image").Image.new("RGB", (20000, 1)), r"20000 x 1 pixels: a side is shorter"),
    (lambda: __import__("PIL.Image").Image.new("RGB", (6000, 40)), r"aspect ratio 150:1 exceeds the limit of 50:1 \(256 x 38,400 after resizing\)"),
    (lambda: __import__("numpy").zeros((3, 9000, 3), dtype="uint8"), r"9000 x 3 pixels: aspect ratio 3,000:1"),
    (lambda: __import__("torch").zeros(3, 2, 4000), r"4000 x 2 pixels: aspect ratio 2,000:1"),
    (lambda: __import__("torch").zeros(3, 10000, 10000, dtype=__import__("torch").uint8), r"100,000,000 pixels\): more than the limit"),
])
def test_in_memory_images_are_checked_before_any_allocation(make, match):
    from spectral_attribution.models import InputSizeError, Preprocessing

    image = make()
    with pytest.raises(InputSizeError, match=match):
        Preprocessing().to_tensor(image)


def test_ordinary_in_memory_images_still_pass():
    import numpy as np
    from PIL import Image

    from spectral_attribution.models import Preprocessing

    for image in (Image.new("RGB", (300, 200)), np.zeros((200, 300, 3), np.uint8)):
        assert Preprocessing().to_tensor(image).shape == (3, 224, 224)


@pytest.mark.parametrize("grid_size, batch_size, used", [(2, 100_000, 12), (2, 13, 12), (4, 100_000, 36)])
def test_memory_check_is_sized_on_the_batch_actually_used(monkeypatch, grid_size, batch_size, used):
    # n (d + 2) forward passes per image: 2 (4 + 2) = 12 for a 2 x 2 grid, 2 (16 + 2) = 36 for 4 x 4
    monkeypatch.setattr(engine, "MAX_BATCH_BYTES", (used + 2) * 3 * 64 * 64 * 4)  # exactly enough
    x = torch.rand(1, 3, 64, 64)
    explainer = WCAM(LowPassModel(), grid_size=grid_size, nb_design=2, levels=3, batch_size=batch_size)
    [e] = explainer(x, targets=0)
    assert e.indices.shape == (grid_size, grid_size)
    monkeypatch.setattr(engine, "MAX_BATCH_BYTES", (used + 2) * 3 * 64 * 64 * 4 - 1)
    with pytest.raises(ValueError, match=rf"\({used} per batch \+ 2 cached"):
        explainer(x, targets=0)
