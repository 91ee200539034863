"""The batched EM of chapter 2 against scikit-learn's GaussianMixture, the reference estimator.

Given the same data and the same initial mixture, the batched EM must return
scikit-learn's parameters to 1e-6 relative (in practice they agree to about
1e-13: the same arithmetic, rounded differently) and the same number of
iterations. Fresh (k-means) starts draw different random numbers, so there the
comparison is in distribution: a two-sample Kolmogorov-Smirnov test on a
collapse statistic over many runs, at significance 0.001 (a correct
implementation fails such a check once in a thousand seeds; the seed is fixed).
"""

import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from collapse_utils import gmm as M
from collapse_utils.gmm import em as E

RTOL = 1e-6


def sklearn_fit(x, start: M.Mixture, **kwargs):
    settings = {**M.GMM_DEFAULTS, **kwargs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return GaussianMixture(
            n_components=start.n_components,
            init_params="random",
            weights_init=start.weights,
            means_init=start.means,
            precisions_init=np.linalg.inv(start.covariances),
            **settings,
        ).fit(x)


def batch_fit(X, starts, **kwargs):
    warm = M.MixtureBatch.stack(starts)
    model, fresh = E.fit(X, starts[0].n_components, np.random.default_rng(0), warm=warm, **kwargs)
    assert not fresh.any()
    return model


def assert_same_fit(est, model: M.Mixture, rtol=RTOL):
    np.testing.assert_allclose(model.weights, est.weights_, rtol=rtol)
    np.testing.assert_allclose(model.means, est.means_, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(model.covariances, est.covariances_, rtol=rtol, atol=1e-12)
    assert model.n_iter == est.n_iter_
    assert model.converged == est.converged_


def data_and_starts(runs, n, k, seed):
    """Original-like data per run and a perturbed starting mixture per run (as a warm start would be)."""
    rng = np.random.default_rng(seed)
    truth = M.two_gaussians()
    X = truth.sample(runs * n, rng).reshape(runs, n, 2)
    starts = []
    for _ in range(runs):
        means = rng.normal(0, 2.0, size=(k, 2))
        a = rng.normal(size=(k, 2, 2))
        covs = a @ np.swapaxes(a, 1, 2) + 0.3 * np.eye(2)
        w = rng.dirichlet(np.ones(k) * 5)
        starts.append(M.Mixture(w, means, covs))
    return X, starts


@pytest.mark.parametrize("k, n", [(2, 500), (3, 300), (1, 200)])
def test_em_matches_sklearn_from_the_same_start(k, n):
    """Bugs: a wrong E-step (responsibilities, log-determinant, weights), a wrong M-step (means,
    covariances, reg_covar, weights), a wrong stopping rule or iteration count: any of them moves
    the parameters or ``n_iter`` away from scikit-learn's."""
    X, starts = data_and_starts(6, n, k, seed=k)
    model = batch_fit(X, starts)
    for r in range(len(starts)):
        assert_same_fit(sklearn_fit(X[r], starts[r]), model.run(r))
    # the runs needed different numbers of iterations: per-run convergence was exercised
    assert model.n_iter.min() < model.n_iter.max() or k == 1


def test_tol_max_iter_and_reg_covar_are_sklearns():
    """Bugs: ``tol`` compared with the wrong quantity, ``max_iter`` off by one or a run that hits
    ``max_iter`` reported as converged, ``reg_covar`` not added (or added twice)."""
    X, starts = data_and_starts(4, 400, 2, seed=7)
    for kwargs in (dict(tol=1e-2), dict(max_iter=2), dict(max_iter=1), dict(reg_covar=0.5)):
        model = batch_fit(X, starts, **kwargs)
        for r in range(len(starts)):
            assert_same_fit(sklearn_fit(X[r], starts[r], **kwargs), model.run(r))
    capped = batch_fit(X, starts, max_iter=2)
    assert np.all(capped.n_iter == 2) and not capped.converged.any()


def test_reg_covar_floors_a_component_on_a_single_point():
    """Bug: ``reg_covar`` missing, which makes the covariance of a collapsed component singular."""
    x = np.repeat(np.array([[0.0, 0.0], [5.0, 1.0]]), [300, 100], axis=0)
    x[100:300] += np.random.default_rng(0).normal(size=(200, 2))
    model, _ = E.fit(x[None], 2, np.random.default_rng(1), reg_covar=1e-3)
    one = model.run(0)
    k = int(np.argmin(np.linalg.det(one.covariances)))
    np.testing.assert_allclose(one.covariances[k], 1e-3 * np.eye(2), rtol=1e-6, atol=1e-10)


def test_kmeans_start_matches_sklearn_on_separated_data():
    """Bugs in the k-means initialisation (the argmin of distances, the centre update, the seeding):
    on well-separated data k-means has one answer, and EM from it must reach scikit-learn's fit."""
    rng = np.random.default_rng(3)
    X = M.two_gaussians(separation=8).sample(8 * 400, rng).reshape(8, 400, 2)
    labels = E.kmeans_labels(X, 2, np.random.default_rng(0))
    for r in range(8):
        side = X[r, :, 0] > 0
        assert np.array_equal(labels[r] == labels[r][np.argmax(side)], side)
    model, fresh = E.fit(X, 2, np.random.default_rng(0))
    assert fresh.all()
    for r in range(8):
        est = GaussianMixture(2, random_state=r, **M.GMM_DEFAULTS).fit(X[r])
        order = np.argsort(est.means_[:, 0])
        mine = model.run(r)
        mo = np.argsort(mine.means[:, 0])
        np.testing.assert_allclose(mine.weights[mo], est.weights_[order], rtol=RTOL)
        np.testing.assert_allclose(mine.means[mo], est.means_[order], rtol=RTOL)
        np.testing.assert_allclose(mine.covariances[mo], est.covariances_[order], rtol=RTOL)


def three_clusters(runs, seed):
    """Three tight clusters at unequal distances (at equal distances, a wrong assignment rule can
    permute the clusters and hide behind the final relabelling)."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [20.0, 0.0], [0.0, 50.0]])
    truth = rng.integers(0, 3, size=(runs, 90))
    return centres[truth] + 0.01 * rng.normal(size=(runs, 90, 2)), truth


def test_kmeans_plus_plus_spreads_the_seeds():
    """Bug: the seeding ignores the distances (uniform candidates). With three tight clusters, k-means++
    puts the three seeds in three different clusters almost always; uniform candidates fail in about
    a third of the runs."""
    X, _ = three_clusters(300, 5)
    seeds = E.kmeans_plus_plus(X, 3, np.random.default_rng(0))
    cluster = np.rint(seeds / np.array([20.0, 50.0])).astype(int) @ np.array([1, 2])  # 0, 1 or 2
    distinct = np.array([len(np.unique(c)) for c in cluster])
    assert np.mean(distinct == 3) > 0.97


def test_kmeans_recovers_three_clusters():
    """Bug: Lloyd's step assigns points to the wrong centre (for example the farthest); with two
    clusters this can hide behind the final relabelling, with three it cannot."""
    X, truth = three_clusters(100, 6)
    labels = E.kmeans_labels(X, 3, np.random.default_rng(1))
    exact = [len({(a, b) for a, b in zip(labels[r], truth[r])}) == 3 for r in range(100)]
    assert np.mean(exact) > 0.95


def test_warm_start_restarts_a_dead_component_and_batch_equals_alone():
    """Bugs: a warm start kept from a component that expects no data, and runs of a batch that
    influence each other (a run fitted in a batch must equal the same run fitted alone)."""
    X, starts = data_and_starts(3, 400, 2, seed=11)
    dead = M.Mixture(
        np.array([1 - 1e-6, 1e-6]), np.array([[0.0, 0.0], [30.0, 30.0]]), np.stack([np.eye(2)] * 2)
    )
    starts[1] = dead
    model, fresh = E.fit(X, 2, np.random.default_rng(0), warm=M.MixtureBatch.stack(starts))
    assert fresh.tolist() == [False, True, False]
    assert model.run(1).weights.min() > 0.2  # refitted from k-means, both modes found
    alone, _ = E.fit(X[2:3], 2, np.random.default_rng(0), warm=M.MixtureBatch.stack(starts[2:3]))
    np.testing.assert_allclose(alone.means[0], model.means[2], rtol=1e-12)
    assert alone.n_iter[0] == model.n_iter[2]


def test_backends_follow_the_same_runs_with_a_warm_start():
    """The two backends share the data randomness: with a warm start the sklearn and batched runs
    follow the same path to rounding. Bugs: a schedule or sampler wired differently in one backend,
    an EM that differs from scikit-learn's."""
    kw = dict(n=200, generations=6, runs=3, seed=4, snapshots=[6])
    a = M.simulate(backend="batched", **kw)
    b = M.simulate(backend="sklearn", **kw)
    for name in ("total_var", "heldout_loglik", "l2_sq_true", "min_weight"):
        np.testing.assert_allclose(a.metrics[name], b.metrics[name], rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(a.metrics["n_iter"], b.metrics["n_iter"])


def test_fresh_starts_agree_with_sklearn_in_distribution():
    """k-means draws different random numbers in the two backends, so compare distributions: the
    total variance at generation 12 over 80 runs (n = 60, k-means every generation), two-sample KS
    test, p > 0.001. Bugs: a k-means start or EM that biases the collapse (for example too few EM
    iterations, or a covariance without its ridge) shift this distribution."""
    kw = dict(n=60, generations=12, runs=80, seed=9, init="fresh", measure_at=[])
    a = M.simulate(backend="batched", **kw)
    b = M.simulate(backend="sklearn", **kw)
    assert np.all(a.fresh_fits == 13) and np.all(b.fresh_fits == 13)
    for name in ("total_var", "heldout_loglik"):
        p = stats.ks_2samp(a.metrics[name][:, -1], b.metrics[name][:, -1]).pvalue
        assert p > 1e-3, (name, p)


def test_n_jobs_follows_joblibs_convention():
    """Bug (issue 7): ``n_jobs=-1`` rejected. joblib's convention: -1 is every core, -2 all but one,
    0 is an error; the sklearn backend's results do not depend on it."""
    assert E.n_workers(None) == 1 and E.n_workers(1) == 1 and E.n_workers(-1) >= 1
    with pytest.raises(ValueError, match="n_jobs"):
        E.n_workers(0)
    with pytest.raises(ValueError, match="n_jobs"):
        E.n_workers(1.5)
    kw = dict(n=80, generations=3, runs=3, seed=2, backend="sklearn")
    a, b = M.simulate(n_jobs=1, **kw), M.simulate(n_jobs=-1, **kw)
    np.testing.assert_array_equal(a.metrics["total_var"], b.metrics["total_var"])
    with pytest.raises(ValueError, match="n_jobs"):
        M.simulate(n=50, generations=2, runs=1, n_jobs=0)


@pytest.mark.parametrize("k", [2, 3])
def test_kmeans_reaches_sklearns_inertia_on_overlapping_clusters(k):
    """Bug: Lloyd's step assigns points to the wrong centre (for example the farthest, in the general
    rule or in the two-centre threshold). On tight clusters such a rule can merely permute them; on
    overlapping clusters in a row it leaves the partition where the seeding put it. The within-cluster
    sum of squares (inertia) of our labels must match scikit-learn's KMeans (median over 30 runs
    within 1%)."""
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(8)
    centres = np.array([[0.0, 0.0], [4.0, 0.0], [8.0, 0.0]])[:k]
    X = centres[rng.integers(0, k, size=(30, 300))] + rng.normal(size=(30, 300, 2))
    labels = E.kmeans_labels(X, k, np.random.default_rng(2))
    ours = [
        sum(
            np.sum((X[r][labels[r] == j] - X[r][labels[r] == j].mean(axis=0)) ** 2)
            for j in np.unique(labels[r])
        )
        for r in range(30)
    ]
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        theirs = [KMeans(k, n_init=1, random_state=r).fit(X[r]).inertia_ for r in range(30)]
    assert np.median(ours) == pytest.approx(np.median(theirs), rel=0.01)


def test_closed_form_coefficients_match_the_cholesky_route_and_flag_indefinite_covariances():
    """The EM iterations compute the E-step's coefficients of 2-D mixtures in closed form. Bugs: a
    wrong term (the off-diagonal counted once, the log-determinant's sign, the weights or the mean's
    cross term left out), or an indefinite covariance that is not flagged (scikit-learn raises there,
    the batched EM must retry). The closed form must equal scikit-learn's route through the Cholesky
    factors to rounding, for every matrix that has one."""
    from collapse_utils.gmm.mixture import log_prob_coefficients

    rng = np.random.default_rng(5)
    a = rng.normal(size=(6, 2, 2, 2))
    cov = a @ np.swapaxes(a, -1, -2) + 0.05 * np.eye(2)
    cov[1, 0] = [[1.0, 2.0], [2.0, 1.0]]  # positive diagonal, negative determinant
    cov[4, 1] = -np.eye(2)
    weights = rng.dirichlet([1.0, 1.0], size=6)
    means = rng.normal(size=(6, 2, 2))
    coef, ok = E.coefficients(weights, means, cov)
    assert np.argwhere(~ok).tolist() == [[1, 0], [4, 1]]
    prec, chol_ok = E.precision_cholesky(cov)
    np.testing.assert_array_equal(ok, chol_ok)
    reference = log_prob_coefficients(weights, means, prec)
    np.testing.assert_allclose(coef[ok], reference[ok], rtol=1e-10, atol=1e-12)


def test_fit_restores_torchs_thread_count():
    """The batched EM runs torch's products on one thread while it fits. Bug: the setting left behind,
    so that chapter 3's VAEs, trained later in the same kernel, would run on one core."""
    import torch

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        X = M.two_gaussians().sample(3 * 100, np.random.default_rng(0)).reshape(3, 100, 2)
        E.fit(X, 2, np.random.default_rng(1))
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
