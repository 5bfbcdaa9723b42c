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
import yaml

ROOT = Path(__file__).resolve().parents[2]
SNAKEFILE = ROOT / "workflow" / "Snakefile"
#: Snakemake finds profiles/default by itself only from the repository root.
WORKFLOW_PROFILE = ROOT / "profiles" / "default"
TINY = ROOT / "config" / "tiny.yaml"
REPLICATION = ROOT / "config" / "replication.yaml"
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
MODEL = "efficientnet-lite0"

pytestmark = [
    pytest.mark.xdist_group("tiny-workflow-run"),  # one worker builds the module's shared fixture once
    pytest.mark.slow,
    # the module's tiny run (55 jobs) is built once by the resumed_run fixture; about 5 minutes on
    # 2 idle cores, up to 3 times that on a loaded machine
    pytest.mark.timeout(1800),
    pytest.mark.skipif(not SNAKEMAKE.exists() and shutil.which("snakemake") is None,
                       reason="snakemake is not installed (pip install -e '.[workflow]')"),
]


def _snakemake_cmd(workdir, *args):
    exe = str(SNAKEMAKE) if SNAKEMAKE.exists() else shutil.which("snakemake")
    return [exe, "--snakefile", str(SNAKEFILE), "--workflow-profile", str(WORKFLOW_PROFILE),
            "--directory", str(workdir), *args]


#: Multiplies every time limit of this file, for a loaded or slow machine
#: (e.g. SPECTRAL_ATTRIBUTION_TEST_TIMEOUT_SCALE=3, with pytest --timeout raised to match).
TIMEOUT_SCALE = float(os.environ.get("SPECTRAL_ATTRIBUTION_TEST_TIMEOUT_SCALE", "1"))


def _run(workdir, *args, timeout=600):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(_snakemake_cmd(workdir, *args), capture_output=True, text=True,
                          timeout=timeout * TIMEOUT_SCALE, env=env, cwd=workdir)


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


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


@pytest.fixture(scope="module")
def resumed_run(tmp_path_factory):
    """Start the tiny run; while the first clean WCAM shard is being computed, SIGKILL the
    Snakemake process alone (its job goes on as an orphan and writes the shard, as after
    ``kill -9`` of Snakemake on a login node); wait for the orphans; unlock; resume."""
    from spectral_attribution.pipeline import run_checks

    workdir = tmp_path_factory.mktemp("workflow")
    shard = workdir / "results" / "wcam" / MODEL / "clean" / "shard-000.npz"
    manifest = shard.with_suffix(".csv")
    log = workdir / "first-run.log"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            _snakemake_cmd(workdir, "--configfile", str(TINY), "--cores", "2"),
            stdout=fh, stderr=subprocess.STDOUT, cwd=workdir, env=env, start_new_session=True)
    deadline = time.monotonic() + 900 * TIMEOUT_SCALE
    killed = False
    try:
        # Wait until Snakemake has started the shard's job, then kill Snakemake only.
        while time.monotonic() < deadline and proc.poll() is None:
            if _job_id(log.read_text(), "clean/shard-000.npz") and not manifest.exists():
                proc.kill()
                killed = True
                break
            time.sleep(0.1)
        proc.wait(timeout=60)
        # The orphaned jobs finish on their own (bounded wait, then the whole group goes).
        while time.monotonic() < deadline and _group_alive(proc.pid):
            time.sleep(0.5)
    finally:
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
    first_log = log.read_text()
    assert killed, f"the first run ended before it could be killed:\n{first_log[-3000:]}"
    assert manifest.exists(), f"the orphaned job did not finish its shard:\n{first_log[-3000:]}"
    # Snakemake still marks the shard incomplete: the case the start-up check handles
    marked = run_checks.incomplete_marker(str(shard.relative_to(workdir)), workdir).exists()
    mtime = shard.stat().st_mtime_ns
    incomplete_before = [p for p in _expected_outputs(workdir) if not p.exists()]
    unlock = _run(workdir, "--configfile", str(TINY), "--unlock")
    assert unlock.returncode == 0, unlock.stderr
    start = time.monotonic()
    second = _run(workdir, "--configfile", str(TINY), "--cores", "2", "--rerun-incomplete")
    return {"workdir": workdir, "shard": shard, "mtime": mtime, "second": second,
            "second_seconds": time.monotonic() - start, "first_log": first_log,
            "missing_after_kill": incomplete_before, "marked_incomplete": marked}


def test_resume_keeps_the_finished_shard(resumed_run):
    second = resumed_run["second"]
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-5000:]
    assert resumed_run["missing_after_kill"], "the kill came after the run had finished"
    # Snakemake had marked the orphan's shard incomplete; the start-up check kept it
    assert resumed_run["marked_incomplete"]
    assert "shard-000.npz was finished by a job that outlived its Snakemake process" in second.stderr
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
    assert list(rob["corruptions"]) == ["2 of standard-15"]   # tiny: gaussian_noise, contrast
    rec = pd.read_csv(workdir / "results" / "studies" / "reconstruction.csv", dtype={"image_id": str})
    assert set(rec["condition"]) == {"clean", "corrupted"}
    assert ((rec["depth_share"] > 0) & (rec["depth_share"] <= 17 / 16)).all()   # d + 1 censored
    assert (rec.loc[rec["found"], "depth_share"] <= 1).all() and rec["found"].any()
    # every depth is scored against the class its WCAM explains
    from spectral_attribution import results

    for variant in ("clean", "corrupted"):
        manifest = results.load_manifest(workdir / "results", MODEL, variant)
        assert set(manifest["target_policy"]) == {"prediction"}
        assert set(manifest["target_source"]) == {"prediction"}
        assert (manifest["target"] == manifest["prediction"]).all()
        part = rec[rec["condition"] == variant].set_index("image_id")
        assert (part.loc[manifest["image_id"].astype(str), "target"].to_numpy()
                == manifest["target"].to_numpy()).all()
    zoom = pd.read_csv(workdir / "results" / "studies" / "zoom.csv")
    sums = zoom.groupby(["image_id", "view"])["contribution"].sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-6)
    assert set(zoom["view"]) == {"regular", "zoomed"} and set(zoom["levels"]) == {4}
    assert (zoom.groupby("image_id")["target"].nunique() == 1).all()   # one class in both views
    zoom_table = pd.read_csv(tables / "zoom.csv")      # long form: one row per model and level
    shown = [c for c in zoom_table.columns if not c.endswith(("_low", "_high"))]   # x, x_low, x_high
    assert shown[:5] == ["model", "level", "nb_images", "regular", "zoomed"]
    assert pd.api.types.is_float_dtype(zoom_table["regular_low"])
    assert zoom_table["level"].tolist() == ["approximation"] + [f"level_{j}" for j in range(4, 0, -1)]
    assert "Prediction changed from the regular view" in (tables / "zoom.md").read_text()
    faith = pd.read_csv(workdir / "results" / "studies" / "faithfulness.csv")
    assert {"wcam", "spatial-sobol"} <= set(faith["method"])  # and the model-free baselines
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
    # the job's params, exactly: no study or figure setting
    assert prov["seed"] == 0 and prov["config"]["explainer"]["grid_size"] == 4
    assert set(prov["config"]) == {"model", "explainer", "shard_size", "target_policy", "seed",
                                   "device"}
    assert "torch" in prov["versions"] and prov["device"]["device"] == "cpu"
    assert prov["device_lease"]["requested"] == "cpu" and prov["device_lease"]["how"] == "explicit"
    samples = pd.read_csv(workdir / "results" / "data" / "samples.csv", dtype={"image_id": str})
    assert list(shard.manifest["image_id"]) == list(samples["image_id"])
    assert (shard.manifest["seed"] == 0).all()
    corrupted = results.load_manifest(workdir / "results", MODEL, "corrupted")
    assert len(corrupted) == 2 and corrupted["image_id"].str.contains("@").all()
    # spatial Sobol' maps: a rule and a folder of their own, the spatial grid
    spatial = results.load_shard(workdir / "results" / "spatial" / MODEL / "shard-000.npz")
    assert {e.method for e in spatial.explanations} == {"spatial-sobol"}
    assert spatial.provenance["config"]["explainer"]["method"] == "spatial-sobol"
    assert not (workdir / "results" / "wcam" / MODEL / "spatial").exists()


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
    # the README's command, for any configuration: the one recorded in results/config.yaml
    proc = _run(workdir, "--configfile", "results/config.yaml", "--cores", "1", "figures/zoom.pdf")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert target.exists()
    assert other.stat().st_mtime_ns == before
    assert "figure_zoom" in proc.stdout + proc.stderr
    assert "rule wcam" not in proc.stdout + proc.stderr


def test_tiny_run_compares_wam_with_wcam(resumed_run):
    from spectral_attribution import results

    workdir = resumed_run["workdir"]
    df = pd.read_csv(workdir / "results" / "studies" / "methods.csv", dtype={"image_id": str})
    assert list(df["method"]) == ["wcam", "wam-integratedgrad"] * 2
    assert np.allclose(df.loc[df["method"] == "wcam", "spearman"], 1.0)
    assert df["spearman"].between(-1, 1).all() and df["mu_fidelity"].between(-1, 1).all()
    assert (df["wall_time_s"] > 0).all()
    assert df.loc[df["method"] == "wam-integratedgrad", ["nb_forward", "nb_backward"]].values.tolist() == [[5, 4]] * 2
    shares = df.filter(like="share_").sum(axis=1)
    np.testing.assert_allclose(shares, 1.0, atol=1e-6)
    wam = results.load_explanation(workdir / "results", MODEL, df["image_id"][0], "integratedgrad",
                                   method="wam")
    wcam = results.load_explanation(workdir / "results", MODEL, df["image_id"][0])
    assert wam.method == "wam" and wam.target == wcam.target and wam.indices.shape == wcam.indices.shape
    assert wam.attributions.shape == (3, 224, 224)


def test_wam_maps_rerun_only_when_their_own_settings_change(resumed_run, tmp_path):
    workdir, text = resumed_run["workdir"], TINY.read_text()

    def planned(new_text):
        edited = tmp_path / "edited.yaml"
        edited.write_text(new_text)
        proc = _run(workdir, "-n", "--configfile", str(edited), timeout=180)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out[-3000:]
        return {rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", out, flags=re.M)}

    assert "  steps: 4\n" in text and "nb_steps: 4}" in text
    jobs = planned(text.replace("  steps: 4\n", "  steps: 6\n"))     # a faithfulness setting
    assert "wam" not in jobs and jobs.get("methods") == 1
    jobs = planned(text.replace("nb_steps: 4}", "nb_steps: 5}"))       # the WAM's own setting
    assert jobs.get("wam") == 1 and jobs.get("methods") == 1 and "wcam" not in jobs


def test_lint_passes(tmp_path):
    proc = _run(ROOT, "--lint", timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "Lints for" not in out


@pytest.fixture(scope="module")
def replication_dry_run(tmp_path_factory):
    """One dry run of the replication configuration (a DAG of about 1,500 jobs), shared:
    ``(workdir, stdout + stderr, {rule: job count})``."""
    workdir = tmp_path_factory.mktemp("replication-dry-run")
    proc = _run(workdir, "-n", "--configfile", str(REPLICATION), timeout=180)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    return workdir, out, dict(re.findall(r"^(\w+)\s+(\d+)$", out, flags=re.M))


def test_replication_dry_run_lists_every_job_offline(replication_dry_run):
    tmp_path, out, counts = replication_dry_run
    # 6 models x 2 variants (clean, corrupted) x ceil(100 / 10) shards; spatial maps apart
    assert int(counts["wcam"]) == 6 * 2 * 10
    assert int(counts["spatial_sobol"]) == 6 * 10
    # 6 models x 2 WAM variants x 10 shards; one comparison per model and shard
    assert int(counts["wam"]) == 6 * 2 * 10 and int(counts["methods"]) == 60
    assert int(counts["zoom"]) == 60 and int(counts["model"]) == 6
    assert not (tmp_path / "results").exists()  # nothing was run


@pytest.mark.parametrize("edit, name", [
    (("  grid_size: 4\n", "  grid_sise: 4\n", 1), "grid_sise"),
    (("seed: 0\n", "seed: 0\ncolour: blue\n", 1), "colour"),
    (("  n_images: 2\n", "  n_images: two\n", 1), "n_images"),
    (("  shard_size: 2\n", "  shard_size: 2\n  target: label\n", 1), "target_policy"),
])
def test_a_wrong_config_fails_before_any_work_naming_the_key(tmp_path, edit, name):
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.read_text().replace(*edit))
    proc = _run(tmp_path, "--configfile", str(bad), "--cores", "1", timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert name in out and "Error validating config" in out
    assert not (tmp_path / "results").exists()


def test_html_report(resumed_run):
    workdir = resumed_run["workdir"]
    proc = _run(workdir, "--configfile", "results/config.yaml", "--report", "report.html", timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (workdir / "report.html").stat().st_size > 10_000
    # the default configuration (4 images, three models, grid 16) is refused instead of described
    default = _run(workdir, "--report", "other.html", timeout=180)
    assert default.returncode == 1 and not (workdir / "other.html").exists()
    assert "data.n_images: 2 there, 4 now" in default.stderr


def test_the_recorded_configuration_reproduces_the_run(resumed_run):
    workdir = resumed_run["workdir"]
    recorded = yaml.safe_load((workdir / "results" / "config.yaml").read_text())
    assert recorded["data"]["n_images"] == 2 and recorded["wcam"]["grid_size"] == 4
    proc = _run(workdir, "-n", "--configfile", "results/config.yaml", timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Nothing to be done" in proc.stdout + proc.stderr


@pytest.mark.parametrize("edit, shown", [
    (("  n_images: 2\n", "  n_images: 1\n"), "data.n_images: 2 there, 1 now"),
    (("seed: 0\n", "seed: 1\n"), "seed: 0 there, 1 now"),
])
def test_another_configuration_is_refused_before_any_job(resumed_run, tmp_path, edit, shown):
    workdir = resumed_run["workdir"]
    before = {p: p.stat().st_mtime_ns for p in (workdir / "results").rglob("*") if p.is_file()}
    other = tmp_path / "fewer.yaml"
    other.write_text(TINY.read_text().replace(*edit))
    proc = _run(workdir, "--configfile", str(other), "--cores", "1", timeout=180)
    assert proc.returncode == 1
    assert shown in proc.stderr
    assert "--configfile results/config.yaml" in proc.stderr
    assert "snakemake --directory NEW_FOLDER" in proc.stderr
    assert "Traceback" not in proc.stderr and "Building DAG" not in proc.stdout + proc.stderr
    after = {p: p.stat().st_mtime_ns for p in (workdir / "results").rglob("*") if p.is_file()}
    assert after == before                                    # nothing touched


def test_a_corrupted_shard_is_named_and_rescheduled(resumed_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(resumed_run["workdir"], copy, symlinks=True)   # .snakemake included
    shard = copy / "results" / "wcam" / MODEL / "clean" / "shard-000.npz"
    size = shard.stat().st_size
    stamp = shard.stat().st_mtime_ns
    with open(shard, "r+b") as fh:                        # a partial copy, same mtime
        fh.truncate(size // 3)
    os.utime(shard, ns=(stamp, stamp))
    proc = _run(copy, "-n", "--configfile", "results/config.yaml", timeout=180)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert f"results/wcam/{MODEL}/clean/shard-000.npz is corrupted: {size // 3:,} bytes" in proc.stderr
    assert "Set aside as shard-000.npz.corrupt: this run recomputes it." in proc.stderr
    assert _job_id(out, "clean/shard-000.npz") is not None          # rescheduled
    assert shard.with_name("shard-000.npz.corrupt").exists()
    # reading it meanwhile names the file instead of failing inside zipfile
    from spectral_attribution import results

    with pytest.raises(FileNotFoundError, match="shard-000.csv is missing"):
        results.load_shard(shard)


def test_show_reads_the_recorded_configurations_shards(resumed_run, tmp_path, capsys):
    from spectral_attribution.cli import main

    workdir = resumed_run["workdir"]
    image_id = pd.read_csv(workdir / "results" / "data" / "samples.csv", dtype=str)["image_id"][0]
    assert main(["show", str(workdir / "results"), "--model", MODEL, "--image", image_id,
                 "--out", str(tmp_path)]) == 0
    written = capsys.readouterr().out.split()
    assert [Path(p).name for p in written] == [f"{MODEL}-{image_id}.pdf", f"{MODEL}-{image_id}.png"]


def test_replication_builds_the_claims_table_and_the_wcam_noise(replication_dry_run):
    counts = replication_dry_run[2]
    assert counts["table_claims"] == "1" and counts["figure_claims"] == "1"
    assert counts["wcam_noise"] == "1" and counts["table_wcam_noise"] == "1"
    # model-free orders on every WCAM shard: 6 models x (clean + corrupted) x 10 shards
    assert int(counts["depth_baselines"]) == 6 * 2 * 10
