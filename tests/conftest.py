"""Shared test set-up: deterministic torch, few threads, and where ../shared is."""

import os
from pathlib import Path

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
torch.manual_seed(0)
# Two threads, shared among the pytest-xdist workers (`make test` -n 2: one each), so that
# the workers do not oversubscribe the cores.
torch.set_num_threads(max(1, min(2, torch.get_num_threads())
                          // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))))

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
IMAGENET_SAMPLE = SHARED / "data" / "imagenet-sample"


@pytest.fixture
def imagenet_sample() -> Path:
    """The 500 labelled ImageNet photographs of ../shared, or a skip."""
    if not (IMAGENET_SAMPLE / "labels.csv").is_file():
        pytest.skip(f"{IMAGENET_SAMPLE} is absent (it lives beside the checkout, not in it)")
    return IMAGENET_SAMPLE


#: Test files handed out first under pytest-xdist (`make test`: -n 2 --dist loadfile
#: --no-loadscope-reorder gives work in collection order), longest first, so that the
#: short tests fill both workers while the workflow runs go on instead of after them.
HEAVY_FIRST = ("test_replication_smoke.py", "test_workflow.py", "test_documented_commands.py",
               "test_notebook.py",
               "test_rerun_triggers.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: same order within a file
