"""The workflow on a real SLURM cluster, through profiles/slurm (slow; part of CI).

`make test-slurm` starts a one-node cluster (ci/slurm/setup.sh: slurmctld,
slurmd, munged, two stand-in GPUs), runs this module with
``SPECTRAL_ATTRIBUTION_TEST_SLURM=1`` and stops the cluster, also on failure.
Without that variable the cluster tests skip (plain `make test`); with it,
a missing or unhealthy cluster is a failure, never a skip.

* the tiny configuration through the profile, beside a local run of the same
  configuration: every job went through sbatch, and the WCAM shards and the
  study tables equal the local ones;
* a WCAM shard job cancelled (`scancel`) while it computes: no partial output
  survives and the rerun schedules that shard only; the two shards' jobs, each
  asking for a GPU (`--gpus=1`), run side by side;
* the time per forward pass of each shard (benchmarks/shard_scaling.py).

The profile's resources are scaled to the 2-CPU node (1 CPU, 2 GB, 20 min a
job) and its status polling tightened (CI jobs last seconds, not hours);
every other setting is the profile's own.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SNAKEFILE = ROOT / "workflow" / "Snakefile"
#: Snakemake finds profiles/default by itself only from the repository root.
WORKFLOW_PROFILE = ROOT / "profiles" / "default"
TINY = ROOT / "config" / "tiny.yaml"
REPLICATION = ROOT / "config" / "replication.yaml"
PROFILE = ROOT / "profiles" / "slurm"
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
MODEL = "efficientnet-lite0"
REQUIRED = os.environ.get("SPECTRAL_ATTRIBUTION_TEST_SLURM") == "1"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(1800),  # the runs are module fixtures; their time counts in the first test
    pytest.mark.skipif(not SNAKEMAKE.exists() and shutil.which("snakemake") is None,
                       reason="snakemake is not installed (pip install -e '.[workflow]')"),
]

SUBMITTED = re.compile(r"Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (\S+)\)\.")


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def _env():
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def _cmd(workdir, *args):
    exe = str(SNAKEMAKE) if SNAKEMAKE.exists() else shutil.which("snakemake")
    return [exe, "--snakefile", str(SNAKEFILE), "--workflow-profile", str(WORKFLOW_PROFILE),
            "--directory", str(workdir), *args]


def _run(workdir, *args, timeout=900):
    return subprocess.run(_cmd(workdir, *args), capture_output=True, text=True, timeout=timeout,
                          env=_env(), cwd=workdir)


def _start(workdir, log: Path, *args, nice=0):
    """Start snakemake in the background, output to ``log``."""
    with open(log, "w") as fh:
        return subprocess.Popen(_cmd(workdir, *args), stdout=fh, stderr=subprocess.STDOUT,
                                cwd=workdir, env=_env(), start_new_session=True,
                                preexec_fn=(lambda: os.nice(nice)) if nice else None)


def _wait(proc, timeout):
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()  # snakemake cancels its SLURM jobs on SIGTERM
        proc.wait(timeout=60)
        raise


def _submissions(out: str) -> list[dict]:
    """The jobs Snakemake submitted: its job id, the SLURM job id, rule, log."""
    rows = []
    for job, slurm_id, log in SUBMITTED.findall(out):
        rule = re.search(r"/slurm_logs/rule_([^/]+)/", log)
        rows.append({"job": job, "slurm_id": slurm_id, "log": Path(log),
                     "rule": rule.group(1) if rule else None})
    return rows


def _job_stats(out: str) -> dict[str, int]:
    """The 'Job stats' table Snakemake prints before it starts (rule -> jobs)."""
    block = out.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    return {rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", block, flags=re.M)
            if rule != "total"}


def _slurm_jobs(cluster) -> dict[str, dict]:
    """SLURM job id -> its record in the cluster's job completion log."""
    jobs = {}
    for line in cluster["jobcomp"].read_text().splitlines():
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        if "JobId" in fields:
            jobs[fields["JobId"]] = fields
    return jobs


def _expected_outputs(workdir: Path) -> list[Path]:
    from spectral_attribution import pipeline

    out = [workdir / "results" / "tables" / f"{t}.{ext}"
           for t in pipeline.TABLES for ext in ("csv", "md", "tex")]
    out += [workdir / "figures" / f"{f}.{ext}" for f in pipeline.FIGURES for ext in ("pdf", "png")]
    return out


def _ci_profile(dest: Path, gpu_rules=()) -> Path:
    """profiles/slurm with its resources scaled to the one-node CI cluster.

    Every job asks for 1 CPU, 2 GB and 20 minutes and runs one thread (as the
    local reference run does, so that the numbers are the same); rules in
    ``gpu_rules`` also ask for one GPU. Status checks start 2 s after a
    submission or a finished job instead of 40 s; SLURM's log of every job is
    kept. Everything else is the profile's own.
    """
    prof = yaml.safe_load((PROFILE / "config.yaml").read_text())
    fit = {"cpus_per_task": 1, "mem_mb": 2000, "runtime": 20}
    prof["default-resources"].update(fit)
    for rule in set(prof["set-resources"]) | set(gpu_rules):
        prof["set-resources"].setdefault(rule, {}).update(fit)
    for rule in gpu_rules:
        prof["set-resources"][rule]["gpu"] = 1
    prof["set-threads"] = {rule: 1 for rule in prof["set-threads"]}
    prof["slurm-init-seconds-before-status-checks"] = 2
    prof["slurm-keep-successful-logs"] = True
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "config.yaml").write_text(yaml.safe_dump(prof, sort_keys=False))
    return dest


def _shard_scaling():
    spec = importlib.util.spec_from_file_location("shard_scaling", ROOT / "benchmarks" / "shard_scaling.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _leftovers(workdir: Path) -> list[Path]:
    """Temporary files of interrupted atomic writes (results.atomic_path)."""
    return [p for p in (workdir / "results").rglob("*") if ".tmp-" in p.name]


# --------------------------------------------------------------------------
# no cluster needed
# --------------------------------------------------------------------------
def test_slurm_profile_dry_run(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    proc = _run(tmp_path, "-n", "--profile", str(PROFILE), "--configfile", str(REPLICATION),
                timeout=180)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    # 6 models x 2 variants (clean, corrupted) x 10 shards; spatial Sobol' maps have their own rule
    assert re.search(r"^wcam\s+120$", out, flags=re.M)
    assert re.search(r"^spatial_sobol\s+60$", out, flags=re.M)


def test_default_profile_does_not_override_the_slurm_profile():
    """profiles/default is loaded beside profiles/slurm and wins on shared keys."""
    default = yaml.safe_load((ROOT / "profiles" / "default" / "config.yaml").read_text())
    slurm = yaml.safe_load((PROFILE / "config.yaml").read_text())
    clashes = {k: (default[k], slurm[k]) for k in set(default) & set(slurm) if default[k] != slurm[k]}
    assert not clashes, f"profiles/default would override profiles/slurm: {clashes}"
    # the local one-GPU-job limit of profiles/default must not hold across the cluster
    assert any(r.replace(" ", "").startswith("gpu=") for r in default.get("resources", []))
    assert slurm["set-resource-scopes"] == {"gpu": "local"}


def test_ci_profile_changes_only_resources_and_polling(tmp_path):
    prof = yaml.safe_load((_ci_profile(tmp_path, gpu_rules=["wcam"]) / "config.yaml").read_text())
    orig = yaml.safe_load((PROFILE / "config.yaml").read_text())
    changed = {k for k in set(prof) | set(orig) if prof.get(k) != orig.get(k)}
    assert changed == {"default-resources", "set-resources", "set-threads",
                       "slurm-init-seconds-before-status-checks", "slurm-keep-successful-logs"}
    assert prof["set-resources"]["wcam"] == {"runtime": 20, "mem_mb": 2000, "cpus_per_task": 1, "gpu": 1}
    assert prof["default-resources"]["slurm_partition"] == ""


_WRITER = """
import sys, time
from spectral_attribution import pipeline, results
with pipeline.logged(sys.argv[2]):
    with results.atomic_path(sys.argv[1]) as tmp:
        tmp.write_bytes(b"half a shard")
        sys.__stdout__.write("writing\\n")
        sys.__stdout__.flush()
        time.sleep(120)
"""


def test_sigterm_in_the_middle_of_a_write_leaves_no_temporary_file(tmp_path):
    """scancel, a time limit and Snakemake stop a job with SIGTERM: the
    workflow's scripts (inside pipeline.logged) clean up before they exit."""
    out, log = tmp_path / "shard-000.npz", tmp_path / "job.log"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(out), str(log)],
                            stdout=subprocess.PIPE, text=True, env=_env())
    try:
        assert proc.stdout.readline() == "writing\n"
        assert [p.name for p in tmp_path.glob(".shard-000.tmp-*.npz")]  # the write is under way
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    finally:
        proc.kill()
        proc.stdout.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.log"]
    assert "stopped by SIGTERM" in log.read_text()


# --------------------------------------------------------------------------
# the one-node cluster
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster():
    if not REQUIRED:
        pytest.skip("needs the one-node SLURM cluster of `make test-slurm` "
                    "(which sets SPECTRAL_ATTRIBUTION_TEST_SLURM=1)")
    missing = [exe for exe in ("sbatch", "squeue", "sinfo", "scancel", "scontrol")
               if shutil.which(exe) is None]
    if missing:
        pytest.fail(f"SLURM commands not found: {missing}; run ci/slurm/setup.sh (as root)")
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError as e:
        pytest.fail(f"snakemake-executor-plugin-slurm is not installed: {e}")
    sinfo = subprocess.run(["sinfo", "-h", "-N", "-o", "%N %T"], capture_output=True, text=True)
    nodes = dict(line.split() for line in sinfo.stdout.splitlines() if line.strip())
    if sinfo.returncode != 0 or "idle" not in nodes.values():
        pytest.fail(f"no idle SLURM node (sinfo: {sinfo.stdout or sinfo.stderr!r}); "
                    "run ci/slurm/setup.sh")
    config = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True).stdout
    settings = dict(re.findall(r"^(\w+)\s*=\s*(.*?)\s*$", config, flags=re.M))
    if settings.get("JobCompType") != "jobcomp/filetxt":
        pytest.fail("the cluster keeps no job completion log (JobCompType=jobcomp/filetxt), "
                    "from which the test reads every job that ran; see ci/slurm/slurm.conf.in")
    return {"node": next(n for n, s in nodes.items() if s == "idle"),
            "jobcomp": Path(settings["JobCompLoc"])}


@pytest.fixture(scope="module")
def runs(cluster, tmp_path_factory):
    """The tiny configuration through SLURM and, at the same time, locally.

    The local reference builds the tables (and so every WCAM shard and study
    table) with 2 cores, at the lowest CPU priority: it uses what the SLURM
    jobs leave (start-up, status polling), and the cluster run takes about as
    long as alone.
    """
    base = tmp_path_factory.mktemp("slurm-vs-local")
    slurm_dir, local_dir = base / "slurm", base / "local"
    slurm_dir.mkdir()
    local_dir.mkdir()
    profile = _ci_profile(base / "profile")
    tables = [f"results/tables/{t}.csv" for t in ("robustness", "reconstruction", "zoom", "faithfulness")]
    start = time.monotonic()
    local = _start(local_dir, base / "local.log", *tables, "--configfile", str(TINY), "--cores", "2",
                   nice=19)
    slurm = _start(slurm_dir, base / "slurm.log", "--profile", str(profile), "--configfile", str(TINY))
    try:
        rc = _wait(slurm, 1500)
        slurm_s = time.monotonic() - start
        local_rc = _wait(local, 600)
    finally:
        for p in (slurm, local):
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=60)
    return {"slurm_dir": slurm_dir, "local_dir": local_dir, "rc": rc, "local_rc": local_rc,
            "out": (base / "slurm.log").read_text(), "local_out": (base / "local.log").read_text(),
            "seconds": slurm_s, "total_seconds": time.monotonic() - start}


def test_tiny_run_through_slurm_builds_every_table_and_figure(runs):
    assert runs["rc"] == 0, runs["out"][-5000:]
    for path in _expected_outputs(runs["slurm_dir"]):
        assert path.exists() and path.stat().st_size > 0, path
    print(f"\n[slurm] tiny configuration through SLURM: {runs['seconds']:.0f} s "
          f"(with the local reference beside it: {runs['total_seconds']:.0f} s)")


def test_every_job_went_through_sbatch(runs, cluster):
    out = runs["out"]
    assert runs["rc"] == 0, out[-5000:]
    planned = _job_stats(out)
    planned.pop("all")  # the target rule: a local rule, it runs nothing
    subs = _submissions(out)
    assert Counter(s["rule"] for s in subs) == Counter(planned)
    assert len({s["slurm_id"] for s in subs}) == len(subs) == sum(planned.values())
    # nothing ran on the submitting machine but the target rule
    assert re.findall(r"^localrule (\w+):", out, flags=re.M) == ["all"]
    jobs = _slurm_jobs(cluster)
    records = [jobs.get(s["slurm_id"]) for s in subs]
    assert all(r is not None for r in records), "a submitted job is missing from the SLURM log"
    assert {r["JobState"] for r in records} == {"COMPLETED"}
    assert {r["NodeList"] for r in records} == {cluster["node"]}
    assert len({r["Name"] for r in records}) == 1  # the run's id, sbatch --job-name
    for s in subs:  # SLURM's output of each job names the rule it ran
        assert f"rule {s['rule']}:" in s["log"].read_text(), s["log"]


def test_slurm_outputs_equal_the_local_run(runs):
    from spectral_attribution import results

    assert runs["rc"] == 0 and runs["local_rc"] == 0, runs["local_out"][-3000:]
    slurm, local = runs["slurm_dir"] / "results", runs["local_dir"] / "results"
    shards = sorted(p.relative_to(local) for p in
                    [*local.glob("wcam/*/*/shard-*.npz"), *local.glob("spatial/*/shard-*.npz")])
    assert len(shards) == 3  # clean, corrupted (wcam/), spatial Sobol' (spatial/)
    for rel in shards:
        a, b = results.load_shard(slurm / rel), results.load_shard(local / rel)
        assert list(a.manifest["image_id"]) == list(b.manifest["image_id"]) and len(a) == 2
        assert a.provenance["seed"] == b.provenance["seed"] == 0
        for ea, eb in zip(a.explanations, b.explanations):
            np.testing.assert_allclose(ea.indices, eb.indices, rtol=1e-5, atol=1e-6, err_msg=str(rel))
            np.testing.assert_allclose(ea.map, eb.map, rtol=1e-5, atol=1e-6, err_msg=str(rel))
    tables = sorted(p.relative_to(local) for p in
                    [*local.glob("studies/**/*.csv"), *local.glob("tables/*.csv")])
    assert len(tables) >= 12
    for rel in tables:
        pd.testing.assert_frame_equal(pd.read_csv(slurm / rel), pd.read_csv(local / rel),
                                      check_exact=False, rtol=1e-5, atol=1e-8, obj=str(rel))


# --------------------------------------------------------------------------
# a job lost in the middle of a WCAM shard
# --------------------------------------------------------------------------
SLOW_SHARD = "001"


@pytest.fixture(scope="module")
def cancelled_run(cluster, runs, tmp_path_factory):
    """Two clean WCAM shards of one image at grid 8 (132 forward passes each),
    each job asking for a GPU; shard 001 is cancelled once its script runs,
    then the same command runs again. The sample and the model check are
    copied from the tiny run (same data and model settings; the sample's
    image paths point into that run's folder) when it made them: two jobs
    fewer."""
    base = tmp_path_factory.mktemp("slurm-cancel")
    workdir = base / "run"
    for rel in ["results/data/samples.csv", f"results/models/{MODEL}.json"]:
        if (runs["slurm_dir"] / rel).is_file():
            (workdir / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(runs["slurm_dir"] / rel, workdir / rel)
    workdir.mkdir(exist_ok=True)
    config = yaml.safe_load(TINY.read_text())
    config["wcam"].update(grid_size=8, shard_size=1)
    cfg = base / "config.yaml"
    cfg.write_text(yaml.safe_dump(config))
    profile = _ci_profile(base / "profile", gpu_rules=["wcam"])
    shard_dir = workdir / "results" / "wcam" / MODEL / "clean"
    targets = [f"results/wcam/{MODEL}/clean/shard-{s}.npz" for s in ("000", SLOW_SHARD)]
    args = [*targets, "--profile", str(profile), "--configfile", str(cfg)]  # targets first:
    # --configfile takes every word after it
    log = base / "first.log"
    start = time.monotonic()
    # no retry (it would resubmit the cancelled job within this run); the other shard finishes
    first = _start(workdir, log, *args, "--retries", "0", "--keep-going")
    rule_log = workdir / "logs" / "wcam" / MODEL / "clean" / f"shard-{SLOW_SHARD}.log"
    victim, at_cancel, state = None, None, None
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and first.poll() is None:
            if victim is None:
                victim = next((s["slurm_id"] for s in _submissions(log.read_text())
                               if s["rule"] == "wcam" and f"_clean_{SLOW_SHARD}" in str(s["log"])), None)
            elif rule_log.exists():  # the job's script has started: model loading, then forwards
                time.sleep(1.0)
                at_cancel = sorted(p.name for p in shard_dir.glob(f"*shard-{SLOW_SHARD}*"))
                state = subprocess.run(["squeue", "-h", "-j", victim, "-o", "%T"],
                                       capture_output=True, text=True).stdout.strip()
                subprocess.run(["scancel", victim], check=True)
                break
            time.sleep(0.3)
        first_rc = _wait(first, 600)
    finally:
        if first.poll() is None:
            first.terminate()
            first.wait(timeout=60)
    first_out = log.read_text()
    assert victim is not None and at_cancel is not None, \
        f"shard {SLOW_SHARD}'s job was not seen running:\n{first_out[-3000:]}"
    after_cancel = sorted(p.name for p in shard_dir.glob("*"))
    # what each shard job asked for (squeue shows finished jobs for MinJobAge seconds)
    asked = {}
    for s in _submissions(first_out):
        q = subprocess.run(["squeue", "--states=all", "-h", "-j", s["slurm_id"], "-O", "tres-per-job:40"],
                           capture_output=True, text=True)
        asked[s["slurm_id"]] = q.stdout.strip()
    leftovers = _leftovers(workdir)
    kept = shard_dir / "shard-000.npz"
    mtime = kept.stat().st_mtime_ns if kept.exists() else None
    first_s = time.monotonic() - start
    second = _run(workdir, *args, "--rerun-incomplete", timeout=900)
    return {"workdir": workdir, "victim": victim, "state_at_cancel": state, "at_cancel": at_cancel,
            "first_rc": first_rc, "first_out": first_out, "after_cancel": after_cancel,
            "leftovers": leftovers, "mtime": mtime, "asked": asked, "second": second, "first_seconds": first_s,
            "seconds": time.monotonic() - start}


def test_cancelled_shard_leaves_no_partial_output(cancelled_run, cluster):
    r = cancelled_run
    assert r["state_at_cancel"] == "RUNNING" and r["at_cancel"] == [], r["at_cancel"]
    assert r["first_rc"] != 0
    assert _slurm_jobs(cluster)[r["victim"]]["JobState"] == "CANCELLED"
    assert re.search(rf"SLURM-job '{r['victim']}' failed, SLURM status is: 'CANCELLED'", r["first_out"])
    # the other shard is complete; of the cancelled one nothing is left, not
    # an array file without its manifest, nor a temporary file
    assert r["after_cancel"] == ["shard-000.csv", "shard-000.npz"]
    assert r["leftovers"] == []


def test_rerun_schedules_only_the_cancelled_shard(cancelled_run):
    from spectral_attribution import results

    r = cancelled_run
    out = r["second"].stdout + r["second"].stderr
    assert r["second"].returncode == 0, out[-5000:]
    subs = _submissions(out)
    assert [(s["rule"], s["log"].parent.name) for s in subs] == [("wcam", f"{MODEL}_clean_{SLOW_SHARD}")]
    shard_dir = r["workdir"] / "results" / "wcam" / MODEL / "clean"
    assert (shard_dir / "shard-000.npz").stat().st_mtime_ns == r["mtime"]
    shard = results.load_shard(shard_dir / f"shard-{SLOW_SHARD}.npz")
    assert len(shard) == 1 and shard.explanations[0].indices.shape == (8, 8)
    assert shard.provenance["nb_forward"] == 2 * (8 ** 2 + 2)
    assert _leftovers(r["workdir"]) == []
    print(f"\n[slurm] cancel-and-rerun test: {r['seconds']:.0f} s "
          f"(first run {r['first_seconds']:.0f} s)")


def test_gpu_jobs_run_side_by_side(cancelled_run, cluster):
    """Both shard jobs asked for a GPU (--gpus=1; the node has two) and ran at
    the same time: the one-GPU-job limit of a local run does not hold here."""
    subs = [s for s in _submissions(cancelled_run["first_out"]) if s["rule"] == "wcam"]
    assert len(subs) == 2
    assert [cancelled_run["asked"][s["slurm_id"]] for s in subs] == ["gres:gpu:1"] * 2
    jobs = _slurm_jobs(cluster)
    a, b = (jobs[s["slurm_id"]] for s in subs)
    assert a["StartTime"] < b["EndTime"] and b["StartTime"] < a["EndTime"], (a, b)


# --------------------------------------------------------------------------
# shard arithmetic
# --------------------------------------------------------------------------
def test_time_per_forward_pass_per_shard(runs, cancelled_run):
    scaling = _shard_scaling()
    table = pd.concat([scaling.shard_timings(runs["slurm_dir"]),
                       scaling.shard_timings(cancelled_run["workdir"] / "results")],
                      ignore_index=True)
    # images x nb_design x (grid^2 + 2): 2 x 2 x 18 (tiny) and 1 x 2 x 66 (grid 8)
    assert sorted(table["forwards"]) == [72, 72, 72, 132, 132]
    assert (table["wall_s"] > 0).all() and (table["cpu_s"] > 0).all()
    np.testing.assert_allclose(table["ms_per_forward"], 1000 * table["wall_s"] / table["forwards"])
    with pd.option_context("display.width", 200, "display.max_columns", None):
        print("\n[slurm] WCAM shards under SLURM:\n" + table.drop(columns="run").to_string(index=False))
    for column in ("wall_s", "cpu_s"):
        line = scaling.fit(table, column)
        assert line is not None and line["shards"] == 5
        print(f"[slurm] fit: {column} = {line['fixed_s']:.3g} s per shard "
              f"+ {1000 * line['per_forward_s']:.3g} ms per forward pass")


def test_shard_scaling_fit_recovers_a_known_line():
    scaling = _shard_scaling()
    table = pd.DataFrame({"forwards": [72, 132, 264, 0], "wall_s": [10 + 0.05 * f for f in (72, 132, 264)] + [3.0],
                          "cpu_s": [4.0, 4.0, 4.0, 1.0]})
    line = scaling.fit(table)  # empty shards (0 forwards) are left out
    assert line["shards"] == 3
    assert line["fixed_s"] == pytest.approx(10) and line["per_forward_s"] == pytest.approx(0.05)
    assert scaling.fit(table, "cpu_s")["per_forward_s"] == pytest.approx(0, abs=1e-12)
    assert scaling.fit(table[table["forwards"] == 72]) is None
