"""Chapter 1's simulator against theory, with fixed seeds and stated tolerances.

Tolerances are in standard errors (SE) of the Monte Carlo estimate: 5 SE, so a
correct simulator fails with probability below 1e-6 per check, while the
maximum-likelihood variance (a factor (n-1)/n off) fails them by tens of SE.
"""

import numpy as np
import pytest
from scipy import integrate, stats

from collapse_utils import gaussian as G


@pytest.fixture(scope="module")
def big_exact():
    return G.simulate(n=10, generations=20, runs=200_000, seed=1, method="exact")


@pytest.fixture(scope="module")
def big_sample():
    return G.simulate(n=10, generations=20, runs=100_000, seed=2, method="sample")


def within(estimate, expected, se, k=5.0):
    return abs(estimate - expected) < k * se


def test_shapes_and_generation_zero():
    for method in ("exact", "sample"):
        run = G.simulate(5, 7, 3, seed=0, method=method)
        assert run.mean.shape == run.var.shape == (8, 3)
        np.testing.assert_array_equal(run.mean[0], 0.0)
        np.testing.assert_array_equal(run.var[0], 1.0)
        assert np.all(np.isfinite(run.mean)) and np.all(run.var > 0)
        assert run.std.shape == (8, 3) and run.generation.tolist() == list(range(8))


@pytest.mark.parametrize("method", ["exact", "sample"])
def test_seeds_reproduce(method):
    a = G.simulate(20, 30, 50, seed=3, method=method)
    b = G.simulate(20, 30, 50, seed=3, method=method)
    c = G.simulate(20, 30, 50, seed=4, method=method)
    np.testing.assert_array_equal(a.var, b.var)
    np.testing.assert_array_equal(a.mean, b.mean)
    assert not np.array_equal(a.var, c.var)


@pytest.mark.parametrize("fixture", ["big_exact", "big_sample"])
def test_unbiased_variance_keeps_mean_variance_at_one(request, fixture):
    run = request.getfixturevalue(fixture)
    n = run.n
    for t in (1, 3):
        sd = np.sqrt(G.var_of_var(n, t) / run.runs)
        assert within(run.var[t].mean(), 1.0, sd), (t, run.var[t].mean())
        # the maximum-likelihood variance would average (n-1)/n per generation
        assert not within(run.var[t].mean(), ((n - 1) / n) ** t, sd)


@pytest.mark.parametrize("fixture", ["big_exact", "big_sample"])
def test_log_variance_is_a_random_walk_with_negative_drift(request, fixture):
    run = request.getfixturevalue(fixture)
    for t in (1, 5, 20):
        expected = G.expected_log_var(run.n, t)
        sd = G.sd_log_var(run.n, t)
        assert expected < 0
        assert within(run.log_var[t].mean(), expected, sd / np.sqrt(run.runs)), t
        # its spread: the sample variance of log var_t has SE about sd^2 sqrt(2 / runs) (plus kurtosis)
        assert abs(run.log_var[t].std() / sd - 1) < 0.03, t


@pytest.mark.parametrize("fixture", ["big_exact", "big_sample"])
def test_mean_drifts_with_variance_t_over_n(request, fixture):
    run = request.getfixturevalue(fixture)
    for t in (1, 10, 20):
        v = run.mean[t].var()
        expected = G.var_of_mean(run.n, t)
        # the mean is a martingale of t steps with random scales: use 5 % (many SE at these run counts)
        assert abs(v / expected - 1) < 0.05, (t, v, expected)
    assert within(run.mean[20].mean(), 0.0, np.sqrt(G.var_of_mean(run.n, 20) / run.runs))


def test_expected_w2_matches_simulation(big_exact):
    run = big_exact
    w2 = G.wasserstein2_sq(run.mean, run.var)
    for t in (1, 5, 20):
        est = w2[t].mean()
        se = w2[t].std() / np.sqrt(run.runs)
        assert within(est, G.expected_w2_sq(run.n, t), se), t
        assert est >= G.paper_w2_lower_bound(run.n, t) - 5 * se


def test_exact_and_sample_methods_agree_in_distribution():
    kw = dict(n=8, generations=12, runs=40_000)
    for approach, retention in [(1, 0.0), (1, 0.25), (3, 0.0), (3, 0.25)]:
        a = G.simulate(**kw, approach=approach, retention=retention, seed=10, method="exact")
        b = G.simulate(**kw, approach=approach, retention=retention, seed=11, method="sample")
        for t in (1, 4, 12):
            assert stats.ks_2samp(a.var[t], b.var[t]).pvalue > 1e-4, (approach, retention, t)
            assert stats.ks_2samp(a.mean[t], b.mean[t]).pvalue > 1e-4, (approach, retention, t)


def test_sampling_distribution_of_one_step():
    # given (mu, s2) = (0, 1), the next unbiased variance is chi2(n-1)/(n-1) and the mean N(0, 1/n)
    run = G.simulate(n=6, generations=1, runs=50_000, seed=5, method="sample")
    assert stats.kstest(run.var[1] * 5, stats.chi2(5).cdf).pvalue > 1e-4
    assert stats.kstest(run.mean[1], stats.norm(0, np.sqrt(1 / 6)).cdf).pvalue > 1e-4
    # the maximum-likelihood variance fails the same test
    assert stats.kstest(run.var[1] * 5 * 5 / 6, stats.chi2(5).cdf).pvalue < 1e-6


def test_densities_integrate_to_one():
    assert abs(integrate.quad(lambda x: G.fitted_var_pdf(x, 2.0, 10), 0, 50)[0] - 1) < 1e-6
    assert abs(integrate.quad(lambda x: G.fitted_mean_pdf(x, 0.3, 2.0, 10), -10, 10)[0] - 1) < 1e-6
    assert abs(integrate.quad(lambda x: G.two_mode_pdf(x, 0.9), -10, 10)[0] - 1) < 1e-6


def test_collapse_and_its_absence():
    one = G.simulate(n=20, generations=500, runs=2000, approach=1, seed=0)
    three = G.simulate(n=20, generations=500, runs=2000, approach=3, seed=0)
    kept = G.simulate(n=20, generations=500, runs=2000, approach=1, retention=0.2, seed=0)
    assert np.median(one.var[-1]) < 1e-3  # approach 1 collapses
    assert G.collapsed_fraction(one, 0.1)[-1] > 0.9
    assert 0.7 < np.median(three.var[-1]) < 1.1  # the accumulated mix does not
    assert 0.5 < np.median(kept.var[-1]) < 1.5  # nor does retention
    assert G.collapsed_fraction(three, 0.1)[-1] == 0


def test_approach2_is_stable_but_noisier_than_approach3():
    one = G.simulate(n=20, generations=100, runs=500, approach=1, seed=0)
    two = G.simulate(n=20, generations=100, runs=500, approach=2, seed=0)
    three = G.simulate(n=20, generations=100, runs=500, approach=3, seed=0)
    assert np.median(two.var[-1]) > 5 * np.median(one.var[-1])
    assert 0.7 < np.median(two.var[-1]) < 1.3
    # each generation re-estimates from n points only: a wider spread than the accumulated fit
    assert two.log_var[-1].std() > 1.2 * three.log_var[-1].std()
    with pytest.raises(ValueError, match="method='sample'"):
        G.simulate(n=20, generations=5, runs=5, approach=2, method="exact")


def test_pooled_moments_equal_concatenation():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=37), rng.normal(2, 3, size=11)
    count, mean, m2 = G._merge(
        37.0, a.mean(), ((a - a.mean()) ** 2).sum(), 11.0, b.mean(), ((b - b.mean()) ** 2).sum()
    )
    both = np.concatenate([a, b])
    assert count == 48
    assert np.isclose(mean, both.mean()) and np.isclose(m2 / 47, both.var(ddof=1))


def test_tail_mass():
    c = 2.0
    assert np.isclose(G.tail_mass(0.0, 1.0, c), 2 * stats.norm.sf(c))
    assert G.tail_mass(0.0, 0.25, c) < 1e-4
    run = G.simulate(n=50, generations=300, runs=2000, seed=0)
    tails = np.median(G.tail_mass(run.mean, run.var, 3.0), axis=1)
    bulk = np.median(G.tail_mass(run.mean, run.var, 0.5), axis=1)
    # early collapse: the 3-sigma tail has lost far more of its mass than the bulk
    t = 100
    assert tails[t] / tails[0] < 0.5 * bulk[t] / bulk[0]


def test_functional_error_two_mode_mixture():
    sampler = G.two_mode_mixture(0.9)
    x = sampler((200_000,), np.random.default_rng(0))
    assert abs(x.mean()) < 0.01 and abs(x.var() - 1) < 0.01
    run = G.simulate(n=1000, generations=3, runs=50, original=sampler, seed=0)
    assert run.method == "sample"
    # generation 1 is a single Gaussian close to N(0, 1): the two modes are gone
    assert np.allclose(run.var[1], 1, atol=0.15)
    with pytest.raises(ValueError, match="method='sample'"):
        G.simulate(n=10, generations=3, runs=5, original=sampler, method="exact")
    with pytest.raises(ValueError, match="separation"):
        G.two_mode_mixture(1.2)


def test_keep_samples():
    run = G.simulate(n=10, generations=4, runs=3, seed=0, keep_samples=True)
    assert run.samples.shape == (4, 3, 10)
    np.testing.assert_allclose(run.samples.mean(axis=2), run.mean[1:])


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(n=1), "n must be an integer >= 2"),
        (dict(n=2.5), "n must be an integer >= 2"),
        (dict(generations=-1), "generations must be an integer >= 0"),
        (dict(runs=0), "runs must be an integer >= 1"),
        (dict(retention=1.01), r"retention must be in \[0, 1\]"),
        (dict(retention=float("nan")), r"retention must be in \[0, 1\]"),
        (dict(approach=0), "approach must be 1, 2 or 3"),
        (dict(method="magic"), "method must be one of auto, exact, sample"),
    ],
)
def test_bad_input_is_a_clear_error(kwargs, match):
    args = dict(n=10, generations=5, runs=4)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        G.simulate(**args)


def test_full_retention_is_the_truth_every_generation():
    run = G.simulate(n=30, generations=200, runs=3000, retention=1.0, seed=0)
    # every generation is a fresh fit to 30 original points
    assert abs(np.median(run.var[-1]) - stats.chi2(29).median() / 29) < 0.05


def test_categorical_loss_probability_and_absorption():
    p = np.array([0.6, 0.3, 0.08, 0.02])
    run = G.simulate_categorical(p, n=50, generations=1, runs=40_000, seed=0)
    lost = (run.counts[1] == 0).mean(axis=0)
    expected = G.loss_probability(p, 50)
    se = np.sqrt(expected * (1 - expected) / 40_000)
    assert np.all(np.abs(lost - expected) < 5 * se + 1e-12)
    # two categories: fixation probability equals the initial frequency; mean time ~ Kimura-Ohta
    run2 = G.simulate_categorical(np.array([0.3, 0.7]), n=40, generations=800, runs=4000, seed=1)
    t = run2.absorption_time()
    assert np.all(t > 0)
    fixed_first = (run2.counts[-1, :, 0] > 0).mean()
    assert within(fixed_first, 0.3, np.sqrt(0.21 / 4000))
    assert abs(t.mean() / G.expected_absorption_time(0.3, 40) - 1) < 0.1
    with pytest.raises(ValueError, match="probability vector"):
        G.simulate_categorical(np.array([0.5, 0.6]), 10, 2, 2)


def test_plot_collapse_draws(tmp_path):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    run = G.plot_collapse(n=20, generations=50, runs=40, ax=ax)
    assert run.var.shape == (51, 40)
    assert len(ax.lines) >= 20 and ax.get_yscale() == "log"
    plt.close(fig)


def test_first_below():
    assert G.first_below(np.array([1.0, 0.8, 0.4, 0.6, 0.1]), 0.5) == 2
    assert G.first_below(np.array([1.0, 0.8]), 0.5) is None
