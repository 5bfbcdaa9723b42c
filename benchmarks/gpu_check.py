"""The CUDA path of the WCAM, timed and checked against eager float32 on the CPU (issue 19, section 4).

Explains the embedded photographs (``--images``, 4 by default: chelsea, coffee,
rocket, motorcycle) with a ResNet-50 of random weights (seeded; no download),
at ``--grid-size`` 28 and ``--nb-design`` 8, full and screened (0.01), in
float32 and bfloat16, with the backends ``eager``, ``compile`` and
``cuda_graphs``. Prints one row per combination:

* images/s: forward passes per second of the whole WCAM;
* seconds per image (the backend built and checked beforehand, not timed);
* the overhead ratio: the WCAM's time over the time of as many bare forward
  passes of the same batches (measured on ``--bare-passes`` passes and scaled);
* max |delta|: the largest absolute difference of an index from eager float32
  on the CPU, on the first photograph (screened runs: over the cells estimated
  by both; the CPU reference is screened the same way).

``--cpu-dry-run`` runs the same code on the CPU on a tiny setting (ResNet-18,
grid 2, 2 designs, 1 photograph, eager only) so that the script can be
checked without a GPU. Used by ``benchmarks/gpu_check.sh``.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import torch

from spectral_attribution.attributions.wcam import WCAM
from spectral_attribution.data import embedded_samples, load_image
from spectral_attribution.models.core import ModelWrapper, Preprocessing


def resnet_random(device, depth: int = 50) -> ModelWrapper:
    """torchvision's ResNet-``depth`` with seeded random weights, ImageNet preprocessing."""
    import torchvision

    torch.manual_seed(0)
    net = getattr(torchvision.models, f"resnet{depth}")(weights=None).eval()
    pre = Preprocessing(resize=256, crop=224, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
    return ModelWrapper(net, pre, name=f"resnet{depth}-random").to(device)


def sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def run(model, images, device, precision, backend, screening, args, reference=None) -> dict:
    explainer = WCAM(model, grid_size=args.grid_size, nb_design=args.nb_design, device=device,
                     precision=precision, backend=backend, screening=screening,
                     batch_size=args.batch_size, progress=False)
    resolved = explainer.backend  # builds (compiles, captures) and checks now: not timed
    sync(device)
    t0 = time.perf_counter()
    explanations = [explainer(x[None].to(device))[0] for x in images]
    sync(device)
    seconds = time.perf_counter() - t0
    passes = sum(e.settings["nb_forward"] for e in explanations)
    batch = torch.rand(args.batch_size, 3, 224, 224, device=device)
    explainer.forward.logits(batch)  # warm
    sync(device)
    t0 = time.perf_counter()
    done = 0
    while done < args.bare_passes:
        explainer.forward.logits(batch)
        done += args.batch_size
    sync(device)
    per_pass = (time.perf_counter() - t0) / done
    row = {"precision": precision, "backend": resolved, "asked": backend,
           "screening": "none" if screening is None else screening,
           "images/s": passes / seconds, "s/image": seconds / len(images),
           "overhead": seconds / (passes * per_pass), "passes/image": passes / len(images),
           "explanations": explanations}
    if reference is not None:
        e, r = explanations[0], reference
        both = np.ones(e.indices.shape, bool)
        for x in (e, r):
            if x.estimated is not None:
                both &= x.estimated
        row["max|delta|"] = float(np.abs(e.indices[both] - r.indices[both]).max())
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cpu-dry-run", action="store_true",
                        help="tiny setting on the CPU, eager only (checks the script without a GPU)")
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--grid-size", type=int, default=28)
    parser.add_argument("--nb-design", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--bare-passes", type=int, default=2048)
    parser.add_argument("--backends", nargs="+", default=["eager", "compile", "cuda_graphs"])
    parser.add_argument("--precisions", nargs="+", default=["float32", "bfloat16"])
    args = parser.parse_args(argv)
    if args.cpu_dry_run:
        device = "cpu"
        args.images, args.grid_size, args.nb_design = 1, 2, 2
        args.batch_size, args.bare_passes, args.backends = 4, 4, ["eager"]
    else:
        if not torch.cuda.is_available():
            raise SystemExit("gpu_check.py: no CUDA device (use --cpu-dry-run to check the script)")
        device = "cuda"
        print(f"GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, "
              f"CUDA {torch.version.cuda}", flush=True)

    depth = 18 if args.cpu_dry_run else 50
    model = resnet_random("cpu", depth)
    with tempfile.TemporaryDirectory() as tmp:
        sample = embedded_samples(tmp)
        images = [model.prepare(load_image(p)) for p in list(sample["path"])[:args.images]]
        names = list(sample["image_id"])[:args.images]
    print(f"ResNet-{depth} (random weights, seed 0), grid {args.grid_size}, {args.nb_design} designs, "
          f"batch {args.batch_size}; photographs: {', '.join(names)}", flush=True)

    # The CPU reference: eager float32 on the first photograph, full and screened.
    t0 = time.perf_counter()
    refs = {}
    for screening in (None, 0.01):
        ex = WCAM(model, grid_size=args.grid_size, nb_design=args.nb_design, backend="eager",
                  screening=screening, batch_size=min(args.batch_size, 64), progress=False)
        refs[screening] = ex(images[0][None])[0]
    print(f"CPU reference (eager float32, 1 photograph, full and screened): "
          f"{time.perf_counter() - t0:.0f} s", flush=True)

    model = model.to(device)
    rows = []
    header = "| precision | backend | screening | images/s | s/image | overhead | passes/image | max abs delta vs CPU |"
    print(header)
    print("|" + " --- |" * 8, flush=True)
    for precision in args.precisions:
        for backend in args.backends:
            for screening in (None, 0.01):
                try:
                    row = run(model, images, device, precision, backend, screening, args, refs[screening])
                except Exception as err:  # noqa: BLE001 -- a failing backend is a result here
                    print(f"| {precision} | {backend} | {screening} | failed: {type(err).__name__}: "
                          f"{str(err)[:120]} | | | | |", flush=True)
                    continue
                rows.append(row)
                asked = "" if row["asked"] == row["backend"] else f" (asked {row['asked']})"
                print(f"| {precision} | {row['backend']}{asked} | {row['screening']} | "
                      f"{row['images/s']:.1f} | {row['s/image']:.2f} | {row['overhead']:.2f} | "
                      f"{row['passes/image']:.0f} | {row['max|delta|']:.2e} |", flush=True)
    full32 = [r for r in rows if r["precision"] == "float32" and r["screening"] == "none"]
    if full32 and not args.cpu_dry_run:
        best = min(r["s/image"] for r in full32)
        print(f"goal: <= 1 s per image, full, float32: best {best:.2f} s "
              f"({'met' if best <= 1 else 'not met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
