"""Speed and memory of the attribution engine, measured side by side in one run.

Prints the CPU (model name, ATen capability, native bfloat16) and four figures
(see README, "Performance"):

0. forward-pass throughput (images per second, median of interleaved repeats)
   of every precision x backend on EfficientNet-Lite0 and a random-weight
   ResNet-50 at batch 32 and 128, each backend's max abs logit difference
   from eager float32 on real photographs, the time to set it up (export,
   compilation and agreement check, first time in this process) and what
   ``backend="auto"`` / ``precision="auto"`` resolve to here;

1. overhead ratio = time of one WCAM / time of the same number of bare
   forward passes of the same model, batch size, dtype and memory layout;
2. perturbation throughput (perturbed images per second, trivial model,
   224 x 224, 3 levels, Haar) of the engine against a naive path: one image
   at a time, ``pywt.waverec2`` on the CPU, into a tensor;
3. peak memory of a WCAM at grid 28 against grid 8 (8 designs), each in a
   fresh process, as the growth of the peak resident set (CPU) or of
   ``torch.cuda.max_memory_allocated`` (CUDA) during the explanation.

Usage::

    python benchmarks/engine.py                      # CPU defaults (grid 12 for the ratio)
    ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 python benchmarks/engine.py --skip memory
                                                     # an AMX CPU behaving like an AVX2-only one
    python benchmarks/engine.py --skip ratio throughput memory --bench-models resnet50-random --batch-sizes 32
    python benchmarks/engine.py --device cuda --model resnet50-random --grid-size 28
"""

from __future__ import annotations

import argparse
import inspect
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from spectral_attribution.models import backends
from spectral_attribution.attributions.wcam import WCAM
from spectral_attribution.attributions.sobol.row_updates import RowUpdater
from spectral_attribution.models import ModelWrapper, Preprocessing, load_model

CACHE = "/tmp/spectral-attribution-bench"  # embedded photographs, exported models
#: (label, precision, backend) of the forward-pass table, in print order.
MODES = (
    ("float32 NCHW", "float32", "eager"),
    ("float32 channels-last", "float32", "channels_last"),
    ("float32 torch.compile", "float32", "compile"),
    ("float32 ONNX Runtime", "float32", "onnxruntime"),
    ("float32 OpenVINO", "float32", "openvino"),
    ("bfloat16 NCHW", "bfloat16", "eager"),
    ("bfloat16 channels-last", "bfloat16", "channels_last"),
    ("bfloat16 OpenVINO", "bfloat16", "openvino"),  # only with native bfloat16
)


class Trivial(nn.Module):
    """A 'model' that costs nothing: the mean of each channel."""

    def forward(self, x):
        return x.mean(dim=(-2, -1))


def get_model(name: str, device: str) -> ModelWrapper:
    if name == "resnet50-random":  # timing only: random weights, no download
        from torchvision.models import resnet50

        return ModelWrapper(resnet50(), Preprocessing(), name=name).to(device)
    if name == "trivial":
        return ModelWrapper(Trivial(), Preprocessing(mean=None, std=None), name=name).to(device)
    return load_model(name, device=device)


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def photographs(model: ModelWrapper, batch: int) -> torch.Tensor:
    """``batch`` real photographs (the embedded set, tiled, every other one mirrored)."""
    from spectral_attribution import data

    table = data.embedded_samples(Path(CACHE) / "embedded")
    photos = [model.prepare(data.load_image(p)) for p in table["path"]]
    rows = [photos[i % len(photos)] for i in range(batch)]
    rows = [r.flip(-1) if (i // len(photos)) % 2 else r for i, r in enumerate(rows)]
    return torch.stack(rows)


def forward_table(args) -> dict:
    """Images/s of every precision x backend, side by side (interleaved repeats)."""
    out = {"cpu": backends.cpu_info(), "torch": torch.__version__, "models": {}}
    labels = [m for m in MODES if m[2] in args.backends and m[1] in args.precisions]
    for model_name in args.bench_models:
        model = get_model(model_name, args.device)
        per_model = out["models"][model_name] = {}
        for bs in args.batch_sizes:
            x = photographs(model, bs).to(args.device)
            with torch.inference_mode():
                reference = model(x).float()
            forwards, rows = {}, {}
            for label, precision, backend in labels:
                t0 = time.perf_counter()
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", backends.BackendFallbackWarning)
                    try:
                        f = backends.make_forward(model, backend, precision, args.device, batch_size=bs,
                                                  example=x, cache=Path(CACHE) / "backends")
                    except Exception as err:  # a backend that is not installed here
                        rows[label] = {"error": f"{type(err).__name__}: {err}"}
                        continue
                setup = time.perf_counter() - t0
                used = f.settings()["backend"]
                if used == "eager":  # not checked by make_forward at reduced precision
                    with torch.inference_mode():
                        diff = float((f(x) - reference).abs().max())
                else:  # the agreement check ran on this very batch
                    diff = f.settings()["max_abs_logit_diff"]
                rows[label] = {"backend": used, "setup_s": setup, "max_abs_logit_diff": diff,
                               "fell_back": bool(caught) or used != backend, "times_s": []}
                forwards[label] = f
            for _ in range(args.repeats):  # interleaved, so that drift hits every mode
                for label, f in forwards.items():
                    t0 = time.perf_counter()
                    f(x)
                    sync(args.device)
                    rows[label]["times_s"].append(time.perf_counter() - t0)
            for label in forwards:
                rows[label]["images_per_s"] = bs / float(np.median(rows[label]["times_s"]))
            per_model[bs] = rows
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pick = backends.make_forward(model, "auto", "auto", args.device, batch_size=bs,
                                             example=x, cache=Path(CACHE) / "backends").settings()
                pick32 = backends.make_forward(model, "auto", "float32", args.device, batch_size=bs,
                                               example=x, cache=Path(CACHE) / "backends").settings()
            per_model[f"auto_{bs}"] = {"precision=auto": pick, "precision=float32": pick32}
            print_forward_rows(model_name, bs, rows, pick, pick32)
    return out


def print_forward_rows(model_name, bs, rows, pick, pick32) -> None:
    base = rows.get("float32 NCHW", {}).get("images_per_s")
    print(f"\n{model_name}, batch {bs}:")
    print(f"  {'mode':<24} {'images/s':>9} {'x fp32 NCHW':>12} {'max|dlogit|':>12} {'setup s':>8}  used")
    for label, r in rows.items():
        if "error" in r:
            print(f"  {label:<24} {'-':>9} {'':>12} {'':>12} {'':>8}  not available: {r['error'][:60]}")
            continue
        ratio = f"{r['images_per_s'] / base:.2f}" if base else "-"
        print(f"  {label:<24} {r['images_per_s']:>9.2f} {ratio:>12} {r['max_abs_logit_diff']:>12.2e} "
              f"{r['setup_s']:>8.1f}  {r['backend']}{' (fell back)' if r['fell_back'] else ''}")
    print(f"  auto picks: backend {pick32['backend']} at precision float32; with precision=auto: "
          f"backend {pick['backend']}, precision {pick['precision']}")


def overhead_ratio(args) -> dict:
    model = get_model(args.model, args.device)
    autocast = None if args.autocast == "none" else args.autocast
    explainer = WCAM(model, grid_size=args.grid_size, nb_design=args.nb_design,
                     batch_size=args.batch_size, device=args.device, progress=False,
                     **mode_kwargs(autocast, args.channels_last, args.backend))
    n_forward = explainer.nb_forward
    image = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    batch = torch.rand(args.batch_size, 3, 224, 224, device=args.device)

    def bare():
        done = 0
        while done < n_forward:
            b = min(args.batch_size, n_forward - done)
            explainer.forward.logits(batch[:b])  # same dtype, layout and autocast as the WCAM
            done += b
        sync(args.device)

    def wcam():
        explainer(image)
        sync(args.device)

    explainer.forward.logits(batch)  # warm-up (cudnn autotuning, oneDNN primitives)
    times = {"bare": [], "wcam": []}
    for _ in range(args.repeats):  # interleaved, so that drift hits both sides
        for name, fn in (("bare", bare), ("wcam", wcam)):
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    # Ratio of medians over interleaved repeats: robust to a noisy, shared machine.
    t_bare, t_wcam = float(np.median(times["bare"])), float(np.median(times["wcam"]))
    return {"bare_all_s": times["bare"], "wcam_all_s": times["wcam"],"model": args.model, "grid_size": args.grid_size, "nb_design": args.nb_design,
            "forward_passes": n_forward, "batch_size": args.batch_size,
            "autocast": autocast, "channels_last": args.channels_last, "backend": args.backend,
            "bare_s": t_bare, "wcam_s": t_wcam, "overhead_ratio": t_wcam / t_bare,
            "images_per_s": n_forward / t_wcam}


def mode_kwargs(autocast, channels_last: bool, backend: str | None) -> dict:
    """Explainer keywords of a mode, for explainers with or without ``precision``/``backend``."""
    params = inspect.signature(WCAM.__init__).parameters
    kw = {}
    if "precision" in params:
        kw["precision"] = autocast or "float32"
    else:
        kw["autocast"] = autocast
    if "backend" in params:
        kw["backend"] = backend or ("channels_last" if channels_last else "eager")
    else:
        kw["channels_last"] = channels_last
    return kw


def perturbation_throughput(args) -> dict:
    import pywt

    device = args.device
    trivial = get_model("trivial", device)
    explainer = WCAM(trivial, grid_size=28, nb_design=8, levels=3, wavelet="haar",
                     batch_size=args.batch_size, device=device, progress=False)
    pert = explainer.perturbation
    image = torch.rand(3, 224, 224, generator=torch.Generator().manual_seed(0))
    ctx = pert.prepare(image.to(device))
    total = explainer.nb_forward  # one whole WCAM design: 6,288 perturbed images

    def engine():
        # What a WCAM does per image: cached A images, then row updates.
        updater = RowUpdater(pert, explainer.design, ctx, args.batch_size, device)
        for start in range(0, total, args.batch_size):
            trivial(updater.rows(start, min(start + args.batch_size, total)))
        sync(device)
        return total

    def direct():
        # Every row through the batched inverse transform (no row updates).
        for start in range(0, total, args.batch_size):
            rows = explainer.design.rows(start, min(start + args.batch_size, total))
            trivial(pert(ctx, torch.from_numpy(rows).to(device)))
        sync(device)
        return total

    coeffs = pywt.wavedec2(image.numpy(), "haar", level=3, axes=(-2, -1))
    layout, slices = pywt.coeffs_to_array(coeffs, axes=(-2, -1))
    naive_rows = max(256, total // 8)

    def naive():
        # One image at a time: upsample the mask, PyWavelets inverse on the CPU, to a tensor.
        rows = explainer.design.rows(0, naive_rows)
        for m in rows:
            up = np.kron(m.reshape(28, 28), np.ones((8, 8), dtype=np.float32))
            c = pywt.array_to_coeffs(layout * up, slices, output_format="wavedec2")
            x = torch.from_numpy(pywt.waverec2(c, "haar", axes=(-2, -1))).float()
            trivial(x.unsqueeze(0).to(device))
        sync(device)
        return naive_rows

    engine()  # warm-up
    out = {}
    for name, fn in (("engine", engine), ("direct", direct), ("naive", naive)):
        t0 = time.perf_counter()
        done = fn()
        out[f"{name}_images_per_s"] = done / (time.perf_counter() - t0)
    out["speed_up"] = out["engine_images_per_s"] / out["naive_images_per_s"]
    out["direct_speed_up"] = out["direct_images_per_s"] / out["naive_images_per_s"]
    return out


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def memory_child(grid: int, model_name: str, device: str, batch_size: int, autocast) -> dict:
    """Run in a fresh process: peak memory growth of one WCAM."""
    model = get_model(model_name, device)
    explainer = WCAM(model, grid_size=grid, nb_design=8, batch_size=batch_size,
                     device=device, progress=False, **mode_kwargs(autocast, False, None))
    image = torch.rand(1, 3, 224, 224)
    explainer.forward.logits(image.to(device).expand(batch_size, -1, -1, -1))  # warm-up
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        explainer(image)
        peak = torch.cuda.max_memory_allocated() - base
    else:
        base = _rss_kib("VmRSS") * 1024
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS (VmHWM)
        explainer(image)
        peak = _rss_kib("VmHWM") * 1024 - base
    return {"grid_size": grid, "forward_passes": explainer.nb_forward, "peak_growth_bytes": peak}


def peak_memory(args) -> dict:
    out = {}
    for grid in (8, 28):
        cmd = [sys.executable, __file__, "--memory-child", str(grid), "--model", args.memory_model,
               "--device", args.device, "--batch-size", str(args.batch_size),
               "--autocast", args.autocast]
        res = subprocess.run(cmd, capture_output=True, text=True, check=True)
        out[f"grid{grid}"] = json.loads(res.stdout.strip().splitlines()[-1])
    out["ratio_grid28_over_grid8"] = (out["grid28"]["peak_growth_bytes"]
                                      / max(out["grid8"]["peak_growth_bytes"], 1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--model", default="efficientnet-lite0",
                        help="registry name, 'resnet50-random' or 'trivial'")
    parser.add_argument("--grid-size", type=int, default=None,
                        help="grid of the overhead ratio (default 28 on CUDA, 12 on CPU)")
    parser.add_argument("--nb-design", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--autocast", default="none", choices=("none", "bfloat16", "float16"),
                        help="precision of the overhead ratio and memory runs (default: float32)")
    parser.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=False)
    parser.add_argument("--backend", default=None,
                        help="backend of the overhead ratio, for explainers that take one")
    parser.add_argument("--bench-models", nargs="*", default=["efficientnet-lite0", "resnet50-random"],
                        help="models of the forward-pass table")
    parser.add_argument("--batch-sizes", nargs="*", type=int, default=[32, 128])
    parser.add_argument("--backends", nargs="*", default=[b for b in backends.BACKENDS if b != "auto"],
                        help="backends of the forward-pass table")
    parser.add_argument("--precisions", nargs="*", default=["float32", "bfloat16"],
                        help="precisions of the forward-pass table")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--memory-model", default="efficientnet-lite0")
    parser.add_argument("--skip", nargs="*", default=[], choices=("forward", "ratio", "throughput", "memory"))
    parser.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child is not None:
        autocast = None if args.autocast == "none" else args.autocast
        print(json.dumps(memory_child(args.memory_child, args.model, args.device,
                                      args.batch_size, autocast)))
        return
    if args.grid_size is None:
        args.grid_size = 28 if args.device.startswith("cuda") else 12
    cpu = backends.cpu_info()
    print(f"device {args.device}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    print(f"CPU: {cpu['name']}; ATen capability {cpu['capability']}; AVX512-BF16 {cpu['avx512_bf16']}, "
          f"AMX-BF16 {cpu['amx_bf16']}; native bfloat16 (as torch is set up): "
          f"{'yes' if cpu['native_bfloat16'] else 'no'}; precision='auto' resolves to "
          f"{backends.resolve_precision('auto', args.device)}")
    results = {"cpu": cpu}
    if "forward" not in args.skip:
        results["forward"] = forward_table(args)
    if "ratio" not in args.skip:
        r = results["overhead"] = overhead_ratio(args)
        print(f"[1] overhead ratio {r['overhead_ratio']:.3f} (target <= 1.05): WCAM {r['wcam_s']:.2f} s "
              f"vs {r['forward_passes']} bare forward passes {r['bare_s']:.2f} s; {args.model}, "
              f"grid {r['grid_size']}, {r['nb_design']} designs, batch {r['batch_size']}, "
              f"autocast {r['autocast']}, channels_last {r['channels_last']}")
    if "throughput" not in args.skip:
        t = results["throughput"] = perturbation_throughput(args)
        print(f"[2] perturbation throughput {t['engine_images_per_s']:.0f} img/s vs naive per-image "
              f"PyWavelets {t['naive_images_per_s']:.0f} img/s: {t['speed_up']:.1f}x (target >= 3x CPU, 50x GPU); "
              f"without row updates {t['direct_images_per_s']:.0f} img/s ({t['direct_speed_up']:.1f}x)")
    if "memory" not in args.skip:
        m = results["memory"] = peak_memory(args)
        print(f"[3] peak memory growth grid 28 / grid 8 = {m['ratio_grid28_over_grid8']:.2f} (target <= 1.2): "
              f"{m['grid28']['peak_growth_bytes'] / 2**20:.0f} MiB ({m['grid28']['forward_passes']} passes) vs "
              f"{m['grid8']['peak_growth_bytes'] / 2**20:.0f} MiB ({m['grid8']['forward_passes']} passes); "
              f"{args.memory_model}, batch {args.batch_size}")
    print(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main()
