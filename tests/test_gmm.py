"""Chapter 2's mixtures, measures and recursion, with fixed seeds and stated tolerances.

Monte Carlo checks use 5 standard errors (SE) where an SE is known, so that a
correct implementation fails with probability below 1e-6 per check.
"""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy import stats

from collapse_utils import gmm as M
from collapse_utils import widgets

P0 = M.two_gaussians()


def other_mixture() -> M.Mixture:
    return M.Mixture(
        weights=np.array([0.2, 0.5, 0.3]),
        means=np.array([[0.5, 1.0], [-1.0, 0.0], [2.0, -1.5]]),
        covariances=np.array([[[0.5, 0.1], [0.1, 0.3]], [[1.5, -0.4], [-0.4, 0.9]], [[0.2, 0.0], [0.0, 0.6]]]),
    )


# ---------------------------------------------------------------------------
# the mixture itself


def test_mixture_rejects_inconsistent_parameters():
    with pytest.raises(ValueError, match="weights"):
        M.Mixture(np.array([0.5, 0.6]), np.zeros((2, 2)), np.stack([np.eye(2)] * 2))
    with pytest.raises(ValueError, match="shapes"):
        M.Mixture(np.array([0.5, 0.5]), np.zeros((3, 2)), np.stack([np.eye(2)] * 2))
    with pytest.raises(ValueError, match="separation"):
        M.two_gaussians(separation=0)
    with pytest.raises(ValueError, match="weight"):
        M.two_gaussians(weight=1.0)


def test_logpdf_matches_scipy():
    x = np.random.default_rng(0).normal(size=(50, 2)) * 3
    for p in (P0, other_mixture()):
        expected = sum(w * stats.multivariate_normal(m, c).pdf(x) for w, m, c in zip(p.weights, p.means, p.covariances))
        np.testing.assert_allclose(p.pdf(x), expected, rtol=1e-10)
    # far from every component the log-density stays finite
    assert np.isfinite(P0.logpdf(np.array([[1e3, -1e3]]))).all()


def test_sample_shape_seed_and_moments():
    p = other_mixture()
    a = p.sample(200_000, np.random.default_rng(1))
    b = p.sample(200_000, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (200_000, 2)
    assert p.sample(0, np.random.default_rng(1)).shape == (0, 2)
    # mean within 5 SE per coordinate; covariance within 2% (SE of a variance ~ sqrt(2/N) * var ~ 0.3%)
    cov = p.covariance()
    se = np.sqrt(np.diag(cov) / a.shape[0])
    assert np.all(np.abs(a.mean(axis=0) - p.weights @ p.means) < 5 * se)
    np.testing.assert_allclose(np.cov(a.T), cov, atol=0.02 * np.trace(cov))
    assert p.total_variance() == pytest.approx(np.trace(cov))


def test_gaussian_overlap_formula():
    p, q = P0, other_mixture()
    got = M.gaussian_overlaps(p, q)
    for i in range(p.n_components):
        for j in range(q.n_components):
            expected = stats.multivariate_normal(q.means[j], p.covariances[i] + q.covariances[j]).pdf(p.means[i])
            assert got[i, j] == pytest.approx(expected, rel=1e-10)


def test_l2_closed_form_matches_numerical_integration():
    p, q = P0, other_mixture()
    xs = np.linspace(-12, 12, 801)
    X, Y = np.meshgrid(xs, xs)
    pts = np.column_stack([X.ravel(), Y.ravel()])
    numeric = np.sum((p.pdf(pts) - q.pdf(pts)) ** 2) * (xs[1] - xs[0]) ** 2
    assert M.l2_sq(p, q) == pytest.approx(numeric, rel=1e-4)
    assert M.l2_sq(p, q) == pytest.approx(M.l2_sq(q, p), rel=1e-12)
    assert M.l2_sq(p, p) == pytest.approx(0.0, abs=1e-12)
    assert M.l2_distance(p, q) == pytest.approx(np.sqrt(M.l2_sq(p, q)))


def test_tail_level_holds_alpha_of_the_original():
    alpha = 0.01
    log_level = M.tail_level(P0, alpha, seed=0)
    fresh = P0.sample(100_000, np.random.default_rng(99))
    frac = np.mean(P0.logpdf(fresh) < log_level)
    se = np.sqrt(alpha * (1 - alpha) / fresh.shape[0])
    assert abs(frac - alpha) < 5 * se + 0.001  # + the level's own Monte Carlo error
    measure = M.Measure(P0, n_tail=20_000)
    assert abs(measure.tail_mass(P0) - alpha) < 5 * np.sqrt(alpha * (1 - alpha) / 20_000) + 0.001
    # a mixture with every component shrunk keeps away from the tails
    shrunk = M.Mixture(P0.weights, P0.means, P0.covariances * 0.1)
    assert measure.tail_mass(shrunk) < alpha / 10
    with pytest.raises(ValueError, match="tail_alpha"):
        M.tail_level(P0, 1.5)


def test_measure_keys_and_reference():
    measure = M.Measure(P0)
    m0 = measure(P0, 0)
    assert set(M.METRICS) <= set(m0)
    assert m0["l2_sq"] == 0.0 and m0["l2_sq_true"] == 0.0
    assert m0["mean_distance"] == pytest.approx(5.0)
    np.testing.assert_allclose(m0["weights"], [0.5, 0.5])
    m1 = measure(other_mixture(), 1)  # distances are to generation 0's mixture
    assert m1["l2_sq"] == pytest.approx(M.l2_sq(other_mixture(), P0))
    assert np.all(np.diff(m1["weights"]) <= 0)
    one = M.Mixture(np.ones(1), np.zeros((1, 2)), np.eye(2)[None])
    assert np.isnan(measure(one, 2)["mean_distance"]) and np.isnan(measure(one, 2)["min_weight"])


# ---------------------------------------------------------------------------
# fitting


def test_fitter_recovers_the_original_and_warm_start_agrees():
    data = P0.sample(5000, np.random.default_rng(3))
    fresh = M.fit_mixture(data, 2, seed=0)
    assert M.l2_sq(fresh, P0) < 1e-3
    np.testing.assert_allclose(np.sort(fresh.weights), [0.5, 0.5], atol=0.03)
    fitter = M.MixtureFitter(2, init="warm")
    first = fitter(data, np.random.default_rng(0))
    second = fitter(data, np.random.default_rng(1))  # warm start from `first`, same data
    assert M.l2_sq(first, second) < 1e-8
    assert second.n_iter <= 3 and fitter.fresh_fits == 1
    assert M.fit_mixture(data, 2, seed=0).means.tolist() == fresh.means.tolist()  # seeded


def test_fitter_survives_degenerate_data():
    rng = np.random.default_rng(0)
    # all points on two locations, and a component of near-zero weight to warm-start from
    data = np.repeat(np.array([[0.0, 0.0], [3.0, 3.0]]), [999, 1], axis=0)
    fitter = M.MixtureFitter(2)
    fitter.previous = M.Mixture(np.array([1 - 1e-9, 1e-9]), np.array([[0.0, 0.0], [9.0, 9.0]]),
                                np.stack([np.eye(2)] * 2))
    model = fitter(data, rng)
    assert fitter.fresh_fits == 1  # the dead component forced a fresh start
    assert np.all(np.isfinite(model.covariances)) and np.isclose(model.weights.sum(), 1)
    assert np.all(np.isfinite(model.sample(10, rng)))
    with pytest.raises(ValueError, match="n_components"):
        fitter(np.zeros((1, 2)), rng)


def test_fitter_validates_settings():
    for kwargs, name in [
        (dict(init="kmeans"), "init"), (dict(tol=0), "tol"), (dict(max_iter=0), "max_iter"),
        (dict(reg_covar=-1), "reg_covar"), (dict(n_components=0), "n_components"),
        (dict(covariance_type="diag"), "covariance_type"),
    ]:
        with pytest.raises(ValueError, match=name):
            M.MixtureFitter(**kwargs)


# ---------------------------------------------------------------------------
# the recursion


def test_simulate_shapes_snapshots_and_models():
    run = M.simulate(n=100, generations=6, runs=2, seed=0, snapshots=[0, 3, 6])
    assert run.generation.tolist() == list(range(7))
    for name in M.METRICS:
        assert run.metrics[name].shape == (7, 2), name
    assert run.metrics["weights"].shape == (7, 2, 2)
    assert run.quantiles("total_var").shape == (3, 7) and run.median("l2_sq").shape == (7,)
    assert all(sorted(s) == [0, 3, 6] for s in run.snapshots)
    assert all(isinstance(m, M.Mixture) for s in run.snapshots for m in s.values())
    np.testing.assert_array_equal(run.metrics["l2_sq"][0], 0.0)
    assert "100" in run.describe() and "2 runs" in run.describe()


def test_the_loop_drives_mis_specified_models():
    for k in (1, 3):
        run = M.simulate(n=60, generations=5, runs=1, n_components=k, seed=1, snapshots=[5])
        assert run.metrics["weights"].shape == (6, 1, k)
        assert run.snapshots[0][5].n_components == k
        assert np.isnan(run.metrics["mean_distance"]).all() == (k == 1)
        assert np.all(np.isfinite(run.metrics["heldout_loglik"]))


def test_seeds_reproduce_and_do_not_depend_on_n_jobs():
    a = M.simulate(n=80, generations=8, runs=3, seed=5)
    b = M.simulate(n=80, generations=8, runs=3, seed=5, n_jobs=2)
    c = M.simulate(n=80, generations=8, runs=3, seed=6)
    for name in ("l2_sq", "total_var", "heldout_loglik"):
        np.testing.assert_array_equal(a.metrics[name], b.metrics[name])
    assert not np.array_equal(a.metrics["total_var"], c.metrics["total_var"])
    # different runs of one call differ
    assert not np.array_equal(a.metrics["total_var"][:, 0], a.metrics["total_var"][:, 1])


@pytest.mark.parametrize("approach", [1, 2, 3])
@pytest.mark.parametrize("retention", [0.0, 0.1])
def test_schedules_and_retention_give_the_training_set_composition(approach, retention):
    n, g = 50, 4
    k = round(retention * n)
    run = M.simulate(n=n, generations=g, runs=1, approach=approach, retention=retention, seed=2)
    orig, synth = run.metrics["n_original"][:, 0], run.metrics["n_synthetic"][:, 0]
    assert orig[0] == n and synth[0] == 0  # generation 0: the original data
    t = np.arange(1, g + 1)
    if approach == 1:
        np.testing.assert_array_equal(orig[1:], k)
        np.testing.assert_array_equal(synth[1:], n - k)
    elif approach == 3:  # everything accumulates
        np.testing.assert_array_equal(orig[1:], n + t * k)
        np.testing.assert_array_equal(synth[1:], t * (n - k))
    else:  # a subsample of n from the pool, holding at least the retained share
        np.testing.assert_array_equal(orig[1:] + synth[1:], n)
        assert np.all(orig[1:] > 0)


def test_full_retention_keeps_the_first_model():
    # retention 1 under approach 1: every training set is the original data itself
    run = M.simulate(n=200, generations=5, runs=1, retention=1.0, seed=3)
    assert np.all(run.metrics["n_synthetic"] == 0)
    assert np.max(run.metrics["l2_sq"]) < 1e-8


def test_collapse_happens_without_original_data_and_retention_prevents_it():
    """Statistical claim, n = 100, 150 generations, 3 runs each (seeded).

    Without original data, each component is re-estimated from ~50 points per
    generation: log det of its covariance drifts down by about 5/50 per
    generation, so after 150 generations the held-out log-likelihood has
    fallen by far more than 2 nats in every run and the original's 1% tail
    region keeps less than a tenth of its mass. With half of every training
    set original (retention 0.5) the model stays within 1 nat of where it started.
    """
    collapse = M.simulate(n=100, generations=150, runs=3, seed=4)
    kept = M.simulate(n=100, generations=150, runs=3, seed=4, retention=0.5)
    ll0 = collapse.metrics["heldout_loglik"][0]
    assert np.all(collapse.metrics["heldout_loglik"][-1] < ll0 - 2)
    assert np.all(collapse.metrics["tail_mass"][-1] < 0.1 * collapse.tail_alpha)
    assert np.all(kept.metrics["heldout_loglik"][-1] > kept.metrics["heldout_loglik"][0] - 1)
    assert np.all(kept.metrics["tail_mass"][-1] > 0.3 * kept.tail_alpha)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(retention=1.5), "retention"),
        (dict(retention=-0.1), "retention"),
        (dict(retention=float("nan")), "retention"),
        (dict(n=0), "n"),
        (dict(n=1), "n"),
        (dict(n=2, n_components=3), "n"),
        (dict(generations=-1), "generations"),
        (dict(runs=0), "runs"),
        (dict(approach=4), "approach"),
        (dict(init="random"), "init"),
        (dict(n_components=0), "n_components"),
        (dict(snapshots=[0, 99]), "snapshots"),
        (dict(snapshots=[-1]), "snapshots"),
        (dict(n_jobs=0), "n_jobs"),
        (dict(tol=0.0), "tol"),
        (dict(tail_alpha=0.0), "tail_alpha"),
    ],
)
def test_bad_input_raises_a_clear_value_error(kwargs, name):
    base = dict(n=50, generations=10, runs=1, seed=0)
    with pytest.raises(ValueError, match=name):
        M.simulate(**{**base, **kwargs})


# ---------------------------------------------------------------------------
# plotting helpers


def test_plot_mixture_and_the_slider_helper():
    fig, ax = plt.subplots()
    M.plot_mixture(P0, ax=ax, n_samples=100, original=P0)
    assert len(ax.collections) > 0
    plt.close(fig)
    fig, ax = plt.subplots()
    model = M.plot_final_generation(n=100, generations=5, retention=0.2, ax=ax)
    assert isinstance(model, M.Mixture) and "generation 5" in ax.get_title()
    plt.close(fig)
    fig = widgets.small_multiples(M.plot_final_generation, "generations", [0, 3],
                                  fixed=dict(n=60, title=False), sharey=False)
    assert len(fig.axes) == 2
    plt.close(fig)
    with pytest.raises(ValueError, match="retention"):
        M.plot_final_generation(n=100, generations=5, retention=2.0)


def test_tail_loglik_uses_original_points_in_the_tail_region():
    measure = M.Measure(P0, n_heldout=500)
    assert measure.heldout_tail.shape == (500, 2)
    assert np.all(P0.logpdf(measure.heldout_tail) < measure.log_level)
    m = measure(P0, 0)
    assert m["tail_loglik"] < measure.log_level < m["heldout_loglik"]


def test_wright_fisher_absorption_cdf():
    # n = 2, p = 1/2: generation 0 is absorbed with probability 1/4 + 1/4; from count 1, each step absorbs with 1/2
    cdf = M.wright_fisher_absorption_cdf(2, 0.5, 3)
    np.testing.assert_allclose(cdf, [0.5, 0.75, 0.875, 0.9375])
    # the mean absorption time is close to the diffusion approximation 2 n ln 2 (within 3% at n = 100)
    cdf = M.wright_fisher_absorption_cdf(100, 0.5, 4000)
    assert np.all(np.diff(cdf) >= -1e-15) and cdf[-1] > 1 - 1e-9
    assert np.sum(1 - cdf) == pytest.approx(200 * np.log(2), rel=0.03)
    # against the chapter-1 simulator of the categorical chain (5 SE)
    from collapse_utils import gaussian

    sim = gaussian.simulate_categorical(np.array([0.5, 0.5]), n=20, generations=30, runs=20_000, seed=0)
    lost = (sim.counts[..., 0] == 0) | (sim.counts[..., 0] == 20)  # (generations + 1, runs)
    cdf20 = M.wright_fisher_absorption_cdf(20, 0.5, 30)
    # the simulator's row 0 is the original distribution, our generation 0 one draw later
    for t in (5, 15, 29):
        frac, theory = lost[t + 1].mean(), cdf20[t]
        assert abs(frac - theory) < 5 * np.sqrt(theory * (1 - theory) / 20_000), (t, frac, theory)
    with pytest.raises(ValueError, match="p must"):
        M.wright_fisher_absorption_cdf(10, 1.5, 3)


def test_zoom_limits_hold_the_collapsed_components():
    tiny = M.Mixture(np.array([0.7, 0.3]), np.array([[1.0, 1.0], [1.1, 0.9]]), np.stack([np.eye(2) * 1e-6] * 2))
    (x0, x1), (y0, y1) = M.zoom_limits(tiny)
    assert x0 < 1.0 < 1.1 < x1 and y0 < 0.9 < 1.0 < y1 and (x1 - x0) < 0.2
    fig, ax = plt.subplots()
    M.plot_mixture(tiny, ax=ax, limits=M.zoom_limits(tiny), levels=None, n_samples=50)
    plt.close(fig)


def test_first_below():
    assert M.first_below(np.array([3.0, 2.0, 0.5, 0.1]), 1.0) == 2
    assert M.first_below(np.array([3.0, 2.0]), 1.0) is None
