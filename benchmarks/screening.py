"""Screened WCAM against the full WCAM (issue 19, section 2): passes, distance, time, depth.

For each photograph and grid size, three WCAMs of the predicted class, same
model and backend: the full WCAM with seed 0 (the reference), a second full
WCAM with seed 1 (what the reference's own noise looks like) and the screened
WCAM with seed 0 (``--screening``, 0.01 by default). Printed side by side, per
grid, the mean over photographs (with the worst value in brackets):

* forward passes, screened / full;
* the L1 distance to the seed-0 full WCAM between maps normalised to sum 1
  (negative indices set to 0), for the screened and for the seed-1 map;
* how many of the seed-0 map's top-10 cells are in the other map's top 10;
* the seed-0 map's mass on the screened-out cells;
* Spearman's rho with the seed-0 map over all cells (the screened-out cells
  are tied at 0, which costs rho even where the top of the map is the same);
* seconds per image (the backend built beforehand, so not timed);
* the reconstruction depth (:func:`~spectral_attribution.metrics.reconstruction_depth`,
  order of the map, reference label the explained class): the mean absolute
  difference from the seed-0 map's depth, in cells, and how many photographs
  have the same depth;
* the level contributions (:func:`~spectral_attribution.metrics.level_contributions`,
  per coefficient): the largest absolute difference from the seed-0 map's, over
  levels and photographs.

Photographs: ``--n`` of the folder's images in name order, evenly spaced
(every ``len / n``-th), so that the classes differ; their names are printed.

Usage::

    nice python benchmarks/screening.py --images ../shared/data/imagenet-sample --n 3
    python benchmarks/screening.py --grids 8 --nb-design 4 --n 1        # a smoke run
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from spectral_attribution.attributions.wcam import WCAM
from spectral_attribution.data import load_image
from spectral_attribution.metrics import importance_order, level_contributions, reconstruction_depth
from spectral_attribution.models import load_model

SUFFIXES = {".jpg", ".jpeg", ".png", ".JPEG", ".JPG", ".PNG"}


def normalised(indices: np.ndarray) -> np.ndarray:
    x = np.clip(np.asarray(indices, np.float64).ravel(), 0, None)
    return x / x.sum() if x.sum() > 0 else x


def top(indices: np.ndarray, k: int = 10) -> set:
    return set(np.argsort(-np.asarray(indices).ravel(), kind="stable")[:k].tolist())


def photographs(folder: Path, n: int) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES)
    if not files:
        raise SystemExit(f"no images in {folder}")
    step = max(1, len(files) // n)
    return files[::step][:n]


def depth(model, explainer, x, e, backend) -> float:
    ctx = explainer.perturbation.prepare(x)
    return reconstruction_depth(model, explainer.perturbation, ctx, importance_order(e.indices),
                                reference_label=e.target, backend=backend).depth


def compare(ref, other, model, explainer, x, backend) -> dict:
    a, b = normalised(ref.indices), normalised(other.indices)
    est = other.estimated
    lc_ref = level_contributions(ref.map, ref.subbands)
    lc = level_contributions(other.map, other.subbands)
    return {"passes": other.settings["nb_forward"] / ref.settings["nb_forward"],
            "l1": float(np.abs(a - b).sum()),
            "top10": len(top(ref.indices) & top(other.indices)),
            "mass_out": float(a[~est.ravel()].sum()) if est is not None else 0.0,
            "rho": float(spearmanr(a, b)[0]),
            "depth": depth(model, explainer, x, other, backend),
            "levels": float(np.nanmax(np.abs(lc.to_numpy() - lc_ref.to_numpy())))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=Path, default=Path("../shared/data/imagenet-sample"))
    parser.add_argument("--n", type=int, default=3, help="photographs")
    parser.add_argument("--grids", type=int, nargs="+", default=[16, 28])
    parser.add_argument("--nb-design", type=int, default=8)
    parser.add_argument("--screening", type=float, default=0.01)
    parser.add_argument("--model", default="efficientnet-lite0")
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)

    model = load_model(args.model)
    paths = photographs(args.images, args.n)
    print(f"model {args.model}, backend {args.backend}, float32, {args.nb_design} designs, "
          f"screening {args.screening}; {len(paths)} photographs of {args.images}:")
    for p in paths:
        print(f"  {p.name}")
    images = [model.prepare(load_image(p)) for p in paths]
    table: dict[int, dict] = {}
    for g in args.grids:
        common = dict(grid_size=g, nb_design=args.nb_design, backend=args.backend,
                      batch_size=args.batch_size, progress=False)
        full0 = WCAM(model, seed=0, screening=None, **common)
        full1 = WCAM(model, seed=1, screening=None, **common)
        screened = WCAM(model, seed=0, screening=args.screening, **common)
        for ex in (full0, full1, screened):
            ex.backend  # noqa: B018 -- builds (exports, checks) the backend now, untimed
        rows = {"screened": [], "seed 1": []}
        seconds = {"full": [], "screened": []}
        same_depth = {"screened": 0, "seed 1": 0}
        for x, path in zip(images, paths):
            t0 = time.perf_counter()
            [r] = full0(x[None])
            seconds["full"].append(time.perf_counter() - t0)
            [o] = full1(x[None], r.target)
            t0 = time.perf_counter()
            [s] = screened(x[None], r.target)
            seconds["screened"].append(time.perf_counter() - t0)
            d_ref = depth(model, full0, x, r, args.backend)
            for name, other in (("screened", s), ("seed 1", o)):
                row = compare(r, other, model, full0, x, args.backend)
                row["depth_diff"] = abs(row.pop("depth") - d_ref)
                same_depth[name] += row["depth_diff"] == 0
                rows[name].append(row)
            print(f"  grid {g}, {path.name}: passes {s.settings['nb_forward']} / "
                  f"{r.settings['nb_forward']}, L1 {rows['screened'][-1]['l1']:.3f} "
                  f"(seed 1: {rows['seed 1'][-1]['l1']:.3f}), {seconds['full'][-1]:.1f} s full, "
                  f"{seconds['screened'][-1]:.1f} s screened", flush=True)
        table[g] = {"rows": rows, "seconds": seconds, "same_depth": same_depth, "n": len(paths)}

    def cell(values, worst=max, fmt="{:.3f}"):
        return f"{fmt.format(np.mean(values))} ({fmt.format(worst(values))})"

    head = "| figure | " + " | ".join(f"grid {g}: screened | grid {g}: full seed 1" for g in args.grids) + " |"
    print()
    print(head)
    print("|" + " --- |" * (1 + 2 * len(args.grids)))
    figures = [
        ("forward passes / full (mean (max))", "passes", max, "{:.3f}"),
        ("L1 distance to full seed 0, maps summing to 1 (mean (max))", "l1", max, "{:.3f}"),
        ("top-10 cells of full seed 0 kept (mean (min))", "top10", min, "{:.1f}"),
        ("mass of full seed 0 on screened-out cells (mean (max))", "mass_out", max, "{:.3f}"),
        ("Spearman rho with full seed 0, all cells (mean (min))", "rho", min, "{:.2f}"),
        ("reconstruction depth, abs. difference in cells (mean (max))", "depth_diff", max, "{:.1f}"),
        ("level contributions, max abs. difference (mean (max))", "levels", max, "{:.3f}"),
    ]
    for label, key, worst, fmt in figures:
        cells = []
        for g in args.grids:
            for name in ("screened", "seed 1"):
                cells.append(cell([r[key] for r in table[g]["rows"][name]], worst, fmt))
        print(f"| {label} | " + " | ".join(cells) + " |")
    cells = []
    for g in args.grids:
        t = table[g]
        cells += [f"{t['same_depth']['screened']} of {t['n']}", f"{t['same_depth']['seed 1']} of {t['n']}"]
    print("| same reconstruction depth as full seed 0 | " + " | ".join(cells) + " |")
    cells = []
    for g in args.grids:
        s = table[g]["seconds"]
        cells += [cell(s["screened"], max, "{:.1f}") + " s", cell(s["full"], max, "{:.1f}") + " s (full)"]
    print("| seconds per image (mean (max)) | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
