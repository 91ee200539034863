"""Chapter 2's mixtures, measures, recursion, sentences and plots, with fixed seeds and stated tolerances.

Monte Carlo checks use 5 standard errors (SE) where an SE is known, so that a
correct implementation fails with probability below 1e-6 per check. The
batched EM against scikit-learn is in ``test_gmm_em.py``.
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
        covariances=np.array(
            [[[0.5, 0.1], [0.1, 0.3]], [[1.5, -0.4], [-0.4, 0.9]], [[0.2, 0.0], [0.0, 0.6]]]
        ),
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


def test_mixture_rejects_a_covariance_that_is_not_positive_definite():
    """Bug (issue 7): a covariance that is not positive definite accepted, and a LinAlgError later."""
    bad = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]]])  # eigenvalues 3 and -1
    with pytest.raises(ValueError, match="covariances must be symmetric positive definite"):
        M.Mixture(np.array([0.5, 0.5]), np.zeros((2, 2)), bad)
    with pytest.raises(ValueError, match="covariances"):
        M.Mixture(np.array([1.0]), np.zeros((1, 2)), np.array([[[1.0, 0.5], [0.0, 1.0]]]))  # not symmetric


def test_logpdf_matches_scipy_single_and_batched():
    """Bugs: a wrong quadratic form or log-determinant in the density, or runs mixed up in a batch."""
    x = np.random.default_rng(0).normal(size=(50, 2)) * 3
    for p in (P0, other_mixture()):
        expected = sum(
            w * stats.multivariate_normal(m, c).pdf(x) for w, m, c in zip(p.weights, p.means, p.covariances)
        )
        np.testing.assert_allclose(p.pdf(x), expected, rtol=1e-10)
    batch = M.MixtureBatch.stack([P0, M.Mixture(P0.weights, P0.means + 1.0, P0.covariances * 2)])
    np.testing.assert_allclose(batch.logpdf(x)[1], batch.run(1).logpdf(x), rtol=1e-12)
    np.testing.assert_allclose(batch.logpdf(np.stack([x, x + 1]))[0], P0.logpdf(x + 0), rtol=1e-12)
    assert np.isfinite(P0.logpdf(np.array([[1e3, -1e3]]))).all()  # far away, still finite


def test_sample_shape_seed_and_moments():
    """Bugs: uniform instead of normal noise, the wrong Cholesky factor, components drawn with the
    wrong weights."""
    p = other_mixture()
    a = p.sample(200_000, np.random.default_rng(1))
    b = p.sample(200_000, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (200_000, 2)
    cov = p.covariance()
    se = np.sqrt(np.diag(cov) / a.shape[0])
    assert np.all(np.abs(a.mean(axis=0) - p.weights @ p.means) < 5 * se)
    np.testing.assert_allclose(np.cov(a.T), cov, atol=0.02 * np.trace(cov))
    assert p.total_variance() == pytest.approx(np.trace(cov))
    # component frequencies (5 SE)
    comp = p.predict(a)
    assert abs(np.mean(comp == 1) - 0.5) < 0.05
    batch = M.MixtureBatch.stack([P0, P0])
    x = batch.sample(1000, np.random.default_rng(2))
    assert x.shape == (2, 1000, 2) and not np.array_equal(x[0], x[1])


def test_total_variance_includes_the_distance_between_the_modes():
    """Bug: the total variance as the mean within-component variance only (it ignores the modes)."""
    # two unit components 5 apart, equal weights: trace = 2 (within) + 2.5^2 (between, x only)
    p = M.Mixture(np.array([0.5, 0.5]), np.array([[-2.5, 0.0], [2.5, 0.0]]), np.stack([np.eye(2)] * 2))
    assert p.total_variance() == pytest.approx(2 + 6.25)
    assert p.mean_distance() == pytest.approx(5.0)
    np.testing.assert_allclose(M.MixtureBatch.stack([p, p]).total_variance(), [8.25, 8.25])
    assert M.Measure(P0)(p, 0)["total_var"] == pytest.approx(8.25)


def test_gaussian_overlap_formula():
    p, q = P0, other_mixture()
    got = M.gaussian_overlaps(p, q)
    for i in range(p.n_components):
        for j in range(q.n_components):
            expected = stats.multivariate_normal(q.means[j], p.covariances[i] + q.covariances[j]).pdf(
                p.means[i]
            )
            assert got[i, j] == pytest.approx(expected, rel=1e-10)


def test_l2_closed_form_matches_numerical_integration():
    """Bugs: a wrong cross term (``- pq`` for ``- 2 pq``) or overlap covariance in the L2 distance."""
    p, q = P0, other_mixture()
    xs = np.linspace(-12, 12, 801)
    X, Y = np.meshgrid(xs, xs)
    pts = np.column_stack([X.ravel(), Y.ravel()])
    numeric = np.sum((p.pdf(pts) - q.pdf(pts)) ** 2) * (xs[1] - xs[0]) ** 2
    assert M.l2_sq(p, q) == pytest.approx(numeric, rel=1e-4)
    assert M.l2_sq(p, q) == pytest.approx(M.l2_sq(q, p), rel=1e-12)
    assert M.l2_sq(p, p) == pytest.approx(0.0, abs=1e-12)
    assert M.l2_distance(p, q) == pytest.approx(np.sqrt(M.l2_sq(p, q)))
    shifted = M.Mixture(P0.weights, P0.means + 0.5, P0.covariances)
    batch = M.MixtureBatch.stack([P0, shifted])
    np.testing.assert_allclose(M.l2_sq(batch, P0), [0.0, M.l2_sq(shifted, P0)], atol=1e-14)


def test_tail_level_holds_alpha_of_the_original():
    """Bug: the tail mass counting the points *above* the level (the bulk) instead of below it."""
    alpha = 0.01
    log_level = M.tail_level(P0, alpha, seed=0)
    fresh = P0.sample(100_000, np.random.default_rng(99))
    frac = np.mean(P0.logpdf(fresh) < log_level)
    se = np.sqrt(alpha * (1 - alpha) / fresh.shape[0])
    assert abs(frac - alpha) < 5 * se + 0.001  # + the level's own Monte Carlo error
    measure = M.Measure(P0, n_tail=20_000)
    assert abs(measure.tail_mass(P0) - alpha) < 5 * np.sqrt(alpha * (1 - alpha) / 20_000) + 0.001
    shrunk = M.Mixture(P0.weights, P0.means, P0.covariances * 0.1)
    assert measure.tail_mass(shrunk) < alpha / 10
    wide = M.Mixture(P0.weights, P0.means, P0.covariances * 4)
    assert measure.tail_mass(wide) > 5 * alpha
    with pytest.raises(ValueError, match="tail_alpha"):
        M.tail_level(P0, 1.5)


def test_measure_keys_reference_and_min_weight():
    """Bug (issue 7): ``min_weight`` returning the largest weight. Also: distances measured to the
    wrong reference (``l2_sq`` is to generation 0's mixture)."""
    measure = M.Measure(P0)
    m0 = measure(P0, 0)
    assert set(M.METRICS) <= set(m0)
    assert m0["l2_sq"] == 0.0 and m0["l2_sq_true"] == 0.0
    assert m0["mean_distance"] == pytest.approx(5.0)
    np.testing.assert_allclose(m0["weights"], [0.5, 0.5])
    m1 = measure(other_mixture(), 1)
    assert m1["l2_sq"] == pytest.approx(M.l2_sq(other_mixture(), P0))
    assert m1["min_weight"] == pytest.approx(0.2)
    np.testing.assert_allclose(m1["weights"], [0.5, 0.3, 0.2])
    one = M.Mixture(np.ones(1), np.zeros((1, 2)), np.eye(2)[None])
    assert np.isnan(measure(one, 2)["mean_distance"]) and np.isnan(measure(one, 2)["min_weight"])


# ---------------------------------------------------------------------------
# the recursion


def test_simulate_shapes_snapshots_and_measured_generations():
    run = M.simulate(n=100, generations=6, runs=2, seed=0, snapshots=[0, 3, 6])
    assert run.generation.tolist() == list(range(7))
    for name in M.METRICS:
        assert run.metrics[name].shape == (2, 7), name
    assert run.metrics["weights"].shape == (2, 7, 2)
    assert run.quantiles("total_var").shape == (3, 7) and run.median("l2_sq").shape == (7,)
    assert all(sorted(s) == [0, 3, 6] for s in run.snapshots)
    np.testing.assert_array_equal(run.at("l2_sq", 0), 0.0)
    assert "100" in run.describe() and "2 runs" in run.describe() and "replace" in run.describe()
    grid = M.simulate(n=100, generations=6, runs=2, seed=0, measure_at=[2])
    assert grid.generation.tolist() == [0, 2, 6]
    np.testing.assert_array_equal(grid.at("total_var", 2), run.at("total_var", 2))
    with pytest.raises(ValueError, match="not measured"):
        grid.at("total_var", 3)


def test_the_loop_drives_mis_specified_models():
    for k in (1, 3):
        run = M.simulate(n=60, generations=5, runs=2, n_components=k, seed=1, snapshots=[5])
        assert run.metrics["weights"].shape == (2, 6, k)
        assert run.snapshots[0][5].n_components == k
        assert np.isnan(run.metrics["mean_distance"]).all() == (k == 1)
        assert np.all(np.isfinite(run.metrics["heldout_loglik"]))


def test_seeds_reproduce_and_runs_differ():
    a = M.simulate(n=80, generations=8, runs=3, seed=5)
    b = M.simulate(n=80, generations=8, runs=3, seed=5)
    c = M.simulate(n=80, generations=8, runs=3, seed=6)
    for name in ("l2_sq", "total_var", "heldout_loglik"):
        np.testing.assert_array_equal(a.metrics[name], b.metrics[name])
    assert not np.array_equal(a.metrics["total_var"], c.metrics["total_var"])
    assert not np.array_equal(a.metrics["total_var"][0], a.metrics["total_var"][1])


def test_fresh_init_refits_from_kmeans_every_generation():
    """Bug: ``init="fresh"`` ignored (the warm start used anyway)."""
    fresh = M.simulate(n=80, generations=5, runs=2, seed=1, init="fresh")
    warm = M.simulate(n=80, generations=5, runs=2, seed=1, init="warm")
    assert fresh.fresh_fits.tolist() == [6, 6]
    assert warm.fresh_fits.tolist() == [1, 1]


@pytest.mark.parametrize("approach", [1, 2, 3])
@pytest.mark.parametrize("retention", [0.0, 0.1])
def test_schedules_and_retention_give_the_training_set_composition(approach, retention):
    """Bugs: the schedule or the retention not passed to the data schedule."""
    n, g = 50, 4
    k = round(retention * n)
    run = M.simulate(n=n, generations=g, runs=2, approach=approach, retention=retention, seed=2)
    orig, synth = run.metrics["n_original"], run.metrics["n_synthetic"]
    assert orig[0] == n and synth[0] == 0  # generation 0: the original data
    t = np.arange(1, g + 1)
    if approach == 1:
        np.testing.assert_array_equal(orig[1:], k)
        np.testing.assert_array_equal(synth[1:], n - k)
    elif approach == 3:
        np.testing.assert_array_equal(orig[1:], n + t * k)
        np.testing.assert_array_equal(synth[1:], t * (n - k))
    else:
        np.testing.assert_array_equal(orig[1:] + synth[1:], n)
        assert np.all(orig[1:] > 0)


def test_full_retention_keeps_the_first_model():
    """Bug: retained points drawn from the model instead of the original sample."""
    run = M.simulate(n=200, generations=5, runs=2, retention=1.0, seed=3)
    assert np.all(run.metrics["n_synthetic"] == 0)
    assert np.max(run.metrics["l2_sq"]) < 1e-6  # EM only continues to its optimum (tol 1e-5)


def test_each_generation_is_fitted_to_the_previous_generations_samples():
    """Bug: every generation fitted to the original data (no recursion). Generation 1's fit must
    differ from generation 0's, and by about what one round of resampling gives."""
    run = M.simulate(n=200, generations=3, runs=4, seed=8)
    assert np.all(run.metrics["l2_sq"][:, 1:] > 1e-6)


def test_noise_drawn_ahead_is_the_noise_sampling_would_draw():
    """``simulate`` draws each generation's sampling noise in a second thread while it fits. Bugs: the
    noise drawn from another generator, reused across generations, or drawn out of order with the
    schedule's own draws (accumulate-subsample draws a subsample every generation). The recursion
    written out by hand, one step after the other, must give the same mixtures."""
    from collapse_utils.gmm import em as E
    from collapse_utils.schedules import DataSchedule

    n, runs, generations, seed = 120, 4, 3, 12
    run = M.simulate(n=n, generations=generations, runs=runs, seed=seed, approach=2,
                     snapshots=range(generations + 1), measure_at=[])
    data_seed, init_seed = np.random.SeedSequence(seed).spawn(2)
    rng, init_rng = np.random.default_rng(data_seed), np.random.default_rng(init_seed)
    data = P0.sample(n * runs, rng).reshape(runs, n, 2)
    schedule, model = DataSchedule(data, 2, 0.0, axis=1), None
    for g in range(generations + 1):
        model, _ = E.fit(data, 2, init_rng, model)
        for r in range(runs):
            np.testing.assert_allclose(run.snapshots[r][g].means, model.run(r).means, rtol=1e-12)
        data = schedule.next_training_set(model.sample(schedule.n_synthetic, rng), rng)


def test_collapse_happens_without_original_data_and_retention_prevents_it():
    """Statistical claim, n = 100, 150 generations, 4 runs each (seeded).

    Without original data, each component is re-estimated from ~50 points per
    generation: the log-determinant of its covariance drifts down by about 5/50 per
    generation, so after 150 generations the held-out log-likelihood has
    fallen by far more than 2 nats in every run and the original's 1% tail
    region keeps less than a tenth of its mass. With half of every training
    set original (fixed retention 0.5) the model stays within 1 nat of where it started
    and keeps at least a fifth of the tail mass (the original sample has only 100
    points, so even generation 0 varies by a factor of about 2 here).
    """
    collapse = M.simulate(n=100, generations=150, runs=4, seed=4, measure_at=[])
    kept = M.simulate(n=100, generations=150, runs=4, seed=4, retention=0.5, measure_at=[])
    ll0 = collapse.metrics["heldout_loglik"][:, 0]
    assert np.all(collapse.metrics["heldout_loglik"][:, -1] < ll0 - 2)
    assert np.all(collapse.metrics["tail_mass"][:, -1] < 0.1 * collapse.tail_alpha)
    assert np.all(kept.metrics["heldout_loglik"][:, -1] > kept.metrics["heldout_loglik"][:, 0] - 1)
    assert np.all(kept.metrics["tail_mass"][:, -1] > 0.2 * kept.tail_alpha)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(retention=1.5), "retention"),
        (dict(retention=True), "retention"),
        (dict(retention=float("nan")), "retention"),
        (dict(n=0), "n"),
        (dict(n=1), "n"),
        (dict(n=2, n_components=3), "n"),
        (dict(n=50.0), "n"),
        (dict(generations=-1), "generations"),
        (dict(runs=0), "runs"),
        (dict(approach=4), "approach"),
        (dict(approach=[1]), "approach"),
        (dict(init="random"), "init"),
        (dict(backend="torch"), "backend"),
        (dict(n_components=0), "n_components"),
        (dict(snapshots=[0, 99]), "snapshots"),
        (dict(snapshots=[-1]), "snapshots"),
        (dict(snapshots=5), "snapshots"),
        (dict(measure_at=[11]), "measure_at"),
        (dict(measure_at=3), "measure_at"),
        (dict(n_jobs=0), "n_jobs"),
        (dict(tol=0.0), "tol"),
        (dict(max_iter=0), "max_iter"),
        (dict(reg_covar=-1e-6), "reg_covar"),
        (dict(tail_alpha=0.0), "tail_alpha"),
        (dict(seed=-1), "seed"),
        (dict(original="p"), "original"),
        (dict(progress=1), "progress"),
    ],
)
def test_bad_input_raises_a_clear_value_error(kwargs, name):
    """Every parameter of ``simulate`` is checked before any work (issue 7), ``snapshots=5`` included."""
    base = dict(n=50, generations=10, runs=1, seed=0)
    with pytest.raises(ValueError, match=name):
        M.simulate(**{**base, **kwargs})


def test_other_public_functions_validate_their_input():
    with pytest.raises(ValueError, match="n_components"):
        M.fit_mixture(np.zeros((10, 2)), 0)
    with pytest.raises(ValueError, match="data"):
        M.fit_mixture(np.zeros((1, 2)), 2)
    with pytest.raises(ValueError, match="backend"):
        M.fit_mixture(np.zeros((10, 2)), 2, backend="gpu")
    with pytest.raises(ValueError, match="n_heldout"):
        M.Measure(P0, n_heldout=0)
    with pytest.raises(ValueError, match="original"):
        M.Measure("p")
    with pytest.raises(ValueError, match="p must"):
        M.wright_fisher_absorption_cdf(10, 1.5, 3)
    with pytest.raises(ValueError, match="n_samples"):
        M.plot_mixture(P0, n_samples=-1)
    with pytest.raises(ValueError, match="runs"):
        M.chain_band(np.zeros(3), 0)
    with pytest.raises(ValueError, match="approach"):
        M.schedule_name(5)
    with pytest.raises(ValueError, match="scale"):
        M.zoom_limits(P0, scale=0)
    with pytest.raises(ValueError, match="points"):
        M.density_grid(P0, (0, 1), (0, 1), points=1)
    with pytest.raises(ValueError, match="separation"):
        M.two_gaussians(separation=float("inf"))


def test_fit_mixture_recovers_the_original_with_both_backends():
    data = P0.sample(5000, np.random.default_rng(3))
    for backend in M.BACKENDS:
        fit = M.fit_mixture(data, 2, seed=0, backend=backend)
        assert M.l2_sq(fit, P0) < 1e-3
        np.testing.assert_allclose(np.sort(fit.weights), [0.5, 0.5], atol=0.03)


# ---------------------------------------------------------------------------
# plotting helpers and sentences


def test_plot_mixture_and_the_slider_helper():
    fig, ax = plt.subplots()
    M.plot_mixture(P0, ax=ax, n_samples=100, original=P0)
    assert len(ax.collections) > 0
    plt.close(fig)
    fig, ax = plt.subplots()
    model = M.plot_final_generation(n=100, generations=5, retention=0.2, ax=ax)
    assert isinstance(model, M.Mixture) and "generation 5" in ax.get_title() and "one run" in ax.get_title()
    plt.close(fig)
    fig = widgets.small_multiples(
        M.plot_final_generation, "generations", [0, 3], fixed=dict(n=60, title=False), sharey=False
    )
    assert len(fig.axes) == 2
    plt.close(fig)
    with pytest.raises(ValueError, match="retention"):
        M.plot_final_generation(n=100, generations=5, retention=2.0)


def test_plot_measures_draws_each_measure_over_runs():
    """Bug guarded: a panel that plots another measure than its title names, or the tail mass not relative to 1%."""
    run = M.simulate(n=100, generations=4, runs=3, seed=0)
    panels = [("l2_sq", "L2", "log", None, "L2 distance"), ("tail_mass", "/1%", "linear", 1.0, "tail mass"),
              ("total_var", "var", "linear", None, "total variance")]
    fig = M.plot_measures(run, panels, suptitle="x")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["L2 distance", "tail mass", "total variance"]
    median_tail = visible[1].get_lines()[-2].get_ydata()  # the median line (the reference line is last)
    np.testing.assert_allclose(median_tail, np.median(run.metrics["tail_mass"] / run.tail_alpha, axis=0))
    plt.close(fig)
    with pytest.raises(ValueError, match="did not record"):
        M.plot_measures(run, [("nope", "", "linear", None, "")])


def test_tail_loglik_uses_original_points_in_the_tail_region():
    measure = M.Measure(P0, n_heldout=500)
    assert measure.heldout_tail.shape == (500, 2)
    assert np.all(P0.logpdf(measure.heldout_tail) < measure.log_level)
    m = measure(P0, 0)
    assert m["tail_loglik"] < measure.log_level < m["heldout_loglik"]


def test_wright_fisher_absorption_cdf():
    """Bug: absorption counted at one end of the chain only."""
    cdf = M.wright_fisher_absorption_cdf(2, 0.5, 3)
    np.testing.assert_allclose(cdf, [0.5, 0.75, 0.875, 0.9375])
    cdf = M.wright_fisher_absorption_cdf(100, 0.5, 4000)
    assert np.all(np.diff(cdf) >= -1e-15) and cdf[-1] > 1 - 1e-9
    assert np.sum(1 - cdf) == pytest.approx(200 * np.log(2), rel=0.03)
    band = M.chain_band(cdf, 50)
    mid = (cdf > 0.1) & (cdf < 0.9)
    assert band.shape == (2, cdf.size) and np.all(band[0] <= band[1])
    assert np.all(band[0][mid] < cdf[mid]) and np.all(cdf[mid] < band[1][mid])
    i = np.argmin(np.abs(cdf - 0.5))  # Binomial(50, 1/2): 95% of the fractions within [0.36, 0.64]
    np.testing.assert_allclose(band[:, i], [0.36, 0.64], atol=0.021)
    np.testing.assert_allclose(
        M.absorbed_fraction([1, None, 3], np.arange(5)), [0, 1 / 3, 1 / 3, 2 / 3, 2 / 3]
    )


def test_chain_sentence_both_ways():
    """The sentence states what happened, whichever way: inside the band, above it (earlier) or below."""
    g = np.arange(4)
    band = np.array([[0.0, 0.1, 0.2, 0.3], [0.2, 0.3, 0.4, 0.5]])
    inside = M.chain_sentence(np.array([0.1, 0.2, 0.3, 0.4]), band, g, 16)
    assert "stayed inside" in inside
    above = M.chain_sentence(np.array([0.1, 0.5, 0.3, 0.4]), band, g, 16)
    assert (
        "merged earlier than the chain predicts" in above and "later" not in above and "generation 1" in above
    )
    below = M.chain_sentence(np.array([0.1, 0.2, 0.1, 0.1]), band, g, 16)
    assert "merged later than the chain predicts" in below and "earlier" not in below and "2 of 4" in below


def test_tail_rise_and_estimate_sentences_both_ways():
    g = np.array([0, 1, 2, 3])
    rose = M.tail_rise_sentence(g, np.array([1.0, 1.4, 0.9, 0.2]), np.array([1.2, 3.0, 2.0, 0.5]))
    assert "rose" in rose and "1.40" in rose and "generation 1" in rose
    flat = M.tail_rise_sentence(g, np.array([1.0, 0.9, 0.5, 0.2]), np.array([1.2, 1.1, 0.6, 0.5]))
    assert "did not rise" in flat
    agree = M.estimate_check_sentence(50, 0.0100, 0.0101, 8192, 262144)
    assert "32 times" in agree and "agree" in agree
    differ = M.estimate_check_sentence(50, 0.0100, 0.0150, 8192, 262144)
    assert "differ" in differ


def test_retention_and_warm_fresh_sentences():
    assert "3 original points" in M.retention_sentence(300, 0.01)
    assert "1 original point a" in M.retention_sentence(100, 0.01)
    warm = M.simulate(n=60, generations=4, runs=2, seed=1, measure_at=[])
    fresh = M.simulate(n=60, generations=4, runs=2, seed=1, init="fresh", measure_at=[])
    text = M.warm_fresh_sentence(warm, fresh)
    assert "k-means" in text and "of 2 runs" in text
    warm.seconds, fresh.seconds = 1.0, 3.0
    assert "3.0 times longer" in M.warm_fresh_sentence(warm, fresh)
    warm.seconds, fresh.seconds = 2.0, 1.0
    assert "0.5 times as long" in M.warm_fresh_sentence(warm, fresh)


def test_schedule_names_are_the_books():
    assert M.schedule_name(1) == "replace"
    assert M.schedule_name(2) == "accumulate-subsample"
    assert M.schedule_name(3) == "accumulate"
    assert M.schedule_name(1, 0.1) == "replace, fixed retention 10%"


def test_zoom_limits_hold_the_collapsed_components():
    tiny = M.Mixture(
        np.array([0.7, 0.3]), np.array([[1.0, 1.0], [1.1, 0.9]]), np.stack([np.eye(2) * 1e-6] * 2)
    )
    (x0, x1), (y0, y1) = M.zoom_limits(tiny)
    assert x0 < 1.0 < 1.1 < x1 and y0 < 0.9 < 1.0 < y1 and (x1 - x0) < 0.2
    fig, ax = plt.subplots()
    M.plot_mixture(tiny, ax=ax, limits=M.zoom_limits(tiny), levels=None, n_samples=50)
    plt.close(fig)


def test_time_budget_stops_early_and_says_so():
    """A slider position that would take too long stops at the budget; the result and the title say so."""
    run = M.simulate(n=60, generations=100_000, runs=1, seed=0, time_budget=0.3, measure_at=[])
    assert run.stopped_early and run.requested == 100_000 and 0 < run.generations < 100_000
    assert run.generation[-1] == run.generations and "time budget" in run.describe()
    full = M.simulate(n=60, generations=3, runs=1, seed=0, time_budget=100.0)
    assert not full.stopped_early and full.generations == 3
    fig, ax = plt.subplots()
    M.plot_final_generation(n=60, generations=100_000, ax=ax, time_budget=0.3)
    assert "time budget" in ax.get_title() and "100000 requested" in ax.get_title()
    plt.close(fig)
    with pytest.raises(ValueError, match="time_budget"):
        M.simulate(n=60, generations=3, runs=1, time_budget=0)


def test_batched_cholesky_flags_each_matrix_that_is_not_positive_definite():
    """Bugs: a wrong Cholesky factor in the 2-D closed form or the general loop, or one bad matrix that
    stops (or hides in) the whole stack."""
    from collapse_utils.gmm.mixture import cholesky

    rng = np.random.default_rng(0)
    for d in (2, 3):
        a = rng.normal(size=(20, d, d))
        a = a @ np.swapaxes(a, 1, 2) + 0.1 * np.eye(d)
        a[4] = -np.eye(d)
        a[7] = np.ones((d, d)) + np.diag(np.r_[-0.5, np.zeros(d - 1)])  # indefinite
        L, ok = cholesky(a)
        assert np.flatnonzero(~ok).tolist() == [4, 7]
        good = np.flatnonzero(ok)
        np.testing.assert_allclose(L[good], np.linalg.cholesky(a[good]), rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(L[4], np.eye(d))
