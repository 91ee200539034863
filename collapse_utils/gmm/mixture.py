"""Gaussian mixtures: one (:class:`Mixture`) or one per run (:class:`MixtureBatch`); the L2 distance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .. import validate

LOG_2PI = float(np.log(2 * np.pi))


def cholesky(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower Cholesky factors of a stack of symmetric matrices ``(..., D, D)``, and which succeeded.

    Unlike :func:`numpy.linalg.cholesky`, a matrix that is not positive
    definite does not stop the whole stack: its factor is filled with a
    placeholder (the identity's) and ``ok`` is ``False`` for it.
    """
    a = np.asarray(a, dtype=float)
    d = a.shape[-1]
    L = np.zeros_like(a)
    if d == 2:  # closed form: the chapter's case, called at every EM iteration
        ok = a[..., 0, 0] > 0
        l00 = np.sqrt(np.where(ok, a[..., 0, 0], 1.0))
        l10 = a[..., 1, 0] / l00
        s = a[..., 1, 1] - l10 * l10
        ok &= s > 0
        L[..., 0, 0], L[..., 1, 0], L[..., 1, 1] = l00, l10, np.sqrt(np.where(s > 0, s, 1.0))
        if not ok.all():
            L[~ok] = np.eye(2)
        return L, ok
    ok = np.ones(a.shape[:-2], dtype=bool)
    for j in range(d):
        s = a[..., j, j] - np.sum(L[..., j, :j] ** 2, axis=-1)
        good = s > 0
        ok &= good
        diag = np.sqrt(np.where(good, s, 1.0))
        L[..., j, j] = diag
        for i in range(j + 1, d):
            L[..., i, j] = (a[..., i, j] - np.sum(L[..., i, :j] * L[..., j, :j], axis=-1)) / diag
    bad = ~ok
    if bad.any():
        L[bad] = np.eye(d)
    return L, ok


def select(mask: np.ndarray, new: np.ndarray, out: np.ndarray) -> None:
    """``out[mask] = new[mask]`` in place (``mask`` broadcasts to ``out``), exactly, without branches.

    Works on the float64 bit patterns: ``out ^= (out ^ new) & -mask``. Where
    ``mask`` is random, as for a mixture's component labels, this is about
    five times faster than :func:`numpy.where` or :func:`numpy.copyto`, whose
    per-element branch the processor keeps mispredicting.
    """
    bits = out.view(np.int64)
    flip = np.bitwise_xor(bits, new.view(np.int64))
    flip &= np.negative(mask, dtype=np.int64)  # all ones where mask is True
    bits ^= flip


def base_noise(runs: int, m: int, dim: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The random numbers of :meth:`MixtureBatch.sample`, in its order: uniforms (runs, m), then standard
    normals (runs, m, dim).

    They do not depend on the mixture, so a recursion can draw the next
    generation's noise while it fits the current one.
    """
    return rng.random((runs, m)), rng.standard_normal((runs, m, dim))


def features(Xt: np.ndarray) -> np.ndarray:
    """The sufficient statistics of every point, ``[1, x_i, x_i x_j (i <= j)]``: (R, C, N) from (R, D, N).

    With them both EM steps are one batched matrix product: the E-step's
    quadratic forms and the M-step's weighted sums.
    """
    R, d, N = Xt.shape
    rows = [np.ones((R, N)), *(Xt[:, i] for i in range(d))]
    rows += [Xt[:, i] * Xt[:, j] for i in range(d) for j in range(i, d)]
    return np.stack(rows, axis=1)


def _pairs(d: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(d) for j in range(i, d)]


def _dim(c: int) -> int:
    d = 0
    while 1 + d + d * (d + 1) // 2 < c:
        d += 1
    return d


def log_prob_coefficients(weights: np.ndarray, means: np.ndarray, prec_chol: np.ndarray) -> np.ndarray:
    """Coefficients (R, K, C) such that ``coef @ features(x)`` is ``log(w_k N(x; mean_k, cov_k))``."""
    R, K, d = means.shape
    prec = np.matmul(prec_chol, np.swapaxes(prec_chol, -1, -2))  # the precision matrices
    pm = np.matmul(prec, means[..., None])[..., 0]
    log_det = np.sum(np.log(np.diagonal(prec_chol, 0, -2, -1)), axis=-1)
    coef = np.empty((R, K, 1 + d + d * (d + 1) // 2))
    with np.errstate(divide="ignore"):
        coef[:, :, 0] = -0.5 * np.sum(pm * means, axis=-1) + log_det + np.log(weights) - 0.5 * d * LOG_2PI
    coef[:, :, 1 : 1 + d] = pm
    for c, (i, j) in enumerate(_pairs(d)):
        coef[:, :, 1 + d + c] = -0.5 * prec[:, :, i, i] if i == j else -prec[:, :, i, j]
    return coef


@dataclass(frozen=True)
class Mixture:
    """A Gaussian mixture: ``weights`` (K,), ``means`` (K, D), ``covariances`` (K, D, D).

    Light, picklable and independent of scikit-learn. ``n_iter`` and
    ``converged`` record how the EM fit that produced it went (0 and True for
    a mixture that was not fitted).

    Raises
    ------
    ValueError
        If the shapes disagree, the weights are negative or do not sum to 1, or
        a covariance is not symmetric positive definite.
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
        if not np.all(np.isfinite(w)) or np.any(w < 0) or not np.isclose(w.sum(), 1.0):
            raise ValueError(f"weights must be non-negative and sum to 1, got {w}")
        if not (np.all(np.isfinite(m)) and np.all(np.isfinite(c))):
            raise ValueError("means and covariances must be finite")
        if not np.allclose(c, np.swapaxes(c, -1, -2), rtol=1e-10, atol=1e-12):
            raise ValueError(
                "covariances must be symmetric positive definite matrices, got a non-symmetric one"
            )
        _, ok = cholesky(c)
        if not ok.all():
            raise ValueError(
                f"covariances must be symmetric positive definite matrices; component(s) "
                f"{np.flatnonzero(~ok).tolist()} are not"
            )
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

    def batch(self) -> "MixtureBatch":
        """This mixture as a batch of one run."""
        return MixtureBatch(
            self.weights[None],
            self.means[None],
            self.covariances[None],
            np.array([self.n_iter]),
            np.array([self.converged]),
        )

    def component_logpdf(self, x: np.ndarray) -> np.ndarray:
        """``log N(x; mean_k, cov_k)`` for every point and component, shape (N, K)."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        return self.batch().component_logpdf(x[None])[0].T

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        """Log-density of the mixture at each point of ``x`` (N, D)."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        return self.batch().logpdf(x[None])[0]

    def pdf(self, x: np.ndarray) -> np.ndarray:
        """Density of the mixture at each point of ``x`` (N, D)."""
        return np.exp(self.logpdf(x))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Most probable component of each point."""
        with np.errstate(divide="ignore"):
            return np.argmax(self.component_logpdf(x) + np.log(self.weights), axis=1)

    def sample(self, m: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``m`` points (shape (m, D)) with the generator ``rng``."""
        return self.batch().sample(m, rng)[0]

    def transform(self, u: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Push base noise through the mixture: component from ``u`` (uniforms), point ``mean + L z``."""
        return self.batch().transform(u, z)[0]

    def covariance(self) -> np.ndarray:
        """Covariance matrix of the whole mixture (D, D)."""
        return self.batch().covariance()[0]

    def total_variance(self) -> float:
        """Trace of the mixture's covariance: the summed variance of all coordinates."""
        return float(np.trace(self.covariance()))

    def mean_distance(self) -> float:
        """Distance between the means of the two heaviest components (NaN for one component)."""
        return float(self.batch().mean_distance()[0])


@dataclass(frozen=True)
class MixtureBatch:
    """One Gaussian mixture per run: ``weights`` (R, K), ``means`` (R, K, D), ``covariances`` (R, K, D, D).

    ``n_iter`` and ``converged`` (R,) record each run's EM fit. Every method
    works on all runs at once; :meth:`run` gives one run's :class:`Mixture`.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray

    @staticmethod
    def stack(models: Sequence[Mixture]) -> "MixtureBatch":
        """A batch from single mixtures with the same number of components and dimension."""
        return MixtureBatch(
            np.stack([m.weights for m in models]),
            np.stack([m.means for m in models]),
            np.stack([m.covariances for m in models]),
            np.array([m.n_iter for m in models]),
            np.array([m.converged for m in models]),
        )

    @property
    def runs(self) -> int:
        return self.weights.shape[0]

    @property
    def n_components(self) -> int:
        return self.weights.shape[1]

    @property
    def dim(self) -> int:
        return self.means.shape[2]

    def run(self, r: int) -> Mixture:
        """Run ``r``'s mixture."""
        return Mixture(
            self.weights[r], self.means[r], self.covariances[r], int(self.n_iter[r]), bool(self.converged[r])
        )

    def cholesky(self) -> np.ndarray:
        """Lower Cholesky factors of the covariances (R, K, D, D)."""
        return cholesky(self.covariances)[0]

    def component_logpdf(self, x: np.ndarray) -> np.ndarray:
        """``log N(x; mean_k, cov_k)`` of each run's components at ``x`` (R, M, D) or (M, D): (R, K, M)."""
        x = np.asarray(x, dtype=float)
        prec_chol = np.swapaxes(np.linalg.inv(self.cholesky()), -1, -2)
        coef = log_prob_coefficients(np.ones(self.weights.shape), self.means, prec_chol)
        if x.ndim == 2:  # shared points: one product for every run
            return np.matmul(coef, features(x.T[None])[0])
        return np.matmul(coef, features(np.swapaxes(x, 1, 2)))

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        """Log-density of each run's mixture at its points ``x`` (R, M, D) or shared points (M, D): (R, M)."""
        with np.errstate(divide="ignore"):
            a = self.component_logpdf(x) + np.log(self.weights)[:, :, None]
        top = np.max(a, axis=1, keepdims=True)
        top[~np.isfinite(top)] = 0.0
        with np.errstate(divide="ignore", under="ignore"):
            return (top + np.log(np.sum(np.exp(a - top), axis=1, keepdims=True)))[:, 0]

    def transform(self, u: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Push base noise through every run's mixture: component from uniforms ``u``, point ``mean + L z``.

        ``u`` is (M,) or (R, M), ``z`` (M, D) or (R, M, D); returns (R, M, D).
        With a fixed ``(u, z)`` the result's only randomness is the base
        noise (common random numbers).
        """
        cdf = np.cumsum(self.weights, axis=1)
        cdf = cdf / cdf[:, -1:]
        u = np.broadcast_to(u, (self.runs, np.shape(u)[-1]))
        comp = np.zeros(u.shape, dtype=np.int8)  # (R, M): how many of the first K - 1 cdf values u passes
        for k in range(self.n_components - 1):
            comp += u >= cdf[:, k : k + 1]
        L = self.cholesky()  # (R, K, D, D)
        zt = np.ascontiguousarray(np.swapaxes(z, -1, -2))  # (D, M) or (R, D, M): long rows for the sums below
        out = np.matmul(L[:, 0], zt)  # (R, D, M)
        out += self.means[:, 0, :, None]  # in place: a new array would cost its page faults again
        for k in range(1, self.n_components):  # each point from its component: mean + L z
            other = np.matmul(L[:, k], zt)
            other += self.means[:, k, :, None]
            select(comp[:, None, :] == k, other, out)
        return np.swapaxes(out, 1, 2)

    def sample(self, m: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``m`` points of every run's mixture with one generator: shape (R, m, D)."""
        return self.transform(*base_noise(self.runs, m, self.dim, rng))

    def covariance(self) -> np.ndarray:
        """Covariance matrix of each run's whole mixture (R, D, D)."""
        mean = np.einsum("rk,rkd->rd", self.weights, self.means)
        second = np.einsum(
            "rk,rkij->rij",
            self.weights,
            self.covariances + np.einsum("rki,rkj->rkij", self.means, self.means),
        )
        return second - np.einsum("ri,rj->rij", mean, mean)

    def total_variance(self) -> np.ndarray:
        """Trace of each run's mixture covariance (R,)."""
        return np.trace(self.covariance(), axis1=1, axis2=2)

    def _two_heaviest_means(self) -> tuple[np.ndarray, np.ndarray]:
        """The means (R, D) of each run's heaviest and second-heaviest components (ties: the first)."""
        order = np.argsort(-self.weights, axis=1, kind="stable")
        rows = np.arange(self.runs)
        return self.means[rows, order[:, 0]], self.means[rows, order[:, 1]]

    def mean_distance(self) -> np.ndarray:
        """Distance between the means of each run's two heaviest components (R,; NaN for one component)."""
        if self.n_components < 2:
            return np.full(self.runs, np.nan)
        a, b = self._two_heaviest_means()
        return np.linalg.norm(a - b, axis=1)

    def valley(self, points: int = 33) -> np.ndarray:
        """How deep the density dips between each run's two heaviest components (R,; NaN for one component).

        The lowest density of the whole mixture on the segment between the two
        means, divided by the lower of the densities at the two means, at most
        1: **1** where the density does not dip between them (the two
        components make one mode along that line), near **0** where they are
        two separated clusters with empty space between them. ``points``
        equally spaced points of the segment, the ends included.
        """
        points = validate.integer("points", points, 3)
        if self.n_components < 2:
            return np.full(self.runs, np.nan)
        a, b = self._two_heaviest_means()
        t = np.linspace(0.0, 1.0, points)
        x = a[:, None, :] + (b - a)[:, None, :] * t[None, :, None]  # (R, points, D)
        logp = self.logpdf(x)
        ends = np.minimum(logp[:, 0], logp[:, -1])
        with np.errstate(invalid="ignore", over="ignore"):
            ratio = np.exp(np.min(logp, axis=1) - ends)
        return np.where(np.isfinite(ratio), np.minimum(ratio, 1.0), 1.0)


def two_gaussians(separation: float = 5.0, weight: float = 0.5) -> Mixture:
    """The chapter's original distribution: two well-separated 2-D Gaussians.

    Means ``(-separation / 2, 0)`` and ``(separation / 2, 0)``, unit-scale
    covariances tilted in opposite directions (so that the reader can tell
    them apart), weights ``weight`` and ``1 - weight``.
    """
    separation = validate.real("separation", separation, 0.0, low_open=True)
    weight = validate.real("weight", weight, 0.0, 1.0, low_open=True, high_open=True)
    h = separation / 2
    return Mixture(
        weights=np.array([weight, 1 - weight]),
        means=np.array([[-h, 0.0], [h, 0.0]]),
        covariances=np.array([[[1.0, 0.4], [0.4, 0.8]], [[0.8, -0.3], [-0.3, 1.0]]]),
    )


def single_blob(std: float = 1.0) -> Mixture:
    """The original distribution of the authors' notebook: one 2-D Gaussian blob, ``N(0, std^2 I)``.

    ``Normals_GMM_experiments.ipynb`` in the authors' ``curse_recurse``
    repository draws its data with scikit-learn's ``make_blobs`` around the
    single centre ``[0, 0]`` with ``cluster_std=1`` and fits *two* components
    to them, while the paper's text speaks of "two artificially-generated
    Gaussians" (:func:`two_gaussians` is the book's reading of that text).
    A mixture with one component.
    """
    std = validate.real("std", std, 0.0, low_open=True)
    return Mixture(weights=np.ones(1), means=np.zeros((1, 2)), covariances=(std**2 * np.eye(2))[None])


def _as_batch(p: Mixture | MixtureBatch) -> MixtureBatch:
    return p.batch() if isinstance(p, Mixture) else p


def gaussian_overlaps(p: Mixture | MixtureBatch, q: Mixture | MixtureBatch) -> np.ndarray:
    """``int N(x; a_i, A_i) N(x; b_j, B_j) dx = N(a_i; b_j, A_i + B_j)`` for all pairs of components.

    Shape (Kp, Kq) for two mixtures, (R, Kp, Kq) when either is a batch.
    """
    single = isinstance(p, Mixture) and isinstance(q, Mixture)
    pb, qb = _as_batch(p), _as_batch(q)
    diff = pb.means[:, :, None, :] - qb.means[:, None, :, :]  # (R, Kp, Kq, D)
    cov = pb.covariances[:, :, None] + qb.covariances[:, None, :]
    _, logdet = np.linalg.slogdet(cov)
    sol = np.linalg.solve(cov, diff[..., None])[..., 0]
    quad = np.einsum("rijd,rijd->rij", diff, sol)
    out = np.exp(-0.5 * quad - 0.5 * logdet - 0.5 * pb.dim * LOG_2PI)
    return out[0] if single else out


def l2_sq(p: Mixture | MixtureBatch, q: Mixture | MixtureBatch) -> float | np.ndarray:
    """Squared L2 distance ``int (p(x) - q(x))^2 dx`` between mixtures, in closed form.

    ``= sum_ij p_i p_j N(a_i; a_j, A_i + A_j) + sum_ij q_i q_j N(b_i; b_j, B_i + B_j)
    - 2 sum_ij p_i q_j N(a_i; b_j, A_i + B_j)``. A float for two mixtures, an
    array (R,) when either is a :class:`MixtureBatch` (run by run).
    """
    single = isinstance(p, Mixture) and isinstance(q, Mixture)
    pb, qb = _as_batch(p), _as_batch(q)
    pp = np.einsum("ri,rij,rj->r", pb.weights, gaussian_overlaps(pb, pb), pb.weights)
    qq = np.einsum("ri,rij,rj->r", qb.weights, gaussian_overlaps(qb, qb), qb.weights)
    pq = np.einsum("ri,rij,rj->r", pb.weights, gaussian_overlaps(pb, qb), qb.weights)
    out = np.maximum(pp + qq - 2 * pq, 0.0)
    return float(out[0]) if single else out


def l2_distance(p: Mixture, q: Mixture) -> float:
    """L2 distance ``sqrt(int (p - q)^2)`` between two mixtures (see :func:`l2_sq`)."""
    return float(np.sqrt(l2_sq(p, q)))
