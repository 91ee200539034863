"""Computed sentences, progress bars that stay out of the built book, and the shared band plot."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from collapse_utils import plotting, profiles, progress, prose


def test_join_words():
    assert prose.join_words([]) == ""
    assert prose.join_words(["a"]) == "a"
    assert prose.join_words(["a", "b"]) == "a and b"
    assert prose.join_words(["a", "b", "c"], "or") == "a, b or c"


def test_order_of_events_either_way():
    """Bug guarded: a sentence that always says 'the tails go first', whatever the run did."""
    a = prose.order_of_events({"the tail halves": 4, "the variance halves": 9})
    b = prose.order_of_events({"the tail halves": 12, "the variance halves": 9})
    assert a == "the tail halves first (generation 4), then the variance halves (generation 9)"
    assert b == "the variance halves first (generation 9), then the tail halves (generation 12)"


def test_order_of_events_ties_and_missing():
    """Bug guarded: ties reported as an order, or events that never happened dropped silently."""
    text = prose.order_of_events({"x": 3, "y": 3, "z": None})
    assert text == "x and y together first (generation 3); z not within the run"
    assert prose.order_of_events({"x": None}) == "none happened within the run: x not within the run"
    assert prose.order_of_events({"x": 1, "y": 2, "z": 2}, unit="step") == (
        "x first (step 1), then y and z together (step 2)"
    )


def test_show_displays_once(capsys):
    """Bug guarded: show() returning its text, which a notebook then prints a second time as the cell's value."""
    assert prose.show("**3** runs") is None


def test_progress_is_silent_in_the_book_build(monkeypatch):
    """Bug guarded: tqdm widgets saved into the built pages (blank gaps, bars frozen at 95%)."""
    items = [1, 2, 3]
    monkeypatch.setenv(profiles.BUILD_ENV, "1")
    assert progress.progress(items, desc="x") is items
    monkeypatch.delenv(profiles.BUILD_ENV)
    bar = progress.progress(items, desc="x", disable=True)
    assert bar is not items and list(bar) == items


def test_plot_band_runs_on_axis_0_with_a_quantile_band():
    """Bug guarded: runs taken along the wrong axis, or a min-max band instead of the 10-90% quantiles."""
    rng = np.random.default_rng(0)
    values = rng.normal(size=(101, 5)) + np.arange(5)
    fig, ax = plt.subplots()
    plotting.plot_band(ax, np.arange(5), values, label="m")
    line = ax.get_lines()[-1]
    np.testing.assert_allclose(line.get_ydata(), np.median(values, axis=0))
    band = ax.collections[0].get_paths()[0].vertices
    lo, hi = np.quantile(values, [0.1, 0.9], axis=0)
    assert np.isclose(band[:, 1].min(), lo.min()) and np.isclose(band[:, 1].max(), hi.max())
    with pytest.raises(ValueError, match=r"runs along axis 0"):
        plotting.plot_band(ax, np.arange(5), values.T)
    plt.close(fig)


def test_first_below():
    assert plotting.first_below(np.array([1.0, 0.8, 0.4, 0.6, 0.1]), 0.5) == 2
    assert plotting.first_below(np.array([1.0, 0.8]), 0.5) is None
    assert plotting.first_below([0.1], 0.5) == 0
    assert plotting.first_below([1.0, 0.5, 0.4], 0.5) == 2, "touching the level is not below it"


def test_style_is_legible():
    """Bug guarded: figure text below 9 pt or figures wider than the text column."""
    plotting.style()
    import matplotlib as mpl

    sizes = [mpl.rcParams[k] for k in ("font.size", "xtick.labelsize", "ytick.labelsize", "legend.fontsize")]
    assert min(float(s) for s in sizes) >= plotting.MIN_FONT_PT
    assert mpl.rcParams["figure.figsize"][0] <= plotting.COLUMN_WIDTH


def test_ran_at_puts_this_run_beside_the_paper(monkeypatch):
    """Bug guarded: the note names another profile than the one that ran, or drops the paper's column."""
    monkeypatch.setenv(profiles.PROFILE_ENV, "quick")
    monkeypatch.delenv(profiles.SEED_ENV, raising=False)
    text = prose.ran_at([("runs", 16, "1 (Figure 7)"), ("generations", 200, 2000)])
    assert "`quick` profile" in text and "COLLAPSE_SEED" not in text
    assert "| runs | 16 | 1 (Figure 7) |" in text and "| generations | 200 | 2000 |" in text
    monkeypatch.setenv(profiles.SEED_ENV, "2")
    assert "`COLLAPSE_SEED=2`" in prose.ran_at([("n", 1, 2)])
    with pytest.raises(ValueError, match="at least one"):
        prose.ran_at([])
    with pytest.raises(ValueError, match=r"\(what, here, paper\)"):
        prose.ran_at([("n", 1)])


def test_number_never_prints_a_negative_zero():
    """Bug guarded: '-0.0' or '-0%' on a page (a change that rounds to nothing shown with a sign)."""
    assert prose.number(-0.004, 2) == "0.00"
    assert prose.number(-0.04, 1, signed=True) == "0.0"
    assert prose.number(1.26, 1, signed=True) == "+1.3"
    assert prose.number(-1.5, 1, signed=True) == "-1.5"
    assert prose.number(12345.0, 0) == "12,345"
    assert prose.number(float("nan")) == "n/a"
    assert prose.percent(-0.001, signed=True) == ">-0.5%"
    assert prose.percent(0.0, signed=True) == "0%"
    assert prose.percent(0.004) == "<0.5%"
    assert prose.percent(0.123) == "12%"
    assert prose.percent(0.127, signed=True) == "+13%"
    assert prose.percent(-0.127, 1, signed=True) == "-12.7%"
    with pytest.raises(ValueError, match="digits"):
        prose.number(1.0, -1)


def test_percent_says_a_small_effect_is_not_none():
    """Bug guarded: a 0.3% change printed as '0%', which reads as no change at all."""
    assert prose.percent(0.003) == "<0.5%"
    assert prose.percent(-0.003, signed=True) == ">-0.5%"
    assert prose.percent(0.0003, 1) == "<0.05%"


def test_paper_note_one_look_and_a_computed_verdict():
    """Bugs guarded: a note whose verdict is not one of the three (typed in freely), or a note that drops the
    verdict or the reason."""
    note = prose.paper_note("the paper's Figure 7", "differs", "The tails vanish later here (scale).")
    assert note.startswith("> **Against the paper** (the paper's Figure 7): this run **does not agree**.")
    assert note.endswith("The tails vanish later here (scale).")
    assert "**agrees**" in prose.paper_note("x", "agrees", "y")
    assert "**agrees in part**" in prose.paper_note("x", "partly", "y")
    with pytest.raises(ValueError, match="verdict"):
        prose.paper_note("x", "yes", "y")
    with pytest.raises(ValueError):
        prose.paper_note("x", "agrees", " ")


def test_verdict_of_all_none_and_some():
    """Bug guarded: 'agrees' when only some of the paper's findings are reproduced."""
    assert prose.verdict_of([True, True]) == "agrees"
    assert prose.verdict_of([False, False]) == "differs"
    assert prose.verdict_of([True, False]) == "partly"
    with pytest.raises(ValueError):
        prose.verdict_of([])


def test_findings_lists_every_item():
    """Bug guarded: a summary that drops findings or shows an empty list."""
    text = prose.findings(["a", " ", "b"])
    assert text.splitlines() == ["**What this run found.**", "", "- a", "- b"]
    with pytest.raises(ValueError):
        prose.findings([""])
