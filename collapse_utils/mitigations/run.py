"""Run every strategy for one family and return its :class:`.results.FamilyResult`.

* :func:`run_gaussian`: chapter 1's :func:`collapse_utils.gaussian.simulate`, by the
  exact method (sufficient statistics) for replace, accumulate and fresh real data,
  by the sample method for accumulate-subsample and fixed real data, and through
  :func:`.loop.recursion` for select (a verifier needs the points);
* :func:`run_mixture` and :func:`run_vae`: :func:`.loop.recursion` with chapter 2's and
  chapter 3's pieces (:mod:`.families`);
* :func:`run_llm` (in :mod:`.llm`): chapter 4's experiment.

Every function checks its arguments before any work.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import validate
from .families import GaussianFamily, MixtureFamily, VAEFamily
from .loop import recursion
from .results import FamilyResult
from .strategies import SHARED, Strategy, check_share, check_shares, lanes


def child_seed(seed: int, s: Strategy) -> int:
    """A seed for one strategy's simulation, from the book's seed and the strategy (independent streams)."""
    return int(np.random.SeedSequence([validate.integer("seed", seed, 0), s.seed_key()]).generate_state(1)[0])


def _check_common(generations, runs, shares, compare_share, seed):
    generations = validate.integer("generations", generations, 1)
    runs = validate.integer("runs", runs, 1)
    shares = check_shares(shares)
    compare_share = check_share(compare_share, "compare_share")
    if compare_share not in shares or compare_share == 0:
        raise ValueError(f"compare_share must be a nonzero share of the grid {shares}, got {compare_share!r}")
    seed = validate.integer("seed", seed, 0)
    return generations, runs, shares, compare_share, seed


def run_gaussian(
    n: int,
    generations: int,
    runs: int,
    sample_runs: int,
    shares,
    compare_share: float,
    seed: int = 0,
) -> FamilyResult:
    """Chapter 1's Gaussian under every strategy: the squared Wasserstein-2 distance to the truth N(0, 1).

    ``runs`` runs for the strategies the exact method covers (replace,
    accumulate, fresh real data), ``sample_runs`` for those that need the points
    (accumulate-subsample, fixed real data, select). ``extra`` holds what the
    theory needs: ``n``, every strategy's mean and standard error over runs of
    the squared error of the fitted mean, the median fitted standard deviation
    under replace, and the generation at which chapter 1's exact drift halves it.
    """
    from .. import gaussian

    n = validate.integer("n", n, 2)
    generations, runs, shares, compare_share, seed = _check_common(generations, runs, shares, compare_share, seed)
    sample_runs = validate.integer("sample_runs", sample_runs, 1)
    distances: dict[Strategy, np.ndarray] = {}
    mean_sq: dict[Strategy, tuple[np.ndarray, np.ndarray]] = {}
    median_sigma = None
    select = None
    for s in lanes(shares, compare_share):
        if s.name == "select":
            select = s
            continue
        exact = s.name in ("replace", "accumulate", "fresh")
        run = gaussian.simulate(
            n, generations, runs if exact else sample_runs, approach=s.approach, retention=s.retention,
            retained=s.retained, seed=child_seed(seed, s), method="exact" if exact else "sample",
        )  # fmt: skip
        distances[s] = gaussian.wasserstein2_sq(run.mean, run.var).T
        sq = run.mean**2
        mean_sq[s] = (sq.mean(axis=1), sq.std(axis=1, ddof=1) / np.sqrt(run.runs))
        if s.name == "replace":
            median_sigma = np.median(run.std, axis=1)
    distances[select] = recursion(GaussianFamily(n), [select], sample_runs, generations, child_seed(seed, select))[select]
    drift = gaussian.log_var_drift(n)  # E[log var] falls by this much per fit; the median sigma halves at 2 ln 2 fits
    extra: dict[str, Any] = {
        "n": n,
        "mean_sq": mean_sq,
        "median_sigma": median_sigma,
        "half_sigma_theory": 2.0 * np.log(0.5) / drift - 1.0,
        "runs": runs,
        "sample_runs": sample_runs,
    }
    scale = (
        f"n = {n} points a generation, {generations} generations; {runs} runs of replace, accumulate and fresh real "
        f"data (exact method), {sample_runs} of the others (sample method)"
    )
    return FamilyResult("gaussian", "squared Wasserstein-2 distance to the truth", distances, shares, compare_share,
                        scale, extra)  # fmt: skip


def run_mixture(
    n: int,
    generations: int,
    runs: int,
    shares,
    compare_share: float,
    seed: int = 0,
    n_components: int = 2,
    progress: bool | str = False,
) -> FamilyResult:
    """Chapter 2's Gaussian mixture under every strategy: the squared L2 distance to the true density."""
    family = MixtureFamily(n, n_components)
    generations, runs, shares, compare_share, seed = _check_common(generations, runs, shares, compare_share, seed)
    distances = recursion(family, lanes(shares, compare_share), runs, generations, seed, progress=progress)
    scale = f"n = {family.n} points a generation, {generations} generations, {runs} runs, batched EM (warm start)"
    return FamilyResult("gmm", "squared L2 distance to the true density", distances, shares, compare_share, scale)


def run_vae(
    pool: np.ndarray,
    n: int,
    generations: int,
    runs: int,
    shares,
    compare_share: float,
    config: Any,
    meter: Any,
    n_eval: int = 500,
    seed: int = 0,
    progress: bool | str = False,
) -> FamilyResult:
    """Chapter 3's VAE under every strategy: the Fréchet distance to real held-out images (classifier features).

    ``pool`` holds the real training images (each run's original sample is
    ``n`` of them; fresh real images are new draws from the pool), ``meter`` a
    :class:`collapse_utils.vae.GenerationMeter` on held-out real images.
    """
    generations, runs, shares, compare_share, seed = _check_common(generations, runs, shares, compare_share, seed)
    family = VAEFamily(n, pool, config, meter, n_eval=n_eval, seed=seed)
    distances = recursion(family, lanes(shares, compare_share), runs, generations, seed, progress=progress)
    scale = (
        f"n = {family.n} images a generation from a pool of {len(family.pool)} real images, {generations} "
        f"generations, {runs} runs, {config.epochs} epochs per VAE"
    )
    return FamilyResult("vae", "Fréchet distance to real images", distances, shares, compare_share, scale)


__all__ = ["SHARED", "child_seed", "run_gaussian", "run_mixture", "run_vae"]
