"""The shared generational loop and the paper's three data schedules.

Every chapter runs the same recursion: fit a model to data, sample from it, and
build the next generation's training set from those samples. Shumailov et al.
study three ways of building it (their "approaches"):

1. ``approach=1`` -- only the latest model's samples;
2. ``approach=2`` -- the latest samples mixed with the data of all earlier
   generations (the original data included), and the mix *subsampled* back to
   the training size ``n`` (without replacement);
3. ``approach=3`` -- the *whole* accumulated mix (the training set grows by ``n``
   every generation).

``retention`` keeps part of the original data in play: each generation's new
data consists of ``k = round(retention * n)`` points drawn afresh from the
original data and ``n - k`` samples of the latest model. Under approach 1 that
is exactly the training set (so a fraction ``retention`` of it is original);
under approaches 2 and 3 the new data joins the pool as described above, so the
original share of the training set is at least ``retention``.

Generation 0 is trained on the original data itself. Data are numpy arrays (or
anything that numpy can index) whose *sample axis* is ``axis``; with
``axis=1`` one schedule drives many independent runs at once, one per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Sequence, TypeVar

import numpy as np

APPROACHES: dict[int, str] = {
    1: "latest samples only",
    2: "mix of all generations, subsampled to n",
    3: "whole accumulated mix",
}

Model = TypeVar("Model")

#: The schedules and retentions that every chapter compares, by label.
SCHEDULE_VARIANTS: dict[str, dict[str, Any]] = {
    "approach 1": dict(approach=1),
    "approach 2": dict(approach=2),
    "approach 3": dict(approach=3),
    "approach 1, retention 0.1": dict(approach=1, retention=0.1),
    "approach 1, retention 0.01": dict(approach=1, retention=0.01),
}


def check_approach(approach: int) -> int:
    """Validate a schedule number (1, 2 or 3) and return it as ``int``."""
    if isinstance(approach, bool) or approach not in APPROACHES:
        raise ValueError(
            f"approach must be 1, 2 or 3 ({'; '.join(f'{k}: {v}' for k, v in APPROACHES.items())}), "
            f"got {approach!r}"
        )
    return int(approach)


def check_retention(retention: float) -> float:
    """Validate a retention fraction (in ``[0, 1]``) and return it as ``float``."""
    try:
        value = float(retention)
    except (TypeError, ValueError):
        raise ValueError(f"retention must be a number in [0, 1], got {retention!r}") from None
    if not 0.0 <= value <= 1.0:  # also rejects NaN
        raise ValueError(f"retention must be in [0, 1], got {retention!r}")
    return value


def check_count(name: str, value: int, minimum: int) -> int:
    """Validate an integer parameter ``name >= minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def n_retained(n: int, retention: float) -> int:
    """Number of original points in each generation's new data: ``round(retention * n)``."""
    return int(round(check_retention(retention) * n))


def choose_without_replacement(
    rng: np.random.Generator, population: int, k: int, rows: int | None = None
) -> np.ndarray:
    """Draw ``k`` distinct indices from ``range(population)``, independently per row.

    Vectorised over ``rows``: indices are drawn uniformly and sorted, and the
    repeats of an index are redrawn until every row is distinct. The procedure
    only compares indices for equality, so it is invariant under relabelling
    of the population, and each row is a uniformly random ``k``-subset. Rows
    come back in increasing order. Few rounds are needed when ``k`` is small
    relative to ``population``; for ``k > population / 2`` a random
    permutation is used instead.
    """
    if k > population:
        raise ValueError(f"cannot choose {k} distinct items from {population}")
    shape = (1 if rows is None else rows, k)
    if 2 * k > population:
        idx = np.sort(rng.random((shape[0], population)).argsort(axis=1)[:, :k], axis=1)
    else:
        idx = np.sort(rng.integers(0, population, size=shape), axis=1)
        while True:
            dup = np.zeros(shape, dtype=bool)
            np.equal(idx[:, 1:], idx[:, :-1], out=dup[:, 1:])
            count = int(np.count_nonzero(dup))
            if not count:
                break
            idx[dup] = rng.integers(0, population, size=count)
            idx.sort(axis=1)
    return idx[0] if rows is None else idx


def _along(axis: int, index) -> tuple:
    """An index tuple that applies ``index`` along ``axis``."""
    return (slice(None),) * axis + (index,)


class DataSchedule:
    """Builds each generation's training set under one of the three schedules.

    Parameters
    ----------
    original:
        The original data (generation 0's training set), ``n`` points along
        ``axis``.
    approach:
        1, 2 or 3, see the module docstring.
    retention:
        Fraction of each generation's new data drawn from the original data.
    axis:
        The sample axis: 0 for one run (``(n, ...)``), or 1 for a batch of
        independent runs, one per row (``(runs, n, ...)``).
    draw_original:
        Optional ``f(k, rng) -> data`` giving ``k`` fresh original points (in
        the same layout). By default they are a random subset (without
        replacement, per run) of ``original``; a chapter whose "original data"
        is a known distribution can draw from the distribution itself.

    Use :attr:`n_synthetic` to know how many samples the latest model must
    provide, then :meth:`next_training_set` to get the training set. Under
    approach 3 the training set is a view of an internal buffer (valid until
    the next call).
    """

    def __init__(
        self,
        original: Any,
        approach: int = 1,
        retention: float = 0.0,
        axis: int = 0,
        draw_original: Callable[[int, np.random.Generator], Any] | None = None,
    ) -> None:
        self.approach = check_approach(approach)
        self.retention = check_retention(retention)
        if axis not in (0, 1):
            raise ValueError(f"axis must be 0 (one run) or 1 (runs along axis 0), got {axis!r}")
        self.original = np.asarray(original)
        if self.original.ndim <= axis:
            raise ValueError(f"original data of shape {self.original.shape} has no sample axis {axis}")
        self.axis = axis
        self.n = self.original.shape[axis]
        if self.n < 1:
            raise ValueError("the original data must hold at least one sample")
        self.k = n_retained(self.n, self.retention)
        self._draw_original = draw_original
        self.generation = 0
        # pool of all generations' data along the sample axis, grown by doubling
        self._pool = self.original.copy()
        self._pool_size = self.n
        self._pool_is_original = np.ones(self.n, dtype=bool)
        self.last_composition: dict[str, int] = {"original": self.n, "synthetic": 0}

    @property
    def n_synthetic(self) -> int:
        """How many samples of the latest model each generation needs."""
        return self.n - self.k

    def _fresh_original(self, rng: np.random.Generator) -> np.ndarray:
        if self._draw_original is not None:
            return np.asarray(self._draw_original(self.k, rng))
        if self.axis == 0:
            return self.original[choose_without_replacement(rng, self.n, self.k)]
        rows = self.original.shape[0]
        idx = choose_without_replacement(rng, self.n, self.k, rows=rows)  # (rows, k)
        return np.take_along_axis(
            self.original, idx.reshape(idx.shape + (1,) * (self.original.ndim - 2)), axis=1
        )

    def _append(self, new: np.ndarray, is_original: np.ndarray) -> None:
        size = self._pool_size + new.shape[self.axis]
        capacity = self._pool.shape[self.axis]
        if size > capacity:
            shape = list(self._pool.shape)
            shape[self.axis] = max(size, 2 * capacity)
            grown = np.empty(shape, self._pool.dtype)
            grown[_along(self.axis, slice(0, self._pool_size))] = self._pool[
                _along(self.axis, slice(0, self._pool_size))
            ]
            self._pool = grown
            flags = np.zeros(shape[self.axis], dtype=bool)
            flags[: self._pool_size] = self._pool_is_original[: self._pool_size]
            self._pool_is_original = flags
        self._pool[_along(self.axis, slice(self._pool_size, size))] = new
        self._pool_is_original[self._pool_size : size] = is_original
        self._pool_size = size

    def next_training_set(self, synthetic: Any, rng: np.random.Generator) -> np.ndarray:
        """Return the next generation's training set.

        ``synthetic`` holds :attr:`n_synthetic` samples of the latest model
        along the sample axis. Records the composition in
        :attr:`last_composition` (counts of original and synthetic points,
        summed over runs for batched data).
        """
        synthetic = np.asarray(synthetic)
        if synthetic.ndim <= self.axis or synthetic.shape[self.axis] != self.n_synthetic:
            raise ValueError(
                f"expected {self.n_synthetic} synthetic samples along axis {self.axis}, "
                f"got an array of shape {synthetic.shape}"
            )
        self.generation += 1
        if self.k:
            fresh = self._fresh_original(rng).astype(synthetic.dtype, copy=False)
            new = np.concatenate([fresh, synthetic], axis=self.axis)
        else:
            new = synthetic
        rows = 1 if self.axis == 0 else new.shape[0]
        if self.approach == 1:
            self.last_composition = {"original": self.k * rows, "synthetic": (self.n - self.k) * rows}
            return new
        flags = np.zeros(self.n, dtype=bool)
        flags[: self.k] = True
        self._append(new, flags)
        size = self._pool_size
        if self.approach == 3:
            n_orig = int(self._pool_is_original[:size].sum())
            self.last_composition = {"original": n_orig * rows, "synthetic": (size - n_orig) * rows}
            return self._pool[_along(self.axis, slice(0, size))]
        # approach 2: subsample n points of the pool, independently per run
        if self.axis == 0:
            idx = choose_without_replacement(rng, size, self.n)
            out = self._pool[idx]
        else:
            idx = choose_without_replacement(rng, size, self.n, rows=rows)  # (rows, n)
            pool = self._pool[:, :size]
            out = np.take_along_axis(pool, idx.reshape(idx.shape + (1,) * (pool.ndim - 2)), axis=1)
        n_orig = int(self._pool_is_original[idx].sum())
        self.last_composition = {"original": n_orig, "synthetic": idx.size - n_orig}
        return out


@dataclass
class GenerationRecord(Generic[Model]):
    """What :func:`run_generations` keeps of one generation."""

    generation: int
    model: Model | None
    metrics: dict[str, Any] = field(default_factory=dict)
    composition: dict[str, int] = field(default_factory=dict)


def run_generations(
    fit: Callable[[np.ndarray, np.random.Generator], Model],
    sample: Callable[[Model, int, np.random.Generator], np.ndarray],
    original: np.ndarray,
    generations: int,
    approach: int = 1,
    retention: float = 0.0,
    seed: int | np.random.Generator | None = None,
    measure: Callable[[Model, int], dict[str, Any]] | None = None,
    keep_models: bool | Sequence[int] = False,
    progress: bool | str = False,
    draw_original: Callable[[int, np.random.Generator], Any] | None = None,
) -> list[GenerationRecord[Model]]:
    """Run the generational recursion for one run of any model.

    Generation 0 fits ``original``; generation ``t + 1`` fits the training set
    that the schedule builds from ``sample(model_t, n_synthetic, rng)``.

    Parameters
    ----------
    fit:
        ``fit(data, rng) -> model``.
    sample:
        ``sample(model, m, rng) -> data`` with ``m`` samples along axis 0.
    original:
        Generation 0's training data (sample axis 0).
    generations:
        How many generations *after* generation 0 (``>= 0``).
    approach, retention:
        The data schedule, see :class:`DataSchedule`.
    seed:
        Seed or generator; the whole run is reproducible from it.
    measure:
        Optional ``measure(model, generation) -> dict`` of metrics, called on
        every generation's model.
    keep_models:
        ``True`` keeps every model, a sequence of generation numbers keeps
        those only (models can be large), ``False`` keeps none.
    progress:
        Show a tqdm progress bar (a string is used as its description).

    Returns
    -------
    list of :class:`GenerationRecord`, one per generation ``0..generations``.
    """
    generations = check_count("generations", generations, 0)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    schedule = DataSchedule(original, approach, retention, axis=0, draw_original=draw_original)
    keep = (
        (lambda g: bool(keep_models))
        if isinstance(keep_models, bool)
        else (lambda g, s=frozenset(keep_models): g in s)
    )
    records: list[GenerationRecord[Model]] = []
    steps = range(generations + 1)
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc=progress if isinstance(progress, str) else "generations", leave=False)
    data = schedule.original
    composition = dict(schedule.last_composition)
    for g in steps:
        model = fit(data, rng)
        metrics = measure(model, g) if measure is not None else {}
        records.append(GenerationRecord(g, model if keep(g) else None, metrics, composition))
        if g == generations:
            break
        synthetic = sample(model, schedule.n_synthetic, rng)
        data = schedule.next_training_set(synthetic, rng)
        composition = dict(schedule.last_composition)
    return records
