"""Headline numbers of the corruption and reconstruction studies on real photographs (CPU-sized).

For one model (``efficientnet-lite0`` by default) on ``N`` images of a
labelled folder (``../shared/data/imagenet-sample`` by default, sampled
without replacement with a seed), this runs what the workflow runs:

* the corruption baseline (``--corruptions``, severities ``--severities``)
  and the robustness of each clean prediction;
* one corrupted copy per image (severities ``--explain-severities``, copies
  whose prediction changed first, as ``corruptions.explain`` of the
  configuration);
* WCAMs of the clean images and of the copies, with the target policy
  ``--target-policy``;
* the reconstruction depth of every WCAM, with the WCAM order and random
  orders, and the library's own summary (``studies.reconstruction_summary``)
  and depth-robustness fit.

The zoom study is ``benchmarks/zoom_numbers.py``.

The script also runs on an older version of the package (put its ``src`` on
``PYTHONPATH``): it then reproduces what that version's workflow did, WCAM
targets the labels (``wcam.target: label``) and reconstructions scored
against the model's prediction on the image, and summarises with that
version's ``reconstruction_summary``. It reports, in both cases, how many
images had a WCAM explained for one class and scored against another.

Usage::

    python benchmarks/study_numbers.py --n 16 --out benchmarks/results/study_numbers

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

import spectral_attribution
from spectral_attribution import data, studies
from spectral_attribution.attributions.wcam import WCAM
from spectral_attribution.models import load_model

try:  # the target policy (this version); absent in older versions
    from spectral_attribution.attributions import targets as _targets
except ImportError:
    _targets = None

STANDARD_15 = ["gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur",
               "motion_blur", "zoom_blur", "snow", "frost", "fog", "brightness", "contrast",
               "elastic_transform", "pixelate", "jpeg_compression"]


def _explain(explainer, images, labels, policy):
    """WCAMs with the target policy (this version) or the old workflow's label targets."""
    if _targets is None:
        return explainer(images, [int(v) for v in labels])   # old workflow: wcam.target = label
    return _targets.explain_with_policy(explainer, images, policy, labels)


def main(argv=None) -> dict:
    here = Path(__file__).resolve().parent
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", default=str(here.parent.parent / "shared" / "data" / "imagenet-sample"))
    p.add_argument("--n", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", default="efficientnet-lite0")
    p.add_argument("--grid", type=int, default=8)
    p.add_argument("--designs", type=int, default=4)
    p.add_argument("--draws", type=int, default=3, help="random orders per image")
    p.add_argument("--corruptions", default="standard-15",
                   help="standard-15 (the paper's), or a comma-separated list")
    p.add_argument("--severities", default="1,3,5")
    p.add_argument("--explain-severities", default="3,5")
    p.add_argument("--target-policy", default="prediction", choices=["prediction", "label"])
    p.add_argument("--autocast", default="none", choices=["none", "bfloat16", "float16"])
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--backend", default="eager",
                   help="forward backend (versions that have spectral_attribution.models.backends; "
                        "older versions always run eager PyTorch)")
    p.add_argument("--out", default=str(here / "results" / "study_numbers"))
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    autocast = None if args.autocast == "none" else args.autocast
    # versions with precision/backend keywords: float32 through the chosen backend (same numbers
    # as eager within float tolerance); older versions: their autocast / channels-last
    try:
        from spectral_attribution.models import backends as _backends  # noqa: F401  (newer versions)
        has_backends = True
    except ImportError:
        has_backends = False
    forward = ({"precision": args.autocast if autocast else "float32", "backend": args.backend}
               if has_backends else {"autocast": autocast})
    names = STANDARD_15 if args.corruptions == "standard-15" else args.corruptions.split(",")
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
    base = studies.corruption_baseline(model, x, ids, corruptions=names, severities=severities,
                                       labels=labels, seed=args.seed, **forward)
    rob = studies.robustness_per_image(base)
    chosen = studies.select_corrupted_copies(
        base, per_image=1, severities=[int(s) for s in args.explain_severities.split(",")],
        prefer_changed=True, seed=args.seed)
    copies, copy_ids, copy_labels, extra = studies.corrupted_copies(x, ids, labels, chosen)
    timings["corruption_baseline_s"] = time.time() - t

    t = time.time()
    explainer = WCAM(model, grid_size=args.grid, nb_design=args.designs, levels=3, seed=args.seed,
                     progress=False,
                     **(forward if has_backends else {"autocast": autocast, "channels_last": True}))
    clean_expls = _explain(explainer, x, labels, args.target_policy)
    copy_expls = _explain(explainer, copies, copy_labels, args.target_policy)
    timings["wcam_s"] = time.time() - t

    t = time.time()
    common = dict(nb_random_draws=args.draws, seed=args.seed, **forward)
    recon = pd.concat([
        studies.sufficient_reconstruction(model, x, clean_expls, ids, conditions="clean", **common),
        studies.sufficient_reconstruction(model, copies, copy_expls, copy_ids, conditions="corrupted",
                                          extra_columns=pd.DataFrame(extra), **common),
    ], ignore_index=True)
    timings["reconstruction_s"] = time.time() - t
    summary_table = studies.reconstruction_summary(recon, rob)
    scored = recon["target"] if "target" in recon else recon["reference_label"]
    explained = pd.Series([e.target for e in clean_expls + copy_expls])
    mismatch = recon.assign(mismatch=(explained.to_numpy() != scored.to_numpy()))
    summary = {
        "settings": {"package": spectral_attribution.__file__, "model": args.model,
                     "images": args.images, "image_ids": ids, "sample_seed": args.seed,
                     "grid_size": args.grid, "nb_design": args.designs,
                     "random_draws": args.draws, "corruptions": args.corruptions,
                     "severities": severities, "explain_severities": args.explain_severities,
                     "target_policy": args.target_policy if _targets is not None
                     else "old workflow: WCAM of the label, depth scored against the prediction",
                     "autocast": autocast, "channels_last": True, "forward": forward,
                     "threads": torch.get_num_threads(),
                     "machine": platform.processor() or platform.machine(),
                     "cpu_capability": torch.backends.cpu.get_cpu_capability()},
        "clean_accuracy": float(np.mean(rob["clean_prediction"] == rob["label"])),
        "mean_robustness": float(rob["robustness"].mean()),
        "explained_class_differs_from_scored_class": {
            c: f"{int(part['mismatch'].sum())} of {len(part)}"
            for c, part in mismatch.groupby("condition", sort=False)},
        "reconstruction_summary": summary_table.to_dict(orient="records"),
        "timings_s": {k: round(v, 1) for k, v in timings.items()},
        "total_s": round(time.time() - t0, 1),
    }
    out.mkdir(parents=True, exist_ok=True)
    studies.write_table(rob, out / "robustness")
    studies.write_table(recon, out / "reconstruction")
    studies.write_table(summary_table, out / "reconstruction_summary")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
    lines = ["| quantity | value |", "| --- | --- |"]
    for k, v in summary.items():
        if k not in ("settings", "reconstruction_summary"):
            lines.append(f"| {k} | {json.dumps(v, default=float)} |")
    (out / "summary.md").write_text(
        "Settings: " + json.dumps(summary["settings"]) + "\n\n" + "\n".join(lines) + "\n\n"
        + summary_table.to_markdown(index=False, floatfmt=".4g") + "\n")
    print(json.dumps(summary, indent=2, default=float))
    return summary


if __name__ == "__main__":
    main()
