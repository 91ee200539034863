"""Discrete distributions: resampling a categorical is a Wright-Fisher chain with absorbing states."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import validate
from ..schedules import check_count
from .measures import _check_array


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
        """Per generation and category, the fraction of runs in which the category is still alive,
        ``(generations + 1, k)``."""
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


def absorbing_gap(frequencies: np.ndarray, probs: np.ndarray, absorbed: int) -> float:
    """The largest gap, in standard errors, between absorbing-state frequencies and the original
    probabilities.

    Each frequency over ``absorbed`` runs has the standard error
    ``sqrt(p (1 - p) / absorbed)`` if the paper's statement holds. ``nan`` if no
    run was absorbed.
    """
    f = np.asarray(frequencies, dtype=float)
    p = np.asarray(probs, dtype=float)
    if absorbed <= 0:
        return float("nan")
    se = np.sqrt(p * (1 - p) / absorbed)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, np.abs(f - p) / se, 0.0)
    return float(np.max(z))
