"""Zoom study on real photographs: level contributions, regular vs zoomed view.

Regular view: Resize(256) + CenterCrop(224), J = 3; zoomed: Resize(512) +
CenterCrop(224), J = 4. The grid must align with the sub-bands at both J
(16 or 32 at 224 px). Prints the mean (± std) contribution of every level per
view, i.e. the rows of the original's zoom table for one model.

Usage::

    python benchmarks/zoom_numbers.py --images ../shared/data/imagenet-sample --n 16
"""

from __future__ import annotations

import argparse

import torch

from spectral_attribution import data, studies
from spectral_attribution.models import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", required=True, help="labelled folder (labels.csv or WordNet sub-folders)")
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default="efficientnet-lite0")
    parser.add_argument("--grid", type=int, default=16)
    parser.add_argument("--designs", type=int, default=4)
    parser.add_argument("--autocast", default="bfloat16", choices=("none", "bfloat16"))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()

    table = data.sample_images(data.labelled_folder(args.images), args.n, seed=args.seed)
    model = load_model(args.model, device=args.device)
    autocast = None if args.autocast == "none" else args.autocast
    df = studies.zoom_study(model, [data.load_image(p) for p in table["path"]], list(table["image_id"]),
                            grid_size=args.grid, nb_design=args.designs, seed=args.seed,
                            explainer_kwargs={"autocast": autocast, "channels_last": True},
                            progress=False)
    summary = (df.groupby(["view", "level_order", "level"])["contribution"]
               .agg(["mean", "std"]).round(3))
    print(f"{args.model}, {args.n} images (seed {args.seed}) of {args.images}, grid {args.grid}, "
          f"{args.designs} designs, autocast {autocast}")
    print(summary.to_string())


if __name__ == "__main__":
    main()
