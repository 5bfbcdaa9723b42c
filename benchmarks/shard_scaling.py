"""Time per forward pass of each WCAM shard, from a workflow run's benchmark files.

The rule ``wcam`` writes ``results/benchmarks/wcam/{model}/{variant}/shard-NNN.tsv``
(Snakemake's ``benchmark:``: wall-clock seconds ``s``, ``cpu_time``, peak
memory) beside each shard ``results/wcam/{model}/{variant}/shard-NNN.npz``. For
every shard with both, this prints its size and timing:

* ``forwards``: forward passes of the shard, images × nb_design × (grid² + 2)
  (the shard's provenance records ``nb_forward`` per image; the script checks
  it against the grid size and designs stored with the explanations);
* ``wall_s`` and ``cpu_s`` from the benchmark file; they include the job's
  fixed costs (Python start-up, loading the model and the images), which
  weigh heavily on tiny shards;
* ``ms_per_forward`` = wall_s / forwards.

With shards of at least two sizes it also fits ``seconds = fixed + per_forward
× forwards`` (least squares, wall-clock and CPU time), which separates the
fixed cost of a shard from the cost of one forward pass: the figures for
scaling a run up (forward passes per model, hours for a number of shards).

Usage::

    python benchmarks/shard_scaling.py RESULTS_DIR [RESULTS_DIR ...] [--csv OUT.csv]

RESULTS_DIR is a run's ``results`` folder (or the working directory holding it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from spectral_attribution import results

COLUMNS = ["run", "model", "variant", "shard", "images", "grid_size", "nb_design", "forwards",
           "wall_s", "cpu_s", "mean_load", "ms_per_forward"]


def _results_dir(path: Path) -> Path:
    path = Path(path)
    return path / "results" if (path / "results" / "wcam").is_dir() else path


def shard_timings(run: str | Path) -> pd.DataFrame:
    """One row per WCAM or spatial Sobol' shard of ``run`` that has a benchmark file.

    Parameters
    ----------
    run:
        A run's ``results`` folder, or the working directory that holds it.

    Returns
    -------
    pandas.DataFrame with the columns of :data:`COLUMNS` (``forwards`` is an
    int; ``wall_s``, ``cpu_s`` in seconds; ``ms_per_forward`` in ms, NaN for
    an empty shard).

    Raises
    ------
    FileNotFoundError
        No ``wcam`` folder under ``run``.
    ValueError
        A shard's recorded ``nb_forward`` disagrees with nb_design × (grid² + 2).
    """
    root = _results_dir(Path(run))
    wcam_dir = root / "wcam"
    if not wcam_dir.is_dir():
        raise FileNotFoundError(f"no WCAM shards under {root} (expected {wcam_dir})")
    rows = []
    # WCAM shards (rule wcam) and spatial Sobol' shards (rule spatial_sobol, their own folder)
    found = [(npz, npz.parent.parent.name, npz.parent.name,
              root / "benchmarks" / "wcam" / npz.parent.parent.name / npz.parent.name)
             for npz in sorted(wcam_dir.glob("*/*/shard-*.npz"))]
    found += [(npz, npz.parent.name, "spatial", root / "benchmarks" / "spatial_sobol" / npz.parent.name)
              for npz in sorted((root / "spatial").glob("*/shard-*.npz"))]
    for npz, model, variant, bench_dir in found:
        bench = bench_dir / f"{npz.stem}.tsv"
        if not bench.is_file() or not npz.with_suffix(".csv").is_file():
            continue  # shard not finished, or benchmarks not written
        shard = results.load_shard(npz)
        per_image = int(shard.provenance["nb_forward"])
        grid = nb_design = None
        if shard.explanations:
            settings = shard.explanations[0].settings
            grid, nb_design = int(settings["grid_size"]), int(settings["nb_design"])
            if per_image != nb_design * (grid ** 2 + 2):
                raise ValueError(f"{npz}: nb_forward {per_image} != nb_design {nb_design} x "
                                 f"(grid {grid}^2 + 2)")
        forwards = per_image * len(shard)
        b = pd.read_csv(bench, sep="\t").iloc[-1]  # the last line is the (only) run
        rows.append({"run": str(root), "model": model, "variant": variant,
                     "shard": npz.stem.removeprefix("shard-"), "images": len(shard),
                     "grid_size": grid, "nb_design": nb_design, "forwards": forwards,
                     "wall_s": float(b["s"]), "cpu_s": float(b["cpu_time"]),
                     "mean_load": float(b["mean_load"]),
                     "ms_per_forward": 1000 * float(b["s"]) / forwards if forwards else np.nan})
    return pd.DataFrame(rows, columns=COLUMNS)


def fit(table: pd.DataFrame, column: str = "wall_s") -> dict | None:
    """Least-squares ``column = fixed_s + per_forward_s × forwards``.

    ``column`` is ``"wall_s"`` or ``"cpu_s"`` (CPU time depends less on what
    else the machine runs). Returns ``{"fixed_s", "per_forward_s", "shards"}``
    (seconds), or ``None`` when the shards do not have two different sizes.
    """
    t = table[table["forwards"] > 0]
    if t["forwards"].nunique() < 2:
        return None
    per_forward, fixed = np.polyfit(t["forwards"].astype(float), t[column], 1)
    return {"fixed_s": float(fixed), "per_forward_s": float(per_forward), "shards": len(t)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="results folder(s) of workflow runs")
    parser.add_argument("--csv", type=Path, help="also write the table to this CSV file")
    args = parser.parse_args(argv)
    table = pd.concat([shard_timings(r) for r in args.runs], ignore_index=True)
    if table.empty:
        print("no WCAM shard with a benchmark file", file=sys.stderr)
        return 1
    with pd.option_context("display.width", 200, "display.max_columns", None):
        print(table.drop(columns="run").to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print()
    for column in ("wall_s", "cpu_s"):
        line = fit(table, column)
        if line is None:
            print("(one shard size only: no separation of fixed and per-forward cost)")
            break
        print(f"fit over {line['shards']} shards: {column} = {line['fixed_s']:.3g} s per shard "
              f"+ {1000 * line['per_forward_s']:.3g} ms per forward pass")
    if args.csv:
        table.to_csv(args.csv, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
