"""The recursion simulated: every run and every generation at once, by the exact or the sample method.

See the package docstring for what a generation is and for the two methods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .. import validate
from ..schedules import (
    check_approach,
    check_count,
    check_retained,
    check_retention,
    choose_without_replacement,
    n_retained,
)
from .distributions import Sampler, _moments_of, standard_normal
from .theory import _check_sizes
from .variates import _chi2, _gamma32, _normal32

METHODS = ("auto", "exact", "sample")

#: The variance estimators, with the ``ddof`` of each (``sum of squares / (n - ddof)``): the unbiased one
#: of the paper's theory, and the maximum-likelihood one (``np.std``'s default) of the authors' simulation.
ESTIMATORS: dict[str, int] = {"unbiased": 1, "ml": 0}

#: Largest pool (float32 values) that schedule 2 keeps in memory at once; runs are processed in chunks.
POOL_VALUES = 50_000_000

#: Random values the exact method draws at once (a block of generations for all runs).
EXACT_BLOCK_VALUES = 1 << 20


@dataclass
class GaussianRun:
    """The fitted parameters of every generation of every run.

    ``mean`` and ``var`` have shape ``(generations + 1, runs)``; row ``t`` is
    generation ``t`` (row 0: the fit to the original data). The true
    distribution's moments are :attr:`true_mean` and :attr:`true_var`.
    ``sizes``, when set, holds the sample size of each generation
    (:func:`simulate_sizes`). :attr:`estimator` names the variance estimator
    (:data:`ESTIMATORS`).
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
    estimator: str = "unbiased"

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


def _validate(n, generations, runs, approach, retention, method, retained, keep_samples, seed, estimator):
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
    estimator = validate.choice("estimator", estimator, tuple(ESTIMATORS))
    return n, generations, runs, approach, retention, method, retained, keep_samples, seed, estimator


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


def _replace_chain(mean, var, row0, prev_mean, prev_var, n, ddof, rng) -> None:
    """Schedule 1 without retention, rows ``row0..`` of ``mean`` and ``var`` from the fit ``(prev_mean,
    prev_var)``.

    Fully vectorised over runs, in blocks of generations: the variance is a
    running product of chi2(n-1)/(n - ddof) factors (one per fit), the mean a
    running sum of N(0, var_prev / n) steps (independent of the variance factor).
    """
    rows, runs = mean.shape
    block = max(1, EXACT_BLOCK_VALUES // runs)
    scale = np.float32(2.0 / (n - ddof))
    for start in range(row0, rows, block):
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


def _simulate_exact(n, generations, runs, approach, retention, rng, ddof=1, first=None):
    """The exact method. ``first``: generation 0's ``(mean, sum of squares)`` per run, fitted to actual points
    of a non-Gaussian original distribution; by default generation 0 is fitted to n points of N(0, 1)."""
    mean = np.empty((generations + 1, runs))
    var = np.empty((generations + 1, runs))
    k = n_retained(n, retention)
    if approach == 1 and k == 0:
        if first is None:  # generation 0 is the first fit, to n points of N(0, 1)
            _replace_chain(mean, var, 0, np.zeros(runs), np.ones(runs), n, ddof, rng)
        else:
            mean[0], var[0] = first[0], first[1] / (n - ddof)
            _replace_chain(mean, var, 1, mean[0], var[0], n, ddof, rng)
        return mean, var
    # generation 0: the original data, n points of the truth
    pool_n = float(n)
    pool_mean, pool_m2 = _draw_stats(rng, n, 0.0, 1.0, runs) if first is None else first
    mean[0], var[0] = pool_mean, pool_m2 / (n - ddof)
    # each later generation's new data: k fresh original points and n - k samples of the previous
    # generation; their random parts are drawn in blocks of generations, the recursion is row by row
    block = max(1, EXACT_BLOCK_VALUES // runs)
    for start in range(1, generations + 1, block):
        b = min(block, generations + 1 - start)
        if k < n:
            z_new = _normal32(rng, b * runs).reshape(b, runs).astype(np.float64)
            z_new *= np.sqrt(1.0 / (n - k))
            chi_new = _chi2(rng, n - k - 1, b * runs).reshape(b, runs)
        if k:
            o_mean = _normal32(rng, b * runs).reshape(b, runs) * np.sqrt(1.0 / k)
            o_m2 = _chi2(rng, k - 1, b * runs).reshape(b, runs)
        for i in range(b):
            t = start + i
            if k == n:
                new_n, new_mean, new_m2 = float(n), o_mean[i], o_m2[i]
            else:
                new_n = float(n - k)
                new_mean = mean[t - 1] + np.sqrt(var[t - 1]) * z_new[i]
                new_m2 = var[t - 1] * chi_new[i]
                if k:
                    new_n, new_mean, new_m2 = _merge(float(k), o_mean[i], o_m2[i], new_n, new_mean, new_m2)
            if approach == 1:
                mean[t], var[t] = new_mean, new_m2 / (n - ddof)
            else:  # approach 3: the whole accumulated pool
                pool_n, pool_mean, pool_m2 = _merge(pool_n, pool_mean, pool_m2, new_n, new_mean, new_m2)
                mean[t], var[t] = pool_mean, pool_m2 / (pool_n - ddof)
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


def _simulate_sample(
    n, generations, runs, approach, retention, retained, rng, original: Sampler, keep_samples, ddof=1
):
    mean = np.empty((generations + 1, runs))
    var = np.empty((generations + 1, runs))
    samples = np.empty((generations + 1, runs, n)) if keep_samples else None
    k = n_retained(n, retention)
    if approach == 2:
        _simulate_subsample(n, generations, runs, k, retained, rng, original, mean, var, samples, ddof)
        return mean, var, samples
    data0 = original((runs, n), rng)
    data = data0
    pool = None
    for t in range(generations + 1):
        if t > 0:
            synthetic = mean[t - 1][:, None] + np.sqrt(var[t - 1])[:, None] * rng.standard_normal(
                (runs, n - k)
            )
            if k:
                data = np.concatenate(
                    [_retained_points(retained, original, data0, k, rng), synthetic], axis=1
                )
            else:
                data = synthetic
        m, m2 = _moments(data)
        if approach == 3:
            # the accumulated pool's moments, merged exactly as new data arrive;
            # identical to the moments of the concatenation, without O(t n) work per generation
            pool = (float(n), m, m2) if pool is None else _merge(*pool, float(n), m, m2)
            mean[t], var[t] = pool[1], pool[2] / (pool[0] - ddof)
        else:
            mean[t], var[t] = m, m2 / (n - ddof)
        if samples is not None:
            samples[t] = data
    return mean, var, samples


def _simulate_subsample(n, generations, runs, k, retained, rng, original, mean, var, samples, ddof=1) -> None:
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
        mean[0, lo:hi], var[0, lo:hi] = m, m2 / (n - ddof)
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
            mean[t, lo:hi], var[t, lo:hi] = m, m2 / (n - ddof)
            if samples is not None:
                samples[t, lo:hi] = x


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
    estimator: str = "unbiased",
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
        With another one, the exact method draws generation 0's ``n`` actual
        points and continues exactly (every later generation samples a
        Gaussian); retention of such data needs ``method="sample"``.
    keep_samples:
        With ``method="sample"``, keep each generation's training set (the new
        data under approach 3), shape ``(generations + 1, runs, n)``.
    retained:
        ``"fresh"`` (new draws from the true distribution) or ``"fixed"`` (a
        subset of the original sample of generation 0); see the module docstring.
    estimator:
        The variance estimator of every fit: ``"unbiased"`` (sum of squares
        over ``n - 1``, the paper's theory) or ``"ml"`` (over ``n``, the
        maximum-likelihood estimate that ``np.std`` returns, as in the
        authors' simulation).

    Returns
    -------
    GaussianRun
        ``mean`` and ``var`` of shape ``(generations + 1, runs)``.

    Raises
    ------
    ValueError
        On invalid input, naming the parameter and its accepted range.
    """
    n, generations, runs, approach, retention, method, retained, keep_samples, seed, estimator = _validate(
        n, generations, runs, approach, retention, method, retained, keep_samples, seed, estimator
    )
    if original is not None and not callable(original):
        raise ValueError(f"original must be a sampler f(shape, rng) or None, got {original!r}")
    custom = original is not None and original is not standard_normal
    k = n_retained(n, retention)
    fixed = retained == "fixed" and k > 0
    if method == "auto":
        method = "sample" if (approach == 2 or keep_samples or fixed or (custom and k > 0)) else "exact"
    if method == "exact":
        if approach == 2:
            raise ValueError(
                "approach=2 subsamples a pool of actual points: use method='sample' "
                "(exact covers approaches 1 and 3)"
            )
        if custom and k > 0:
            raise ValueError("retaining data of a non-Gaussian original distribution needs method='sample'")
        if keep_samples:
            raise ValueError("keep_samples needs method='sample'")
        if fixed:
            raise ValueError("retained='fixed' subsamples the original points: use method='sample'")
    original = original or standard_normal
    true_mean, true_var = _moments_of(original)
    ddof = ESTIMATORS[estimator]
    rng = np.random.default_rng(seed)
    samples = None
    if method == "exact":
        first = _moments(np.asarray(original((runs, n), rng), dtype=np.float64)) if custom else None
        mean, var = _simulate_exact(n, generations, runs, approach, retention, rng, ddof, first)
    else:
        mean, var, samples = _simulate_sample(
            n, generations, runs, approach, retention, retained, rng, original, keep_samples, ddof
        )
    return GaussianRun(
        n,
        generations,
        runs,
        approach,
        retention,
        method,
        seed,
        mean,
        var,
        samples,
        true_mean,
        true_var,
        retained,
        estimator=estimator,
    )


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
