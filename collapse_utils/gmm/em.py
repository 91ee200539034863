"""EM for Gaussian mixtures, for all runs at once: scikit-learn's ``GaussianMixture``, batched.

:func:`em` is the estimator of :class:`sklearn.mixture.GaussianMixture` with
full covariances, written over a batch of runs ``(R, N, D)``: the same E-step
(log-responsibilities from the precision matrices; through their Cholesky
factors as scikit-learn, or in closed form for 2-D mixtures, equal to
rounding: :func:`coefficients`), the same M-step
(``nk = sum resp + 10 eps``, weights ``nk / sum nk``, centred covariances plus
``reg_covar`` on the diagonal), the same stopping rule (the change of the
per-sample mean log-likelihood, measured in the E-step, below ``tol``; at most
``max_iter`` iterations) and the same bookkeeping (``n_iter`` counts the
M-steps; the parameters returned are those of the last M-step). Each run stops
on its own: converged runs leave the batch, so a run costs its own number of
iterations, not the slowest run's.

Initialisation (:func:`fit`) is either scikit-learn's default, k-means on the
data (k-means++ seeding with ``2 + log K`` local trials, then Lloyd's
iterations) turned into hard responsibilities and one M-step
(:func:`kmeans_labels`, :func:`initial_parameters`), or a warm start from the
previous generation's mixture. The batched k-means draws its own random
numbers, so a fresh fit equals scikit-learn's in distribution, not bit for bit;
given the same initial mixture the EM iterations agree with scikit-learn's to
rounding (``tests/test_gmm_em.py``).

:func:`fit_sklearn` is the reference path: the same fit, one run at a time,
through scikit-learn itself.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from typing import Any

import numpy as np

from .. import validate
from .mixture import LOG_2PI, MixtureBatch, _dim, _pairs, cholesky, features, log_prob_coefficients

EPS10 = 10 * np.finfo(float).eps
INITS = ("warm", "fresh")
BACKENDS = ("batched", "sklearn")
GMM_DEFAULTS: dict[str, Any] = {"covariance_type": "full", "tol": 1e-5, "max_iter": 2000, "reg_covar": 1e-6}
"""The authors' scikit-learn settings (``reg_covar`` is scikit-learn's default)."""

#: Fits that fail numerically (a covariance that is not positive definite) are retried with a fresh
#: k-means start and ten times the ``reg_covar``, at most this many times.
RETRIES = 5


@contextmanager
def one_torch_thread():
    """Run torch's CPU kernels on one thread for a while (see :func:`bmm`), then restore the setting."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def bmm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Batched matrix product ``a @ b`` of (R, I, J) and (R, J, L) float64 arrays, through torch.

    The same product as :func:`numpy.matmul` (to rounding), but about twice
    as fast at EM's shapes (R x 2 x 6 by R x 6 x 1000), where numpy calls
    BLAS once per run. :func:`fit` runs it on one thread
    (:func:`one_torch_thread`): between these short products torch's idle
    worker threads would spin on the other core and slow numpy's steps.
    """
    import torch

    return torch.bmm(torch.from_numpy(a), torch.from_numpy(b)).numpy()


def precision_cholesky(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's ``precisions_cholesky_``: ``inv(cholesky(cov)).T`` per matrix, and which succeeded."""
    L, ok = cholesky(cov)
    if cov.shape[-1] == 2:  # closed-form inverse of a 2 x 2 lower-triangular factor, transposed
        P = np.zeros_like(L)
        P[..., 0, 0] = 1.0 / L[..., 0, 0]
        P[..., 1, 1] = 1.0 / L[..., 1, 1]
        P[..., 0, 1] = -L[..., 1, 0] * P[..., 0, 0] * P[..., 1, 1]
        return P, ok
    return np.swapaxes(np.linalg.inv(L), -1, -2), ok


def m_step(S: np.ndarray, resp: np.ndarray, reg_covar: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's M-step for full covariances, per run.

    ``S`` holds the points' sufficient statistics (R, C, N) (:func:`features`),
    ``resp`` the responsibilities (R, K, N). Returns ``(nk, means,
    covariances)``: (R, K), (R, K, D), (R, K, D, D), with ``nk = sum resp + 10
    eps``, ``means = sum resp x / nk`` and ``covariances = sum resp (x -
    mean)(x - mean)^T / nk`` plus ``reg_covar`` on every diagonal.
    """
    T = bmm(resp, np.swapaxes(S, 1, 2))  # (R, K, C)
    d = _dim(S.shape[1])
    nk = T[:, :, 0] + EPS10
    means = T[:, :, 1 : 1 + d] / nk[:, :, None]
    cov = np.empty(means.shape + (d,))
    # sum resp (x_i - m_i)(x_j - m_j) = T_ij - m_i m_j (2 nk - sum resp), as nk = sum resp + 10 eps
    twice = 2 * nk - T[:, :, 0]
    for c, (i, j) in enumerate(_pairs(d)):
        cov[:, :, i, j] = (T[:, :, 1 + d + c] - means[:, :, i] * means[:, :, j] * twice) / nk
        if i == j:
            cov[:, :, i, i] += reg_covar
        else:
            cov[:, :, j, i] = cov[:, :, i, j]
    return nk, means, cov


def coefficients(weights: np.ndarray, means: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The E-step's coefficients (R, K, C) of the mixtures after an M-step, and which covariances are positive
    definite (R, K).

    ``log_prob_coefficients(weights, means, precision_cholesky(cov))``, which
    is how scikit-learn goes (through the Cholesky factors). In two
    dimensions, the chapter's case, the same numbers (to rounding) in closed
    form: the precision is ``[[c11, -c01], [-c01, c00]] / det`` and the
    log-determinant term ``-log(det) / 2``, a third of the small array
    operations of an EM iteration fewer.
    """
    if means.shape[-1] != 2:
        prec, ok = precision_cholesky(cov)
        return log_prob_coefficients(weights, means, prec), ok
    c00, c01, c11 = cov[..., 0, 0], cov[..., 0, 1], cov[..., 1, 1]
    det = c00 * c11 - c01 * c01
    ok = (c00 > 0) & (det > 0)
    if not ok.all():
        det = np.where(ok, det, 1.0)  # placeholders: the caller drops these runs
    p00, p01, p11 = c11 / det, -c01 / det, c00 / det  # the precision matrix
    m0, m1 = means[..., 0], means[..., 1]
    pm0, pm1 = p00 * m0 + p01 * m1, p01 * m0 + p11 * m1
    coef = np.empty(weights.shape + (6,))
    with np.errstate(divide="ignore"):
        coef[..., 0] = -0.5 * (pm0 * m0 + pm1 * m1) - 0.5 * np.log(det) + np.log(weights) - LOG_2PI
    coef[..., 1], coef[..., 2] = pm0, pm1
    coef[..., 3], coef[..., 4], coef[..., 5] = -0.5 * p00, -p01, -0.5 * p11
    return coef, ok


def e_step(S: np.ndarray, coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's E-step, per run: ``(mean log-likelihood (R,), responsibilities (R, K, N))``.

    ``coef`` (R, K, C) are the mixtures' :func:`log_prob_coefficients`.
    """
    lp = bmm(coef, S)  # (R, K, N)
    K = lp.shape[1]
    # the log-sum-exp over the components as a loop over (R, N) slices: numpy's reductions
    # along a short middle axis are several times slower
    top = np.maximum(lp[:, 0], lp[:, 1]) if K > 1 else lp[:, 0].copy()
    for k in range(2, K):
        np.maximum(top, lp[:, k], out=top)
    lp -= top[:, None]
    np.exp(lp, out=lp)  # exp(log p_k - top)
    total = np.add(lp[:, 0], lp[:, 1]) if K > 1 else lp[:, 0].copy()
    for k in range(2, K):
        total += lp[:, k]
    ll = (top + np.log(total)).mean(axis=1)
    np.reciprocal(total, out=total)
    lp *= total[:, None]  # the responsibilities: exp(log p_k - logsumexp)
    return ll, lp


def em(
    S: np.ndarray,
    weights: np.ndarray,
    means: np.ndarray,
    prec_chol: np.ndarray,
    tol: float = GMM_DEFAULTS["tol"],
    max_iter: int = GMM_DEFAULTS["max_iter"],
    reg_covar: float = GMM_DEFAULTS["reg_covar"],
) -> dict[str, np.ndarray]:
    """Run EM on every run from the given initial parameters, each run until its own convergence.

    ``S`` holds the points' sufficient statistics (R, C, N) (:func:`features`);
    ``weights`` (R, K), ``means`` (R, K, D) and
    ``prec_chol`` (R, K, D, D) are the initial parameters (scikit-learn's
    ``weights_``, ``means_`` and ``precisions_cholesky_``). Returns a dict of
    ``weights``, ``means``, ``covariances``, ``n_iter``, ``converged`` and
    ``failed`` (runs whose covariance stopped being positive definite, where
    scikit-learn raises; their other entries are meaningless).
    """
    R, K = weights.shape
    d = means.shape[2]
    out = {
        "weights": np.array(weights, dtype=float),
        "means": np.array(means, dtype=float),
        "covariances": np.zeros((R, K, d, d)),
        "n_iter": np.zeros(R, dtype=int),
        "converged": np.zeros(R, dtype=bool),
        "failed": np.zeros(R, dtype=bool),
    }
    ids = np.arange(R)
    Sa, ca = S, log_prob_coefficients(weights, means, prec_chol)
    lower = np.full(R, -np.inf)
    for it in range(1, max_iter + 1):
        ll, resp = e_step(Sa, ca)
        nk, mu, cov = m_step(Sa, resp, reg_covar)
        w = nk / nk.sum(axis=1, keepdims=True)
        coef, ok = coefficients(w, mu, cov)
        with np.errstate(invalid="ignore"):
            change = ll - lower
        lower = ll
        done = np.abs(change) < tol
        failed = ~ok.all(axis=1) | ~np.isfinite(ll)
        last = it == max_iter
        finished = done | failed | last
        if finished.any():
            f = ids[finished]
            out["weights"][f], out["means"][f], out["covariances"][f] = (
                w[finished],
                mu[finished],
                cov[finished],
            )
            out["n_iter"][f] = it
            out["converged"][f] = done[finished] & ~failed[finished]
            out["failed"][f] = failed[finished]
            keep = ~finished
            if not keep.any():
                break
            ids, Sa, lower, ca = ids[keep], Sa[keep], lower[keep], coef[keep]
        else:
            ca = coef
    return out


def _argmin_first_axis(a: np.ndarray) -> np.ndarray:
    """``argmin(a, axis=1)`` for a short axis 1 (the components): a loop of comparisons, much faster than
    numpy's strided reduction; ties go to the first, as with ``argmin``. (Two centres never come here:
    :func:`_nearest` compares them with one threshold.)"""
    best, labels = a[:, 0], np.zeros(a.shape[:1] + a.shape[2:], dtype=np.intp)
    for k in range(1, a.shape[1]):
        better = a[:, k] < best
        best = np.where(better, a[:, k], best)
        labels = np.where(better, k, labels)
    return labels


def _sqdist(Xt: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Squared distances (R, J, N) of the points ``Xt`` (R, D, N) to the centres ``c`` (R, J, D)."""
    return sum((Xt[:, None, i, :] - c[:, :, i, None]) ** 2 for i in range(Xt.shape[1]))


def _nearest(Xt: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Index (R, N) of the nearest centre ``c`` (R, J, D) to each point of ``Xt`` (R, D, N).

    Compares ``|c_j|^2 - 2 x . c_j`` (the squared distance less ``|x|^2``,
    which is the same for every centre), as scikit-learn's Lloyd iterations
    compute it: one batched matrix product. With two centres the comparison
    is one product and one threshold: ``x . (c_1 - c_0) > (|c_1|^2 -
    |c_0|^2) / 2`` (a tie goes to the first centre, as with ``argmin``); the
    labels are then int8.
    """
    if c.shape[1] == 2:
        sq = np.sum(c * c, axis=2)
        half = 0.5 * (sq[:, 1] - sq[:, 0])
        s = np.matmul((c[:, 1] - c[:, 0])[:, None, :], Xt)[:, 0]  # (R, N)
        return (s > half[:, None]).view(np.int8)
    score = np.matmul(c, Xt)  # (R, J, N): x . c_j
    score *= -2.0
    score += np.sum(c * c, axis=2)[:, :, None]
    return _argmin_first_axis(score)


def _cluster_sums(Xt: np.ndarray, labels: np.ndarray, k: int, totals: np.ndarray):
    """Points per cluster (R, k) and the sums of their coordinates (R, k, D).

    ``totals`` (R, D) holds the sums over all points: with two clusters the
    first cluster's sums are the totals less the second's (one product
    instead of two).
    """
    if k == 2:
        second = labels.astype(float)  # (R, N)
        n1 = second.sum(axis=1)
        s1 = np.matmul(Xt, second[:, :, None])[:, :, 0]  # (R, D)
        return np.stack([Xt.shape[2] - n1, n1], axis=1), np.stack([totals - s1, s1], axis=1)
    onehot = (labels[:, None, :] == np.arange(k)[None, :, None]).astype(float)  # (R, k, N)
    return onehot.sum(axis=2), np.matmul(onehot, np.swapaxes(Xt, 1, 2))


def kmeans_plus_plus(X: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """scikit-learn's greedy k-means++ seeding for every run of ``X`` (R, N, D): centres (R, k, D).

    The first centre is a uniformly chosen point; each next one is the best
    (lowest potential) of ``2 + int(log k)`` candidates drawn with probability
    proportional to the squared distance to the nearest centre so far.
    """
    return _seed(np.ascontiguousarray(np.swapaxes(X, 1, 2)), k, rng)


def _seed(Xt: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """:func:`kmeans_plus_plus` on the points ``Xt`` (R, D, N)."""
    R, d, N = Xt.shape
    rows = np.arange(R)
    trials = 2 + int(np.log(k))
    centers = np.empty((R, k, d))
    centers[:, 0] = Xt[rows, :, rng.integers(N, size=R)]
    closest = _sqdist(Xt, centers[:, :1])[:, 0]  # (R, N)
    for c in range(1, k):
        pot = closest.sum(axis=1)
        cum = np.cumsum(closest, axis=1)
        target = rng.random((R, trials)) * pot[:, None]
        cand = np.minimum(np.sum(cum[:, None, :] < target[:, :, None], axis=2), N - 1)  # (R, trials)
        new = np.minimum(closest[:, None, :], _sqdist(Xt, Xt[rows[:, None], :, cand]))  # (R, trials, N)
        best = np.argmin(new.sum(axis=2), axis=1)
        closest = new[rows, best]
        centers[:, c] = Xt[rows, :, cand[rows, best]]
    return centers


def kmeans_labels(
    X: np.ndarray, k: int, rng: np.random.Generator, max_iter: int = 300, tol: float = 1e-4
) -> np.ndarray:
    """scikit-learn's ``KMeans(n_clusters=k, n_init=1)`` labels for every run of ``X`` (R, N, D): (R, N).

    :func:`kmeans_plus_plus` seeding, then Lloyd's iterations until the labels
    stop changing or the total squared centre shift is at most ``tol`` times
    the mean variance of the coordinates (per run).
    """
    Xt = np.ascontiguousarray(np.swapaxes(X, 1, 2))  # (R, D, N): the coordinates as rows
    centers = _seed(Xt, k, rng)
    limit = tol * np.mean(np.var(Xt, axis=2), axis=1)  # (R,)
    totals = Xt.sum(axis=2)
    ids, Xa, ca, lim, tot, previous = np.arange(X.shape[0]), Xt, centers, limit, totals, None
    for _ in range(max_iter):  # converged runs leave the batch
        new_labels = _nearest(Xa, ca)
        counts, sums = _cluster_sums(Xa, new_labels, k, tot)
        moved = np.where(counts[:, :, None] > 0, sums / np.maximum(counts, 1)[:, :, None], ca)
        done = np.sum((moved - ca) ** 2, axis=(1, 2)) <= lim
        if previous is not None:
            done |= np.all(new_labels == previous, axis=1)
        centers[ids] = moved
        keep = ~done
        if not keep.any():
            break
        ids, Xa, ca, lim, tot = ids[keep], Xa[keep], moved[keep], lim[keep], tot[keep]
        previous = new_labels[keep]
    return _nearest(Xt, centers).astype(np.intp)


def initial_parameters(S: np.ndarray, labels: np.ndarray, k: int, reg_covar: float):
    """scikit-learn's initialisation from hard labels: one M-step on one-hot responsibilities.

    ``S`` holds the points' sufficient statistics (R, C, N). Returns
    ``(weights, means, prec_chol, ok)`` with the weights ``nk / N`` as
    scikit-learn has them.
    """
    resp = (labels[:, None, :] == np.arange(k)[None, :, None]).astype(float)
    nk, means, cov = m_step(S, resp, reg_covar)
    prec, ok = precision_cholesky(cov)
    return nk / S.shape[2], means, prec, ok.all(axis=1)


@one_torch_thread()
def fit(
    X: np.ndarray,
    n_components: int,
    rng: np.random.Generator,
    warm: MixtureBatch | None = None,
    tol: float = GMM_DEFAULTS["tol"],
    max_iter: int = GMM_DEFAULTS["max_iter"],
    reg_covar: float = GMM_DEFAULTS["reg_covar"],
) -> tuple[MixtureBatch, np.ndarray]:
    """Fit one mixture per run of ``X`` (R, N, D) by batched EM.

    ``warm`` (the previous generation's mixtures) starts EM from them; a run
    whose previous mixture has a component that expects less than one sample
    (``weight * N < 1``) starts fresh instead, so that a dead component cannot
    haunt the run. Without ``warm`` every run starts from k-means (``rng``).
    A run whose fit fails numerically is refitted from k-means with ten times
    the ``reg_covar`` (at most :data:`RETRIES` times). Each run's data are
    shifted by their mean while fitting (EM is shift-equivariant), which keeps
    the sufficient statistics well conditioned.

    Returns the mixtures and a boolean (R,) array: which runs started from k-means.
    """
    X = np.asarray(X, dtype=float)
    R, N, d = X.shape
    k = n_components
    center = X.mean(axis=1)  # (R, D)
    Xc = X - center[:, None, :]
    S = features(np.swapaxes(Xc, 1, 2))
    fresh = np.ones(R, dtype=bool)
    weights, means, prec = np.empty((R, k)), np.empty((R, k, d)), np.empty((R, k, d, d))
    if warm is not None:
        fresh = np.min(warm.weights, axis=1) * N < 1.0
        keep = ~fresh
        weights[keep], means[keep] = warm.weights[keep], warm.means[keep] - center[keep, None, :]
        prec[keep] = precision_cholesky(warm.covariances[keep])[0]
    reg = reg_covar
    if fresh.any():
        weights[fresh], means[fresh], prec[fresh], _ = initial_parameters(
            S[fresh], kmeans_labels(Xc[fresh], k, rng), k, reg
        )
    result = em(S, weights, means, prec, tol, max_iter, reg)
    for _ in range(RETRIES):
        todo = result["failed"]
        if not todo.any():
            break
        reg *= 10
        fresh |= todo
        w0, m0, p0, _ = initial_parameters(S[todo], kmeans_labels(Xc[todo], k, rng), k, reg)
        again = em(S[todo], w0, m0, p0, tol, max_iter, reg)
        for key in result:
            result[key][todo] = again[key]
    if result["failed"].any():  # pragma: no cover - six numerical failures in a row
        raise RuntimeError(
            f"EM failed numerically {RETRIES + 1} times in a row in run(s) {np.flatnonzero(result['failed'])}"
        )
    model = MixtureBatch(
        result["weights"],
        result["means"] + center[:, None, :],
        result["covariances"],
        result["n_iter"],
        result["converged"],
    )
    return canonical_order(model, fresh), fresh


def canonical_order(model: MixtureBatch, runs: np.ndarray) -> MixtureBatch:
    """Order the components of the given runs by the first coordinate of their means.

    Applied after every fresh (k-means) fit in both backends, so that the
    order does not depend on how k-means labelled the clusters: samples drawn
    with the same random numbers then agree between backends. Warm-started
    runs keep their order (their components keep their identity).
    """
    order = np.argsort(model.means[:, :, 0], axis=1, kind="stable")
    order[~runs] = np.arange(model.n_components)
    rows = np.arange(model.runs)[:, None]
    return MixtureBatch(
        model.weights[rows, order],
        model.means[rows, order],
        model.covariances[rows, order],
        model.n_iter,
        model.converged,
    )


def n_workers(n_jobs: int | None) -> int:
    """joblib's convention: ``None`` is 1, ``-1`` every core, ``-2`` all but one, ...; 0 is an error."""
    if n_jobs is None:
        return 1
    import os

    cores = os.cpu_count() or 1
    n_jobs = validate.integer("n_jobs", n_jobs)
    if n_jobs == 0:
        raise ValueError(
            f"n_jobs must be a non-zero integer (joblib's convention: -1 = all {cores} cores), got 0"
        )
    return max(1, n_jobs if n_jobs > 0 else cores + 1 + n_jobs)


def fit_sklearn(
    X: np.ndarray,
    n_components: int,
    rng: np.random.Generator,
    warm: MixtureBatch | None = None,
    tol: float = GMM_DEFAULTS["tol"],
    max_iter: int = GMM_DEFAULTS["max_iter"],
    reg_covar: float = GMM_DEFAULTS["reg_covar"],
    n_jobs: int | None = None,
) -> tuple[MixtureBatch, np.ndarray]:
    """The reference path of :func:`fit`: scikit-learn's ``GaussianMixture``, one run at a time.

    The same rules (warm start, a fresh start for a dead component, retries
    with more ``reg_covar``); k-means draws its seed from ``rng``. ``n_jobs``
    (joblib's convention) fits the runs of a generation in threads, so no
    process pool is started; each fit uses one BLAS/OpenMP thread.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    X = np.asarray(X, dtype=float)
    R, N, _ = X.shape
    seeds = rng.integers(2**31 - 1, size=R)

    def one(r: int):
        start = None
        if warm is not None and np.min(warm.weights[r]) * N >= 1.0:
            start = warm.run(r)
        reg = reg_covar
        for attempt in range(RETRIES + 1):
            kwargs: dict[str, Any] = dict(
                n_components=n_components,
                covariance_type="full",
                tol=tol,
                max_iter=max_iter,
                reg_covar=reg,
                random_state=int(seeds[r]) + attempt,
            )
            if start is not None:
                kwargs.update(
                    init_params="random",
                    weights_init=start.weights,
                    means_init=start.means,
                    precisions_init=np.linalg.inv(start.covariances),
                )
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    est = GaussianMixture(**kwargs).fit(X[r])
                if np.all(np.isfinite(est.covariances_)) and np.all(np.isfinite(est.means_)):
                    return est, start is None
            except (ValueError, np.linalg.LinAlgError):
                pass
            start, reg = None, reg * 10
        raise RuntimeError(
            f"GaussianMixture failed {RETRIES + 1} times in a row in run {r}"
        )  # pragma: no cover

    from threadpoolctl import threadpool_limits

    workers = min(n_workers(n_jobs), R)
    # one BLAS/OpenMP thread per fit: these problems are small, and k-means' thread pool costs more
    # than it saves (25 times slower on a busy 2-core machine)
    with threadpool_limits(1):
        if workers == 1:
            results = [one(r) for r in range(R)]
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(workers) as pool:
                results = list(pool.map(one, range(R)))
    model = MixtureBatch(
        np.stack([e.weights_ for e, _ in results]),
        np.stack([e.means_ for e, _ in results]),
        np.stack([e.covariances_ for e, _ in results]),
        np.array([e.n_iter_ for e, _ in results]),
        np.array([e.converged_ for e, _ in results]),
    )
    fresh = np.array([f for _, f in results])
    return canonical_order(model, fresh), fresh
