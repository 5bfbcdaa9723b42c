"""ONNX models (``onnx:<path>``): loading, preprocessing, batching, safety, agreement with PyTorch."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from spectral_attribution import models as M
from spectral_attribution.models import CheckpointError, UnsupportedModelError
from spectral_attribution.models.sources import onnx_file

SIDE, K = 8, 5
PRE = {"resize": None, "crop": SIDE, "mean": [0.5, 0.4, 0.3], "std": [0.2, 0.25, 0.3]}


def linear_graph(path, batch="N", seed=0, metadata=None) -> tuple[np.ndarray, np.ndarray]:
    """A logistic-regression classifier written with onnx.helper (not exported from PyTorch):
    Flatten -> MatMul W (3 SIDE^2, K) -> Add b. Returns (W, b)."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(3 * SIDE * SIDE, K)).astype(np.float32) / 8
    b = rng.normal(size=(K,)).astype(np.float32)
    nodes = [helper.make_node("Flatten", ["image"], ["flat"], axis=1),
             helper.make_node("MatMul", ["flat", "W"], ["mm"]),
             helper.make_node("Add", ["mm", "b"], ["logits"])]
    graph = helper.make_graph(
        nodes, "linear",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [batch, 3, SIDE, SIDE])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, K])],
        initializer=[numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return w, b


def expected_logits(x: torch.Tensor, w, b, pre=PRE) -> np.ndarray:
    mean = np.array(pre["mean"], dtype=np.float64).reshape(1, 3, 1, 1)
    std = np.array(pre["std"], dtype=np.float64).reshape(1, 3, 1, 1)
    z = (x.double().numpy() - mean) / std
    return z.reshape(len(z), -1) @ w.astype(np.float64) + b


def test_helper_graph_gives_its_logits_with_metadata_preprocessing(tmp_path):
    path = tmp_path / "linear.onnx"
    w, b = linear_graph(path, metadata={onnx_file.PREPROCESSING_KEY: json.dumps(PRE)})
    model = M.load_model(f"onnx:{path}")
    assert model.preprocessing == M.Preprocessing(None, SIDE, (0.5, 0.4, 0.3), (0.2, 0.25, 0.3))
    assert model.network.batch is None and model.network.input_name == "image"
    x = torch.rand(7, 3, SIDE, SIDE, generator=torch.Generator().manual_seed(1))
    np.testing.assert_allclose(model(x).numpy(), expected_logits(x, w, b), atol=1e-5)
    assert model.checked_output == (1, K)


def test_argument_preprocessing_wins_and_missing_one_is_refused(tmp_path):
    path = tmp_path / "linear.onnx"
    w, b = linear_graph(path)
    with pytest.raises(ValueError, match=r"no preprocessing: pass preprocessing=.*"
                                         r"'spectral_attribution\.preprocessing'"):
        M.load_model(f"onnx:{path}")
    with pytest.raises(ValueError, match=r"missing keys \['mean', 'std'\]"):
        M.load_model(f"onnx:{path}", preprocessing={"resize": None, "crop": SIDE})
    with pytest.raises(ValueError, match=r"graph takes 8 x 8 images but the preprocessing crops 224"):
        M.load_model(f"onnx:{path}", preprocessing={**PRE, "crop": 224})
    model = M.load_model(f"onnx:{path}", preprocessing=PRE)
    x = torch.rand(2, 3, SIDE, SIDE)
    np.testing.assert_allclose(model(x).numpy(), expected_logits(x, w, b), atol=1e-5)
    # written into the file, then read back from it
    onnx_file.write_preprocessing(path, PRE)
    assert M.load_model(f"onnx:{path}").preprocessing == model.preprocessing


@pytest.mark.parametrize("n", [1, 3, 4, 9])
def test_fixed_batch_graph_is_chunked_and_padded(tmp_path, n):
    path = tmp_path / "fixed.onnx"
    w, b = linear_graph(path, batch=4)
    model = M.load_model(f"onnx:{path}", preprocessing=PRE)
    assert model.network.batch == 4
    x = torch.rand(n, 3, SIDE, SIDE, generator=torch.Generator().manual_seed(n))
    np.testing.assert_allclose(model(x).numpy(), expected_logits(x, w, b), atol=1e-5)


@pytest.mark.parametrize("content, what", [
    (b"", "an empty file"),
    (b"<!DOCTYPE html><html><head><title>Quota exceeded</title></head><body></body></html>",
     "an HTML page titled 'Quota exceeded'"),
    (b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n", "a Git LFS pointer"),
])
def test_files_that_are_not_onnx_are_refused_in_one_line(tmp_path, content, what):
    path = tmp_path / "model.onnx"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=f"{path} is not an ONNX model: it is {what}") as err:
        M.load_model(f"onnx:{path}", preprocessing=PRE)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_truncated_onnx_file_is_refused(tmp_path, keep):
    path = tmp_path / "linear.onnx"
    linear_graph(path)
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(CheckpointError, match=r"(protobuf can read|empty graph|ONNX Runtime cannot load)"):
        M.load_model(f"onnx:{path}", preprocessing=PRE)


def test_size_guard_refuses_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "linear.onnx"
    linear_graph(path)
    monkeypatch.setenv("SPECTRAL_ATTRIBUTION_MAX_ONNX_BYTES", "1000")
    with pytest.raises(CheckpointError, match=r"more than the 0 MiB allowed.*SPECTRAL_ATTRIBUTION_MAX_ONNX_BYTES"):
        M.load_model(f"onnx:{path}", preprocessing=PRE)
    monkeypatch.setenv("SPECTRAL_ATTRIBUTION_MAX_ONNX_BYTES", "lots")
    with pytest.raises(ValueError, match="must be a positive integer, got 'lots'"):
        M.load_model(f"onnx:{path}", preprocessing=PRE)


def test_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="ONNX model not found: .*nowhere.onnx"):
        M.load_model(f"onnx:{tmp_path / 'nowhere.onnx'}", preprocessing=PRE)


def test_gradients_come_from_onnx2torch(tmp_path):
    path = tmp_path / "linear.onnx"
    w, _ = linear_graph(path)
    model = M.load_model(f"onnx:{path}", preprocessing=PRE)
    x = torch.rand(2, 3, SIDE, SIDE).requires_grad_(True)
    model.network(model.normalise(x))[:, 2].sum().backward()
    # d logit_2 / d x = W[:, 2] / std, per channel
    std = torch.tensor(PRE["std"]).view(1, 3, 1, 1)
    want = torch.from_numpy(w[:, 2]).view(1, 3, SIDE, SIDE) / std
    torch.testing.assert_close(x.grad, want.expand(2, -1, -1, -1), atol=1e-5, rtol=1e-5)


def test_wcam_and_wam_agree_between_onnx_and_pytorch_on_a_helper_graph(tmp_path):
    from spectral_attribution.attributions.wcam import WCAM
    from spectral_attribution.attributions.wam import WAM

    path = tmp_path / "linear.onnx"
    w, b = linear_graph(path)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * SIDE * SIDE, K))
    with torch.no_grad():
        net[1].weight.copy_(torch.from_numpy(w.T))
        net[1].bias.copy_(torch.from_numpy(b))
    pre = M.Preprocessing(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in PRE.items()})
    torch_model = M.ModelWrapper(net, pre)
    onnx_model = M.load_model(f"onnx:{path}", preprocessing=pre)
    x = torch.rand(1, 3, SIDE, SIDE, generator=torch.Generator().manual_seed(3))
    kw = dict(grid_size=4, nb_design=4, levels=2, progress=False)
    [a] = WCAM(torch_model, backend="eager", **kw)(x, 1)
    [o] = WCAM(onnx_model, **kw)(x, 1)
    np.testing.assert_allclose(o.map, a.map, atol=1e-4)
    assert float(np.abs(a.map).max()) > 1e-3
    [ga] = WAM(torch_model, variant="gradient", grid_size=SIDE, levels=2)(x, targets=1)
    [go] = WAM(onnx_model, variant="gradient", grid_size=SIDE, levels=2)(x, targets=1)
    np.testing.assert_allclose(go.map, ga.map, atol=1e-4)
    assert float(np.abs(ga.map).max()) > 1e-3  # a real, non-zero gradient map


def test_backends_run_an_onnx_model_as_it_is(tmp_path):
    from spectral_attribution.models import backends

    path = tmp_path / "linear.onnx"
    linear_graph(path)
    model = M.load_model(f"onnx:{path}", preprocessing=PRE)
    forward = backends.make_forward(model, "auto", "auto")
    x = torch.rand(3, 3, SIDE, SIDE)
    torch.testing.assert_close(forward(x), model(x))
    assert forward.settings()["backend"] == "onnxruntime" and forward.precision == "float32"
    with pytest.raises(ValueError, match="backend 'openvino' cannot run an ONNX model"):
        backends.make_forward(model, "openvino")
    with pytest.raises(ValueError, match="runs in float32 through onnxruntime"):
        backends.make_forward(model, "auto", "bfloat16")
    assert M.weights_sha256(model) == __import__("hashlib").sha256(path.read_bytes()).hexdigest()


def test_unsupported_graphs_are_refused_naming_why(tmp_path):
    path = tmp_path / "nhwc.onnx"
    graph = helper.make_graph(
        [helper.make_node("Identity", ["image"], ["logits"])], "nhwc",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", SIDE, SIDE, 3])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", SIDE, SIDE, 3])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    with pytest.raises(UnsupportedModelError, match=r"shape \['\?', 8, 8, 3\]; expected \(N, 3, H, W\)"):
        M.load_model(f"onnx:{path}", preprocessing=PRE)


@pytest.mark.slow  # an export and two WCAMs of EfficientNet-Lite0: about 30 s on two idle cores
def test_default_model_exported_gives_the_same_wcam(tmp_path):
    from spectral_attribution.attributions.wcam import WCAM

    model = M.load_model("efficientnet-lite0")
    path = tmp_path / "lite0.onnx"
    torch.onnx.export(model.network, (torch.rand(1, 3, 224, 224),), str(path), dynamo=False,
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}})
    onnx_file.write_preprocessing(path, model.preprocessing)
    converted = M.load_model(f"onnx:{path}")
    assert converted.preprocessing == model.preprocessing
    x = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(converted(x), model(x), atol=1e-4, rtol=0)
    kw = dict(grid_size=4, nb_design=4, levels=2, progress=False, batch_size=36)
    [a] = WCAM(model, backend="eager", **kw)(x, 3)
    [o] = WCAM(converted, **kw)(x, 3)
    scale = float(np.abs(a.map).max())
    assert scale > 0
    np.testing.assert_allclose(o.map / scale, a.map / scale, atol=1e-4)
