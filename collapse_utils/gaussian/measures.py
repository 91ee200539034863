"""What is measured on a fitted Gaussian: tail mass, squared Wasserstein-2 distance, the collapsed share."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import special

from .. import validate

if TYPE_CHECKING:  # pragma: no cover
    from .simulation import GaussianRun


def _check_array(name: str, value, minimum: float | None = None) -> np.ndarray:
    """A finite array (or number), optionally ``>= minimum`` everywhere."""
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or an array of numbers, got {value!r}") from None
    if np.isnan(a).any() or (minimum is not None and np.any(a < minimum)):
        where = "" if minimum is None else f" >= {minimum:g}"
        raise ValueError(f"{name} must hold numbers{where} (no NaN), got {value!r}")
    return a


def tail_mass(mean: np.ndarray, var: np.ndarray, threshold: float) -> np.ndarray:
    """Mass that N(mean, var) puts on ``|x| > threshold`` (the original's tails).

    Under the original N(0, 1) this is ``2 * (1 - Phi(threshold))``.

    Raises
    ------
    ValueError
        If a variance is negative or NaN, or ``threshold`` is negative.
    """
    mean = _check_array("mean", mean)
    var = _check_array("var", var, 0.0)
    threshold = validate.real("threshold", threshold, 0.0)
    sd = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        upper = special.ndtr((mean - threshold) / sd)  # P(X > threshold)
        lower = special.ndtr((-threshold - mean) / sd)  # P(X < -threshold)
    return upper + lower


def wasserstein2_sq(mean: np.ndarray, var: np.ndarray, mean0: float = 0.0, var0: float = 1.0) -> np.ndarray:
    """Squared Wasserstein-2 distance between N(mean, var) and N(mean0, var0)."""
    var = _check_array("var", var, 0.0)
    var0 = validate.real("var0", var0, 0.0)
    return (np.asarray(mean) - mean0) ** 2 + (np.sqrt(var) - np.sqrt(var0)) ** 2


def collapsed_fraction(run: GaussianRun, threshold: float = 0.1) -> np.ndarray:
    """Per generation, the fraction of runs whose *standard deviation* is below ``threshold``."""
    threshold = validate.real("threshold", threshold, 0.0, low_open=True)
    return (run.std < threshold).mean(axis=1)


