"""Theory of the recursion: exact moments, the paper's first-order formula, sampling densities.

Replace schedule (approach 1), no retention; derived here unless stated.
Generation t is the result of t + 1 fits, each to n points: generation 0 is one fit.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import special, stats

from .. import validate
from ..schedules import check_count
from .measures import _check_array

GROWTHS = ("constant", "linear", "superlinear")


def sample_sizes(m0: int, generations: int, growth: str = "constant") -> np.ndarray:
    """Sample size of each generation ``0..generations`` under a growth rule.

    ``"constant"``: ``M_i = m0``; ``"linear"``: ``M_i = m0 (i + 1)``;
    ``"superlinear"``: ``M_i = m0 (i + 1)^2``. (Generation ``i`` is fitted to
    ``M_i`` points.)
    """
    m0 = check_count("m0", m0, 2)
    generations = check_count("generations", generations, 0)
    growth = validate.choice("growth", growth, GROWTHS)
    i = np.arange(generations + 1, dtype=np.int64)
    factor = {"constant": np.ones_like(i), "linear": i + 1, "superlinear": (i + 1) ** 2}[growth]
    return m0 * factor


def _check_sizes(sizes) -> np.ndarray:
    m = np.asarray(sizes)
    if m.ndim != 1 or m.size < 1 or not np.issubdtype(m.dtype, np.integer) or np.any(m < 2):
        raise ValueError(f"sizes must be a 1-D sequence of integers >= 2 (one per generation), got {sizes!r}")
    return m.astype(np.int64)



def _generations(generations) -> np.ndarray:
    t = _check_array("generations", generations, 0.0)
    if np.isinf(t).any():
        raise ValueError(f"generations must be finite numbers >= 0, got {generations!r}")
    return t


def log_var_drift(n: int) -> float:
    """E[log(chi2(n-1)/(n-1))] = psi((n-1)/2) + log(2/(n-1)) < 0: the drift of log var per fit."""
    n = check_count("n", n, 2)
    return float(special.digamma((n - 1) / 2.0) + np.log(2.0 / (n - 1)))


def expected_log_var(n: int, generations: int | np.ndarray) -> np.ndarray:
    """E[log var_t] = (t + 1) (psi((n-1)/2) + log(2/(n-1))): a negative drift per generation."""
    drift = log_var_drift(n)
    return (_generations(generations) + 1.0) * drift


def sd_log_var(n: int, generations: int | np.ndarray) -> np.ndarray:
    """Standard deviation of log var_t: sqrt((t + 1) psi'((n-1)/2))."""
    n = check_count("n", n, 2)
    return np.sqrt((_generations(generations) + 1.0) * special.polygamma(1, (n - 1) / 2.0))


def var_of_var(n: int, generations: int | np.ndarray) -> np.ndarray:
    """Var[var_t] = (1 + 2/(n-1))^(t+1) - 1, while E[var_t] = 1 for every t."""
    n = check_count("n", n, 2)
    return (1.0 + 2.0 / (n - 1)) ** (_generations(generations) + 1.0) - 1.0


def var_of_mean(n: int, generations: int | np.ndarray) -> np.ndarray:
    """Var[mean_t] = (t + 1) / n: the mean drifts as a random walk (E[var_i] = 1)."""
    n = check_count("n", n, 2)
    return (_generations(generations) + 1.0) / n


def expected_std_factor(n: int | np.ndarray) -> np.ndarray | float:
    """E[sqrt(chi2(n-1)/(n-1))] = sqrt(2/(n-1)) Gamma(n/2) / Gamma((n-1)/2) < 1."""
    m = np.asarray(n, dtype=float)
    if np.any(m < 2) or np.isnan(m).any():
        raise ValueError(f"n must be >= 2, got {n!r}")
    out = np.exp(0.5 * np.log(2.0 / (m - 1)) + special.gammaln(m / 2.0) - special.gammaln((m - 1) / 2.0))
    return float(out) if out.ndim == 0 else out


def expected_w2_sq(n: int, generations: int | np.ndarray) -> np.ndarray:
    """Exact E[W2^2(N(mean_t, var_t), N(0, 1))] = (t+1)/n + 2 (1 - c_n^(t+1)), c_n = :func:`expected_std_factor`."""
    n = check_count("n", n, 2)
    f = _generations(generations) + 1.0
    return f / n + 2.0 * (1.0 - expected_std_factor(n) ** f)


def expected_w2_sq_sizes(sizes: Sequence[int] | np.ndarray) -> np.ndarray:
    """Exact E[W2^2] of each generation when generation ``i`` is fitted to ``sizes[i]`` points.

    ``sum_{i<=t} 1/M_i + 2 (1 - prod_{i<=t} c_{M_i})``: the mean's variance
    (each step has variance E[var]/M_i = 1/M_i) plus E[(sd_t - 1)^2] = 2 - 2 E[sd_t]
    (derived here).
    """
    m = _check_sizes(sizes).astype(float)
    return np.cumsum(1.0 / m) + 2.0 * (1.0 - np.cumprod(expected_std_factor(m) * np.ones_like(m)))


def w2_first_order(sizes: Sequence[int] | np.ndarray, sigma2: float = 1.0) -> np.ndarray:
    """The paper's first-order E[W2^2]: ``(3/2) sigma^2 (1/M_0 + ... + 1/M_t)`` for each generation ``t``.

    Shumailov et al., supplementary information 3.1.1, eq. 6:
    E[W2^2(N(mu, s^2), N(mu_{n+1}, s^2_{n+1}))] = (3/2) s^2 (1/M_0 + ... + 1/M_n) + O(2),
    where ``M_i`` samples make generation ``i``. The distance stays finite only
    when ``M_i`` grows superlinearly (the sum converges).
    """
    m = _check_sizes(sizes).astype(float)
    sigma2 = validate.real("sigma2", sigma2, 0.0, low_open=True)
    return 1.5 * sigma2 * np.cumsum(1.0 / m)


def first_order_breakdown(n: int, generations: int, tolerance: float = 0.1) -> int | None:
    """First generation at which the paper's first-order formula is off the exact E[W2^2] by more than ``tolerance`` (relative).

    ``None`` if it stays within ``tolerance`` up to ``generations``.
    """
    n = check_count("n", n, 2)
    generations = check_count("generations", generations, 0)
    tolerance = validate.real("tolerance", tolerance, 0.0, low_open=True)
    sizes = np.full(generations + 1, n)
    error = np.abs(w2_first_order(sizes) / expected_w2_sq_sizes(sizes) - 1.0)
    hit = np.flatnonzero(error > tolerance)
    return int(hit[0]) if hit.size else None


def fitted_mean_pdf(x: np.ndarray, mu: float, s2: float, n: int) -> np.ndarray:
    """Exact density of the next fitted mean given (mu, s2): N(mu, s2 / n)."""
    s2 = validate.real("s2", s2, 0.0, low_open=True)
    n = check_count("n", n, 1)
    return stats.norm.pdf(x, mu, np.sqrt(s2 / n))


def fitted_var_pdf(x: np.ndarray, s2: float, n: int) -> np.ndarray:
    """Exact density of the next unbiased variance given s2: s2 chi2(n-1) / (n-1)."""
    s2 = validate.real("s2", s2, 0.0, low_open=True)
    n = check_count("n", n, 2)
    return stats.chi2.pdf(np.asarray(x) * (n - 1) / s2, n - 1) * (n - 1) / s2


