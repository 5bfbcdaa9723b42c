"""Model registry: every source loads from local files with the network blocked."""

from __future__ import annotations

import hashlib
import socket
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision.models as tvm

from spectral_attribution import models as M
from spectral_attribution.models import registry
from spectral_attribution.models.sources import robustbench as RB
from spectral_attribution.models.sources import torchvision as TV
from spectral_attribution.models import CheckpointMismatchError, Preprocessing


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------
@pytest.fixture
def no_network(monkeypatch):
    """Any connection or name lookup other than loopback fails, as on an offline machine."""
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise OSError(f"network blocked in tests ({address})")
        return real_connect(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise socket.gaierror(f"network blocked in tests ({host})")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection",
                        lambda address, *a, **k: (_ for _ in ()).throw(OSError(f"network blocked ({address})")))


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    assert Path(torch.hub.get_dir()) == tmp_path / "torch" / "hub"
    return tmp_path / "torch" / "hub" / "checkpoints"


@pytest.fixture(scope="module")
def resnet50_state():
    torch.manual_seed(1)
    return tvm.resnet50().state_dict()


def publish(monkeypatch, path: Path) -> None:
    """Make ``path`` (a hub-cache file a test wrote) pass the published SHA-256 prefix check."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    real = TV._published_sha256
    monkeypatch.setattr(TV, "_published_sha256",
                        lambda w: digest[:8] if w.url.endswith("/" + path.name) else real(w))


def _state_hash(state) -> str:
    net = tvm.resnet50() if "layer4.2.conv3.weight" in state else tvm.resnet18()
    net.load_state_dict(state)
    return M.weights_sha256(net)


# --------------------------------------------------------------------------
# torchvision
# --------------------------------------------------------------------------
def test_torchvision_loads_from_hub_cache_offline(torch_home, no_network, monkeypatch):
    torch.manual_seed(0)
    net = tvm.resnet18()
    torch_home.mkdir(parents=True)
    path = torch_home / "resnet18-f37072fd.pth"
    torch.save(net.state_dict(), path)
    publish(monkeypatch, path)
    assert M.torchvision_checkpoint_path("resnet18") == path
    w = M.load_model("resnet18")
    assert M.weights_sha256(w) == M.weights_sha256(net)
    assert w.source == str(path) and w.name == "resnet18"
    assert not w.training and not w.network.training
    assert all(not p.requires_grad for p in w.parameters())
    assert w.preprocessing == Preprocessing(256, 224, M.IMAGENET_MEAN, M.IMAGENET_STD, "bilinear")
    x = torch.rand(2, 3, 64, 80)
    with torch.no_grad():
        expected = net.eval()((x - torch.tensor(M.IMAGENET_MEAN).view(1, 3, 1, 1))
                              / torch.tensor(M.IMAGENET_STD).view(1, 3, 1, 1))
    torch.testing.assert_close(w(x), expected)
    with pytest.raises(RuntimeError, match="inference-only"):
        w.train()
    entry = {r["name"]: r for r in M.list_models()}["resnet18"]
    assert entry["available"] and entry["checkpoint"] == str(path)


def test_torchvision_missing_checkpoint_names_path_and_url(torch_home, no_network):
    with pytest.raises(FileNotFoundError) as info:
        M.load_model("resnet18")
    msg = str(info.value)
    assert str(torch_home / "resnet18-f37072fd.pth") in msg
    assert "https://download.pytorch.org/models/resnet18-f37072fd.pth" in msg


def test_torchvision_preprocessing_from_weights_meta():
    spec = M.REGISTRY["resnet50"]  # DEFAULT = IMAGENET1K_V2: resize 232
    assert (spec.preprocessing.resize, spec.preprocessing.crop) == (232, 224)
    assert spec.options == {"arch": "resnet50", "weights": "IMAGENET1K_V2"}
    v1 = registry._dynamic_spec("torchvision:resnet50:IMAGENET1K_V1")
    assert (v1.preprocessing.resize, v1.preprocessing.crop) == (256, 224)
    assert M.REGISTRY["efficientnet_b0"].preprocessing.interpolation == "bicubic"
    assert M.REGISTRY["vit_b_16"].preprocessing == Preprocessing(256, 224, M.IMAGENET_MEAN, M.IMAGENET_STD)
    for name in ("resnet50", "vit_b_16", "vgg16", "mobilenet_v2", "efficientnet_b0"):
        assert name in M.REGISTRY
    with pytest.raises(KeyError, match="IMAGENET1K_V9"):
        registry._dynamic_spec("torchvision:resnet50:IMAGENET1K_V9")


# --------------------------------------------------------------------------
# RobustBench
# --------------------------------------------------------------------------
def test_robustbench_checkpoint_in_model_dir_offline(tmp_path, no_network, resnet50_state):
    path = tmp_path / "imagenet" / "corruptions" / "Hendrycks2020AugMix.pt"
    path.parent.mkdir(parents=True)
    # as published: a 'state_dict' with DataParallel prefixes and no normaliser buffers
    torch.save({"state_dict": {f"module.{k}": v for k, v in resnet50_state.items()}, "epoch": 90}, path)
    w = M.load_model("robustbench:corruptions:Hendrycks2020AugMix", model_dir=tmp_path)
    assert sys.modules["autoattack"].__name__ == "pyautoattack"  # the documented alias
    assert w.source == str(path) and w.mean is None  # the network normalises inside
    assert w.preprocessing == Preprocessing(256, 224, None, None, "bilinear")
    assert M.weights_sha256(w.network.model) == _state_hash(resnet50_state)
    inner = tvm.resnet50()
    inner.load_state_dict(resnet50_state)
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        expected = inner.eval()((x - torch.tensor(M.IMAGENET_MEAN).view(1, 3, 1, 1))
                                / torch.tensor(M.IMAGENET_STD).view(1, 3, 1, 1))
    torch.testing.assert_close(w(x), expected, rtol=1e-4, atol=1e-4)
    assert not w.training and not w.network.training


def test_robustbench_missing_checkpoint_offline(tmp_path, no_network):
    with pytest.raises(FileNotFoundError) as info:
        M.load_model("robustbench:Linf:Salman2020Do_R50", model_dir=tmp_path)
    msg = str(info.value)
    assert str(tmp_path / "imagenet" / "Linf" / "Salman2020Do_R50.pt") in msg
    assert "drive.google.com" in msg
    assert not (tmp_path / "imagenet" / "Linf" / "Salman2020Do_R50.pt").exists()


def test_robustbench_standard_r50_uses_torchvision_v1(tmp_path, torch_home, no_network, resnet50_state,
                                                     monkeypatch):
    torch_home.mkdir(parents=True)
    torch.save(resnet50_state, torch_home / "resnet50-0676ba61.pth")
    publish(monkeypatch, torch_home / "resnet50-0676ba61.pth")
    w = M.load_model("robustbench:Linf:Standard_R50", model_dir=tmp_path / "empty")
    assert M.weights_sha256(w.network.model) == _state_hash(resnet50_state)
    assert w.source.endswith("resnet50-0676ba61.pth")


def test_robustbench_preprocessing_table():
    assert M.REGISTRY["robustbench:Linf:Wong2020Fast"].preprocessing == Preprocessing(None, 288, None, None)
    names = {n for n in M.REGISTRY if n.startswith("robustbench:")}
    assert names >= {"robustbench:Linf:Standard_R50", "robustbench:Linf:Engstrom2019Robustness",
                     "robustbench:Linf:Salman2020Do_R50", "robustbench:Linf:Wong2020Fast",
                     "robustbench:corruptions:Hendrycks2020AugMix", "robustbench:corruptions:Hendrycks2020Many",
                     "robustbench:corruptions:Geirhos2018_SIN", "robustbench:corruptions:Geirhos2018_SIN_IN",
                     "robustbench:corruptions:Geirhos2018_SIN_IN_IN"}
    # our table agrees with RobustBench's own
    model_dicts, Dataset, Threat, *_ = RB._import_robustbench()
    for (threat, name), pre in M.ROBUSTBENCH_MODELS.items():
        assert model_dicts[Dataset.imagenet][Threat(threat)][name]["preprocessing"] == pre


# --------------------------------------------------------------------------
# Custom checkpoints
# --------------------------------------------------------------------------
def test_custom_checkpoint_strips_prefixes(tmp_path, no_network):
    torch.manual_seed(2)
    net = tvm.resnet18(num_classes=10)
    path = tmp_path / "mine.pth"
    torch.save({"model_state_dict": {f"module.model.{k}": v for k, v in net.state_dict().items()}}, path)
    w = M.load_model("custom:resnet18", checkpoint=path, num_classes=10,
                     preprocessing={"resize": 128, "crop": 112, "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]})
    assert M.weights_sha256(w) == M.weights_sha256(net)
    assert w.preprocessing.crop == 112 and w.preprocessing.mean == (0.5, 0.5, 0.5)
    assert w(torch.rand(1, 3, 40, 40)).shape == (1, 10)
    assert w.name == "custom:resnet18" and w.source == str(path)


def test_custom_checkpoint_strict_mismatch_names_file_and_keys(tmp_path):
    state = tvm.resnet18().state_dict()
    del state["layer1.0.conv1.weight"]
    state["extra.head.weight"] = torch.zeros(3)
    path = tmp_path / "broken.pt"
    torch.save(state, path)
    with pytest.raises(CheckpointMismatchError) as info:
        M.load_model("custom:resnet18", checkpoint=path)
    msg = str(info.value)
    assert str(path) in msg and "layer1.0.conv1.weight" in msg and "extra.head.weight" in msg
    # wrong number of classes: a shape mismatch, named with both shapes
    path10 = tmp_path / "ten.pt"
    torch.save(tvm.resnet18(num_classes=10).state_dict(), path10)
    with pytest.raises(CheckpointMismatchError, match=r"fc.weight: checkpoint \(10, 512\) vs model \(1000, 512\)"):
        M.load_model("custom:resnet18", checkpoint=path10)
    with pytest.raises(FileNotFoundError, match="nothere.pt"):
        M.load_model("custom:resnet18", checkpoint=tmp_path / "nothere.pt")
    with pytest.raises(ValueError, match="checkpoint="):
        M.load_model("custom:resnet18")
    with pytest.raises(KeyError, match="resnet7"):
        M.load_model("custom:resnet7", checkpoint=path)


def test_strip_prefixes():
    s = M.strip_prefixes({"module.model.a": 1, "model.b": 2, "_orig_mod.c": 3, "d.model.e": 4})
    assert s == {"a": 1, "b": 2, "c": 3, "d.model.e": 4}
    with pytest.raises(CheckpointMismatchError, match="collapse"):
        M.strip_prefixes({"module.a": 1, "a": 2})


# --------------------------------------------------------------------------
# Hashes, listing, names
# --------------------------------------------------------------------------
def test_weights_sha256(tmp_path):
    torch.manual_seed(3)
    net = tvm.resnet18()
    a = M.weights_sha256(net)
    assert a == M.weights_sha256(M.as_wrapper(net)) and len(a) == 64
    with torch.no_grad():
        net.fc.bias[0] += 1
    assert M.weights_sha256(net) != a
    f = tmp_path / "w.pt"
    torch.save(net.state_dict(), f)
    assert M.weights_sha256(f) == hashlib.sha256(f.read_bytes()).hexdigest()  # = sha256sum
    (tmp_path / "w.bin").write_bytes(b"abc")
    with pytest.raises(M.CheckpointError, match="w.bin is not a checkpoint: it is a text file"):
        M.weights_sha256(tmp_path / "w.bin")
    assert M.weights_sha256(net.to(torch.bfloat16)) != M.weights_sha256(net.float())  # dtype counts


def test_list_models_and_unknown_names():
    rows = M.list_models()
    names = [r["name"] for r in rows]
    assert names[0] == "efficientnet-lite0" and len(names) == len(set(names)) == len(M.REGISTRY)
    for r in rows:
        assert {"name", "family", "resize", "crop", "mean", "std", "interpolation", "weights",
                "checkpoint", "available", "description"} <= set(r)
    lite = rows[0]
    assert lite["available"] and lite["family"] == "embedded"
    rb = {r["name"]: r for r in rows}["robustbench:Linf:Wong2020Fast"]
    assert rb["mean"] is None and rb["crop"] == 288 and rb["checkpoint"].endswith("imagenet/Linf/Wong2020Fast.pt")
    with pytest.raises(KeyError, match="robustbench:<threat>:<Name>"):
        M.load_model("resnet-50")


def test_efficientnet_lite0_on_chelsea(tmp_path, no_network):
    from spectral_attribution.data import embedded_samples, load_image

    w = M.load_model("efficientnet-lite0")
    assert not w.training and not w.network.training
    table = embedded_samples(tmp_path)
    path = table.set_index("image_id").loc["chelsea", "path"]
    x = w.prepare(load_image(path))
    assert x.shape == (3, 224, 224) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    p = w(x[None]).softmax(-1)[0]
    top = p.topk(3).indices.tolist()
    assert top[0] == 282  # tiger cat, measured (p 0.379; Egyptian cat 0.376)
    assert set(top) == {281, 282, 285}  # tabby, tiger cat, Egyptian cat: the domestic cats
    assert w.class_name(281) == "tabby"
    assert M.weights_sha256(w) == M.weights_sha256(M.load_model("efficientnet-lite0"))


# --------------------------------------------------------------------------
# Network outputs that are not a logits tensor
# --------------------------------------------------------------------------
class _Logits(torch.nn.Module):
    """Logits ``(B, 3)`` = per-channel means, wrapped in ``form``; records how it was called."""

    def __init__(self, form=lambda z: z):
        super().__init__()
        self.form = form
        self.bn = torch.nn.BatchNorm2d(3)
        self.drop = torch.nn.Dropout(0.5)
        self.calls = []

    def forward(self, x):
        self.calls.append((tuple(x.shape), torch.is_inference_mode_enabled(), self.training))
        z = self.drop(self.bn(x)).mean(dim=(2, 3))
        return self.form(z)


class _HFLikeOutput(dict):
    """A dict subclass with attributes, like transformers' ModelOutput."""

    def __getattr__(self, name):
        return self[name]


class _WithLogits:
    def __init__(self, logits):
        self.logits, self.hidden = logits, None


@pytest.mark.parametrize("form", [
    lambda z: (z, z * 0 + 7),                              # (logits, aux)
    lambda z: [z, {"aux": z}],                             # list
    lambda z: {"aux": z + 1, "logits": z},                 # dict with logits
    lambda z: {"out": z, "aux": z - 1},                    # torchvision segmentation style
    lambda z: _HFLikeOutput(logits=z, loss=None),          # HuggingFace ModelOutput
    lambda z: _WithLogits(z),                              # any object with .logits
    lambda z: tvm.GoogLeNetOutputs(z, z + 1, z + 2),       # namedtuple with .logits
], ids=["tuple", "list", "dict-logits", "dict-out", "hf-output", "object", "googlenet-namedtuple"])
def test_wrapped_outputs_become_the_logits_tensor(form):
    torch.manual_seed(0)
    plain, wrapped = _Logits(), _Logits(form)
    wrapped.load_state_dict(plain.state_dict())
    w = M.as_wrapper(wrapped)
    assert w.checked_output == (1, 3)
    x = torch.rand(4, 3, 16, 16)
    out = w(x)
    assert isinstance(out, torch.Tensor) and out.shape == (4, 3)
    torch.testing.assert_close(out, M.as_wrapper(plain)(x))


@pytest.mark.parametrize("form,named", [
    (lambda z: z.argmax(1), r"Tensor of shape \(1,\) and dtype torch.int64"),
    (lambda z: z[..., None], r"Tensor of shape \(1, 3, 1\) and dtype torch.float32"),
    (lambda z: (z > 0), r"Tensor of shape \(1, 3\) and dtype torch.bool"),
    (lambda z: {"scores": z, "aux": z}, r"dict with keys \['scores', 'aux'\]"),
    (lambda z: ("cat", z), r"tuple of 2 \(builtins.str, Tensor of shape \(1, 3\)"),
    (lambda z: None, r"the network returned builtins.NoneType"),
    (lambda z: z.flatten(), r"Tensor of shape \(3,\)"),
], ids=["int", "3d", "bool", "dict", "tuple-str", "none", "1d"])
def test_other_outputs_are_refused_when_wrapped(form, named):
    with pytest.raises(M.ModelOutputError, match=named + r".*expected a \(N, K\) float tensor"):
        M.as_wrapper(_Logits(form))
    with pytest.raises(M.ModelOutputError, match=named):
        M.ModelWrapper(_Logits(form), Preprocessing(resize=None, crop=8, mean=None, std=None))


def test_output_check_is_one_cheap_pass_that_changes_nothing():
    net = _Logits(lambda z: (z, None))
    net.train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    w = M.ModelWrapper(net, Preprocessing(resize=None, crop=40, mean=None, std=None), name="toy")
    # one pass, batch 1 at the crop size, in inference mode, the network in eval mode
    assert net.calls == [((1, 3, 40, 40), True, False)]
    for k, v in net.state_dict().items():  # batch-norm statistics and counter untouched
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)
    assert not net.training and not net.bn.training and not net.drop.training
    assert M.as_wrapper(w) is w and len(net.calls) == 1  # a wrapper is not checked again
    M.ModelWrapper(net, check=False)
    assert len(net.calls) == 1
    M.as_wrapper(net)
    assert net.calls[-1][0] == (1, 3, 224, 224)  # no crop known: 224


def test_output_check_without_a_known_size_is_deferred_to_the_first_call():
    class FixedSize(torch.nn.Module):  # takes 5 x 5 images only, returns a tuple
        def forward(self, x):
            return (x.flatten(1) @ torch.ones(75, 2), "aux")

    w = M.as_wrapper(FixedSize())
    assert w.checked_output is None  # 224 x 224 does not fit: nothing refused yet
    torch.testing.assert_close(w(torch.ones(2, 3, 5, 5)), torch.full((2, 2), 75.0))
    # with the crop known, a network that cannot take it is refused at once
    with pytest.raises(M.ModelOutputError, match=r"fixed: the network fails on a \(1, 3, 8, 8\) input"):
        M.ModelWrapper(FixedSize(), Preprocessing(resize=None, crop=8, mean=None, std=None), name="fixed")


def test_every_caller_gets_the_logits_of_a_tuple_model():
    from spectral_attribution.attributions.wcam import WCAM

    from toys import LowPassModel

    class TupleLowPass(LowPassModel):
        def forward(self, x):
            return super().forward(x), {"features": x.mean()}

    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    [plain] = WCAM(LowPassModel(), grid_size=4, nb_design=4, levels=2)(x)
    [tupled] = WCAM(TupleLowPass(), grid_size=4, nb_design=4, levels=2)(x)
    np.testing.assert_array_equal(tupled.indices, plain.indices)
    assert tupled.predicted == plain.predicted


def test_load_model_checks_the_output(tmp_path):
    torch.manual_seed(2)
    path = tmp_path / "r18.pt"
    torch.save(tvm.resnet18(num_classes=10).state_dict(), path)
    w = M.load_model("custom:resnet18", checkpoint=path, num_classes=10,
                     preprocessing={"resize": 40, "crop": 32})
    assert w.checked_output == (1, 10)
