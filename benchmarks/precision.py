"""Effect of mixed precision and channels-last on WCAMs: speed and agreement.

For each image, the same WCAM (same design) is computed in four modes:
float32 NCHW (the reference), float32 channels-last, bfloat16 autocast NCHW and
bfloat16 autocast channels-last. Printed per mode, side by side in one run:
time relative to the reference, and the Spearman rank correlation of the
Sobol' indices with the reference's (mean and minimum over images), plus the
share of images whose top cell is the same.

Usage::

    python benchmarks/precision.py                        # embedded photographs, grid 16
    python benchmarks/precision.py --images ../shared/data/imagenet-sample --n 8 --device cuda
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

from spectral_attribution.explainers import WCAM
from spectral_attribution.models import load_model

MODES = {
    "float32": dict(autocast=None, channels_last=False),
    "float32+channels_last": dict(autocast=None, channels_last=True),
    "bfloat16": dict(autocast="bfloat16", channels_last=False),
    "bfloat16+channels_last": dict(autocast="bfloat16", channels_last=True),
}


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
    args = parser.parse_args()

    xs = images(args, load_model(args.model, device=args.device))
    times = {m: 0.0 for m in MODES}
    indices = {m: [] for m in MODES}
    for mode, kw in MODES.items():
        model = load_model(args.model, device=args.device)  # fresh: channels-last converts in place
        explainer = WCAM(model, grid_size=args.grid_size, nb_design=args.nb_design,
                         batch_size=args.batch_size, device=args.device, progress=False, **kw)
        for x in xs:
            t0 = time.perf_counter()
            [e] = explainer(x[None])
            times[mode] += time.perf_counter() - t0
            indices[mode].append(e.indices.ravel())
    ref = "float32"
    print(f"{args.model} on {args.device}, {len(xs)} images, grid {args.grid_size}, "
          f"{args.nb_design} designs, batch {args.batch_size}")
    print(f"{'mode':<24} {'time / float32':>14} {'Spearman mean':>14} {'min':>6} {'same top cell':>14}")
    for mode in MODES:
        rho = [spearmanr(a, b).statistic for a, b in zip(indices[ref], indices[mode])]
        top = np.mean([np.argmax(a) == np.argmax(b) for a, b in zip(indices[ref], indices[mode])])
        print(f"{mode:<24} {times[mode] / times[ref]:>14.2f} {np.mean(rho):>14.3f} "
              f"{np.min(rho):>6.3f} {top:>14.0%}")


if __name__ == "__main__":
    main()
