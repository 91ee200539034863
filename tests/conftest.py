"""Shared test settings: headless matplotlib, the quick profile, the repository root."""

import os
from pathlib import Path

import matplotlib
import pytest

# headless plotting in this process only: notebook kernels keep their inline backend
matplotlib.use("Agg")
os.environ.setdefault("COLLAPSE_PROFILE", "quick")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture(scope="module")
def one_thread():
    """Tiny torch models run fastest on one thread (and do not stall when the cores are busy).

    Modules opt in with ``pytestmark = pytest.mark.usefixtures("one_thread")``.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
