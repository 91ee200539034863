"""The true (original) distributions of chapter 1: N(0, 1) and a two-mode mixture with the same two moments.

A *sampler* is ``f(shape, rng) -> array``. The true distribution is not a
generation: generation 0 is the Gaussian fitted to ``n`` draws of it.
"""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np
from scipy import integrate, special, stats

from .. import validate

Sampler = Callable[[tuple[int, ...], np.random.Generator], np.ndarray]


def standard_normal(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """The default true distribution, N(0, 1)."""
    return rng.standard_normal(shape)


def two_mode_mixture(separation: float = 0.9) -> Sampler:
    """Sampler of a symmetric two-mode mixture with mean 0 and variance 1.

    ``0.5 N(-a, 1 - a^2) + 0.5 N(a, 1 - a^2)`` with ``a = separation`` in
    ``(0, 1)``: the closer ``a`` is to 1, the further apart and narrower the
    modes. Its first two moments equal those of N(0, 1), so a single Gaussian
    fitted to it with infinite data *is* N(0, 1): functional expressivity error
    (a single Gaussian cannot represent two modes) merges the modes at once.
    """
    a = validate.real("separation", separation, 0.0, 1.0, low_open=True, high_open=True)
    sd = float(np.sqrt(1.0 - a * a))

    def sampler(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        signs = np.where(rng.random(shape) < 0.5, -a, a)
        return signs + sd * rng.standard_normal(shape)

    sampler.separation = a  # type: ignore[attr-defined]
    return sampler


def two_mode_pdf(x: np.ndarray, separation: float = 0.9) -> np.ndarray:
    """Density of :func:`two_mode_mixture`."""
    a = validate.real("separation", separation, 0.0, 1.0, low_open=True, high_open=True)
    sd = np.sqrt(1.0 - a * a)
    return 0.5 * (stats.norm.pdf(x, -a, sd) + stats.norm.pdf(x, a, sd))


def two_mode_cdf(x: np.ndarray, separation: float = 0.9) -> np.ndarray:
    """Distribution function of :func:`two_mode_mixture`."""
    a = validate.real("separation", separation, 0.0, 1.0, low_open=True, high_open=True)
    sd = np.sqrt(1.0 - a * a)
    return 0.5 * (special.ndtr((np.asarray(x) + a) / sd) + special.ndtr((np.asarray(x) - a) / sd))


def normal_score(original: Sampler | None = None) -> float:
    """``kappa = E[Z Q(Phi(Z))]``, Z ~ N(0, 1), Q the quantile function of the true distribution.

    The covariance of the true distribution with a standard normal under their
    monotone (optimal) coupling: the standard deviation ``s`` for a Gaussian truth
    N(m, s^2), less than its standard deviation for any other truth (by
    Cauchy-Schwarz, with equality only for a Gaussian). It is what the squared
    Wasserstein-2 distance from a Gaussian
    needs (:func:`collapse_utils.gaussian.wasserstein2_sq_to`). Exact (by
    quadrature) for N(0, 1) and :func:`two_mode_mixture`; for any other sampler,
    estimated from 200,000 sorted draws (seed 0), which is off by about
    ``1e-4``.
    """
    if original is None or original is standard_normal:
        return 1.0
    a = getattr(original, "separation", None)
    if a is not None:
        return _two_mode_score(float(a))
    x = np.sort(np.asarray(original((200_000,), np.random.default_rng(0)), dtype=float))
    z = special.ndtri((np.arange(x.size) + 0.5) / x.size)
    return float(np.mean((x - x.mean()) * z))


@functools.lru_cache(maxsize=64)
def _two_mode_score(a: float) -> float:
    """:func:`normal_score` of :func:`two_mode_mixture` with separation ``a``, by quadrature (cached)."""
    sd = np.sqrt(1.0 - a * a)

    def integrand(x):
        return x * special.ndtri(np.clip(two_mode_cdf(x, a), 1e-300, 1 - 1e-16)) * two_mode_pdf(x, a)

    return float(integrate.quad(integrand, -a - 12 * sd, a + 12 * sd, points=[-a, 0.0, a], limit=200)[0])


def _moments_of(original: Sampler) -> tuple[float, float]:
    if original is standard_normal or getattr(original, "separation", None) is not None:
        return 0.0, 1.0  # two_mode_mixture has mean 0 and variance 1 by construction
    big = original((200_000,), np.random.default_rng(0))
    return float(big.mean()), float(big.var())
