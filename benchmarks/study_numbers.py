"""Headline numbers of the studies on a sample of real ImageNet photographs (CPU-sized).

Reports, for one model (``efficientnet-lite0`` by default) on ``N`` images of
a labelled folder (``../shared/data/imagenet-sample`` by default, sampled
without replacement with a seed):

* mean robustness of the clean predictions over the ImageNet-C corruptions;
* median reconstruction depth (share of the cells) with the WCAM order and
  with random orders (median over draws, then over images), and the share of
  images whose label is restored at all;
* the depth-robustness linear fit;
* mean approximation share (per-coefficient level contribution, and share of
  mass) in the regular view (Resize 256, CenterCrop 224, J = 3) and the
  zoomed view (Resize 512, CenterCrop 224, J = 4).

Small settings by default (grid 8, 4 designs, bfloat16 autocast,
channels_last): the paper uses grid 28 and 8 designs, 100 images.

Usage::

    .venv/bin/python benchmarks/study_numbers.py --n 16 --out benchmarks/results/study_numbers

Writes ``<out>/summary.json``, ``<out>/summary.md`` and the per-image tables.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from spectral_attribution import data, metrics, studies
from spectral_attribution.explainers import WCAM
from spectral_attribution.models import load_model


def main(argv=None) -> dict:
    here = Path(__file__).resolve().parent
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", default=str(here.parent.parent / "shared" / "data" / "imagenet-sample"))
    p.add_argument("--n", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", default="efficientnet-lite0")
    p.add_argument("--grid", type=int, default=8)
    p.add_argument("--designs", type=int, default=4)
    p.add_argument("--draws", type=int, default=5, help="random orders per image")
    p.add_argument("--severities", default="1,3,5")
    p.add_argument("--autocast", default="bfloat16", choices=["none", "bfloat16", "float16"])
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", default=str(here / "results" / "study_numbers"))
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    autocast = None if args.autocast == "none" else args.autocast
    out = Path(args.out)
    t0 = time.time()
    timings = {}

    table = data.sample_images(data.labelled_folder(args.images), args.n, seed=args.seed)
    model = load_model(args.model)
    pils = [data.load_image(path) for path in table["path"]]
    ids, labels = list(table["image_id"]), [int(v) for v in table["label"]]
    x = torch.stack([model.prepare(img) for img in pils])
    severities = [int(s) for s in args.severities.split(",")]

    t = time.time()
    base = studies.corruption_baseline(model, x, ids, severities=severities, labels=labels,
                                       seed=args.seed, autocast=autocast)
    rob = studies.robustness_per_image(base)
    timings["corruption_baseline_s"] = time.time() - t

    t = time.time()
    explainer = WCAM(model, grid_size=args.grid, nb_design=args.designs, levels=3, seed=args.seed,
                     autocast=autocast, channels_last=True, progress=False)
    expls = explainer(x)
    timings["wcam_s"] = time.time() - t

    t = time.time()
    recon = studies.sufficient_reconstruction(model, x, expls, ids, "clean",
                                              nb_random_draws=args.draws, seed=args.seed,
                                              autocast=autocast)
    joined = studies.depth_and_robustness(recon, rob)
    fit = metrics.depth_robustness_fit(joined)
    timings["reconstruction_s"] = time.time() - t

    t = time.time()
    zoom, zoom_expls = studies.zoom_study(
        model, pils, ids, grid_size=args.grid, nb_design=args.designs, seed=args.seed,
        explainer_kwargs={"autocast": autocast, "channels_last": True}, return_explanations=True)
    mass = pd.DataFrame([{"image_id": i, "view": view,
                          "approximation_mass": metrics.approximation_share(e.map, e.subbands)}
                         for view, es in zoom_expls.items() for i, e in zip(ids, es)])
    timings["zoom_s"] = time.time() - t

    approx = zoom[zoom["level"] == "approximation"].groupby("view")["contribution"]
    found = recon["found"].to_numpy(bool)
    summary = {
        "settings": {"model": args.model, "n_images": len(ids), "images": args.images,
                     "sample_seed": args.seed, "grid_size": args.grid, "nb_design": args.designs,
                     "random_draws": args.draws, "severities": severities,
                     "corruptions": int(base["corruption"].nunique()), "autocast": autocast,
                     "channels_last": True, "threads": torch.get_num_threads(),
                     "machine": platform.processor() or platform.machine()},
        "clean_accuracy": float(np.mean(rob["clean_prediction"] == rob["label"])),
        "mean_robustness": float(rob["robustness"].mean()),
        "median_depth_share_wcam": float(recon["depth_share"].median()),
        "median_depth_share_random": float(recon["random_depth_share_median"].median()),
        "median_depth_cells_wcam": float(recon["depth"].median()),
        "median_depth_cells_random": float(recon["random_depth_median"].median()),
        "share_restored_wcam": float(found.mean()),
        "share_restored_random_draws": float(recon["random_found_share"].mean()),
        "share_images_wcam_shallower": float(np.mean(
            recon["depth"].fillna(np.inf) < recon["random_depth_median"].fillna(np.inf))),
        "depth_robustness_fit": fit.drop(columns="model").iloc[0].to_dict(),
        "approximation_share_per_coefficient": {v: float(approx.mean()[v]) for v in approx.mean().index},
        "approximation_share_mass": mass.groupby("view")["approximation_mass"].mean().to_dict(),
        "timings_s": {k: round(v, 1) for k, v in timings.items()},
        "total_s": round(time.time() - t0, 1),
    }
    out.mkdir(parents=True, exist_ok=True)
    studies.write_table(rob, out / "robustness")
    studies.write_table(recon, out / "reconstruction")
    studies.write_table(studies.zoom_table(zoom), out / "zoom")
    studies.write_table(fit, out / "depth_robustness_fit")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
    lines = ["| quantity | value |", "| --- | --- |"]
    for k, v in summary.items():
        if k != "settings":
            lines.append(f"| {k} | {json.dumps(v, default=float)} |")
    (out / "summary.md").write_text(
        "Settings: " + json.dumps(summary["settings"]) + "\n\n" + "\n".join(lines) + "\n")
    print(json.dumps(summary, indent=2, default=float))
    return summary


if __name__ == "__main__":
    main()
