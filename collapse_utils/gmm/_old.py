"""Chapter 2: recursive fitting of Gaussian mixture models.

The original distribution is a mixture of two well-separated 2-D Gaussians
(:func:`two_gaussians`). Generation 0 is a mixture fitted (scikit-learn's
:class:`~sklearn.mixture.GaussianMixture`, full covariances, ``tol=1e-5``,
``max_iter=2000``, as in the authors' published notebook) to ``n`` samples of
it; generation ``t + 1`` is fitted to the training set that the data schedule
(:mod:`collapse_utils.schedules`) builds from ``n`` samples of generation
``t``. The shared loop :func:`collapse_utils.schedules.run_generations` drives
every run, so the three data schedules and retention work as in chapter 1.

Fitting
-------
:class:`MixtureFitter` is the ``fit`` of the loop. By default (``init="warm"``)
each generation's EM starts from the previous generation's mixture
(``weights_init``, ``means_init``, ``precisions_init``): the data changed only
by one round of resampling, so EM converges in a few iterations, about ten
times faster than a fresh k-means initialisation, and the components keep
their identity from one generation to the next. ``init="fresh"`` runs
scikit-learn's default k-means initialisation every generation, as the
authors' notebook does. Either way, a fit that fails numerically is retried
with a fresh initialisation and a larger ``reg_covar``, and a warm start whose
previous mixture has a component that expects less than one sample
(``weight * n < 1``) is replaced by a fresh one, so degenerate fits never
crash a run.

Sampling does not use scikit-learn's ``sample`` (which has its own random
state): :meth:`Mixture.sample` draws from the run's numpy generator, so a whole
run is reproducible from its seed.

Measures
--------
:class:`Measure` computes, for every generation's mixture ``q_t``:

``l2_sq``
    the squared L2 distance ``int (q_t - q_0)^2 dx`` to the run's generation
    0 in closed form (the authors' measure of drift; :func:`l2_sq`);
``l2_sq_true``
    the same distance to the true original density ``p``;
``heldout_loglik``
    the mean log-likelihood under ``q_t`` of a fixed held-out sample of the
    original distribution;
``tail_loglik``
    the same for a fixed held-out sample of the original's *rare events*:
    original points that fall in the tail region ``T`` defined below;
``total_var``
    the total variance (trace of the covariance) of ``q_t``;
``mean_distance``
    the distance between the means of the two heaviest components;
``weights``
    the mixture weights, sorted from largest to smallest;
``tail_mass``
    the mass that ``q_t`` assigns to the *tails of the original*: the region
    ``T = {x : p(x) < lambda}`` where ``lambda`` is chosen so that
    ``P_p(T) = tail_alpha`` (1% by default; :func:`tail_level`). It is
    estimated by quasi-Monte Carlo with common random numbers: a fixed,
    scrambled Sobol base sample (a uniform for the component and standard
    normals for the point) is pushed through every ``q_t``, so the estimate
    changes only when the model does (relative error about 4% at 1% and
    8192 points, against 12% for plain Monte Carlo with 5000).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from .schedules import APPROACHES, check_approach, check_count, check_retention, run_generations
from .summaries import first_below  # noqa: F401  (re-exported for the chapter)

INITS = ("warm", "fresh")
GMM_DEFAULTS: dict[str, Any] = {"covariance_type": "full", "tol": 1e-5, "max_iter": 2000, "reg_covar": 1e-6}
"""The authors' scikit-learn settings (``reg_covar`` is scikit-learn's default)."""

PAPER_SNAPSHOTS: tuple[int, ...] = (0, 50, 100, 150, 200, 350, 2000)
"""The generations shown in the paper's Figure 7."""

METRICS: dict[str, str] = {
    "l2_sq": r"squared L2 distance to generation 0, $\int (q_t - q_0)^2$",
    "l2_sq_true": r"squared L2 distance to the original, $\int (q_t - p)^2$",
    "heldout_loglik": "mean log-likelihood of held-out original data",
    "tail_loglik": "mean log-likelihood of held-out original points in the tail region",
    "total_var": "total variance (trace of the covariance)",
    "mean_distance": "distance between the two components' means",
    "min_weight": "weight of the lighter component",
    "tail_mass": "mass on the original's 1% tail region",
    "n_iter": "EM iterations",
}


# ---------------------------------------------------------------------------
# mixtures


@dataclass(frozen=True)
class Mixture:
    """A Gaussian mixture: ``weights`` (K,), ``means`` (K, D), ``covariances`` (K, D, D).

    Light, picklable and independent of scikit-learn. ``n_iter`` and
    ``converged`` record how the EM fit that produced it went (0 and True for
    a mixture that was not fitted).
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    n_iter: int = 0
    converged: bool = True

    def __post_init__(self) -> None:
        w = np.asarray(self.weights, dtype=float)
        m = np.atleast_2d(np.asarray(self.means, dtype=float))
        c = np.asarray(self.covariances, dtype=float)
        k, d = m.shape
        if w.shape != (k,) or c.shape != (k, d, d):
            raise ValueError(
                f"weights (K,), means (K, D) and covariances (K, D, D) must agree, got shapes "
                f"{w.shape}, {m.shape}, {c.shape}"
            )
        if np.any(w < 0) or not np.isclose(w.sum(), 1.0):
            raise ValueError(f"weights must be non-negative and sum to 1, got {w}")
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "means", m)
        object.__setattr__(self, "covariances", c)

    @property
    def n_components(self) -> int:
        return self.weights.shape[0]

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    @property
    def cholesky(self) -> np.ndarray:
        """Lower Cholesky factors of the covariances, (K, D, D)."""
        return np.linalg.cholesky(self.covariances)

    def component_logpdf(self, x: np.ndarray) -> np.ndarray:
        """``log N(x; mean_k, cov_k)`` for every point and component, shape (N, K)."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        precision = np.linalg.inv(self.covariances)
        _, logdet = np.linalg.slogdet(self.covariances)
        out = np.empty((x.shape[0], self.n_components))
        for k in range(self.n_components):
            d = x - self.means[k]
            out[:, k] = -0.5 * np.sum((d @ precision[k]) * d, axis=1)
        out -= 0.5 * (logdet + self.dim * np.log(2 * np.pi))
        return out

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        """Log-density of the mixture at each point of ``x`` (N, D)."""
        with np.errstate(divide="ignore"):
            a = self.component_logpdf(x) + np.log(self.weights)
        top = np.max(a, axis=1, keepdims=True)
        top[~np.isfinite(top)] = 0.0
        with np.errstate(divide="ignore", under="ignore"):
            return (top + np.log(np.sum(np.exp(a - top), axis=1, keepdims=True)))[:, 0]

    def pdf(self, x: np.ndarray) -> np.ndarray:
        """Density of the mixture at each point of ``x`` (N, D)."""
        return np.exp(self.logpdf(x))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Most probable component of each point."""
        with np.errstate(divide="ignore"):
            return np.argmax(self.component_logpdf(x) + np.log(self.weights), axis=1)

    def sample(self, m: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``m`` points (shape (m, D)) with the generator ``rng``, in random order."""
        counts = rng.multinomial(m, self.weights / self.weights.sum())
        comp = np.repeat(np.arange(self.n_components), counts)
        rng.shuffle(comp)
        return self.transform(None, rng.standard_normal((m, self.dim)), comp)

    def transform(self, u: np.ndarray | None, z: np.ndarray, comp: np.ndarray | None = None) -> np.ndarray:
        """Push base noise through the mixture: component from ``u`` (uniforms), point ``mean + L z``.

        ``comp`` (component indices) overrides ``u``. With a fixed ``(u, z)``
        this is a sample whose only randomness is the base noise (common
        random numbers, used by :class:`Measure`).
        """
        if comp is None:
            cdf = np.cumsum(self.weights)
            comp = np.minimum(np.searchsorted(cdf / cdf[-1], u, side="right"), self.n_components - 1)
        chol = self.cholesky
        return self.means[comp] + np.einsum("nij,nj->ni", chol[comp], z)

    def covariance(self) -> np.ndarray:
        """Covariance matrix of the whole mixture (D, D)."""
        mean = self.weights @ self.means
        second = np.einsum("k,kij->ij", self.weights, self.covariances + np.einsum("ki,kj->kij", self.means, self.means))
        return second - np.outer(mean, mean)

    def total_variance(self) -> float:
        """Trace of the mixture's covariance: the summed variance of all coordinates."""
        return float(np.trace(self.covariance()))

    def mean_distance(self) -> float:
        """Distance between the means of the two heaviest components (NaN for one component)."""
        if self.n_components < 2:
            return float("nan")
        a, b = np.argsort(self.weights)[::-1][:2]
        return float(np.linalg.norm(self.means[a] - self.means[b]))


def two_gaussians(separation: float = 5.0, weight: float = 0.5) -> Mixture:
    """The chapter's original distribution: two well-separated 2-D Gaussians.

    Means ``(-separation / 2, 0)`` and ``(separation / 2, 0)``, unit-scale
    covariances tilted in opposite directions (so that the reader can tell
    them apart), weights ``weight`` and ``1 - weight``.
    """
    if not separation > 0:
        raise ValueError(f"separation must be > 0, got {separation!r}")
    if not 0 < weight < 1:
        raise ValueError(f"weight must be in (0, 1), got {weight!r}")
    h = separation / 2
    return Mixture(
        weights=np.array([weight, 1 - weight]),
        means=np.array([[-h, 0.0], [h, 0.0]]),
        covariances=np.array([[[1.0, 0.4], [0.4, 0.8]], [[0.8, -0.3], [-0.3, 1.0]]]),
    )


# ---------------------------------------------------------------------------
# closed-form L2 distance


def gaussian_overlaps(p: Mixture, q: Mixture) -> np.ndarray:
    """``int N(x; a_i, A_i) N(x; b_j, B_j) dx = N(a_i; b_j, A_i + B_j)`` for all pairs, (Kp, Kq)."""
    diff = p.means[:, None, :] - q.means[None, :, :]
    cov = p.covariances[:, None] + q.covariances[None, :]
    sign, logdet = np.linalg.slogdet(cov)
    sol = np.linalg.solve(cov, diff[..., None])[..., 0]
    quad = np.einsum("ijd,ijd->ij", diff, sol)
    return np.exp(-0.5 * quad - 0.5 * logdet - 0.5 * p.dim * np.log(2 * np.pi))


def l2_sq(p: Mixture, q: Mixture) -> float:
    """Squared L2 distance ``int (p(x) - q(x))^2 dx`` between two mixtures, in closed form.

    ``= sum_ij p_i p_j N(a_i; a_j, A_i + A_j) + sum_ij q_i q_j N(b_i; b_j, B_i + B_j)
    - 2 sum_ij p_i q_j N(a_i; b_j, A_i + B_j)``.
    """
    pp = p.weights @ gaussian_overlaps(p, p) @ p.weights
    qq = q.weights @ gaussian_overlaps(q, q) @ q.weights
    pq = p.weights @ gaussian_overlaps(p, q) @ q.weights
    return float(max(pp + qq - 2 * pq, 0.0))


def l2_distance(p: Mixture, q: Mixture) -> float:
    """L2 distance ``sqrt(int (p - q)^2)`` between two mixtures (see :func:`l2_sq`)."""
    return float(np.sqrt(l2_sq(p, q)))


# ---------------------------------------------------------------------------
# fitting


def _check_positive(name: str, value: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number > 0, got {value!r}") from None
    if not v > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return v


class MixtureFitter:
    """The ``fit(data, rng)`` of the generational loop: EM with scikit-learn.

    Parameters
    ----------
    n_components:
        Components of the fitted mixture (2 is the right model here; 1 and 3
        are mis-specified).
    init:
        ``"warm"`` (default): start EM from the previous call's mixture;
        ``"fresh"``: scikit-learn's k-means initialisation every time.
    tol, max_iter, reg_covar, covariance_type:
        Passed to :class:`~sklearn.mixture.GaussianMixture` (defaults:
        :data:`GMM_DEFAULTS`, the authors' settings).

    The fitter is stateful (it remembers the last mixture for warm starts):
    use one per run. ``fresh_fits`` counts the fresh initialisations and
    ``retries`` the fits repeated after a numerical failure.
    """

    def __init__(
        self,
        n_components: int = 2,
        init: str = "warm",
        tol: float = GMM_DEFAULTS["tol"],
        max_iter: int = GMM_DEFAULTS["max_iter"],
        reg_covar: float = GMM_DEFAULTS["reg_covar"],
        covariance_type: str = GMM_DEFAULTS["covariance_type"],
    ) -> None:
        self.n_components = check_count("n_components", n_components, 1)
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        self.init = init
        self.tol = _check_positive("tol", tol)
        self.max_iter = check_count("max_iter", max_iter, 1)
        self.reg_covar = _check_positive("reg_covar", reg_covar)
        if covariance_type != "full":
            raise ValueError(f"covariance_type must be 'full' (the mixtures here keep full covariances), got {covariance_type!r}")
        self.covariance_type = covariance_type
        self.previous: Mixture | None = None
        self.fresh_fits = 0
        self.retries = 0

    def reset(self) -> None:
        """Forget the previous mixture (the next fit starts fresh)."""
        self.previous = None

    def _estimator(self, warm: Mixture | None, reg_covar: float, seed: int):
        from sklearn.mixture import GaussianMixture

        kwargs: dict[str, Any] = dict(
            n_components=self.n_components,
            covariance_type=self.covariance_type,
            tol=self.tol,
            max_iter=self.max_iter,
            reg_covar=reg_covar,
            random_state=seed,
        )
        if warm is not None:
            # the initial responsibilities are overridden by the *_init values:
            # "random" only avoids running k-means for nothing
            kwargs.update(
                init_params="random",
                weights_init=warm.weights / warm.weights.sum(),
                means_init=warm.means,
                precisions_init=np.linalg.inv(warm.covariances),
            )
        return GaussianMixture(**kwargs)

    def __call__(self, data: np.ndarray, rng: np.random.Generator) -> Mixture:
        """Fit a mixture to ``data`` (N, D); the generator seeds scikit-learn's initialisation."""
        from sklearn.exceptions import ConvergenceWarning

        data = np.asarray(data, dtype=float)
        if data.ndim != 2 or data.shape[0] < self.n_components:
            raise ValueError(
                f"data must be (N, D) with N >= n_components = {self.n_components}, got shape {data.shape}"
            )
        seed = int(rng.integers(2**31 - 1))
        warm = self.previous if self.init == "warm" else None
        if warm is not None and np.min(warm.weights) * data.shape[0] < 1.0:
            warm = None  # a component that expects no data: restart rather than keep a dead one
        reg = self.reg_covar
        for attempt in range(6):
            est = self._estimator(warm, reg, seed + attempt)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    est.fit(data)
                covs = est.covariances_
                if np.all(np.isfinite(covs)) and np.all(np.isfinite(est.means_)):
                    break
            except (ValueError, np.linalg.LinAlgError):
                pass
            self.retries += 1
            warm, reg = None, reg * 10  # retry: fresh start, more regularisation
        else:  # pragma: no cover - six numerical failures in a row
            raise RuntimeError("GaussianMixture failed to fit six times in a row")
        if warm is None:
            self.fresh_fits += 1
        w = np.clip(est.weights_, 0.0, None)
        model = Mixture(w / w.sum(), est.means_.copy(), est.covariances_.copy(), int(est.n_iter_), bool(est.converged_))
        self.previous = model
        return model


def fit_mixture(data: np.ndarray, n_components: int = 2, seed: int = 0, **kwargs: Any) -> Mixture:
    """Fit one mixture to ``data`` (fresh initialisation; ``kwargs`` go to :class:`MixtureFitter`)."""
    return MixtureFitter(n_components, init="fresh", **kwargs)(data, np.random.default_rng(seed))


# ---------------------------------------------------------------------------
# measures


def tail_level(original: Mixture, alpha: float = 0.01, n_mc: int = 400_000, seed: int = 0) -> float:
    """The density level ``lambda`` with ``P_p(p(X) < lambda) = alpha``: the original's tail region.

    Estimated as the ``alpha``-quantile of ``log p(X)`` over ``n_mc`` samples
    of ``p``; returns ``log lambda``.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"tail_alpha must be in (0, 1), got {alpha!r}")
    x = original.sample(n_mc, np.random.default_rng(seed))
    return float(np.quantile(original.logpdf(x), alpha))


class Measure:
    """The ``measure(model, generation)`` of the generational loop (see the module docstring).

    Parameters
    ----------
    original:
        The true original distribution ``p``.
    n_heldout:
        Size of the fixed held-out sample of ``p`` for the log-likelihood, and
        of the held-out sample of ``p``'s tail region.
    tail_alpha:
        Mass of ``p`` in its tail region (the region where ``p`` is lowest).
    n_tail:
        Size of the fixed base sample that estimates the tail mass (rounded
        up to a power of 2, as a Sobol sequence wants).
    seed:
        Seed of the held-out and base samples (the same for every run, so
        that runs differ only by their own randomness).
    """

    def __init__(
        self,
        original: Mixture,
        n_heldout: int = 2000,
        tail_alpha: float = 0.01,
        n_tail: int = 8192,
        seed: int = 12345,
    ) -> None:
        self.original = original
        self.tail_alpha = float(tail_alpha)
        self.log_level = tail_level(original, tail_alpha, seed=seed)
        rng = np.random.default_rng(seed + 1)
        self.heldout = original.sample(check_count("n_heldout", n_heldout, 1), rng)
        self.heldout_tail = self._tail_sample(n_heldout, rng)
        n_tail = check_count("n_tail", n_tail, 1)
        from scipy.special import ndtri
        from scipy.stats import qmc

        base = qmc.Sobol(original.dim + 1, scramble=True, seed=seed + 2).random_base2(int(np.ceil(np.log2(n_tail))))
        self.u = base[:, 0]
        self.z = ndtri(np.clip(base[:, 1:], 1e-12, 1 - 1e-12))
        self.reference: Mixture | None = None

    def _tail_sample(self, m: int, rng: np.random.Generator) -> np.ndarray:
        """``m`` points of ``p`` restricted to the tail region (rejection sampling)."""
        chunks, have = [], 0
        while have < m:
            x = self.original.sample(max(20 * m, int(2 * m / self.tail_alpha)), rng)
            x = x[self.original.logpdf(x) < self.log_level]
            chunks.append(x)
            have += len(x)
        return np.concatenate(chunks)[:m]

    def tail_mass(self, model: Mixture) -> float:
        """Mass that ``model`` puts on the original's tail region (quasi-Monte Carlo, common random numbers)."""
        x = model.transform(self.u, self.z)
        return float(np.mean(self.original.logpdf(x) < self.log_level))

    def __call__(self, model: Mixture, generation: int) -> dict[str, Any]:
        if generation == 0 or self.reference is None:
            self.reference = model
        w = np.sort(model.weights)[::-1]
        return {
            "l2_sq": l2_sq(model, self.reference),
            "l2_sq_true": l2_sq(model, self.original),
            "heldout_loglik": float(np.mean(model.logpdf(self.heldout))),
            "tail_loglik": float(np.mean(model.logpdf(self.heldout_tail))),
            "total_var": model.total_variance(),
            "mean_distance": model.mean_distance(),
            "min_weight": float(w[-1]) if w.size > 1 else float("nan"),
            "weights": w,
            "tail_mass": self.tail_mass(model),
            "n_iter": model.n_iter,
            "converged": model.converged,
        }


# ---------------------------------------------------------------------------
# simulation


@dataclass
class GMMRuns:
    """Per-generation measures of many runs.

    ``metrics[name]`` has shape ``(generations + 1, runs)`` (``weights``:
    ``(generations + 1, runs, n_components)``; ``n_original`` and
    ``n_synthetic`` give each training set's composition). ``snapshots[r]``
    maps a generation to run ``r``'s mixture at that generation.
    """

    n: int
    generations: int
    runs: int
    n_components: int
    approach: int
    retention: float
    init: str
    seed: int | None
    original: Mixture
    metrics: dict[str, np.ndarray]
    snapshots: list[dict[int, Mixture]] = field(repr=False)
    seconds: float = 0.0
    tail_alpha: float = 0.01

    @property
    def generation(self) -> np.ndarray:
        return np.arange(self.generations + 1)

    def quantiles(self, name: str, q: Sequence[float] = (0.1, 0.5, 0.9)) -> np.ndarray:
        """Quantiles over runs of a metric, shape ``(len(q), generations + 1)`` (NaNs ignored)."""
        return np.nanquantile(self.metrics[name], q, axis=1)

    def median(self, name: str) -> np.ndarray:
        return np.nanmedian(self.metrics[name], axis=1)

    def describe(self) -> str:
        """One line that says what ran (for figure titles and printouts)."""
        k = self.n_components
        return (
            f"{self.runs} runs x {self.generations} generations, n = {self.n}, {k} component{'s' * (k != 1)}, "
            f"approach {self.approach}" + (f", retention {self.retention:g}" if self.retention else "")
        )


def _validate(n, generations, runs, n_components, approach, retention, init, snapshots) -> tuple:
    n_components = check_count("n_components", n_components, 1)
    n = check_count("n", n, max(2, n_components))
    generations = check_count("generations", generations, 0)
    runs = check_count("runs", runs, 1)
    approach = check_approach(approach)
    retention = check_retention(retention)
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    snaps = sorted({check_count("snapshots", s, 0) for s in snapshots})
    if snaps and snaps[-1] > generations:
        raise ValueError(f"snapshots must lie in [0, generations = {generations}], got {snaps[-1]}")
    return n, generations, runs, n_components, approach, retention, init, snaps


def simulate_run(
    n: int = 1000,
    generations: int = 2000,
    n_components: int = 2,
    approach: int = 1,
    retention: float = 0.0,
    seed: int | np.random.SeedSequence | None = 0,
    init: str = "warm",
    snapshots: Iterable[int] = (),
    original: Mixture | None = None,
    measure: Measure | None = None,
    progress: bool | str = False,
    **fit_kwargs: Any,
) -> tuple[dict[str, np.ndarray], dict[int, Mixture]]:
    """One run of the recursion through :func:`~collapse_utils.schedules.run_generations`.

    The original data are ``n`` samples of ``original`` (default
    :func:`two_gaussians`) drawn with the run's generator; retained original
    points are a random subset of them (the schedule's default).

    Returns ``(metrics, snapshots)``: arrays over generations ``0..generations``
    and the mixtures at the ``snapshots`` generations.
    """
    n, generations, _, n_components, approach, retention, init, snaps = _validate(
        n, generations, 1, n_components, approach, retention, init, snapshots
    )
    original = two_gaussians() if original is None else original
    measure = Measure(original) if measure is None else measure
    measure.reference = None
    rng = np.random.default_rng(seed)
    data0 = original.sample(n, rng)
    fitter = MixtureFitter(n_components, init=init, **fit_kwargs)
    records = run_generations(
        fitter,
        lambda model, m, r: model.sample(m, r),
        data0,
        generations,
        approach=approach,
        retention=retention,
        seed=rng,
        measure=measure,
        keep_models=snaps,
        progress=progress,
    )
    keys = [k for k in records[0].metrics]
    metrics = {k: np.array([r.metrics[k] for r in records]) for k in keys}
    metrics["n_original"] = np.array([r.composition["original"] for r in records])
    metrics["n_synthetic"] = np.array([r.composition["synthetic"] for r in records])
    metrics["fresh_fits"] = np.array(fitter.fresh_fits)
    return metrics, {r.generation: r.model for r in records if r.model is not None}


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
    n_jobs: int = 1,
    progress: bool | str = False,
    tail_alpha: float = 0.01,
    **fit_kwargs: Any,
) -> GMMRuns:
    """Simulate ``runs`` independent runs of the recursion (in parallel with ``n_jobs``).

    Parameters
    ----------
    n:
        Samples per generation (``>= max(2, n_components)``); the paper uses 1000.
    generations:
        Generations after generation 0 (the paper runs about 2000).
    runs:
        Independent runs. Run ``r`` is seeded with the ``r``-th child of
        ``np.random.SeedSequence(seed)``, so results do not depend on ``n_jobs``.
    n_components:
        Components of the fitted mixtures (2 is the right model; 1 and 3 are
        mis-specified).
    approach, retention:
        The data schedule (:mod:`collapse_utils.schedules`).
    init:
        ``"warm"`` or ``"fresh"`` EM initialisation, see :class:`MixtureFitter`.
    snapshots:
        Generations whose mixtures are kept (for every run).
    original:
        The original distribution (default :func:`two_gaussians`).
    n_jobs:
        Parallel workers (joblib); 1 runs in this process.
    progress:
        Show a ``tqdm.auto`` progress bar over runs (a string is its description).
    tail_alpha:
        Mass of the original's tail region, see :class:`Measure`.
    fit_kwargs:
        ``tol``, ``max_iter``, ``reg_covar`` for scikit-learn.

    Raises
    ------
    ValueError
        On invalid input, naming the parameter and its accepted range, before
        anything runs.
    """
    n, generations, runs, n_components, approach, retention, init, snaps = _validate(
        n, generations, runs, n_components, approach, retention, init, snapshots
    )
    n_jobs = check_count("n_jobs", n_jobs, 1)
    MixtureFitter(n_components, init=init, **fit_kwargs)  # validates the fit settings now
    original = two_gaussians() if original is None else original
    measure = Measure(original, tail_alpha=tail_alpha)
    children = np.random.SeedSequence(seed).spawn(runs)
    kw = dict(n=n, generations=generations, n_components=n_components, approach=approach, retention=retention,
              init=init, snapshots=snaps, original=original, measure=measure, **fit_kwargs)
    start = time.perf_counter()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=runs, desc=progress if isinstance(progress, str) else "runs", leave=False)
    if n_jobs == 1 or runs == 1:
        results = []
        for child in children:
            results.append(simulate_run(seed=child, **kw))
            if bar is not None:
                bar.update()
    else:
        from joblib import Parallel, delayed

        results = []
        jobs = Parallel(n_jobs=min(n_jobs, runs), return_as="generator")(
            delayed(simulate_run)(seed=child, **kw) for child in children
        )
        for res in jobs:
            results.append(res)
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.close()
    seconds = time.perf_counter() - start
    metrics = {k: np.stack([m[k] for m, _ in results], axis=1) for k in results[0][0] if k != "fresh_fits"}
    metrics["fresh_fits"] = np.array([m["fresh_fits"] for m, _ in results])
    return GMMRuns(
        n=n, generations=generations, runs=runs, n_components=n_components, approach=approach,
        retention=retention, init=init, seed=seed, original=original, metrics=metrics,
        snapshots=[s for _, s in results], seconds=seconds, tail_alpha=tail_alpha,
    )


# ---------------------------------------------------------------------------
# theory: the weights as a two-category Wright-Fisher chain


def wright_fisher_absorption_cdf(n: int, p: float, generations: int) -> np.ndarray:
    """P(one of two categories has been lost by generation t), t = 0..generations, exactly.

    The two-category chain of chapter 1: the count of the first category in
    each generation's ``n`` draws is ``Binomial(n, count / n)`` of the
    previous one. Generation 0's count is ``Binomial(n, p)`` (the original
    data are a draw from the original weights). Computed by propagating the
    distribution of the count through the ``(n + 1) x (n + 1)`` transition
    matrix; cost ``O(generations * n^2)``.
    """
    from scipy import stats

    n = check_count("n", n, 1)
    generations = check_count("generations", generations, 0)
    if not 0 <= p <= 1:
        raise ValueError(f"p must be in [0, 1], got {p!r}")
    counts = np.arange(n + 1)
    transition = stats.binom.pmf(counts[None, :], n, counts[:, None] / n)  # row: from, column: to
    dist = stats.binom.pmf(counts, n, p)
    out = np.empty(generations + 1)
    for t in range(generations + 1):
        out[t] = dist[0] + dist[-1]
        dist = dist @ transition
    return out


# ---------------------------------------------------------------------------
# plotting helpers (the figures of chapter 2 and its slider)


def density_grid(model: Mixture, xlim: tuple[float, float], ylim: tuple[float, float], points: int = 150):
    """``(X, Y, density)`` of a 2-D mixture on a grid, for contour plots."""
    if model.dim != 2:
        raise ValueError(f"density_grid needs a 2-D mixture, got dimension {model.dim}")
    xs, ys = np.linspace(*xlim, points), np.linspace(*ylim, points)
    X, Y = np.meshgrid(xs, ys)
    Z = model.pdf(np.column_stack([X.ravel(), Y.ravel()])).reshape(X.shape)
    return X, Y, Z


DEFAULT_LIMITS = ((-6.5, 6.5), (-4.5, 4.5))


def plot_mixture(
    model: Mixture,
    ax=None,
    n_samples: int = 1000,
    seed: int = 0,
    original: Mixture | None = None,
    limits: tuple[tuple[float, float], tuple[float, float]] = DEFAULT_LIMITS,
    levels: Sequence[float] | None = (0.005, 0.02, 0.05, 0.1, 0.2),
    point_size: float = 4.0,
):
    """Samples of a 2-D mixture (coloured by component) with its density contours.

    ``original`` adds the original density's contours (dashed grey) for
    comparison. ``levels`` are absolute density levels (the same in every
    panel); ``None`` picks levels relative to the highest density in view.
    Returns the axis.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3))
    (x0, x1), (y0, y1) = limits
    X, Y, Z = density_grid(model, (x0, x1), (y0, y1))
    levels = list(levels) if levels is not None else list(Z.max() * np.array([0.05, 0.2, 0.5, 0.8]))
    if original is not None:
        ax.contour(*density_grid(original, (x0, x1), (y0, y1)), levels=levels, colors="0.55",
                   linestyles="--", linewidths=0.8)
    if n_samples:
        x = model.sample(n_samples, np.random.default_rng(seed))
        ax.scatter(x[:, 0], x[:, 1], c=model.predict(x), cmap="viridis", vmin=0, vmax=max(model.n_components - 1, 1),
                   s=point_size, alpha=0.6, lw=0)
    ax.contour(X, Y, Z, levels=levels, cmap="plasma", linewidths=1.0)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    return ax


def zoom_limits(model: Mixture, scale: float = 4.0, min_weight: float = 0.01) -> tuple[tuple[float, float], tuple[float, float]]:
    """Square limits that hold every component of weight ``>= min_weight``, ``scale`` standard deviations wide."""
    keep = model.weights >= min(min_weight, model.weights.max())
    sd = np.sqrt(np.linalg.eigvalsh(model.covariances[keep]).max(axis=1))
    lo = (model.means[keep] - scale * sd[:, None]).min(axis=0)
    hi = (model.means[keep] + scale * sd[:, None]).max(axis=0)
    center, half = (lo + hi) / 2, (hi - lo).max() / 2
    return (center[0] - half, center[0] + half), (center[1] - half, center[1] + half)


def plot_final_generation(
    n: int = 1000,
    generations: int = 200,
    retention: float = 0.0,
    approach: int = 1,
    n_components: int = 2,
    seed: int = 0,
    ax=None,
    title: bool = True,
) -> Mixture:
    """Run one recursion and draw its last generation's samples and density over the original's contours.

    The function behind chapter 2's slider (samples per generation,
    generations, retention). Returns the last generation's mixture.
    """
    metrics, snaps = simulate_run(n=n, generations=generations, n_components=n_components, approach=approach,
                                  retention=retention, seed=seed, snapshots=[generations])
    model = snaps[generations]
    ax = plot_mixture(model, ax=ax, n_samples=min(n, 2000), seed=seed, original=two_gaussians())
    if title:
        ax.set_title(
            f"generation {generations} (n = {n}, approach {approach}, retention {retention:g})\n"
            f"total variance {metrics['total_var'][-1]:.2f} (gen 0: {metrics['total_var'][0]:.2f}), "
            f"$L_2^2$ to gen 0: {metrics['l2_sq'][-1]:.3f}",
            fontsize=8,
        )
    return model


def plot_band(ax, generation: np.ndarray, values: np.ndarray, color: str = "C0", label: str | None = None,
              q: tuple[float, float] = (0.1, 0.9), lines: int = 0) -> None:
    """Median over runs (axis 1) with a quantile band and optionally a few single runs."""
    lo, med, hi = np.nanquantile(values, [q[0], 0.5, q[1]], axis=1)
    for j in range(min(lines, values.shape[1])):
        ax.plot(generation, values[:, j], color=color, lw=0.4, alpha=0.35)
    ax.fill_between(generation, lo, hi, color=color, alpha=0.2, lw=0)
    ax.plot(generation, med, color=color, lw=1.8, label=label)


__all__ = [
    "APPROACHES", "GMM_DEFAULTS", "INITS", "METRICS", "PAPER_SNAPSHOTS", "GMMRuns", "Measure", "Mixture",
    "MixtureFitter", "density_grid", "first_below", "fit_mixture", "gaussian_overlaps", "l2_distance", "l2_sq",
    "plot_band", "plot_final_generation", "plot_mixture", "simulate", "simulate_run", "tail_level", "two_gaussians",
    "wright_fisher_absorption_cdf", "zoom_limits",
]
