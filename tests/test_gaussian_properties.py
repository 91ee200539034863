"""Chapter 1's package, module by module: invariants over families of inputs, independence of random draws,
and the code paths the chapter and its profiles take (blocks of generations, chunks of runs, both estimators,
a non-Gaussian truth).

Tolerances are a few standard errors (SE) of the quantity tested, on cases built so that a bug changes it.
Property-based tests use hypothesis with a fixed, fast budget. Each test names the bug it guards against.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats

from collapse_utils import gaussian as G
from collapse_utils.gaussian import simulation as S
from collapse_utils.gaussian import variates as V
from collapse_utils.plotting import first_below

FAST = settings(
    max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def z_of(estimate, expected, se):
    return abs(estimate - expected) / se


# --- variates -------------------------------------------------------------------------------------


def test_normal32_is_standard_normal_in_both_halves_and_independent():
    """Bugs guarded: Box-Muller with cos in both halves (the second half repeats the first: noise shared
    between runs), an angle of pi instead of 2 pi (the sine half only positive), a radius without its factor
    2, or an odd count that drops a value. Checked on each half apart: mean and variance within 5 SE, KS p >
    1e-4, halves uncorrelated, no repeated values."""
    m = 200_001
    x = V._normal32(np.random.default_rng(3), m).astype(np.float64)
    assert x.shape == (m,)
    half = (m + 1) // 2
    for part in (x[:half], x[half:]):
        k = part.size
        assert z_of(part.mean(), 0.0, 1 / np.sqrt(k)) < 5
        assert z_of(part.var(), 1.0, np.sqrt(2 / k)) < 5
        assert stats.kstest(part, "norm").pvalue > 1e-4
    assert abs(np.corrcoef(x[: half - 1], x[half:])[0, 1]) < 5 / np.sqrt(half)
    assert abs(np.corrcoef(x[:-1], x[1:])[0, 1]) < 5 / np.sqrt(m)
    assert np.unique(x).size > 0.99 * m  # float32 values collide a little; a repeated half would be 50%


@FAST
@given(shape=st.sampled_from([0.3, 0.5, 1.0, 1.5, 2.0, 4.5, 12.5, 49.5, 499.5]), seed=st.integers(0, 1000))
def test_gamma32_matches_the_gamma_distribution(shape, seed):
    """Bugs guarded: Marsaglia-Tsang with a wrong constant (d or c), a squeeze that accepts draws the exact
    test would reject, rejected draws redrawn without their scale, or the shape-below-1 boost with the wrong
    exponent. Mean and variance within 5 SE, KS p > 1e-4 against scipy's Gamma(shape), for shapes on both
    sides of 1 (the chapter uses (n - 1) / 2 for n from 2 to 10,000)."""
    m = 60_000
    x = V._gamma32(np.random.default_rng(seed), shape, m).astype(np.float64)
    assert x.shape == (m,) and np.all(x >= 0)
    assert z_of(x.mean(), shape, np.sqrt(shape / m)) < 5
    assert (
        z_of(x.var(), shape, np.sqrt((2 * shape**2 + 6 * shape) / m)) < 5
    )  # fourth cumulant of Gamma: 6 shape
    assert stats.kstest(x, stats.gamma(shape).cdf).pvalue > 1e-4


def test_gamma32_rejections_are_redrawn_correctly():
    """Bug guarded: the rare rejected draws of Marsaglia-Tsang redrawn without dividing by d (their scale off
    by a factor d), invisible in a mean. At shape 0.6 (boosted to 1.6, where about 5% go to the exact test),
    the upper tail P(X > q_0.999) must be 0.001 within 5 SE over 400,000 draws."""
    shape, m = 0.6, 400_000
    x = V._gamma32(np.random.default_rng(1), shape, m)
    for q in (0.99, 0.999):
        p = np.mean(x > stats.gamma(shape).ppf(q))
        assert z_of(p, 1 - q, np.sqrt(q * (1 - q) / m)) < 5, q


def test_chi2_of_zero_degrees_is_zero():
    """Bug guarded: one retained point (k = 1: chi-square with 0 degrees of freedom) crashing or drawing
    noise."""
    assert np.all(V._chi2(np.random.default_rng(0), 0, 7) == 0.0)
    x = V._chi2(np.random.default_rng(0), 3, 50_000)
    assert z_of(x.mean(), 3.0, np.sqrt(6 / 50_000)) < 5


# --- the recursion: a Markov chain with known steps, whatever the block of generations --------------------


def markov_steps(run):
    """Per generation t >= 1 and run: the scaled variance factor and the standardised step of the mean."""
    n, ddof = run.n, S.ESTIMATORS[run.estimator]
    factor = run.var[1:] / run.var[:-1] * (n - ddof)  # ~ chi2(n - 1)
    step = (run.mean[1:] - run.mean[:-1]) / np.sqrt(run.var[:-1] / n)  # ~ N(0, 1), independent of the factor
    return factor, step


@pytest.mark.parametrize("estimator", ["unbiased", "ml"])
@pytest.mark.parametrize("block_values", [45, 1 << 20])
def test_exact_replace_chain_is_the_markov_chain_at_every_block_boundary(
    monkeypatch, estimator, block_values
):
    """Bugs guarded: a block of generations that starts from the wrong previous generation (the first row of
    the last block instead of its last), the mean's step scaled by the new variance or by the truth's, the
    factor scaled by n - 1 whatever the estimator, and noise repeated between generations or runs.

    With ``EXACT_BLOCK_VALUES = 45`` and 15 runs every block holds 3 generations, so most steps cross or touch
    a block boundary. For every generation: var_t / var_{t-1} (n - ddof) ~ chi2(n - 1) and the standardised
    step of the mean ~ N(0, 1), independent of each other and of the previous step (pooled over 15 runs x 60
    generations, KS p > 1e-4, correlations within 5 SE)."""
    monkeypatch.setattr(S, "EXACT_BLOCK_VALUES", block_values)
    n = 6
    runs = [G.simulate(n, 60, 15, seed=s, estimator=estimator, method="exact") for s in range(40)]
    factor = np.concatenate([markov_steps(r)[0].ravel() for r in runs])
    step = np.concatenate([markov_steps(r)[1].ravel() for r in runs])
    assert stats.kstest(factor, stats.chi2(n - 1).cdf).pvalue > 1e-4
    assert stats.kstest(step, "norm").pvalue > 1e-4
    se = 1 / np.sqrt(factor.size)
    assert abs(np.corrcoef(factor, step**2)[0, 1]) < 5 * se
    f = np.concatenate([markov_steps(r)[0].T.ravel() for r in runs])  # run by run, generations in order
    assert abs(np.corrcoef(np.log(f[:-1]), np.log(f[1:]))[0, 1]) < 5 * se
    final = np.concatenate([r.var[-1] for r in runs])
    assert np.unique(final).size == final.size  # no two runs share their noise


@FAST
@given(
    approach=st.sampled_from([1, 3]),
    retention=st.sampled_from([0.0, 0.1, 0.25, 0.5, 1.0]),
    estimator=st.sampled_from(["unbiased", "ml"]),
    n=st.integers(3, 9),
)
def test_exact_and_sample_methods_agree_for_every_schedule_retention_and_estimator(
    approach, retention, estimator, n
):
    """Bugs guarded: the exact method's pooled or retained statistics with a wrong scale or degrees of freedom
    (a step scaled by 1/n instead of 1/(n - k), a chi-square of n - k instead of n - k - 1 degrees, the
    original part's mean without its 1/k), an estimator applied in one method only, and a block of generations
    in the exact method that loses its place. The two methods must agree in distribution (KS p > 1e-4) at an
    early and a late generation, with blocks of 2 generations."""
    S_block = S.EXACT_BLOCK_VALUES
    S.EXACT_BLOCK_VALUES = 2 * 6000
    try:
        kw = dict(n=n, generations=9, runs=6000, approach=approach, retention=retention, estimator=estimator)
        a = G.simulate(**kw, seed=21, method="exact")
        b = G.simulate(**kw, seed=22, method="sample")
    finally:
        S.EXACT_BLOCK_VALUES = S_block
    for t in (1, 9):
        assert stats.ks_2samp(a.var[t], b.var[t]).pvalue > 1e-4, t
        assert stats.ks_2samp(a.mean[t], b.mean[t]).pvalue > 1e-4, t


@pytest.mark.parametrize(
    "method,approach", [("exact", 1), ("exact", 3), ("sample", 1), ("sample", 2), ("sample", 3)]
)
@pytest.mark.parametrize("estimator", ["unbiased", "ml"])
def test_generation_zero_uses_the_chosen_estimator_on_every_path(method, approach, estimator):
    """Bug guarded: a path that ignores ``estimator`` (always n - 1, or always n). Generation 0 is one fit to
    n points of N(0, 1): var_0 (n - ddof) ~ chi2(n - 1), whatever the schedule (KS p > 1e-4, 20,000 runs)."""
    n = 5
    run = G.simulate(n, 1, 20_000, approach=approach, method=method, estimator=estimator, seed=8)
    ddof = S.ESTIMATORS[estimator]
    assert run.estimator == estimator
    assert stats.kstest(run.var[0] * (n - ddof), stats.chi2(n - 1).cdf).pvalue > 1e-4


@pytest.mark.parametrize("method", ["exact", "sample"])
def test_maximum_likelihood_variance_decays_in_expectation(method):
    """Bug guarded: the maximum-likelihood estimate applied at generation 0 only (or not compounding): its
    expected variance is ((n-1)/n)^(t+1) at every generation (5 SE, 100,000 runs)."""
    n, runs = 4, 100_000
    run = G.simulate(n, 6, runs, method=method, estimator="ml", seed=5)
    for t in (0, 3, 6):
        se = np.sqrt(G.var_of_var(n, t) / runs)  # an upper bound on the spread of the ML variance
        assert z_of(run.var[t].mean(), G.expected_var(n, t, "ml"), se) < 5, t
        assert z_of(run.var[t].mean(), 1.0, se) > 5, t


def test_a_non_gaussian_truth_enters_through_generation_zero_only():
    """Bugs guarded: the exact method with a non-Gaussian truth that ignores it (generation 0 fitted to N(0,
    1)), or that keeps sampling it after generation 0. Generation 0 must be the moments of n actual draws of
    the truth (a sampler whose draws are known), and the exact and the sample methods must agree in
    distribution later."""

    def fixed(shape, rng):  # every run's original data: 0, 1, ..., n - 1 (mean (n-1)/2, variance n (n+1)/12)
        return np.broadcast_to(np.arange(shape[-1], dtype=float), shape).copy()

    run = G.simulate(4, 3, 5, original=fixed, seed=0)
    assert run.method == "exact"
    np.testing.assert_allclose(run.mean[0], 1.5)
    np.testing.assert_allclose(run.var[0], np.var(np.arange(4.0), ddof=1))
    assert np.unique(run.var[1]).size == 5  # then Gaussian resampling, independently per run
    mixture = G.two_mode_mixture(0.8)
    a = G.simulate(5, 6, 20_000, original=mixture, seed=1, method="exact")
    b = G.simulate(5, 6, 20_000, original=mixture, seed=2, method="sample")
    for t in (0, 1, 6):
        assert stats.ks_2samp(a.var[t], b.var[t]).pvalue > 1e-4, t
        assert stats.ks_2samp(a.mean[t], b.mean[t]).pvalue > 1e-4, t
    # the generation-0 variance of a two-mode truth is not chi-square (kurtosis below 3): the truth was used
    g = G.simulate(5, 0, 20_000, seed=3)
    assert stats.ks_2samp(a.var[0], g.var[0]).pvalue < 1e-6


def test_sample_sizes_chain_with_growing_sizes():
    """Bugs guarded: ``simulate_sizes`` scaling every step by the first size, or drawing chi-square with M_t
    degrees instead of M_t - 1. Per generation, var_t / var_{t-1} (M_t - 1) ~ chi2(M_t - 1) and the
    standardised step of the mean ~ N(0, 1) (KS p > 1e-4 on the pooled, standardised values)."""
    sizes = G.sample_sizes(3, 8, "linear")
    run = G.simulate_sizes(sizes, 20_000, seed=4)
    u, z = [], []
    for t in range(1, sizes.size):
        m = sizes[t]
        u.append(stats.chi2(m - 1).cdf(run.var[t] / run.var[t - 1] * (m - 1)))
        z.append((run.mean[t] - run.mean[t - 1]) / np.sqrt(run.var[t - 1] / m))
    assert stats.kstest(np.concatenate(u), "uniform").pvalue > 1e-4
    assert stats.kstest(np.concatenate(z), "norm").pvalue > 1e-4


def test_fixed_retention_under_accumulate_subsample_keeps_original_points():
    """Bug guarded: the retained points of accumulate-subsample drawn fresh (or with repeats) instead of from
    the run's own original sample; and runs processed together reading each other's pools."""
    run = G.simulate(12, 4, 6, approach=2, retention=0.5, retained="fixed", keep_samples=True, seed=2)
    as32 = lambda a: a.astype(np.float32).astype(float)  # noqa: E731  (the pool holds float32 values)
    for r in range(6):
        original = as32(run.samples[0, r])
        others = as32(np.concatenate([run.samples[0, q] for q in range(6) if q != r]))
        for t in range(1, 5):
            x = run.samples[t, r]
            assert np.isin(x, others).sum() == 0  # nothing from another run's pool
            assert (
                np.isin(x, original).sum() >= 1
            )  # the pool holds the original points (and 6 per generation)
    np.testing.assert_allclose(run.samples.mean(axis=2), run.mean, rtol=1e-5, atol=1e-6)


# --- measures ------------------------------------------------------------------------------------------


@FAST
@given(mean=st.floats(-3, 3), var=st.floats(0.01, 4), threshold=st.floats(0, 4))
def test_tail_mass_is_the_gaussian_mass_beyond_the_threshold(mean, var, threshold):
    """Bugs guarded: a tail with the wrong sign of the mean, the variance used as a standard deviation, or one
    tail only (scipy's survival function is the oracle)."""
    sd = np.sqrt(var)
    expected = stats.norm.sf(threshold, mean, sd) + stats.norm.cdf(-threshold, mean, sd)
    assert np.isclose(G.tail_mass(mean, var, threshold), expected, rtol=1e-9, atol=1e-15)


def quantile_w2(mean, var, quantile):
    """W2^2 between N(mean, var) and a distribution with the given quantile function, on 200,000 levels."""
    u = (np.arange(200_000) + 0.5) / 200_000
    return np.mean((mean + np.sqrt(var) * special.ndtri(u) - quantile(u)) ** 2)


@FAST
@given(mean=st.floats(-2, 2), var=st.floats(0.05, 3), mean0=st.floats(-2, 2), var0=st.floats(0.2, 3))
def test_wasserstein2_between_gaussians_is_the_quantile_integral(mean, var, mean0, var0):
    """Bug guarded: W2^2 with variances where standard deviations belong, or the reference's moments
    ignored."""
    direct = quantile_w2(mean, var, lambda u: mean0 + np.sqrt(var0) * special.ndtri(u))
    assert np.isclose(G.wasserstein2_sq(mean, var, mean0, var0), direct, rtol=1e-3, atol=1e-5)


@FAST
@given(mean=st.floats(-2, 2), var=st.floats(0.01, 3), a=st.floats(0.3, 0.95))
def test_wasserstein2_to_the_two_mode_truth_is_the_quantile_integral(mean, var, a):
    """Bugs guarded: the distance to a non-Gaussian truth computed as if it were N(0, 1), a normal score with
    the wrong coupling or range, or the cross term with the variance instead of the standard deviation. The
    oracle is the mean of (Gaussian quantile - truth quantile)^2 over 200,000 evenly spaced levels, the
    truth's quantile function inverted from its distribution function on a fine grid."""
    sd0 = np.sqrt(1 - a * a)
    x = np.linspace(-a - 9 * sd0, a + 9 * sd0, 400_001)
    u = (np.arange(200_000) + 0.5) / 200_000
    q0 = np.interp(u, G.two_mode_cdf(x, a), x)
    direct = np.mean((mean + np.sqrt(var) * special.ndtri(u) - q0) ** 2)
    sampler = G.two_mode_mixture(a)
    assert np.isclose(G.wasserstein2_sq_to(mean, var, sampler), direct, rtol=1e-3, atol=1e-5)
    assert G.normal_score(sampler) < 1 and np.isclose(G.normal_score(None), 1.0)
    assert np.isclose(G.wasserstein2_sq_to(mean, var), G.wasserstein2_sq(mean, var))


def test_normal_score_of_a_sampler_is_estimated_from_its_draws():
    """Bug guarded: a generic sampler's normal score computed without centring or against unsorted draws."""
    shifted = lambda shape, rng: 3.0 + 2.0 * rng.standard_normal(shape)  # noqa: E731  (kappa of N(3, 4) is 2)
    assert abs(G.normal_score(shifted) - 2.0) < 0.01
    mix = G.two_mode_mixture(0.9)
    assert abs(G.normal_score(lambda shape, rng: mix(shape, rng)) - G.normal_score(mix)) < 2e-3


def test_collapsed_fraction_shape_and_threshold():
    """Bug guarded: the share over generations instead of runs (wrong axis) or a threshold on the variance."""
    var = np.array([[0.05, 0.005, 1.0, 0.2], [1.0, 1.0, 1.0, 1.0]])  # 2 generations x 4 runs
    run = G.GaussianRun(10, 1, 4, 1, 0.0, "exact", 0, np.zeros((2, 4)), var)
    np.testing.assert_allclose(G.collapsed_fraction(run, 0.1), [0.25, 0.0])
    np.testing.assert_allclose(G.collapsed_fraction(run, 0.5), [0.75, 0.0])


@FAST
@given(points=st.integers(1, 5000), alpha=st.sampled_from([0.001, 0.01, 0.05]))
def test_max_z_level_is_bonferroni_two_sided(points, alpha):
    """Bug guarded: a one-sided level (alpha / points) or no correction for the number of points."""
    level = G.max_z_level(points, alpha)
    assert np.isclose(2 * stats.norm.sf(level) * points, alpha, rtol=1e-9)
    assert G.max_z_level(points + 1, alpha) > level


def test_max_z_level_holds_for_the_largest_of_many_gaps():
    """Bug guarded: a level that correct simulations exceed far more often than alpha (a one-sided
    quantile)."""
    z = np.random.default_rng(0).standard_normal((4000, 200))
    exceed = np.mean(np.abs(z).max(axis=1) > G.max_z_level(200, 0.05))
    assert exceed < 0.05 + 5 * np.sqrt(0.05 * 0.95 / 4000)
    assert exceed > 0.02  # Bonferroni is close to exact for independent points


@FAST
@given(generations=st.integers(0, 30_000), dense=st.integers(0, 300), points=st.integers(1, 400))
def test_sample_generations_covers_the_axis(generations, dense, points):
    """Bug guarded: a subset that drops the last generation, a dense start with a hole, or generations beyond
    the run (an index error two cells later)."""
    gens = G.sample_generations(generations, dense, points)
    assert gens[0] == 0 and gens[-1] == generations
    assert np.all(np.diff(gens) > 0) and gens.max() <= generations
    np.testing.assert_array_equal(
        gens[gens <= min(dense, generations)], np.arange(min(dense, generations) + 1)
    )


@FAST
@given(seed=st.integers(0, 10_000), level=st.floats(0.05, 0.95), length=st.integers(5, 3000))
def test_first_crossing_equals_the_full_search_on_decreasing_curves(seed, level, length):
    """Bug guarded: the refinement between grid points missing the grid point itself, starting one generation
    late, or returning the coarse generation. On any non-increasing curve the answer is the full search's."""
    rng = np.random.default_rng(seed)
    curve = np.cumprod(np.exp(-rng.exponential(3.0 / length, length)))
    grid = G.sample_generations(length - 1, dense=10, points=30)
    calls = []

    def evaluate(rows):
        calls.append(len(rows))
        return curve[rows]

    assert G.first_crossing(evaluate, grid, level) == first_below(curve, level)
    assert sum(calls) < length or length < 60  # it does not evaluate everything


def test_median_tail_ratio_and_largest_gap():
    """Bugs guarded: the tail ratio not relative to the truth, a median over generations, and a largest gap
    that reports the wrong index or direction (or divides by a zero standard error)."""
    run = G.simulate(50, 30, 400, seed=1)
    rows = np.array([0, 7, 30])
    direct = np.median(G.tail_mass(run.mean[rows], run.var[rows], 3.0), axis=1) / G.tail_mass(0.0, 1.0, 3.0)
    np.testing.assert_allclose(G.median_tail_ratio(run, 3.0, rows), direct)
    assert G.median_tail_ratio(run, 3.0).shape == (31,)
    z, i, below = G.largest_gap(
        np.array([1.0, 2.0, 0.0, 5.0]), np.array([1.0, 1.0, 1.0, 1.0]), np.array([0.1, 0.5, 0.25, 0.0])
    )
    assert (z, i, below) == (4.0, 2, True)
    assert G.largest_gap(np.array([3.0]), np.array([1.0]), np.array([1.0]))[2] is False


# --- theory ---------------------------------------------------------------------------------------------


@FAST
@given(n=st.integers(2, 400), estimator=st.sampled_from(["unbiased", "ml"]), seed=st.integers(0, 100))
def test_log_variance_theory_matches_the_chi_square_distribution(n, estimator, seed):
    """Bugs guarded: the drift of the log-variance with the wrong digamma argument or scale (for either
    estimator), its spread with the wrong trigamma, and a halving generation inconsistent with the drift.
    Oracle: 200,000 draws of log(chi2(n - 1) / (n - ddof)) with numpy, within 5 SE (a digamma argument off by
    1/2 is tens of SE away at every n)."""
    ddof = S.ESTIMATORS[estimator]
    logs = np.log(np.random.default_rng(seed).chisquare(n - 1, 200_000) / (n - ddof))
    assert z_of(G.log_var_drift(n, estimator), logs.mean(), logs.std() / np.sqrt(logs.size)) < 5
    sd_of_var = np.sqrt(np.mean((logs - logs.mean()) ** 4) - logs.var() ** 2) / np.sqrt(logs.size)
    assert z_of(G.sd_log_var(n, 4) ** 2 / 5, logs.var(), sd_of_var) < 5
    t = G.halving_generation(n, estimator)
    assert np.isclose((t + 1) * G.log_var_drift(n, estimator), np.log(0.5))
    if t >= 0:
        assert np.isclose(G.expected_log_var(n, t, estimator), np.log(0.5))
    assert np.isclose(G.expected_var(n, 3, estimator), ((n - 1) / (n - ddof)) ** 4)
    assert np.isclose(G.var_of_var(n, 2), ((n + 1) / (n - 1)) ** 3 - 1)  # E[X^2] = (n+1)/(n-1) per factor


@FAST
@given(n=st.integers(2, 300))
def test_expected_std_factor_is_the_chi_mean(n):
    """Bug guarded: c_n with the wrong Gamma arguments (it enters every exact E[W2^2])."""
    assert np.isclose(G.expected_std_factor(n), stats.chi(n - 1).mean() / np.sqrt(n - 1), rtol=1e-9)


@pytest.mark.parametrize("estimator", ["unbiased", "ml"])
def test_expected_w2_sq_matches_simulation_for_both_estimators(estimator):
    """Bugs guarded: the maximum-likelihood E[W2^2] with the unbiased mean drift (t/n, unbounded), or without
    the factor sqrt(q) in E[sd_t]. 5 SE of 200,000 runs at n = 6, where the estimators differ most."""
    n, runs = 6, 200_000
    run = G.simulate(n, 15, runs, seed=9, estimator=estimator)
    w2 = G.wasserstein2_sq(run.mean, run.var)
    exact = G.expected_w2_sq(n, run.generation, estimator)
    for t in (0, 4, 15):
        assert z_of(w2[t].mean(), exact[t], w2[t].std() / np.sqrt(runs)) < 5, t
    if estimator == "ml":
        assert np.isclose(G.expected_w2_sq(n, 10_000, "ml"), 2.0, atol=1e-6)  # bounded: E[mean^2] -> 1
    else:
        np.testing.assert_allclose(exact, G.expected_w2_sq_sizes(np.full(16, n)))


@pytest.mark.parametrize("n,t", [(10, 0), (10, 4), (6, 12), (30, 20)])
def test_expectation_carriers_against_simulation(n, t):
    """Bugs guarded: the saddle-point fraction with a wrong sign or cumulant (digamma of (M-1)/2 instead of
    (M+1)/2), or a share of E[var] that is not about a half. Simulated fraction and share of 200,000 runs, 5
    SE."""
    runs = 200_000
    c = G.expectation_carriers(np.full(t + 1, n))
    v = G.simulate(n, t, runs, seed=3).var[t]
    above = np.log(v) >= c.log_threshold[-1]
    frac = above.mean()
    assert z_of(c.fraction[-1], frac, np.sqrt(frac * (1 - frac) / runs)) < 5
    share = v[above].sum() / v.sum()
    assert abs(c.share[-1] - share) < 0.02
    assert c.fraction.shape == c.share.shape == (t + 1,) and np.all(np.diff(c.fraction) < 0)


def test_expectation_carriers_for_growing_sizes_and_the_estimator():
    """Bug guarded: carriers computed for the first size only, or the ML estimator's drift ignored."""
    sizes = G.sample_sizes(5, 6, "linear")
    c = G.expectation_carriers(sizes)
    run = G.simulate_sizes(sizes, 200_000, seed=6)
    frac = np.mean(np.log(run.var[-1]) >= c.log_threshold[-1])
    assert z_of(c.fraction[-1], frac, np.sqrt(frac * (1 - frac) / 200_000)) < 5
    ml = G.expectation_carriers(np.full(5, 10), "ml")
    unbiased = G.expectation_carriers(np.full(5, 10))
    assert np.all(ml.log_threshold < unbiased.log_threshold)


def test_first_order_formula_is_the_derivative_of_the_exact_one():
    """Bug guarded: the first-order formula's factor 3/2 or sum of 1/M_i wrong, for sizes that differ per
    generation: exact and first order agree to second order when every M_i is large."""
    sizes = np.array([10_000, 20_000, 40_000, 15_000])
    exact = G.expected_w2_sq_sizes(sizes)
    first = G.w2_first_order(sizes)
    np.testing.assert_allclose(first, exact, rtol=1e-3)
    np.testing.assert_allclose(G.w2_first_order(sizes, sigma2=2.0), 2 * first)


@FAST
@given(s2=st.floats(0.1, 5), n=st.integers(2, 40), mu=st.floats(-2, 2))
def test_fitted_densities_match_scipy(s2, n, mu):
    """Bug guarded: the density of the next variance without its Jacobian (n - 1) / s2, or the mean's density
    with the variance as its scale."""
    x = np.array([0.3, 1.0, 2.5]) * s2
    expected = stats.gamma((n - 1) / 2, scale=2 * s2 / (n - 1)).pdf(x)
    np.testing.assert_allclose(G.fitted_var_pdf(x, s2, n), expected, rtol=1e-9)
    np.testing.assert_allclose(
        G.fitted_mean_pdf(x, mu, s2, n), stats.norm(mu, np.sqrt(s2 / n)).pdf(x), rtol=1e-9
    )


# --- the categorical chain ------------------------------------------------------------------------------


def test_categorical_chain_is_a_martingale_with_independent_runs():
    """Bugs guarded: every run drawing the same counts (one multinomial broadcast to all runs), the next
    frequencies taken from the truth instead of the last counts, or counts that do not sum to n."""
    p = np.array([0.5, 0.3, 0.2])
    run = G.simulate_categorical(p, n=40, generations=5, runs=20_000, seed=1)
    assert np.all(run.counts.sum(axis=2) == 40)
    assert len({tuple(c) for c in run.counts[1, :200]}) > 20
    step = (run.counts[5, :, 2] - run.counts[4, :, 2]).astype(float)
    assert z_of(step.mean(), 0.0, step.std() / np.sqrt(step.size)) < 5  # a martingale
    # given the last counts, the next ones are Binomial(n, c / n): their variance is c (n - c) / n
    c = run.counts[4, :, 2].astype(float)
    expected = np.mean(c * (40 - c) / 40)
    assert z_of((step**2).mean(), expected, (step**2).std() / np.sqrt(step.size)) < 5
    assert (
        abs(np.corrcoef(run.counts[3, :, 0], run.counts[3, :, 1])[0, 1] + 0.65) < 0.1
    )  # truth's 3rd category


def test_absorbing_gap_in_standard_errors():
    """Bug guarded: the gap divided by a standard error over the wrong count (absorbed runs squared, say)."""
    p = np.array([0.5, 0.5])
    assert np.isclose(G.absorbing_gap(np.array([0.55, 0.45]), p, 400), 0.05 / np.sqrt(0.25 / 400))
    assert np.isnan(G.absorbing_gap(np.array([np.nan, np.nan]), p, 0))


# --- the slider -----------------------------------------------------------------------------------------


def test_plot_collapse_draws_every_generation_up_to_the_display_limit():
    """Bugs guarded: the thinned display dropping the last generation, or drawing more points than the limit
    (a slow slider); and a title with an API number instead of the schedule's name."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    # 1501 generations: every second one is drawn, and the last one (odd) must be added
    run = G.plot_collapse(n=20, generations=1501, approach=3, runs=3, ax=ax, budget=None)
    xs = [line.get_xdata() for line in ax.lines if len(line.get_xdata()) > 2]
    assert xs and all(x[-1] == 1501 and len(x) <= G.DISPLAY_POINTS + 1 for x in xs)
    assert "accumulate" in ax.get_title() and "approach" not in ax.get_title()
    assert run.runs == 3
    plt.close(fig)


def test_two_mode_density_distribution_and_sampler_agree():
    """Bugs guarded: the mixture's density or distribution function with the variance as the scale (it still
    integrates to 1), unequal weights, or a sampler that draws another mixture. The distribution function must
    be the integral of the density, and 100,000 draws must follow it (KS p > 1e-4)."""
    a = 0.8
    x = np.linspace(-4, 4, 9)
    for xi in x:
        integral = integrate.quad(lambda s: G.two_mode_pdf(s, a), -10, xi, points=[-a, a])[0]
        assert np.isclose(G.two_mode_cdf(xi, a), integral, atol=1e-9)
    draws = G.two_mode_mixture(a)((100_000,), np.random.default_rng(4))
    assert stats.kstest(draws, lambda s: G.two_mode_cdf(s, a)).pvalue > 1e-4


def test_distance_to_a_generic_truth_uses_its_own_moments():
    """Bug guarded: the distance to a sampled truth computed against N(0, 1) (its mean and variance ignored)."""
    shifted = lambda shape, rng: 3.0 + 2.0 * rng.standard_normal(shape)  # noqa: E731
    got = G.wasserstein2_sq_to(np.array([0.0, 3.0, 1.0]), np.array([1.0, 4.0, 0.25]), shifted)
    np.testing.assert_allclose(got, G.wasserstein2_sq(np.array([0.0, 3.0, 1.0]), np.array([1.0, 4.0, 0.25]), 3.0, 4.0),
                               atol=0.02)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: G.simulate(10, 3, 4, estimator="mle"), "estimator must be one of 'unbiased', 'ml'"),
        (lambda: G.expected_var(10, 3, "biased"), "estimator must be one of"),
        (lambda: G.sample_generations(-1), "generations must be an integer >= 0"),
        (lambda: G.max_z_level(0), "points must be an integer >= 1"),
        (lambda: G.max_z_level(10, 1.5), "alpha must be"),
        (lambda: G.expectation_carriers([10, 1]), "sizes must be a 1-D sequence of integers >= 2"),
        (lambda: G.two_mode_cdf(0.0, 1.0), "separation"),
    ],
)
def test_new_functions_reject_bad_input_by_name(call, match):
    """Bug guarded: bad arguments of the new functions failing later (a KeyError, NaN) instead of naming the
    parameter and its range."""
    with pytest.raises(ValueError, match=match):
        call()


def test_time_limited_simulation_joins_its_batches_array_by_array():
    """Bugs guarded: the time-limited simulation joining one array's batches and not its twin's (means of batch
    0 with variances of batch 1, or the means written into the variances), or batches seeded alike. Each batch
    is the plain simulation seeded from (seed, batch number)."""
    kw = dict(n=20, generations=15, approach=2)
    run = G.simulate_within(60.0, runs=30, seed=3, **kw)
    assert run.runs == 30
    children = [int(np.random.SeedSequence([3, i]).generate_state(1)[0]) for i in range(2)]
    parts = [G.simulate(runs=15, seed=c, **kw) for c in children]
    np.testing.assert_array_equal(run.mean, np.concatenate([p.mean for p in parts], axis=1))
    np.testing.assert_array_equal(run.var, np.concatenate([p.var for p in parts], axis=1))


@pytest.mark.parametrize("approach", [1, 2, 3])
def test_sample_method_runs_draw_independent_noise(approach):
    """Bug guarded: the sample method drawing one row of noise for all runs (broadcast), so that runs move
    together; means and variances of each run look right, only the correlation between runs shows it. The
    standardised steps of neighbouring runs must be uncorrelated (within 5 SE over 2,000 runs x 8 generations)."""
    run = G.simulate(10, 8, 2000, approach=approach, method="sample", seed=12)
    step = (run.mean[1:] - run.mean[:-1]) / np.sqrt(run.var[:-1])
    a, b = step[:, :-1].ravel(), step[:, 1:].ravel()
    assert abs(np.corrcoef(a, b)[0, 1]) < 5 / np.sqrt(a.size)
    ratio = np.log(run.var[1:] / run.var[:-1])
    assert abs(np.corrcoef(ratio[:, :-1].ravel(), ratio[:, 1:].ravel())[0, 1]) < 5 / np.sqrt(a.size)
