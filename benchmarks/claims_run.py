"""The claims run (issue 23): the workflow on config/claims-run.yaml, progress in a log.

Runs the Snakemake workflow (the rules of ``make run``) in its own working
directory with ``config/claims-run.yaml`` (48 ImageNet-sample photographs,
grid 16, 8 designs, the energy baselines; ``--n`` overrides the number of
photographs, e.g. 2 for a timing estimate), appends Snakemake's progress
lines ("k of N steps") with a time stamp to ``<workdir>/claims_run.log``,
and copies the claims table (CSV and Markdown), the depth-robustness and
WCAM noise tables, the claims figure, the list of images, the
configuration and ``machine.md`` (CPU, load, wall time) to ``--out``; the
README's summary (:func:`~spectral_attribution.studies.claims.write_claims_summary`)
goes to ``<out>/claims_summary.md`` and ``<workdir>/results/tables/claims_summary.md``.

Usage (from the repository root)::

    nohup nice .venv/bin/python benchmarks/claims_run.py --workdir /tmp/claims-run \\
        --out benchmarks/results/claims_run > /tmp/claims-run.out 2>&1 &
    .venv/bin/python benchmarks/claims_run.py --dry-run      # snakemake -n: the jobs it would run
    .venv/bin/python benchmarks/claims_run.py --n 2 --workdir /tmp/claims-2 --out /tmp/claims-2/out
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def run_config(path: Path, n: int | None, images: str | None) -> dict:
    """The configuration of ``path`` with an absolute image folder (and ``n`` when given)."""
    config = yaml.safe_load(path.read_text())
    root = Path(images or config["data"]["root"])
    if not root.is_absolute():
        # relative to the repository; from a git worktree, to the main checkout's
        candidates = [ROOT / root]
        try:
            common = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--git-common-dir"],
                                    capture_output=True, text=True, check=True).stdout.strip()
            candidates.append((ROOT / common).resolve().parent / root)
        except (OSError, subprocess.CalledProcessError):
            pass
        root = next((c for c in candidates if c.exists()), candidates[0])
    if not root.is_dir():
        raise SystemExit(f"{path}: data.root {str(root)!r} is not a folder")
    config["data"]["root"] = str(root.resolve())
    if n is not None:
        if n < 1:
            raise SystemExit(f"--n must be a positive integer, got {n}")
        config["data"]["n_images"] = int(n)
        config["baselines"]["noise_images"] = min(int(config["baselines"]["noise_images"]), int(n))
    return config


def _machine(elapsed: float, cores: int) -> str:
    cpu = "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return (f"- CPU: {cpu}, {os.cpu_count()} cores; load average at the end "
            f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}\n"
            f"- workflow wall time: {elapsed / 60:.1f} min (snakemake --cores {cores})\n")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default=str(ROOT / "config" / "claims-run.yaml"))
    p.add_argument("--images", default=None, help="labelled folder (default: the config's)")
    p.add_argument("--n", type=int, default=None, help="photographs (default: the config's)")
    p.add_argument("--cores", type=int, default=2, help="Snakemake --cores")
    p.add_argument("--workdir", default="/tmp/claims-run")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "claims_run"))
    p.add_argument("--dry-run", action="store_true", help="snakemake -n only")
    args = p.parse_args(argv)

    workdir, out = Path(args.workdir).resolve(), Path(args.out).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "claims-run.yaml"
    config.write_text(yaml.safe_dump(run_config(Path(args.config), args.n, args.images),
                                     sort_keys=False))
    exe = Path(sys.executable).parent / "snakemake"
    cmd = [str(exe if exe.exists() else shutil.which("snakemake")), "--snakefile",
           str(ROOT / "workflow" / "Snakefile"), "--workflow-profile", str(ROOT / "profiles" / "default"),
           "--directory", str(workdir), "--configfile", str(config),
           "--cores", str(args.cores), "--rerun-incomplete"] + (["-n"] if args.dry_run else [])
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    log_path = workdir / "claims_run.log"
    start = time.time()
    with open(log_path, "a") as log:
        log.write(f"[{time.strftime('%H:%M:%S')}] start: {' '.join(cmd)}\n")
        log.flush()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=workdir,
                                env=env, text=True)
        with open(workdir / "snakemake.log", "w") as full:
            for line in proc.stdout:
                full.write(line)
                if re.search(r"\d+ of \d+ steps|Error|Job stats|jobs? (in total|to run)", line) \
                        or args.dry_run:
                    log.write(f"[{time.strftime('%H:%M:%S')}] {line}")
                    log.flush()
        code = proc.wait()
        elapsed = time.time() - start
        log.write(f"[{time.strftime('%H:%M:%S')}] end: exit {code} after {elapsed / 60:.1f} min\n")
    if code:
        print(f"snakemake failed ({code}); see {workdir / 'snakemake.log'}", file=sys.stderr)
        return code
    if args.dry_run:
        print(log_path.read_text())
        return 0

    from spectral_attribution.studies.claims import write_claims_summary

    tables = workdir / "results" / "tables"
    write_claims_summary(tables / "claims.csv", tables / "claims_summary.md")
    out.mkdir(parents=True, exist_ok=True)
    for name in ("claims", "claims_summary", "depth_robustness", "wcam_noise", "zoom",
                 "faithfulness", "reconstruction"):
        for ext in ("csv", "md"):
            src = tables / f"{name}.{ext}"
            if src.exists():
                shutil.copy(src, out / src.name)
    for src, name in ((workdir / "figures" / "claims.png", "claims.png"),
                      (workdir / "results" / "data" / "samples.csv", "images.csv"),
                      (config, config.name), (log_path, log_path.name)):
        if src.exists():
            shutil.copy(src, out / name)
    (out / "machine.md").write_text(_machine(elapsed, args.cores))
    print((out / "claims_summary.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
