"""The Snakemake workflow end to end, on the tiny configuration (slow; part of CI).

One real run in a temporary working directory (``snakemake --directory``) is
shared by several tests: it is killed (SIGKILL of its process group, like a
lost node) once the first WCAM shard is finished, unlocked and resumed; the
resumed run must keep that shard and build every table and figure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEFILE = ROOT / "Snakefile"
TINY = ROOT / "config" / "tiny.yaml"
REPLICATION = ROOT / "config" / "replication.yaml"
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
MODEL = "efficientnet-lite0"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SNAKEMAKE.exists() and shutil.which("snakemake") is None,
                       reason="snakemake is not installed (pip install -e '.[workflow]')"),
]


def _snakemake_cmd(workdir, *args):
    exe = str(SNAKEMAKE) if SNAKEMAKE.exists() else shutil.which("snakemake")
    return [exe, "--snakefile", str(SNAKEFILE), "--directory", str(workdir), *args]


def _run(workdir, *args, timeout=600):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(_snakemake_cmd(workdir, *args), capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=workdir)


def _expected_outputs(workdir: Path) -> list[Path]:
    from spectral_attribution import pipeline

    out = [workdir / "results" / "tables" / f"{t}.{ext}"
           for t in pipeline.TABLES for ext in ("csv", "md", "tex", "html")]
    out += [workdir / "figures" / f"{f}.{ext}" for f in pipeline.FIGURES for ext in ("pdf", "png")]
    return out


def _job_id(stdout: str, output_fragment: str) -> str | None:
    """The jobid Snakemake gave the job whose output list contains ``output_fragment``."""
    for block in re.split(r"\n(?=\[[A-Z][a-z]{2} )", stdout):
        if re.search(r"^\s*output: [^\n]*" + re.escape(output_fragment), block, flags=re.M):
            m = re.search(r"jobid: (\d+)", block)
            if m:
                return m.group(1)
    return None


@pytest.fixture(scope="module")
def resumed_run(tmp_path_factory):
    """Start the tiny run, SIGKILL it after the first clean WCAM shard, unlock, resume."""
    workdir = tmp_path_factory.mktemp("workflow")
    shard = workdir / "results" / "wcam" / MODEL / "clean" / "shard-000.npz"
    manifest = shard.with_suffix(".csv")
    log = workdir / "first-run.log"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            _snakemake_cmd(workdir, "--configfile", str(TINY), "--cores", "2"),
            stdout=fh, stderr=subprocess.STDOUT, cwd=workdir, env=env, start_new_session=True)
    deadline = time.monotonic() + 420
    killed = False
    try:
        # Wait until the shard is written *and* Snakemake has recorded its job as finished.
        while time.monotonic() < deadline and proc.poll() is None:
            text = log.read_text()
            job = _job_id(text, "clean/shard-000.npz")
            if manifest.exists() and job and re.search(rf"Finished jobid: {job}\b", text):
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
                break
            time.sleep(0.2)
    finally:
        if proc.poll() is None and not killed:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    first_log = log.read_text()
    assert killed, f"the first run ended before it could be killed:\n{first_log[-3000:]}"
    mtime = shard.stat().st_mtime_ns
    incomplete_before = [p for p in _expected_outputs(workdir) if not p.exists()]
    unlock = _run(workdir, "--configfile", str(TINY), "--unlock")
    assert unlock.returncode == 0, unlock.stderr
    start = time.monotonic()
    second = _run(workdir, "--configfile", str(TINY), "--cores", "2", "--rerun-incomplete")
    return {"workdir": workdir, "shard": shard, "mtime": mtime, "second": second,
            "second_seconds": time.monotonic() - start, "first_log": first_log,
            "missing_after_kill": incomplete_before}


def test_resume_keeps_the_finished_shard(resumed_run):
    second = resumed_run["second"]
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-5000:]
    assert resumed_run["missing_after_kill"], "the kill came after the run had finished"
    assert resumed_run["shard"].stat().st_mtime_ns == resumed_run["mtime"]
    # the resumed run never scheduled the finished shard's job again
    assert _job_id(second.stdout + second.stderr, "clean/shard-000.npz") is None
    # no temporary file of an interrupted write is left looking like a result
    leftovers = [p for p in resumed_run["workdir"].rglob("*.npz") if p.name.startswith(".")]
    assert not leftovers


def test_tiny_run_builds_every_table_and_figure(resumed_run):
    assert resumed_run["second"].returncode == 0
    workdir = resumed_run["workdir"]
    for path in _expected_outputs(workdir):
        assert path.exists() and path.stat().st_size > 0, path
    assert (workdir / "figures" / "zoom.pdf").read_bytes().startswith(b"%PDF")
    for rule_log in ("logs/wcam", "logs/zoom", "logs/figures"):
        assert (workdir / rule_log).is_dir()
    assert list((workdir / "results" / "benchmarks" / "wcam").rglob("*.tsv"))


def test_tiny_run_tables_hold_plausible_values(resumed_run):
    workdir = resumed_run["workdir"]
    tables = workdir / "results" / "tables"
    rob = pd.read_csv(tables / "robustness.csv")
    assert list(rob["model"]) == [MODEL] and int(rob["nb_images"][0]) == 2
    assert ((rob["robustness_mean"] >= 0) & (rob["robustness_mean"] <= 1)).all()
    rec = pd.read_csv(workdir / "results" / "studies" / "reconstruction.csv")
    assert set(rec["condition"]) == {"clean", "corrupted"}
    found = rec["depth_share"].dropna()
    assert ((found > 0) & (found <= 1)).all() and len(found) >= 1
    zoom = pd.read_csv(workdir / "results" / "studies" / "zoom.csv")
    sums = zoom.groupby(["image_id", "view"])["contribution"].sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-6)
    assert set(zoom["view"]) == {"regular", "zoomed"}
    faith = pd.read_csv(workdir / "results" / "studies" / "faithfulness.csv")
    assert set(faith["method"]) == {"wcam", "spatial-sobol"}
    assert faith["mu_fidelity"].between(-1, 1).all()
    assert "|" in (tables / "zoom.md").read_text() and "\\begin{tabular}" in (tables / "zoom.tex").read_text()


def test_shards_carry_provenance(resumed_run):
    from spectral_attribution import results

    workdir = resumed_run["workdir"]
    shard = results.load_shard(resumed_run["shard"])
    assert len(shard) == 2
    assert shard.explanations[0].indices.shape == (4, 4)
    assert shard.explanations[0].map.shape == (224, 224)
    prov = shard.provenance
    info = json.loads((workdir / "results" / "models" / f"{MODEL}.json").read_text())
    assert prov["model"]["weights_sha256"] == info["weights_sha256"]
    assert prov["seed"] == 0 and prov["config"]["wcam"]["grid_size"] == 4
    assert "torch" in prov["versions"] and prov["device"]["device"] == "cpu"
    samples = pd.read_csv(workdir / "results" / "data" / "samples.csv", dtype={"image_id": str})
    assert list(shard.manifest["image_id"]) == list(samples["image_id"])
    assert (shard.manifest["seed"] == 0).all()
    corrupted = results.load_manifest(workdir / "results", MODEL, "corrupted")
    assert len(corrupted) == 2 and corrupted["image_id"].str.contains("@").all()


def test_render_one_image_from_results(resumed_run, tmp_path):
    from spectral_attribution import plots, results

    workdir = resumed_run["workdir"]
    image_id = pd.read_csv(workdir / "results" / "data" / "samples.csv", dtype=str)["image_id"][0]
    out = plots.render_from_results(workdir / "results", MODEL, image_id, tmp_path / "one.png")
    assert out.exists() and out.stat().st_size > 1000
    both = plots.render_from_results(workdir / "results", MODEL, image_id, tmp_path / "stem")
    assert both["pdf"].read_bytes().startswith(b"%PDF") and both["png"].exists()
    copy_id = results.load_manifest(workdir / "results", MODEL, "corrupted")["image_id"][0]
    out = plots.render_from_results(workdir / "results", MODEL, copy_id, tmp_path / "c.png",
                                    variant="corrupted")
    assert out.exists()


def test_rebuild_one_figure(resumed_run):
    workdir = resumed_run["workdir"]
    target = workdir / "figures" / "zoom.pdf"
    target.unlink()
    other = workdir / "figures" / "robustness.pdf"
    before = other.stat().st_mtime_ns
    proc = _run(workdir, "--configfile", str(TINY), "--cores", "1", "figures/zoom.pdf")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert target.exists()
    assert other.stat().st_mtime_ns == before
    assert "figure_zoom" in proc.stdout + proc.stderr
    assert "rule wcam" not in proc.stdout + proc.stderr


def test_lint_passes(tmp_path):
    proc = _run(ROOT, "--lint", timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "Lints for" not in out


def test_replication_dry_run_lists_every_job_offline(tmp_path):
    proc = _run(tmp_path, "-n", "--configfile", str(REPLICATION), timeout=180)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", out, flags=re.M))
    # 6 models x 3 variants (clean, corrupted, spatial) x ceil(100 / 10) shards
    assert int(counts["wcam"]) == 6 * 3 * 10
    assert int(counts["zoom"]) == 60 and int(counts["model"]) == 6
    assert not (tmp_path / "results").exists()  # nothing was run


@pytest.mark.parametrize("edit, name", [
    (("  grid_size: 4\n", "  grid_sise: 4\n", 1), "grid_sise"),
    (("seed: 0\n", "seed: 0\ncolour: blue\n", 1), "colour"),
    (("  n_images: 2\n", "  n_images: two\n", 1), "n_images"),
])
def test_a_wrong_config_fails_before_any_work_naming_the_key(tmp_path, edit, name):
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.read_text().replace(*edit))
    proc = _run(tmp_path, "--configfile", str(bad), "--cores", "1", timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert name in out and "Error validating config" in out
    assert not (tmp_path / "results").exists()


def test_slurm_profile_dry_run(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    proc = _run(tmp_path, "-n", "--profile", str(ROOT / "profiles" / "slurm"),
                "--configfile", str(REPLICATION), timeout=180)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert re.search(r"^wcam\s+180$", out, flags=re.M)


@pytest.mark.skipif(os.environ.get("SPECTRAL_ATTRIBUTION_TEST_SLURM") != "1"
                    or shutil.which("sbatch") is None,
                    reason="needs a SLURM cluster (sbatch) and SPECTRAL_ATTRIBUTION_TEST_SLURM=1; "
                           "about 7 minutes on a one-node 2-core cluster")
def test_tiny_run_through_slurm(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    proc = _run(tmp_path, "--profile", str(ROOT / "profiles" / "slurm"),
                "--configfile", str(TINY), timeout=1200)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]
    for path in _expected_outputs(tmp_path):
        assert path.exists(), path


def test_html_report(resumed_run):
    workdir = resumed_run["workdir"]
    proc = _run(workdir, "--configfile", str(TINY), "--report", "report.html", timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (workdir / "report.html").stat().st_size > 10_000
