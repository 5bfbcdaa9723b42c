"""The replication's workflow end to end with stand-in weights (issue 11, section 1; slow, in CI).

``config/replication.yaml`` with ``config/replication-smoke.yaml`` merged over
it: the six models of the replication (RobustBench ``Standard_R50``, AugMix,
SIN, ``Salman2020Do_R50``, ``Wong2020Fast`` with its 288-pixel crop,
torchvision ViT-B/16), each with randomly initialised weights of its
architecture saved where the loaders look (``tests/standins.py``); the
ImageNet-validation source on a miniature archive and devkit; two images,
2 x 2 grids, 2 designs, two corruptions at two severities, and every study,
table and figure of the real configuration. A model whose preprocessing,
crop, number of classes or wrapper does not fit a step fails the run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from standins import write_checkpoints, write_imagenet, write_shim

ROOT = Path(__file__).resolve().parents[2]
SNAKEFILE = ROOT / "workflow" / "Snakefile"
#: Snakemake finds profiles/default by itself only from the repository root.
WORKFLOW_PROFILE = ROOT / "profiles" / "default"
REPLICATION = ROOT / "config" / "replication.yaml"
SMOKE = ROOT / "config" / "replication-smoke.yaml"
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
#: nickname -> crop side the model's preprocessing gives
CROPS = {"baseline": 224, "augmix": 224, "sin": 224, "adv": 224, "fast_adv": 288, "vit": 224}

pytestmark = [
    pytest.mark.xdist_group("replication-smoke-run"),  # one worker builds the module's shared fixture once
    pytest.mark.slow,
    # about 6 minutes of work on 2 idle cores (700 CPU seconds, from the benchmark files);
    # generous limits for a loaded machine
    pytest.mark.timeout(5400),
    pytest.mark.skipif(not SNAKEMAKE.exists() and shutil.which("snakemake") is None,
                       reason="snakemake is not installed (pip install -e '.[workflow]')"),
]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """Stand-ins written, then the whole workflow run once (2 cores)."""
    workdir = tmp_path_factory.mktemp("replication-smoke")
    replication = yaml.safe_load(REPLICATION.read_text())
    smoke = yaml.safe_load(SMOKE.read_text())
    checkpoints = write_checkpoints(replication, workdir / smoke["model_dir"], workdir / "smoke" / "torch")
    archives = write_imagenet(workdir / smoke["data"]["root"])
    shim = write_shim(workdir / "smoke" / "shim", {"sha256": checkpoints["sha256"],
                                                  "archives": archives})
    env = {**os.environ,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": os.pathsep.join(p for p in (shim["shim"], str(ROOT / "src"),
                                                     os.environ.get("PYTHONPATH")) if p),
           "SPECTRAL_ATTRIBUTION_STANDINS": shim["SPECTRAL_ATTRIBUTION_STANDINS"],
           "TORCH_HOME": str(workdir / "smoke" / "torch")}
    env.pop("SPECTRAL_ATTRIBUTION_MODEL_DIR", None)
    exe = str(SNAKEMAKE) if SNAKEMAKE.exists() else shutil.which("snakemake")
    start = time.monotonic()
    proc = subprocess.run([exe, "--snakefile", str(SNAKEFILE), "--workflow-profile", str(WORKFLOW_PROFILE),
                           "--directory", str(workdir),
                           "--cores", "2", "--configfile", str(REPLICATION), str(SMOKE)],
                          capture_output=True, text=True, timeout=5000, env=env, cwd=workdir)
    seconds = time.monotonic() - start
    print(f"replication smoke run: {seconds:.0f} s")
    return {"workdir": workdir, "proc": proc, "seconds": seconds, "checkpoints": checkpoints,
            "replication": replication}


def _failed_logs(workdir: Path) -> str:
    logs = sorted((workdir / "logs").rglob("*.log"), key=lambda p: p.stat().st_mtime)
    return "\n".join(f"--- {p}\n{p.read_text()[-2000:]}" for p in logs[-3:])


def test_the_smoke_run_builds_every_table_and_figure(smoke_run):
    from spectral_attribution import pipeline

    proc, workdir = smoke_run["proc"], smoke_run["workdir"]
    assert proc.returncode == 0, proc.stderr[-4000:] + _failed_logs(workdir)
    for table in pipeline.TABLES:
        for ext in ("csv", "md", "tex"):
            assert (workdir / "results" / "tables" / f"{table}.{ext}").stat().st_size > 0
    for figure in pipeline.FIGURES:
        for ext in ("pdf", "png"):
            assert (workdir / "figures" / f"{figure}.{ext}").stat().st_size > 0


def test_every_replication_model_ran_from_its_stand_in(smoke_run):
    """Each model loaded its own stand-in file, from where the loader looks, with 1000 classes
    and the preprocessing of its published weights (Wong2020Fast: 288 px, no resize)."""
    workdir = smoke_run["workdir"]
    models = [m["nickname"] for m in smoke_run["replication"]["models"]]
    assert sorted(models) == sorted(CROPS)
    hashes = set()
    for nickname in models:
        info = json.loads((workdir / "results" / "models" / f"{nickname}.json").read_text())
        stand_in = smoke_run["checkpoints"]["paths"][nickname]
        assert (workdir / info["source"]).resolve() == stand_in.resolve(), nickname
        assert info["nb_classes"] == 1000
        assert info["preprocessing"]["crop"] == CROPS[nickname]
        hashes.add(info["weights_sha256"])
    assert json.loads((workdir / "results" / "models" / "fast_adv.json").read_text())[
        "preprocessing"]["resize"] is None
    assert len(hashes) == len(models)  # six different networks, none read twice


def test_shards_and_studies_cover_every_model(smoke_run):
    from spectral_attribution import results

    workdir = smoke_run["workdir"]
    samples = pd.read_csv(workdir / "results" / "data" / "samples.csv", dtype={"image_id": str})
    assert len(samples) == 2 and set(samples["label"]) <= {281, 999, 0}
    assert samples["image_id"].str.startswith("ILSVRC2012_val_").all()
    for nickname, crop in CROPS.items():
        clean = results.load_shard(workdir / "results" / "wcam" / nickname / "clean" / "shard-000.npz")
        assert len(clean) == 2
        e = clean.explanations[0]
        assert e.indices.shape == (2, 2) and e.spatial.shape == (crop, crop)
        assert clean.provenance["config"]["model"]["name"] == next(
            m["name"] for m in smoke_run["replication"]["models"] if m["nickname"] == nickname)
        spatial = results.load_shard(workdir / "results" / "spatial" / nickname / "shard-000.npz")
        assert spatial.explanations[0].map.shape == (crop, crop)
        corrupted = results.load_manifest(workdir / "results", nickname, "corrupted")
        assert len(corrupted) == 2 and corrupted["image_id"].str.contains("@").all()
    robustness = pd.read_csv(workdir / "results" / "tables" / "robustness.csv")
    assert sorted(robustness["model"]) == sorted(CROPS)
    baseline = pd.read_csv(workdir / "results" / "studies" / "corruption_baseline.csv")
    assert len(baseline) == 6 * 2 * 2 * 2  # models x images x corruptions x severities
    reconstruction = pd.read_csv(workdir / "results" / "studies" / "reconstruction.csv")
    assert set(reconstruction["model"]) == set(CROPS)
    assert set(reconstruction["condition"]) == {"clean", "corrupted"}
    zoom = pd.read_csv(workdir / "results" / "studies" / "zoom.csv")
    # contributions of one image and view sum to 1, or to 0 for an all-zero map (a stand-in
    # network whose output does not move under 2 x 2 masks, e.g. the random ViT)
    sums = zoom.groupby(["model", "image_id", "view"])["contribution"].sum().to_numpy()
    assert np.all(np.isclose(sums, 1.0, atol=1e-6) | np.isclose(sums, 0.0, atol=1e-12)), sums
    assert np.isclose(sums, 1.0, atol=1e-6).sum() >= len(sums) // 2
    faithfulness = pd.read_csv(workdir / "results" / "studies" / "faithfulness.csv")
    assert set(faithfulness["model"]) == set(CROPS)
    assert {"wcam", "spatial-sobol"} <= set(faithfulness["method"])  # and their baselines


def test_a_stand_in_that_does_not_fit_its_model_fails_the_model_step(tmp_path):
    """The smoke run is only as good as its stand-ins' fit: a checkpoint of the right
    architecture with 10 classes instead of 1000 stops the `model` step, naming the file."""
    import torch
    import torchvision.models as tvm

    from spectral_attribution import models, pipeline

    path = models.robustbench_checkpoint_path("Salman2020Do_R50", "Linf", tmp_path)
    path.parent.mkdir(parents=True)
    torch.save(tvm.resnet50(num_classes=10).state_dict(), path)
    with pytest.raises(Exception, match="Salman2020Do_R50.pt") as info:
        pipeline.check_model(model={"name": "robustbench:Linf:Salman2020Do_R50",
                                    "options": {"model_dir": str(tmp_path)}},
                             nickname="adv", out_json=tmp_path / "adv.json")
    assert "fc.weight" in str(info.value)
    assert not (tmp_path / "adv.json").exists()
