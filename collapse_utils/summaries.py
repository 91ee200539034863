"""Small summaries of per-generation curves, shared by the chapters."""

from __future__ import annotations

import numpy as np


def first_below(curve: np.ndarray, level: float) -> int | None:
    """First index (generation) at which ``curve`` falls below ``level``; ``None`` if it never does."""
    hit = np.flatnonzero(np.asarray(curve) < level)
    return int(hit[0]) if hit.size else None
