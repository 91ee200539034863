"""Chapter 1: recursive fitting of a single Gaussian, simulated and in theory.

Generation 0 is the original distribution N(0, 1). Generation ``t + 1`` is the
Gaussian whose mean and *unbiased* variance are estimated from the training set
that the data schedule (:mod:`collapse_utils.schedules`) builds from samples of
generation ``t``. Generation 1 is fitted to ``n`` samples of the original
distribution (the *original data*).

Two simulation methods, which agree in distribution (the tests check it):

``method="exact"``
    For a Gaussian, the fitted mean and variance of ``m`` points are
    *sufficient*: ``mean ~ N(mu, s2 / m)`` and ``(m - 1) var / s2 ~ chi2(m - 1)``,
    independently. Drawing these directly costs O(1) per run and generation,
    whatever ``n``. Schedules 1 and 3 and retention are covered (pooled data
    are merged through their counts, means and sums of squares).
``method="sample"``
    Draws the actual points (O(n) per run and generation). Needed for
    schedule 2 (subsampling a pool needs the points) and for non-Gaussian
    original data (functional approximation error).

``method="auto"`` (the default) takes ``exact`` where it applies.

Retained original points (``retention > 0``) are fresh draws from the original
*distribution*, which keeps the exact method exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy import special, stats

from .schedules import APPROACHES, DataSchedule, check_approach, check_count, check_retention, n_retained
from .summaries import first_below  # noqa: F401  (re-exported for the chapter)

METHODS = ("auto", "exact", "sample")

Sampler = Callable[[tuple[int, ...], np.random.Generator], np.ndarray]


@dataclass
class GaussianRun:
    """The fitted parameters of every generation of every run.

    ``mean`` and ``var`` have shape ``(generations + 1, runs)``; row 0 is the
    original distribution's mean and variance.
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
    """The default original distribution, N(0, 1)."""
    return rng.standard_normal(shape)


def two_mode_mixture(separation: float = 0.9) -> Sampler:
    """Sampler of a symmetric two-mode mixture with mean 0 and variance 1.

    ``0.5 N(-a, 1 - a^2) + 0.5 N(a, 1 - a^2)`` with ``a = separation`` in
    ``(0, 1)``: the closer ``a`` is to 1, the further apart and narrower the
    modes. Its first two moments equal those of N(0, 1), so a single Gaussian
    fitted to it with infinite data *is* N(0, 1): the functional approximation
    error merges the modes at once.
    """
    if not 0.0 < separation < 1.0:
        raise ValueError(f"separation must be in (0, 1), got {separation!r}")
    a = float(separation)
    sd = float(np.sqrt(1.0 - a * a))

    def sampler(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        signs = np.where(rng.random(shape) < 0.5, -a, a)
        return signs + sd * rng.standard_normal(shape)

    sampler.separation = a  # type: ignore[attr-defined]
    return sampler


def two_mode_pdf(x: np.ndarray, separation: float = 0.9) -> np.ndarray:
    """Density of :func:`two_mode_mixture`."""
    a = float(separation)
    sd = np.sqrt(1.0 - a * a)
    return 0.5 * (stats.norm.pdf(x, -a, sd) + stats.norm.pdf(x, a, sd))


# ---------------------------------------------------------------------------
# simulation


def _validate(n, generations, runs, approach, retention, method) -> tuple[int, int, int, int, float, str]:
    n = check_count("n", n, 2)
    generations = check_count("generations", generations, 0)
    runs = check_count("runs", runs, 1)
    approach = check_approach(approach)
    retention = check_retention(retention)
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    return n, generations, runs, approach, retention, method


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


def _simulate_exact(n, generations, runs, approach, retention, rng):
    mean = np.empty((generations + 1, runs))
    var = np.empty((generations + 1, runs))
    mean[0], var[0] = 0.0, 1.0
    if generations == 0:
        return mean, var
    k = n_retained(n, retention)
    if approach == 1 and k == 0:
        # Fully vectorised over runs, in blocks of generations: the variance is
        # a running product of chi2(n-1)/(n-1) factors, the mean a running sum
        # of N(0, var_t / n) steps (independent of the variance factor).
        block = max(1, (1 << 20) // runs)
        scale = np.float32(2.0 / (n - 1))
        for start in range(0, generations, block):
            b = min(block, generations - start)
            factors = _gamma32(rng, (n - 1) / 2.0, b * runs).reshape(b, runs)
            factors *= scale
            # running products and sums row by row: contiguous rows of `runs`
            # values are faster than numpy's cumprod/cumsum along axis 0
            for i in range(b):
                np.multiply(var[start + i], factors[i], out=var[start + i + 1])
            steps = var[start : start + b] / n  # variance of each step
            np.sqrt(steps, out=steps)
            steps *= _normal32(rng, b * runs).reshape(b, runs)
            for i in range(b):
                np.add(mean[start + i], steps[i], out=mean[start + i + 1])
        return mean, var
    # generation 1: the original data, n points of N(0, 1)
    pool_n = float(n)
    pool_mean, pool_m2 = _draw_stats(rng, n, 0.0, 1.0, runs)
    mean[1], var[1] = pool_mean, pool_m2 / (n - 1)
    for t in range(1, generations):
        # this generation's new data: k fresh original points and n - k model samples
        if k == n:
            new_n, (new_mean, new_m2) = float(n), _draw_stats(rng, n, 0.0, 1.0, runs)
        else:
            new_n, (new_mean, new_m2) = float(n - k), _draw_stats(rng, n - k, mean[t], var[t], runs)
            if k:
                o_mean, o_m2 = _draw_stats(rng, k, 0.0, 1.0, runs)
                new_n, new_mean, new_m2 = _merge(float(k), o_mean, o_m2, new_n, new_mean, new_m2)
        if approach == 1:
            mean[t + 1], var[t + 1] = new_mean, new_m2 / (n - 1)
        else:  # approach 3: the whole accumulated mix
            pool_n, pool_mean, pool_m2 = _merge(pool_n, pool_mean, pool_m2, new_n, new_mean, new_m2)
            mean[t + 1], var[t + 1] = pool_mean, pool_m2 / (pool_n - 1)
    return mean, var


def _simulate_sample(n, generations, runs, approach, retention, rng, original: Sampler, keep_samples):
    mean = np.empty((generations + 1, runs))
    var = np.empty((generations + 1, runs))
    data = original((runs, n), rng)
    mean[0], var[0] = _moments_of(original, rng)
    kept = [] if keep_samples else None
    if generations == 0:
        return mean, var, None
    schedule = DataSchedule(
        data, approach, retention, axis=1, draw_original=lambda k, g: original((runs, k), g)
    )
    pool = (float(n), data.mean(axis=1), ((data - data.mean(axis=1, keepdims=True)) ** 2).sum(axis=1))
    for t in range(1, generations + 1):
        if t > 1:
            m = schedule.n_synthetic
            synthetic = mean[t - 1][:, None] + np.sqrt(var[t - 1])[:, None] * rng.standard_normal((runs, m))
            if approach == 3:
                # the accumulated pool's moments, merged exactly as new data arrive;
                # identical to np.var of the concatenation, without O(t n) work per generation
                k = schedule.k
                new = np.concatenate([original((runs, k), rng), synthetic], axis=1) if k else synthetic
                new_mean = new.mean(axis=1)
                new_m2 = ((new - new_mean[:, None]) ** 2).sum(axis=1)
                pool = _merge(pool[0], pool[1], pool[2], float(n), new_mean, new_m2)
                data = new
            else:
                data = schedule.next_training_set(synthetic, rng)
        if approach == 3 and t > 1:
            mean[t], var[t] = pool[1], pool[2] / (pool[0] - 1)
        else:
            mean[t] = data.mean(axis=1)
            var[t] = data.var(axis=1, ddof=1)
        if kept is not None:
            kept.append(np.array(data[:, : min(n, data.shape[1])]))
    return mean, var, (np.stack(kept) if kept is not None else None)


def _moments_of(original: Sampler, rng: np.random.Generator) -> tuple[float, float]:
    if original is standard_normal:
        return 0.0, 1.0
    a = getattr(original, "separation", None)
    if a is not None:  # two_mode_mixture has mean 0 and variance 1 by construction
        return 0.0, 1.0
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
) -> GaussianRun:
    """Simulate the recursive fitting of a Gaussian, for many runs at once.

    Parameters
    ----------
    n:
        Samples per generation (``>= 2``; the unbiased variance needs two).
    generations:
        Generations after generation 0 (``>= 0``).
    runs:
        Independent runs, simulated together (``>= 1``).
    approach:
        Data schedule: 1 (latest samples only), 2 (mix of all generations,
        subsampled to ``n``), 3 (whole accumulated mix).
    retention:
        Fraction (``[0, 1]``) of each generation's new data drawn from the
        original distribution.
    seed:
        Seed of the numpy generator; equal seeds give equal results.
    method:
        ``"exact"`` (sufficient statistics), ``"sample"`` (actual points) or
        ``"auto"`` (exact where possible).
    original:
        Sampler ``f(shape, rng)`` of the original data (default N(0, 1)).
        Anything else needs ``method="sample"``.
    keep_samples:
        With ``method="sample"``, keep each generation's training points
        (the first ``n`` of them), shape ``(generations, runs, n)``.

    Returns
    -------
    GaussianRun
        ``mean`` and ``var`` of shape ``(generations + 1, runs)``.

    Raises
    ------
    ValueError
        On invalid input, naming the parameter and its accepted range.
    """
    n, generations, runs, approach, retention, method = _validate(
        n, generations, runs, approach, retention, method
    )
    custom = original is not None and original is not standard_normal
    if method == "auto":
        method = "sample" if (approach == 2 or custom or keep_samples) else "exact"
    if method == "exact":
        if approach == 2:
            raise ValueError(
                "approach=2 subsamples a pool of actual points: use method='sample' (exact covers approaches 1 and 3)"
            )
        if custom:
            raise ValueError("a non-Gaussian original distribution needs method='sample'")
        if keep_samples:
            raise ValueError("keep_samples needs method='sample'")
    rng = np.random.default_rng(seed)
    samples = None
    if method == "exact":
        mean, var = _simulate_exact(n, generations, runs, approach, retention, rng)
    else:
        mean, var, samples = _simulate_sample(
            n, generations, runs, approach, retention, rng, original or standard_normal, keep_samples
        )
    return GaussianRun(n, generations, runs, approach, retention, method, seed, mean, var, samples)


# ---------------------------------------------------------------------------
# measures


def tail_mass(mean: np.ndarray, var: np.ndarray, threshold: float) -> np.ndarray:
    """Mass that N(mean, var) puts on ``|x| > threshold`` (the original's tails).

    Under the original N(0, 1) this is ``2 * (1 - Phi(threshold))``.
    """
    sd = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        upper = stats.norm.sf((threshold - mean) / sd)
        lower = stats.norm.cdf((-threshold - mean) / sd)
    return upper + lower


def wasserstein2_sq(mean: np.ndarray, var: np.ndarray, mean0: float = 0.0, var0: float = 1.0) -> np.ndarray:
    """Squared Wasserstein-2 distance between N(mean, var) and N(mean0, var0)."""
    return (mean - mean0) ** 2 + (np.sqrt(var) - np.sqrt(var0)) ** 2


def collapsed_fraction(run: GaussianRun, threshold: float = 0.1) -> np.ndarray:
    """Per generation, the fraction of runs whose standard deviation is below ``threshold``."""
    return (run.std < threshold).mean(axis=1)


# ---------------------------------------------------------------------------
# theory (approach 1, no retention; derived here unless stated)


def expected_log_var(n: int, generations: int | np.ndarray) -> np.ndarray:
    """E[log var_t] = t (psi((n-1)/2) + log(2/(n-1))): a negative drift per generation."""
    t = np.asarray(generations, dtype=float)
    return t * (special.digamma((n - 1) / 2.0) + np.log(2.0 / (n - 1)))


def sd_log_var(n: int, generations: int | np.ndarray) -> np.ndarray:
    """Standard deviation of log var_t: sqrt(t * psi'((n-1)/2))."""
    t = np.asarray(generations, dtype=float)
    return np.sqrt(t * special.polygamma(1, (n - 1) / 2.0))


def var_of_var(n: int, generations: int | np.ndarray) -> np.ndarray:
    """Var[var_t] = (1 + 2/(n-1))^t - 1, while E[var_t] = 1 for every t."""
    t = np.asarray(generations, dtype=float)
    return (1.0 + 2.0 / (n - 1)) ** t - 1.0


def var_of_mean(n: int, generations: int | np.ndarray) -> np.ndarray:
    """Var[mean_t] = t / n: the mean drifts as a random walk (E[var_i] = 1)."""
    return np.asarray(generations, dtype=float) / n


def expected_std_factor(n: int) -> float:
    """E[sqrt(chi2(n-1)/(n-1))] = sqrt(2/(n-1)) Gamma(n/2) / Gamma((n-1)/2) < 1."""
    return float(
        np.exp(0.5 * np.log(2.0 / (n - 1)) + special.gammaln(n / 2.0) - special.gammaln((n - 1) / 2.0))
    )


def expected_w2_sq(n: int, generations: int | np.ndarray) -> np.ndarray:
    """Exact E[W2^2(N(mean_t, var_t), N(0, 1))] = t/n + 2 (1 - c_n^t), c_n = :func:`expected_std_factor`."""
    t = np.asarray(generations, dtype=float)
    return t / n + 2.0 * (1.0 - expected_std_factor(n) ** t)


def paper_w2_lower_bound(n: int | np.ndarray, generations: int | np.ndarray) -> np.ndarray:
    """The paper's lower bound on E[W2^2] from the drift of the mean.

    Shumailov et al. bound the expected squared W2 distance from the original
    below by ``sigma^2 (1/M_0 + ... + 1/M_{t-1})`` (sample sizes ``M_i``),
    which for a fixed ``M_i = n`` grows linearly, ``t / n``, without bound.
    """
    t = np.asarray(generations, dtype=float)
    return t / np.asarray(n, dtype=float)


def fitted_mean_pdf(x: np.ndarray, mu: float, s2: float, n: int) -> np.ndarray:
    """Exact density of the next fitted mean given (mu, s2): N(mu, s2 / n)."""
    return stats.norm.pdf(x, mu, np.sqrt(s2 / n))


def fitted_var_pdf(x: np.ndarray, s2: float, n: int) -> np.ndarray:
    """Exact density of the next unbiased variance given s2: s2 chi2(n-1) / (n-1)."""
    return stats.chi2.pdf(x * (n - 1) / s2, n - 1) * (n - 1) / s2


# ---------------------------------------------------------------------------
# discrete distributions: resampling a categorical is a Wright-Fisher chain


@dataclass
class CategoricalRun:
    """Counts of each category per generation: ``counts`` has shape ``(generations + 1, runs, k)``."""

    probs: np.ndarray
    n: int
    counts: np.ndarray

    @property
    def alive(self) -> np.ndarray:
        """Whether each category still has mass, ``(generations + 1, runs, k)``."""
        return self.counts > 0

    def absorption_time(self) -> np.ndarray:
        """Per run, the first generation with a single category left (``-1`` if none yet)."""
        single = self.alive.sum(axis=2) == 1
        hit = single.any(axis=0)
        return np.where(hit, single.argmax(axis=0), -1)


def simulate_categorical(
    probs: np.ndarray, n: int, generations: int, runs: int, seed: int | None = None
) -> CategoricalRun:
    """Resample a categorical distribution: fit the empirical frequencies of ``n`` draws, draw again.

    Generation 0 holds the true probabilities (as expected counts ``n * p``);
    generation ``t + 1`` holds multinomial counts drawn from generation ``t``'s
    frequencies. Categories with count 0 are gone for good: the chain's
    absorbing states are single points.
    """
    p = np.asarray(probs, dtype=float)
    if p.ndim != 1 or p.size < 2 or np.any(p < 0) or not np.isclose(p.sum(), 1.0):
        raise ValueError("probs must be a 1-D probability vector of at least 2 categories summing to 1")
    n = check_count("n", n, 1)
    generations = check_count("generations", generations, 0)
    runs = check_count("runs", runs, 1)
    rng = np.random.default_rng(seed)
    counts = np.empty((generations + 1, runs, p.size), dtype=float)
    counts[0] = n * p
    freq = np.broadcast_to(p, (runs, p.size))
    for t in range(1, generations + 1):
        c = rng.multinomial(n, freq)
        counts[t] = c
        freq = c / n
    return CategoricalRun(p, n, counts)


def loss_probability(p: float | np.ndarray, n: int) -> np.ndarray:
    """Probability that a category of probability ``p`` gets no draw among ``n``: ``(1 - p)^n``."""
    return (1.0 - np.asarray(p, dtype=float)) ** n


def expected_absorption_time(p: float, n: int) -> float:
    """Diffusion approximation of the mean time until one of two categories is lost.

    For two categories with frequencies ``p`` and ``1 - p`` (a Wright-Fisher
    chain with ``n`` draws a generation), ``E[T] ~ -2 n (p ln p + (1-p) ln(1-p))``
    (Kimura & Ohta, 1969).
    """
    if not 0.0 < p < 1.0:
        return 0.0
    return float(-2.0 * n * (p * np.log(p) + (1 - p) * np.log(1 - p)))


# ---------------------------------------------------------------------------
# helpers behind the sliders and their static figures


def plot_collapse(
    n: int = 100,
    generations: int = 1000,
    approach: int = 1,
    retention: float = 0.0,
    runs: int = 500,
    seed: int = 0,
    ax=None,
    title: bool = True,
):
    """Plot fitted standard deviations over generations: paths, median and 10-90% band.

    The function behind chapter 1's slider; returns the :class:`GaussianRun`.
    """
    import matplotlib.pyplot as plt

    run = simulate(n, generations, runs, approach, retention, seed=seed)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    g = run.generation
    std = run.std
    lo, med, hi = np.quantile(std, [0.1, 0.5, 0.9], axis=1)
    for j in range(min(20, runs)):
        ax.plot(g, std[:, j], color="0.75", lw=0.6)
    ax.fill_between(g, lo, hi, color="C0", alpha=0.25, label="10-90% of runs")
    ax.plot(g, med, color="C0", lw=2, label="median")
    ax.axhline(1.0, color="k", ls=":", lw=1)
    ax.set_yscale("log")
    ax.set_ylim(1e-4, 3)
    ax.set_xlabel("generation")
    ax.set_ylabel("fitted std")
    if title:
        ax.set_title(
            f"n={n}, approach {approach} ({APPROACHES[approach]}), retention={retention:g}", fontsize=9
        )
    return run
