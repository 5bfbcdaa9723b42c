"""The tutorial notebook: committed clean, and executed top to bottom (slow; part of CI)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "tutorial.ipynb"


def test_tutorial_is_committed_without_outputs_or_execution_counts():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "the tutorial has no code cell"
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert not dirty, (f"cells {dirty} of {NOTEBOOK.name} hold outputs or execution counts; clear "
                       f"them (jupyter nbconvert --clear-output --inplace {NOTEBOOK})")
    assert nb.metadata.kernelspec.name == "python3"


def test_tutorial_states_the_papers_settings():
    text = "\n".join(c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells)
    for fact in ("grid 28, 8 designs, J = 3", "6,288 forward passes", "config/replication.yaml"):
        assert fact in text, fact


@pytest.mark.slow
@pytest.mark.timeout(1800)  # under `make test` it shares the 2 cores with the workflow runs
def test_tutorial_runs_top_to_bottom(monkeypatch):
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    # The kernel and the workflow it starts run this environment's interpreter.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError naming the cell on any error
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    images = [o for o in outputs if o.get("output_type") == "display_data" and "image/png" in o.get("data", {})]
    assert len(images) >= 5, "the tutorial's figures were not displayed"
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "tiger cat" in text and "by hand: depth" in text
