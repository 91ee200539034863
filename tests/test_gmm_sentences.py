"""Chapter 2's computed sentences and figures: every branch, on runs built so that each branch is taken.

A sentence that explains an outcome must pick its explanation from the
computed verdict; these tests give each helper runs with known measures (a
``GMMRuns`` built by hand) and check that the sentence says what happened,
whichever way it went.
"""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from collapse_utils import gmm as M
from collapse_utils.gmm import sentences as S

P0 = M.two_gaussians()


def runs(metrics: dict, generation, original=P0, n=100, snapshots=None, seconds=1.0, true_ll=-3.0):
    """A ``GMMRuns`` with the given metrics (arrays (runs, generations)); missing metrics are filled in."""
    generation = np.asarray(generation)
    R = next(iter(metrics.values())).shape[0]
    full = {name: np.full((R, len(generation)), 1.0) for name in M.METRICS}
    full.update({k: np.asarray(v, dtype=float) for k, v in metrics.items()})
    return M.GMMRuns(n=n, generations=int(generation[-1]), runs=R, n_components=2, approach=1, retention=0.0,
                     init="warm", backend="batched", seed=0, original=original, generation=generation,
                     metrics=full, snapshots=snapshots or [{} for _ in range(R)], seconds=seconds,
                     true_heldout_loglik=true_ll)


def figure7_run(loss0=0.01, factor=50.0, share=0.01, last=2000, R=3):
    """Runs whose Figure 7 checks give the stated values; generation 0's total variance is 1.5 times the
    original's, so that a share taken relative to generation 0 would differ."""
    g = np.array([0, 1, 50, last])
    tv = P0.total_variance()
    return runs({
        "heldout_loglik": np.full((R, 4), -3.0 - loss0),
        "l2_sq_true": np.full((R, 4), 0.001),
        "l2_sq": np.tile([0.0, 0.0001, 0.001 * factor, 1.0], (R, 1)),
        "total_var": np.tile([1.5 * tv, tv, tv, share * tv], (R, 1)),
    }, g)


def test_num_formats_for_readers():
    """Bugs: a negative zero, scientific notation, or too few digits for a small quantity."""
    assert S.num(143.155) == "143" and S.num(0.012213) == "0.0122" and S.num(-16667.9) == "-16,668"
    assert S.num(-0.0) == "0" and S.num(0.0) == "0" and S.num(float("nan")) == "n/a"
    assert "e" not in S.num(2.5e-7)


@pytest.mark.parametrize("loss0, factor, share, last, verdict", [
    (0.01, 50.0, 0.01, 2000, "agrees"),
    (0.2, 2.0, 0.5, 2000, "differs"),
    (0.01, 50.0, 0.5, 2000, "partly"),
    (0.01, 50.0, 0.01, 60, "partly"),  # the last claim cannot be tested before generation 2000
])
def test_figure7_checks_and_note_take_every_branch(loss0, factor, share, last, verdict):
    """Bugs: a claim checked the wrong way round (a poor fit called very good), the change measured against
    the wrong distance, a run that stops at generation 60 credited with the paper's generation 2000."""
    run = figure7_run(loss0, factor, share, last)
    c = M.figure7_checks(run)
    assert c["loss0"] == pytest.approx(loss0) and c["factor"] == pytest.approx(factor)
    assert c["variance_share"] == pytest.approx(share) and c["t_change"] == 50
    assert M.figure7_verdict(c) == verdict
    note = M.figure7_note(run, "a setup")
    assert note.startswith("> **Against the paper** (the paper's Figure 7, a setup)")
    words = {"agrees": "**agrees**", "partly": "**agrees in part**", "differs": "**does not agree**"}
    assert words[verdict] in note
    assert ("not under the 0.05" in note) == (loss0 >= 0.05)
    assert ("is not tested at this scale" in note) == (last < 2000)
    assert f"generation {last} the total variance is {M.sentences.prose.percent(share, 1)}" in note


def valley_runs(split_at, R=4, T=10, original=P0):
    """Runs whose valley falls below 0.5 at ``split_at[r]`` (None: never); generation 0 has no valley."""
    g = np.arange(T + 1)
    valley = np.ones((R, T + 1))
    for r, t in enumerate(split_at):
        if t is not None:
            valley[r, t:] = 0.1
    tv = original.total_variance()
    return runs({"valley": valley, "mean_distance": np.full((R, T + 1), 5.0),
                 "total_var": np.tile(np.linspace(tv, 0.1 * tv, T + 1), (R, 1))}, g, original=original)


def test_split_and_merge_times():
    """Bugs: the first generation *after* the event, an index for a generation, or the wrong level."""
    blob = valley_runs([3, None, 0, 7])
    assert M.split_times(blob) == [3, None, 0, 7]
    g = np.array([0, 5, 10])
    two = runs({"mean_distance": np.array([[5.0, 2.0, 0.1], [5.0, 5.0, 5.0]])}, g)
    assert M.merge_times(two) == [5, None]
    assert S.measured_at_or_before(two, 7) == 5 and S.measured_at_or_before(two, 50) == 10


def test_setups_sentence_picks_the_explanation_from_the_count_of_split_runs():
    """The late-collapse explanation applies to the blob only after the recursion split it: the sentence
    must say so when most runs split and say the opposite when most did not. Bug: a fixed explanation."""
    two = runs({"mean_distance": np.array([[5.0, 1.0], [5.0, 5.0]]), "total_var": np.full((2, 2), 8.0)},
               [0, 10])
    split = M.setups_sentence(two, valley_runs([2, 4, None, 6], original=M.single_blob()))
    assert "1 of 2 runs lost one of them" in split
    assert "The recursion makes one: 3 of 4 runs split" in split
    assert "half of the runs by generation 4" in split
    assert "only after this split" in split and "does not apply" not in split
    kept = M.setups_sentence(two, valley_runs([None, 5, None, None], original=M.single_blob()))
    assert "no valley appeared later either (1 of 4 runs split" in kept and "does not apply" in kept
    assert "only after this split" not in kept


def test_takeaway_both_ways():
    two = valley_runs([1, 1, 1, 1])
    split = M.takeaway(two, valley_runs([2, 3, 4, None]))
    assert "split it into two separated clusters in 3 of 4 runs" in split
    stayed = M.takeaway(two, valley_runs([None, None, 4, None]))
    assert "stayed one mode in 3 of 4 runs" in stayed and "10.0%" in stayed


def test_findings_state_each_outcome():
    """Bugs: a finding typed instead of computed (the chain band's verdict fixed), a wrong count."""
    two, blob = figure7_run(), valley_runs([2, 3, None, 1], original=M.single_blob())
    two.metrics["mean_distance"] = np.array([[5, 5, 1, 1], [5, 5, 5, 5], [5, 5, 5, 2]], dtype=float)
    band = np.array([[0.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.5, 0.5]])
    inside = M.findings(two, blob, {"the tails": 3, "the variance": None}, np.array([0, 0, 0.3, 0.4]), band)
    assert len(inside) == 4 and "agrees" in inside[0]
    assert "2 of 3 runs of the two modes lost a mode" in inside[2] and "stayed inside" in inside[2]
    assert "3 of 4 runs" in inside[3] and "the tails first (generation 3)" in inside[1]
    outside = M.findings(two, blob, {"x": 1}, np.array([0, 0, 0.9, 0.4]), band)
    assert "left the weights' chain band" in outside[2]
    assert "band" not in M.findings(two, blob, {"x": 1})[2]


def test_last_generation_sentence_counts_merged_runs_and_needles():
    kept = P0
    merged = M.Mixture(np.array([0.5, 0.5]), np.array([[2.0, 0.0], [2.1, 0.0]]),
                       np.stack([0.01 * np.eye(2)] * 2))
    needle = M.Mixture(np.array([0.5, 0.5]), np.array([[-2.0, 0.0], [2.0, 0.0]]),
                       np.array([np.diag([1.0, 1e-4]), np.eye(2)]))
    long = M.Mixture(np.array([0.5, 0.5]), np.array([[-2.0, 0.0], [2.0, 0.0]]),  # 4.5 times longer than
                     np.array([np.diag([1.0, 0.05]), np.eye(2)]))                    # wide: not a needle
    run = runs({"total_var": np.ones((4, 2))}, [0, 5],
               snapshots=[{5: kept}, {5: merged}, {5: needle}, {5: long}])
    text = M.last_generation_sentence(run, 4)
    assert "4 runs drawn, 3 still had" in text and "and 1 had both components within 2.5" in text
    assert "in 1 a component was a needle" in text
    shares = [m.total_variance() / P0.total_variance() for m in (kept, merged, needle, long)]
    assert f"median total variance was {M.sentences.prose.percent(np.median(shares), 1)}" in text


def test_components_and_schedules_sentences_both_ways():
    g = [0, 10]
    one = runs({"l2_sq_true": np.array([[0.02, 0.03]])}, g)
    two = runs({"l2_sq_true": np.array([[0.001, 0.05]])}, g)
    text = M.components_sentence({1: one, 2: two})
    assert "closest at generation 10: no longer 2 components, but 1 component" in text
    two.metrics["l2_sq_true"] = np.array([[0.001, 0.01]])
    assert "the same model as at the start" in M.components_sentence({1: one, 2: two})
    def ll(end):
        return runs({"heldout_loglik": np.array([[-3.0, end], [-3.0, end - 0.1], [-3.0, end + 0.1]])}, g)

    text = M.schedules_sentence({"replace": ll(-10.0), "accumulate": ll(-3.2), "worse": ll(-20.0)})
    assert "higher, so nearer the original, with accumulate (-3.20)" in text
    assert "not higher with worse" in text
    with pytest.raises(ValueError, match="base"):
        M.schedules_sentence({"accumulate": ll(-3.0)})


def test_warm_fresh_sentence_says_whether_the_difference_is_beyond_chance():
    g = [0, 10]
    def merged_runs(k, R=20, seconds=1.0):  # noqa: E306
        d = np.full((R, 2), 5.0)
        d[:k, 1] = 0.5
        return runs({"mean_distance": d, "n_iter": np.full((R, 2), 4.0)}, g, seconds=seconds)
    same = M.warm_fresh_sentence(merged_runs(5), merged_runs(6, seconds=3.0))
    assert "no evidence" in same and "3.0 times longer" in same and "6 of 20 runs with k-means" in same
    apart = M.warm_fresh_sentence(merged_runs(1), merged_runs(15))
    assert "changed when modes were lost" in apart and "no evidence" not in apart


def test_absorption_drift_and_fit_sentences():
    g = np.array([0, 100, 700, 1500])
    assert "half of its runs are absorbed by generation 700, left of its mean" in M.absorption_sentence(
        np.array([0.0, 0.2, 0.5, 0.8]), g, 1000)
    assert "lies beyond these runs" in M.absorption_sentence(np.array([0.0, 0.1, 0.2, 0.3]), g, 1000)
    run = figure7_run()
    text = M.drift_sentence(run)
    assert "from 0.000100 at generation 1 to 1.00;" in text and "(the true density scores -3.000)" in text
    coarse = runs({"l2_sq": np.array([[0.0, 0.3, 2.0]])}, [0, 10, 20])  # generation 1 was not measured
    assert "from 0.300 at generation 10 to 2.00;" in M.drift_sentence(coarse)
    fit = M.fit_sentence(P0, P0, 300)
    assert "weights 0.500 and 0.500" in fit and "(-2.50, 0.00) and (2.50, 0.00)" in fit and "is 0," in fit


def test_tail_rise_sentence_explains_only_a_rise():
    g = np.array([0, 1, 2])
    rose = M.tail_rise_sentence(g, np.array([1.0, 1.5, 0.2]), np.array([1, 2, 1]))
    assert "*rose*" in rose and "smallest" in rose and "By generation 2 the median was 0.20" in rose
    flat = M.tail_rise_sentence(g, np.array([1.0, 0.7, 0.2]), np.array([1, 2, 1]))
    assert "did not rise" in flat and "smallest" not in flat


# ---------------------------------------------------------------------------
# figures


def test_figure7_magnifies_every_component_of_a_collapsed_last_generation():
    """Bug (the empty inset of the old figure): a last generation whose components are tiny and far apart
    magnified as a whole, so the magnified view shows nothing. Every magnified panel must hold samples of
    its component within its view, and say its magnification."""
    tiny = M.Mixture(np.array([0.6, 0.4]), np.array([[-2.0, -0.8], [2.0, 0.2]]),
                     np.array([np.diag([1e-4, 4e-4]), [[5e-3, 1.3e-3], [1.3e-3, 4e-4]]]))
    run = runs({"total_var": np.ones((1, 2))}, [0, 9], snapshots=[{0: P0, 9: tiny}])
    fig = M.plot_figure7(run, seed=1)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible[:3]] == ["original", "generation 0", "generation 9"]
    zoomed = visible[3:]
    assert len(zoomed) == 2 and all(ax.get_title().startswith("gen. 9, x") for ax in zoomed)
    for ax, k in zip(zoomed, M.magnified_components(tiny)):
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        sd = np.sqrt(np.linalg.eigvalsh(tiny.covariances[k]).max())
        assert x1 - x0 < 20 * sd  # the view is the component's own scale, not the whole mixture's
        pts = np.concatenate([c.get_offsets() for c in ax.collections if len(c.get_offsets())])
        inside = (pts[:, 0] > x0) & (pts[:, 0] < x1) & (pts[:, 1] > y0) & (pts[:, 1] < y1)
        assert inside.sum() > 20  # of the 100 samples, 60 and 40 per component
    plt.close(fig)
    with pytest.raises(ValueError, match="not kept"):
        M.plot_figure7(run, generations=[5])


def test_estimate_check_sentence_reports_the_difference_relative_to_the_large_sample():
    """Bug: the difference taken relative to the small sample's estimate, or the verdict's threshold."""
    text = S.estimate_check_sentence(50, 0.0100, 0.0150, 8192, 262144)
    assert "1.500 times the original's 1% against 1.000: they differ by 33.3%" in text
    assert "agree to within 2.0%" in S.estimate_check_sentence(50, 0.0098, 0.0100, 8192, 262144)


def test_figure7_and_key_figure_draw_the_right_run_and_the_original():
    """Bugs: the key figure's first panel a generation instead of the original; Figure 7 of run r drawing
    run 0's generations."""
    far = M.Mixture(P0.weights, P0.means + np.array([0.0, 3.0]), P0.covariances)
    run = runs({"total_var": np.ones((2, 2))}, [0, 9], snapshots=[{0: far, 9: far}, {0: far, 7: far}])
    fig = M.plot_setups([("a", run, M.DEFAULT_LIMITS)], [9], n_samples=400)
    first = np.concatenate([c.get_offsets() for c in fig.axes[0].collections if len(c.get_offsets())])
    assert abs(first[:, 1].mean()) < 0.3  # the original's samples (mean y 0), not the shifted generation's
    plt.close(fig)
    fig = M.plot_figure7(run, r=1, magnify=False)
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == ["original", "generation 0", "generation 7"]
    plt.close(fig)


def test_plot_setups_draws_a_row_per_setup():
    run = runs({"total_var": np.ones((1, 2))}, [0, 9], snapshots=[{0: P0, 9: P0}])
    blob = runs({"total_var": np.ones((1, 2))}, [0, 9], original=M.single_blob(),
                snapshots=[{0: M.single_blob(), 9: M.single_blob()}])
    fig = M.plot_setups([("a", run, M.DEFAULT_LIMITS), ("b", blob, M.BLOB_LIMITS)], [0, 9])
    assert [ax.get_title() for ax in fig.axes] == ["a", "generation 0", "generation 9", "b", "generation 0",
                                                   "generation 9"]
    plt.close(fig)
    assert M.magnified_components(M.Mixture(np.array([0.995, 0.005]), np.zeros((2, 2)),
                                            np.stack([np.eye(2)] * 2))) == [0]


# ---------------------------------------------------------------------------
# every number of a sentence is the run's (added after a blind mutation check found sentences whose numbers
# no test read: an index printed for a generation, a change reported from the wrong end)


def grid_runs(R=4, original=P0):
    """Runs measured on an uneven grid (0, 1, 2, 40, 60, 900, 2000): a generation is never its column."""
    g = np.array([0, 1, 2, 40, 60, 900, 2000])
    tv = original.total_variance()
    total = np.tile([1.0, 0.98, 0.97, 0.8, 0.7, 0.2, 0.01], (R, 1)) * tv
    total[:, 0] = np.linspace(0.9, 1.1, R) * tv  # generation 0 differs from generation 1
    valley = np.ones((R, 7))
    valley[0, 3:] = 0.2  # run 0 splits at generation 40, run 1 at 900
    valley[1, 5:] = 0.2
    valley[2, 4:] = 0.3  # run 2 at 60
    return runs({"total_var": total, "valley": valley, "mean_distance": np.full((R, 7), 5.0),
                 "heldout_loglik": np.tile([-3.0, -3.0, -3.1, -3.5, -4.0, -9.0, -50.0], (R, 1)),
                 "l2_sq_true": np.full((R, 7), 0.001),
                 "l2_sq": np.tile([0.0, 1e-4, 2e-4, 0.02, 0.04, 3.0, 100.0], (R, 1))}, g, original=original)


def test_times_and_checks_are_generations_not_columns():
    """Bugs: a column index printed as a generation; the Figure 7 check made at generation 50 when 50 was not
    measured (it must use the last measured generation before it, here 40, and say so)."""
    run = grid_runs()
    assert M.split_times(run) == [40, 900, 60, None]
    c = M.figure7_checks(run)
    assert c["t_change"] == 40 and c["factor"] == pytest.approx(20.0)
    assert "by generation 40 the model is 20.0 times farther" in M.figure7_note(run, "x")
    assert "half of the runs by generation 60" in M.setups_sentence(run, grid_runs(original=M.single_blob()))


def test_variance_changes_are_reported_from_generation_0_to_the_last():
    """Bug: a change reported from the wrong generation (the last to the last, the first to the first)."""
    two = grid_runs()
    blob = grid_runs(original=M.single_blob())
    tv2, tv1 = P0.total_variance(), M.single_blob().total_variance()
    med0_2 = float(np.median(two.at("total_var", 0)))
    text = M.setups_sentence(two, blob)
    assert f"went from {S.num(med0_2)} to {S.num(0.01 * tv2)} (1.0% of the original's)" in text
    assert f"went from {S.num(float(np.median(blob.at('total_var', 0))))} to {S.num(0.01 * tv1)}" in text
    take = M.takeaway(two, blob)
    assert "keeps 1.0% of the original's total variance after 2000 generations" in take
    assert "3 of 4 runs" in take
    finding = M.findings(two, blob, {"x": 2})[3]
    assert "in 3 of 4 runs by generation 2000" in finding
    assert f"from {S.num(float(np.median(blob.at('total_var', 0))))}" in finding
    drift = M.drift_sentence(two)
    assert f"the total variance from {S.num(med0_2)} to {S.num(0.01 * tv2)}" in drift
    assert "held-out log-likelihood of real data from -3.000 to -50.0 nats" in drift


def test_density_grid_puts_x_along_columns_and_y_along_rows():
    """Bug: the grid's axes swapped (a density drawn transposed); a non-square view shows it."""
    p = M.Mixture(np.ones(1), np.array([[2.0, -1.0]]), np.array([[[1.0, 0.6], [0.6, 0.5]]]))
    X, Y, Z = M.density_grid(p, (-3.0, 5.0), (-2.0, 1.0), points=7)
    np.testing.assert_allclose(X[0], np.linspace(-3.0, 5.0, 7))
    np.testing.assert_allclose(Y[:, 0], np.linspace(-2.0, 1.0, 7))
    np.testing.assert_allclose(Z, p.pdf(np.column_stack([X.ravel(), Y.ravel()])).reshape(7, 7), rtol=1e-12)
    i, j = np.unravel_index(np.argmax(Z), Z.shape)
    assert abs(X[i, j] - 2.0) <= 8 / 6 and abs(Y[i, j] + 1.0) <= 3 / 6  # the peak lies at the mean
