"""One catalog of names (spectral_attribution.catalog) read everywhere, and the workflow's
rule files matched file for file by pipeline/steps, each script one hop from its step."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from spectral_attribution import catalog, pipeline

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "workflow" / "rules"
STEPS = ROOT / "src" / "spectral_attribution" / "pipeline" / "steps"


def _config(name="tiny.yaml"):
    return yaml.safe_load((ROOT / "config" / name).read_text())


def test_the_registries_hold_the_catalog_s_names_in_its_order():
    from spectral_attribution import plots, results, studies
    from spectral_attribution.attributions import wam

    assert tuple(studies.TABLES) == catalog.TABLES
    assert tuple(plots.FIGURES) == catalog.FIGURES
    assert {n: m.options for n, m in plots.FIGURES.items()} == catalog.FIGURE_OPTIONS
    assert wam.VARIANTS is catalog.WAM_VARIANTS
    assert results.SHARD_VARIANTS is catalog.SHARD_VARIANTS
    assert results.WAM_VARIANTS is catalog.WAM_VARIANTS
    assert pipeline.TABLES is catalog.TABLES and pipeline.FIGURES is catalog.FIGURES


def test_what_a_run_makes_follows_the_enabled_studies():
    cfg = _config("config.yaml")
    cfg.update(methods=["wcam"])
    cfg["zoom"]["enabled"] = False
    cfg["faithfulness"]["enabled"] = False
    cfg["baselines"]["noise_images"] = 0
    assert pipeline.table_names(cfg) == ["robustness", "reconstruction", "claims", "depth_robustness"]
    assert pipeline.figure_names(cfg) == ["robustness", "wcam_gallery", "reconstructions",
                                          "depth_vs_robustness", "depth_orders", "claims"]
    cfg.update(methods=["wcam", "wam"])
    cfg["zoom"]["enabled"] = True
    assert pipeline.table_names(cfg) == ["robustness", "reconstruction", "zoom", "claims",
                                         "depth_robustness", "methods"]
    cfg["corruptions"]["explain"]["per_image"] = 0
    assert pipeline.reconstruction_variants(cfg) == ["clean"]


def test_every_rule_file_has_its_step_module_and_no_other():
    rules = {p.stem for p in RULES.glob("*.smk")}
    steps = {p.stem for p in STEPS.glob("*.py")} - {"__init__"}
    assert rules == steps


def test_each_script_calls_the_step_of_its_rule_file_in_one_hop():
    """A rule's script imports one step module, the one named after the rule's file, and
    calls one of its functions; nothing else of the pipeline but the log."""
    script_of_rule_file = {}
    for smk in RULES.glob("*.smk"):
        for script in re.findall(r'script:\s*\n\s*"\.\./scripts/(\w+)\.py"', smk.read_text()):
            script_of_rule_file.setdefault(script, set()).add(smk.stem)
    assert script_of_rule_file, "no script found in the rule files"
    for script, rule_files in script_of_rule_file.items():
        tree = ast.parse((ROOT / "workflow" / "scripts" / f"{script}.py").read_text())
        imported = {(n.module, a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                    for a in n.names if n.module and n.module.startswith("spectral_attribution")}
        steps = {name for module, name in imported if module == "spectral_attribution.pipeline.steps"}
        assert imported - {("spectral_attribution.pipeline.steps", s) for s in steps} == {
            ("spectral_attribution.pipeline.job", "logged")}, script
        assert len(steps) == 1, (script, steps)
        [step] = steps
        # the merge rules of every study share one step, common.concat_tables
        assert step in rule_files or step == "common", (script, step, rule_files)
        calls = {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call)
                 and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)
                 and n.func.value.id == step}
        module = __import__(f"spectral_attribution.pipeline.steps.{step}", fromlist=["_"])
        assert len(calls) == 1 and all(hasattr(module, c) for c in calls), (script, calls)


def test_names_once_each():
    """The names that were defined twice have one definition in the package."""
    package = ROOT / "src" / "spectral_attribution"
    names = {"check_device", "check_corruption", "check_severity", "register", "make_table",
             "make_figure", "wcam_noise"}
    found: dict[str, list[str]] = {}
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name in names and node.col_offset == 0:
                found.setdefault(node.name, []).append(str(path.relative_to(package)))
    assert {n: p for n, p in found.items() if len(p) > 1} == {}
