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
