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


def wasserstein2_sq_to(mean: np.ndarray, var: np.ndarray, original=None) -> np.ndarray:
    """Squared Wasserstein-2 distance between N(mean, var) and the true distribution, Gaussian or not.

    In one dimension the optimal coupling is monotone, so for a true
    distribution of mean ``m0``, variance ``v0`` and normal score ``kappa``
    (:func:`~collapse_utils.gaussian.distributions.normal_score`, at most
    ``sqrt(v0)``) ``W2^2 = (mean - m0)^2 + var + v0 - 2 sd kappa`` (derived
    here). With the default N(0, 1) (``kappa = 1``) this is :func:`wasserstein2_sq`.
    For a non-Gaussian truth the Gaussian of its own mean and variance stays
    ``2 (v0 - sqrt(v0) kappa) > 0`` away, and no Gaussian comes closer than
    ``v0 - kappa^2`` (at ``sd = kappa``): functional expressivity error.
    """
    from .distributions import _moments_of, normal_score, standard_normal

    var = _check_array("var", var, 0.0)
    original = original or standard_normal
    m0, v0 = _moments_of(original)
    kappa = normal_score(original)
    return (np.asarray(mean) - m0) ** 2 + var + v0 - 2.0 * np.sqrt(var) * kappa


def collapsed_fraction(run: GaussianRun, threshold: float = 0.1) -> np.ndarray:
    """Per generation, the fraction of runs whose *standard deviation* is below ``threshold``."""
    threshold = validate.real("threshold", threshold, 0.0, low_open=True)
    return (run.std < threshold).mean(axis=1)


def max_z_level(points: int, alpha: float = 0.01) -> float:
    """The level that the largest of ``points`` gaps, each in standard errors, exceeds with probability below
    ``alpha``.

    A curve compared with its theory at many generations has a largest gap
    well above 3 standard errors by chance alone (one in 370 points exceeds 3).
    Bonferroni's bound gives ``Phi^-1(1 - alpha / (2 points))``, which holds
    however the points are correlated.
    """
    points = validate.integer("points", points, 1)
    alpha = validate.real("alpha", alpha, 0.0, 1.0, low_open=True, high_open=True)
    return float(special.ndtri(1.0 - alpha / (2.0 * points)))


def sample_generations(generations: int, dense: int = 100, points: int = 300) -> np.ndarray:
    """A subset of ``0..generations`` for curves on a logarithmic generation axis.

    Every generation up to ``dense``, then about ``points`` generations spaced
    evenly in log scale, the last generation included. Quantiles over runs
    computed on this subset cost a fraction of the whole, and a log axis shows
    no difference.
    """
    generations = validate.integer("generations", generations, 0)
    dense = validate.integer("dense", dense, 0)
    points = validate.integer("points", points, 1)
    head = np.arange(min(dense, generations) + 1)
    if generations <= dense:
        return head
    tail = np.geomspace(max(dense, 1), generations, points).round().astype(np.int64)
    return np.unique(np.concatenate([head, tail, [generations]]))


def first_crossing(evaluate, grid: np.ndarray, level: float) -> int | None:
    """The first generation at which a curve falls below ``level``, evaluating it only where needed.

    ``evaluate(generations)`` returns the curve at an increasing array of
    generations; ``grid`` is a coarse increasing subset (from
    :func:`sample_generations`, generation 0 included). The curve is evaluated
    on ``grid``; where it first falls below ``level`` it is evaluated again at
    every generation since the previous grid point, so the answer is exact
    unless the curve dips below and back above ``level`` between two grid
    points before that. ``None`` if it never falls below on ``grid``.
    """
    grid = np.asarray(grid)
    coarse = np.asarray(evaluate(grid))
    hit = np.flatnonzero(coarse < level)
    if not hit.size:
        return None
    i = int(hit[0])
    if i == 0:
        return int(grid[0])
    fine = np.arange(grid[i - 1] + 1, grid[i] + 1)
    values = np.asarray(evaluate(fine))
    return int(fine[np.flatnonzero(values < level)[0]])


def median_tail_ratio(run: GaussianRun, threshold: float, rows: np.ndarray | None = None) -> np.ndarray:
    """The median over runs of :func:`tail_mass` beyond ``threshold``, relative to the truth's N(0, 1).

    ``rows``: the generations to compute it at (default: all of them); row ``i``
    of the result is generation ``rows[i]``.
    """
    rows = np.arange(run.generations + 1) if rows is None else np.asarray(rows)
    truth = tail_mass(0.0, 1.0, threshold)
    return np.median(tail_mass(run.mean[rows], run.var[rows], threshold), axis=1) / truth


def largest_gap(simulated: np.ndarray, theory: np.ndarray, se: np.ndarray) -> tuple[float, int, bool]:
    """The largest gap between a simulated curve and its theory, in standard errors.

    Returns ``(|gap| / se at its largest, the index where it is, whether the
    simulation lies below the theory there)``. Points with a standard error of
    zero are skipped.
    """
    sim, th, se = (np.asarray(a, dtype=float) for a in (simulated, theory, se))
    if not (sim.shape == th.shape == se.shape):
        raise ValueError(
            f"simulated, theory and se must have one shape, got {sim.shape}, {th.shape}, {se.shape}"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, np.abs(sim - th) / se, 0.0)
    i = int(np.argmax(z))
    return float(z[i]), i, bool(sim[i] < th[i])
