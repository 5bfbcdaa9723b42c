"""The workflow passes the Snakemake workflow catalog's checks: ``snakemake --lint`` and
``snakefmt --check``, and it sits where the catalog expects it (``workflow/Snakefile``,
``config/README.md``, ``.snakemake-workflow-catalog.yml``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    exe = BIN / name
    found = str(exe) if exe.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[dev]'")
    return found


def _env() -> dict:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


def test_the_catalog_layout_is_there():
    assert (ROOT / "workflow" / "Snakefile").is_file()
    assert not (ROOT / "Snakefile").exists()
    readme = (ROOT / "config" / "README.md").read_text()
    for config in (ROOT / "config").glob("*.yaml"):  # every configuration file is described
        assert f"`{config.name}`" in readme, config.name
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    for key in schema["properties"]:  # and every key group of the schema
        assert f"`{key}`" in readme, key
    usage = yaml.safe_load((ROOT / ".snakemake-workflow-catalog.yml").read_text())["usage"]
    assert usage["software-stack-deployment"]["conda"] is True
    assert "--profile profiles/default" in usage["mandatory-flags"]["flags"]


def test_snakefmt_check_is_clean():
    proc = subprocess.run([_tool("snakefmt"), "--check", "workflow"], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_snakemake_lint_is_clean(tmp_path):
    """Linted from the repository root as a user runs it, in a scratch copy of the
    workflow's files (the lint reads the Snakefile, which checks ``results/``)."""
    for name in ("workflow", "config", "profiles"):
        shutil.copytree(ROOT / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.run([_tool("snakemake"), "--lint", "--configfile", "config/tiny.yaml"],
                          cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Congratulations, your workflow is in a good condition!" in proc.stdout + proc.stderr
