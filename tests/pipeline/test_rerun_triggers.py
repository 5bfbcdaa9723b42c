"""A job reruns when, and only when, a value it reads changes (issue 10, section 1).

One clean WCAM shard is built with ``config/tiny.yaml``; then the dry run of
that shard (``snakemake -n``, Snakemake's default rerun triggers: mtime,
params, input, code, software environment) is asked again with one setting
changed. Settings the WCAM job does not read (the studies', the figures', the
spatial Sobol' map's, the thread count) must not schedule it; settings it
reads (the grid, the number of designs, the seed) must.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SNAKEFILE = ROOT / "workflow" / "Snakefile"
#: Snakemake finds profiles/default by itself only from the repository root.
WORKFLOW_PROFILE = ROOT / "profiles" / "default"
TINY = ROOT / "config" / "tiny.yaml"
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
MODEL = "efficientnet-lite0"
SHARD = f"results/wcam/{MODEL}/clean/shard-000.npz"

pytestmark = [
    pytest.mark.xdist_group("rerun-triggers-shard"),  # one worker builds the module's shared fixture once
    pytest.mark.slow,
    pytest.mark.skipif(not SNAKEMAKE.exists() and shutil.which("snakemake") is None,
                       reason="snakemake is not installed (pip install -e '.[workflow]')"),
]


def _run(workdir: Path, *args, timeout=600) -> subprocess.CompletedProcess:
    exe = str(SNAKEMAKE) if SNAKEMAKE.exists() else shutil.which("snakemake")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run([exe, "--snakefile", str(SNAKEFILE), "--workflow-profile", str(WORKFLOW_PROFILE),
                           "--directory", str(workdir), *args],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=workdir)


def _scheduled(out: str) -> dict[str, int]:
    """Rule -> number of jobs, from the dry run's 'Job stats' table ({} when nothing to do)."""
    if "Job stats:" not in out:
        return {}
    block = out.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    return {rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", block, flags=re.M)
            if rule != "total"}


def _edited(path: Path, dotted: str, value) -> Path:
    cfg = copy.deepcopy(yaml.safe_load(TINY.read_text()))
    *parents, leaf = dotted.split(".")
    node = cfg
    for key in parents:
        node = node[key]
    assert leaf in node, f"{dotted} is not a key of {TINY.name}"
    assert node[leaf] != value, f"{dotted} already is {value!r}"
    node[leaf] = value
    out = path / f"{dotted}.yaml"
    out.write_text(yaml.safe_dump(cfg))
    return out


@pytest.fixture(scope="module")
def built_shard(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("rerun")
    # the target first: --configfile takes every file name that follows it
    proc = _run(workdir, SHARD, "--cores", "2", "--configfile", str(TINY))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (workdir / SHARD).with_suffix(".csv").exists()
    # the unchanged configuration schedules nothing
    again = _run(workdir, SHARD, "-n", "--configfile", str(TINY))
    assert again.returncode == 0, again.stderr[-3000:]
    assert _scheduled(again.stdout + again.stderr) == {}
    return workdir


@pytest.mark.parametrize("dotted, value", [
    ("faithfulness.steps", 6),
    ("faithfulness.nb_subsets", 16),
    ("faithfulness.spatial.grid_size", 8),   # the spatial Sobol' map's grid, not the WCAM's
    ("corruptions.names", ["gaussian_noise"]),
    ("corruptions.severities", [2, 3]),
    ("corruptions.explain.per_image", 2),
    ("reconstruction.nb_random_draws", 3),
    ("reconstruction.max_k", 5),
    ("reconstruction.corrupted", False),
    ("zoom.grid_size", 8),
    ("zoom.nb_design", 4),
    ("zoom.views", {"regular": [256, 224, 3]}),
    ("figures.gallery_images", 2),
    ("figures.reconstruction_images", 1),
    ("threads", 2),
])
def test_a_setting_the_shard_does_not_read_does_not_schedule_it(built_shard, tmp_path, dotted, value):
    config = _edited(tmp_path, dotted, value)
    proc = _run(built_shard, SHARD, "-n", "--configfile", str(config))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "wcam" not in _scheduled(out), out[-3000:]


@pytest.mark.parametrize("dotted, value, reason", [
    ("wcam.grid_size", 8, "Params have changed"),
    ("wcam.nb_design", 4, "Params have changed"),
    ("wcam.precision", "bfloat16", "Params have changed"),
    # (the seed also draws the sample: a folder holds one seed's results, and another seed
    # is refused before any job, see run_checks and test_workflow)
])
def test_a_setting_the_shard_reads_schedules_it(built_shard, tmp_path, dotted, value, reason):
    config = _edited(tmp_path, dotted, value)
    proc = _run(built_shard, SHARD, "-n", "--configfile", str(config))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert _scheduled(out).get("wcam") == 1, out[-3000:]
    assert reason in out
