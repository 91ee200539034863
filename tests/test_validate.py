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
