"""The package's modules form layers: a module imports only from lower layers.

Every import of a package module counts, at module level or inside a
function (a lazy import upward is still an upward import). Run this file as a
script to print the import graph.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "spectral_attribution"

#: Low → high. A module may import from a strictly lower layer only; a new
#: module must be placed here (the test below names it when it is not).
LAYERS: list[list[str]] = [
    ["_version", "progress", "backends"],
    ["_common"],
    ["parameters", "devices"],
    ["transforms", "sobol", "estimators", "corruptions", "targets", "data.classes", "data.decoding",
     "stats"],
    ["data.samples"],
    ["data.imagenet"],
    ["data.sources"],
    ["data"],
    ["models", "explanation", "perturbations", "metrics"],
    ["row_updates", "baselines"],
    ["engine"],
    ["explainers", "wam"],
    ["results"],
    ["studies.labels"],
    ["studies.table_format"],
    ["studies.corruption", "studies.reconstruction", "studies.zoom", "studies.faithfulness",
     "studies.depth_baselines", "studies.noise"],
    ["studies.claims", "studies.methods"],
    ["studies.tables"],
    ["studies"],
    ["plots.style"],
    ["plots.common"],
    ["plots.explanations", "plots.study_figures", "plots.claims"],
    ["plots.figures"],
    ["plots"],
    ["pipeline", "run_checks"],
    ["cli"],
    [""],  # the package itself: lazy exports of the layers below
]
LAYER = {name: level for level, names in enumerate(LAYERS) for name in names}


def module_files() -> dict[str, Path]:
    """Module name (relative to the package, ``""`` for it) → source file."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Package modules imported anywhere in ``path`` (relative names)."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if name else []
    base = here if is_package else here[:-1]
    found = set()

    def resolve(module: str) -> str | None:
        while module and module not in known:
            module = module.rpartition(".")[0]
        return module if module in known else ("" if module == "" else None)

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "spectral_attribution" or alias.name.startswith("spectral_attribution."):
                    found.add(resolve(alias.name.partition(".")[2]))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join([*anchor, *(node.module.split(".") if node.module else [])])
            elif node.module and (node.module == "spectral_attribution"
                                  or node.module.startswith("spectral_attribution.")):
                target = node.module.partition(".")[2]
            else:
                continue
            for alias in node.names:  # "from . import metrics" imports a submodule
                sub = f"{target}.{alias.name}" if target else alias.name
                found.add(sub if sub in known else resolve(target))
    found.discard(None)
    found.discard(name)
    return found


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    return {name: imports_of(name, path, set(files)) for name, path in files.items()}


def test_every_module_has_a_layer():
    missing = sorted(set(module_files()) - set(LAYER))
    assert not missing, f"modules without a layer: {missing}; add them to LAYERS in {__file__}"
    stale = sorted(set(LAYER) - set(module_files()))
    assert not stale, f"LAYERS names modules that do not exist: {stale}"


def test_imports_point_down_only():
    bad = []
    for name, imported in import_graph().items():
        for other in imported:
            # a package's __init__ may re-export its own submodules
            if name and other.startswith(name + "."):
                continue
            if LAYER[other] >= LAYER[name]:
                bad.append(f"{name or 'spectral_attribution'} (layer {LAYER[name]}) imports "
                           f"{other or 'spectral_attribution'} (layer {LAYER[other]})")
    assert not bad, "imports that do not point down:\n" + "\n".join(sorted(bad))


def test_the_graph_is_read_correctly():
    # Known edges, at module level and inside functions.
    graph = import_graph()
    assert {"_common", "estimators", "sobol", "row_updates", "models"} <= graph["engine"]
    assert {"data.samples", "data.classes"} <= graph["data.imagenet"]
    assert "studies.corruption" in graph["plots.figures"]     # from ..studies.corruption import ...
    assert {"metrics", "results"} <= graph["plots.figures"]    # from .. import metrics, results
    assert "explainers" in graph["pipeline"]                   # imported inside a function
    assert graph["_common"] == {"progress", "backends"} and graph["transforms"] == {"parameters"}
    assert graph["progress"] == set()
    assert graph["parameters"] == {"_common"} and graph["devices"] == set()


@pytest.mark.parametrize("module", ["spectral_attribution", "spectral_attribution.pipeline",
                                    "spectral_attribution.results"])
def test_dag_building_imports_stay_cheap(module):
    # Snakemake imports the pipeline while it builds the DAG: no torch, no matplotlib.
    code = (f"import sys, {module}; heavy = [m for m in ('torch', 'matplotlib') if m in sys.modules]; "
            "print(heavy); sys.exit(1 if heavy else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


if __name__ == "__main__":  # print the import graph
    for name, imported in sorted(import_graph().items(), key=lambda kv: (LAYER.get(kv[0], 99), kv[0])):
        shown = ", ".join(sorted(imported, key=lambda m: (LAYER.get(m, 99), m))) or "-"
        print(f"[{LAYER.get(name, '?'):>2}] {name or 'spectral_attribution'} <- {shown}")
