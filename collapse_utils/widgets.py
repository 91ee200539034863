"""Sliders and their static stand-ins.

Every slider in the book drives a plain plotting function ``f(**params, ax=None)``
that lives in :mod:`collapse_utils` and is unit tested. Before each slider the
book draws :func:`small_multiples`: the same function at a few slider values,
side by side. :func:`interactive_plot` is the slider of a running notebook; in
the built book :mod:`collapse_utils.live` shows precomputed frames instead.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .plotting import COLUMN_WIDTH


def small_multiples(
    func: Callable[..., Any],
    param: str,
    values: Sequence[Any],
    fixed: Mapping[str, Any] | None = None,
    ncols: int | None = None,
    panel_size: tuple[float, float] | None = None,
    sharey: bool = True,
    suptitle: str | None = None,
    label: str | None = None,
    value_labels: Mapping[Any, str] | None = None,
):
    """Draw ``func(**fixed, param=value, ax=ax)`` for each value, one panel each.

    Returns the matplotlib figure. Each panel is titled ``label = value`` (``label``
    defaults to ``param``: pass readers' words, e.g. ``label="samples n"``), or by the
    value's name alone where ``value_labels`` names it (``{2: "accumulate-subsample"}``
    rather than "approach = 2"). By default
    at most 3 panels a row and the figure as wide as the text column
    (:data:`collapse_utils.plotting.COLUMN_WIDTH`), so that it is shown at its natural size.
    """
    import matplotlib.pyplot as plt

    values = list(values)
    if not values:
        raise ValueError("values must hold at least one slider value")
    ncols = ncols or min(len(values), 3)
    nrows = int(np.ceil(len(values) / ncols))
    if panel_size is None:  # the whole figure fits the text column
        panel_size = (COLUMN_WIDTH / ncols, max(2.2, 0.8 * COLUMN_WIDTH / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows), sharey=sharey, squeeze=False
    )
    for ax, value in zip(axes.flat, values):
        func(**{**(fixed or {}), param: value}, ax=ax)
        ax.set_title(_panel_title(param if label is None else label, value, value_labels), fontsize=10)
    for ax in list(axes.flat)[len(values) :]:
        ax.set_visible(False)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def _panel_title(label: str, value: Any, value_labels: Mapping[Any, str] | None) -> str:
    if value_labels is not None and value in value_labels:
        return str(value_labels[value])
    return f"{label} = {value:g}" if isinstance(value, float) else f"{label} = {value}"


def interactive_plot(func: Callable[..., Any], continuous_update: bool = False, **controls: Any):
    """An ``ipywidgets.interactive`` around a plotting function.

    ``controls`` are ipywidgets (or abbreviations such as ``(2, 500, 1)``),
    one per parameter of ``func``; ``func`` receives a fresh axis each time.
    The first plot is drawn at once, so the cell also works headless.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    for control in controls.values():
        if hasattr(control, "continuous_update"):
            control.continuous_update = continuous_update

    def draw(**params: Any) -> None:
        fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.8))
        func(**params, ax=ax)
        fig.tight_layout()
        plt.show()

    ui = widgets.interactive(draw, **controls)
    return ui
