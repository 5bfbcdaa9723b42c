"""Which normalisation across levels makes the energy baseline strongest? (issue 23)

On ``--n`` photographs of a labelled folder (seeded draw, seed 1: not the
claims run's draw), for each normalisation of
:data:`~spectral_attribution.studies.baselines.ENERGY_NORMALISATIONS`: the
reconstruction depth of the energy order (share of d, the model's
prediction on the clean image as reference; scanned every ``--k-step`` cells) and the insertion / deletion
AUCs of the energy map, grid 16, J = 3, EfficientNet-Lite0, float32. The
normalisation of smallest median depth is declared in
``studies/baselines.py`` (ENERGY_NORMALISATION) before the claims run.

Usage::

    nice .venv/bin/python benchmarks/claims_energy_normalisation.py --n 8 \\
        --out benchmarks/results/claims_energy_normalisation
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from spectral_attribution import metrics
from spectral_attribution.attributions.perturbations import WaveletPerturbation
from spectral_attribution.data.decoding import load_image
from spectral_attribution.models import load_model
from spectral_attribution.studies.baselines import (
    ENERGY_NORMALISATIONS,
    cell_energy,
    energy_layout,
    energy_order,
)

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", default="/work/shared/data/imagenet-sample")
    p.add_argument("--n", type=int, default=8)
    p.add_argument("--grid", type=int, default=16)
    p.add_argument("--model", default="efficientnet-lite0")
    p.add_argument("--k-step", type=int, default=4,
                   help="depths scanned at k = 1, 1 + step, ... (resolution of the depth, cells)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "claims_energy_normalisation"))
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    files = sorted(f for f in Path(args.images).iterdir() if f.suffix.lower() in (".jpeg", ".jpg", ".png"))
    picked = [files[i] for i in np.random.default_rng(1).choice(len(files), args.n, replace=False)]
    model = load_model(args.model)
    pert = WaveletPerturbation("haar", 3, args.grid)
    rows, start = [], time.time()
    for path in picked:
        x = model.preprocessing.to_tensor(load_image(path))
        with torch.no_grad():
            target = int(model(x[None]).argmax(1))
        ctx = pert.prepare(x)
        for norm in ENERGY_NORMALISATIONS:
            cells = cell_energy(energy_layout(x, "haar", 3, norm)[0], args.grid)
            res = metrics.reconstruction_depth(model, pert, ctx, energy_order(cells), target,
                                               np.arange(1, pert.dim + 1, args.k_step), 64)
            depth = float(res.depth) if res.found else pert.dim + 1.0
            curves = metrics.insertion_deletion(model, pert, ctx, cells.ravel(), target, 16, 64,
                                                "probability")
            rows.append({"image": path.name, "normalisation": norm, "depth_share": depth / pert.dim,
                         "insertion_auc": curves["insertion_auc"],
                         "deletion_auc": curves["deletion_auc"]})
        print(f"{path.name}: {time.time() - start:.0f} s", flush=True)
    df = pd.DataFrame(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "per_image.csv", index=False)
    summary = df.groupby("normalisation").agg(median_depth_share=("depth_share", "median"),
                                             mean_insertion_auc=("insertion_auc", "mean"),
                                             mean_deletion_auc=("deletion_auc", "mean"))
    text = (f"{args.n} photographs (seed 1 draw), grid {args.grid}, J = 3, {args.model}, depth "
            f"scanned every {args.k_step} cells; "
            f"{time.time() - start:.0f} s\n\n" + summary.to_markdown(floatfmt=".3f") + "\n")
    (out / "summary.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
