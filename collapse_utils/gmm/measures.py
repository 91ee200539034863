"""What chapter 2 measures about every generation's mixtures, for all runs at once."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import validate
from .mixture import LOG_2PI, Mixture, MixtureBatch, l2_sq

METRICS: dict[str, str] = {
    "l2_sq": r"squared L2 distance to generation 0, $\int (q_t - q_0)^2$",
    "l2_sq_true": r"squared L2 distance to the original, $\int (q_t - p)^2$",
    "heldout_loglik": "mean log-likelihood of held-out original data",
    "tail_loglik": "mean log-likelihood of held-out original points in the tail region",
    "total_var": "total variance (trace of the covariance)",
    "mean_distance": "distance between the two components' means",
    "valley": "lowest density between the two heaviest components' means, relative to the lower of their "
    "densities (1: one mode, near 0: two separated clusters)",
    "min_weight": "weight of the lightest component",
    "tail_mass": "mass on the original's 1% tail region",
    "n_iter": "EM iterations",
}


def tail_level(original: Mixture, alpha: float = 0.01, n_mc: int = 400_000, seed: int = 0) -> float:
    """The density level ``lambda`` with ``P_p(p(X) < lambda) = alpha``: the original's tail region.

    Estimated as the ``alpha``-quantile of ``log p(X)`` over ``n_mc`` samples
    of ``p``; returns ``log lambda``.
    """
    alpha = validate.real("tail_alpha", alpha, 0.0, 1.0, low_open=True, high_open=True)
    n_mc = validate.integer("n_mc", n_mc, 1)
    x = original.sample(n_mc, np.random.default_rng(validate.integer("seed", seed, 0)))
    return float(np.quantile(original.logpdf(x), alpha))


class Measure:
    """The measures of every generation's mixtures, one value per run (see the package docstring).

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

    Calling it with generation 0's mixtures makes them the reference of
    ``l2_sq`` (the distance to generation 0) for the later calls.
    """

    def __init__(
        self,
        original: Mixture,
        n_heldout: int = 2000,
        tail_alpha: float = 0.01,
        n_tail: int = 8192,
        seed: int = 12345,
    ) -> None:
        if not isinstance(original, Mixture):
            raise ValueError(f"original must be a gmm.Mixture, got {type(original).__name__}")
        self.original = original
        self.tail_alpha = validate.real("tail_alpha", tail_alpha, 0.0, 1.0, low_open=True, high_open=True)
        n_heldout = validate.integer("n_heldout", n_heldout, 1)
        n_tail = validate.integer("n_tail", n_tail, 1)
        seed = validate.integer("seed", seed, 0)
        self.log_level = tail_level(original, self.tail_alpha, seed=seed)
        rng = np.random.default_rng(seed + 1)
        self.heldout = original.sample(n_heldout, rng)
        self.heldout_tail = self._tail_sample(n_heldout, rng)
        #: the true density's own mean log-likelihood of the held-out sample (what a perfect model scores)
        self.true_heldout_loglik = float(original.logpdf(self.heldout).mean())
        from scipy.special import ndtri
        from scipy.stats import qmc

        base = qmc.Sobol(original.dim + 1, scramble=True, seed=seed + 2).random_base2(
            int(np.ceil(np.log2(n_tail)))
        )
        self.u = base[:, 0]
        self.z = ndtri(np.clip(base[:, 1:], 1e-12, 1 - 1e-12))
        self.reference: MixtureBatch | None = None
        # the original's density term by term, for the tail test of 2-D points (see _in_tail)
        cov = original.covariances
        self._precision = np.linalg.inv(cov)
        self._log_const = (
            np.log(original.weights) - 0.5 * np.linalg.slogdet(cov)[1] - 0.5 * original.dim * LOG_2PI
        )

    def _tail_sample(self, m: int, rng: np.random.Generator) -> np.ndarray:
        """``m`` points of ``p`` restricted to the tail region (rejection sampling)."""
        chunks, have = [], 0
        while have < m:
            x = self.original.sample(max(20 * m, int(2 * m / self.tail_alpha)), rng)
            x = x[self.original.logpdf(x) < self.log_level]
            chunks.append(x)
            have += len(x)
        return np.concatenate(chunks)[:m]

    def tail_mass(self, models: Mixture | MixtureBatch, max_points: int = 2**21) -> float | np.ndarray:
        """Mass that each model puts on the original's tail region (quasi-Monte Carlo, common random numbers).

        Runs are processed in chunks of at most ``max_points`` base points in all, to bound memory.
        """
        batch = models.batch() if isinstance(models, Mixture) else models
        step = max(1, max_points // len(self.u))
        out = np.empty(batch.runs)
        for lo in range(0, batch.runs, step):
            part = MixtureBatch(
                batch.weights[lo : lo + step],
                batch.means[lo : lo + step],
                batch.covariances[lo : lo + step],
                batch.n_iter[lo : lo + step],
                batch.converged[lo : lo + step],
            )
            out[lo : lo + step] = self._in_tail(part.transform(self.u, self.z)).mean(axis=1)
        return float(out[0]) if isinstance(models, Mixture) else out

    def _in_tail(self, x: np.ndarray) -> np.ndarray:
        """Whether each point of ``x`` (r, M, D) lies in the tail region ``p(x) < lambda``: (r, M).

        For 2-D points the density is summed component by component in closed
        form, ``sum_j exp(c_j - q_j(x) / 2)`` with ``q_j`` the quadratic form of
        component ``j``'s precision, and compared with ``lambda`` itself: the same
        test as ``logpdf(x) < log lambda`` (to rounding), four times faster, as
        it needs no features, no log-sum-exp and no log.
        """
        if x.shape[-1] != 2:
            return self.original.logpdf(x.reshape(-1, x.shape[-1])).reshape(x.shape[:2]) < self.log_level
        x0, x1 = x[..., 0], x[..., 1]
        density = np.zeros(x.shape[:-1])
        for mean, prec, const in zip(self.original.means, self._precision, self._log_const):
            dx, dy = x0 - mean[0], x1 - mean[1]
            q = prec[0, 0] * dx * dx
            q += (2 * prec[0, 1]) * dx * dy
            q += prec[1, 1] * dy * dy
            q *= -0.5
            q += const
            density += np.exp(q, out=q)
        return density < np.exp(self.log_level)

    def __call__(self, models: Mixture | MixtureBatch, generation: int) -> dict[str, Any]:
        """Every measure of a generation's mixtures: arrays (R,) (``weights``: (R, K), largest first)."""
        single = isinstance(models, Mixture)
        batch = models.batch() if single else models
        if generation == 0 or self.reference is None:
            self.reference = batch
        w = -np.sort(-batch.weights, axis=1)
        out = {
            "l2_sq": l2_sq(batch, self.reference),
            "l2_sq_true": l2_sq(batch, self.original),
            "heldout_loglik": batch.logpdf(self.heldout).mean(axis=1),
            "tail_loglik": batch.logpdf(self.heldout_tail).mean(axis=1),
            "total_var": batch.total_variance(),
            "mean_distance": batch.mean_distance(),
            "valley": batch.valley(),
            "min_weight": w[:, -1] if w.shape[1] > 1 else np.full(batch.runs, np.nan),
            "weights": w,
            "tail_mass": self.tail_mass(batch),
            "n_iter": np.asarray(batch.n_iter),
            "converged": np.asarray(batch.converged),
        }
        if single:
            return {k: (v[0] if k == "weights" else v[0].item()) for k, v in out.items()}
        return out
