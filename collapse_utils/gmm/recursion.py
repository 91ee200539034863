"""The recursion of chapter 2 for many runs at once, the weights' chain, and sentences about the runs."""

from __future__ import annotations

import functools
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from .. import validate
from ..progress import progress as progress_bar
from ..schedules import DataSchedule, check_approach, check_retention
from . import em as E
from .measures import Measure
from .mixture import Mixture, MixtureBatch, base_noise, two_gaussians

PAPER_SNAPSHOTS: tuple[int, ...] = (0, 50, 100, 150, 200, 350, 2000)
"""The generations shown in the paper's Figure 7."""

SCHEDULE_NAMES: dict[int, str] = {1: "replace", 2: "accumulate-subsample", 3: "accumulate"}
"""The book's names of ``approach=1|2|3`` (the names of Gerstgrasser et al. 2024 and Kazdan et al. 2024)."""


def schedule_name(approach: int = 1, retention: float = 0.0) -> str:
    """A schedule's name for legends: ``"replace"``, ``"accumulate"``, ``"replace, fixed retention 10%"``, ...

    Chapter 2's retention is *fixed*: the retained points are a subsample of
    the original sample, not fresh draws from the true distribution.
    """
    name = SCHEDULE_NAMES[check_approach(approach)]
    retention = check_retention(retention)
    return f"{name}, fixed retention {100 * retention:g}%" if retention else name


@dataclass
class GMMRuns:
    """Measures of many runs at the measured generations.

    ``generation`` holds the measured generations (0 and the last always
    among them); ``metrics[name]`` has shape ``(runs, len(generation))``
    (runs along axis 0, as :func:`collapse_utils.plotting.plot_band` wants;
    ``weights``: ``(runs, len(generation), n_components)``). ``n_original`` and
    ``n_synthetic`` give the mean composition of each measured generation's
    training set per run; ``fresh_fits`` (runs,) counts each run's fits that
    started from k-means. ``snapshots[r]`` maps a generation to run ``r``'s
    mixture at that generation. ``true_heldout_loglik`` is what the true
    original density scores on the held-out sample (the best a model can do).
    """

    n: int
    generations: int
    runs: int
    n_components: int
    approach: int
    retention: float
    init: str
    backend: str
    seed: int | None
    original: Mixture
    generation: np.ndarray
    metrics: dict[str, np.ndarray]
    snapshots: list[dict[int, Mixture]] = field(repr=False)
    fresh_fits: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    seconds: float = 0.0
    tail_alpha: float = 0.01
    last: MixtureBatch | None = field(default=None, repr=False)
    requested: int | None = None
    true_heldout_loglik: float = float("nan")

    @property
    def stopped_early(self) -> bool:
        """Whether the time budget stopped the runs before the requested number of generations."""
        return self.requested is not None and self.generations < self.requested

    def index(self, generation: int) -> int:
        """Column of a measured generation in the metric arrays."""
        hit = np.flatnonzero(self.generation == generation)
        if not hit.size:
            raise ValueError(
                f"generation {generation!r} was not measured; measured: 0..{self.generations} "
                f"at {len(self.generation)} generations"
            )
        return int(hit[0])

    def at(self, name: str, generation: int) -> np.ndarray:
        """A metric of every run at one measured generation, shape (runs,)."""
        return self.metrics[name][:, self.index(generation)]

    def quantiles(self, name: str, q: Sequence[float] = (0.1, 0.5, 0.9)) -> np.ndarray:
        """Quantiles over runs of a metric, shape ``(len(q), len(generation))`` (NaNs ignored)."""
        return np.nanquantile(self.metrics[name], q, axis=0)

    def median(self, name: str) -> np.ndarray:
        """Median over runs of a metric at every measured generation."""
        return np.nanmedian(self.metrics[name], axis=0)

    def describe(self) -> str:
        """One line that says what ran (for figure titles and printouts)."""
        k = self.n_components
        early = f" (stopped at the time budget; {self.requested} requested)" if self.stopped_early else ""
        return (
            f"{self.runs} run{'s' * (self.runs != 1)} x {self.generations} generations{early}, n = {self.n}, "
            f"{k} component{'s' * (k != 1)}, {schedule_name(self.approach, self.retention)}"
        )


_MEASURES: dict[tuple, Measure] = {}


def _measure_for(original: Mixture, tail_alpha: float) -> Measure:
    """The :class:`Measure` of an original distribution, built once per process (its set-up is costly)."""
    key = (original.weights.tobytes(), original.means.tobytes(), original.covariances.tobytes(), tail_alpha)
    if key not in _MEASURES:
        _MEASURES[key] = Measure(original, tail_alpha=tail_alpha)
    return _MEASURES[key]


def _measured(generations: int, measure_at: Iterable[int] | None) -> np.ndarray:
    if measure_at is None:
        return np.arange(generations + 1)
    values = validate.integer_list(
        "measure_at",
        list(measure_at) if not isinstance(measure_at, (int, np.integer)) else measure_at,
        0,
        generations,
    )
    return np.array(sorted(set(values) | {0, generations}))


@functools.cache
def _ahead() -> ThreadPoolExecutor:
    """The one background thread that draws sampling noise ahead (made on first use, then kept)."""
    return ThreadPoolExecutor(1, thread_name_prefix="collapse-noise")


def simulate(
    n: int = 1000,
    generations: int = 2000,
    runs: int = 10,
    n_components: int = 2,
    approach: int = 1,
    retention: float = 0.0,
    seed: int | None = 0,
    init: str = "warm",
    snapshots: Iterable[int] = (),
    original: Mixture | None = None,
    backend: str = "batched",
    n_jobs: int | None = None,
    progress: bool | str = False,
    tail_alpha: float = 0.01,
    measure_at: Iterable[int] | None = None,
    time_budget: float | None = None,
    tol: float = E.GMM_DEFAULTS["tol"],
    max_iter: int = E.GMM_DEFAULTS["max_iter"],
    reg_covar: float = E.GMM_DEFAULTS["reg_covar"],
) -> GMMRuns:
    """Simulate ``runs`` independent runs of the recursion, all at once.

    Generation 0 is fitted to ``n`` samples of ``original`` (one original
    sample per run); generation ``t + 1`` to the training set that the data
    schedule builds from ``n`` samples of generation ``t`` (and, with
    retention, a subsample of the run's original sample).

    Parameters
    ----------
    n:
        Samples per generation (``>= max(2, n_components)``); the paper uses 1000.
    generations:
        Generations after generation 0 (the paper runs 2000).
    runs:
        Independent runs.
    n_components:
        Components of the fitted mixtures (2 is the right model; 1 and 3 are
        mis-specified).
    approach, retention:
        The data schedule (:mod:`collapse_utils.schedules`): 1 replace,
        2 accumulate-subsample, 3 accumulate; retention is *fixed* (a
        subsample of the original sample).
    seed:
        The data (original samples, every generation's samples, the
        schedules' subsamples) come from one generator and the k-means
        initialisations from another, both spawned from ``seed``: two
        simulations with the same seed share their data randomness whatever
        their ``init`` or ``backend`` (common random numbers).
    init:
        ``"warm"`` (each generation's EM starts from the previous mixture) or
        ``"fresh"`` (k-means every generation, the authors' setting).
    snapshots:
        Generations whose mixtures are kept (for every run).
    original:
        The original distribution (default :func:`two_gaussians`).
    backend:
        ``"batched"`` (EM for all runs at once, :mod:`.em`) or ``"sklearn"``
        (scikit-learn's ``GaussianMixture``, one run at a time: the reference).
    n_jobs:
        Threads for the sklearn backend, joblib's convention (``None`` 1,
        ``-1`` every core); the batched backend fits all runs in one thread
        and ignores it. No process pool is ever started.
    progress:
        Show a progress bar over generations (a string is its description).
    tail_alpha:
        Mass of the original's tail region, see :class:`Measure`.
    measure_at:
        Generations at which to measure (default every generation; 0 and
        ``generations`` are always measured). Measuring costs more than
        fitting: long runs measure on a grid.
    time_budget:
        Seconds after which the runs stop at the generation they have reached
        (measured there; ``GMMRuns.stopped_early`` and ``requested`` say so).
        ``None`` (default): no limit. For sliders, which must answer in time.
    tol, max_iter, reg_covar:
        EM settings (defaults: the authors', :data:`GMM_DEFAULTS`).

    Raises
    ------
    ValueError
        On invalid input, naming the parameter and its accepted range, before
        anything runs.
    """
    n_components = validate.integer("n_components", n_components, 1)
    n = validate.integer("n", n, max(2, n_components))
    generations = validate.integer("generations", generations, 0)
    runs = validate.integer("runs", runs, 1)
    approach = check_approach(approach)
    retention = check_retention(retention)
    if seed is not None:
        seed = validate.integer("seed", seed, 0)
    init = validate.choice("init", init, E.INITS)
    backend = validate.choice("backend", backend, E.BACKENDS)
    snaps = sorted(set(validate.integer_list("snapshots", snapshots, 0, generations)))
    original = two_gaussians() if original is None else original
    if not isinstance(original, Mixture):
        raise ValueError(f"original must be a gmm.Mixture, got {type(original).__name__}")
    if n_jobs is not None:
        E.n_workers(n_jobs)
    tail_alpha = validate.real("tail_alpha", tail_alpha, 0.0, 1.0, low_open=True, high_open=True)
    measured = _measured(generations, measure_at)
    tol = validate.real("tol", tol, 0.0, low_open=True)
    max_iter = validate.integer("max_iter", max_iter, 1)
    reg_covar = validate.real("reg_covar", reg_covar, 0.0, low_open=True)
    if time_budget is not None:
        time_budget = validate.real("time_budget", time_budget, 0.0, low_open=True)
    if not isinstance(progress, (bool, str)):
        raise ValueError(f"progress must be True, False or a description string, got {progress!r}")

    measure = _measure_for(original, tail_alpha)
    data_seed, init_seed = np.random.SeedSequence(seed).spawn(2)
    rng, init_rng = np.random.default_rng(data_seed), np.random.default_rng(init_seed)
    settings = dict(tol=tol, max_iter=max_iter, reg_covar=reg_covar)
    if backend == "sklearn":

        def fit(data, warm):
            return E.fit_sklearn(data, n_components, init_rng, warm, n_jobs=n_jobs, **settings)
    else:

        def fit(data, warm):
            return E.fit(data, n_components, init_rng, warm, **settings)

    start = time.perf_counter()
    data0 = original.sample(n * runs, rng).reshape(runs, n, original.dim)
    schedule = DataSchedule(data0, approach, retention, axis=1)
    is_measured = np.zeros(generations + 1, dtype=bool)
    is_measured[measured] = True
    keep = set(snaps)
    records: dict[str, list[np.ndarray]] = {}
    kept: list[dict[int, Mixture]] = [{} for _ in range(runs)]
    composition = {"original": [], "synthetic": []}
    fresh_fits = np.zeros(runs, dtype=int)
    data, model, comp = data0, None, {"original": n * runs, "synthetic": 0}
    steps = range(generations + 1)
    if progress:
        steps = progress_bar(steps, desc=progress if isinstance(progress, str) else "generations")
    for g in steps:
        # the next generation's sampling noise is drawn in a second thread while this one is fitted (the
        # same numbers in the same order as drawing them afterwards: nothing else draws from rng meanwhile)
        if g < generations:
            upcoming = _ahead().submit(base_noise, runs, schedule.n_synthetic, original.dim, rng)
        model, fresh = fit(data, model if init == "warm" else None)
        fresh_fits += fresh
        stop = g == generations or (time_budget is not None and time.perf_counter() - start > time_budget)
        if is_measured[g] or stop:
            for key, value in measure(model, g).items():
                records.setdefault(key, []).append(value)
            composition["original"].append(comp["original"] / runs)
            composition["synthetic"].append(comp["synthetic"] / runs)
        if g in keep:
            for r in range(runs):
                kept[r][g] = model.run(r)
        if stop:
            break
        data = schedule.next_training_set(model.transform(*upcoming.result()), rng)
        comp = dict(schedule.last_composition)
    done = g
    measured = measured[measured <= done]
    if measured[-1] != done:
        measured = np.append(measured, done)
    metrics = {key: np.stack(values, axis=1) for key, values in records.items()}
    metrics["n_original"] = np.array(composition["original"])
    metrics["n_synthetic"] = np.array(composition["synthetic"])
    return GMMRuns(
        n=n,
        generations=done,
        runs=runs,
        n_components=n_components,
        approach=approach,
        retention=retention,
        init=init,
        backend=backend,
        seed=seed,
        original=original,
        generation=measured,
        metrics=metrics,
        snapshots=kept,
        fresh_fits=fresh_fits,
        seconds=time.perf_counter() - start,
        tail_alpha=tail_alpha,
        last=model,
        requested=generations,
        true_heldout_loglik=measure.true_heldout_loglik,
    )


def fit_mixture(data: np.ndarray, n_components: int = 2, seed: int = 0, backend: str = "batched") -> Mixture:
    """Fit one mixture to ``data`` (N, D) from a k-means start, with the authors' settings."""
    data = np.asarray(data, dtype=float)
    n_components = validate.integer("n_components", n_components, 1)
    if data.ndim != 2 or data.shape[0] < max(2, n_components):
        raise ValueError(
            f"data must be (N, D) with N >= max(2, n_components = {n_components}), got shape {data.shape}"
        )
    backend = validate.choice("backend", backend, E.BACKENDS)
    rng = np.random.default_rng(validate.integer("seed", seed, 0))
    fitter = E.fit if backend == "batched" else E.fit_sklearn
    return fitter(data[None], n_components, rng)[0].run(0)


# ---------------------------------------------------------------------------
# theory: the weights as a two-category Wright-Fisher chain


def wright_fisher_absorption_cdf(n: int, p: float, generations: int) -> np.ndarray:
    """P(one of two categories has been lost by generation t), t = 0..generations, exactly.

    The two-category chain of chapter 1: the count of the first category in
    each generation's ``n`` draws is ``Binomial(n, count / n)`` of the
    previous one. Generation 0's count is ``Binomial(n, p)`` (the original
    data are a draw from the original weights). Computed by propagating the
    distribution of the count through the ``(n + 1) x (n + 1)`` transition
    matrix. Transition probabilities below ``1e-30`` (a count more than about
    eleven binomial standard deviations away) are dropped, which loses at most
    ``(n + 1) * 1e-30`` of probability per generation and makes the matrix sparse:
    cost ``O(generations * n^1.5)`` instead of ``O(generations * n^2)``.
    """
    from scipy import sparse, stats

    n = validate.integer("n", n, 1)
    generations = validate.integer("generations", generations, 0)
    p = validate.probability("p", p)
    counts = np.arange(n + 1)
    transition = stats.binom.pmf(counts[None, :], n, counts[:, None] / n)  # row: from, column: to
    transition[transition < 1e-30] = 0.0
    step = sparse.csr_matrix(transition.T)  # dist_{t+1} = transition^T dist_t
    dist = stats.binom.pmf(counts, n, p)
    out = np.empty(generations + 1)
    for t in range(generations + 1):
        out[t] = dist[0] + dist[-1]
        dist = step @ dist
    return out


def chain_band(absorbed: np.ndarray, runs: int, level: float = 0.95) -> np.ndarray:
    """Pointwise 95% band (2, T) of the fraction of ``runs`` absorbed runs if the weights were the chain."""
    from scipy import stats

    runs = validate.integer("runs", runs, 1)
    level = validate.real("level", level, 0.0, 1.0, low_open=True, high_open=True)
    a = (1 - level) / 2
    return stats.binom.ppf([[a], [1 - a]], runs, np.asarray(absorbed)[None, :]) / runs


def absorbed_fraction(times: Sequence[int | None], generation: np.ndarray) -> np.ndarray:
    """Fraction of runs whose event time (``None``: never) is at or before each generation."""
    t = np.array([np.inf if x is None else x for x in times], dtype=float)
    return np.mean(t[:, None] <= np.asarray(generation)[None, :], axis=0)


# the sentences lived here before they got a module of their own; their old import path still works
from .sentences import (  # noqa: E402,F401
    chain_sentence,
    estimate_check_sentence,
    retention_sentence,
    tail_rise_sentence,
    warm_fresh_sentence,
)
