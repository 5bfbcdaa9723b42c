"""Speed and memory of the attribution engine, measured side by side in one run.

Prints three figures (see README, "Performance"):

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
    python benchmarks/engine.py --device cuda --model resnet50-random --grid-size 28
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from spectral_attribution.explainers import WCAM
from spectral_attribution.row_updates import RowUpdater
from spectral_attribution.models import ModelWrapper, Preprocessing, load_model


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


def overhead_ratio(args) -> dict:
    model = get_model(args.model, args.device)
    autocast = None if args.autocast == "none" else args.autocast
    explainer = WCAM(model, grid_size=args.grid_size, nb_design=args.nb_design,
                     batch_size=args.batch_size, device=args.device, autocast=autocast,
                     channels_last=args.channels_last, progress=False)
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
            "autocast": autocast, "channels_last": args.channels_last,
            "bare_s": t_bare, "wcam_s": t_wcam, "overhead_ratio": t_wcam / t_bare,
            "images_per_s": n_forward / t_wcam}


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
                     device=device, autocast=autocast, progress=False)
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
    parser.add_argument("--autocast", default="bfloat16", choices=("none", "bfloat16", "float16"))
    parser.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--memory-model", default="efficientnet-lite0")
    parser.add_argument("--skip", nargs="*", default=[], choices=("ratio", "throughput", "memory"))
    parser.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child is not None:
        autocast = None if args.autocast == "none" else args.autocast
        print(json.dumps(memory_child(args.memory_child, args.model, args.device,
                                      args.batch_size, autocast)))
        return
    if args.grid_size is None:
        args.grid_size = 28 if args.device.startswith("cuda") else 12
    print(f"device {args.device}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    results = {}
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
