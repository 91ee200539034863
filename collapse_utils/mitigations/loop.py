"""One recursion loop for every strategy of a family, all runs of a strategy at once.

:func:`recursion` runs the strategies of :mod:`.strategies` for a family that
implements :class:`Family` (fit, sample, score, draw real data, measure), on top
of :class:`collapse_utils.schedules.DataSchedule` (one schedule per strategy,
runs along axis 1). **Generation 0** is fitted to the original (real) data;
**generation t + 1** to the training set that the strategy builds from
generation ``t``'s samples and, with a share of real data, real data. The truth
is not a generation.

Pairing: every strategy starts from the *same* original data and the *same*
generation-0 models (one fit, shared), so strategies differ only by what they do
after generation 0 (common random numbers). Each strategy then draws from its own
generator, seeded by the seed and the strategy (:meth:`Strategy.seed_key`), so a
strategy's runs are the same whichever other strategies run beside it.
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence

import numpy as np

from .. import validate
from ..progress import progress as progress_bar
from ..schedules import DataSchedule
from .strategies import Strategy


class Family(Protocol):
    """What :func:`recursion` needs of a model family; every method works on a batch of runs (rows)."""

    def original(self, runs: int, rng: np.random.Generator) -> np.ndarray:
        """The original data of every run, ``(runs, n, ...)``."""

    def draw(self, rows: int, k: int, rng: np.random.Generator) -> np.ndarray:
        """``k`` new real points per run, ``(rows, k, ...)`` (fresh real data)."""

    def fit(self, items: Sequence[tuple[np.ndarray, np.random.Generator, Any]]) -> list[Any]:
        """Fit one batch of models per item ``(data (rows, N, ...), rng, previous models or None)``."""

    def sample(self, models: Any, m: int, rng: np.random.Generator) -> np.ndarray:
        """``m`` samples of every run's model, ``(rows, m, ...)``."""

    def loglik(self, models: Any, x: np.ndarray) -> np.ndarray:
        """Log-likelihood (or a lower bound of it) of every run's points under that run's model, ``(rows, M)``."""

    def distance(self, models: Any, generation: int) -> np.ndarray:
        """Every run's distance from the truth at ``generation``, ``(rows,)`` (measuring noise may depend on it)."""


def best_of(candidates: np.ndarray, scores: np.ndarray, k: int) -> np.ndarray:
    """Keep, of every group of ``k`` consecutive candidates of a run, the one with the highest score.

    ``candidates`` is ``(rows, m * k, ...)`` and ``scores`` ``(rows, m * k)``;
    returns ``(rows, m, ...)``: kept sample ``j`` of a run is the best of its
    candidates ``j k, ..., j k + k - 1``. ``k = 1`` returns the candidates.
    """
    k = validate.integer("k", k, 1)
    candidates = np.asarray(candidates)
    scores = np.asarray(scores, dtype=float)
    rows, total = scores.shape
    if candidates.shape[:2] != (rows, total) or total % k:
        raise ValueError(
            f"candidates {candidates.shape} and scores {scores.shape} must agree, with a multiple of k = {k} per row"
        )
    if k == 1:
        return candidates
    m = total // k
    best = np.argmax(scores.reshape(rows, m, k), axis=2)  # (rows, m)
    index = np.arange(m)[None, :] * k + best
    return np.take_along_axis(candidates, index.reshape(rows, m, *([1] * (candidates.ndim - 2))), axis=1)


def synthetic_data(
    family: Family, models: Any, models0: Any, m: int, candidates: int, rng: np.random.Generator
) -> np.ndarray:
    """The ``m`` synthetic points per run that a generation contributes: samples, or the best of ``candidates``.

    With ``candidates > 1`` the latest models write ``m * candidates`` samples and
    :func:`best_of` keeps, of each group, the one the generation-0 models
    (``models0``) score highest.
    """
    if candidates == 1:
        return family.sample(models, m, rng)
    pool = family.sample(models, m * candidates, rng)
    return best_of(pool, family.loglik(models0, pool), candidates)


def recursion(
    family: Family,
    strategies: Sequence[Strategy],
    runs: int,
    generations: int,
    seed: int,
    progress: bool | str = False,
) -> dict[Strategy, np.ndarray]:
    """Run every strategy for ``runs`` runs and ``generations`` generations after generation 0.

    Returns ``{strategy: distances}`` with distances of shape ``(runs, generations + 1)``
    (column ``t``: generation ``t``; column 0 is shared by every strategy). All
    arguments are checked before any model is fitted.
    """
    strategies = list(strategies)
    if not strategies or not all(isinstance(s, Strategy) for s in strategies):
        raise ValueError(f"strategies must be a non-empty sequence of Strategy, got {strategies!r}")
    if len(set(strategies)) != len(strategies):
        raise ValueError("strategies must differ from each other")
    runs = validate.integer("runs", runs, 1)
    generations = validate.integer("generations", generations, 0)
    seed = validate.integer("seed", seed, 0)
    data0 = family.original(runs, np.random.default_rng([seed, 0]))
    models0 = family.fit([(data0, np.random.default_rng([seed, 1]), None)])[0]
    d0 = np.asarray(family.distance(models0, 0), dtype=float)
    out = {s: np.empty((runs, generations + 1)) for s in strategies}
    lanes = []
    for s in strategies:
        out[s][:, 0] = d0
        rng = np.random.default_rng([seed, 2, s.seed_key()])
        draw = None
        if s.name == "fresh" and s.share > 0:
            def draw(k, rng, _rows=runs):
                return family.draw(_rows, k, rng)
        lanes.append([s, rng, DataSchedule(data0, s.approach, s.retention, axis=1, draw_original=draw), models0])
    steps = range(1, generations + 1)
    if progress:
        steps = progress_bar(steps, desc=progress if isinstance(progress, str) else "generations")
    for g in steps:
        items = []
        for s, rng, schedule, models in lanes:
            synthetic = synthetic_data(family, models, models0, schedule.n_synthetic, s.candidates, rng)
            items.append((schedule.next_training_set(synthetic, rng), rng, models))
        fitted = family.fit(items)
        for lane, model in zip(lanes, fitted):
            lane[3] = model
            out[lane[0]][:, g] = family.distance(model, g)
    return out
