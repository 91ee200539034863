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


# --- numbers for readers, over families of values (hypothesis, fixed fast budgets) -----------------------------

import re  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FAST = settings(max_examples=150, deadline=None, derandomize=True)
#: values near the rounding boundaries of every digit count, and ordinary ones
near_zero = st.builds(lambda m, e, s: s * m * 10.0 ** -e, st.floats(0, 9.99), st.integers(0, 6), st.sampled_from([-1, 1]))
values = st.one_of(near_zero, st.floats(-2e6, 2e6, allow_nan=False), st.sampled_from([0.0, -0.0, 0.05, -0.05, 0.5]))
NUMBER = re.compile(r"^([+-]?)(\d{1,3}(?:,\d{3})*)(?:\.(\d+))?$")


@FAST
@given(x=values, digits=st.integers(0, 4), signed=st.booleans())
def test_number_is_the_rounded_value_with_an_honest_sign(x, digits, signed):
    """Bugs guarded: a negative zero ("-0.00"); a '+' given to a value that rounds to zero ("+0.0" for 0.04,
    decided on the value rather than the rounded one) or a '+' without ``signed``; digits or thousands grouping
    wrong. The text, read back, is ``round(x, digits)``; a sign shows iff the rounded value is nonzero (a '+'
    only with ``signed``)."""
    text = prose.number(x, digits, signed)
    found = NUMBER.match(text)
    assert found, text
    sign, whole, decimals = found.groups()
    assert len(decimals or "") == digits
    shown = float((whole + "." + (decimals or "0")).replace(",", ""))
    rounded = round(x, digits)
    assert shown == abs(rounded)
    assert sign == ("-" if rounded < 0 else "+" if signed and rounded > 0 else "")


@FAST
@given(share=st.one_of(near_zero, st.floats(-30, 30, allow_nan=False)), digits=st.integers(0, 3),
       signed=st.booleans())
def test_percent_is_the_share_to_its_digits_and_never_shows_a_small_effect_as_none(share, digits, signed):
    """Bugs guarded: a nonzero share printed as "0%" (or "-0%"); the "rounds to zero" test done at 0 digits
    whatever ``digits`` says (0.3% at one digit printed "<0.05%"); a bound of the wrong size; the sign of a
    change dropped or given to a zero. The text is either the share in percent to ``digits`` decimals, or, only
    for a nonzero share that rounds to zero there, "<b%" / ">-b%" with b half a unit of the last digit."""
    value = 100 * share
    text = prose.percent(share, digits, signed)
    half = 0.5 * 10.0 ** -digits
    if text[0] in "<>":
        assert value != 0 and abs(value) <= half * (1 + 1e-12)
        bound = text[2:-1] if text.startswith(">-") else text[1:-1]
        assert float(bound) == half and len(bound.split(".")[1]) == digits + 1
        assert text.startswith("<") == (value > 0)
        return
    found = NUMBER.match(text[:-1])
    assert found, text
    sign, whole, decimals = found.groups()
    shown = float((whole + "." + (decimals or "0")).replace(",", "")) * (-1 if sign == "-" else 1)
    assert len(decimals or "") == digits
    assert abs(shown - value) <= half * (1 + 1e-9) + 1e-9
    assert (shown == 0) == (value == 0), "a nonzero share is never printed as none"
    assert sign == ("-" if shown < 0 else "+" if signed and shown > 0 else "")


def test_percent_boundaries_at_every_digit_count():
    """Bug guarded: the small-effect rule applied at the wrong number of digits (a case each way per digit
    count)."""
    assert prose.percent(0.003, 1) == "0.3%" and prose.percent(0.0004, 1) == "<0.05%"
    assert prose.percent(0.00003, 2) == "<0.005%" and prose.percent(0.0003, 2) == "0.03%"
    assert prose.percent(-0.0004, 1, signed=True) == ">-0.05%" and prose.percent(-0.003, 1, signed=True) == "-0.3%"
    assert prose.percent(0.004, 0, signed=True) == "<0.5%" and prose.percent(0.006, 0, signed=True) == "+1%"
    assert prose.number(0.04, 1, signed=True) == "0.0" and prose.number(0.05001, 1, signed=True) == "+0.1"
    assert prose.number(1234567.891, 2) == "1,234,567.89" and prose.number(-999.5, 0) == "-1,000"


# --- sentences about events -----------------------------------------------------------------------------------

NAMES = ["the tail halves", "the variance halves", "the mean drifts", "a mode vanishes", "the fit collapses"]


@settings(max_examples=80, deadline=None, derandomize=True)
@given(times=st.lists(st.one_of(st.none(), st.integers(0, 4)), min_size=1, max_size=5),
       unit=st.sampled_from(["generation", "step"]))
def test_order_of_events_says_each_event_once_in_order(times, unit):
    """Bugs guarded: events said in the order given instead of the order they happened; ties said as an order;
    events that did not happen dropped, or joined with "and" ("a and b not within the run" says both missed,
    where the sentence means neither happened: "a or b"); the unit ignored."""
    events = dict(zip(NAMES, times))
    text = prose.order_of_events(events, unit=unit)
    happened = {e: t for e, t in events.items() if t is not None}
    missing = [e for e, t in events.items() if t is None]
    for e in events:
        assert text.count(e) == 1, (e, text)
    head, _, tail = text.partition(";") if happened else ("", None, text)
    positions = sorted(happened, key=lambda e: text.index(e))
    assert [happened[e] for e in positions] == sorted(happened.values())
    for e, t in happened.items():
        assert f"({unit} {t})" in head[head.index(e):]
    distinct = sorted(set(happened.values()))
    for t in distinct:
        group = [e for e in happened if happened[e] == t]
        assert (len(group) > 1) == (f"together ({unit} {t})" in head or f"together first ({unit} {t})" in head)
    if happened:
        assert head.startswith(positions[0]) and "first" in head.split("(")[0]
    if missing:
        assert tail.rstrip().endswith("not within the run")
        assert " and " not in tail, "events that did not happen are joined with 'or'"
        if len(missing) > 1:
            assert f" or {missing[-1]} not within the run" in tail
        if not happened:
            assert text.startswith("none happened within the run: ")
    else:
        assert "not within" not in text and ";" not in text


def test_order_of_events_names_missing_events_with_or():
    """Bug guarded: the events that did not happen joined with 'and'."""
    assert prose.order_of_events({"a": 1, "b": None, "c": None}) == (
        "a first (generation 1); b or c not within the run")
    assert prose.order_of_events({"a": None, "b": None, "c": None}) == (
        "none happened within the run: a, b or c not within the run")
    assert prose.order_of_events({"a": 2.5, "b": 1}) == "b first (generation 1), then a (generation 2.5)"


@given(checks=st.lists(st.booleans(), min_size=1, max_size=6))
@settings(max_examples=40, deadline=None, derandomize=True)
def test_verdict_of_every_pattern_of_checks(checks):
    """Bug guarded: 'agrees' when some checks fail, or 'differs' when some hold (any/all swapped)."""
    expected = "agrees" if all(checks) else "differs" if not any(checks) else "partly"
    assert prose.verdict_of(checks) == expected
    assert prose.verdict_of(np.array(checks)) == expected


@given(items=st.lists(st.sampled_from(["x", "y", "z", "w"]), max_size=5), conj=st.sampled_from(["and", "or"]))
@settings(max_examples=40, deadline=None, derandomize=True)
def test_join_words_lists_every_item_once_with_one_conjunction(items, conj):
    """Bugs guarded: an item dropped, the conjunction missing or repeated, or a comma before it."""
    text = prose.join_words(items, conj)
    if len(items) <= 1:
        assert text == "".join(items)
        return
    assert text == ", ".join(items[:-1]) + f" {conj} " + items[-1]
    assert text.count(f" {conj} ") == 1 + sum(i == conj for i in items) and f", {conj}" not in text


def test_ran_at_names_the_given_profile_and_every_row(monkeypatch):
    """Bug guarded: ``profile=`` ignored (the environment's profile named), or rows dropped."""
    monkeypatch.setenv(profiles.PROFILE_ENV, "quick")
    monkeypatch.delenv(profiles.SEED_ENV, raising=False)
    text = prose.ran_at([("a", 1, 2), ("b", 3, 4), ("c", 5, 6)], profile="paper")
    assert "`paper` profile" in text and "quick" not in text
    assert text.splitlines()[-3:] == ["| a | 1 | 2 |", "| b | 3 | 4 |", "| c | 5 | 6 |"]
    assert "how-to-run" in text


def test_paper_note_and_findings_trim_and_keep_their_lead():
    """Bugs guarded: a note that keeps stray whitespace in its text, or findings that ignore their lead."""
    assert prose.paper_note("x", "agrees", "  done.  ").endswith("**agrees**. done.")
    text = prose.findings([" a ", "b"], lead="**Found.**")
    assert text.splitlines() == ["**Found.**", "", "- a", "- b"]
    with pytest.raises(ValueError, match="non-empty"):
        prose.paper_note(" ", "agrees", "y")
