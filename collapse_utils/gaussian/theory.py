"""Theory of the recursion: exact moments, the paper's first-order formula, sampling densities.

Replace schedule (approach 1), no retention; derived here unless stated.
Generation t is the result of t + 1 fits, each to n points: generation 0 is one fit.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

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


def log_var_drift(n: int, estimator: str = "unbiased") -> float:
    """The drift of log var per fit: E[log(chi2(n-1)/(n-ddof))] = psi((n-1)/2) + log(2/(n-ddof)) < 0.

    About ``-1/(n-1)`` for the unbiased estimator (``ddof = 1``); the
    maximum-likelihood one (``ddof = 0``) adds ``log(1 - 1/n)``, about
    ``-1/n``: nearly twice the drift.
    """
    n = check_count("n", n, 2)
    return float(special.digamma((n - 1) / 2.0) + np.log(2.0 / (n - _ddof(estimator))))


def expected_log_var(n: int, generations: int | np.ndarray, estimator: str = "unbiased") -> np.ndarray:
    """E[log var_t] = (t + 1) (psi((n-1)/2) + log(2/(n-ddof))): a negative drift per generation."""
    drift = log_var_drift(n, estimator)
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


def expected_w2_sq(n: int, generations: int | np.ndarray, estimator: str = "unbiased") -> np.ndarray:
    """Exact E[W2^2(N(mean_t, var_t), N(0, 1))] (derived here).

    With ``q = (n-1)/(n-ddof)`` (1 for the unbiased estimator) and
    ``c_n`` = :func:`expected_std_factor`: E[var_t] = q^(t+1),
    E[mean_t^2] = (1/n) sum_{s=0..t} q^s, E[sd_t] = (c_n sqrt(q))^(t+1), and
    E[W2^2] = E[mean_t^2] + E[var_t] + 1 - 2 E[sd_t]. For the unbiased estimator
    this is ``(t+1)/n + 2 (1 - c_n^(t+1))``, without bound; for the
    maximum-likelihood one (``q = (n-1)/n``) E[mean_t^2] tends to 1, so
    E[W2^2] tends to 2: bounded.
    """
    n = check_count("n", n, 2)
    f = _generations(generations) + 1.0
    q = (n - 1.0) / (n - _ddof(estimator))
    c = expected_std_factor(n)
    if q == 1.0:
        return f / n + 2.0 * (1.0 - c**f)
    mean_sq = (1.0 - q**f) / (1.0 - q) / n
    return mean_sq + q**f + 1.0 - 2.0 * (c * np.sqrt(q)) ** f


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
    """First generation at which the paper's first-order formula is off the exact E[W2^2] by more than
    ``tolerance`` (relative).

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


# ---------------------------------------------------------------------------
# the two variance estimators, and the rare runs that carry the expectations


def _ddof(estimator: str) -> int:
    from .simulation import ESTIMATORS

    return ESTIMATORS[validate.choice("estimator", estimator, tuple(ESTIMATORS))]


def expected_var(n: int, generations: int | np.ndarray, estimator: str = "unbiased") -> np.ndarray:
    """E[var_t]: 1 for the unbiased estimator; ``((n-1)/n)^(t+1)`` for the maximum-likelihood one."""
    n = check_count("n", n, 2)
    f = _generations(generations) + 1.0
    return ((n - 1.0) / (n - _ddof(estimator))) ** f


def halving_generation(n: int, estimator: str = "unbiased") -> float:
    """The generation ``t`` at which ``exp E[log var_t]`` (about the median run's variance) is one half.

    ``(t + 1) * drift = log(1/2)``, with the drift of :func:`log_var_drift`: about
    ``(n - 1) log 2 - 1`` for the unbiased estimator and half that for the
    maximum-likelihood one. Below 0 for ``n`` of 3 or less (halved before the first fit).
    """
    return float(np.log(0.5) / log_var_drift(n, estimator) - 1.0)


class Carriers(NamedTuple):
    """Which runs carry the expected variance, per generation (:func:`expectation_carriers`)."""

    #: the fraction of runs whose variance is at least ``threshold``
    fraction: np.ndarray
    #: the share of E[var_t] that those runs hold
    share: np.ndarray
    #: the threshold on ``log var_t``: its mean under the variance-weighted distribution
    log_threshold: np.ndarray


def expectation_carriers(sizes: Sequence[int] | np.ndarray, estimator: str = "unbiased") -> Carriers:
    """The rare runs that hold about half of the expected variance, generation by generation.

    Generation ``t``'s variance is ``var_t = prod_{i<=t} X_i`` with independent
    ``X_i = chi2(M_i - 1) / (M_i - ddof)`` (``M_i = sizes[i]``), so ``S = log var_t``
    has the cumulant generating function ``K(h) = sum_i [h log(2/(M_i - ddof))
    + lgamma(k_i + h) - lgamma(k_i)]`` with ``k_i = (M_i - 1)/2``. Weighting every
    run by its variance (the measure that E[var_t] is the mass of) shifts ``S``
    to the mean ``s* = K'(1)``. The runs with ``S >= s*`` hold about half of
    E[var_t] (``share``, from the skewness of ``S`` under that weighting) and are
    a fraction ``fraction`` of all runs, computed with the Lugannani-Rice
    saddle-point formula, whose saddle point here is exactly ``h = 1`` (derived
    here). A simulation of ``R`` runs holds about ``R * fraction`` of them: once
    that is well below 1, its mean over runs cannot show the expectation.
    """
    m = _check_sizes(sizes).astype(float)
    ddof = _ddof(estimator)
    k = (m - 1.0) / 2.0
    log_scale = np.log(2.0 / (m - ddof))
    big_k1 = np.cumsum(log_scale + special.gammaln(k + 1.0) - special.gammaln(k))  # K(1) = log E[var_t]
    k1 = np.cumsum(log_scale + special.digamma(k + 1.0))  # K'(1) = s*
    k2 = np.cumsum(special.polygamma(1, k + 1.0))  # K''(1)
    k3 = np.cumsum(special.polygamma(2, k + 1.0))  # K'''(1)
    w = np.sqrt(2.0 * np.maximum(k1 - big_k1, 0.0))  # h s* - K(h) at h = 1
    u = np.sqrt(k2)
    with np.errstate(divide="ignore", invalid="ignore"):
        correction = stats.norm.pdf(w) * (1.0 / u - 1.0 / w)
    # close to the centre the formula is 0/0: its limit there is 1/2 - skewness / (6 sqrt(2 pi))
    centre = 0.5 - k3 / (6.0 * np.sqrt(2.0 * np.pi) * k2**1.5)
    fraction = np.where(w > 1e-3, stats.norm.sf(w) + np.nan_to_num(correction), centre)
    share = 0.5 - k3 / (6.0 * np.sqrt(2.0 * np.pi) * k2**1.5)
    return Carriers(np.clip(fraction, 0.0, 1.0), np.clip(share, 0.0, 1.0), k1)
