"""Precision resolution and forward-pass backends: same logits and WCAMs as eager float32."""

import importlib.util
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from spectral_attribution.models import backends as bk
from spectral_attribution.attributions.wcam import WCAM
from spectral_attribution.models import load_model

from toys import LowPassModel, small_cnn

#: one worker builds the module's shared fixtures once (pytest-xdist, --dist loadgroup)
pytestmark = pytest.mark.xdist_group("backends-cache")

HAS = {name: importlib.util.find_spec(name) is not None for name in ("onnxruntime", "openvino")}


def needs(backend):
    """Skip marker for a backend whose package is not importable here."""
    if backend in HAS and not HAS[backend]:
        return pytest.mark.skip(reason=f"{backend} is not installed (a default dependency: pip install -e .)")
    return []


CPU_BACKENDS = [pytest.param(b, marks=needs(b)) for b in ("eager", "channels_last", "onnxruntime", "openvino")]


def images(n, side=32, seed=0):
    return torch.rand(n, 3, side, side, generator=torch.Generator().manual_seed(seed))


class Via(nn.Module):
    """A module whose forward is a BackendForward, to put one under an unchanged explainer."""

    def __init__(self, forward):
        super().__init__()
        self.fp = forward

    def forward(self, x):
        return self.fp(x)


@pytest.fixture(scope="module")
def default_model():
    return load_model("efficientnet-lite0")


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("backends-cache")


# -- precision -----------------------------------------------------------------
@pytest.mark.parametrize("native, expected", [(False, "float32"), (True, "bfloat16")])
def test_auto_precision_on_cpu_is_bfloat16_only_with_native_support(monkeypatch, native, expected):
    monkeypatch.setattr(bk, "cpu_has_native_bfloat16", lambda: native)
    assert bk.resolve_precision("auto", "cpu") == expected
    # The default never depends on the machine.
    assert bk.resolve_precision("float32", "cpu") == "float32"
    assert bk.resolve_precision(None, "cpu") == "float32"
    forward = bk.make_forward(small_cnn().eval(), "eager", "auto", cache=False)
    assert forward.settings()["precision"] == expected
    assert forward.settings()["precision_requested"] == "auto"
    assert bk.make_forward(small_cnn().eval(), "eager", cache=False).settings()["precision"] == "float32"


def test_explicit_reduced_precision_is_kept_and_unknown_modes_are_named():
    assert bk.resolve_precision("bfloat16", "cpu") == "bfloat16"
    assert bk.resolve_precision("float16", "cpu") == "float16"
    with pytest.raises(ValueError, match="'fp8'"):
        bk.resolve_precision("fp8", "cpu")


@pytest.mark.parametrize("flags, capability, onednn, expected", [
    (set(), "AVX512", True, False),                   # no AVX512-BF16 / AMX on the chip
    ({"avx2", "avx512_bf16"}, "AVX512", True, True),  # Cooper Lake and later
    ({"avx2", "amx_bf16"}, "AVX512", True, True),     # Sapphire Rapids and later
    ({"amx_bf16"}, "AVX2", True, False),              # ATEN_CPU_CAPABILITY=avx2
    ({"amx_bf16"}, "AVX512", False, False),           # ONEDNN_MAX_CPU_ISA=AVX2
])
def test_native_bfloat16_needs_the_chip_aten_and_onednn(monkeypatch, flags, capability, onednn, expected):
    monkeypatch.setattr(bk, "_hardware_flags", lambda: flags)
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: capability)
    monkeypatch.setattr(bk, "_onednn_bf16_supported", lambda: onednn)
    assert bk.cpu_has_native_bfloat16() is expected


def test_cpu_info_names_the_cpu_and_its_capability():
    info = bk.cpu_info()
    assert info["name"] and info["capability"] == torch.backends.cpu.get_cpu_capability()
    assert info["native_bfloat16"] == bk.cpu_has_native_bfloat16()


# -- agreement with eager ----------------------------------------------------------
@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_every_cpu_backend_gives_eager_logits_on_a_toy_model(backend, shared_cache):
    model = small_cnn().eval()
    x = images(6)
    with torch.inference_mode():
        reference = model(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error", bk.BackendFallbackWarning)  # a fallback fails the test
        forward = bk.make_forward(model, backend, cache=shared_cache)
        out = forward(x)
    assert forward.settings()["backend"] == backend
    assert out.dtype == torch.float32 and out.shape == (6, 10)
    assert (out - reference).abs().max() <= bk.TOLERANCE
    assert forward.settings()["max_abs_logit_diff"] <= bk.TOLERANCE


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_every_cpu_backend_gives_eager_logits_on_the_default_model(backend, default_model, shared_cache):
    x = images(3, side=224, seed=1)
    with torch.inference_mode():
        reference = default_model(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error", bk.BackendFallbackWarning)
        forward = bk.make_forward(default_model, backend, cache=shared_cache)
        out = forward(x)
    assert forward.settings()["backend"] == backend
    assert (out - reference).abs().max() <= bk.TOLERANCE


@pytest.mark.parametrize("backend", CPU_BACKENDS + ["auto"])
def test_every_cpu_backend_gives_the_eager_wcam_on_a_fixed_seed(backend, shared_cache, monkeypatch):
    monkeypatch.setenv("SPECTRAL_ATTRIBUTION_CACHE", str(shared_cache))
    monkeypatch.setattr(bk, "AUTO_MIN_EAGER_S", 0.0)  # auto exports even this toy model
    model = small_cnn().eval()
    x = images(1, seed=2)
    kw = dict(grid_size=4, nb_design=8, levels=2, batch_size=16, seed=0, progress=False)
    [ref] = WCAM(model, **kw)(x)   # the library default: eager
    assert ref.settings["backend"] == "eager" and ref.settings["precision"] == "float32"
    # batch_size 16 with 8 (16 + 2) = 144 rows per image: the last batch is smaller.
    [e] = WCAM(model, backend=backend, **kw)(x)
    np.testing.assert_allclose(e.indices, ref.indices, atol=1e-4, rtol=0)
    assert e.predicted == ref.predicted
    expected = "onnxruntime" if backend == "auto" else backend
    assert e.settings["backend"] == expected and e.settings["precision"] == "float32"


def test_default_backend_gives_the_eager_wcam_on_the_default_model(default_model, shared_cache,
                                                                   monkeypatch):
    monkeypatch.setenv("SPECTRAL_ATTRIBUTION_CACHE", str(shared_cache))
    x = images(1, side=224, seed=3)
    kw = dict(grid_size=4, nb_design=4, batch_size=32, seed=0, progress=False)
    [ref] = WCAM(default_model, **kw)(x)
    [e] = WCAM(default_model, backend="auto", precision="auto", **kw)(x)
    assert e.settings["backend"] in ("onnxruntime", "openvino", "eager")  # resolved, never "auto"
    assert e.settings["precision"] == bk.resolve_precision("auto", "cpu")
    if e.settings["precision"] == "float32":
        np.testing.assert_allclose(e.indices, ref.indices, atol=1e-4, rtol=0)


# -- fallbacks ---------------------------------------------------------------------
def _raise(*args, **kwargs):
    raise RuntimeError("simulated export failure")


@pytest.mark.parametrize("backend, target", [
    pytest.param("onnxruntime", "torch.onnx.export", marks=needs("onnxruntime")),
    pytest.param("openvino", "torch.onnx.export", marks=needs("openvino")),
    ("compile", "torch.compile"),
])
def test_a_failing_export_or_compile_falls_back_to_eager_with_a_warning(monkeypatch, backend, target, tmp_path):
    monkeypatch.setattr(target, _raise)
    model = LowPassModel()
    x = images(4)
    with pytest.warns(bk.BackendFallbackWarning, match="simulated export failure"):
        forward = bk.make_forward(model, backend, example=x, cache=tmp_path)
    assert forward.settings()["backend"] == "eager"
    torch.testing.assert_close(forward(x), model(x), rtol=0, atol=0)


@pytest.mark.skipif(not all(HAS.values()), reason="needs both onnxruntime and openvino")
def test_auto_moves_on_to_the_next_candidate_when_one_fails(monkeypatch, tmp_path):
    monkeypatch.setattr(bk, "AUTO_MIN_EAGER_S", 0.0)
    first, second = bk.AUTO_ORDER["cpu", True][:2]
    monkeypatch.setitem(bk._BUILDERS, first, _raise)
    with pytest.warns(bk.BackendFallbackWarning, match=f"'{first}'.*trying the next candidate"):
        forward = bk.make_forward(LowPassModel(), "auto", example=images(4), cache=tmp_path)
    assert forward.settings()["backend"] == second


@pytest.mark.parametrize("threshold, expected", [(1.0, "eager"), (0.0, "first available")])
def test_auto_keeps_eager_for_models_too_cheap_to_gain_from_an_export(monkeypatch, threshold, expected):
    monkeypatch.setattr(bk, "AUTO_MIN_EAGER_S", threshold)
    order = [b for b in bk.AUTO_ORDER["cpu", True] if b in bk.available_backends("cpu")]
    forward = bk.make_forward(LowPassModel(), "auto", example=images(2), cache=False)
    assert forward.settings()["backend"] == (order[0] if expected == "first available" else "eager")


def test_a_backend_that_disagrees_is_not_used(monkeypatch):
    def off_by_a_bit(model, device, precision, example, batch_size, cache):
        return bk._Runner("channels_last", lambda x: model(x) + 2e-3)

    monkeypatch.setitem(bk._BUILDERS, "channels_last", off_by_a_bit)
    model = LowPassModel()
    x = images(4)
    with pytest.warns(bk.BackendFallbackWarning, match="disagrees.*difference 0.002 > 0.001"):
        forward = bk.make_forward(model, "channels_last", example=x, cache=False)
    assert forward.settings()["backend"] == "eager"
    torch.testing.assert_close(forward(x), model(x), rtol=0, atol=0)


def test_a_backend_failing_at_run_time_falls_back_and_the_result_is_still_right(monkeypatch):
    calls = []

    def fails_after_the_check(model, device, precision, example, batch_size, cache):
        def fn(x):
            calls.append(len(x))
            if len(calls) > 1:
                raise RuntimeError("device lost")
            return model(x)
        return bk._Runner("channels_last", fn)

    monkeypatch.setitem(bk._BUILDERS, "channels_last", fails_after_the_check)
    model = LowPassModel()
    forward = bk.make_forward(model, "channels_last", example=images(2), cache=False)
    with pytest.warns(bk.BackendFallbackWarning, match="device lost"):
        out = forward(images(3))
    torch.testing.assert_close(out, model(images(3)), rtol=0, atol=0)
    assert forward.settings()["backend"] == "eager"


# -- caches, shapes, errors -------------------------------------------------------------
@pytest.mark.parametrize("backend", [pytest.param("onnxruntime", marks=needs("onnxruntime")),
                                     pytest.param("openvino", marks=needs("openvino"))])
def test_second_build_hits_the_process_then_the_disk_cache(monkeypatch, backend, tmp_path):
    model = small_cnn().eval()
    x = images(3)
    bk.make_forward(model, backend, example=x, cache=tmp_path)
    assert len(list(tmp_path.glob("*.onnx"))) == 1
    built = []
    original = bk._BUILDERS[backend]
    monkeypatch.setitem(bk._BUILDERS, backend, lambda *a: built.append(1) or original(*a))
    again = bk.make_forward(model, backend, example=x, cache=tmp_path)  # same object: in-process hit
    assert built == [] and again.settings()["backend"] == backend
    monkeypatch.setattr("torch.onnx.export", _raise)                   # a fresh copy: read from disk
    twin = small_cnn().eval()
    with warnings.catch_warnings():
        warnings.simplefilter("error", bk.BackendFallbackWarning)
        fresh = bk.make_forward(twin, backend, example=x, cache=tmp_path)
    assert built == [1] and fresh.settings()["backend"] == backend
    assert (fresh(x) - model(x)).abs().max() <= bk.TOLERANCE


@pytest.mark.skipif(not HAS["onnxruntime"], reason="onnxruntime is not installed (a default dependency: pip install -e .)")
def test_a_stale_exported_file_is_exported_again_not_trusted(tmp_path):
    model = small_cnn().eval()
    x = images(3)
    bk.make_forward(model, "onnxruntime", example=x, cache=tmp_path)
    [path] = tmp_path.glob("*.onnx")
    other = bk._onnx_file(LowPassModel(nb_classes=10), (3, 32, 32), None)[0]  # another model, same shapes
    path.write_bytes(other.read_bytes())
    twin = small_cnn().eval()
    forward = bk.make_forward(twin, "onnxruntime", example=x, cache=tmp_path)
    assert forward.settings()["backend"] == "onnxruntime"
    assert (forward(x) - model(x)).abs().max() <= bk.TOLERANCE


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_batch_sizes_change_from_call_to_call(backend, shared_cache):
    model = small_cnn().eval()
    forward = bk.make_forward(model, backend, batch_size=4, cache=shared_cache)
    for n in (4, 1, 3, 9):  # full, clean image, last batch of a design, more than a batch
        x = images(n, seed=n)
        assert (forward(x) - model(x)).abs().max() <= bk.TOLERANCE


def test_static_batch_runners_pad_the_last_batch_and_split_larger_ones():
    model = small_cnn().eval()
    seen = []

    def fn(x):
        seen.append(len(x))
        return model(x)

    runner = bk._Runner("compile", fn, static_batch=4)
    x = images(9)
    torch.testing.assert_close(runner(x), model(x), rtol=0, atol=1e-6)
    assert seen == [4, 4, 4]  # 4 + 4 + (1 padded to 4)
    torch.testing.assert_close(runner(x[:1]), model(x[:1]), rtol=0, atol=1e-6)


@pytest.mark.slow
def test_torch_compile_agrees_and_pads_the_last_batch(tmp_path):
    model = LowPassModel()
    forward = bk.make_forward(model, "compile", batch_size=4, example=images(4), cache=tmp_path)
    assert forward.settings()["backend"] == "compile"
    for n in (4, 2, 5):
        x = images(n, seed=n)
        assert (forward(x) - model(x)).abs().max() <= bk.TOLERANCE


def test_a_new_image_size_is_built_and_checked_again(tmp_path):
    model = small_cnn().eval()
    forward = bk.make_forward(model, "channels_last", cache=tmp_path)
    for side in (32, 40):
        x = images(2, side=side)
        assert (forward(x) - model(x)).abs().max() <= bk.TOLERANCE
    assert set(forward._runners) == {(3, 32, 32), (3, 40, 40)}


def test_channels_last_leaves_the_callers_model_in_nchw():
    model = small_cnn().eval()
    bk.make_forward(model, "channels_last", example=images(2), cache=False)
    assert model[0].weight.is_contiguous()


def test_bad_requests_raise_naming_the_value(monkeypatch):
    model = small_cnn().eval()
    with pytest.raises(ValueError, match="'tensorrt'"):
        bk.make_forward(model, "tensorrt")
    with pytest.raises(ValueError, match="'onnxruntime' runs on the CPU only"):
        bk.make_forward(model, "onnxruntime", device="cuda")
    with pytest.raises(ValueError, match="'cuda_graphs' needs a CUDA device"):
        bk.make_forward(model, "cuda_graphs", device="cpu")
    with pytest.raises(ValueError, match="'onnxruntime' runs in float32 only"):
        bk.make_forward(model, "onnxruntime", "bfloat16")
    monkeypatch.setattr(bk, "cpu_has_native_bfloat16", lambda: False)
    with pytest.raises(ValueError, match="'openvino' runs bfloat16 only on CPUs with native bfloat16"):
        bk.make_forward(model, "openvino", "bfloat16")
    with pytest.raises(ValueError, match="batch_size"):
        bk.make_forward(model, "eager", batch_size=0)
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        bk.make_forward(model, "eager")(torch.rand(3, 32, 32))


def test_auto_at_reduced_precision_without_native_support_stays_eager(monkeypatch):
    monkeypatch.setattr(bk, "cpu_has_native_bfloat16", lambda: False)
    model = small_cnn().eval()
    forward = bk.make_forward(model, "auto", "bfloat16", example=images(2), cache=False)
    assert forward.settings() | {"max_abs_logit_diff": 0} == {
        "backend": "eager", "precision": "bfloat16", "backend_requested": "auto",
        "precision_requested": "bfloat16", "max_abs_logit_diff": 0}


# -- integration: explainers, studies, results, configuration, CLI ------------------
@pytest.mark.parametrize("native, expected", [(False, "float32"), (True, "bfloat16")])
def test_explainers_record_the_resolved_precision_never_auto(monkeypatch, native, expected):
    monkeypatch.setattr(bk, "cpu_has_native_bfloat16", lambda: native)
    wcam = WCAM(LowPassModel(), grid_size=2, nb_design=2, precision="auto", backend="auto",
                progress=False)
    [e] = wcam(images(1, side=16))
    assert e.settings["precision"] == wcam.precision == expected
    # resolved, never "auto" (eager where the toy model is timed too cheap for an export)
    assert e.settings["backend"] in ("eager", "onnxruntime", "openvino")
    assert "autocast" not in e.settings and "channels_last" not in e.settings


def test_the_shard_manifest_records_the_backend_that_ran(monkeypatch, tmp_path):
    from spectral_attribution import results

    monkeypatch.setenv("SPECTRAL_ATTRIBUTION_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(bk, "AUTO_MIN_EAGER_S", 0.0)
    [e] = WCAM(small_cnn().eval(), grid_size=2, nb_design=2, levels=2, backend="auto",
               progress=False)(images(1))
    results.write_shard(tmp_path / "shard.npz", [e], ["a"])
    [settings] = results.load_shard(tmp_path / "shard.npz").manifest["settings"]
    settings = settings if isinstance(settings, dict) else __import__("json").loads(settings)
    assert settings["backend"] == "onnxruntime" and settings["precision"] == "float32"


def test_deprecated_autocast_and_channels_last_still_work_and_conflicts_are_named():
    with pytest.warns(DeprecationWarning, match="precision="):
        w = WCAM(LowPassModel(), grid_size=2, nb_design=2, autocast="bfloat16")
    assert w.precision == "bfloat16" and w.autocast == "bfloat16"
    with pytest.warns(DeprecationWarning, match="backend='channels_last'"):
        w = WCAM(small_cnn().eval(), grid_size=2, nb_design=2, channels_last=True)
    assert w.backend == "channels_last"
    with pytest.raises(ValueError, match="autocast='bfloat16' and precision='float16'"):
        WCAM(LowPassModel(), grid_size=2, autocast="bfloat16", precision="float16")
    with pytest.raises(ValueError, match="needs a torch.nn.Module"):
        from spectral_attribution.models.forward import ForwardPass
        ForwardPass(lambda x: x.mean((2, 3)), backend="onnxruntime")


def test_studies_through_a_backend_give_the_eager_depths(monkeypatch, tmp_path):
    from spectral_attribution import metrics
    from spectral_attribution.attributions.perturbations import WaveletPerturbation

    monkeypatch.setenv("SPECTRAL_ATTRIBUTION_CACHE", str(tmp_path))
    model = small_cnn().eval()
    pert = WaveletPerturbation("haar", 2, 4)
    ctx = pert.prepare(images(1, seed=5)[0])
    order = np.arange(pert.dim)[::-1].copy()
    label = int(model(images(1, seed=5)).argmax())
    ks = list(range(pert.dim + 1))
    eager = metrics.reconstruction_curve(model, pert, ctx, order, ks, label, batch_size=8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", bk.BackendFallbackWarning)  # it really ran ONNX Runtime
        onnx = metrics.reconstruction_curve(model, pert, ctx, order, ks, label, batch_size=8,
                                            backend="onnxruntime")
    np.testing.assert_allclose(onnx["reference_logit"], eager["reference_logit"], atol=1e-3)
    assert list(onnx["predicted"]) == list(eager["predicted"])


def test_workflow_keys_and_their_deprecated_spellings():
    from spectral_attribution.pipeline import forward_settings

    assert forward_settings({"wcam": {}}) == {"precision": "float32", "backend": "auto"}
    assert forward_settings({"wcam": {"precision": "auto", "backend": "eager"}}) == {
        "precision": "auto", "backend": "eager"}
    with pytest.warns(FutureWarning, match="wcam.precision"):
        old = forward_settings({"wcam": {"autocast": "bfloat16", "channels_last": True,
                                         "backend": "eager"}})
    assert old == {"precision": "bfloat16", "backend": "channels_last"}
    with pytest.raises(ValueError, match="wcam.autocast .* and wcam.precision .* disagree"):
        forward_settings({"wcam": {"autocast": "bfloat16", "precision": "float16"}})


def test_cli_deprecated_flags_warn_and_conflicts_exit_2(capsys, tmp_path):
    from spectral_attribution.cli import build_parser, _forward_options, main

    args = build_parser().parse_args(["explain", "x.jpg", "--out", "o", "--autocast", "none",
                                      "--channels-last",
                                      "--backend", "eager"])
    assert _forward_options(args) == ("float32", "channels_last")
    assert "--autocast is deprecated" in capsys.readouterr().err
    photo = tmp_path / "p.png"
    from PIL import Image
    Image.new("RGB", (8, 8)).save(photo)
    assert main(["explain", str(photo), "--autocast", "bfloat16", "--precision", "float16",
                 "--out", str(tmp_path / "o")]) == 2
    assert "--autocast bfloat16 and --precision float16 disagree" in capsys.readouterr().err


# -- issue 22 §6: a cached export that fails its check is rebuilt, not worked around -------------
@pytest.mark.parametrize("damage", ["truncate", "empty", "html", "flip_byte", "no_sidecar_truncate"])
@pytest.mark.skipif(not HAS["onnxruntime"], reason="onnxruntime not installed")
def test_a_bad_cached_export_is_discarded_and_rebuilt_once(tmp_path, damage):
    model = small_cnn().eval()
    x = images(3)
    bk.make_forward(model, "onnxruntime", example=x, cache=tmp_path)
    [path] = tmp_path.glob("*.onnx")
    good = path.read_bytes()
    sidecar = path.with_name(path.name + ".sha256")
    assert sidecar.read_text().strip() == __import__("hashlib").sha256(good).hexdigest()
    if damage in ("truncate", "no_sidecar_truncate"):
        path.write_bytes(good[: len(good) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "html":
        path.write_bytes(b"<html><body>503</body></html>")
    else:  # a bit flipped in the weights: still parses, fails its SHA-256
        data = bytearray(good)
        data[len(data) - 100] ^= 0x01
        path.write_bytes(bytes(data))
    if damage == "no_sidecar_truncate":  # an entry written before the SHA-256 was recorded
        sidecar.unlink()
    twin = small_cnn().eval()  # a fresh object: no in-process cache, the disk entry is read
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fresh = bk.make_forward(twin, "onnxruntime", example=x, cache=tmp_path)
        fresh(images(5))
    said = [str(w.message) for w in caught if issubclass(w.category, bk.CacheRebuildWarning)]
    assert len(said) == 1 and str(path) in said[0] and "discarded, exporting the model again" in said[0]
    assert not [w for w in caught if issubclass(w.category, bk.BackendFallbackWarning)]
    assert fresh.settings()["backend"] == "onnxruntime"          # not a permanent eager fallback
    assert path.read_bytes() == good                                # rebuilt: the same export again
    assert sidecar.read_text().strip() == __import__("hashlib").sha256(good).hexdigest()
    assert (fresh(x) - model(x)).abs().max() <= bk.TOLERANCE
