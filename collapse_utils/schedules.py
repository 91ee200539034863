"""The shared generational loop and the three data schedules.

Every chapter runs the same recursion: fit a model to data, sample from it, and
build the next generation's training set from those samples.

**Generations.** Generation 0 is the model fitted to the original (real) data;
generation ``t + 1`` is fitted to the training set built from generation
``t``'s samples (and, with retention, original data). The true distribution is
not a generation: chapters keep it apart (``truth``, ``true_mean``...).

**Schedules.** How the training set is built is the *schedule*, chosen with
``approach=1|2|3`` (the API since chapter 1). The names are the book's framing,
borrowed from follow-up work (Gerstgrasser et al. 2024, *Is Model Collapse
Inevitable?*; Kazdan et al. 2024, *Collapse or Thrive?*):

1. ``approach=1``, **replace**: only the latest model's samples. This is the
   setting of Shumailov et al.'s theory (each generation fits only the previous
   model's samples).
2. ``approach=2``, **accumulate-subsample**: the latest samples join the pool
   of all earlier generations' data (the original data included) and the
   training set is a subsample of ``n`` points of the pool, without
   replacement (a fixed-size sample of the pooled data).
3. ``approach=3``, **accumulate**: the *whole* pool (the training set grows by
   ``n`` every generation; the authors' Gaussian notebook,
   ``Normals_GMM_experiments.ipynb``, runs this case too).

**Retention** keeps part of the original data in play: each generation's new
data consists of ``k = round(retention * n)`` original points and ``n - k``
samples of the latest model. Under approach 1 that is exactly the training set
(a fraction ``retention`` of it is original); under approaches 2 and 3 the new
data joins the pool as described above, so the original share of the training
set is at least ``retention``. Retained points come in two kinds
(:data:`RETENTION_KINDS`), which theory treats differently:

``"fixed"``
    a random subset (without replacement, fresh each generation) of the one
    fixed original sample: no new real information ever arrives. This is what
    :class:`DataSchedule` does by default, and what chapters 2-4 use.
``"fresh"``
    new draws from the true distribution (unlimited real data), obtained by
    passing ``draw_original`` to :class:`DataSchedule`. Chapter 1 uses this by
    default (its original distribution is known), and shows the difference.

Data are numpy arrays (or anything that numpy can index) whose *sample axis*
is ``axis``; with ``axis=1`` one schedule drives many independent runs at once,
one per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Sequence, TypeVar

import numpy as np

from . import validate
from .progress import progress as _progress

#: The schedules by number, each with the book's name and what it does.
APPROACHES: dict[int, str] = {
    1: "replace: latest samples only",
    2: "accumulate-subsample: mix of all generations, subsampled to n",
    3: "accumulate: whole accumulated mix",
}

#: The short names of the schedules (the book's framing, after Gerstgrasser et al. 2024).
SCHEDULE_NAMES: dict[int, str] = {1: "replace", 2: "accumulate-subsample", 3: "accumulate"}

#: The two kinds of retained original data (see the module docstring).
RETENTION_KINDS: tuple[str, ...] = ("fixed", "fresh")

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
    if isinstance(approach, (bool, np.bool_)) or not isinstance(approach, (int, np.integer)) or (
        int(approach) not in APPROACHES
    ):
        raise ValueError(
            f"approach must be 1, 2 or 3 ({'; '.join(f'{k}: {v}' for k, v in APPROACHES.items())}), "
            f"got {approach!r}"
        )
    return int(approach)


def check_retention(retention: float) -> float:
    """Validate a retention fraction (a number in ``[0, 1]``) and return it as ``float``."""
    return validate.probability("retention", retention)


def check_retained(retained: str) -> str:
    """Validate a kind of retained data (``"fixed"`` or ``"fresh"``)."""
    return validate.choice("retained", retained, RETENTION_KINDS)


def check_count(name: str, value: int, minimum: int) -> int:
    """Validate an integer parameter ``name >= minimum`` (a thin wrapper of :func:`validate.integer`)."""
    return validate.integer(name, value, minimum)


def n_retained(n: int, retention: float) -> int:
    """Number of original points in each generation's new data: ``round(retention * n)``."""
    return int(round(check_retention(retention) * n))


def choose_without_replacement(
    rng: np.random.Generator, population: int, k: int, rows: int | None = None, dtype=np.int64
) -> np.ndarray:
    """Draw ``k`` distinct indices from ``range(population)``, independently per row.

    Vectorised over ``rows``: indices are drawn uniformly and sorted, and the
    repeats of an index are redrawn until every row is distinct. The procedure
    only compares indices for equality, so it is invariant under relabelling
    of the population, and each row is a uniformly random ``k``-subset. Rows
    come back in increasing order. Few rounds are needed when ``k`` is small
    relative to ``population``; for ``k > population / 5`` the ``k``
    smallest of ``population`` uniform random keys are taken instead. ``dtype`` (``np.int64`` or, for a
    population below 2**31, the faster ``np.int32``) is the indices' type.
    """
    if k > population:
        raise ValueError(f"cannot choose {k} distinct items from {population}")
    shape = (1 if rows is None else rows, k)
    if 5 * k > population:
        # the k smallest of `population` uniform keys are a uniformly random k-subset
        keys = rng.random((shape[0], population))
        idx = np.sort(np.argpartition(keys, k - 1, axis=1)[:, :k], axis=1).astype(dtype) if k else (
            np.empty(shape, dtype)
        )
    else:
        idx = np.sort(rng.integers(0, population, size=shape, dtype=dtype), axis=1)
        while True:
            dup = np.zeros(shape, dtype=bool)
            np.equal(idx[:, 1:], idx[:, :-1], out=dup[:, 1:])
            count = int(np.count_nonzero(dup))
            if not count:
                break
            idx[dup] = rng.integers(0, population, size=count, dtype=dtype)
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
        Optional ``f(k, rng) -> data`` giving ``k`` *fresh* original points (in
        the same layout): retention of kind ``"fresh"``. By default retained
        points are of kind ``"fixed"``: a random subset (without replacement,
        per run, drawn anew each generation) of ``original``. See
        :attr:`retained`.

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
        if isinstance(axis, (bool, np.bool_)) or axis not in (0, 1):
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
        #: which points of the last training set are original (per point of one run; per run and point with axis=1
        #: under accumulate-subsample; the schedule's order of the points: retained ones first in the new data)
        self.last_is_original: np.ndarray = np.ones(self.n, dtype=bool)

    @property
    def retained(self) -> str:
        """The kind of retained data: ``"fresh"`` with ``draw_original``, else ``"fixed"``."""
        return "fixed" if self._draw_original is None else "fresh"

    @property
    def n_synthetic(self) -> int:
        """How many samples of the latest model each generation needs."""
        return self.n - self.k

    def choose_retained(self, rng: np.random.Generator) -> np.ndarray:
        """The ``k`` original points a generation keeps (kind ``"fixed"``, one run): sorted indices into ``original``.

        A random ``k``-subset drawn anew from ``rng``. A caller whose samples are
        tied to original points (the language model continues original blocks)
        draws the subset first, writes samples for the others only, and passes
        the subset to :meth:`next_training_set` as ``retained``.
        """
        if self.axis != 0:
            raise ValueError("choose_retained is for one run (axis=0)")
        return choose_without_replacement(rng, self.n, self.k)

    def _retained_indices(self, retained: Any) -> np.ndarray:
        """``retained`` checked: ``k`` distinct indices into ``original`` (fixed retention of one run only)."""
        if self._draw_original is not None or self.axis != 0:
            raise ValueError("retained indices apply to fixed retention of one run (axis=0) only")
        idx = np.asarray(retained)
        if idx.shape != (self.k,) or len(np.unique(idx)) != self.k or (self.k and not (
            0 <= idx.min() and idx.max() < self.n
        )):
            raise ValueError(f"retained must be {self.k} distinct indices in [0, {self.n}), got {idx!r}")
        return idx

    def _fresh_original(self, rng: np.random.Generator, retained: np.ndarray | None = None) -> np.ndarray:
        if retained is not None:
            return self.original[retained]
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
        # samples that the pool's type cannot hold (float samples of integer original data) widen the pool,
        # instead of being truncated to the original data's type
        dtype = (self._pool.dtype if np.can_cast(new.dtype, self._pool.dtype, "same_kind")
                 else np.result_type(self._pool.dtype, new.dtype))
        if size > capacity or dtype != self._pool.dtype:
            shape = list(self._pool.shape)
            shape[self.axis] = max(size, 2 * capacity) if size > capacity else capacity
            grown = np.empty(shape, dtype)
            grown[_along(self.axis, slice(0, self._pool_size))] = self._pool[
                _along(self.axis, slice(0, self._pool_size))
            ]
            self._pool = grown
        if size > self._pool_is_original.size:
            flags = np.zeros(self._pool.shape[self.axis], dtype=bool)
            flags[: self._pool_size] = self._pool_is_original[: self._pool_size]
            self._pool_is_original = flags
        self._pool[_along(self.axis, slice(self._pool_size, size))] = new
        self._pool_is_original[self._pool_size : size] = is_original
        self._pool_size = size

    def next_training_set(
        self, synthetic: Any, rng: np.random.Generator, retained: np.ndarray | None = None
    ) -> np.ndarray:
        """Return the next generation's training set.

        ``synthetic`` holds :attr:`n_synthetic` samples of the latest model
        along the sample axis. ``retained`` (one run, fixed retention) gives
        the indices of the kept original points (:meth:`choose_retained`)
        instead of drawing them here. The new data hold the retained points
        first, then the samples. Records the composition in
        :attr:`last_composition` (counts of original and synthetic points,
        summed over runs for batched data).
        """
        synthetic = np.asarray(synthetic)
        if synthetic.ndim <= self.axis or synthetic.shape[self.axis] != self.n_synthetic:
            raise ValueError(
                f"expected {self.n_synthetic} synthetic samples along axis {self.axis}, "
                f"got an array of shape {synthetic.shape}"
            )
        if retained is not None:  # checked before any work: a rejected call changes nothing
            retained = self._retained_indices(retained)
        if self.k:
            fresh = self._fresh_original(rng, retained)
            if np.can_cast(fresh.dtype, synthetic.dtype, "same_kind"):
                fresh = fresh.astype(synthetic.dtype, copy=False)  # the samples' type (float32 stays float32)
            new = np.concatenate([fresh, synthetic], axis=self.axis)
        else:
            new = synthetic
        self.generation += 1
        rows = 1 if self.axis == 0 else new.shape[0]
        if self.approach == 1:
            self.last_composition = {"original": self.k * rows, "synthetic": (self.n - self.k) * rows}
            self.last_is_original = np.arange(self.n) < self.k
            return new
        flags = np.zeros(self.n, dtype=bool)
        flags[: self.k] = True
        self._append(new, flags)
        size = self._pool_size
        if self.approach == 3:
            n_orig = int(self._pool_is_original[:size].sum())
            self.last_composition = {"original": n_orig * rows, "synthetic": (size - n_orig) * rows}
            self.last_is_original = self._pool_is_original[:size].copy()
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
        self.last_is_original = self._pool_is_original[idx]
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
    that the schedule builds from ``sample(model_t, n_synthetic, rng)`` (and,
    with retention, original points).

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
        every generation's model with that model's generation number.
    keep_models:
        ``True`` keeps every model, a sequence of generation numbers (each in
        ``[0, generations]``) keeps those only (models can be large), ``False``
        keeps none. A bare integer is rejected (write ``[5]``).
    progress:
        Show a progress bar (:func:`collapse_utils.progress.progress`; a string
        is used as its description).
    draw_original:
        Makes retained data *fresh* draws (see :class:`DataSchedule`); by
        default they are a subsample of ``original`` (*fixed*).

    Returns
    -------
    list of :class:`GenerationRecord`, one per generation ``0..generations``.

    Raises
    ------
    ValueError
        On invalid input, before any model is fitted.
    """
    generations = check_count("generations", generations, 0)
    if isinstance(keep_models, (bool, np.bool_)):
        keep_all = validate.boolean("keep_models", keep_models)
        keep = lambda g: keep_all  # noqa: E731
    else:
        wanted = frozenset(validate.integer_list("keep_models", keep_models, 0, generations))
        keep = wanted.__contains__
    if not isinstance(progress, str):
        progress = validate.boolean("progress", progress)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    schedule = DataSchedule(original, approach, retention, axis=0, draw_original=draw_original)
    records: list[GenerationRecord[Model]] = []
    steps: Any = range(generations + 1)
    if progress:
        steps = _progress(steps, desc=progress if isinstance(progress, str) else "generations")
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
