"""Chapter 5's strategies, recursion loop, results, exact theory, notes and sentences (collapse_utils.mitigations).

Each test names the bug it guards against. The loop is tested through spy
families that record what every generation trains on; the Gaussian's exact
recursion against chapter 1's simulator; the notes and sentences on results built
so that each verdict goes one way and then the other.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collapse_utils import gaussian, gmm, mitigations as M
from collapse_utils.mitigations import families, loop, notes, plots, results, sentences, theory
from collapse_utils.mitigations.strategies import Strategy

FAST = settings(max_examples=25, deadline=None, derandomize=True)


# --------------------------------------------------------------------------------------------- helpers
def make_result(family="gmm", curves=None, shares=(0.0, 0.5, 0.75, 1.0), generations=4, runs=3, extra=None,
                spread=0.1):  # fmt: skip
    """A FamilyResult whose median ratio of each strategy follows ``curves[key]`` (default: flat at 1).

    Runs are the curve times ``1 - spread``, 1 and ``1 + spread`` (so the median is the curve, and
    the generation-0 reference is 1 when every curve starts at 1).
    """
    curves = dict(curves or {})
    factors = np.linspace(1 - spread, 1 + spread, runs)
    dist = {}
    for s in M.lanes(shares, 0.5):
        c = np.asarray(curves.get(s.key, np.ones(generations + 1)), dtype=float)
        dist[s] = np.outer(factors, c)
    return M.FamilyResult(family, "a distance", dist, shares, 0.5, "test scale", extra or {})


def curve(*values):
    return np.array(values, dtype=float)


class SpyFamily:
    """A 1-D family that records every fit's training data; samples are the model's constant plus noise.

    Real data are >= 1000 (original: 1000 + index, fresh draws: 5000 + counter) and samples < 100, so
    a training set says where each point came from.
    """

    def __init__(self, n=10):
        self.n = n
        self.fits = []  # (data, warm) per fitted item, generation order
        self.drawn = 0
        self.scored_with = []
        self.measured = []

    def original(self, runs, rng):
        return 1000.0 + np.tile(np.arange(self.n, dtype=float), (runs, 1)) + 0.5 * rng.random((runs, 1))

    def draw(self, rows, k, rng):
        out = 5000.0 + self.drawn + np.arange(rows * k, dtype=float).reshape(rows, k)
        self.drawn += rows * k
        return out

    def fit(self, items):
        out = []
        for data, rng, warm in items:
            self.fits.append((np.array(data, copy=True), warm))
            out.append(("model", len(self.fits), data.shape[0]))
        return out

    def sample(self, models, m, rng):
        return rng.random((models[2], m)) * 10.0

    def loglik(self, models, x):
        self.scored_with.append(models)
        return -x  # smaller samples are likelier

    def distance(self, models, generation):
        self.measured.append(generation)
        return np.full(models[2], float(models[1]))


# --------------------------------------------------------------------------------------------- strategies
@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), True, "0.5", None])
def test_share_out_of_range_is_rejected_by_name(bad):
    """Bug: a share of 1.5, NaN or True accepted (retention silently clipped or taken as 1)."""
    with pytest.raises(ValueError, match=r"share must be a finite number in \[0, 1\]"):
        M.check_share(bad)
    with pytest.raises(ValueError, match="share"):
        M.strategy("fresh", bad)


def test_unknown_strategy_and_family_are_rejected_with_the_choices():
    """Bug: a typo ("accumulate-subsampled", "gauss") runs a default instead of failing before any work."""
    with pytest.raises(ValueError, match="strategy must be one of .*'accumulate-subsample'"):
        M.strategy("accumulate-subsampled")
    with pytest.raises(ValueError, match="family must be one of .*'gaussian'"):
        M.check_family("gauss")
    with pytest.raises(ValueError, match="share applies to the strategies fresh, fixed only"):
        Strategy("accumulate", 0.5)


def test_each_strategy_builds_its_own_schedule():
    """Bug: accumulate and accumulate-subsample swapped, or fresh and fixed retention swapped."""
    assert M.strategy("replace").approach == 1
    assert M.strategy("accumulate").approach == 3
    assert M.strategy("accumulate-subsample").approach == 2
    assert M.strategy("fresh", 0.3).retained == "fresh" and M.strategy("fresh", 0.3).retention == 0.3
    assert M.strategy("fixed", 0.3).retained == "fixed"
    assert M.strategy("select").candidates == M.CANDIDATES == 2
    assert M.strategy("replace").candidates == 1
    assert M.strategy("fresh", 0.0) == Strategy("replace") == M.strategy("fixed", 0)


@FAST
@given(st.lists(st.sampled_from([0.1, 0.2, 0.25, 0.3, 0.5, 0.6, 0.75, 0.9, 1.0]), min_size=1, unique=True))
def test_lanes_hold_every_strategy_once_with_distinct_seeds(extra):
    """Bug: a share's fresh or fixed lane missing, a duplicate lane, or two lanes sharing a seed (repeated noise)."""
    grid = tuple(sorted({0.0, 0.5, *extra}))
    lanes = M.lanes(grid, 0.5)
    keys = [s.key for s in lanes]
    assert len(set(keys)) == len(keys) == 4 + 2 * (len(grid) - 1)
    assert len({s.seed_key() for s in lanes}) == len(lanes)
    for kind in M.SHARED:
        assert [s.share for s in lanes if s.name == kind] == list(grid[1:])


def test_grids_are_checked_before_any_work():
    """Bug: a grid without share 0, unsorted, or a compare share off the grid accepted."""
    for bad in [(0.5, 1.0), (0.0, 1.0, 0.5), (0.0, 0.5, 0.5), (0.0,), "0.5"]:
        with pytest.raises(ValueError, match="shares"):
            M.check_shares(bad)
    with pytest.raises(ValueError, match="compare_share"):
        M.lanes((0.0, 0.5, 1.0), 0.25)


def test_labels_are_readers_words():
    """Bug: API names (``fresh 0.25``) in legends instead of readers' words."""
    assert M.strategy("fresh", 0.25).label == "fresh real data, 25%"
    assert M.strategy("select").label == "select (best of 2)"
    assert M.strategy("accumulate").label == "accumulate"


# --------------------------------------------------------------------------------------------- loop
@FAST
@given(st.integers(1, 4), st.integers(1, 6), st.integers(1, 3), st.integers(0, 2**31 - 1))
def test_best_of_keeps_the_highest_scoring_candidate_of_each_group(rows, m, k, seed):
    """Bug: best_of keeps the lowest score, or groups candidates across the wrong axis (j + i m instead of j k + i)."""
    rng = np.random.default_rng(seed)
    candidates = rng.normal(size=(rows, m * k, 2))
    scores = rng.normal(size=(rows, m * k))
    kept = loop.best_of(candidates, scores, k)
    assert kept.shape == (rows, m, 2)
    for r in range(rows):
        for j in range(m):
            group = slice(j * k, (j + 1) * k)
            assert np.array_equal(kept[r, j], candidates[r, group][np.argmax(scores[r, group])])


def test_best_of_rejects_mismatched_shapes():
    """Bug: candidates and scores of different lengths silently truncated."""
    with pytest.raises(ValueError, match="multiple of k"):
        loop.best_of(np.zeros((1, 5)), np.zeros((1, 5)), 2)
    with pytest.raises(ValueError, match="k must be an integer"):
        loop.best_of(np.zeros((1, 4)), np.zeros((1, 4)), 0)


def test_recursion_builds_each_strategys_training_sets():
    """Bug: accumulate that silently replaces, accumulate-subsample that does not subsample, fresh retention that
    reuses the fixed sample, or fixed retention that draws new data."""
    n, runs = 10, 2
    plan = {s.key: s for s in [Strategy("replace"), Strategy("accumulate"), Strategy("accumulate-subsample"),
                               Strategy("fresh", 0.3), Strategy("fixed", 0.3)]}  # fmt: skip
    for key, s in plan.items():
        fam = SpyFamily(n)
        loop.recursion(fam, [s], runs, 3, seed=1)
        data0 = fam.fits[0][0]
        sets = [d for d, _ in fam.fits[1:]]
        original = lambda d: (d >= 1000) & (d < 5000)  # noqa: E731
        drawn = lambda d: d >= 5000  # noqa: E731
        if key == "accumulate":
            assert [d.shape[1] for d in sets] == [2 * n, 3 * n, 4 * n]
            for t, d in enumerate(sets):
                assert np.array_equal(d[:, :n], data0)  # the original data stay in the pool
                if t:
                    assert np.array_equal(d[:, : d.shape[1] - n], sets[t - 1])  # nothing is dropped
        else:
            assert [d.shape[1] for d in sets] == [n, n, n]
        if key == "replace":
            assert all(not original(d).any() and not drawn(d).any() for d in sets)
        if key == "accumulate-subsample":
            later = sets[-1]
            assert original(later).any() and (later < 100).any() and not drawn(later).any()
            assert all(len(np.unique(row)) == n for row in later)  # without replacement
        if key == "fresh 0.3":
            assert all(drawn(d).sum(axis=1).tolist() == [3] * runs and not original(d).any() for d in sets)
            assert len(np.unique(np.concatenate([d[drawn(d)] for d in sets]))) == 3 * runs * 3  # new every time
        if key == "fixed 0.3":
            for d in sets:
                assert original(d).sum(axis=1).tolist() == [3] * runs and not drawn(d).any()
                assert np.isin(d[original(d)], data0).all()
            first = [np.sort(d[0][original(d[0])]) for d in sets]
            assert not all(np.array_equal(first[0], f) for f in first[1:])  # a new subset each generation


def test_recursion_shares_generation_zero_and_is_the_same_for_a_strategy_alone():
    """Bug: strategies fitted to different original data (unpaired), or a strategy's runs depending on which
    other strategies ran beside it (one generator shared by all lanes)."""
    fam = families.GaussianFamily(20)
    a, b = Strategy("fresh", 0.5), Strategy("accumulate")
    together = loop.recursion(fam, [a, b, Strategy("replace")], 5, 6, seed=3)
    alone = loop.recursion(fam, [b], 5, 6, seed=3)
    np.testing.assert_array_equal(together[a][:, 0], together[b][:, 0])
    np.testing.assert_array_equal(together[b], alone[b])
    assert not np.array_equal(together[a][:, 1:], together[Strategy("replace")][:, 1:])


def test_recursion_continues_from_generation_zeros_data_and_model():
    """Bug: the strategies continue from other original data than generation 0 was fitted to (unpaired), a fit
    forgets the previous generation's model (no warm start), or every generation is measured as generation 0."""
    fam = SpyFamily(6)
    loop.recursion(fam, [Strategy("accumulate"), Strategy("fixed", 0.5)], 2, 3, seed=4)
    data0 = fam.fits[0][0]
    acc = [d for d, _ in fam.fits[1::2]]
    assert all(np.array_equal(d[:, :6], data0) for d in acc)
    fixed = [d for d, _ in fam.fits[2::2]]
    assert all(np.isin(d[(d >= 1000)], data0).all() for d in fixed)
    warm = [w for _, w in fam.fits]
    assert warm[0] is None and warm[1][1] == 1 and warm[2][1] == 1  # generation 1 starts from generation 0
    assert warm[3][1] == 2 and warm[4][1] == 3  # then from each lane's own previous generation
    assert fam.measured == [0, 1, 1, 2, 2, 3, 3]


def test_strategies_do_not_share_their_samples():
    """Bug: every strategy draws from one seed: replace's and accumulate's first synthetic data are the same points."""
    fam = SpyFamily(6)
    loop.recursion(fam, [Strategy("replace"), Strategy("accumulate")], 3, 1, seed=2)
    replace_set, accumulate_set = fam.fits[1][0], fam.fits[2][0]
    assert not np.array_equal(replace_set, accumulate_set[:, 6:])


def test_recursion_runs_and_strategies_draw_independent_noise():
    """Bug: every run (or every strategy) reuses the same random numbers: identical rows, or correlated lanes."""
    fam = families.GaussianFamily(10)
    out = loop.recursion(fam, [Strategy("replace"), Strategy("select")], 400, 2, seed=5)
    d = out[Strategy("replace")]
    assert len(np.unique(d[:, 1])) == 400
    step_a = np.log(out[Strategy("replace")][:, 2]) - np.log(out[Strategy("replace")][:, 1])
    step_b = np.log(out[Strategy("select")][:, 2]) - np.log(out[Strategy("select")][:, 1])
    assert abs(np.corrcoef(step_a, step_b)[0, 1]) < 0.2


def test_select_scores_candidates_with_generation_zero_and_keeps_the_likelier():
    """Bug: the verifier scores with the latest model instead of generation 0's, or keeps the less likely candidate."""
    fam = SpyFamily(8)
    loop.recursion(fam, [Strategy("select")], 2, 3, seed=0)
    assert fam.scored_with and all(m[1] == 1 for m in fam.scored_with)  # models0: the first fit
    rng = np.random.default_rng(0)
    kept = loop.synthetic_data(fam, ("model", 2, 3), ("model", 1, 3), 50, 2, rng)
    again = np.random.default_rng(0).random((3, 100)) * 10
    np.testing.assert_array_equal(kept, np.minimum(again[:, 0::2], again[:, 1::2]))


def test_recursion_checks_its_arguments():
    """Bug: no strategies, duplicates or runs=0 fail later with an obscure error."""
    fam = families.GaussianFamily(5)
    with pytest.raises(ValueError, match="non-empty sequence of Strategy"):
        loop.recursion(fam, [], 2, 2, 0)
    with pytest.raises(ValueError, match="differ"):
        loop.recursion(fam, [Strategy("replace"), Strategy("replace")], 2, 2, 0)
    with pytest.raises(ValueError, match="runs must be an integer >= 1"):
        loop.recursion(fam, [Strategy("replace")], 0, 2, 0)


# --------------------------------------------------------------------------------------------- families
def test_gaussian_family_fits_chapter_1s_model():
    """Bug: the maximum-likelihood variance (1/n) instead of chapter 1's unbiased one, or a wrong log-density."""
    from scipy import stats

    fam = families.GaussianFamily(7)
    x = np.random.default_rng(0).normal(2.0, 3.0, size=(4, 7))
    (mean, var), = fam.fit([(x, None, None)])
    np.testing.assert_allclose(mean, x.mean(axis=1))
    np.testing.assert_allclose(var, x.var(axis=1, ddof=1))
    pts = np.random.default_rng(1).normal(size=(4, 5))
    np.testing.assert_allclose(fam.loglik((mean, var), pts), stats.norm.logpdf(pts, mean[:, None], np.sqrt(var)[:, None]))
    np.testing.assert_allclose(fam.distance((mean, var), 0), gaussian.wasserstein2_sq(mean, var))
    s = fam.sample((np.array([5.0, -5.0]), np.array([4.0, 0.25])), 4000, np.random.default_rng(2))
    np.testing.assert_allclose(s.mean(axis=1), [5, -5], atol=0.1)
    np.testing.assert_allclose(s.std(axis=1), [2, 0.5], rtol=0.05)


def test_mixture_family_measures_the_l2_distance_to_its_truth():
    """Bug: the distance to generation 0 (the chapter's l2_sq drift) instead of to the true density."""
    fam = families.MixtureFamily(200)
    rng = np.random.default_rng(0)
    data = fam.original(3, rng)
    assert data.shape == (3, 200, 2) and fam.draw(3, 5, rng).shape == (3, 5, 2)
    fresh = fam.draw(3, 5, rng)
    assert not np.allclose(fresh[0], fresh[1]) and not np.allclose(data[0, :5], data[1, :5])
    (models,) = fam.fit([(data, rng, None)])
    np.testing.assert_allclose(fam.distance(models, 0), gmm.l2_sq(models, gmm.two_gaussians()))
    np.testing.assert_allclose(fam.loglik(models, data[:, :4]), models.logpdf(data[:, :4]))
    with pytest.raises(ValueError, match="truth must be a gmm.Mixture"):
        families.MixtureFamily(200, truth="two")


def test_mixture_strategies_order_as_theory_says_in_a_short_run():
    """Bug (end to end): accumulate no better than replace, or fresh real data no help, in chapter 2's family."""
    r = M.run_mixture(200, 8, 8, (0.0, 0.5, 1.0), 0.5, seed=0)
    assert r.final(r.get("accumulate")) < r.final(r.get("replace"))
    assert r.final(r.get("fresh", 1.0)) < r.final(r.get("replace"))
    assert r.generations == 8 and r.runs(r.get("replace")) == 8


# --------------------------------------------------------------------------------------------- exact theory
@FAST
@given(st.integers(2, 500), st.integers(0, 60))
def test_replace_has_the_closed_form(n, G):
    """Bug: the recursion of replace drifts (S_t not a martingale) or the mean's error is not (t + 1)/n."""
    V, S = theory.mean_error(n, G, "replace")
    np.testing.assert_allclose(V, (np.arange(G + 1) + 1) / n)
    np.testing.assert_allclose(S, 1.0)


@FAST
@given(st.integers(2, 400), st.integers(1, 40))
def test_all_real_data_stays_at_generation_zero(n, G):
    """Bug: share 1 (every point real) still carries synthetic error."""
    for kind in ("fresh", "fixed"):
        V, S = theory.mean_error(n, G, kind, 1.0)
        np.testing.assert_allclose(V, 1.0 / n)
        np.testing.assert_allclose(S, 1.0)


def test_long_run_errors_match_the_closed_forms():
    """Bug: the fresh or fixed recursion's coefficients wrong (k/n for k/n^2, (m/n) for (m/n)^2, or the fixed sample's
    own error forgotten)."""
    n, G = 10_000, 4000
    for r in (0.2, 0.5, 0.8):
        V, _ = theory.mean_error(n, G, "fresh", r)
        assert V[-1] / V[0] == pytest.approx(1 / (r * (2 - r)), rel=2e-3)
        V, _ = theory.mean_error(n, G, "fixed", r)
        assert V[-1] / V[0] == pytest.approx(1 + (1 - r * r) / (r * (2 - r)), rel=2e-3)
    V, S = theory.mean_error(50, 2000, "accumulate")
    assert np.all(np.diff(V) > 0) and V[-1] / V[0] < theory.GERSTGRASSER_FACTOR
    assert V[-1] / V[0] > 0.98 * theory.GERSTGRASSER_FACTOR * np.min(S)
    assert np.all(np.diff(S) < 0)


@pytest.mark.parametrize("kind, share, method", [("fresh", 0.3, "exact"), ("fixed", 0.4, "sample"),
                                                 ("accumulate", 0.0, "exact"), ("replace", 0.0, "exact")])  # fmt: skip
def test_exact_recursion_matches_chapter_1s_simulator(kind, share, method):
    """Bug: a recursion that is algebraically plausible but wrong (a term of the pooled variance dropped): the
    simulated mean over runs of mu_t^2 and sigma_t^2 must lie within 4 standard errors of it at every checked
    generation."""
    n, G = 12, 12
    runs = 40_000 if method == "exact" else 6_000
    approach = 3 if kind == "accumulate" else 1
    run = gaussian.simulate(n, G, runs, approach=approach, retention=share, retained="fixed" if kind == "fixed" else "fresh",
                            seed=11, method=method)  # fmt: skip
    V, S = theory.mean_error(n, G, kind, share)
    sq = run.mean**2
    z_mean = (sq.mean(axis=1) - V) / (sq.std(axis=1) / np.sqrt(runs))
    z_var = (run.var.mean(axis=1) - S) / (run.var.std(axis=1) / np.sqrt(runs))
    assert np.abs(z_mean).max() < 4.0, z_mean
    assert np.abs(z_var).max() < 4.0, z_var


def test_exact_boundary_and_cheapest_share():
    """Bug: the boundary read at the wrong generation, or a bisection that returns a share outside the band."""
    n, G, band = 50, 100, 1.25
    b = theory.exact_boundary(n, G, "fresh", [0.0, 0.3, 0.5, 0.9], band)
    assert b[0] == 1 and b[1] == 1  # replace: V_1 = 2 V_0; share 0.3: V_1 = 1.49 V_0
    assert b[2] == 2 and np.isnan(b[3])  # share 0.5: V_1 = 1.25 V_0 (not above), V_2 = 1.31 V_0
    s = theory.exact_cheapest_share(n, G, "fresh", band)
    V, _ = theory.mean_error(n, G, "fresh", s)
    V2, _ = theory.mean_error(n, G, "fresh", s - 0.01)
    assert np.all(V / V[0] <= band) and np.any(V2 / V2[0] > band)
    assert s == pytest.approx(1 - math.sqrt(1 - 1 / band), abs=0.03)
    assert theory.exact_cheapest_share(n, G, "fixed", band) > s
    assert theory.exact_cheapest_share(n, 0, "fresh", band) == 0.0


def test_bertrand_share():
    """Bug: lambda read as the share of generated data (giving 1/2) instead of its ratio to real data (2/3)."""
    assert theory.bertrand_share(0.0) == pytest.approx(2 / 3)
    assert theory.bertrand_share(1.0) == pytest.approx(1 / (1 + 0.25))
    with pytest.raises(ValueError, match="eps_term"):
        theory.bertrand_share(-1.0)


# --------------------------------------------------------------------------------------------- results
def test_result_normalises_by_the_median_generation_zero_distance():
    """Bug: normalised by the mean (or by generation 0 of one strategy), so the scale depends on outliers."""
    r = make_result(curves={"replace": curve(1, 2, 4, 8, 16)}, spread=0.5)
    assert r.reference == pytest.approx(1.0)
    np.testing.assert_allclose(r.median(r.get("replace")), [1, 2, 4, 8, 16])
    assert r.final(r.get("replace")) == pytest.approx(16)


def test_medians_over_runs_not_means():
    """Bug: the reference or the curves are means over runs, so one collapsed run moves the whole family."""
    r = make_result(runs=3)
    skew = np.array([0.5, 1.0, 40.0])
    dist = {s: np.outer(skew, curve(1, 2, 2, 2, 2)) for s in r.distances}
    r = M.FamilyResult("gmm", "d", dist, r.shares, 0.5)
    assert r.reference == pytest.approx(1.0)
    np.testing.assert_allclose(r.median(r.get("replace")), [1, 2, 2, 2, 2])
    np.testing.assert_allclose(r.late(r.get("replace")), skew * 2)  # generations 2..4 only
    one = make_result(curves={"replace": curve(1, 3, 3)}, generations=2)
    np.testing.assert_allclose(one.late(one.get("replace")), [2.7, 3, 3.3])


@FAST
@given(st.floats(1e-6, 1e6))
def test_ratios_do_not_depend_on_the_measures_unit(scale):
    """Bug: a band or verdict that changes when the distance is measured in other units (no normalisation)."""
    r = make_result(curves={"replace": curve(1, 1.2, 1.5, 2, 3)})
    scaled = M.FamilyResult(r.family, r.measure, {s: d * scale for s, d in r.distances.items()}, r.shares, 0.5)
    for s in r.distances:
        np.testing.assert_allclose(scaled.median(s), r.median(s), rtol=1e-9)
        assert scaled.within_band(s) == r.within_band(s) and scaled.rising(s) == r.rising(s)


def test_band_rising_and_cheapest_share_both_ways():
    """Bug: within_band tested on the last generation only, rising never true, or the cheapest share the largest."""
    r = make_result(curves={"replace": curve(1, 2, 1, 1, 1), "fresh 0.5": curve(1, 1.1, 1.2, 1.3, 1.4),
                            "fresh 0.75": curve(1, 1.1, 1.1, 1.1, 1.1), "fixed 0.5": curve(1, 1.3, 1.3, 1.3, 1.3)})  # fmt: skip
    assert not r.within_band(r.get("replace"), 1.25)  # left the band at generation 1 only
    assert r.within_band(r.get("fresh", 0.75), 1.25) and not r.within_band(r.get("fresh", 0.5), 1.25)
    assert r.rising(r.get("fresh", 0.5)) and not r.rising(r.get("fresh", 0.75))
    assert r.cheapest_share("fresh", 1.25) == 0.75
    assert r.cheapest_share("fixed", 1.25) == 0.75  # fixed 0.75 flat at 1
    bad = make_result(curves={f"{k} {s:g}": curve(1, 2, 2, 2, 2) for k in M.SHARED for s in (0.5, 0.75, 1.0)}
                      | {"replace": curve(1, 2, 2, 2, 2)})  # fmt: skip
    assert bad.cheapest_share("fresh", 1.5) is None
    np.testing.assert_allclose(r.phase("fresh")[:, -1], [1, 1.4, 1.1, 1])
    with pytest.raises(ValueError, match="band must be a finite number > 1"):
        r.within_band(r.get("replace"), 1.0)


def test_long_runs_judge_the_band_on_windows():
    """Bug: one noisy generation's median decides a 200-generation run (no smoothing), or a real rise is smoothed away."""
    G = 200
    spike = np.ones(G + 1)
    spike[120] = 1.6
    rise = np.ones(G + 1)
    rise[100:] = 1.6
    r = make_result(curves={"replace": spike, "accumulate": rise}, generations=G)
    assert r.within_band(r.get("replace"), 1.25)
    assert not r.within_band(r.get("accumulate"), 1.25)
    short = make_result(curves={"replace": curve(1, 1.6, 1, 1, 1)})
    assert not short.within_band(short.get("replace"), 1.25)


def test_result_rejects_bad_input():
    """Bug: a result missing a strategy, holding NaN or of unequal generations accepted, failing later in a figure."""
    good = make_result()
    dist = dict(good.distances)
    dist.pop(Strategy("select"))
    with pytest.raises(ValueError, match="lack the strategies"):
        M.FamilyResult("gmm", "d", dist, good.shares, 0.5)
    dist = dict(good.distances)
    dist[Strategy("select")] = np.full((3, 5), np.nan)
    with pytest.raises(ValueError, match="no NaN"):
        M.FamilyResult("gmm", "d", dist, good.shares, 0.5)
    dist = dict(good.distances)
    dist[Strategy("select")] = np.ones((3, 4))
    with pytest.raises(ValueError, match="same generations"):
        M.FamilyResult("gmm", "d", dist, good.shares, 0.5)
    with pytest.raises(ValueError, match="family must be one of"):
        M.FamilyResult("gauss", "d", good.distances, good.shares, 0.5)
    with pytest.raises(ValueError, match="did not run"):
        good.get("fresh", 0.25)


def test_summary_table_reads_off_each_family():
    """Bug: the table's cells swapped between strategies, or the cheapest share not the band's."""
    a = make_result("gmm", curves={"replace": curve(1, 2, 3, 4, 5), "fresh 0.5": curve(1, 2, 2, 2, 2),
                                   "fresh 0.75": curve(1, 1.1, 1.1, 1.1, 1.1)})  # fmt: skip
    b = make_result("vae", curves={"accumulate": curve(1, 1.5, 1.5, 1.5, 1.5)})
    t = M.summary_table([a, b], 1.25)
    assert list(t["family"]) == ["Gaussian mixture", "VAE"]
    assert t.loc[0, "replace"].startswith("5.00 (outside the band, still rising)")
    assert t.loc[1, "accumulate"] == "1.50 (outside the band)"
    assert t.loc[1, "replace"] == "1.00 (within the band)"
    assert t.loc[0, "cheapest share, fresh"] == "75%"
    with pytest.raises(ValueError, match="one FamilyResult per family"):
        M.summary_table([a, a])


# --------------------------------------------------------------------------------------------- notes
def _verdicts(r):
    return {n.work: n.verdict for n in M.theory_notes(r, 1.25)}


def test_notes_agree_when_the_run_follows_each_prediction():
    """Bug: a check inverted (a verdict that says "agrees" whatever the run did)."""
    grow = curve(1, 2, 3, 4, 6)
    runs = 30
    r = make_result("gaussian", runs=runs, curves={
        "replace": grow, "accumulate": curve(1, 1.2, 1.2, 1.2, 1.2), "accumulate-subsample": curve(1, 1.5, 1.5, 1.5, 1.5),
        "fresh 0.5": curve(1, 1.1, 1.1, 1.1, 1.1), "fixed 0.5": curve(1, 1.4, 1.4, 1.4, 1.4),
        "select": curve(1, 3, 5, 6, 7), "fresh 0.75": curve(1, 1.3, 1.3, 1.3, 1.3), "fresh 1": curve(1, 1, 1, 1, 1),
    }, extra={"n": 2, "median_sigma": [1, 0.8, 0.6, 0.4, 0.3], "half_sigma_theory": 2.8})  # fmt: skip
    v = _verdicts(r)
    assert v["gerstgrasser"] == v["kazdan"] == v["bertrand"] == v["alemohammad"] == "agrees"
    assert v["dohmatob"] == "agrees" and v["suresh"] == "agrees"
    assert v["feng"] == "differs"  # select drifted further than replace


def test_notes_disagree_when_the_run_goes_the_other_way():
    """Bug: a check that cannot fail (the other branch of each verdict)."""
    r = make_result("gaussian", curves={
        "replace": curve(1, 1.1, 1.1, 1.1, 1.1), "accumulate": curve(1, 2, 3, 4, 6), "accumulate-subsample": curve(1, 9, 9, 9, 9),
        "fresh 0.5": curve(1, 2, 3, 4, 6), "fixed 0.5": curve(1, 1, 1, 1, 1), "select": curve(1, 1, 1, 1, 1),
        "fresh 0.75": curve(1, 2, 3, 4, 6), "fresh 1": curve(1, 3, 4, 5, 7), "fixed 0.75": curve(1, 2, 3, 4, 6),
    }, extra={"n": 100, "median_sigma": [1, 1, 1, 1, 1], "half_sigma_theory": 140})  # fmt: skip
    v = _verdicts(r)
    assert v["gerstgrasser"] == "differs" and v["kazdan"] == "partly" and v["bertrand"] == "differs"
    assert v["alemohammad"] == "differs" and v["dohmatob"] == "differs" and v["feng"] == "agrees"
    assert v["suresh"] == "differs"
    late = make_result("gaussian", extra={"n": 100, "median_sigma": [1, 0.4, 0.3, 0.2, 0.1], "half_sigma_theory": 140})
    assert _verdicts(late)["suresh"] == "differs"  # halved at generation 1, far earlier than about n


def test_a_small_difference_in_three_runs_is_not_evidence():
    """Bug: a small synthetic share called harmful because one median is above another, without a significant test."""
    r = make_result("vae", curves={"fresh 0.75": curve(1, 1.05, 1.05, 1.05, 1.05)}, runs=3)
    note = [n for n in M.theory_notes(r, 1.25) if n.work == "dohmatob"][0]
    assert note.verdict == "differs" and "not measurably further" in note.text


def test_notes_say_where_a_work_makes_no_prediction():
    """Bug: Bertrand et al.'s threshold or Suresh et al.'s rate claimed for a neural network, or Dohmatob et al.'s
    claim tested without a small share of synthetic data."""
    for family in ("vae", "llm"):
        v = _verdicts(make_result(family))
        assert v["bertrand"] is None and v["suresh"] is None
    assert _verdicts(make_result("gmm"))["bertrand"] is not None
    assert _verdicts(make_result("gmm", shares=(0.0, 0.5, 1.0)))["dohmatob"] is None
    text = M.notes_markdown(M.theory_notes(make_result("vae")))
    assert "{cite}" not in text and "**Against the paper** (Gerstgrasser et al.)" in text
    assert "*Bertrand et al.*:" in text
    assert notes.small_synthetic_share([0, 0.5, 0.9, 1]) == 0.9 and notes.small_synthetic_share([0, 0.5, 1]) is None


def test_one_sided_p():
    """Bug: the test's direction reversed, or one run taken as evidence."""
    rng = np.random.default_rng(0)
    big, small = rng.normal(2, 1, 100), rng.normal(0, 1, 100)
    assert notes.one_sided_p(big, small) < 1e-6 and notes.one_sided_p(small, big) > 0.99
    assert notes.one_sided_p(np.array([5.0]), np.array([1.0])) == 1.0


# --------------------------------------------------------------------------------------------- sentences
def test_strategies_sentence_both_ways():
    """Bug: a fixed sentence that says a strategy stayed in the band when it left it (or the reverse)."""
    r = make_result(curves={"replace": curve(1, 2, 3, 4, 5)})
    text = M.strategies_sentence(r, 1.25)
    assert "accumulate (1.00)" in text.split("left")[0] and "replace (5.00, still rising) left that band" in text
    none_in = make_result(curves={s.key: curve(1, 2, 2, 2, 2) for s in M.lanes((0, .5, .75, 1), .5)})
    assert "no strategy stayed within" in M.strategies_sentence(none_in, 1.25)
    assert "left" not in M.strategies_sentence(make_result(), 1.25)
    back = make_result(curves={"replace": curve(1, 2, 1, 1, 1)})
    assert "replace (1.00) left that band" in M.strategies_sentence(back, 1.25)  # left it at generation 1


def test_phase_sentence_every_branch():
    """Bug: the sentence claims fresh real data needed less whichever kind did."""
    fresh_less = make_result(curves={"fixed 0.5": curve(1, 2, 2, 2, 2), "fixed 0.75": curve(1, 2, 2, 2, 2)})
    fresh_less.distances[Strategy("replace")] = np.outer([0.9, 1, 1.1], curve(1, 2, 2, 2, 2))
    assert "fresh real data did it with less" in M.phase_sentence(fresh_less, 1.25)
    fixed_less = make_result(curves={"replace": curve(1, 2, 2, 2, 2), "fresh 0.5": curve(1, 2, 2, 2, 2),
                                     "fresh 0.75": curve(1, 2, 2, 2, 2)})  # fmt: skip
    assert "fixed real data did it with less" in M.phase_sentence(fixed_less, 1.25)
    same = make_result(curves={"replace": curve(1, 2, 2, 2, 2)})
    assert "needed the same share" in M.phase_sentence(same, 1.25)
    none = make_result(curves={s.key: curve(1, 2, 2, 2, 2) for s in M.lanes((0, .5, .75, 1), .5)})
    assert "no share of fresh real data on the grid" in M.phase_sentence(none, 1.25)


def test_takeaway_and_findings_follow_the_runs():
    """Bug: the opening claims replace was the furthest in every family when it was not."""
    worst = make_result("gmm", curves={"replace": curve(1, 5, 5, 5, 5)})
    other = make_result("vae", curves={"select": curve(1, 9, 9, 9, 9), "replace": curve(1, 5, 5, 5, 5)})
    assert "in every family" in M.takeaway([worst], 1.25)
    text = M.takeaway([worst, other], 1.25)
    assert "for the Gaussian mixture." in text and "kept all of them" in text
    none = make_result("llm", curves={"select": curve(1, 9, 9, 9, 9), "accumulate": curve(1, 2, 2, 2, 2),
                                      "fresh 0.5": curve(1, 2, 2, 2, 2)})  # fmt: skip
    text = M.takeaway([none], 1.25)
    assert "never the furthest" in text and "kept none of them" in text
    items = M.findings([worst, other], {"gmm": M.theory_notes(worst), "vae": M.theory_notes(other)}, 1.25)
    assert items[0].startswith("Gaussian mixture (4 generations): closest") and "furthest, replace" in items[0]
    assert "furthest, select (best of 2)" in items[1]
    assert "The cheapest share of fresh real data" in items[-1]


def test_gaussian_theory_sentence_both_ways():
    """Bug: the theory sentence says "within 3 standard errors" whatever the gap."""
    n, G = 20, 4
    extra = {"n": n, "mean_sq": {}, "median_sigma": np.ones(G + 1), "half_sigma_theory": 30.0}
    r = make_result("gaussian", shares=(0.0, 0.5, 0.75, 1.0), extra=extra)
    for s in r.distances:
        if s.name in ("replace", "accumulate", "fresh", "fixed"):
            V, _ = theory.mean_error(n, G, s.name, s.share)
            extra["mean_sq"][s] = (V.copy(), V / 100)
    assert "lies within 3 standard errors" in M.gaussian_theory_sentence(r, 1.25)
    V, _ = theory.mean_error(n, G, "accumulate")
    extra["mean_sq"][r.get("accumulate")] = (V + 5 * V / 100, V / 100)  # 5 standard errors off
    assert "more than 3 standard errors from its exact expectation for accumulate" in M.gaussian_theory_sentence(r, 1.25)
    with pytest.raises(ValueError, match="Gaussian"):
        M.gaussian_theory_sentence(make_result("vae"))


# --------------------------------------------------------------------------------------------- plots
def test_figures_draw_what_they_say():
    """Bug: the phase diagram draws Bertrand et al.'s line for a neural network, or off-scale values vanish silently."""
    r = make_result("vae", curves={"select": curve(1, 2e5, 3e5, 4e5, 5e5)})
    fig, ax = plt.subplots()
    plots.plot_strategies(r, ax=ax)
    assert len([t for t in ax.texts if "off the scale" in t.get_text()]) == 1
    assert len(ax.get_legend().get_texts()) == 7  # six strategies and the band
    fig, ax = plt.subplots()
    plots.plot_phase(r, "fresh", ax=ax)
    assert not [l for l in ax.lines if l.get_linestyle() == ":" and "Bertrand" in str(l.get_label())]
    fig, ax = plt.subplots()
    plots.plot_phase(make_result("gmm"), "fixed", ax=ax)
    assert [l for l in ax.lines if "Bertrand" in str(l.get_label())]
    fig, ax = plt.subplots()
    plots.plot_share([r, make_result("gmm", shares=(0.0, 0.5, 1.0))], "fresh", 0.75, ax=ax)
    assert any("not run" in t.get_text() for t in ax.texts)
    fig, ax = plt.subplots()
    plots.plot_overview([r, make_result("gmm")], ax=ax)
    assert any("off the scale" in t.get_text() and "VAE, select" in t.get_text() for t in ax.texts)
    np.testing.assert_array_equal(plots.left_band(make_result(curves={"replace": curve(1, 1, 2, 2, 2)}), "fresh", 1.25),
                                  [2, np.nan, np.nan, np.nan])  # fmt: skip
    plt.close("all")


def test_gaussian_run_end_to_end():
    """Bug (end to end): the Gaussian driver mislabels its strategies (exact and sample methods crossed) or drops
    what the theory needs."""
    r = M.run_gaussian(20, 30, 300, 60, (0.0, 0.5, 0.75, 1.0), 0.5, seed=1)
    assert r.runs(r.get("replace")) == r.runs(r.get("accumulate")) == r.runs(r.get("fresh", 0.5)) == 300
    assert r.runs(r.get("fixed", 0.5)) == r.runs(r.get("accumulate-subsample")) == r.runs(r.get("select")) == 60
    assert r.final(r.get("accumulate")) < r.final(r.get("replace"))
    assert r.final(r.get("fresh", 1.0)) < 1.6
    assert set(r.extra["mean_sq"]) >= {r.get("replace"), r.get("fresh", 0.5), r.get("fixed", 0.5)}
    assert r.extra["half_sigma_theory"] == pytest.approx(2 * math.log(0.5) / gaussian.log_var_drift(20) - 1)
    fig, ax = plt.subplots()
    plots.plot_gaussian_theory(r, ax=ax)
    plt.close("all")


def test_each_reader_shows_the_kind_of_real_data_and_the_generation_it_names():
    """Bugs guarded (three survivors of the mutation check): the cheapest-share sentence reading fixed real data
    while it says fresh; both phase diagrams drawing fresh real data; the share figure of the slider reading
    generation 0 instead of the last generation. Fresh and fixed real data are built to differ here."""
    up = curve(1, 2, 3, 4, 5)  # leaves a band of 2 at generation 2
    r = make_result("gmm", curves={"replace": up, "fixed 0.5": up, "fixed 0.75": up})
    assert r.cheapest_share("fresh", 2.0) == 0.5 and r.cheapest_share("fixed", 2.0) == 1.0
    text = sentences.cheapest_sentence([r], 2.0)
    assert "50%" in text and "100%" not in text
    peaks = {}
    for kind in ("fresh", "fixed"):
        fig, ax = plt.subplots()
        plots.plot_phase(r, kind, ax=ax, colorbar=False)
        grid = np.asarray(ax.collections[0].get_array()).reshape(len(r.generation), len(r.shares))
        peaks[kind] = float(np.nanmax(grid[:, 1]))  # the column of share 0.5
        plt.close(fig)
    assert peaks["fixed"] > 4 and peaks["fresh"] < 1.5, peaks
    fig, ax = plt.subplots()
    plots.plot_share([r], "fixed", 0.5, ax=ax)
    shown = [line for line in ax.lines if line.get_marker() == "D"]
    assert shown and float(np.asarray(shown[0].get_ydata())[0]) == pytest.approx(5.0)
    plt.close(fig)
