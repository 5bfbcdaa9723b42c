"""The claims table on real photographs: the workflow on a labelled folder, CPU-sized.

Runs the Snakemake workflow (the same rules as ``make run``) in its own
working directory on ``N`` images drawn (seeded, without replacement) from a
labelled folder (``../shared/data/imagenet-sample`` by default) with
EfficientNet-Lite0, WCAMs on a 16 x 16 grid with 8 designs in float32, and
copies the claims table, the WCAM noise table, the study tables and the
claims figure to ``--out`` with the list of images and the machine.

Settings (override with the options): clean images only (no corrupted copies
are explained; robustness uses the 15 standard corruptions at severities 1,
3, 5), 3 random draws per random order, zoom at grid 16 with 4 designs (the
paper's zoom setting; J = 4 in both views), spatial Sobol' at grid 8 with 8
designs, the WCAM noise on the first 4 images, target policy ``prediction``.

Usage::

    nice .venv/bin/python benchmarks/claims_numbers.py --n 16 \\
        --workdir /tmp/claims-numbers --out benchmarks/results/claims_numbers
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

STANDARD_15 = ["gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur",
               "motion_blur", "zoom_blur", "snow", "frost", "fog", "brightness", "contrast",
               "elastic_transform", "pixelate", "jpeg_compression"]


def config_for(args) -> dict:
    """The whole workflow configuration (a ``--configfile`` replaces the Snakefile's default)."""
    return {
        "seed": args.seed,
        "device": "cpu",
        "threads": args.threads,
        "model_dir": None,
        "target_policy": "prediction",
        "data": {"source": "folder", "root": str(Path(args.images).resolve()),
                 "n_images": args.n, "stratify": False},
        "models": [{"nickname": args.model, "name": args.model}],
        "wcam": {"grid_size": args.grid, "nb_design": args.designs, "levels": 3,
                 "wavelet": "haar", "estimator": "jansen",
                 "batch_size": args.designs * (args.grid ** 2 + 2) // 16,
                 "precision": "float32", "backend": "auto", "shard_size": args.shard_size},
        "corruptions": {"names": STANDARD_15, "severities": [1, 3, 5],
                        "explain": {"per_image": 0, "severities": None, "prefer_changed": True}},
        "reconstruction": {"nb_random_draws": args.draws, "max_k": None, "corrupted": False},
        "zoom": {"enabled": True, "grid_size": args.grid, "nb_design": args.zoom_designs,
                 "views": {"regular": [256, 224, 4], "zoomed": [512, 224, 4]}},
        "faithfulness": {"enabled": True, "nb_subsets": 128, "subset_fraction": 0.2, "steps": 16,
                         "score": "probability", "spatial": {"grid_size": 8, "nb_design": 8}},
        "baselines": {"nb_draws": args.draws, "noise_images": args.noise_images},
        "figures": {"gallery_images": 2, "reconstruction_images": 4},
    }


def main(argv=None) -> int:
    here = Path(__file__).resolve().parent
    root = here.parent
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", default=str(root.parent / "shared" / "data" / "imagenet-sample"))
    p.add_argument("--n", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", default="efficientnet-lite0")
    p.add_argument("--grid", type=int, default=16)
    p.add_argument("--designs", type=int, default=8)
    p.add_argument("--zoom-designs", type=int, default=4)
    p.add_argument("--draws", type=int, default=3)
    p.add_argument("--noise-images", type=int, default=4)
    p.add_argument("--shard-size", type=int, default=4)
    p.add_argument("--threads", type=int, default=1, help="threads per job")
    p.add_argument("--cores", type=int, default=2, help="Snakemake --cores")
    p.add_argument("--workdir", default="/tmp/claims-numbers")
    p.add_argument("--out", default=str(here / "results" / "claims_numbers"))
    args = p.parse_args(argv)

    workdir, out = Path(args.workdir).resolve(), Path(args.out).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "claims_numbers.yaml"
    config.write_text(yaml.safe_dump(config_for(args), sort_keys=False))
    exe = Path(sys.executable).parent / "snakemake"
    cmd = [str(exe if exe.exists() else shutil.which("snakemake")), "--snakefile",
           str(root / "workflow" / "Snakefile"), "--workflow-profile", str(root / "profiles" / "default"),
           "--directory", str(workdir), "--configfile", str(config),
           "--cores", str(args.cores), "--rerun-incomplete"]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    start = time.time()
    with open(workdir / "snakemake.log", "w") as log:
        code = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=workdir, env=env)
    elapsed = time.time() - start
    if code:
        print(f"snakemake failed ({code}); see {workdir / 'snakemake.log'}", file=sys.stderr)
        return code

    out.mkdir(parents=True, exist_ok=True)
    for name in ("claims", "wcam_noise", "reconstruction", "zoom", "faithfulness", "robustness"):
        for ext in ("csv", "md"):
            src = workdir / "results" / "tables" / f"{name}.{ext}"
            if src.exists():
                shutil.copy(src, out / src.name)
    shutil.copy(workdir / "figures" / "claims.png", out / "claims.png")
    shutil.copy(workdir / "results" / "data" / "samples.csv", out / "images.csv")
    shutil.copy(config, out / config.name)
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    (out / "machine.md").write_text(
        f"- CPU: {cpu}, {os.cpu_count()} cores, torch {torch.__version__} "
        f"({torch.backends.cpu.get_cpu_capability()})\n"
        f"- workflow wall time: {elapsed / 60:.1f} min (snakemake --cores {args.cores}, shared machine)\n")
    print((out / "claims.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
