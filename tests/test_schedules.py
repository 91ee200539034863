"""The three data schedules, retention, and the shared generational loop.

Tests that exist to kill a plausible bug name it in their docstring ("Bug guarded: ...").
"""

import numpy as np
import pytest
from scipy import stats

from collapse_utils.schedules import (
    DataSchedule,
    choose_without_replacement,
    n_retained,
    run_generations,
)


def tagged(n, generation):
    """Data whose values tell where they came from: generation * 1000 + index."""
    return generation * 1000 + np.arange(n, dtype=float)


def test_choose_without_replacement_is_distinct_and_uniform():
    rng = np.random.default_rng(0)
    idx = choose_without_replacement(rng, 50, 10, rows=20000)
    assert idx.shape == (20000, 10)
    assert all(len(set(row)) == 10 for row in idx[:500])
    sorted_idx = np.sort(idx, axis=1)
    assert not np.any(sorted_idx[:, 1:] == sorted_idx[:, :-1])
    counts = np.bincount(idx.ravel(), minlength=50)
    # each item is chosen with probability 10/50 in each row
    assert stats.chisquare(counts).pvalue > 1e-3
    # pairs are uniform too: a biased redraw would favour some pairs
    pair = (sorted_idx[:, 0] == 0) & (sorted_idx[:, 1] == 1)
    expected = 20000 * (10 * 9) / (50 * 49)
    assert abs(pair.sum() - expected) < 5 * np.sqrt(expected)


def test_choose_without_replacement_large_k_uses_permutation():
    rng = np.random.default_rng(1)
    idx = choose_without_replacement(rng, 10, 9, rows=100)
    assert np.all(np.sort(idx, axis=1)[:, 1:] != np.sort(idx, axis=1)[:, :-1])
    # which item is left out is uniform (a biased permutation would always leave out the same one)
    left_out = 45 - idx.sum(axis=1)
    assert len(set(left_out)) > 5
    with pytest.raises(ValueError):
        choose_without_replacement(rng, 5, 6)


@pytest.mark.parametrize("retention,expected", [(0.0, 0), (0.1, 10), (0.25, 25), (1.0, 100)])
def test_n_retained(retention, expected):
    assert n_retained(100, retention) == expected


def test_n_retained_rounds():
    """Bug guarded: the retained count truncated (0.29 of 10 points giving 2) instead of rounded."""
    assert n_retained(10, 0.29) == 3 and n_retained(10, 0.21) == 2


def test_keep_models_false_keeps_none():
    """Bug guarded: `keep_models=False` keeping every model (memory of large models)."""
    recs = run_generations(gaussian_fit, gaussian_sample, np.zeros(5) + np.arange(5), 3, keep_models=False)
    assert all(r.model is None for r in recs)


def test_approach1_training_set_is_latest_samples_plus_retained_original():
    rng = np.random.default_rng(0)
    schedule = DataSchedule(tagged(100, 0), approach=1, retention=0.1)
    assert schedule.n_synthetic == 90
    for g in range(1, 4):
        data = schedule.next_training_set(tagged(90, g), rng)
        assert data.shape == (100,)
        original = data[data < 1000]
        assert len(original) == 10 and len(set(original)) == 10
        assert np.all(data[data >= 1000] // 1000 == g)
        assert schedule.last_composition == {"original": 10, "synthetic": 90}


def test_approach2_subsamples_the_mix_of_all_generations():
    rng = np.random.default_rng(0)
    n, gens = 40, 30
    schedule = DataSchedule(tagged(n, 0), approach=2)
    sources = []
    for g in range(1, gens + 1):
        data = schedule.next_training_set(tagged(n, g), rng)
        assert data.shape == (n,)
        assert len(set(data)) == n  # without replacement
        sources.append(data // 1000)
    # every generation's set is drawn from the pool of generations 0..g
    for g, src in enumerate(sources, start=1):
        assert src.min() >= 0 and src.max() <= g
    # on average a generation contributes n / (g + 1) points to the set of generation g
    latest_share = np.mean([np.mean(src == g) * (g + 1) for g, src in enumerate(sources, start=1)])
    assert abs(latest_share - 1) < 0.35


def test_approach2_mix_is_uniform_over_the_pool():
    rng = np.random.default_rng(3)
    counts = np.zeros(3)
    for rep in range(400):
        schedule = DataSchedule(tagged(30, 0), approach=2)
        schedule.next_training_set(tagged(30, 1), rng)
        data = schedule.next_training_set(tagged(30, 2), rng)
        counts += np.bincount((data // 1000).astype(int), minlength=3)
    # pool of generation 2: 30 points of each of generations 0, 1, 2
    assert stats.chisquare(counts).pvalue > 1e-3


def test_approach3_keeps_everything_and_counts_original():
    rng = np.random.default_rng(0)
    n = 50
    schedule = DataSchedule(tagged(n, 0), approach=3, retention=0.2)
    k = n_retained(n, 0.2)
    for g in range(1, 6):
        data = schedule.next_training_set(tagged(n - k, g), rng)
        assert data.shape == (n * (g + 1),)
        assert schedule.last_composition == {"original": n + k * g, "synthetic": (n - k) * g}
        np.testing.assert_array_equal(
            np.sort(data[data >= 1000] // 1000), np.repeat(np.arange(1, g + 1), n - k)
        )


def test_batched_runs_along_axis_1():
    rng = np.random.default_rng(0)
    runs, n = 7, 20
    original = np.stack([tagged(n, 0) + 0.01 * r for r in range(runs)])
    for retention in (0.0, 0.25):
        schedule = DataSchedule(original, approach=2, retention=retention, axis=1)
        for g in range(1, 4):
            syn = np.stack([tagged(schedule.n_synthetic, g) + 0.01 * r for r in range(runs)])
            data = schedule.next_training_set(syn, rng)
            assert data.shape == (runs, n)
            for r in range(runs):
                if retention == 0:  # (retained originals are copies, so only then all distinct)
                    assert len(set(data[r])) == n
                np.testing.assert_allclose((data[r] * 100).round() % 100, r)  # no mixing between runs


def test_wrong_synthetic_count_is_an_error():
    schedule = DataSchedule(tagged(10, 0), retention=0.5)
    with pytest.raises(ValueError, match="expected 5 synthetic samples"):
        schedule.next_training_set(tagged(10, 1), np.random.default_rng(0))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"approach": 4}, "approach must be 1, 2 or 3"),
        ({"approach": True}, "approach must be"),
        ({"approach": [1]}, "approach must be 1, 2 or 3"),
        ({"approach": 2.0}, "approach must be 1, 2 or 3"),
        ({"retention": -0.1}, r"retention must be a finite number in \[0, 1\]"),
        ({"retention": 1.5}, r"retention must be a finite number in \[0, 1\]"),
        ({"retention": float("nan")}, r"retention must be a finite number in \[0, 1\]"),
        ({"retention": "lots"}, r"retention must be a finite number in \[0, 1\]"),
        ({"retention": True}, r"retention must be a finite number in \[0, 1\]"),
    ],
)
def test_bad_schedule_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataSchedule(tagged(10, 0), **kwargs)


def test_empty_original_is_an_error():
    with pytest.raises(ValueError, match="at least one sample"):
        DataSchedule(np.empty(0))


def gaussian_fit(data, rng):
    return float(np.mean(data)), float(np.std(data, ddof=1))


def gaussian_sample(model, m, rng):
    return rng.normal(model[0], model[1], size=m)


def test_run_generations_drives_a_model_and_reproduces():
    original = np.random.default_rng(0).normal(size=200)
    kwargs = dict(original=original, generations=20, seed=5, measure=lambda m, g: {"std": m[1]})
    a = run_generations(gaussian_fit, gaussian_sample, keep_models=[0, 20], **kwargs)
    b = run_generations(gaussian_fit, gaussian_sample, **kwargs)
    assert [r.generation for r in a] == list(range(21))
    assert [r.metrics for r in a] == [r.metrics for r in b]
    assert a[0].model is not None and a[20].model is not None and a[10].model is None
    assert a[0].composition == {"original": 200, "synthetic": 0}
    assert a[1].composition == {"original": 0, "synthetic": 200}
    c = run_generations(gaussian_fit, gaussian_sample, original=original, generations=20, seed=6)
    assert c[20].model is None


def test_run_generations_with_retention_and_accumulation():
    original = np.random.default_rng(0).normal(size=100)
    recs = run_generations(gaussian_fit, gaussian_sample, original, 5, approach=3, retention=0.1, seed=1)
    assert recs[5].composition == {"original": 100 + 5 * 10, "synthetic": 5 * 90}


def test_run_generations_validates():
    with pytest.raises(ValueError, match="generations must be an integer >= 0"):
        run_generations(gaussian_fit, gaussian_sample, np.zeros(5), -1)


# --- the recursion itself, checked directly -------------------------------------------------


class Tagged:
    """A model that remembers the data it was fitted to and the order in which it was fitted."""

    def __init__(self, index, data):
        self.index = index
        self.data = np.array(data)


def tagging_loop(generations, **kwargs):
    fitted = []

    def fit(data, rng):
        model = Tagged(len(fitted), data)
        fitted.append(model)
        return model

    def sample(model, m, rng):
        # samples say which model made them: (index + 1) * 1000 + j
        return (model.index + 1) * 1000 + np.arange(m, dtype=float)

    original = np.arange(kwargs.pop("n", 20), dtype=float)  # original values are < 1000
    records = run_generations(fit, sample, original, generations, keep_models=True, **kwargs)
    return records, fitted


def test_generation_t_plus_1_is_fitted_to_samples_of_generation_t():
    """Bug guarded: `run_generations` fitting every generation on the original data (no recursion at all)."""
    records, fitted = tagging_loop(6)
    assert [m.index for m in fitted] == list(range(7))
    np.testing.assert_array_equal(records[0].model.data, np.arange(20.0))  # generation 0: the original data
    for g in range(6):
        source = records[g + 1].model.data // 1000 - 1
        assert np.all(source == records[g].model.index), g  # all made by generation g's model


def test_accumulate_subsample_draws_only_from_earlier_generations():
    """Bug guarded: the pool of approach 2 missing the latest samples, or holding samples of later models."""
    records, _ = tagging_loop(8, approach=2, seed=0)
    seen_latest = 0
    for g in range(1, 9):
        source = records[g].model.data // 1000 - 1  # -1: original data
        assert source.min() >= -1 and source.max() <= g - 1, g
        seen_latest += np.sum(source == g - 1)
    assert seen_latest > 0


def test_measure_is_called_with_each_models_own_generation():
    """Bug guarded: `measure` called with the wrong generation (for example the next one, or 0 every time)."""
    calls = []
    fitted = []

    def fit(data, rng):
        fitted.append(len(fitted))
        return fitted[-1]

    run_generations(
        fit,
        lambda model, m, rng: np.zeros(m),
        np.zeros(5),
        4,
        measure=lambda model, g: calls.append((model, g)) or {"g": g},
    )
    assert calls == [(g, g) for g in range(5)]  # model g (the g-th fit) is measured as generation g


@pytest.mark.parametrize("axis", [0, 1])
def test_retained_originals_are_drawn_without_replacement(axis):
    """Bug guarded: retained ("fixed") original points drawn with replacement (repeats of one real point)."""
    rng = np.random.default_rng(0)
    n = 40
    original = tagged(n, 0) if axis == 0 else np.stack([tagged(n, 0)] * 5)
    schedule = DataSchedule(original, approach=1, retention=0.5, axis=axis)
    assert schedule.retained == "fixed"
    for g in range(1, 30):
        data = schedule.next_training_set(
            tagged(20, g) if axis == 0 else np.stack([tagged(20, g)] * 5), rng
        )
        for row in np.atleast_2d(data):
            kept = row[row < 1000]
            assert len(kept) == 20 and len(set(kept)) == 20, g


def test_run_generations_retains_distinct_originals():
    """Bug guarded: the shared loop's retained originals drawn with replacement."""
    records, _ = tagging_loop(10, n=40, retention=0.5, seed=2)
    for rec in records[1:]:
        kept = rec.model.data[rec.model.data < 1000]
        assert len(kept) == 20 and len(set(kept)) == 20


def test_fresh_retention_uses_draw_original():
    """Bug guarded: `draw_original` ignored, so "fresh" retention silently reuses the fixed sample."""
    rng = np.random.default_rng(0)
    schedule = DataSchedule(tagged(10, 0), retention=0.3, draw_original=lambda k, g: np.full(k, -7.0))
    assert schedule.retained == "fresh"
    data = schedule.next_training_set(tagged(7, 1), rng)
    assert np.sum(data == -7.0) == 3


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(keep_models=5), r"keep_models must be a sequence of integers .*\[5\]"),
        (dict(keep_models=[0, 9]), r"keep_models\[1\] must be an integer in \[0, 4\]"),
        (dict(keep_models="all"), "keep_models must be a sequence of integers"),
        (dict(generations=2.0), "generations must be an integer >= 0"),
        (dict(approach=[1]), "approach must be 1, 2 or 3"),
        (dict(retention=True), r"retention must be a finite number in \[0, 1\]"),
        (dict(progress=1), "progress must be True or False"),
    ],
)
def test_run_generations_rejects_bad_input_before_fitting(kwargs, match):
    """Bug guarded: bad arguments failing later with a TypeError (or silently taken as something else)."""
    fits = []
    args = dict(generations=4)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        run_generations(lambda d, r: fits.append(1), gaussian_sample, np.zeros(5), **args)
    assert fits == []  # no model was fitted


def test_schedule_names():
    from collapse_utils.schedules import APPROACHES, SCHEDULE_NAMES, SCHEDULE_VARIANTS

    assert SCHEDULE_NAMES == {1: "replace", 2: "accumulate-subsample", 3: "accumulate"}
    assert all(APPROACHES[k].startswith(SCHEDULE_NAMES[k]) for k in (1, 2, 3))
    assert {"approach 1", "approach 2", "approach 3"} <= set(SCHEDULE_VARIANTS)


# --- property-based tests (hypothesis, fixed fast budgets) -----------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FAST = settings(
    max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@FAST
@given(population=st.integers(1, 60), data=st.data(), rows=st.integers(1, 40), seed=st.integers(0, 2**16))
def test_choose_without_replacement_rows_are_distinct_sorted_and_in_range(population, data, rows, seed):
    """Bug guarded: a redraw that is not sorted again (duplicates no longer adjacent, so kept), indices out of
    range, or rows that share one draw; on both branches (k small and k near the population)."""
    k = data.draw(st.integers(0, population))
    idx = choose_without_replacement(np.random.default_rng(seed), population, k, rows=rows)
    assert idx.shape == (rows, k)
    assert np.all((idx >= 0) & (idx < population))
    assert np.all(np.diff(idx, axis=1) > 0)  # sorted and distinct
    if 0 < k < population and rows >= 20:
        assert len({tuple(r) for r in idx}) > 1  # rows are drawn independently


@pytest.mark.parametrize("population,k", [(50, 10), (40, 3), (12, 5), (12, 11)])
def test_choose_without_replacement_is_uniform_on_both_branches(population, k):
    """Bug guarded: a redraw or key selection that favours some items (say, a redraw that never picks the last
    one); each item must be chosen with probability k / population on both branches (5 k <= population, where
    (50, 10) redraws about one index a row, and above). Every item's count within 5 SE of its expectation
    (40,000 rows), and chi-square at p > 1e-4."""
    rows = 40_000
    idx = choose_without_replacement(np.random.default_rng(7), population, k, rows=rows)
    counts = np.bincount(idx.ravel(), minlength=population)
    p = k / population
    assert np.max(np.abs(counts - rows * p)) < 5 * np.sqrt(rows * p * (1 - p))
    assert stats.chisquare(counts).pvalue > 1e-4


def test_choose_without_replacement_single_row_and_int32():
    """Bug guarded: ``rows=None`` returning a 2-D array, or ``dtype`` ignored."""
    idx = choose_without_replacement(np.random.default_rng(0), 100, 7, dtype=np.int32)
    assert idx.shape == (7,) and idx.dtype == np.int32 and len(set(idx)) == 7


def pool_sources(data):
    """The generation each value of a tagged training set came from (-1: original data)."""
    return np.floor_divide(data, 1000).astype(int) - 1


@FAST
@given(
    approach=st.sampled_from([1, 2, 3]),
    n=st.integers(2, 30),
    retention=st.sampled_from([0.0, 0.1, 0.3, 0.5, 1.0]),
    rows=st.integers(1, 4),
    generations=st.integers(1, 12),
    seed=st.integers(0, 1000),
)
def test_schedule_composition_matches_the_data(approach, n, retention, rows, generations, seed):
    """Bugs guarded: compositions not tied to the data they count (counts per run instead of summed over runs,
    original flags lost when the pool grows, synthetic points flagged as original, a truncated instead of
    rounded retained count), training sets of the wrong size, a pool that loses old data or hands out samples
    of later models, and runs of a batch mixing data.

    Values are tagged: original point j of run r is ``r / 100 + j / 10_000`` (below 1); sample j of generation
    g in run r is ``1000 (g + 1) + r / 100 + j / 10_000``. So each training set says where each point came
    from. """
    rng = np.random.default_rng(seed)
    j = np.arange(n) / 10_000
    original = np.stack([r / 100 + j for r in range(rows)])
    schedule = DataSchedule(original, approach, retention, axis=1)
    k = n_retained(n, retention)
    assert schedule.k == k == int(round(retention * n)) and schedule.n_synthetic == n - k
    for g in range(generations):
        syn = np.stack([1000 * (g + 1) + r / 100 + np.arange(n - k) / 10_000 for r in range(rows)])
        data = schedule.next_training_set(syn, rng)
        size = n if approach in (1, 2) else n * (g + 2)
        assert data.shape == (rows, size)
        run_of = np.round((data % 1) * 100).astype(int)  # the run tag survives any pool
        assert np.all(run_of == np.arange(rows)[:, None])
        src = pool_sources(data)
        assert src.min() >= -1 and src.max() <= g  # nothing from later models
        if approach == 1:
            assert np.all((src == -1).sum(axis=1) == k) and np.all((src == g).sum(axis=1) == n - k)
        if approach == 3:
            # the whole pool: n original points, then every generation's new data, in order
            assert np.all((src == -1).sum(axis=1) == n + k * (g + 1))
        if approach in (1, 2):
            # without replacement (retained copies aside)
            assert all(len(set(row)) == n for row in data) or k > 0
        comp = schedule.last_composition
        assert comp["original"] == int((src == -1).sum()) and comp["synthetic"] == int((src >= 0).sum())
        assert comp["original"] + comp["synthetic"] == data.size
    assert schedule.generation == generations


def test_accumulate_subsample_reaches_every_part_of_a_grown_pool():
    """Bug guarded: a pool that loses its old data when it grows (copy skipped), or a subsample that draws
    from the first `n` slots only. Over many generations every earlier generation must still be drawn, about
    as often as its share of the pool (chi-square, p > 1e-4)."""
    rng = np.random.default_rng(11)
    n, gens, rows = 10, 12, 400
    schedule = DataSchedule(np.zeros((rows, n)), approach=2, axis=1)
    for g in range(gens):
        data = schedule.next_training_set(np.full((rows, n), 1000.0 * (g + 1)), rng)
    counts = np.bincount(pool_sources(data).ravel() + 1, minlength=gens + 1)
    assert stats.chisquare(counts).pvalue > 1e-4  # every generation (and the original) equally likely


@pytest.mark.parametrize("approach", [1, 2, 3])
def test_fixed_retention_draws_each_runs_subset_independently(approach):
    """Bug guarded: the runs of a batch sharing one retained subset (one index row broadcast to all runs), or
    a retained subset that never changes between generations."""
    rng = np.random.default_rng(3)
    n, rows = 20, 50
    original = np.tile(np.arange(n, dtype=float), (rows, 1))
    schedule = DataSchedule(original, approach, 0.25, axis=1)
    first = schedule.next_training_set(np.full((rows, 15), 1000.0), rng)
    kept = [tuple(sorted(row[row < 1000][-5:])) for row in first]  # the 5 retained points of each run
    assert len(set(kept)) > rows // 2
    if approach == 1:
        second = schedule.next_training_set(np.full((rows, 15), 2000.0), rng)
        again = [tuple(sorted(row[row < 1000])) for row in second]
        assert sum(a != b for a, b in zip(kept, again)) > rows // 2


def test_integer_original_data_is_not_truncated_by_float_samples():
    """Bug guarded (found while writing these tests): a pool that keeps the original data's integer type, so
    that float samples appended under accumulate or accumulate-subsample are silently truncated (0.5 stored as
    0)."""
    rng = np.random.default_rng(0)
    for approach in (2, 3):
        schedule = DataSchedule(np.arange(4), approach=approach)
        data = schedule.next_training_set(np.array([0.5, 1.5, 2.5, 3.5]), rng)
        assert data.dtype.kind == "f"
        if approach == 3:
            np.testing.assert_array_equal(data, [0, 1, 2, 3, 0.5, 1.5, 2.5, 3.5])
    # a float32 pool stays float32 (no silent doubling of memory) and float32 samples keep their type
    schedule = DataSchedule(np.zeros(4, np.float32), approach=3)
    assert schedule.next_training_set(np.ones(4, np.float32), rng).dtype == np.float32
    schedule = DataSchedule(np.zeros(4), approach=1, retention=0.5)
    assert schedule.next_training_set(np.ones(2, np.float32), rng).dtype == np.float32


def test_multidimensional_points_along_axis_1():
    """Bug guarded: points of dimension d > 1 (chapter 2's 2-D data) split or mixed by the batched
    subsample."""
    rng = np.random.default_rng(5)
    rows, n = 6, 12
    original = np.stack([np.stack([np.full(n, r), np.arange(n)], axis=1) for r in range(rows)]).astype(float)
    for approach, retention in [(2, 0.0), (2, 0.25), (1, 0.5), (3, 0.25)]:
        schedule = DataSchedule(original, approach, retention, axis=1)
        m = schedule.n_synthetic
        syn = np.stack([np.stack([np.full(m, r), 100 + np.arange(m)], axis=1) for r in range(rows)])
        syn = syn.astype(float)
        data = schedule.next_training_set(syn, rng)
        assert data.shape[0] == rows and data.shape[2] == 2
        assert np.all(data[:, :, 0] == np.arange(rows)[:, None])  # each point stays whole and in its run


def test_run_generations_seed_is_used_and_records_are_aligned():
    """Bugs guarded: the seed ignored (every seed the same run), a Generator passed as seed not used, and
    compositions recorded one generation off (generation 1 reporting generation 0's all-original data)."""
    original = np.random.default_rng(0).normal(size=50)
    kw = dict(retention=0.2, keep_models=True)
    runs = [run_generations(gaussian_fit, gaussian_sample, original, 5, seed=s, **kw) for s in (1, 2)]
    assert [r.model for r in runs[0]][1:] != [r.model for r in runs[1]][1:]
    same = run_generations(gaussian_fit, gaussian_sample, original, 5, seed=np.random.default_rng(1), **kw)
    assert [r.model for r in same] == [r.model for r in runs[0]]
    recs = runs[0]
    assert recs[0].composition == {"original": 50, "synthetic": 0}
    assert all(r.composition == {"original": 10, "synthetic": 40} for r in recs[1:])


def test_run_generations_samples_are_independent_between_generations():
    """Bug guarded: the loop reusing one generation's noise for the next (a generator re-created from the seed
    inside the loop), which a mean-and-variance check of each generation cannot see."""
    draws = []

    def sample(model, m, rng):
        x = rng.standard_normal(m)
        draws.append(x)
        return x

    run_generations(lambda d, r: 0, sample, np.zeros(200), 6, seed=4)
    mat = np.stack(draws)
    corr = np.corrcoef(mat)[np.triu_indices(len(draws), 1)]
    assert np.all(np.abs(corr) < 0.3) and len(np.unique(mat)) == mat.size


# --- validation at its boundaries: which exception, which message, before any work ---------------------------------


@pytest.mark.parametrize(
    "original, axis, match",
    [
        (np.zeros(5), 1, r"original data of shape \(5,\) has no sample axis 1"),
        (np.float64(3.0), 0, r"original data of shape \(\) has no sample axis 0"),
        (np.zeros((3, 4)), 2, r"axis must be 0 \(one run\) or 1"),
        (np.zeros((3, 4)), -1, r"axis must be 0 \(one run\) or 1"),
        (np.zeros((3, 4)), True, r"axis must be 0 \(one run\) or 1"),
        (np.zeros((3, 4)), 1.0 + 0.5, r"axis must be 0 \(one run\) or 1"),
        (np.zeros((3, 0)), 1, "at least one sample"),
        (np.zeros((0, 3)), 0, "at least one sample"),
    ],
)
def test_a_missing_or_bad_sample_axis_is_a_clear_error(original, axis, match):
    """Bugs guarded: 1-D data with ``axis=1`` (or a scalar with ``axis=0``) accepted, failing later with an
    IndexError (a check written ``ndim < axis``); ``axis=True`` taken as 1; an empty sample axis accepted."""
    with pytest.raises(ValueError, match=match):
        DataSchedule(original, axis=axis)


def test_the_smallest_valid_inputs_are_accepted():
    """Bug guarded: a boundary check off by one that rejects valid edge cases: one sample, one run along axis 1,
    retention 0 and 1, generations 0."""
    rng = np.random.default_rng(0)
    one = DataSchedule(np.array([5.0]), approach=2, retention=1.0)
    assert one.n == 1 and one.k == 1 and one.n_synthetic == 0
    assert one.next_training_set(np.empty(0), rng).tolist() == [5.0]
    batch = DataSchedule(np.zeros((1, 3)), approach=3, retention=0.0, axis=1)
    assert batch.next_training_set(np.ones((1, 3)), rng).shape == (1, 6)
    recs = run_generations(gaussian_fit, gaussian_sample, np.arange(4.0), 0, keep_models=[0])
    assert len(recs) == 1 and recs[0].model is not None


@pytest.mark.parametrize("approach", [np.int64(2), np.int8(3), 1])
def test_numpy_integers_are_schedules(approach):
    """Bug guarded: ``approach=np.int64(2)`` (a value read from an array of settings) rejected."""
    assert DataSchedule(tagged(4, 0), approach=approach).approach == int(approach)


@pytest.mark.parametrize("approach", [np.bool_(True), 0, 4, -1, 2.0, "2", None, 1.5])
def test_lookalike_schedules_are_rejected_by_name(approach):
    """Bug guarded: ``np.bool_(True)``, ``2.0`` or ``"2"`` accepted as a schedule (or failing with a KeyError)."""
    with pytest.raises(ValueError, match=r"^approach must be 1, 2 or 3 \(1: replace"):
        DataSchedule(tagged(4, 0), approach=approach)


@pytest.mark.parametrize("retained", ["fixed", "fresh"])
def test_retention_kinds_are_checked_by_name(retained):
    """Bug guarded: an unknown kind of retention accepted (a typo silently runs the default kind)."""
    from collapse_utils.schedules import check_retained

    assert check_retained(retained) == retained
    for bad in ("Fixed", "new", 1, None):
        with pytest.raises(ValueError, match=r"^retained must be one of 'fixed', 'fresh', got"):
            check_retained(bad)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(n=st.integers(1, 8), retention=st.sampled_from([0.0, 0.25, 0.5, 1.0]), data=st.data())
def test_retained_indices_are_accepted_iff_k_distinct_indices_in_range(n, retention, data):
    """Bugs guarded: retained indices that repeat a point, reach ``n`` (one past the end: an IndexError later,
    or with negative ones a silent wrap-around), or number other than ``k``, accepted; or valid ones
    rejected. When accepted, the training set starts with exactly those original points."""
    schedule = DataSchedule(tagged(n, 0) + 0.5, approach=1, retention=retention)
    k = schedule.k
    size = data.draw(st.integers(max(0, k - 1), k + 1))
    idx = np.array(data.draw(st.lists(st.integers(-2, n + 1), min_size=size, max_size=size)), dtype=np.int64)
    valid = size == k and len(set(idx.tolist())) == k and all(0 <= i < n for i in idx)
    rng = np.random.default_rng(0)
    synthetic = tagged(n - k, 1)
    if valid:
        out = schedule.next_training_set(synthetic, rng, retained=idx)
        np.testing.assert_array_equal(out[:k], tagged(n, 0)[idx] + 0.5)
        np.testing.assert_array_equal(out[k:], synthetic)
    else:
        with pytest.raises(ValueError, match=rf"^retained must be {k} distinct indices in \[0, {n}\), got"):
            schedule.next_training_set(synthetic, rng, retained=idx)
        assert schedule.generation == 0, "rejected before any work"


def test_retained_indices_only_for_fixed_retention_of_one_run():
    """Bug guarded: indices accepted where they mean nothing: with fresh draws (``draw_original``) or for a
    batch of runs."""
    rng = np.random.default_rng(0)
    fresh = DataSchedule(tagged(10, 0), retention=0.2, draw_original=lambda k, r: np.zeros(k))
    with pytest.raises(ValueError, match="fixed retention of one run"):
        fresh.next_training_set(tagged(8, 1), rng, retained=np.array([0, 1]))
    batch = DataSchedule(np.stack([tagged(10, 0)] * 2), retention=0.2, axis=1)
    with pytest.raises(ValueError, match="fixed retention of one run"):
        batch.next_training_set(np.stack([tagged(8, 1)] * 2), rng, retained=np.array([0, 1]))
    with pytest.raises(ValueError, match="choose_retained is for one run"):
        batch.choose_retained(rng)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(n=st.integers(1, 300), retention=st.floats(0, 1))
def test_n_retained_is_the_nearest_count(n, retention):
    """Bug guarded: the retained count truncated (or ceiled) instead of rounded: within half a point of
    ``retention * n``, and within ``[0, n]``."""
    k = n_retained(n, retention)
    assert type(k) is int and 0 <= k <= n and abs(k - retention * n) <= 0.5 + 1e-9


# --- which points are original: the flags against the data ---------------------------------------------------------


@FAST
@given(approach=st.sampled_from([1, 2, 3]), n=st.integers(1, 12), retention=st.sampled_from([0.0, 0.2, 0.5, 1.0]),
       axis=st.sampled_from([0, 1]), generations=st.integers(1, 5), seed=st.integers(0, 1000))
def test_original_flags_mark_exactly_the_original_points(approach, n, retention, axis, generations, seed):
    """Bugs guarded: ``last_is_original`` flagging one point too many (``<= k``), the last ``k`` points instead
    of the first ``k``, every new point (``k = 0``), or flags of another run than the data's, on one run
    (``axis=0``) and on a batch (``axis=1``), for every schedule; compositions not the sum of the flags."""
    rng = np.random.default_rng(seed)
    rows = 3
    original = tagged(n, 0) if axis == 0 else np.stack([tagged(n, 0) + r / 100 for r in range(rows)])
    schedule = DataSchedule(original, approach, retention, axis=axis)
    for g in range(1, generations + 1):
        m = schedule.n_synthetic
        syn = tagged(m, g) if axis == 0 else np.stack([tagged(m, g) + r / 100 for r in range(rows)])
        data = schedule.next_training_set(syn, rng)
        is_original = data < 1000
        flags = schedule.last_is_original
        if approach == 2 and axis == 1:
            assert flags.shape == data.shape
        else:
            assert flags.shape == (data.shape[-1],)
            flags = np.broadcast_to(flags, data.shape)
        np.testing.assert_array_equal(flags, is_original)
        comp = schedule.last_composition
        assert comp == {"original": int(is_original.sum()), "synthetic": int((~is_original).sum())}
        if approach == 1:
            assert int(schedule.last_is_original.sum()) == schedule.k


# --- fixed retention is a random subset, anew each generation --------------------------------------------------------


@pytest.mark.parametrize("how", ["drawn inside", "choose_retained"])
def test_fixed_retention_of_one_run_is_a_fresh_uniform_subset(how):
    """Bug guarded: fixed retention of one run (``axis=0``) keeping the same points every generation (the
    first ``k``, say) instead of a random subset drawn anew: each original point must be kept in about
    ``k / n`` of the generations (within 5 SE over 3,000), and the subsets must change between generations."""
    rng = np.random.default_rng(9)
    n, gens = 10, 3000
    schedule = DataSchedule(tagged(n, 0), approach=1, retention=0.3)
    k = schedule.k
    counts = np.zeros(n)
    subsets = set()
    for g in range(gens):
        retained = schedule.choose_retained(rng) if how == "choose_retained" else None
        data = schedule.next_training_set(tagged(n - k, 1), rng, retained=retained)
        kept = data[:k].astype(int)
        assert len(set(kept)) == k
        counts[kept] += 1
        subsets.add(tuple(sorted(kept)))
    p = k / n
    assert np.max(np.abs(counts - gens * p)) < 5 * np.sqrt(gens * p * (1 - p))
    assert len(subsets) > 50


# --- the loop hands its options on ---------------------------------------------------------------------------------


@FAST
@given(approach=st.sampled_from([1, 2, 3]), retention=st.sampled_from([0.0, 0.3, 1.0]), fresh=st.booleans(),
       generations=st.integers(0, 5), seed=st.integers(0, 2**16))
def test_run_generations_is_the_schedule_driven_by_hand(approach, retention, fresh, generations, seed):
    """Bugs guarded: an option dropped on the way to the schedule (``draw_original`` lost, so that fresh
    retention silently becomes fixed; ``approach`` or ``retention`` not passed on; ``seed`` ignored), or the
    loop drawing from its generator in another order. The loop must train on exactly the data that the same
    schedule, driven by hand with the same generator, builds."""
    original = tagged(8, 0)
    draw = (lambda k, rng: -1.0 - rng.random(k)) if fresh else None
    seen = []

    def fit(data, rng):
        seen.append(np.array(data))
        return len(seen)

    def sample(model, m, rng):
        return 1000.0 * model + rng.random(m)

    run_generations(fit, sample, original, generations, approach=approach, retention=retention, seed=seed,
                    draw_original=draw)
    rng = np.random.default_rng(seed)
    schedule = DataSchedule(original, approach, retention, draw_original=draw)
    data, expected = original, []
    for g in range(generations + 1):
        expected.append(np.array(data))
        if g < generations:
            data = schedule.next_training_set(sample(g + 1, schedule.n_synthetic, rng), rng)
    assert len(seen) == len(expected)
    for a, b in zip(seen, expected):
        np.testing.assert_array_equal(a, b)


def test_fresh_retention_through_the_loop_uses_draw_original():
    """Bug guarded: ``run_generations`` dropping ``draw_original``: fresh retention silently becomes fixed."""
    records = run_generations(lambda d, r: d.copy(), lambda m, k, r: np.full(k, -1.0), np.zeros(10), 2,
                              retention=0.5, seed=0, draw_original=lambda k, r: np.full(k, 7.0), keep_models=True)
    for rec in records[1:]:
        assert np.sum(rec.model == 7.0) == 5 and np.sum(rec.model == 0.0) == 0


@pytest.mark.parametrize("progress, desc", [(True, "generations"), ("chapter 2", "chapter 2"), (False, None)])
def test_run_generations_progress_bar_and_its_name(monkeypatch, progress, desc):
    """Bug guarded: the progress option ignored (no bar, or a bar when none was asked for) or its description
    dropped."""
    from collapse_utils import schedules

    bars = []

    def spy(steps, desc=None):
        bars.append((list(steps), desc))
        return steps

    monkeypatch.setattr(schedules, "_progress", spy)
    run_generations(gaussian_fit, gaussian_sample, np.arange(5.0), 3, progress=progress, seed=0)
    assert bars == ([] if desc is None else [([0, 1, 2, 3], desc)])


@pytest.mark.parametrize("keep, kept", [(True, [0, 1, 2, 3]), (np.bool_(True), [0, 1, 2, 3]), (False, []),
                                        ([3], [3]), ({0, 3}, [0, 3]), (np.array([1, 2]), [1, 2]), ([], [])])
def test_keep_models_keeps_exactly_the_generations_asked_for(keep, kept):
    """Bugs guarded: the last generation refused (a range check with ``generations - 1``), a set or an array
    of generations refused, ``np.bool_`` taken as a list, or other generations kept as well."""
    records = run_generations(gaussian_fit, gaussian_sample, np.arange(5.0), 3, keep_models=keep, seed=0)
    assert [r.generation for r in records if r.model is not None] == kept


# --- choosing without replacement at its edges ----------------------------------------------------------------------


@pytest.mark.parametrize("population, k", [(7, 0), (7, 7), (1, 1), (1, 0), (25, 5), (25, 6), (100, 20), (100, 21)])
@pytest.mark.parametrize("rows", [None, 3])
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_choose_without_replacement_at_the_edges_of_both_branches(population, k, rows, dtype):
    """Bugs guarded: ``k == population`` (choosing every item) or ``k == 0`` refused or mis-shaped; the switch
    between the two branches (``5 k`` against the population) off by one in a way that breaks either side;
    ``dtype`` honoured on one branch only; ``rows=None`` giving a 2-D array on one branch."""
    idx = choose_without_replacement(np.random.default_rng(0), population, k, rows=rows, dtype=dtype)
    assert idx.shape == ((k,) if rows is None else (rows, k)) and idx.dtype == dtype
    for row in np.atleast_2d(idx) if k else []:
        assert np.all(np.diff(row) > 0) and row.min() >= 0 and row.max() < population
        if k == population:
            np.testing.assert_array_equal(row, np.arange(population))
    with pytest.raises(ValueError, match=f"cannot choose {population + 1} distinct items from {population}"):
        choose_without_replacement(np.random.default_rng(0), population, population + 1, rows=rows)
