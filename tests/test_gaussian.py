"""Chapter 1's simulator against theory, with fixed seeds and stated tolerances.

Tolerances are in standard errors (SE) of the Monte Carlo estimate: 5 SE, so a
correct simulator fails with probability below 1e-6 per check, while the
maximum-likelihood variance (a factor (n-1)/n off) fails them by tens of SE.

Generation 0 is the fit to the original data (n draws of the truth, N(0, 1));
generation t is the result of t + 1 fits. Tests that exist to kill a plausible
bug name it in their docstring ("Bug guarded: ...").
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
    """Bug guarded: row 0 holding the true distribution instead of the fit to the original data."""
    for method in ("exact", "sample"):
        run = G.simulate(5, 7, 3, seed=0, method=method)
        assert run.mean.shape == run.var.shape == (8, 3)
        assert (run.true_mean, run.true_var) == (0.0, 1.0)
        assert not np.any(run.var[0] == 1.0) and not np.any(run.mean[0] == 0.0)  # a fit, not the truth
        assert np.all(np.isfinite(run.mean)) and np.all(run.var > 0)
        assert run.std.shape == (8, 3) and run.generation.tolist() == list(range(8))


def test_generation_zero_is_one_fit_to_the_original_data():
    """Bug guarded: generation 0 fitted to no data (the truth) or to the samples of an extra generation."""
    for method in ("exact", "sample"):
        run = G.simulate(n=6, generations=0, runs=50_000, seed=5, method=method)
        assert stats.kstest(run.var[0] * 5, stats.chi2(5).cdf).pvalue > 1e-4, method
        assert stats.kstest(run.mean[0], stats.norm(0, np.sqrt(1 / 6)).cdf).pvalue > 1e-4, method


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
    for t in (0, 2):
        sd = np.sqrt(G.var_of_var(n, t) / run.runs)
        assert within(run.var[t].mean(), 1.0, sd), (t, run.var[t].mean())
        # the maximum-likelihood variance would average (n-1)/n per fit
        assert not within(run.var[t].mean(), ((n - 1) / n) ** (t + 1), sd)


@pytest.mark.parametrize("fixture", ["big_exact", "big_sample"])
def test_log_variance_is_a_random_walk_with_negative_drift(request, fixture):
    run = request.getfixturevalue(fixture)
    for t in (0, 4, 19):
        expected = G.expected_log_var(run.n, t)
        sd = G.sd_log_var(run.n, t)
        assert expected < 0
        assert within(run.log_var[t].mean(), expected, sd / np.sqrt(run.runs)), t
        # its spread: the sample variance of log var_t has SE about sd^2 sqrt(2 / runs) (plus kurtosis)
        assert abs(run.log_var[t].std() / sd - 1) < 0.03, t


@pytest.mark.parametrize("fixture", ["big_exact", "big_sample"])
def test_mean_drifts_with_variance_t_over_n(request, fixture):
    run = request.getfixturevalue(fixture)
    for t in (0, 9, 19):
        v = run.mean[t].var()
        expected = G.var_of_mean(run.n, t)
        # the mean is a martingale of t steps with random scales: use 5 % (many SE at these run counts)
        assert abs(v / expected - 1) < 0.05, (t, v, expected)
    assert within(run.mean[20].mean(), 0.0, np.sqrt(G.var_of_mean(run.n, 20) / run.runs))


@pytest.mark.parametrize("fixture", ["big_exact", "big_sample"])
def test_mean_step_is_independent_of_the_new_variance(request, fixture):
    """Bug guarded: the mean's step drawn with the *new* fitted variance instead of the sampled model's.

    For Gaussian data the sample mean and variance are independent: given generation t-1, the step
    mean_t - mean_{t-1} (scaled by var_{t-1}) is independent of var_t / var_{t-1}. With the bug their
    correlation is about 1/sqrt(n-1) = 0.33 at n = 10; tolerance 0.02 (about 8 SE at 100,000 runs).
    """
    run = request.getfixturevalue(fixture)
    assert abs(np.corrcoef(run.mean[0] ** 2, run.var[0])[0, 1]) < 0.02
    for t in (1, 5, 19):
        step = (run.mean[t] - run.mean[t - 1]) ** 2 / run.var[t - 1]
        assert abs(np.corrcoef(step, run.var[t] / run.var[t - 1])[0, 1]) < 0.02, t


def test_expected_w2_matches_simulation(big_exact):
    run = big_exact
    w2 = G.wasserstein2_sq(run.mean, run.var)
    for t in (0, 4, 19):
        est = w2[t].mean()
        se = w2[t].std() / np.sqrt(run.runs)
        assert within(est, G.expected_w2_sq(run.n, t), se), t


def test_paper_first_order_w2_against_simulation_for_t_much_smaller_than_n():
    """Bug guarded: the first-order formula as sigma^2 sum 1/M_i (the mean's drift alone, the old "lower bound").

    Paper, supplementary 3.1.1 eq. 6: E[W2^2] = (3/2) sigma^2 (1/M_0 + ... + 1/M_t) + O(2). For t + 1 <= 20
    fits of n = 1000 points the second-order terms are below 0.1% of it; tolerance 5 SE of 200,000 runs.
    """
    n, gens, runs = 1000, 19, 200_000
    run = G.simulate(n, gens, runs, seed=7, method="exact")
    w2 = G.wasserstein2_sq(run.mean, run.var)
    first = G.w2_first_order(np.full(gens + 1, n))
    for t in (0, 9, 19):
        se = w2[t].std() / np.sqrt(runs)
        assert within(w2[t].mean(), first[t], se), t
        assert not within(w2[t].mean(), (t + 1) / n, se), t  # sigma^2 sum 1/M_i is far off
    np.testing.assert_allclose(first, 1.5 * np.arange(1, gens + 2) / n)
    # and the first-order formula is the exact one's expansion: close for t << n, off for t ~ n
    assert abs(first[19] / G.expected_w2_sq(n, 19) - 1) < 0.01
    breaks = G.first_order_breakdown(n, 5 * n)
    assert breaks is not None and 2 * n < breaks < 4 * n  # 10% off once t is about 2.7 n
    assert G.first_order_breakdown(n, 10) is None


def test_superlinear_growth_keeps_the_distance_finite():
    """Bug guarded: sample sizes that grow only linearly called "superlinear", or E[W2^2] summed wrongly.

    The paper: the distance stays finite only when M_i grows superlinearly (sum 1/M_i converges).
    """
    m0 = 10
    const, linear, quad = (G.expected_w2_sq_sizes(G.sample_sizes(m0, 10_000, g)) for g in G.GROWTHS)
    # superlinear: bounded by its limit, reached to 1e-3 (1.5 pi^2 / 6 / m0 is the first-order limit)
    assert quad[-1] - quad[1000] < 1e-3 and quad[-1] < 1.5 * np.pi**2 / 6 / m0 + 0.02
    # linear: grows like (3/2) ln(t) / m0, without bound
    assert linear[-1] - linear[1000] > 0.9 * 1.5 * np.log(10) / m0
    assert const[-1] > 1.9  # constant: the variance collapses (2) and the mean walks on
    np.testing.assert_array_equal(G.sample_sizes(3, 3, "superlinear"), [3, 12, 27, 48])
    np.testing.assert_array_equal(G.sample_sizes(3, 3, "linear"), [3, 6, 9, 12])
    # the simulation agrees with the exact formula (5 SE, 40,000 runs)
    sizes = G.sample_sizes(m0, 300, "superlinear")
    run = G.simulate_sizes(sizes, 40_000, seed=3)
    w2 = G.wasserstein2_sq(run.mean, run.var)
    exact = G.expected_w2_sq_sizes(sizes)
    for t in (0, 10, 300):
        assert within(w2[t].mean(), exact[t], w2[t].std() / np.sqrt(run.runs)), t
    assert run.sizes.tolist() == sizes.tolist() and run.var.shape == (301, 40_000)


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
    assert stats.kstest(run.var[0] * 5, stats.chi2(5).cdf).pvalue > 1e-4
    # the maximum-likelihood variance fails the same test
    assert stats.kstest(run.var[0] * 5 * 5 / 6, stats.chi2(5).cdf).pvalue < 1e-6
    # one step further: var_1 / var_0 is again chi2(5)/5, independent of var_0
    assert stats.kstest(run.var[1] / run.var[0] * 5, stats.chi2(5).cdf).pvalue > 1e-4


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
    # a shifted model: more mass beyond +c, less beyond -c (a wrong sign in either tail breaks this)
    assert np.isclose(G.tail_mass(1.0, 4.0, c), stats.norm.sf(0.5) + stats.norm.cdf(-1.5))
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
    assert run.method == "exact"  # generation 0 from actual points, the rest exactly
    # generation 0 is a single Gaussian close to N(0, 1): the two modes are gone
    assert np.allclose(run.var[0], 1, atol=0.15)
    with pytest.raises(ValueError, match="method='sample'"):
        G.simulate(n=10, generations=3, runs=5, original=sampler, retention=0.1, method="exact")
    with pytest.raises(ValueError, match="separation"):
        G.two_mode_mixture(1.2)


def test_keep_samples():
    for approach in (1, 2):
        run = G.simulate(n=10, generations=4, runs=3, seed=0, keep_samples=True, approach=approach)
        assert run.samples.shape == (5, 3, 10)
        np.testing.assert_allclose(run.samples.mean(axis=2), run.mean, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(n=1), "n must be an integer >= 2"),
        (dict(n=2.5), "n must be an integer >= 2"),
        (dict(generations=-1), "generations must be an integer >= 0"),
        (dict(runs=0), "runs must be an integer >= 1"),
        (dict(retention=1.01), r"retention must be a finite number in \[0, 1\]"),
        (dict(retention=float("nan")), r"retention must be a finite number in \[0, 1\]"),
        (dict(approach=0), "approach must be 1, 2 or 3"),
        (dict(method="magic"), "method must be one of 'auto', 'exact', 'sample'"),
        (dict(retained="new"), "retained must be one of 'fixed', 'fresh'"),
        (dict(keep_samples=1), "keep_samples must be True or False"),
        (dict(seed=-1), "seed must be an integer >= 0"),
        (dict(original=3), "original must be a sampler"),
    ],
)
def test_bad_input_is_a_clear_error(kwargs, match):
    args = dict(n=10, generations=5, runs=4)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        G.simulate(**args)


def test_simulate_approach_list_is_a_value_error():
    """Bug guarded: `simulate(approach=[1])` failing with a TypeError instead of naming the parameter."""
    with pytest.raises(ValueError, match="approach must be 1, 2 or 3"):
        G.simulate(10, 5, 4, approach=[1])


def test_simulate_retention_true_is_a_value_error():
    """Bug guarded: `retention=True` silently taken as 1.0."""
    with pytest.raises(ValueError, match=r"retention must be a finite number in \[0, 1\]"):
        G.simulate(10, 5, 4, retention=True)


def test_expected_log_var_n_1_is_a_value_error():
    """Bug guarded: `expected_log_var(n=1)` raising ZeroDivisionError."""
    with pytest.raises(ValueError, match="n must be an integer >= 2"):
        G.expected_log_var(1, 5)


def test_tail_mass_negative_variance_is_a_value_error():
    """Bug guarded: `tail_mass(var=-1)` returning NaN."""
    with pytest.raises(ValueError, match="var must hold numbers >= 0"):
        G.tail_mass(0.0, -1.0, 2.0)


def test_expected_absorption_time_p_out_of_range_is_a_value_error():
    """Bug guarded: `expected_absorption_time(p=1.5)` returning 0."""
    with pytest.raises(ValueError, match=r"p must be a finite number in \[0, 1\]"):
        G.expected_absorption_time(1.5, 10)
    assert G.expected_absorption_time(1.0, 10) == 0.0


def test_theory_rejects_negative_generations():
    with pytest.raises(ValueError, match="generations must hold numbers >= 0"):
        G.expected_w2_sq(10, -1)
    with pytest.raises(ValueError, match="sizes must be a 1-D sequence of integers >= 2"):
        G.w2_first_order([10, 1])
    with pytest.raises(ValueError, match="growth must be one of"):
        G.sample_sizes(10, 5, "cubic")


def test_full_retention_is_the_truth_every_generation():
    run = G.simulate(n=30, generations=200, runs=3000, retention=1.0, seed=0)
    # every generation is a fresh fit to 30 original points
    assert abs(np.median(run.var[-1]) - stats.chi2(29).median() / 29) < 0.05
    assert run.retained == "fresh" and run.method == "exact"


def test_fixed_retention_reuses_the_original_sample():
    """Bug guarded: "fixed" retention drawing fresh points (or with replacement) instead of subsetting the original sample."""
    full = G.simulate(n=30, generations=20, runs=50, retention=1.0, retained="fixed", seed=0)
    assert full.method == "sample"
    # all 30 of the 30 original points, every generation: the same fit as generation 0
    np.testing.assert_allclose(full.var, np.broadcast_to(full.var[0], full.var.shape), rtol=1e-9)
    np.testing.assert_allclose(full.mean, np.broadcast_to(full.mean[0], full.mean.shape), atol=1e-12)
    half = G.simulate(n=30, generations=3, runs=5, retention=0.5, retained="fixed", seed=1, keep_samples=True)
    for t in range(1, 4):
        for r in range(5):
            kept = np.intersect1d(half.samples[t, r], half.samples[0, r])
            assert kept.size == 15  # 15 distinct points of the original sample
    with pytest.raises(ValueError, match="retained='fixed'"):
        G.simulate(10, 3, 3, retention=0.5, retained="fixed", method="exact")


def test_fixed_and_fresh_retention_differ():
    """Bug guarded: the two kinds of retention simulated the same way.

    With fresh draws each generation the runs forget their original sample; with a fixed sample they stay near it:
    the spread over runs of the final variance around each run's generation-0 variance is smaller for "fixed".
    """
    kw = dict(n=20, generations=200, runs=2000, retention=0.5, seed=4)
    fresh = G.simulate(**kw, retained="fresh")
    fixed = G.simulate(**kw, retained="fixed")
    corr_fresh = np.corrcoef(fresh.var[0], fresh.var[-1])[0, 1]
    corr_fixed = np.corrcoef(fixed.var[0], fixed.var[-1])[0, 1]
    assert abs(corr_fresh) < 0.1 and corr_fixed > 0.3


def reference_accumulate_subsample(n, generations, runs, seed):
    """Approach 2 through the shared DataSchedule (float64 pool, runs along axis 1)."""
    from collapse_utils.schedules import DataSchedule

    rng = np.random.default_rng(seed)
    mean = np.empty((generations + 1, runs))
    var = np.empty((generations + 1, runs))
    data = rng.standard_normal((runs, n))
    schedule = DataSchedule(data, approach=2, axis=1)
    for t in range(generations + 1):
        if t:
            data = schedule.next_training_set(
                mean[t - 1][:, None] + np.sqrt(var[t - 1])[:, None] * rng.standard_normal((runs, n)), rng
            )
        mean[t], var[t] = data.mean(axis=1), data.var(axis=1, ddof=1)
    return mean, var


def test_fast_accumulate_subsample_matches_the_shared_schedule():
    """Bug guarded: the fast schedule-2 path drawing from the wrong part of its pool (or with replacement)."""
    fast = G.simulate(n=8, generations=12, runs=30_000, approach=2, seed=12)
    mean, var = reference_accumulate_subsample(8, 12, 30_000, seed=13)
    for t in (1, 4, 12):
        assert stats.ks_2samp(fast.var[t], var[t]).pvalue > 1e-4, t
        assert stats.ks_2samp(fast.mean[t], mean[t]).pvalue > 1e-4, t
    # and it differs from approach 1 (which a pool that holds only the latest batch would reproduce)
    one = G.simulate(n=8, generations=12, runs=30_000, approach=1, seed=14)
    assert stats.ks_2samp(fast.var[12], one.var[12]).pvalue < 1e-6


def test_accumulate_subsample_in_chunks_is_the_same_process(monkeypatch):
    """Bug guarded: runs processed in chunks sharing (or skipping) pools."""
    monkeypatch.setattr(G.simulation, "POOL_VALUES", 3 * 10 * 31)  # three runs per chunk
    run = G.simulate(n=10, generations=30, runs=1000, approach=2, seed=3)
    mean, var = reference_accumulate_subsample(10, 30, 3000, seed=4)
    assert stats.ks_2samp(run.var[30], var[30]).pvalue > 1e-4
    assert np.unique(run.var[30]).size == 1000



def test_categorical_loss_probability_and_absorption():
    p = np.array([0.6, 0.3, 0.08, 0.02])
    run = G.simulate_categorical(p, n=50, generations=0, runs=40_000, seed=0)
    assert run.counts.shape == (1, 40_000, 4) and np.all(run.counts.sum(axis=2) == 50)
    lost = (run.counts[0] == 0).mean(axis=0)  # generation 0: n draws of the truth
    expected = G.loss_probability(p, 50)
    se = np.sqrt(expected * (1 - expected) / 40_000)
    assert np.all(np.abs(lost - expected) < 5 * se + 1e-12)
    # two categories: mean number of resampling steps ~ Kimura-Ohta (absorption generation + 1)
    run2 = G.simulate_categorical(np.array([0.3, 0.7]), n=40, generations=800, runs=4000, seed=1)
    t = run2.absorption_time()
    assert np.all(t >= 0)
    assert abs((t + 1).mean() / G.expected_absorption_time(0.3, 40) - 1) < 0.1
    with pytest.raises(ValueError, match="probability vector"):
        G.simulate_categorical(np.array([0.5, 0.6]), 10, 2, 2)


def test_absorbing_state_probability_equals_the_original_probability():
    """Bug guarded: absorbing states counted over all runs (unabsorbed ones too) or the wrong category reported.

    The paper: each state becomes the absorbing state with probability equal to its original probability.
    Tolerance: 5 SE of 20,000 runs; a uniform or a p^2-weighted outcome fails by tens of SE.
    """
    p = np.array([0.5, 0.3, 0.15, 0.05])
    run = G.simulate_categorical(p, n=20, generations=400, runs=20_000, seed=2)
    freq, absorbed = run.absorbing_frequencies()
    assert absorbed > 0.99 * 20_000
    se = np.sqrt(p * (1 - p) / absorbed)
    assert np.all(np.abs(freq - p) < 5 * se), (freq, p)
    for wrong in (np.full(4, 0.25), p**2 / np.sum(p**2)):
        assert np.any(np.abs(freq - wrong) > 5 * se)
    state = run.absorbing_state()
    assert np.all(run.counts[-1, np.arange(20_000)[state >= 0], state[state >= 0]] == 20)
    # survival curves: the fraction of runs in which each category is alive, non-increasing
    surv = run.survival()
    assert surv.shape == (401, 4) and np.all(np.diff(surv, axis=0) <= 0)
    assert np.allclose(surv[-1], freq * absorbed / 20_000, atol=0.01)


def test_absorption_time_is_the_first_single_category_generation():
    """Bug guarded: `absorption_time` off by one (reporting the generation before or after the first with one category)."""
    counts = np.array(
        [
            [[3, 1], [2, 2], [4, 0]],
            [[4, 0], [1, 3], [4, 0]],
            [[4, 0], [0, 4], [4, 0]],
        ]
    )  # (generations + 1, runs, k)
    run = G.CategoricalRun(np.array([0.5, 0.5]), 4, counts)
    assert run.absorption_time().tolist() == [1, 2, 0]
    assert run.absorbing_state().tolist() == [0, 1, 0]
    unabsorbed = G.CategoricalRun(np.array([0.5, 0.5]), 4, counts[:2])
    assert unabsorbed.absorption_time().tolist() == [1, -1, 0]
    freq, absorbed = unabsorbed.absorbing_frequencies()
    assert absorbed == 2 and freq.tolist() == [1.0, 0.0]


def test_collapsed_fraction_uses_the_standard_deviation():
    """Bug guarded: `collapsed_fraction` computed on the variance instead of the standard deviation."""
    var = np.array([[0.05, 0.005, 1.0]])  # std 0.22, 0.07, 1
    run = G.GaussianRun(10, 0, 3, 1, 0.0, "exact", 0, np.zeros((1, 3)), var)
    assert G.collapsed_fraction(run, 0.1).tolist() == [1 / 3]


def test_plot_collapse_draws(tmp_path):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    run = G.plot_collapse(n=20, generations=50, runs=40, ax=ax)
    assert run.var.shape == (51, 40)
    assert len(ax.lines) >= 20 and ax.get_yscale() == "log"
    plt.close(fig)


def test_slider_positions_adapt_their_runs_and_say_so():
    """Bug guarded: a slow slider position simulating every run (a frozen notebook) or hiding that it did not."""
    assert G.affordable_runs(100, 5000, 200, approach=1) == 200  # the exact method is cheap anywhere
    assert G.affordable_runs(1000, 5000, 200, approach=3, retention=0.5) == 200
    few = G.affordable_runs(1000, 5000, 200, approach=2)
    assert 1 <= few < 50
    assert G.affordable_runs(1000, 5000, 200, approach=1, retention=0.1, retained="fixed") < 200
    assert G.affordable_runs(1000, 5000, 200, approach=2, budget=None) == 200
    assert G.affordable_runs(10, 10, 200, approach=2) == 200
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    run = G.plot_collapse(n=200, generations=100, runs=50, approach=2, ax=ax, budget=1e-3)
    assert run.runs < 50 and f"{run.runs} of 50 runs" in ax.get_title()
    plt.close(fig)


def test_simulate_within_a_time_budget():
    """Bug guarded: the time-limited simulation keeping every run however long it takes, or mixing up its batches."""
    kw = dict(n=50, generations=40, runs=30, approach=2, seed=3)
    every = G.simulate_within(None, **kw)
    np.testing.assert_array_equal(every.var, G.simulate(**kw).var)  # no budget: the plain simulation
    few = G.simulate_within(1e-4, **kw)
    assert 1 <= few.runs < 30 and few.var.shape == (41, few.runs)
    again = G.simulate_within(1e-4, **kw)
    np.testing.assert_array_equal(few.var[:, :1], again.var[:, :1])  # batch 0 is seeded from (seed, 0)
    generous = G.simulate_within(60.0, **kw)
    assert generous.runs == 30 and np.unique(generous.var[-1]).size == 30  # batches are distinct runs
    exact = G.simulate_within(1e-4, n=50, generations=40, runs=30, approach=1, seed=3)
    assert exact.runs == 30  # the exact method is never cut


# --- sentences computed from the run: both outcomes -------------------------------------------


def test_early_collapse_title_and_sentence_both_ways():
    """Bug guarded: a title that claims the tails go first whatever the data show."""
    tails_first = G.early_collapse_title({2.0: 30, 3.0: 10, 4.0: 5}, 20)
    assert tails_first == "the tails beyond 3σ and 4σ halve before the variance; beyond 2σ, not"
    variance_first = G.early_collapse_title({2.0: 30, 3.0: 25}, 20)
    assert variance_first == "the variance halves before any of these tails does"
    assert G.early_collapse_title({3.0: 5}, None) == "the tail beyond 3σ halves before the variance"
    s = G.early_collapse_sentence({3.0: 10, 4.0: 5}, 20)
    assert s.index("4σ") < s.index("3σ") < s.index("variance")
    s = G.early_collapse_sentence({3.0: 30}, 20)
    assert s.index("variance") < s.index("3σ")


def test_within_error_sentence_both_ways():
    assert G.within_error_sentence({"a": 1.0, "b": 2.0}).startswith("Every simulated curve (a and b) lies within 3")
    s = G.within_error_sentence({"a": 1.0, "b": 4.5})
    assert "Outside 3 standard errors" in s and "b (up to 4.5 SE)" in s and "within them: a" in s


def test_schedules_sentence_both_ways():
    keep = G.schedules_sentence({"replace": np.array([0.01, 0.02]), "accumulate": np.array([0.9, 1.0])})
    assert "accumulate keeps the median σ at or above 0.5" in keep and "replace lets it fall below 0.5" in keep
    all_above = G.schedules_sentence({"a": np.array([0.9]), "b": np.array([0.8])})
    assert "a and b keep" in all_above and "fall below" not in all_above


def test_growth_sentence_both_ways():
    flat = np.concatenate([np.linspace(0, 1, 50), np.full(50, 1.0)])
    rising = np.linspace(0.1, 2, 100)
    s = G.growth_sentence({"superlinear": flat, "constant": rising})
    assert "levels off for superlinear" in s and "still grows for constant" in s
    assert "still grows" not in G.growth_sentence({"superlinear": flat})


def test_absorption_sentence_both_ways():
    p = np.array([0.5, 0.5])
    assert "all within 3 standard errors" in G.absorption_sentence(np.array([0.51, 0.49]), p, 1000)
    assert "standard errors from its original probability" in G.absorption_sentence(np.array([0.7, 0.3]), p, 1000)
    assert G.absorption_sentence(np.array([np.nan, np.nan]), p, 0).startswith("No run")


def test_retention_kinds_sentence():
    s = G.retention_kinds_sentence({"fresh": np.array([0.9, 1.0, 1.1]), "fixed": np.array([0.5, 0.6, 0.7])})
    assert "fresh: median σ 1.00" in s and "fixed: median σ 0.60" in s
