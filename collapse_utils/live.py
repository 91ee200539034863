"""Sliders that work in the rendered book, without a kernel and without a network.

A rendered page has no Python behind it, so an ipywidgets slider there can move
but cannot redraw. :class:`SliderFigure` instead draws the slider's own plotting
function (the same tested helper that the notebook's ipywidgets slider calls) at
every point of a small grid of values while the book is built, and ships the
frames with a few lines of inline JavaScript: moving a control swaps the frame.
Nothing is fetched from a CDN, so it also works from a downloaded copy of the HTML.

* Ordered numbers (``n``, generations, retention) get a range slider; choices
  (a schedule, a setting, what to show: values that are not numbers, or that
  ``value_labels`` names) get buttons, or a menu when there are many.
* Frames are drawn **without a time budget**: a parameter of the function named in
  :data:`BUDGET_PARAMETERS` is set to ``None`` for the frames, so every frame
  computes its position in full (the live slider of a notebook keeps its budget).
* Frames are 2x PNGs shown at the column's width (sharp on high-density screens),
  and the frame shown is a link to its full-size image. The book's Sphinx extension
  (``book/_ext/pages.py``) stores each frame once as a file, so a page loads only the
  frame it shows.
* With ``caption`` (and ``name``), the book shows the live figure as a numbered
  figure with that caption, like the chapter's other figures (``{numref}`` reaches
  it by ``name``).

:func:`explore` is what a chapter's "Explore" cell calls: inside the book build it
shows the precomputed :class:`SliderFigure`; in a running notebook (Jupyter, Colab)
it shows the ipywidgets slider, which recomputes at any value.
"""

from __future__ import annotations

import base64
import html
import inspect
import itertools
import json
import numbers
import uuid
from typing import Any, Callable, Mapping, Sequence

from . import profiles
from .plotting import COLUMN_WIDTH, DPI, PIXEL_DENSITY, figure_pixels, palette_png

#: Most frames one figure may hold (each is a PNG of a few tens of kB).
MAX_FRAMES = 120
#: Parameters of a slider function that limit its computing time (live sliders only):
#: frames drawn for the book set them to ``None`` and compute every position in full.
BUDGET_PARAMETERS = ("budget", "time_budget")
#: Choices with more options than this get a menu instead of buttons.
MAX_BUTTONS = 5

_SCRIPT = """
(function () {
  var root = document.getElementById(%(id)s);
  var data = JSON.parse(root.querySelector("script.live-data").textContent);
  var img = root.querySelector("img.live-frame");
  var link = root.querySelector("a.live-full");
  function position(name) {
    var control = root.querySelector('.live-control[data-param="' + name + '"]');
    if (control.tagName === "SELECT") return control.selectedIndex;
    if (control.tagName === "FIELDSET") return parseInt(control.querySelector("input:checked").value, 10);
    return parseInt(control.value, 10);
  }
  function update() {
    var key = data.names.map(position);
    data.names.forEach(function (name, j) {
      var readout = root.querySelector('output[data-param="' + name + '"]');
      if (readout) readout.textContent = data.labels[name][key[j]];
    });
    var k = key.join("-");
    img.src = data.frames[k];
    link.href = data.frames[k];
    img.alt = data.alt + " (" + data.names.map(function (n, j) { return data.words[j] + " = " + data.labels[n][key[j]]; }).join(", ") + ")";
    img.dataset.frame = k;
  }
  root.addEventListener("input", update);
  root.addEventListener("change", update);
})();
"""


def _label(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class SliderFigure:
    """Frames of ``func(**fixed, **point, ax=ax)`` over a grid, with controls in HTML.

    Parameters
    ----------
    func:
        The slider's plotting function, ``func(..., ax=ax)``. A parameter named in
        :data:`BUDGET_PARAMETERS` is set to ``None`` for every frame.
    grid:
        ``{parameter: values}``: the positions (at most :data:`MAX_FRAMES`
        combinations in all, every value list non-empty).
    fixed:
        Other keyword arguments of ``func``.
    start:
        ``{parameter: value}`` the controls start at (default: each list's first value).
    alt:
        What the figure shows, for screen readers (the current values are appended).
    figsize:
        Figure size in inches (default: the text column's width).
    value_labels:
        ``{parameter: {value: label}}``: what a control shows for a value (default:
        the value itself), e.g. schedule names for ``approach``. A labelled parameter is
        a choice (buttons or a menu), as is one whose values are not all numbers; the
        others get a range slider.
    param_labels:
        ``{parameter: words}``: what the page calls a control (default: the parameter's
        name), e.g. ``{"approach": "schedule"}``: readers' words, not the API's.
    caption, name:
        The figure's caption (MyST, as in a ``mystnb.figure`` caption) and label: in the
        book the live figure is numbered and captioned like the chapter's other figures.
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
        caption: str | None = None,
        name: str | None = None,
        param_labels: Mapping[str, str] | None = None,
    ) -> None:
        if not grid:
            raise ValueError("grid must name at least one slider parameter")
        self.names = list(grid)
        self.values = {k: list(v) for k, v in grid.items()}
        for key, values in self.values.items():
            if not values:
                raise ValueError(f"grid[{key!r}] must hold at least one value")
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
        for key in self.names:
            value = start.get(key, self.values[key][0])
            if value not in self.values[key]:
                raise ValueError(f"start[{key!r}] = {value!r} is not one of grid[{key!r}] = {self.values[key]}")
            self.start[key] = self.values[key].index(value)
        if caption is not None and not (isinstance(caption, str) and caption.strip()):
            raise ValueError(f"caption must be a non-empty string or None, got {caption!r}")
        if name is not None and (caption is None or not isinstance(name, str) or not name.strip()):
            raise ValueError(f"name must be a non-empty string and comes with a caption, got name={name!r}")
        self.caption, self.name = caption, name
        self.func = func
        self.fixed = dict(fixed or {})
        self.budgets = budget_parameters(func)
        self.alt = alt or getattr(func, "__name__", "figure")
        self.figsize = figsize or (COLUMN_WIDTH, 0.55 * COLUMN_WIDTH)
        self.value_labels = {k: dict(v) for k, v in (value_labels or {}).items()}
        unknown = set(self.value_labels) - set(self.names)
        if unknown:
            raise ValueError(f"value_labels names parameters that are not in grid: {sorted(unknown)}")
        self.param_labels = {k: str(v) for k, v in (param_labels or {}).items()}
        unknown = set(self.param_labels) - set(self.names)
        if unknown:
            raise ValueError(f"param_labels names parameters that are not in grid: {sorted(unknown)}")
        self.choices = [
            k for k in self.names if k in self.value_labels or not all(_is_number(v) for v in self.values[k])
        ]
        self.frames = self._render()

    def _render(self) -> dict[str, str]:
        import matplotlib.pyplot as plt

        from collections import deque
        from concurrent.futures import ThreadPoolExecutor

        frames: dict[str, str] = {}
        ranges = [range(len(self.values[n])) for n in self.names]
        unlimited = {p: None for p in self.budgets}
        encoding: deque = deque()  # (key, the frame's palette PNG being encoded), in the grid's order

        def store_oldest() -> None:
            key, png = encoding.popleft()
            frames[key] = "data:image/png;base64," + base64.b64encode(png.result()).decode("ascii")

        # Pillow encodes without Python's lock: a frame's palette PNG is made while the next frame is drawn (a
        # few frames at most wait, so a large grid does not hold every frame's pixels at once)
        with ThreadPoolExecutor(max_workers=1) as encoder:
            for index in itertools.product(*ranges):
                point = {n: self.values[n][i] for n, i in zip(self.names, index)}
                fig, ax = plt.subplots(figsize=self.figsize, dpi=DPI)
                try:
                    self.func(**{**self.fixed, **unlimited}, **point, ax=ax)
                    fig.tight_layout()
                    pixels = figure_pixels(fig, DPI * PIXEL_DENSITY)
                finally:
                    plt.close(fig)
                encoding.append(("-".join(map(str, index)), encoder.submit(palette_png, pixels)))
                if len(encoding) > 2:
                    store_oldest()
            while encoding:
                store_oldest()
        return frames

    def frame_key(self, **point: Any) -> str:
        """The key of the frame drawn at ``point`` (values by parameter name)."""
        return "-".join(str(self.values[n].index(point[n])) for n in self.names)

    def _labels(self) -> dict[str, list[str]]:
        return {n: [str(self.value_labels.get(n, {}).get(v, _label(v))) for v in self.values[n]] for n in self.names}

    def _control(self, uid: str, key: str, labels: list[str]) -> str:
        i = self.start[key]
        name = html.escape(key)
        words = html.escape(self.param_labels.get(key, key))
        if key not in self.choices:
            return (
                f'<label class="live-range">{words} '
                f'<input class="live-control live-slider" type="range" data-param="{name}" min="0" '
                f'max="{len(labels) - 1}" step="1" value="{i}" aria-label="{words}"> '
                f'<output data-param="{name}">{html.escape(labels[i])}</output></label>'
            )
        if len(labels) > MAX_BUTTONS:
            options = "".join(
                f'<option value="{j}"{" selected" if j == i else ""}>{html.escape(label)}</option>'
                for j, label in enumerate(labels)
            )
            return (
                f'<label class="live-menu">{words} <select class="live-control live-choice" data-param="{name}" '
                f'aria-label="{words}">{options}</select></label>'
            )
        buttons = "".join(
            f'<label><input type="radio" name="{uid}-{name}" value="{j}"{" checked" if j == i else ""}>'
            f"<span>{html.escape(label)}</span></label>"
            for j, label in enumerate(labels)
        )
        return (
            f'<fieldset class="live-control live-choice live-buttons" data-param="{name}">'
            f"<legend>{words}</legend>{buttons}</fieldset>"
        )

    def to_html(self) -> str:
        """The figure as self-contained HTML: controls, a linked image, inline JS."""
        uid = f"live-{uuid.uuid4().hex[:12]}"
        labels = self._labels()
        words = [self.param_labels.get(n, n) for n in self.names]
        data = {"names": self.names, "words": words, "labels": labels, "frames": self.frames, "alt": self.alt}
        first = "-".join(str(self.start[n]) for n in self.names)
        first_alt = self.alt + " (" + ", ".join(f"{w} = {labels[n][self.start[n]]}" for w, n in zip(words, self.names)) + ")"
        controls = "".join(self._control(uid, n, labels[n]) for n in self.names)
        payload = json.dumps(data).replace("</", "<\\/")
        figure = ""
        if self.caption is not None:
            figure = f' data-figure-name="{html.escape(self.name or "")}" data-caption="{html.escape(self.caption)}"'
        width = round(self.figsize[0] * DPI)
        return (
            f'<div class="live-figure" id="{uid}"{figure}>'
            f'<div class="live-controls">{controls}</div>'
            f'<a class="live-full" href="{self.frames[first]}" title="Open this frame at full size">'
            f'<img class="live-frame" data-frame="{first}" width="{width}" src="{self.frames[first]}" '
            f'alt="{html.escape(first_alt)}"></a>'
            f'<script type="application/json" class="live-data">{payload}</script>'
            f"<script>{_SCRIPT % {'id': json.dumps(uid)}}</script>"
            f"</div>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()


def budget_parameters(func: Callable[..., Any]) -> list[str]:
    """The parameters of ``func`` named in :data:`BUDGET_PARAMETERS` (set to ``None`` for frames)."""
    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return []
    return [p for p in BUDGET_PARAMETERS if p in parameters]


def explore_note(notebook: str) -> str:
    """One line for beside a chapter's sliders: which slider is which, with the Colab link."""
    from . import colab_url

    if profiles.building_book():
        return (
            "*In this page the controls step through frames drawn when the book was built; "
            f"[open the chapter in Colab]({colab_url(notebook)}) (or any Jupyter) to compute any value.*"
        )
    return "*These sliders compute at any value; the rendered book offers the same controls on a precomputed grid.*"


def grid_controls(
    grid: Mapping[str, Sequence[Any]],
    start: Mapping[str, Any] | None = None,
    value_labels: Mapping[str, Mapping[Any, str]] | None = None,
    param_labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """ipywidgets offering exactly the book's positions: a menu for choices, a selection slider for numbers."""
    import ipywidgets as ipw

    start, value_labels = dict(start or {}), {k: dict(v) for k, v in (value_labels or {}).items()}
    param_labels = dict(param_labels or {})
    controls = {}
    for key, values in grid.items():
        values = list(values)
        options = [(str(value_labels.get(key, {}).get(v, _label(v))), v) for v in values]
        value = start.get(key, values[0])
        if key in value_labels or not all(_is_number(v) for v in values):
            controls[key] = ipw.Dropdown(options=options, value=value, description=param_labels.get(key, key))
        else:
            controls[key] = ipw.SelectionSlider(options=options, value=value, description=param_labels.get(key, key))
    return controls


def explore(
    func: Callable[..., Any],
    grid: Mapping[str, Sequence[Any]],
    controls: Mapping[str, Any] | None = None,
    fixed: Mapping[str, Any] | None = None,
    start: Mapping[str, Any] | None = None,
    alt: str = "",
    value_labels: Mapping[str, Mapping[Any, str]] | None = None,
    caption: str | None = None,
    name: str | None = None,
    param_labels: Mapping[str, str] | None = None,
    book_fixed: Mapping[str, Any] | None = None,
):
    """The chapter's slider: precomputed frames in the built book, a live ipywidgets slider elsewhere.

    ``grid`` gives the positions drawn for the book (without a time budget: see
    :data:`BUDGET_PARAMETERS`); ``controls`` the ipywidgets (or abbreviations) of
    the live slider, which may range more widely (default: :func:`grid_controls`,
    the book's positions). ``caption`` and ``name`` number and caption the figure in
    the book; ``param_labels`` name the controls in readers' words. ``book_fixed``
    overrides ``fixed`` for the book's frames only: where drawing every frame in full
    would cost minutes (frames have no time budget), fewer runs for the frames, say,
    which the caption then states. Returns the object to display.
    """
    if profiles.building_book():
        return SliderFigure(
            func, grid, fixed={**(fixed or {}), **(book_fixed or {})}, start=start, alt=alt, value_labels=value_labels, caption=caption, name=name,
            param_labels=param_labels,
        )
    from functools import partial

    from .widgets import interactive_plot

    if controls is None:
        controls = grid_controls(grid, start, value_labels, param_labels)
    return interactive_plot(partial(func, **(fixed or {})), **controls)
