"""Zoom study on real photographs: level contributions, regular vs zoomed view.

Two comparisons on the same images (``studies.zoom_study``):

* **like with like** (the default): Resize(256) and Resize(512), both
  CenterCrop(224) and ``J = 4``; the table is the per-coefficient level
  contribution of each view;
* **the paper's setting**: Resize(256) with ``J = 3`` against Resize(512)
  with ``J = 4``, reported per physical scale (each level's importance per
  coefficient over the scales both views hold, the zoomed view's finest
  level aside); the zoomed view's WCAMs of the first comparison are reused.

Both explain the same class in every view (``--target-policy``) and report
how often the prediction changes between views. The grid must align with the
sub-bands at both J (16 or 32 at 224 px).

The script also runs on an older version of the package (its ``src`` on
``PYTHONPATH``): it then runs that version's default zoom study (J = 3 vs
J = 4, each view's own prediction explained).

Usage::

    python benchmarks/zoom_numbers.py --images ../shared/data/imagenet-sample --n 16 --out DIR
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import pandas as pd
import torch

import spectral_attribution
from spectral_attribution import data, studies
from spectral_attribution.models import load_model


def _changed(df: pd.DataFrame) -> dict:
    """Share of images whose prediction (old versions: the per-view target) differs from the first view's."""
    col = "prediction" if "prediction" in df else "target"
    per = df.drop_duplicates(["image_id", "view"]).pivot(index="image_id", columns="view", values=col)
    first = list(dict.fromkeys(df["view"]))[0]
    return {v: f"{int((per[v] != per[first]).sum())} of {len(per)}" for v in per.columns if v != first}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", required=True, help="labelled folder (labels.csv or WordNet sub-folders)")
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default="efficientnet-lite0")
    parser.add_argument("--grid", type=int, default=16)
    parser.add_argument("--designs", type=int, default=4)
    parser.add_argument("--target-policy", default="prediction", choices=("prediction", "label"))
    parser.add_argument("--autocast", default="none", choices=("none", "bfloat16"))
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--backend", default="eager",
                        help="forward backend (versions with spectral_attribution.models.backends)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", default=None, help="folder for zoom.csv and the tables")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    table = data.sample_images(data.labelled_folder(args.images), args.n, seed=args.seed)
    model = load_model(args.model, device=args.device)
    autocast = None if args.autocast == "none" else args.autocast
    pils = [data.load_image(p) for p in table["path"]]
    ids, labels = list(table["image_id"]), [int(v) for v in table["label"]]
    try:  # versions with precision/backend keywords: float32 through the chosen backend
        from spectral_attribution.models import backends as _backends  # noqa: F401
        forward = {"precision": args.autocast if autocast else "float32", "backend": args.backend}
    except ImportError:  # older versions: their autocast / channels-last
        forward = {"autocast": autocast, "channels_last": True}
    common = dict(grid_size=args.grid, nb_design=args.designs, seed=args.seed, progress=False,
                  explainer_kwargs=forward)
    header = (f"{spectral_attribution.__file__}: {args.model}, {args.n} images (seed {args.seed}) of "
              f"{args.images}, grid {args.grid}, {args.designs} designs, forward {forward}, "
              f"{torch.get_num_threads()} threads, {platform.processor() or platform.machine()} "
              f"({torch.backends.cpu.get_cpu_capability()}); images: {', '.join(ids)}")
    print(header)
    runs = {}
    if not hasattr(studies, "PAPER_ZOOM_VIEWS"):  # an older version: its default study
        runs["old default (J = 3 vs J = 4, each view's prediction)"] = studies.zoom_study(
            model, pils, ids, **common)
    else:
        like, expls = studies.zoom_study(model, pils, ids, labels=labels,
                                         target_policy=args.target_policy,
                                         return_explanations=True, **common)
        runs["like with like (J = 4 in both views)"] = like
        runs["paper's setting (J = 3 vs J = 4), per physical scale"] = studies.zoom_study(
            model, pils, ids, labels=labels, target_policy=args.target_policy,
            views=studies.PAPER_ZOOM_VIEWS, explanations={"zoomed": expls["zoomed"]}, **common)
    out = Path(args.out) if args.out else None
    report = {"header": header}
    for k, (name, df) in enumerate(runs.items()):
        zt = studies.zoom_table(df)
        print(f"\n{name}\nprediction changed: {_changed(df)}")
        print(zt.T.to_string())
        report[name] = {"prediction_changed": _changed(df), "table": zt.reset_index().to_dict("records")}
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            df.to_csv(out / f"zoom-{k}.csv", index=False)
            studies.write_table(zt, out / f"zoom-table-{k}")
    if out is not None:
        (out / "zoom_summary.json").write_text(json.dumps(report, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
