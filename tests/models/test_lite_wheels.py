"""EfficientNet-Lite1 and Lite2 from their PyPI wheels: offline, verified, TensorFlow's preprocessing."""

from __future__ import annotations

import hashlib
import pathlib

import pytest
import torch

from spectral_attribution import models as M
from spectral_attribution.models.sources import wheel as W

from test_models import no_network  # noqa: F401  (fixture)

TF_MEAN, TF_STD = (127 / 255,) * 3, (128 / 255,) * 3


@pytest.mark.parametrize("name, crop, params", [("efficientnet-lite1", 240, 5_416_680),
                                                ("efficientnet-lite2", 260, 6_092_072)])
def test_lite_wheel_loads_offline_with_tensorflow_preprocessing(no_network, tmp_path, name, crop, params):
    from spectral_attribution.data import embedded_samples, load_image

    model = M.load_model(name)
    assert model.preprocessing == M.Preprocessing(crop + 32, crop, TF_MEAN, TF_STD, "bilinear")
    assert sum(p.numel() for p in model.network.parameters()) == params
    path = W._wheel_path(name)
    assert model.source == path
    # the file is the one the wheel's RECORD lists
    distribution = W.LITE_WHEELS[name][0]
    assert W._wheel_sha256(distribution, path) == hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()
    # (x - 127/255) / (128/255) == (255 x - 127) / 128, TensorFlow's EfficientNet-Lite input
    x = torch.rand(1, 3, crop, crop, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(model.normalise(x), (255 * x - 127) / 128, atol=1e-5, rtol=0)
    table = embedded_samples(tmp_path)
    image = model.prepare(load_image(table.set_index("image_id").loc["chelsea", "path"]))
    assert image.shape == (3, crop, crop)
    top = model(image[None])[0].topk(3).indices.tolist()
    assert top[0] in (281, 282, 285)  # a domestic cat (tabby, tiger cat, Egyptian cat)


def test_lite_wheels_are_listed_with_their_files():
    rows = {r["name"]: r for r in M.list_models()}
    for name, crop in (("efficientnet-lite1", 240), ("efficientnet-lite2", 260)):
        row = rows[name]
        assert row["family"] == "embedded" and row["crop"] == crop and row["resize"] == crop + 32
        assert row["available"] and row["checkpoint"] == W._wheel_path(name)
