"""timm models (``timm:<name>``): timm's data config, weights from the local caches only."""

from __future__ import annotations

import math

import pytest
import torch

pytest.importorskip("timm")
import timm  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

from spectral_attribution import models as M  # noqa: E402
from spectral_attribution.models import CheckpointError  # noqa: E402

from test_models import no_network  # noqa: F401,E402  (fixture)

NAME = "test_efficientnet.r160_in1k"  # timm's own tiny test model (about 0.4 M parameters)


@pytest.fixture
def hf_cache(tmp_path, monkeypatch):
    cache = tmp_path / "hf"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return cache


def write_standin(cache, name=NAME, seed=0, filename="model.safetensors", content=None):
    """Random weights of ``name`` where huggingface_hub keeps ``timm/<name>``'s file."""
    torch.manual_seed(seed)
    net = timm.create_model(name, pretrained=False)
    repo = cache / f"models--timm--{name}"
    snapshot = repo / "snapshots" / "0123456789abcdef"
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123456789abcdef")
    path = snapshot / filename
    if content is not None:
        path.write_bytes(content)
    elif filename.endswith(".safetensors"):
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    else:
        torch.save(net.state_dict(), path)
    return net.eval(), path


@pytest.mark.parametrize("filename", ["model.safetensors", "pytorch_model.bin"])
def test_standin_weights_load_from_the_hf_cache_offline(hf_cache, no_network, filename):
    net, path = write_standin(hf_cache, filename=filename)
    model = M.load_model(f"timm:{NAME}")
    assert model.source == str(path) and model.name == f"timm:{NAME}"
    x = torch.rand(2, 3, 160, 160, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        want = net(model.normalise(x))
    torch.testing.assert_close(model(x), want)
    assert M.weights_sha256(model) == M.weights_sha256(net)


def test_preprocessing_is_timms_data_config(hf_cache):
    cfg = timm.data.resolve_model_data_config(timm.create_model(NAME, pretrained=False))
    write_standin(hf_cache)
    pre = M.load_model(f"timm:{NAME}").preprocessing
    crop = cfg["input_size"][-1]
    assert pre == M.Preprocessing(resize=math.floor(crop / cfg["crop_pct"]), crop=crop,
                                  mean=tuple(cfg["mean"]), std=tuple(cfg["std"]),
                                  interpolation=cfg["interpolation"])
    assert (pre.resize, pre.crop) == (182, 160)  # floor(160 / 0.875), as timm computes it


def test_missing_weights_name_the_cache_paths(hf_cache, no_network):
    with pytest.raises(FileNotFoundError, match=rf"timm:{NAME}: weights not found in the local "
                                                rf"caches: .*models--timm--{NAME}/snapshots/"
                                                rf"<revision>/model\.safetensors .*huggingface\.co"):
        M.load_model(f"timm:{NAME}")
    with pytest.raises(FileNotFoundError, match="download disabled"):
        M.load_model(f"timm:{NAME}", download=False)


def test_html_page_in_the_cache_is_refused(hf_cache):
    write_standin(hf_cache, content=b"<html><head><title>Error 429</title></head></html>")
    with pytest.raises(CheckpointError, match=r"is not a checkpoint: it is an HTML page titled 'Error 429'"):
        M.load_model(f"timm:{NAME}")


def test_unknown_timm_name_is_one_line():
    with pytest.raises(KeyError, match="timm has no model 'no_such_net'"):
        M.load_model("timm:no_such_net")
