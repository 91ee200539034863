"""Chapter 1: recursive fitting of a single Gaussian, simulated and in theory.

**Generations.** The true distribution, N(0, 1) by default, is *not* a
generation: it is kept apart (:attr:`GaussianRun.true_mean`,
:attr:`GaussianRun.true_var`). Generation 0 is the Gaussian whose mean and
*unbiased* variance are estimated from ``n`` draws of the true distribution
(the *original data*); generation ``t + 1`` is the Gaussian fitted to the
training set that the data schedule (:mod:`collapse_utils.schedules`) builds
from samples of generation ``t``. So generation ``t`` is the result of
``t + 1`` fits, and the theory functions below count that way.

Two simulation methods, which agree in distribution (the tests check it):

``method="exact"``
    For a Gaussian, the fitted mean and variance of ``m`` points are
    *sufficient*: ``mean ~ N(mu, s2 / m)`` and ``(m - 1) var / s2 ~ chi2(m - 1)``,
    independently. Drawing these directly costs O(1) per run and generation,
    whatever ``n``. Schedules 1 (replace) and 3 (accumulate) and fresh
    retention are covered (pooled data are merged through their counts, means
    and sums of squares).
``method="sample"``
    Draws the actual points (O(n) per run and generation). Needed for
    schedule 2 (accumulate-subsample: subsampling a pool needs the points),
    for *fixed* retention and for non-Gaussian original data (functional
    expressivity error). Schedule 2 stores each run's pool once, in float32,
    and draws each training set by index.

``method="auto"`` (the default) takes ``exact`` where it applies.

**Retention** comes in the two kinds of :data:`collapse_utils.schedules.RETENTION_KINDS`:
``retained="fresh"`` (the default of this chapter) draws the retained points
afresh from the true distribution every generation (unlimited real data, which
keeps the exact method exact); ``retained="fixed"`` takes them, without
replacement, from the one original sample of generation 0, as chapters 2-4 do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
from scipy import special, stats

from . import prose, validate
from .schedules import (
    APPROACHES,
    SCHEDULE_NAMES,
    check_approach,
    check_count,
    check_retained,
    check_retention,
    choose_without_replacement,
    n_retained,
)

METHODS = ("auto", "exact", "sample")
GROWTHS = ("constant", "linear", "superlinear")

#: Largest pool (float32 values) that schedule 2 keeps in memory at once; runs are processed in chunks.
POOL_VALUES = 50_000_000

Sampler = Callable[[tuple[int, ...], np.random.Generator], np.ndarray]


@dataclass
class GaussianRun:
    """The fitted parameters of every generation of every run.

    ``mean`` and ``var`` have shape ``(generations + 1, runs)``; row ``t`` is
    generation ``t`` (row 0: the fit to the original data). The true
    distribution's moments are :attr:`true_mean` and :attr:`true_var`.
    ``sizes``, when set, holds the sample size of each generation
    (:func:`simulate_sizes`).
    """

    n: int
    generations: int
    runs: int
    approach: int
    retention: float
    method: str
    seed: int | None
    mean: np.ndarray
    var: np.ndarray
    samples: np.ndarray | None = field(default=None, repr=False)
    true_mean: float = 0.0
    true_var: float = 1.0
    retained: str = "fresh"
    sizes: np.ndarray | None = field(default=None, repr=False)

    @property
    def std(self) -> np.ndarray:
        """Fitted standard deviations, shape ``(generations + 1, runs)``."""
        return np.sqrt(self.var)

    @property
    def log_var(self) -> np.ndarray:
        """Natural log of the fitted variances (``-inf`` where a variance underflowed)."""
        with np.errstate(divide="ignore"):
            return np.log(self.var)

    @property
    def generation(self) -> np.ndarray:
        """``0, 1, ..., generations``."""
        return np.arange(self.generations + 1)


# ---------------------------------------------------------------------------
# original data


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


# ---------------------------------------------------------------------------
# simulation


def _validate(n, generations, runs, approach, retention, method, retained, keep_samples, seed):
    n = check_count("n", n, 2)
    generations = check_count("generations", generations, 0)
    runs = check_count("runs", runs, 1)
    approach = check_approach(approach)
    retention = check_retention(retention)
    method = validate.choice("method", method, METHODS)
    retained = check_retained(retained)
    keep_samples = validate.boolean("keep_samples", keep_samples)
    if seed is not None:
        seed = validate.integer("seed", seed, 0)
    return n, generations, runs, approach, retention, method, retained, keep_samples, seed


_TWO_PI = np.float32(2.0 * np.pi)


def _normal32(rng: np.random.Generator, m: int) -> np.ndarray:
    """``m`` standard normal variates (float32) by the Box-Muller transform.

    Exact in distribution up to float32 resolution (the uniforms have 24 bits,
    which truncates the normal at about 5.8 standard deviations, a mass of
    about 1e-8). About three times faster than numpy's float64 ziggurat here.
    """
    half = (m + 1) // 2
    u = rng.random((2, half), dtype=np.float32)
    r = np.log1p(-u[0])  # 1 - u lies in (0, 1]
    r *= -2.0
    np.sqrt(r, out=r)
    theta = u[1]
    theta *= _TWO_PI
    out = np.empty(2 * half, np.float32)
    np.cos(theta, out=out[:half])
    out[:half] *= r
    np.sin(theta, out=out[half:])
    out[half:] *= r
    return out[:m]


def _gamma32(rng: np.random.Generator, shape: float, m: int) -> np.ndarray:
    """``m`` Gamma(shape, 1) variates (float32) by Marsaglia and Tsang's method.

    An exact rejection sampler (Marsaglia & Tsang, 2000): a cubed, shifted
    normal accepted by a cheap squeeze test almost always (the exact test runs
    on the rare rest, and rejected draws are redrawn). Shapes below 1 use
    ``Gamma(a) = Gamma(a + 1) U^(1/a)``.
    """
    boost = shape < 1.0
    a = shape + 1.0 if boost else shape
    d = np.float32(a - 1.0 / 3.0)
    c = np.float32(1.0 / np.sqrt(9.0 * (a - 1.0 / 3.0)))
    x = _normal32(rng, m)
    v = x * c
    v += 1.0
    v3 = v * v
    v3 *= v
    u = rng.random(m, dtype=np.float32)
    x *= x  # x^2 from here on
    squeeze = x * x
    squeeze *= np.float32(-0.0331)
    squeeze += 1.0
    slow = np.flatnonzero(~(u < squeeze))
    if slow.size:
        vs, x2 = v3[slow], x[slow]
        with np.errstate(invalid="ignore", divide="ignore"):
            accept = (vs > 0) & (np.log(u[slow]) < 0.5 * x2 + d * (1.0 - vs + np.log(vs)))
        redo = slow[~accept]
        if redo.size:
            v3[redo] = _gamma32(rng, a, redo.size) / d
    v3 *= d
    if boost:
        v3 *= (1.0 - rng.random(m, dtype=np.float32)) ** np.float32(1.0 / shape)
    return v3


def _chi2(rng: np.random.Generator, df: int, size: int) -> np.ndarray:
    """chi2(df) draws that also allow ``df == 0`` (a point mass at 0)."""
    if df <= 0:
        return np.zeros(size)
    return 2.0 * _gamma32(rng, df / 2.0, size).astype(np.float64)


def _chi2(rng: np.random.Generator, df: int, size: int) -> np.ndarray:
    """chi2(df) draws that also allow ``df == 0`` (a point mass at 0)."""
    if df <= 0:
        return np.zeros(size)
    return 2.0 * _gamma32(rng, df / 2.0, size).astype(np.float64)


def _merge(count_a, mean_a, m2_a, count_b, mean_b, m2_b):
    """Pool two groups given their counts, means and sums of squared deviations."""
    count = count_a + count_b
    delta = mean_b - mean_a
    mean = mean_a + delta * (count_b / count)
    m2 = m2_a + m2_b + delta * delta * (count_a * count_b / count)
    return count, mean, m2


def _draw_stats(rng, m: int, mu, s2, runs: int):
    """Sample mean and sum of squared deviations of ``m`` points of N(mu, s2), per run."""
    mean = mu + np.sqrt(s2 / m) * _normal32(rng, runs)
    m2 = s2 * _chi2(rng, m - 1, runs)
    return mean, m2


def _simulate_exact(n, generations, runs, approach, retention, rng, mu0=0.0, s20=1.0):
    mean = np.empty((generations + 1, runs))
    var = np.empty((generations + 1, runs))
    k = n_retained(n, retention)
    if approach == 1 and k == 0:
        # Fully vectorised over runs, in blocks of generations: the variance is
        # a running product of chi2(n-1)/(n-1) factors (one per fit, starting
        # from the true variance), the mean a running sum of N(0, var_prev / n)
        # steps (independent of the variance factor).
        block = max(1, (1 << 20) // runs)
        scale = np.float32(2.0 / (n - 1))
        prev_mean = np.full(runs, mu0)
        prev_var = np.full(runs, s20)
        rows = generations + 1
        for start in range(0, rows, block):
            b = min(block, rows - start)
            factors = _gamma32(rng, (n - 1) / 2.0, b * runs).reshape(b, runs)
            factors *= scale
            # running products and sums row by row: contiguous rows of `runs`
            # values are faster than numpy's cumprod/cumsum along axis 0
            np.multiply(prev_var, factors[0], out=var[start])
            for i in range(1, b):
                np.multiply(var[start + i - 1], factors[i], out=var[start + i])
            steps = np.empty((b, runs))
            steps[0] = prev_var
            steps[1:] = var[start : start + b - 1]
            steps /= n  # the variance of each step of the mean
            np.sqrt(steps, out=steps)
            steps *= _normal32(rng, b * runs).reshape(b, runs)
            np.add(prev_mean, steps[0], out=mean[start])
            for i in range(1, b):
                np.add(mean[start + i - 1], steps[i], out=mean[start + i])
            prev_mean, prev_var = mean[start + b - 1], var[start + b - 1]
        return mean, var
    # generation 0: the original data, n points of the truth
    pool_n = float(n)
    pool_mean, pool_m2 = _draw_stats(rng, n, mu0, s20, runs)
    mean[0], var[0] = pool_mean, pool_m2 / (n - 1)
    for t in range(1, generations + 1):
        # this generation's new data: k fresh original points and n - k samples of generation t - 1
        if k == n:
            new_n, (new_mean, new_m2) = float(n), _draw_stats(rng, n, mu0, s20, runs)
        else:
            new_n, (new_mean, new_m2) = float(n - k), _draw_stats(rng, n - k, mean[t - 1], var[t - 1], runs)
            if k:
                o_mean, o_m2 = _draw_stats(rng, k, mu0, s20, runs)
                new_n, new_mean, new_m2 = _merge(float(k), o_mean, o_m2, new_n, new_mean, new_m2)
        if approach == 1:
            mean[t], var[t] = new_mean, new_m2 / (n - 1)
        else:  # approach 3: the whole accumulated pool
            pool_n, pool_mean, pool_m2 = _merge(pool_n, pool_mean, pool_m2, new_n, new_mean, new_m2)
            mean[t], var[t] = pool_mean, pool_m2 / (pool_n - 1)
    return mean, var


def _retained_points(retained, original: Sampler, data0: np.ndarray, k: int, rng) -> np.ndarray:
    """``k`` original points per row: fresh draws, or a subset (without replacement) of ``data0``."""
    rows = data0.shape[0]
    if retained == "fresh":
        return original((rows, k), rng)
    if k == data0.shape[1]:
        return data0  # all of it (the order does not matter to a fit or to a pool)
    idx = choose_without_replacement(rng, data0.shape[1], k, rows=rows)
    return np.take_along_axis(data0, idx, axis=1)


def _moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row mean and sum of squared deviations, in float64."""
    m = x.mean(axis=1, dtype=np.float64)
    d = x - m[:, None].astype(x.dtype)
    return m, np.einsum("ij,ij->i", d, d, dtype=np.float64)


def _simulate_sample(n, generations, runs, approach, retention, retained, rng, original: Sampler, keep_samples):
    mean = np.empty((generations + 1, runs))
    var = np.empty((generations + 1, runs))
    samples = np.empty((generations + 1, runs, n)) if keep_samples else None
    k = n_retained(n, retention)
    if approach == 2:
        _simulate_subsample(n, generations, runs, k, retained, rng, original, mean, var, samples)
        return mean, var, samples
    data0 = original((runs, n), rng)
    data = data0
    pool = None
    for t in range(generations + 1):
        if t > 0:
            synthetic = mean[t - 1][:, None] + np.sqrt(var[t - 1])[:, None] * rng.standard_normal((runs, n - k))
            if k:
                data = np.concatenate([_retained_points(retained, original, data0, k, rng), synthetic], axis=1)
            else:
                data = synthetic
        m, m2 = _moments(data)
        if approach == 3:
            # the accumulated pool's moments, merged exactly as new data arrive;
            # identical to the moments of the concatenation, without O(t n) work per generation
            pool = (float(n), m, m2) if pool is None else _merge(*pool, float(n), m, m2)
            mean[t], var[t] = pool[1], pool[2] / (pool[0] - 1)
        else:
            mean[t], var[t] = m, m2 / (n - 1)
        if samples is not None:
            samples[t] = data
    return mean, var, samples


def _simulate_subsample(n, generations, runs, k, retained, rng, original, mean, var, samples) -> None:
    """Schedule 2 (accumulate-subsample) with the actual points.

    Each run's pool is stored once, in float32 (at most 200 MB at once), in an array sized for the last
    generation (no copies as it grows); each generation appends its new data
    and draws its training set *by index* (``n`` distinct indices per run).
    Runs are processed in chunks whose pools together hold at most
    :data:`POOL_VALUES` values, and nothing else of a run's history is kept.
    """
    capacity = n * (generations + 1)
    chunk = max(1, min(runs, POOL_VALUES // capacity))
    for lo in range(0, runs, chunk):
        hi = min(runs, lo + chunk)
        rows = hi - lo
        pool = np.empty((rows, capacity), np.float32)
        flat = pool.reshape(-1)
        index_type = np.int32 if rows * capacity < 2**31 else np.int64
        offsets = (np.arange(rows, dtype=index_type) * capacity)[:, None]
        data0 = np.asarray(original((rows, n), rng))
        pool[:, :n] = data0
        m, m2 = _moments(data0)
        mean[0, lo:hi], var[0, lo:hi] = m, m2 / (n - 1)
        if samples is not None:
            samples[0, lo:hi] = data0
        for t in range(1, generations + 1):
            start = t * n
            if k:
                pool[:, start : start + k] = _retained_points(retained, original, data0, k, rng)
            sd = np.sqrt(var[t - 1, lo:hi]).astype(np.float32)
            new = _normal32(rng, rows * (n - k)).reshape(rows, n - k)
            new *= sd[:, None]
            new += mean[t - 1, lo:hi, None].astype(np.float32)
            pool[:, start + k : start + n] = new
            idx = choose_without_replacement(rng, start + n, n, rows=rows, dtype=index_type)
            if rows > 1:
                idx += offsets  # into the flattened pools
            x = flat.take(idx)
            m, m2 = _moments(x)
            mean[t, lo:hi], var[t, lo:hi] = m, m2 / (n - 1)
            if samples is not None:
                samples[t, lo:hi] = x


def _moments_of(original: Sampler) -> tuple[float, float]:
    if original is standard_normal or getattr(original, "separation", None) is not None:
        return 0.0, 1.0  # two_mode_mixture has mean 0 and variance 1 by construction
    big = original((200_000,), np.random.default_rng(0))
    return float(big.mean()), float(big.var())


def simulate(
    n: int,
    generations: int,
    runs: int,
    approach: int = 1,
    retention: float = 0.0,
    seed: int | None = None,
    method: str = "auto",
    original: Sampler | None = None,
    keep_samples: bool = False,
    retained: str = "fresh",
) -> GaussianRun:
    """Simulate the recursive fitting of a Gaussian, for many runs at once.

    Parameters
    ----------
    n:
        Samples per generation (``>= 2``; the unbiased variance needs two).
    generations:
        Generations after generation 0 (``>= 0``); generation 0 is the fit to
        ``n`` draws of the true distribution.
    runs:
        Independent runs, simulated together (``>= 1``).
    approach:
        Data schedule: 1 (replace: latest samples only), 2
        (accumulate-subsample: mix of all generations, subsampled to ``n``), 3
        (accumulate: whole accumulated mix).
    retention:
        Fraction (``[0, 1]``) of each generation's new data that is original data.
    seed:
        Seed (an integer ``>= 0``) of the numpy generator; equal seeds give equal results.
    method:
        ``"exact"`` (sufficient statistics), ``"sample"`` (actual points) or
        ``"auto"`` (exact where possible).
    original:
        Sampler ``f(shape, rng)`` of the true distribution (default N(0, 1)).
        Anything else needs ``method="sample"``.
    keep_samples:
        With ``method="sample"``, keep each generation's training set (the new
        data under approach 3), shape ``(generations + 1, runs, n)``.
    retained:
        ``"fresh"`` (new draws from the true distribution) or ``"fixed"`` (a
        subset of the original sample of generation 0); see the module docstring.

    Returns
    -------
    GaussianRun
        ``mean`` and ``var`` of shape ``(generations + 1, runs)``.

    Raises
    ------
    ValueError
        On invalid input, naming the parameter and its accepted range.
    """
    n, generations, runs, approach, retention, method, retained, keep_samples, seed = _validate(
        n, generations, runs, approach, retention, method, retained, keep_samples, seed
    )
    if original is not None and not callable(original):
        raise ValueError(f"original must be a sampler f(shape, rng) or None, got {original!r}")
    custom = original is not None and original is not standard_normal
    fixed = retained == "fixed" and n_retained(n, retention) > 0
    if method == "auto":
        method = "sample" if (approach == 2 or custom or keep_samples or fixed) else "exact"
    if method == "exact":
        if approach == 2:
            raise ValueError(
                "approach=2 subsamples a pool of actual points: use method='sample' (exact covers approaches 1 and 3)"
            )
        if custom:
            raise ValueError("a non-Gaussian original distribution needs method='sample'")
        if keep_samples:
            raise ValueError("keep_samples needs method='sample'")
        if fixed:
            raise ValueError("retained='fixed' subsamples the original points: use method='sample'")
    original = original or standard_normal
    true_mean, true_var = _moments_of(original)
    rng = np.random.default_rng(seed)
    samples = None
    if method == "exact":
        mean, var = _simulate_exact(n, generations, runs, approach, retention, rng)
    else:
        mean, var, samples = _simulate_sample(
            n, generations, runs, approach, retention, retained, rng, original, keep_samples
        )
    return GaussianRun(
        n, generations, runs, approach, retention, method, seed, mean, var, samples, true_mean, true_var, retained
    )


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


def simulate_sizes(sizes: Sequence[int] | np.ndarray, runs: int, seed: int | None = None) -> GaussianRun:
    """Schedule 1 (replace) with a sample size per generation, by the exact method.

    Generation ``i`` is fitted to ``sizes[i]`` points (generation 0: of the
    true distribution N(0, 1); later ones: of generation ``i - 1``), as in the
    paper's supplementary 3.1.1 where ``M_i`` samples make generation ``i``.
    """
    m = _check_sizes(sizes)
    runs = check_count("runs", runs, 1)
    if seed is not None:
        seed = validate.integer("seed", seed, 0)
    rng = np.random.default_rng(seed)
    mean = np.empty((m.size, runs))
    var = np.empty((m.size, runs))
    prev_mean, prev_var = np.zeros(runs), np.ones(runs)
    for t, mt in enumerate(m):
        mean[t] = prev_mean + np.sqrt(prev_var / mt) * rng.standard_normal(runs)
        var[t] = prev_var * rng.chisquare(mt - 1, runs) / (mt - 1)
        prev_mean, prev_var = mean[t], var[t]
    return GaussianRun(int(m[0]), m.size - 1, runs, 1, 0.0, "exact", seed, mean, var, sizes=m)


# ---------------------------------------------------------------------------
# measures


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


# ---------------------------------------------------------------------------
# theory (approach 1, no retention; derived here unless stated). Generation t
# is the result of t + 1 fits, each to n points: generation 0 is one fit.


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


# ---------------------------------------------------------------------------
# discrete distributions: resampling a categorical is a Wright-Fisher chain


@dataclass
class CategoricalRun:
    """Counts of each category per generation: ``counts`` has shape ``(generations + 1, runs, k)``.

    Row 0 is generation 0, the counts of ``n`` draws of the true probabilities
    :attr:`probs` (which are not a generation).
    """

    probs: np.ndarray
    n: int
    counts: np.ndarray

    @property
    def alive(self) -> np.ndarray:
        """Whether each category still has mass, ``(generations + 1, runs, k)``."""
        return self.counts > 0

    def survival(self) -> np.ndarray:
        """Per generation and category, the fraction of runs in which the category is still alive, ``(generations + 1, k)``."""
        return self.alive.mean(axis=1)

    def absorption_time(self) -> np.ndarray:
        """Per run, the first generation with a single category left (``-1`` if none yet)."""
        single = self.alive.sum(axis=2) == 1
        hit = single.any(axis=0)
        return np.where(hit, single.argmax(axis=0), -1)

    def absorbing_state(self) -> np.ndarray:
        """Per run, the category that remains at the last generation (``-1`` if several remain)."""
        last = self.alive[-1]
        return np.where(last.sum(axis=1) == 1, last.argmax(axis=1), -1)

    def absorbing_frequencies(self) -> tuple[np.ndarray, int]:
        """How often each category is the absorbing state, among the runs absorbed by the last generation.

        Returns ``(frequencies of shape (k,), number of absorbed runs)``. The
        paper states that each state becomes the absorbing one with probability
        equal to its original probability.
        """
        state = self.absorbing_state()
        done = state[state >= 0]
        if done.size == 0:
            return np.full(self.probs.size, np.nan), 0
        return np.bincount(done, minlength=self.probs.size) / done.size, int(done.size)


def simulate_categorical(
    probs: np.ndarray, n: int, generations: int, runs: int, seed: int | None = None
) -> CategoricalRun:
    """Resample a categorical distribution: fit the empirical frequencies of ``n`` draws, draw again.

    Generation 0 holds the counts of ``n`` draws of the true probabilities
    ``probs``; generation ``t + 1`` holds multinomial counts drawn from
    generation ``t``'s frequencies. Categories with count 0 are gone for good:
    the chain's absorbing states are single points.
    """
    p = np.asarray(probs, dtype=float)
    if p.ndim != 1 or p.size < 2 or np.isnan(p).any() or np.any(p < 0) or not np.isclose(p.sum(), 1.0):
        raise ValueError(
            f"probs must be a 1-D probability vector of at least 2 categories summing to 1, got {probs!r}"
        )
    n = check_count("n", n, 1)
    generations = check_count("generations", generations, 0)
    runs = check_count("runs", runs, 1)
    if seed is not None:
        seed = validate.integer("seed", seed, 0)
    rng = np.random.default_rng(seed)
    counts = np.empty((generations + 1, runs, p.size), dtype=np.int32)
    freq = np.broadcast_to(p, (runs, p.size))
    for t in range(generations + 1):
        counts[t] = rng.multinomial(n, freq)
        freq = counts[t] / n
    return CategoricalRun(p, n, counts)


def loss_probability(p: float | np.ndarray, n: int) -> np.ndarray:
    """Probability that a category of probability ``p`` gets no draw among ``n``: ``(1 - p)^n``."""
    p = _check_array("p", p, 0.0)
    if np.any(p > 1):
        raise ValueError(f"p must be probabilities in [0, 1], got {p!r}")
    n = check_count("n", n, 1)
    return (1.0 - p) ** n


def expected_absorption_time(p: float, n: int) -> float:
    """Diffusion approximation of the mean number of resampling steps until one of two categories is lost.

    For two categories with frequencies ``p`` and ``1 - p`` (a Wright-Fisher
    chain with ``n`` draws a generation), ``E[T] ~ -2 n (p ln p + (1-p) ln(1-p))``
    (Kimura & Ohta, 1969). Counted from the true probabilities, ``T`` is the
    absorption generation of :class:`CategoricalRun` plus one. ``p`` of 0 or 1
    is absorbed already (0).
    """
    p = validate.probability("p", p)
    n = check_count("n", n, 1)
    if p in (0.0, 1.0):
        return 0.0
    return float(-2.0 * n * (p * np.log(p) + (1 - p) * np.log(1 - p)))


# ---------------------------------------------------------------------------
# sentences computed from the run (shown with prose.show in the chapter)


def _sigma(c: float) -> str:
    return f"{c:g}σ"


def early_collapse_events(half_tail: Mapping[float, int | None], half_var: int | None) -> dict[str, int | None]:
    """The events of the early-collapse figure, ``{description: generation or None}``."""
    events = {f"the mass beyond {_sigma(c)} halves": t for c, t in half_tail.items()}
    events["the variance halves"] = half_var
    return events


def early_collapse_title(half_tail: Mapping[float, int | None], half_var: int | None) -> str:
    """A title that says what the early-collapse figure shows: which tails halve before the variance."""
    before = [c for c, t in half_tail.items() if t is not None and (half_var is None or t < half_var)]
    rest = [c for c in half_tail if c not in before]
    if not before:
        return "the variance halves before any of these tails does"
    text = f"the {'tail' if len(before) == 1 else 'tails'} beyond {prose.join_words([_sigma(c) for c in before])} "
    text += f"{'halves' if len(before) == 1 else 'halve'} before the variance"
    if rest:
        text += f"; beyond {prose.join_words([_sigma(c) for c in rest])}, not"
    return text


def early_collapse_sentence(half_tail: Mapping[float, int | None], half_var: int | None) -> str:
    """One sentence: in which order the median run lost half of each tail and of its variance."""
    return f"In the median run, {prose.order_of_events(early_collapse_events(half_tail, half_var))}."


def within_error_sentence(z_scores: Mapping[str, float], k: float = 3.0) -> str:
    """Whether each simulated curve lies within ``k`` standard errors of its theory.

    ``z_scores`` maps a description to the largest ``|simulation - theory| / SE``
    over the plotted generations.
    """
    k = validate.real("k", k, 0.0, low_open=True)
    good = [name for name, z in z_scores.items() if z <= k]
    bad = [f"{name} (up to {z:.1f} SE)" for name, z in z_scores.items() if z > k]
    if not bad:
        return f"Every simulated curve ({prose.join_words(good)}) lies within {k:g} standard errors of its theory."
    text = f"Outside {k:g} standard errors of its theory: {prose.join_words(bad)}"
    return text + (f"; within them: {prose.join_words(good)}." if good else ".")


def schedules_sentence(final_std: Mapping[str, np.ndarray], level: float = 0.5) -> str:
    """Which schedules keep the median fitted standard deviation above ``level`` at the last generation."""
    level = validate.real("level", level, 0.0, low_open=True)
    above = [name for name, s in final_std.items() if np.median(s) >= level]
    below = [name for name, s in final_std.items() if np.median(s) < level]
    parts = []
    if above:
        parts.append(f"{prose.join_words(above)} {'keeps' if len(above) == 1 else 'keep'} the median σ at or above {level:g}")
    if below:
        parts.append(f"{prose.join_words(below)} {'lets' if len(below) == 1 else 'let'} it fall below {level:g}")
    return "At the last generation, " + "; ".join(parts) + "."


def growth_sentence(curves: Mapping[str, np.ndarray], tolerance: float = 0.05) -> str:
    """Which curves level off (grew by less than ``tolerance``, relative, over the second half) and which keep growing."""
    tolerance = validate.real("tolerance", tolerance, 0.0, low_open=True)
    flat, growing = [], []
    for name, curve in curves.items():
        c = np.asarray(curve, dtype=float)
        mid = c[len(c) // 2]
        rise = (c[-1] - mid) / mid
        (flat if rise < tolerance else growing).append(f"{name} ({100 * rise:+.0f}%)")
    parts = []
    if flat:
        parts.append(f"levels off: {prose.join_words(flat)}")
    if growing:
        parts.append(f"still grows: {prose.join_words(growing)}")
    return "Over the second half of the generations, the expected squared distance " + "; ".join(parts) + "."


def absorption_sentence(frequencies: np.ndarray, probs: np.ndarray, absorbed: int, k: float = 3.0) -> str:
    """Whether the absorbing-state frequencies agree with the original probabilities within ``k`` standard errors."""
    f = np.asarray(frequencies, dtype=float)
    p = np.asarray(probs, dtype=float)
    if absorbed <= 0:
        return "No run was absorbed within the simulated generations."
    se = np.sqrt(p * (1 - p) / absorbed)
    z = np.abs(f - p) / np.where(se > 0, se, np.inf)
    worst = int(np.argmax(z))
    if z[worst] <= k:
        return (
            f"Over {absorbed} absorbed runs, every category became the absorbing state about as often as its "
            f"original probability: all within {k:g} standard errors (the largest gap, {z[worst]:.1f} SE, "
            f"for p = {p[worst]:g})."
        )
    return (
        f"Over {absorbed} absorbed runs, the absorbing-state frequency of the category with p = {p[worst]:g} "
        f"was {f[worst]:.3f}, {z[worst]:.1f} standard errors from its original probability."
    )


def retention_kinds_sentence(final_std: Mapping[str, np.ndarray]) -> str:
    """Compare the median and the 10-90% spread of the final standard deviation between retention kinds."""
    parts = []
    for name, s in final_std.items():
        lo, med, hi = np.quantile(s, [0.1, 0.5, 0.9])
        parts.append(f"{name}: median σ {med:.2f} (10-90% of runs: {lo:.2f}-{hi:.2f})")
    return "At the last generation, " + "; ".join(parts) + "."


# ---------------------------------------------------------------------------
# helpers behind the sliders and their static figures

#: Seconds per simulated point (runs x generations x n) of the sample method, measured on the
#: 2-core CI machine, and a fixed cost per generation; used to keep a slider's answer under 2 s.
SAMPLE_SECONDS_PER_POINT = 6e-8
SAMPLE_SECONDS_PER_GENERATION = 6e-5
#: Most generations that :func:`plot_collapse` draws (evenly spaced, the last one included).
DISPLAY_POINTS = 1000


def affordable_runs(
    n: int, generations: int, runs: int, approach: int = 1, retention: float = 0.0, retained: str = "fresh",
    budget: float | None = 1.0,
) -> int:
    """How many of ``runs`` the simulation can afford within ``budget`` seconds (at least 1).

    The exact method (approaches 1 and 3 with fresh retention) is cheap at any
    slider position and keeps every run; the sample method (approach 2 or fixed
    retention) costs about :data:`SAMPLE_SECONDS_PER_POINT` per point.
    ``budget=None`` keeps every run.
    """
    n = check_count("n", n, 2)
    generations = check_count("generations", generations, 0)
    runs = check_count("runs", runs, 1)
    approach = check_approach(approach)
    retention = check_retention(retention)
    retained = check_retained(retained)
    if budget is None:
        return runs
    budget = validate.real("budget", budget, 0.0, low_open=True)
    sample = approach == 2 or (retained == "fixed" and n_retained(n, retention) > 0)
    if not sample:
        return runs
    rows = generations + 1
    left = budget - SAMPLE_SECONDS_PER_GENERATION * rows
    afford = int(left / (SAMPLE_SECONDS_PER_POINT * rows * n)) if left > 0 else 1
    return max(1, min(runs, afford))


def simulate_within(
    budget: float | None,
    n: int,
    generations: int,
    runs: int,
    approach: int = 1,
    retention: float = 0.0,
    seed: int | None = None,
    retained: str = "fresh",
) -> GaussianRun:
    """:func:`simulate`, with as many of ``runs`` as fit in about ``budget`` seconds on this machine.

    Positions that the exact method covers always get every run. The sample
    method simulates batches of runs, timing them as it goes, and stops
    before the budget runs out (after one batch at least), so that a slider
    answers in time however busy the machine is; ``result.runs`` says how
    many runs were simulated. Batch ``i`` is seeded from ``(seed, i)``.
    ``budget=None`` simulates every run (deterministic, for static figures).
    """
    modelled = affordable_runs(n, generations, runs, approach, retention, retained, budget)
    if budget is None or modelled == runs and not (
        approach == 2 or (retained == "fixed" and n_retained(n, retention) > 0)
    ):
        return simulate(n, generations, runs, approach, retention, seed=seed, retained=retained)
    budget = validate.real("budget", budget, 0.0, low_open=True)
    seed = 0 if seed is None else validate.integer("seed", seed, 0)
    start = time.perf_counter()
    parts: list[GaussianRun] = []
    done, batch = 0, max(1, modelled // 2)
    while done < runs:
        child = int(np.random.SeedSequence([seed, len(parts)]).generate_state(1)[0])
        parts.append(simulate(n, generations, batch, approach, retention, seed=child, retained=retained))
        done += batch
        elapsed = time.perf_counter() - start
        per_run = elapsed / done
        batch = min(runs - done, int((0.9 * budget - elapsed) / per_run))
        if batch < 1:
            break
    first = parts[0]
    return GaussianRun(
        n, generations, done, first.approach, first.retention, first.method, seed,
        np.concatenate([p.mean for p in parts], axis=1), np.concatenate([p.var for p in parts], axis=1),
        None, first.true_mean, first.true_var, first.retained,
    )


def plot_collapse(
    n: int = 100,
    generations: int = 1000,
    approach: int = 1,
    retention: float = 0.0,
    runs: int = 500,
    seed: int = 0,
    ax=None,
    title: bool = True,
    retained: str = "fresh",
    budget: float | None = 1.0,
):
    """Plot fitted standard deviations over generations: single runs, median and 10-90% band.

    The function behind chapter 1's slider; returns the :class:`GaussianRun`.
    Where the sample method cannot simulate all ``runs`` within ``budget``
    seconds on this machine (:func:`simulate_within`), it simulates fewer and
    the title says so. ``budget=None`` always simulates every run.
    """
    import matplotlib.pyplot as plt

    from .plotting import plot_band

    title = validate.boolean("title", title)
    run = simulate_within(budget, n, generations, runs, approach, retention, seed=seed, retained=retained)
    used = run.runs
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    # at most about DISPLAY_POINTS generations are drawn (and their quantiles computed), clipped to the axis
    shown = np.unique(np.r_[np.arange(0, run.generations + 1, max(1, -(-(run.generations + 1) // DISPLAY_POINTS))), run.generations])
    std = np.clip(run.std[shown], 1e-6, 1e3)
    plot_band(ax, shown, std.T, color="C0", label="median, 10-90% of runs", lines=20)
    ax.axhline(np.sqrt(run.true_var), color="k", ls=":", lw=1, label="true σ")
    ax.set_yscale("log")
    ax.set_ylim(1e-4, 3)
    ax.set_xlabel("generation")
    ax.set_ylabel("fitted std")
    note = f"; {used} of {runs} runs, to answer in time" if used < runs else ""
    if title:
        kind = f", {retained}" if run.retention > 0 else ""
        ax.set_title(f"n={n}, {SCHEDULE_NAMES[approach]}, retention={retention:g}{kind}{note}", fontsize=9)
    elif note:
        ax.text(0.02, 0.03, note[2:], transform=ax.transAxes, fontsize=9)
    return run
