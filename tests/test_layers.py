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

#: Folders (units) low → high. A unit may import only from strictly lower units
#: (and from itself); a new top-level module or folder must be placed here (the
#: test below names it when it is not).
UNITS: list[str] = [
    "_version",      # the version string
    "catalog",       # names shared by the package and the workflow: variants, methods, tables, figures
    "_utils",        # torch-free helpers by theme: files, tables, checks, parameters, progress
    "models",        # wrapper, preprocessing, registry, weight sources, backends, forward loop
    "data",          # photographs, ImageNet folders, samples, corruptions
    "attributions",  # transforms, masks, the Sobol' engine, one module per method, Explanation
    "metrics",       # level contributions, robustness, reconstruction depth, faithfulness
    "results",       # provenance, shards, the run's configuration
    "studies",       # the paper's studies, baselines, statistics, tables
    "plots",         # figures
    "pipeline",      # the workflow's steps (one per rule file), config readers
    "cli",           # the command line
    "",              # the package itself: lazy exports of the units below
]
UNIT = {name: level for level, name in enumerate(UNITS)}


def unit_of(module: str) -> str:
    """The folder (or top-level module) a package module belongs to."""
    return module.split(".")[0] if module else ""


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


def unit_graph() -> dict[str, set[str]]:
    """Folder-level graph: unit → the other units it imports from."""
    out: dict[str, set[str]] = {}
    for name, imported in import_graph().items():
        here = unit_of(name)
        out.setdefault(here, set()).update(unit_of(m) for m in imported if unit_of(m) != here)
    return out


def test_every_module_has_a_unit():
    missing = sorted({unit_of(m) for m in module_files()} - set(UNIT))
    assert not missing, f"folders or modules without a unit: {missing}; add them to UNITS in {__file__}"
    stale = sorted(set(UNIT) - {unit_of(m) for m in module_files()})
    assert not stale, f"UNITS names folders that do not exist: {stale}"


def test_imports_point_down_only():
    bad = []
    for name, imported in import_graph().items():
        for other in imported:
            if unit_of(other) != unit_of(name) and UNIT[unit_of(other)] >= UNIT[unit_of(name)]:
                bad.append(f"{name or 'spectral_attribution'} ({unit_of(name) or 'package'}) imports "
                           f"{other} ({unit_of(other)})")
    assert not bad, "imports that do not point down:\n" + "\n".join(sorted(bad))


def test_no_import_cycle_inside_a_unit():
    # Within a folder, modules may import each other, but not in a circle
    # (a package __init__ re-exporting its own submodules does not count).
    graph = import_graph()
    edges = {n: {m for m in imp if unit_of(m) == unit_of(n) and not (n and m.startswith(n + "."))
                 and not m == unit_of(n)}
             for n, imp in graph.items()}
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, path: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycle.extend(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
                return True
            if state.get(nxt) is None and visit(nxt, path + [nxt]):
                return True
        state[node] = 2
        return False

    for node in sorted(edges):
        if state.get(node) is None and visit(node, [node]):
            break
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def test_the_graph_is_read_correctly():
    # Known edges, at module level and inside functions.
    graph = import_graph()
    assert {"attributions.sobol.estimators", "attributions.sobol.design", "attributions.sobol.row_updates",
            "models"} <= graph["attributions.sobol.engine"]
    assert {"data.samples", "data.classes"} <= graph["data.imagenet"]
    assert "studies.corruption" in graph["plots.figures"]
    assert {"metrics", "results"} <= graph["plots.figures"]
    assert "_utils.progress" in graph["_utils.checks"]          # imported inside a function
    assert graph["_utils.progress"] == set()
    units = unit_graph()
    assert units["_utils"] == set() and "models" in units["attributions"]


@pytest.mark.parametrize("module", ["spectral_attribution", "spectral_attribution.pipeline",
                                    "spectral_attribution.results"])
def test_dag_building_imports_stay_cheap(module):
    # Snakemake imports the pipeline while it builds the DAG: no torch, no matplotlib.
    code = (f"import sys, {module}; heavy = [m for m in ('torch', 'matplotlib') if m in sys.modules]; "
            "print(heavy); sys.exit(1 if heavy else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


if __name__ == "__main__":  # print the folder-level import graph
    for unit, imported in sorted(unit_graph().items(), key=lambda kv: UNIT.get(kv[0], 99)):
        shown = ", ".join(sorted(imported, key=lambda m: UNIT.get(m, 99))) or "-"
        print(f"[{UNIT.get(unit, '?'):>2}] {unit or 'spectral_attribution'}/ <- {shown}")
