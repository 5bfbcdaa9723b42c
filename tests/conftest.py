"""Shared test set-up: deterministic torch, few threads, and where ../shared is."""

from pathlib import Path

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
torch.manual_seed(0)
torch.set_num_threads(min(2, torch.get_num_threads()))

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
IMAGENET_SAMPLE = SHARED / "data" / "imagenet-sample"


@pytest.fixture
def imagenet_sample() -> Path:
    """The 500 labelled ImageNet photographs of ../shared, or a skip."""
    if not (IMAGENET_SAMPLE / "labels.csv").is_file():
        pytest.skip(f"{IMAGENET_SAMPLE} is absent (it lives beside the checkout, not in it)")
    return IMAGENET_SAMPLE
