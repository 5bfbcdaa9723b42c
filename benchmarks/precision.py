"""Effect of precision and forward-pass backend on WCAMs: speed and agreement.

For each image, the same WCAM (same design) is computed in several modes:
float32 NCHW eager PyTorch (the reference), float32 channels-last, float32
ONNX Runtime and OpenVINO, bfloat16 autocast NCHW and channels-last, and
bfloat16 OpenVINO (only where bfloat16 is native, see
``spectral_attribution.models.backends``). Printed per mode, side by side in one run:
time relative to the reference, and the Spearman rank correlation of the
Sobol' indices with the reference's (mean and minimum over images), plus the
share of images whose top cell is the same, and the largest absolute
difference of an index from the reference's.

Usage::

    python benchmarks/precision.py                        # embedded photographs, grid 16
    python benchmarks/precision.py --images ../shared/data/imagenet-sample --n 8 --device cuda
    python benchmarks/precision.py --grid-size 8 --nb-design 4 --modes float32 bfloat16 "bfloat16 OpenVINO"
"""

from __future__ import annotations

import argparse
import inspect
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr
from torch import nn

from spectral_attribution.models import backends
from spectral_attribution.attributions.wcam import WCAM
from spectral_attribution.models import load_model

#: label -> (precision, backend); "float32" is the reference.
MODES = {
    "float32": ("float32", "eager"),
    "float32+channels_last": ("float32", "channels_last"),
    "float32 ONNX Runtime": ("float32", "onnxruntime"),
    "float32 OpenVINO": ("float32", "openvino"),
    "bfloat16": ("bfloat16", "eager"),
    "bfloat16+channels_last": ("bfloat16", "channels_last"),
    "bfloat16 OpenVINO": ("bfloat16", "openvino"),
}


class _Via(nn.Module):
    """A module whose forward is a ForwardPass (for explainers without a ``backend`` option)."""

    def __init__(self, forward):
        super().__init__()
        self.fp = forward

    def forward(self, x):
        return self.fp(x)


def explainer(args, precision: str, backend: str) -> WCAM:
    model = load_model(args.model, device=args.device)  # fresh: channels-last converts in place
    kw = dict(grid_size=args.grid_size, nb_design=args.nb_design, batch_size=args.batch_size,
              device=args.device, progress=False)
    params = inspect.signature(WCAM.__init__).parameters
    if "backend" in params and "precision" in params:
        return WCAM(model, precision=precision, backend=backend, **kw)
    if backend in ("eager", "channels_last"):
        return WCAM(model, autocast=None if precision == "float32" else precision,
                    channels_last=backend == "channels_last", **kw)
    forward = backends.make_forward(model, backend, precision, args.device, batch_size=args.batch_size)
    return WCAM(_Via(forward), **kw)


def images(args, model):
    from spectral_attribution import data

    if args.images:
        table = data.labelled_folder(args.images)
    else:
        table = data.embedded_samples(Path(args.cache) / "embedded")
    table = data.sample_images(table, min(args.n, len(table)), seed=0)
    return [model.prepare(data.load_image(p)) for p in table["path"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="efficientnet-lite0")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--images", default=None, help="labelled folder (default: the embedded set)")
    parser.add_argument("--cache", default="/tmp/spectral-attribution-bench")
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--grid-size", type=int, default=16)
    parser.add_argument("--nb-design", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--modes", nargs="*", default=list(MODES), choices=list(MODES),
                        help="modes to compare (float32, the reference, is always run)")
    args = parser.parse_args()
    modes = ["float32"] + [m for m in args.modes if m != "float32"]
    available = backends.available_backends(args.device)
    for m in list(modes):
        precision, backend = MODES[m]
        if backend not in available or (backend == "openvino" and precision != "float32"
                                        and not backends.cpu_has_native_bfloat16()):
            print(f"skipped {m!r}: not available on this machine")
            modes.remove(m)

    xs = images(args, load_model(args.model, device=args.device))
    times = {m: 0.0 for m in modes}
    indices = {m: [] for m in modes}
    explainers = {m: explainer(args, *MODES[m]) for m in modes}
    for mode in modes:  # warm-up: export, compilation, agreement check
        with torch.inference_mode():
            explainers[mode].model(xs[0][None].to(args.device))
    for x in xs:  # images outermost: machine drift hits every mode alike
        for mode in modes:
            t0 = time.perf_counter()
            [e] = explainers[mode](x[None])
            times[mode] += time.perf_counter() - t0
            indices[mode].append(e.indices.ravel())
    ref = "float32"
    cpu = backends.cpu_info()
    print(f"CPU: {cpu['name']}, ATen capability {cpu['capability']}, native bfloat16 "
          f"{'yes' if cpu['native_bfloat16'] else 'no'}; torch {torch.__version__}")
    print(f"{args.model} on {args.device}, {len(xs)} images, grid {args.grid_size}, "
          f"{args.nb_design} designs, batch {args.batch_size}")
    print(f"{'mode':<24} {'time / float32':>14} {'Spearman mean':>14} {'min':>6} {'same top cell':>14} "
          f"{'max |dST|':>10}")
    for mode in modes:
        rho = [spearmanr(a, b).statistic for a, b in zip(indices[ref], indices[mode])]
        top = np.mean([np.argmax(a) == np.argmax(b) for a, b in zip(indices[ref], indices[mode])])
        dst = max(float(np.abs(a - b).max()) for a, b in zip(indices[ref], indices[mode]))
        print(f"{mode:<24} {times[mode] / times[ref]:>14.2f} {np.mean(rho):>14.3f} "
              f"{np.min(rho):>6.3f} {top:>14.0%} {dst:>10.1e}")


if __name__ == "__main__":
    main()
