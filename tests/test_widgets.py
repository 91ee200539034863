"""Small multiples (the static stand-in drawn before each slider) and the notebook's slider.

Each test names the bug it guards against.
"""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collapse_utils import widgets
from collapse_utils.plotting import COLUMN_WIDTH


def marked(value=0.0, offset=0.0, ax=None):
    """A panel whose data say which value and which fixed offset drew it."""
    ax.plot([0, 1], [offset, offset + value])


@settings(max_examples=8, deadline=None, derandomize=True)
@given(count=st.integers(1, 7), ncols=st.one_of(st.none(), st.integers(1, 4)), offset=st.sampled_from([0.0, 2.5]))
def test_small_multiples_one_visible_panel_per_value_in_order(count, ncols, offset):
    """Bugs guarded: an unused panel of the grid left visible (an empty frame with axes), or a used one hidden;
    panels drawn at other values than their own (shifted by one, all at the first) or without ``fixed``; the
    grid's shape ignoring ``ncols`` (or more than 3 panels a row by default); a figure wider than the text
    column."""
    values = [float(v + 1) for v in range(count)]
    fig = widgets.small_multiples(marked, "value", values, fixed={"offset": offset}, ncols=ncols)
    cols = ncols or min(count, 3)
    rows = -(-count // cols)
    assert len(fig.axes) == rows * cols
    visible = [ax.get_visible() for ax in fig.axes]
    assert visible == [True] * count + [False] * (rows * cols - count)
    for ax, value in zip(fig.axes, values):
        (line,) = ax.get_lines()
        np.testing.assert_allclose(line.get_ydata(), [offset, offset + value])
        assert ax.get_title() == f"value = {value:g}"
    for ax in fig.axes[count:]:
        assert not ax.get_lines(), "unused panels stay empty"
    assert fig.get_figwidth() == pytest.approx(COLUMN_WIDTH)
    plt.close(fig)


def test_small_multiples_options():
    """Bugs guarded: ``panel_size``, ``suptitle``, ``label`` or ``sharey`` silently dropped, or labelled values
    (``value_labels``) used for some panels only."""
    fig = widgets.small_multiples(marked, "value", [1, 2, 3, 4], ncols=2, panel_size=(2.0, 1.5), suptitle="Lines",
                                  label="slope", value_labels={2: "steep"}, sharey=False)
    assert fig.get_size_inches() == pytest.approx((4.0, 3.0))
    assert fig._suptitle is not None and fig._suptitle.get_text() == "Lines"
    assert [ax.get_title() for ax in fig.axes] == ["slope = 1", "steep", "slope = 3", "slope = 4"]
    fig.axes[0].set_ylim(-10, 10)
    assert fig.axes[1].get_ylim() != (-10, 10), "sharey=False: panels keep their own y range"
    plt.close(fig)
    shared = widgets.small_multiples(marked, "value", [1, 2])
    shared.axes[0].set_ylim(-10, 10)
    assert shared.axes[1].get_ylim() == (-10, 10), "by default the panels share their y axis"
    plt.close(shared)
    with pytest.raises(ValueError, match="at least one slider value"):
        widgets.small_multiples(marked, "value", [])


def test_interactive_plot_draws_at_once_with_every_control():
    """Bugs guarded: the notebook's slider drawn only after a first move (an empty cell, headless), a control
    dropped on the way to the function, or ``continuous_update`` left on (a redraw on every pixel of a drag)."""
    import ipywidgets

    calls = []

    def plot(n=1, show="a", ax=None):
        calls.append((n, show, ax is not None))

    slider = ipywidgets.IntSlider(value=3, min=1, max=5)
    ui = widgets.interactive_plot(plot, n=slider, show=["a", "b"])
    assert isinstance(ui, ipywidgets.interactive)
    assert calls and calls[0] == (3, "a", True)
    assert slider.continuous_update is False
    widgets.interactive_plot(plot, continuous_update=True, n=slider)
    assert slider.continuous_update is True
    slider.value = 4
    assert (4, "a", True) in calls, "moving a control redraws"
    plt.close("all")
