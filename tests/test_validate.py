"""The shared validators: every bad input is a ValueError naming the parameter and its range."""

import math

import numpy as np
import pytest

from collapse_utils import validate as V


def test_integer_accepts_python_and_numpy_integers():
    assert V.integer("runs", 3, minimum=1) == 3
    out = V.integer("runs", np.int64(3), minimum=1, maximum=3)
    assert out == 3 and type(out) is int


@pytest.mark.parametrize("value", [True, False, 3.0, "3", None, np.float64(3.0), np.bool_(True), [3]])
def test_integer_rejects_non_integers(value):
    """Bug guarded: `runs=True` taken as 1, or `3.0`/`"3"` slipping into range() or array shapes."""
    with pytest.raises(ValueError, match=r"^runs must be an integer >= 1, got"):
        V.integer("runs", value, minimum=1)


@pytest.mark.parametrize("value, match", [(0, r"runs must be an integer in \[1, 5\], got 0"),
                                          (6, r"runs must be an integer in \[1, 5\], got 6")])
def test_integer_range_is_named(value, match):
    """Bug guarded: an off-by-one bound (range check with < instead of <=) or a message without the range."""
    with pytest.raises(ValueError, match=match):
        V.integer("runs", value, minimum=1, maximum=5)
    assert V.integer("runs", 1, 1, 5) == 1 and V.integer("runs", 5, 1, 5) == 5


def test_range_is_written_in_full():
    """Bug guarded: an integer bound printed in short float form ("in [0, 2e+06]")."""
    with pytest.raises(ValueError, match=r"in \[0, 2000000\], got 2000001"):
        V.integer("n", 2_000_001, 0, 2_000_000)
    with pytest.raises(ValueError, match=r"in \[0.001, 1\]"):
        V.real("lr", 2.0, 0.001, 1.0)


def test_real_accepts_numpy_floats_and_ints():
    """Bug guarded: `lr=np.float32(1e-3)` rejected (the VAE config did this)."""
    out = V.real("lr", np.float32(1e-3), 0, low_open=True)
    assert type(out) is float and math.isclose(out, 1e-3, rel_tol=1e-6)
    assert V.real("x", 2, 0, 3) == 2.0


@pytest.mark.parametrize("value", [True, "0.1", None, float("nan"), float("inf"), -float("inf"), np.nan])
def test_real_rejects_bools_strings_nan_and_inf(value):
    """Bug guarded: `lr=True` accepted as 1.0, NaN passing every comparison, `inf` running a whole experiment."""
    with pytest.raises(ValueError, match=r"^lr must be a finite number > 0"):
        V.real("lr", value, 0, low_open=True)


def test_real_inf_only_when_allowed():
    assert V.real("t", float("inf"), 0, allow_inf=True) == float("inf")
    with pytest.raises(ValueError, match="t must be a number >= 0"):
        V.real("t", float("nan"), 0, allow_inf=True)


def test_real_open_and_closed_bounds():
    """Bug guarded: an open bound treated as closed (lr=0 accepted) or a closed one as open (retention=1 rejected)."""
    with pytest.raises(ValueError, match=r"in \(0, 1\]"):
        V.real("p", 0.0, 0, 1, low_open=True)
    assert V.real("p", 1.0, 0, 1, low_open=True) == 1.0
    with pytest.raises(ValueError, match=r"in \[0, 1\)"):
        V.real("p", 1.0, 0, 1, high_open=True)
    assert V.probability("retention", 1) == 1.0 and V.probability("retention", 0) == 0.0
    for bad in (-0.01, 1.01, True):
        with pytest.raises(ValueError, match=r"retention must be a finite number in \[0, 1\]"):
            V.probability("retention", bad)


def test_choice():
    """Bug guarded: `approach=[1]` or `approach=True` accepted as approach 1."""
    assert V.choice("approach", np.int64(2), (1, 2, 3)) == 2
    for bad in ([1], True, "1", 4):
        with pytest.raises(ValueError, match=r"approach must be one of 1, 2, 3, got"):
            V.choice("approach", bad, (1, 2, 3))
    assert V.choice("decode", "mean", ["mean", "bernoulli"]) == "mean"


def test_boolean():
    assert V.boolean("keep", np.bool_(True)) is True
    for bad in (1, 0, "yes", None):
        with pytest.raises(ValueError, match="keep must be True or False"):
            V.boolean("keep", bad)


def test_integer_list():
    """Bug guarded: `keep_models=5` or `snapshots=5` failing later with a TypeError, or silently meaning 'generation 5'."""
    assert V.integer_list("snapshots", (0, np.int64(5)), minimum=0) == [0, 5]
    assert V.integer_list("snapshots", range(3), minimum=0) == [0, 1, 2]
    with pytest.raises(ValueError, match=r"snapshots must be a sequence of integers >= 0 \(for one value write \[5\]\)"):
        V.integer_list("snapshots", 5, minimum=0)
    with pytest.raises(ValueError, match=r"snapshots\[1\] must be an integer in \[0, 10\], got 11"):
        V.integer_list("snapshots", [0, 11], minimum=0, maximum=10)
    with pytest.raises(ValueError, match="snapshots must be a sequence"):
        V.integer_list("snapshots", "05", minimum=0)


# --- boundaries, over families of bounds (hypothesis, fixed fast budgets) -----------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FAST = settings(max_examples=60, deadline=None, derandomize=True)
bounds = st.one_of(st.none(), st.integers(-5, 5))


@FAST
@given(minimum=bounds, maximum=bounds, value=st.integers(-7, 7), numpy=st.booleans())
def test_integer_accepts_exactly_the_closed_range(minimum, maximum, value, numpy):
    """Bugs guarded: a bound compared with < where <= belongs (value == minimum or == maximum rejected, or one
    past it accepted), a bound ignored, or a message that does not name the parameter and its range. Accepted
    iff minimum <= value <= maximum, returned as a Python int."""
    given_value = np.int32(value) if numpy else value
    inside = (minimum is None or value >= minimum) and (maximum is None or value <= maximum)
    if inside:
        out = V.integer("runs", given_value, minimum, maximum)
        assert out == value and type(out) is int
    else:
        message = f"runs must be an integer {V.range_text(minimum, maximum)}, got {value!r}"
        with pytest.raises(ValueError) as info:
            V.integer("runs", given_value, minimum, maximum)
        assert str(info.value) == message


edge = st.sampled_from(["min", "max", "below", "above", "inside"])


@FAST
@given(lo=st.integers(-3, 3), width=st.integers(0, 4), low_open=st.booleans(), high_open=st.booleans(),
       where=edge, numpy=st.booleans(), has_min=st.booleans(), has_max=st.booleans())
def test_real_accepts_exactly_its_range_open_or_closed(lo, width, low_open, high_open, where, numpy, has_min,
                                                        has_max):
    """Bugs guarded: ``low_open``/``high_open`` ignored (the excluded bound accepted) or applied to the wrong
    side, a closed bound treated as open, a bound off by one comparison. At each bound, just inside and just
    outside: accepted iff inside the (half-)open range."""
    minimum, maximum = (float(lo) if has_min else None), (float(lo + width) if has_max else None)
    eps = 1e-9
    value = {"min": lo, "max": lo + width, "below": lo - eps, "above": lo + width + eps,
             "inside": lo + width / 2}[where]
    value = np.float64(value) if numpy else float(value)
    ok = True
    if minimum is not None:
        ok &= value > minimum or (value == minimum and not low_open)
    if maximum is not None:
        ok &= value < maximum or (value == maximum and not high_open)
    if ok:
        out = V.real("p", value, minimum, maximum, low_open=low_open, high_open=high_open)
        assert out == value and type(out) is float
    else:
        with pytest.raises(ValueError) as info:
            V.real("p", value, minimum, maximum, low_open=low_open, high_open=high_open)
        assert str(info.value).startswith(
            f"p must be a finite number {V.range_text(minimum, maximum, low_open, high_open)}, got")


@pytest.mark.parametrize("allow_inf", [False, True])
@pytest.mark.parametrize("value", [float("nan"), np.float32("nan"), np.nan, float("inf"), -np.inf, np.float64("inf")])
def test_real_never_accepts_nan_and_inf_only_when_allowed(value, allow_inf):
    """Bugs guarded: NaN passing every comparison (accepted even with bounds), infinity accepted without
    ``allow_inf`` or rejected with it (within the bounds)."""
    accepted = allow_inf and not math.isnan(value)
    if accepted:
        assert V.real("t", value, allow_inf=allow_inf) == value
        assert V.real("t", value, -np.inf, np.inf, allow_inf=allow_inf) == value
    else:
        for bounds_ in [(None, None), (0.0, 1.0), (0.0, None)]:
            with pytest.raises(ValueError, match=r"^t must be a"):
                V.real("t", value, *bounds_, allow_inf=allow_inf)


def test_range_text_every_shape_of_range():
    """Bug guarded: a message that shows the wrong bracket for an open or closed bound, or drops a bound."""
    assert V.range_text(None, None) == "any value"
    assert V.range_text(1, None) == ">= 1" and V.range_text(0, None, low_open=True) == "> 0"
    assert V.range_text(None, 5) == "<= 5" and V.range_text(None, 5, high_open=True) == "< 5"
    assert V.range_text(0, 1) == "in [0, 1]"
    assert V.range_text(0.0, 1.0, True, False) == "in (0, 1]"
    assert V.range_text(0.0, 1.0, False, True) == "in [0, 1)"
    assert V.range_text(0.001, 2.5, True, True) == "in (0.001, 2.5)"


@pytest.mark.parametrize(
    "value, options, expected",
    [
        (True, [1, True], True),  # the bool option, not the int that equals it
        (1, [True, 1], 1),  # the int option, not the bool
        (np.bool_(True), [1, True], True),
        (False, [0, False], False),
        (0, [False, 0], 0),
        (np.int64(2), (1, 2, 3), 2),
        ("mean", ("bernoulli", "mean"), "mean"),
        (0.5, [0.25, 0.5], 0.5),
    ],
)
def test_choice_matches_bools_to_bools_and_numbers_to_numbers(value, options, expected):
    """Bugs guarded: ``True`` matching the option 1 (or ``1`` matching ``True``), or bools no longer matching
    bool options at all. The option returned has the option's own type."""
    out = V.choice("x", value, options)
    assert out == expected and type(out) is type(expected)


@pytest.mark.parametrize("value, options", [(True, [1, 2]), (1, [True, False]), (0, [False]), (False, [0, 1]),
                                            (np.bool_(False), [0]), ([1], [1, 2]), ("1", [1]), (None, [0, 1])])
def test_choice_rejects_lookalikes_with_every_option_named(value, options):
    """Bug guarded: lookalikes (bool and int, list and element, string and number) accepted as an option."""
    with pytest.raises(ValueError) as info:
        V.choice("decode", value, options)
    assert str(info.value) == f"decode must be one of {', '.join(map(repr, options))}, got {value!r}"


@pytest.mark.parametrize("value", [1, 0, 1.0, 0.0, np.int64(1), "True", "false", None, [True]])
def test_boolean_rejects_everything_but_bools(value):
    """Bug guarded: 0/1 (or 1.0, or a string) accepted as a flag."""
    with pytest.raises(ValueError, match=r"^keep must be True or False, got"):
        V.boolean("keep", value)


@pytest.mark.parametrize("value", [True, False, np.bool_(True), np.bool_(False)])
def test_boolean_returns_a_python_bool(value):
    out = V.boolean("keep", value)
    assert out is bool(value)


def test_integer_list_containers_and_elements():
    """Bugs guarded: sets, arrays or tuples rejected; bytes or a bare number accepted; an element out of range
    or a bool element accepted; the failing element not named by its position."""
    assert V.integer_list("g", np.array([3, 1]), 0) == [3, 1]
    assert sorted(V.integer_list("g", {2, 0}, 0)) == [0, 2]
    assert V.integer_list("g", frozenset([4]), 0, 4) == [4]
    assert V.integer_list("g", [], 0) == []
    for bad in (b"12", 5, np.int64(5), 2.0, None):
        with pytest.raises(ValueError, match=r"^g must be a sequence of integers >= 0 \(for one value write"):
            V.integer_list("g", bad, 0)
    with pytest.raises(ValueError, match=r"^g\[2\] must be an integer in \[0, 4\], got True"):
        V.integer_list("g", [0, 1, True], 0, 4)
    with pytest.raises(ValueError, match=r"^g\[0\] must be an integer in \[0, 4\], got -1"):
        V.integer_list("g", (-1, 2), 0, 4)
    with pytest.raises(ValueError, match=r"^g\[1\] must be an integer in \[0, 4\], got 5"):
        V.integer_list("g", [4, 5], 0, 4)
