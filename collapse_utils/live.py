"""Sliders that work in the rendered book, without a kernel and without a network.

A rendered page has no Python behind it, so an ipywidgets slider there can move
but cannot redraw. :class:`SliderFigure` instead draws the slider's own plotting
function (the same tested helper that the notebook's ipywidgets slider calls) at
every point of a small grid of slider values while the book is built, and ships
the frames with a few lines of inline JavaScript: moving a slider swaps the frame.
Nothing is fetched from a CDN, so it also works from a downloaded copy of the HTML.

:func:`explore` is what a chapter's "Explore" cell calls: inside the book build it
shows the precomputed :class:`SliderFigure`; in a running notebook (Jupyter, Colab)
it shows the ipywidgets slider, which recomputes at any value.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import uuid
from typing import Any, Callable, Mapping, Sequence

from . import profiles
from .plotting import COLUMN_WIDTH, DPI

#: Most frames one figure may hold (each is a PNG of a few tens of kB).
MAX_FRAMES = 120

_SCRIPT = """
(function () {
  var root = document.getElementById(%(id)s);
  var data = JSON.parse(root.querySelector("script.live-data").textContent);
  var img = root.querySelector("img.live-frame");
  var inputs = root.querySelectorAll("input.live-slider");
  function update() {
    var key = [];
    inputs.forEach(function (input) {
      var name = input.dataset.param;
      var i = parseInt(input.value, 10);
      key.push(i);
      root.querySelector('output[data-param="' + name + '"]').textContent = data.labels[name][i];
    });
    var k = key.join("-");
    img.src = "data:image/png;base64," + data.frames[k];
    img.alt = data.alt + " (" + data.names.map(function (n, j) { return n + " = " + data.labels[n][key[j]]; }).join(", ") + ")";
    img.dataset.frame = k;
  }
  inputs.forEach(function (input) { input.addEventListener("input", update); });
})();
"""


def _label(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class SliderFigure:
    """Frames of ``func(**fixed, **point, ax=ax)`` over a grid, with sliders in HTML.

    Parameters
    ----------
    func:
        The slider's plotting function, ``func(..., ax=ax)``.
    grid:
        ``{parameter: values}``: the slider positions (at most :data:`MAX_FRAMES`
        combinations in all, every value list non-empty).
    fixed:
        Other keyword arguments of ``func``.
    start:
        ``{parameter: value}`` the sliders start at (default: each list's first value).
    alt:
        What the figure shows, for screen readers (the slider values are appended).
    figsize:
        Figure size in inches (default: the text column's width).
    value_labels:
        ``{parameter: {value: label}}``: what a slider's readout shows for a value
        (default: the value itself), e.g. schedule names for ``approach``.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        grid: Mapping[str, Sequence[Any]],
        fixed: Mapping[str, Any] | None = None,
        start: Mapping[str, Any] | None = None,
        alt: str = "",
        figsize: tuple[float, float] | None = None,
        value_labels: Mapping[str, Mapping[Any, str]] | None = None,
    ) -> None:
        if not grid:
            raise ValueError("grid must name at least one slider parameter")
        self.names = list(grid)
        self.values = {k: list(v) for k, v in grid.items()}
        for name, values in self.values.items():
            if not values:
                raise ValueError(f"grid[{name!r}] must hold at least one value")
        count = 1
        for values in self.values.values():
            count *= len(values)
        if count > MAX_FRAMES:
            raise ValueError(f"grid has {count} combinations; at most {MAX_FRAMES} frames fit in a page")
        start = dict(start or {})
        unknown = set(start) - set(self.names)
        if unknown:
            raise ValueError(f"start names parameters that are not in grid: {sorted(unknown)}")
        self.start = {}
        for name in self.names:
            value = start.get(name, self.values[name][0])
            if value not in self.values[name]:
                raise ValueError(f"start[{name!r}] = {value!r} is not one of grid[{name!r}] = {self.values[name]}")
            self.start[name] = self.values[name].index(value)
        self.func = func
        self.fixed = dict(fixed or {})
        self.alt = alt or getattr(func, "__name__", "figure")
        self.figsize = figsize or (COLUMN_WIDTH, 0.55 * COLUMN_WIDTH)
        self.value_labels = {k: dict(v) for k, v in (value_labels or {}).items()}
        unknown = set(self.value_labels) - set(self.names)
        if unknown:
            raise ValueError(f"value_labels names parameters that are not in grid: {sorted(unknown)}")
        self.frames = self._render()

    def _render(self) -> dict[str, str]:
        import matplotlib.pyplot as plt

        frames: dict[str, str] = {}
        ranges = [range(len(self.values[n])) for n in self.names]
        for index in itertools.product(*ranges):
            point = {n: self.values[n][i] for n, i in zip(self.names, index)}
            fig, ax = plt.subplots(figsize=self.figsize, dpi=DPI)
            try:
                self.func(**self.fixed, **point, ax=ax)
                fig.tight_layout()
                buffer = io.BytesIO()
                fig.savefig(buffer, format="png", dpi=DPI)
            finally:
                plt.close(fig)
            frames["-".join(map(str, index))] = base64.b64encode(buffer.getvalue()).decode("ascii")
        return frames

    def frame_key(self, **point: Any) -> str:
        """The key of the frame drawn at ``point`` (slider values by name)."""
        return "-".join(str(self.values[n].index(point[n])) for n in self.names)

    def to_html(self) -> str:
        """The figure as self-contained HTML: an image, one range slider per parameter, inline JS."""
        uid = f"live-{uuid.uuid4().hex[:12]}"
        labels = {
            n: [str(self.value_labels.get(n, {}).get(v, _label(v))) for v in self.values[n]] for n in self.names
        }
        data = {"names": self.names, "labels": labels, "frames": self.frames, "alt": self.alt}
        first = "-".join(str(self.start[n]) for n in self.names)
        first_alt = self.alt + " (" + ", ".join(f"{n} = {labels[n][self.start[n]]}" for n in self.names) + ")"
        controls = []
        for name in self.names:
            i = self.start[name]
            controls.append(
                f'<label style="display:inline-block;margin-right:1.5em">{html.escape(name)} '
                f'<input class="live-slider" type="range" data-param="{html.escape(name)}" min="0" '
                f'max="{len(self.values[name]) - 1}" step="1" value="{i}" aria-label="{html.escape(name)}"> '
                f'<output data-param="{html.escape(name)}">{html.escape(labels[name][i])}</output></label>'
            )
        payload = json.dumps(data).replace("</", "<\\/")
        return (
            f'<div class="live-figure" id="{uid}">'
            f'<div class="live-controls">{"".join(controls)}</div>'
            f'<img class="live-frame" data-frame="{first}" style="max-width:100%" '
            f'src="data:image/png;base64,{self.frames[first]}" alt="{html.escape(first_alt)}">'
            f'<script type="application/json" class="live-data">{payload}</script>'
            f"<script>{_SCRIPT % {'id': json.dumps(uid)}}</script>"
            f"</div>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()


def explore_note(notebook: str) -> str:
    """One line for beside a chapter's sliders: which slider is which, with the Colab link."""
    from . import colab_url

    if profiles.building_book():
        return (
            "*In this page the sliders step through frames drawn when the book was built; "
            f"[open the chapter in Colab]({colab_url(notebook)}) (or any Jupyter) to compute any value.*"
        )
    return "*These sliders compute at any value; the rendered book offers the same sliders on a precomputed grid.*"


def explore(
    func: Callable[..., Any],
    grid: Mapping[str, Sequence[Any]],
    controls: Mapping[str, Any],
    fixed: Mapping[str, Any] | None = None,
    start: Mapping[str, Any] | None = None,
    alt: str = "",
    value_labels: Mapping[str, Mapping[Any, str]] | None = None,
):
    """The chapter's slider: precomputed frames in the built book, a live ipywidgets slider elsewhere.

    ``grid`` gives the positions drawn for the book; ``controls`` the ipywidgets (or
    abbreviations) of the live slider, which may range more widely. Returns the
    object to display.
    """
    if profiles.building_book():
        return SliderFigure(func, grid, fixed=fixed, start=start, alt=alt, value_labels=value_labels)
    from functools import partial

    from .widgets import interactive_plot

    return interactive_plot(partial(func, **(fixed or {})), **controls)
