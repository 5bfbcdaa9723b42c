"""WAM against WCAM on real ImageNet photographs (CPU-sized): the closing numbers of issue 12.

For one model (``efficientnet-lite0`` by default, float32) on ``N`` images of
a labelled folder (``../shared/data/imagenet-sample`` by default, sampled
without replacement with a seed), every image is explained for its label
with

* the WCAM (grid ``g``, ``n`` designs, J = 3, Haar; seed 0), the reference;
* a second WCAM with another design seed (seed 1): the agreement of two WCAMs
  is the ceiling any cheaper method can reach against a noisy reference;
* the WAM in its three variants (gradient; SmoothGrad, 25 samples, noise
  0.25; Integrated Gradients, 25 steps, trapezoid), the authors' defaults;

and :func:`spectral_attribution.studies.compare_methods` scores them all on
the same grid and class (rank agreement with the WCAM over all cells and over
detail cells, level shares, mu-fidelity / insertion / deletion on the same
subsets and steps). Wall times are measured one image at a time, every
method of an image back to back in one process (ratios are comparable; the
absolute seconds depend on the machine's load).

Usage::

    nice .venv/bin/python benchmarks/methods_numbers.py --n 8 --grid 8 --designs 8 \\
        --out benchmarks/results/methods_numbers

Writes ``<out>/per_image.csv``, ``<out>/methods.{csv,md,tex}`` (the
workflow's table), ``<out>/summary.json`` / ``summary.md`` and
``<out>/methods.pdf/.png`` (the workflow's figure).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from spectral_attribution import data, plots, studies
from spectral_attribution.attributions.wcam import WCAM
from spectral_attribution.models import load_model
from spectral_attribution.attributions.wam import WAM


def main(argv=None) -> dict:
    here = Path(__file__).resolve().parent
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", default=str(here.parent.parent / "shared" / "data" / "imagenet-sample"))
    p.add_argument("--n", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", default="efficientnet-lite0")
    p.add_argument("--grid", type=int, default=8)
    p.add_argument("--designs", type=int, default=8)
    p.add_argument("--subsets", type=int, default=128, help="mu-fidelity subsets")
    p.add_argument("--steps", type=int, default=32, help="insertion / deletion steps")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", default=str(here / "results" / "methods_numbers"))
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    t0 = time.time()

    table = data.sample_images(data.labelled_folder(args.images), args.n, seed=args.seed)
    model = load_model(args.model)
    ids, labels = list(table["image_id"]), [int(v) for v in table["label"]]
    x = torch.stack([model.prepare(data.load_image(path)) for path in table["path"]])
    common = dict(grid_size=args.grid, levels=3)
    explainers = {
        "wcam": WCAM(model, nb_design=args.designs, seed=0, channels_last=True, progress=False, **common),
        "wcam-seed1": WCAM(model, nb_design=args.designs, seed=1, channels_last=True, progress=False,
                           **common),
        "wam-gradient": WAM(model, variant="gradient", **common),
        "wam-smoothgrad": WAM(model, variant="smoothgrad", nb_samples=25, noise_level=0.25,
                              batch_size=25, **common),
        "wam-integratedgrad": WAM(model, variant="integratedgrad", nb_steps=25, batch_size=25, **common),
    }
    for explainer in explainers.values():  # warm-up (first-call allocations), not timed
        explainer(x[:1, :, :32, :32], [labels[0]])
    explanations = {k: [] for k in explainers}
    seconds = {k: [] for k in explainers}
    for i in range(len(ids)):
        for name, explainer in explainers.items():
            start = time.perf_counter()
            [e] = explainer(x[i:i + 1], [labels[i]])
            seconds[name].append(time.perf_counter() - start)
            explanations[name].append(e)
        print(f"image {i + 1}/{len(ids)} {ids[i]}: " +
              ", ".join(f"{k} {v[-1]:.1f} s" for k, v in seconds.items()), flush=True)

    t = time.time()
    others = {k: v for k, v in explanations.items() if k != "wcam"}
    df = studies.compare_methods(model, x, ids, explanations["wcam"], others, seconds,
                                 nb_subsets=args.subsets, steps=args.steps, seed=args.seed)
    metrics_s = time.time() - t
    df["label"] = np.repeat(labels, len(explainers))
    df["predicted"] = [e.predicted for i in range(len(ids)) for e in
                       (explanations[k][i] for k in explainers)]

    def mean(method, column):
        return float(df.loc[df["method"] == method, column].astype(float).mean())

    methods = list(explainers)
    summary = {
        "settings": {"model": args.model, "n_images": len(ids), "images": args.images,
                     "image_ids": ids, "sample_seed": args.seed, "grid_size": args.grid,
                     "nb_design": args.designs, "levels": 3, "wavelet": "haar",
                     "precision": "float32", "channels_last_wcam": True,
                     "mu_fidelity_subsets": args.subsets, "insertion_deletion_steps": args.steps,
                     "threads": torch.get_num_threads(),
                     "cpu_capability": torch.backends.cpu.get_cpu_capability(),
                     "machine": platform.processor() or platform.machine()},
        "clean_accuracy": float(np.mean([e.predicted == lab
                                         for e, lab in zip(explanations["wcam"], labels)])),
        "per_method": {m: {c: mean(m, c) for c in
                           ("spearman", "spearman_details", "mu_fidelity", "insertion_auc",
                            "deletion_auc", "share_approximation", "wall_time_s")}
                       | {"nb_forward": int(df.loc[df["method"] == m, "nb_forward"].median()),
                          "nb_backward": int(df.loc[df["method"] == m, "nb_backward"].median()),
                          "spearman_min": float(df.loc[df["method"] == m, "spearman"].min()),
                          "spearman_max": float(df.loc[df["method"] == m, "spearman"].max())}
                       for m in methods},
        "level_shares": {m: {c[len("share_"):]: mean(m, c) for c in df.columns if c.startswith("share_")}
                         for m in methods},
        "wall_time_ratio_wcam_over": {m: float(np.median(np.array(seconds["wcam"]) / np.array(seconds[m])))
                                      for m in methods if m.startswith("wam")},
        "metrics_s": round(metrics_s, 1),
        "total_s": round(time.time() - t0, 1),
    }
    out.mkdir(parents=True, exist_ok=True)
    studies.write_table(df, out / "per_image")
    studies.write_table(studies.methods_table(df), out / "methods")
    plots.save_figure(plots.plot_methods(df), out / "methods")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
    lines = ["| method | " + " | ".join(summary["per_method"]["wcam"]) + " |",
             "| --- |" + " --- |" * len(summary["per_method"]["wcam"])]
    for m, row in summary["per_method"].items():
        lines.append(f"| {m} | " + " | ".join(f"{v:.3g}" if isinstance(v, float) else str(v)
                                              for v in row.values()) + " |")
    (out / "summary.md").write_text("Settings: " + json.dumps(summary["settings"]) + "\n\n"
                                    + "\n".join(lines) + "\n\nLevel shares: "
                                    + json.dumps(summary["level_shares"], default=float) + "\n")
    print(json.dumps(summary, indent=2, default=float))
    return summary


if __name__ == "__main__":
    main()
