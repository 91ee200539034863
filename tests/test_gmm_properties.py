"""Property tests of chapter 2's mixtures, EM, measures and recursion, on cases built so that a bug shows.

The cases have non-diagonal covariances, unequal weights, more than two
components and, where a function takes any dimension, three dimensions. The
statistical checks use tolerances of a few standard errors (SE) *of the
quantity tested* (one component's covariance entry, one correlation), never a
tolerance scaled by the whole mixture's spread, which would hide a component
with the wrong covariance. Hypothesis runs with a fixed, small budget and
derandomised examples, so the suite is fast and reproducible. Each test's
docstring names the bugs it guards against.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from collapse_utils import gmm as M
from collapse_utils.gmm import em as E
from collapse_utils.gmm import measures as MEAS
from collapse_utils.gmm.mixture import base_noise

FAST = settings(max_examples=12, deadline=None, derandomize=True, database=None)


def random_mixture(seed: int, k: int, d: int = 2, spread: float = 3.0) -> M.Mixture:
    """A mixture with unequal weights and non-diagonal covariances (eigenvalues between about 0.1 and 3)."""
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.full(k, 2.0))
    weights = 0.05 / k + 0.95 * weights  # no component too light to sample
    means = rng.normal(0.0, spread, size=(k, d))
    a = rng.normal(size=(k, d, d))
    covs = a @ np.swapaxes(a, 1, 2) / d + 0.1 * np.eye(d)
    return M.Mixture(weights / weights.sum(), means, covs)


mixtures = st.builds(random_mixture, st.integers(0, 10_000), st.integers(1, 4), st.sampled_from([2, 3]))


# ---------------------------------------------------------------------------
# sampling


@FAST
@given(mixtures)
def test_transform_puts_each_point_at_its_components_mean_plus_cholesky_times_noise(p):
    """Bugs: the component picked with another component's weights (or off by one at the cdf's steps), the
    Cholesky factor transposed or replaced by the covariance, a point given another component's mean, the
    branch-free selection keeping the wrong bits. The transform is checked point by point against its
    definition: component k for u in [cdf_{k-1}, cdf_k), point mean_k + L_k z."""
    rng = np.random.default_rng(1)
    u, z = rng.random(200), rng.standard_normal((200, p.dim))
    cdf = np.cumsum(p.weights) / p.weights.sum()
    u[:p.n_components - 1] = cdf[:-1]  # points exactly on a step go to the next component
    comp = np.searchsorted(cdf, u, side="right")
    comp = np.minimum(comp, p.n_components - 1)
    L = np.linalg.cholesky(p.covariances)
    expected = p.means[comp] + np.einsum("nij,nj->ni", L[comp], z)
    np.testing.assert_allclose(p.transform(u, z), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("d", [2, 3])
def test_each_components_samples_have_its_covariance_within_five_standard_errors(d):
    """Bugs: one component sampled with the wrong covariance (transposed factor, the covariance instead of
    its Cholesky factor, another component's factor) or the wrong weight, hidden by any check on the whole
    mixture. Each component's sample covariance entries are compared with the truth within 5 SE of that
    entry, SE^2 = (S_ii S_jj + S_ij^2) / n_k, and its frequency within 5 binomial SE."""
    p = random_mixture(7, 4, d)
    m = 40_000
    rng = np.random.default_rng(3)
    u, z = base_noise(1, m, d, rng)
    x = p.batch().transform(u, z)[0]
    cdf = np.cumsum(p.weights) / p.weights.sum()
    comp = np.minimum(np.searchsorted(cdf, u[0], side="right"), p.n_components - 1)
    for k in range(p.n_components):
        xs = x[comp == k]
        nk = len(xs)
        assert abs(nk / m - p.weights[k]) < 5 * np.sqrt(p.weights[k] * (1 - p.weights[k]) / m)
        S = p.covariances[k]
        se_mean = np.sqrt(np.diag(S) / nk)
        assert np.all(np.abs(xs.mean(axis=0) - p.means[k]) < 5 * se_mean)
        se_cov = np.sqrt((np.outer(np.diag(S), np.diag(S)) + S**2) / nk)
        assert np.all(np.abs(np.cov(xs.T) - S) < 5 * se_cov), k


def test_runs_and_points_get_independent_noise():
    """Bugs: runs of a batch sharing one noise draw (the same samples in every run), points repeating, or
    the same noise drawn again for the next generation. The samples of different runs of the same mixture
    must be uncorrelated (|r| < 5 / sqrt(m)), no point may repeat, and two successive draws from one
    generator must be uncorrelated too."""
    p = M.MixtureBatch.stack([random_mixture(2, 3)] * 4)
    rng = np.random.default_rng(0)
    m = 5000
    x = p.sample(m, rng)
    y = p.sample(m, rng)
    assert len(np.unique(x.reshape(-1, 2), axis=0)) == 4 * m
    limit = 5 / np.sqrt(m)
    for a in range(4):
        for b in range(a + 1, 4):
            assert abs(np.corrcoef(x[a, :, 0], x[b, :, 0])[0, 1]) < limit
        assert abs(np.corrcoef(x[a, :, 0], y[a, :, 0])[0, 1]) < limit
        assert abs(np.corrcoef(x[a, :-1, 1], x[a, 1:, 1])[0, 1]) < limit  # successive points


def test_the_recursion_draws_fresh_independent_data_for_every_run_and_generation(monkeypatch):
    """Bugs: every run fitted to the same original sample, or a generation's samples drawn from noise
    reused from the previous generation (or another run). The data each fit sees are recorded: between
    runs of one generation and between successive generations of one run, the points must be
    uncorrelated (|r| < 5 / sqrt(n)), although the models they come from are nearly the same."""
    seen = []
    fit = E.fit

    def spy(X, *args, **kwargs):
        seen.append(np.array(X))
        return fit(X, *args, **kwargs)

    monkeypatch.setattr(E, "fit", spy)
    n = 1000
    M.simulate(n=n, generations=3, runs=3, seed=5, measure_at=[])
    assert len(seen) == 4
    limit = 5 / np.sqrt(n)
    for t, X in enumerate(seen):
        for a in range(3):
            for b in range(a + 1, 3):
                assert abs(np.corrcoef(X[a, :, 0], X[b, :, 0])[0, 1]) < limit, (t, a, b)
            if t:
                assert abs(np.corrcoef(seen[t - 1][a, :, 0], X[a, :, 0])[0, 1]) < limit, (t, a)


# ---------------------------------------------------------------------------
# densities, moments, distances


@FAST
@given(mixtures)
def test_logpdf_and_component_logpdf_match_scipy(p):
    """Bugs in the density of any dimension: the off-diagonal of the quadratic form counted once, the
    log-determinant's sign or factor, the weights left out, the wrong 2 pi constant for D = 3, features
    in another order than the coefficients."""
    x = np.random.default_rng(4).normal(0.0, 3.0, size=(40, p.dim))
    comps = np.stack([stats.multivariate_normal(m, c).logpdf(x) for m, c in zip(p.means, p.covariances)], 1)
    np.testing.assert_allclose(p.component_logpdf(x), comps, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(p.logpdf(x), np.log(np.exp(comps) @ p.weights), rtol=1e-9, atol=1e-9)


@FAST
@given(mixtures)
def test_mixture_covariance_is_the_law_of_total_covariance(p):
    """Bugs: the covariance of the whole mixture without the spread between the components' means, with
    the means' outer product not centred, or weighted by the wrong weights. Checked against the centred
    form sum_k w_k [C_k + (m_k - m)(m_k - m)^T], written independently."""
    mean = p.weights @ p.means
    centred = p.means - mean
    expected = np.einsum("k,kij->ij", p.weights, p.covariances + np.einsum("ki,kj->kij", centred, centred))
    np.testing.assert_allclose(p.covariance(), expected, rtol=1e-10, atol=1e-12)
    assert p.total_variance() == pytest.approx(np.trace(expected), rel=1e-10)


@settings(max_examples=6, deadline=None, derandomize=True, database=None)
@given(st.integers(0, 1000), st.integers(1, 3), st.integers(1, 3))
def test_l2_closed_form_matches_a_grid_integral_and_ignores_component_order(seed, kp, kq):
    """Bugs: a wrong term of the closed-form squared L2 distance (a cross term counted once, overlaps with
    one mixture's covariances only, the wrong weights), or a distance that changes when the components
    are listed in another order."""
    p = random_mixture(seed, kp, spread=1.5)
    q = random_mixture(seed + 1, kq, spread=1.5)
    xs = np.linspace(-12, 12, 481)
    X, Y = np.meshgrid(xs, xs)
    pts = np.column_stack([X.ravel(), Y.ravel()])
    numeric = np.sum((p.pdf(pts) - q.pdf(pts)) ** 2) * (xs[1] - xs[0]) ** 2
    assert M.l2_sq(p, q) == pytest.approx(numeric, rel=2e-3, abs=1e-9)
    order = np.arange(kp)[::-1]
    flipped = M.Mixture(p.weights[order], p.means[order], p.covariances[order])
    assert M.l2_sq(flipped, q) == pytest.approx(M.l2_sq(p, q), rel=1e-10, abs=1e-14)


def test_single_blob_is_the_authors_standard_normal_blob():
    """Bugs: the blob's ``std`` used as a variance, or a blob off the origin. The authors' notebook draws
    ``make_blobs`` around [0, 0] with ``cluster_std=1``; the covariance of ``single_blob(std)`` is
    ``std^2 I``."""
    blob = M.single_blob()
    assert blob.n_components == 1 and blob.dim == 2
    np.testing.assert_array_equal(blob.means, [[0.0, 0.0]])
    np.testing.assert_array_equal(blob.covariances[0], np.eye(2))
    np.testing.assert_allclose(M.single_blob(2.0).covariances[0], 4 * np.eye(2))
    with pytest.raises(ValueError, match="std"):
        M.single_blob(0.0)
    w = M.two_gaussians(weight=0.9).weights
    np.testing.assert_allclose(w, [0.9, 0.1])  # the first mode (left) gets ``weight``


# ---------------------------------------------------------------------------
# EM


@settings(max_examples=10, deadline=None, derandomize=True, database=None)
@given(st.integers(0, 10_000), st.integers(1, 4), st.sampled_from([2, 3]), st.sampled_from([1e-6, 0.3]))
def test_every_m_step_keeps_the_datas_mean_and_covariance(seed, k, d, reg):
    """An exact property of EM's M-step for full covariances: the fitted mixture's mean is the data's mean,
    and its covariance the data's (divided by N) plus ``reg_covar`` on the diagonal, whatever the data,
    the number of components or the iteration at which EM stopped. Bugs: means or covariances divided by N
    instead of the component's weight, weights not updated or not normalised, ``reg_covar`` missing or
    added twice, covariances not centred, a mix-up between runs of the batch."""
    rng = np.random.default_rng(seed)
    truth = random_mixture(seed, 3, d)
    X = truth.sample(3 * 150, rng).reshape(3, 150, d)
    model, _ = E.fit(X, k, np.random.default_rng(seed + 1), reg_covar=reg, max_iter=1 + seed % 5)
    for r in range(3):
        one = model.run(r)
        np.testing.assert_allclose(one.weights @ one.means, X[r].mean(axis=0), rtol=1e-8, atol=1e-8)
        expected = np.cov(X[r].T, ddof=0) + reg * np.eye(d)
        np.testing.assert_allclose(one.covariance(), expected, rtol=1e-7, atol=1e-8)


def test_em_matches_sklearn_in_three_dimensions_with_four_components():
    """The general-dimension path (Cholesky loop, coefficients through the precision's Cholesky factors,
    features of any D) is not the one the chapter's 2-D runs take. Bugs there: a wrong Cholesky entry,
    the precision's factor not transposed, features and coefficients in different orders."""
    from sklearn.mixture import GaussianMixture

    rng = np.random.default_rng(12)
    truth = random_mixture(3, 4, 3)
    X = truth.sample(2 * 400, rng).reshape(2, 400, 3)
    starts = [random_mixture(40 + r, 4, 3) for r in range(2)]
    settings = {**M.GMM_DEFAULTS, "tol": 1e-3}
    model, fresh = E.fit(X, 4, rng, warm=M.MixtureBatch.stack(starts), tol=1e-3)
    assert not fresh.any()
    for r in range(2):
        start = dict(weights_init=starts[r].weights, means_init=starts[r].means,
                     precisions_init=np.linalg.inv(starts[r].covariances))
        est = GaussianMixture(4, init_params="random", **start, **settings).fit(X[r])
        np.testing.assert_allclose(model.run(r).means, est.means_, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(model.run(r).covariances, est.covariances_, rtol=1e-6, atol=1e-9)
        assert model.n_iter[r] == est.n_iter_


def test_em_never_lowers_the_likelihood():
    """EM's guarantee: each iteration's log-likelihood is at least the previous one's. Bugs: an E-step
    and an M-step that do not belong together (responsibilities from stale coefficients, the weights'
    log left out of one of them). Checked on three runs, stopping after 1, 2, ..., 12 iterations."""
    truth = random_mixture(21, 3)
    rng = np.random.default_rng(2)
    X = truth.sample(3 * 300, rng).reshape(3, 300, 2)
    previous = np.full(3, -np.inf)
    for it in range(1, 13):
        model, _ = E.fit(X, 3, np.random.default_rng(9), max_iter=it, tol=1e-300)
        ll = np.array([model.run(r).logpdf(X[r]).mean() for r in range(3)])
        assert np.all(ll >= previous - 1e-8), it
        previous = ll


# ---------------------------------------------------------------------------
# the authors' setup and the warm start, as the chapter runs them


def test_the_authors_setup_refits_from_kmeans_every_generation_from_one_blob():
    """The chapter's authors' setup: the single blob, two components, ``init="fresh"``. Bugs: the blob's
    runs warm-started after all, or fitted to the book's two modes; the recorded original not the blob;
    generation 0 not a fit to the blob (its mixture keeps the data's mean, near 0 within 5 SE)."""
    n, runs = 400, 3
    run = M.simulate(n=n, generations=4, runs=runs, seed=1, original=M.single_blob(), init="fresh",
                     snapshots=[0, 4])
    assert run.fresh_fits.tolist() == [5] * runs
    assert run.original.n_components == 1
    heldout = M.Measure(M.single_blob()).heldout
    assert run.true_heldout_loglik == pytest.approx(M.single_blob().logpdf(heldout).mean())
    for r in range(runs):
        g0 = run.snapshots[r][0]
        assert np.all(np.abs(g0.weights @ g0.means) < 5 / np.sqrt(n))
        assert g0.total_variance() == pytest.approx(2.0, abs=5 * np.sqrt(4 / n))
    warm = M.simulate(n=n, generations=4, runs=runs, seed=1, original=M.single_blob())
    assert warm.fresh_fits.tolist() == [1] * runs


def test_warm_and_fresh_runs_share_their_data_randomness(monkeypatch):
    """The chapter compares the two starts on common random numbers: the same seed draws the same data
    whatever ``init`` is. Bugs: k-means drawing from the data's generator (the data then differ after the
    first fresh fit), or one generator for both roles."""
    seen = {"warm": [], "fresh": []}
    fit = E.fit
    current = []

    def spy(X, *args, **kwargs):
        seen[current[-1]].append(np.array(X))
        return fit(X, *args, **kwargs)

    monkeypatch.setattr(E, "fit", spy)
    for init in ("warm", "fresh"):
        current.append(init)
        M.simulate(n=300, generations=1, runs=2, seed=4, init=init, measure_at=[])
    np.testing.assert_array_equal(seen["warm"][0], seen["fresh"][0])
    # generation 1's data come from the same generation-0 fit with the same noise
    np.testing.assert_allclose(seen["warm"][1], seen["fresh"][1], rtol=1e-12)


# ---------------------------------------------------------------------------
# measures


@settings(max_examples=6, deadline=None, derandomize=True, database=None)
@given(st.integers(0, 10_000), st.integers(1, 3))
def test_fast_tail_test_equals_the_log_density_test(seed, k):
    """``Measure`` tests whether 2-D points lie in the tail region with a closed-form density (no logs).
    Bugs: the off-diagonal of a component's quadratic form counted once, the weights or the normalising
    constant left out, the comparison the wrong way round. It must agree with ``logpdf < log lambda``
    on every point but those within rounding of the boundary."""
    p = random_mixture(seed, k)
    measure = M.Measure(p, n_heldout=10, n_tail=1024)
    x = p.sample(4000, np.random.default_rng(seed)).reshape(2, 2000, 2) * 1.3
    fast = measure._in_tail(x)
    slow = p.logpdf(x.reshape(-1, 2)).reshape(2, 2000) < measure.log_level
    near = np.abs(p.logpdf(x.reshape(-1, 2)).reshape(2, 2000) - measure.log_level) < 1e-9
    assert np.array_equal(fast[~near], slow[~near])


def test_measure_sees_one_component_with_the_wrong_covariance():
    """A model that equals the original except that one component's covariance is doubled must move the
    tail mass and the held-out log-likelihood by far more than their standard errors. Bug guarded: a
    tail mass or likelihood that ignores all but the heaviest component."""
    p = M.two_gaussians(weight=0.7)
    measure = M.Measure(p)
    covs = p.covariances.copy()
    covs[1] *= 2.0  # the lighter component only
    q = M.Mixture(p.weights, p.means, covs)
    alpha = measure.tail_alpha
    se = np.sqrt(alpha * (1 - alpha) / len(measure.u))
    assert measure.tail_mass(q) - measure.tail_mass(p) > 5 * se
    ll_p, ll_q = p.logpdf(measure.heldout), q.logpdf(measure.heldout)
    diff = ll_p - ll_q
    assert diff.mean() > 5 * diff.std(ddof=1) / np.sqrt(len(diff))
    m = measure(q, 1)
    assert m["heldout_loglik"] == pytest.approx(ll_q.mean())
    assert measure.true_heldout_loglik == pytest.approx(ll_p.mean())


@settings(max_examples=10, deadline=None, derandomize=True, database=None)
@given(st.floats(0.3, 2.0), st.floats(0.0, 1.8))
def test_valley_is_one_for_a_unimodal_pair(sigma, ratio):
    """Two equal isotropic Gaussians are unimodal when their means are at most 2 sigma apart: no valley.
    Bugs: the valley measured at the means only, or not capped at 1, or NaN for coincident means."""
    d = ratio * sigma
    means = np.array([[0.0, 0.0], [d, 0.0]])
    p = M.Mixture(np.array([0.5, 0.5]), means, np.stack([sigma**2 * np.eye(2)] * 2))
    assert p.batch().valley()[0] == pytest.approx(1.0)


@settings(max_examples=10, deadline=None, derandomize=True, database=None)
@given(st.floats(0.3, 2.0), st.floats(2.6, 8.0), st.floats(0.2, 0.8))
def test_valley_of_a_bimodal_pair_is_the_density_at_its_lowest_point(sigma, ratio, w):
    """Well above 2 sigma apart the pair has a valley: the lowest density on the segment, relative to the
    lower density at the two means. Bugs: the ratio to the higher peak, the two lightest components used,
    the minimum taken off the segment."""
    d = ratio * sigma
    p = M.Mixture(np.array([w, 1 - w, 0.0 + 1e-9]) / (1 + 1e-9),
                  np.array([[0.0, 0.0], [d, 0.0], [50.0, 50.0]]), np.stack([sigma**2 * np.eye(2)] * 3))
    t = np.linspace(0, 1, 2001)[:, None]
    line = p.pdf(np.array([[0.0, 0.0]]) + t * np.array([[d, 0.0]]))
    expected = line.min() / min(line[0], line[-1])
    got = p.batch().valley(points=2001)[0]
    assert got == pytest.approx(expected, rel=1e-9)
    assert p.batch().valley()[0] == pytest.approx(expected, rel=0.05, abs=1e-3)  # the default 33 points


def test_valley_is_nan_for_one_component_and_recorded_by_measure():
    one = M.Mixture(np.ones(1), np.zeros((1, 2)), np.eye(2)[None])
    assert np.isnan(one.batch().valley()[0])
    m = M.Measure(M.two_gaussians())(M.two_gaussians(), 0)
    assert m["valley"] == pytest.approx(M.two_gaussians().batch().valley()[0]) and m["valley"] < 0.1


# ---------------------------------------------------------------------------
# the weights' chain


@settings(max_examples=8, deadline=None, derandomize=True, database=None)
@given(st.integers(2, 30), st.floats(0.05, 0.95))
def test_sparse_absorption_cdf_equals_the_dense_chain(n, p):
    """Bugs in the Wright-Fisher absorption probabilities: the transition matrix used untransposed (the
    wrong direction of the chain), transition probabilities from the start ``p`` instead of each count,
    truncation that drops real probability, absorption at one end only."""
    counts = np.arange(n + 1)
    T = stats.binom.pmf(counts[None, :], n, counts[:, None] / n)
    dist = stats.binom.pmf(counts, n, p)
    dense = []
    for _ in range(41):
        dense.append(dist[0] + dist[-1])
        dist = dist @ T
    np.testing.assert_allclose(M.wright_fisher_absorption_cdf(n, p, 40), dense, rtol=1e-12, atol=1e-15)


def test_absorption_cdf_of_two_draws_with_unequal_weights():
    """For n = 2 the chain is absorbed at once with probability p^2 + (1-p)^2, and from the middle state
    with probability 1/2 per generation: P(absorbed by t) = 1 - 2p(1-p) 2^-t, for unequal p too."""
    p = 0.8
    t = np.arange(6)
    expected = 1 - 2 * p * (1 - p) * 0.5**t
    np.testing.assert_allclose(M.wright_fisher_absorption_cdf(2, p, 5), expected, rtol=1e-12)


def test_tail_level_helpers_validate():
    with pytest.raises(ValueError, match="points"):
        M.two_gaussians().batch().valley(points=2)
    with pytest.raises(ValueError, match="level"):
        M.split_times(M.simulate(n=50, generations=1, runs=1, seed=0), level=0.0)
    assert MEAS.METRICS["valley"]


# ---------------------------------------------------------------------------
# rules at their boundaries and outputs no chapter figure checks (added after a second blind mutation check)


@pytest.mark.parametrize("backend", ["batched", "sklearn"])
def test_the_dead_component_rule_holds_at_exactly_one_expected_sample(backend):
    """A warm start is kept while every component expects at least one of the N samples (weight * N >= 1)
    and replaced by k-means below that. Bugs: the rule off by its boundary in one backend (> for >=), or
    the two backends disagreeing about it."""
    fit = E.fit if backend == "batched" else E.fit_sklearn
    X = random_mixture(3, 2).sample(8, np.random.default_rng(0))[None]
    cov = np.stack([np.eye(2)] * 2)
    at_boundary = M.Mixture(np.array([0.875, 0.125]), np.array([[0.0, 0.0], [1.0, 1.0]]), cov)  # 0.125 * 8 = 1
    below = M.Mixture(np.array([0.88, 0.12]), np.array([[0.0, 0.0], [1.0, 1.0]]), cov)
    _, fresh = fit(X, 2, np.random.default_rng(1), at_boundary.batch())
    assert not fresh[0]
    _, fresh = fit(X, 2, np.random.default_rng(1), below.batch())
    assert fresh[0]


@pytest.mark.parametrize("backend", ["batched", "sklearn"])
def test_fresh_fits_order_their_components_by_the_first_coordinate(backend):
    """After a k-means start both backends order the components by the first coordinate of their means, so
    that samples drawn with the same noise agree; warm-started runs keep their order. Bug: ordered by
    another coordinate, or not at all. The clusters here are ordered one way in x and the other in y."""
    fit = E.fit if backend == "batched" else E.fit_sklearn
    rng = np.random.default_rng(5)
    centres = np.array([[4.0, -6.0], [-4.0, 6.0]])
    X = (centres[rng.integers(0, 2, size=(3, 300))] + 0.5 * rng.normal(size=(3, 300, 2)))
    model, fresh = fit(X, 2, np.random.default_rng(2))
    assert fresh.all()
    assert np.all(np.diff(model.means[:, :, 0], axis=1) > 0)
    flipped = M.MixtureBatch(model.weights[:, ::-1], model.means[:, ::-1], model.covariances[:, ::-1],
                             model.n_iter, model.converged)
    warm, fresh = fit(X, 2, np.random.default_rng(2), flipped)
    assert not fresh.any() and np.all(np.diff(warm.means[:, :, 0], axis=1) < 0)


def test_em_is_stable_when_log_densities_differ_by_thousands():
    """The E-step subtracts each point's largest log-density before exponentiating. Bug: a shift that is not
    the largest (a component left out of the maximum), which overflows when the components are far apart;
    here three clusters 100 standard deviations apart, where a point's log-densities differ by thousands."""
    from sklearn.mixture import GaussianMixture

    rng = np.random.default_rng(4)
    centres = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0]])
    X = centres[rng.integers(0, 3, size=300)] + rng.normal(size=(300, 2))
    start = M.Mixture(np.full(3, 1 / 3), centres + 0.5, np.stack([np.eye(2)] * 3))
    model, _ = E.fit(X[None], 3, rng, warm=start.batch())
    est = GaussianMixture(3, init_params="random", weights_init=start.weights, means_init=start.means,
                          precisions_init=np.linalg.inv(start.covariances), **M.GMM_DEFAULTS).fit(X)
    np.testing.assert_allclose(model.run(0).means, est.means_, rtol=1e-6, atol=1e-9)
    assert np.all(np.isfinite(model.covariances))


def test_predict_and_mean_distance_use_the_weights():
    """Bugs: the most probable component without the weights; the distance between means taken between other
    components than the two heaviest. Checked against direct computations on a three-component mixture."""
    p = M.Mixture(np.array([0.15, 0.6, 0.25]), np.array([[0.0, 0.0], [1.0, 0.5], [-3.0, 2.0]]),
                  np.array([np.eye(2), [[2.0, 0.5], [0.5, 1.0]], 0.5 * np.eye(2)]))
    x = np.random.default_rng(0).normal(0.0, 2.0, size=(500, 2))
    dens = np.stack([w * stats.multivariate_normal(m, c).pdf(x) for w, m, c in zip(p.weights, p.means,
                                                                                      p.covariances)], 1)
    np.testing.assert_array_equal(p.predict(x), np.argmax(dens, axis=1))
    assert p.mean_distance() == pytest.approx(np.linalg.norm(p.means[1] - p.means[2]))
    q = M.two_gaussians(separation=4.0, weight=0.3)
    np.testing.assert_allclose(q.means, [[-2.0, 0.0], [2.0, 0.0]])
    assert not np.allclose(q.covariances[0], q.covariances[1])  # the two modes tilt differently


def test_measure_heldout_sample_is_the_originals_and_passes_fit_diagnostics_through():
    """Bugs: held-out points drawn from another distribution than the original (or from its tail region);
    a generation's EM iteration counts or convergence flags lost or mixed up between runs."""
    p = random_mixture(8, 3)
    measure = M.Measure(p, n_heldout=4000)
    x = measure.heldout
    se = np.sqrt(np.diag(p.covariance()) / len(x))
    assert np.all(np.abs(x.mean(axis=0) - p.weights @ p.means) < 5 * se)
    assert np.mean(p.logpdf(x) < measure.log_level) < 0.03  # about 1% in the tail region, not all of them
    batch = M.MixtureBatch(np.stack([p.weights] * 3), np.stack([p.means] * 3), np.stack([p.covariances] * 3),
                           np.array([4, 9, 2]), np.array([True, False, True]))
    out = measure(batch, 0)
    np.testing.assert_array_equal(out["n_iter"], [4, 9, 2])
    np.testing.assert_array_equal(out["converged"], [True, False, True])


def test_run_summaries_are_the_quantiles_of_the_runs():
    """Bugs: quantiles or medians over the wrong axis (over generations instead of runs), NaN not ignored."""
    run = M.simulate(n=60, generations=5, runs=5, seed=3)
    values = run.metrics["total_var"]
    np.testing.assert_allclose(run.quantiles("total_var", (0.2, 0.7)), np.quantile(values, [0.2, 0.7], axis=0))
    np.testing.assert_allclose(run.median("total_var"), np.median(values, axis=0))
    run.metrics["total_var"][0, 2] = np.nan
    assert np.isfinite(run.median("total_var")).all()


def test_slider_title_reports_the_runs_own_numbers(monkeypatch):
    """Bug: the title's numbers read from the wrong generation (the last generation's total variance printed
    as generation 0's). The title must carry the run's total variance at the last generation and at 0, and
    its L2 distance to generation 0."""
    import matplotlib.pyplot as plt

    from collapse_utils.gmm import recursion

    runs = []
    simulate = recursion.simulate

    def spy(**kwargs):
        runs.append(simulate(**kwargs))
        return runs[-1]

    monkeypatch.setattr(recursion, "simulate", spy)
    fig, ax = plt.subplots()
    M.plot_final_generation(n=80, generations=6, seed=2, ax=ax)
    plt.close(fig)
    tv = runs[0].metrics["total_var"][0]
    title = ax.get_title()
    assert f"total variance {tv[-1]:.2f} (gen 0: {tv[0]:.2f})" in title
    assert f"{runs[0].metrics['l2_sq'][0, -1]:.3f}" in title


# ---------------------------------------------------------------------------
# paths the chapter takes (added after a third blind mutation check)


def test_the_chapters_measurement_grid_is_accepted_as_is():
    """The chapter passes grids that include generation 0 and the last generation. Bug: ``measure_at``
    rejecting generation 0 (or the last), or measuring other generations than asked."""
    grid = [0, 1, 2, 4, 8]
    run = M.simulate(n=60, generations=8, runs=2, seed=1, measure_at=grid)
    assert run.generation.tolist() == grid


def test_the_distance_to_the_truth_is_not_the_distance_to_generation_0():
    """Bug: ``l2_sq_true`` measured to generation 0's mixtures (or ``l2_sq`` to the truth). With a
    generation 0 that differs from the original the two distances differ, and each is its own closed form."""
    P0 = M.two_gaussians()
    measure = M.Measure(P0)
    gen0 = random_mixture(1, 2)
    later = random_mixture(2, 3)
    measure(gen0, 0)
    out = measure(later, 1)
    assert out["l2_sq"] == pytest.approx(M.l2_sq(later, gen0), rel=1e-12)
    assert out["l2_sq_true"] == pytest.approx(M.l2_sq(later, P0), rel=1e-12)
    assert abs(out["l2_sq"] - out["l2_sq_true"]) > 1e-3


def test_kmeans_labels_are_a_fixed_point_of_lloyds_step():
    """At convergence every point belongs to the cluster whose centroid is nearest. Bug: Lloyd's iterations
    stopped early (for example when *any* label is unchanged rather than all), which leaves points closer to
    another cluster's centroid. Uniform data, where k-means needs many iterations, make it show."""
    X = np.random.default_rng(6).random((6, 600, 2))
    labels = E.kmeans_labels(X, 3, np.random.default_rng(0))
    wrong = []
    for r in range(6):
        c = np.stack([X[r][labels[r] == j].mean(axis=0) for j in range(3)])
        nearest = np.argmin(((X[r][:, None, :] - c[None]) ** 2).sum(axis=2), axis=1)
        wrong.append(np.mean(nearest != labels[r]))
    assert np.median(wrong) < 0.01, wrong


# ---------------------------------------------------------------------------
# retries, seeds and dimensions (added after a fourth blind mutation check)


def test_a_failed_fit_is_retried_from_kmeans_with_more_ridge_and_reported_fresh(monkeypatch):
    """A run whose EM fails numerically is refitted from k-means with ten times the ``reg_covar``. Bugs: the
    retry not reported as a fresh (k-means) fit, the ridge not raised, the other runs' fits overwritten."""
    calls = []
    em = E.em

    def failing_once(S, weights, means, prec, tol, max_iter, reg):
        out = em(S, weights, means, prec, tol, max_iter, reg)
        calls.append((len(weights), reg))
        if len(calls) == 1:
            out["failed"][1] = True
        return out

    monkeypatch.setattr(E, "em", failing_once)
    X = M.two_gaussians().sample(3 * 200, np.random.default_rng(0)).reshape(3, 200, 2)
    start = M.MixtureBatch.stack([M.two_gaussians()] * 3)
    calls.clear()
    model, fresh = E.fit(X, 2, np.random.default_rng(1), start, reg_covar=1e-6)
    assert fresh.tolist() == [False, True, False]
    assert calls[0] == (3, 1e-6) and calls[1][0] == 1 and calls[1][1] == pytest.approx(1e-5)
    monkeypatch.setattr(E, "em", em)
    again, _ = E.fit(X, 2, np.random.default_rng(1), start, reg_covar=1e-6)
    np.testing.assert_allclose(model.means[[0, 2]], again.means[[0, 2]], rtol=1e-12)


def test_kmeans_seeds_of_different_runs_are_drawn_independently():
    """Bug: every run's first k-means++ centre taken at the same index (runs sharing their random draws).
    With the same data in 20 runs, the first centres must differ between runs."""
    X = np.repeat(np.random.default_rng(1).normal(size=(1, 500, 2)), 20, axis=0)
    centres = E.kmeans_plus_plus(X, 2, np.random.default_rng(3))
    assert len(np.unique(centres[:, 0], axis=0)) >= 15


@FAST
@given(mixtures, mixtures)
def test_gaussian_overlaps_match_scipy_in_any_dimension(p, q):
    """Bugs in the overlap integral N(a_i; b_j, A_i + B_j) of the L2 distance: the normalising constant right
    in 2-D only, one mixture's covariances only, the pair mixed up."""
    if p.dim != q.dim:
        q = random_mixture(5, q.n_components, p.dim)
    got = M.gaussian_overlaps(p, q)
    for i in range(p.n_components):
        for j in range(q.n_components):
            cov = p.covariances[i] + q.covariances[j]
            assert got[i, j] == pytest.approx(stats.multivariate_normal(q.means[j], cov).pdf(p.means[i]), rel=1e-9)


def test_fit_mixture_follows_its_seed():
    """Bug: ``fit_mixture`` ignoring its seed (every k-means start the same). On structureless data the fit
    depends on the start: the same seed gives the same fit, other seeds other fits."""
    x = np.random.default_rng(2).random((300, 2))
    fits = [M.fit_mixture(x, 3, seed=s) for s in (0, 0, 1, 2, 3)]
    np.testing.assert_array_equal(fits[0].means, fits[1].means)
    assert len({np.round(f.means, 6).tobytes() for f in fits}) >= 3
