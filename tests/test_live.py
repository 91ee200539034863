"""Sliders of the rendered book: precomputed frames, driven by inline JavaScript."""

import base64
import html
import io
import json
import re

import matplotlib.pyplot as plt
import pytest
from PIL import Image

from collapse_utils import live, plotting, profiles


def line(slope=1.0, offset=0.0, ax=None):
    ax = ax or plt.gca()
    ax.plot([0, 1], [offset, offset + slope])
    ax.set_ylim(-3, 3)
    ax.set_title(f"slope {slope}, offset {offset}")


def data_of(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" class="live-data">(.*?)</script>', page).group(1))


def png_size(uri: str) -> tuple[int, int]:
    assert uri.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).size


def test_one_frame_per_grid_point_each_drawn_at_its_values():
    """Bug guarded: every frame drawn at the same (first) slider values, so moving a slider changes nothing."""
    fig = live.SliderFigure(line, {"slope": [-1.0, 0.0, 2.0], "offset": [0.0, 1.0]}, alt="a line")
    assert len(fig.frames) == 6
    assert len(set(fig.frames.values())) == 6, "frames at different slider values must differ"
    assert fig.frame_key(slope=2.0, offset=1.0) == "2-1"


def test_html_has_a_slider_per_number_and_starts_at_the_start_frame():
    """Bug guarded: the page shows a frame that does not match the controls' starting positions."""
    fig = live.SliderFigure(line, {"slope": [-1.0, 0.0, 2.0], "offset": [0.0, 1.0]}, start={"slope": 0.0})
    page = fig.to_html()
    sliders = re.findall(r'<input class="live-control live-slider" type="range" data-param="(\w+)"[^>]*max="(\d+)"'
                         r'[^>]*value="(\d+)"', page)
    assert sliders == [("slope", "2", "1"), ("offset", "1", "0")]
    assert f'data-frame="1-0" width="700" src="{fig.frames["1-0"]}"' in page
    assert f'<a class="live-full" href="{fig.frames["1-0"]}"' in page, "the frame shown opens at full size"
    data = data_of(page)
    assert data["labels"] == {"slope": ["-1", "0", "2"], "offset": ["0", "1"]}
    assert data["frames"] == fig.frames
    assert not re.search(r'(src|href)="(https?:)?//', page), "no network: everything inline"
    assert 'alt="line (slope = 0, offset = 0)"' in page


def test_frames_are_2x_images_shown_at_the_column_width():
    """Bug guarded: frames drawn at 1x (blurry on high-density screens) or shown at twice their size."""
    fig = live.SliderFigure(line, {"slope": [0.0, 1.0]}, figsize=(5.0, 3.0))
    for uri in fig.frames.values():
        assert png_size(uri) == (5 * plotting.DPI * plotting.PIXEL_DENSITY, 3 * plotting.DPI * plotting.PIXEL_DENSITY)
    assert f'width="{5 * plotting.DPI}"' in fig.to_html()


def test_choices_are_buttons_or_a_menu_and_numbers_are_sliders(monkeypatch):
    """Bug guarded: a schedule or 'show' offered as a range slider (its positions have no order)."""
    def plot(n=1, show="a", schedule=1, ax=None):
        line(slope=n + len(show) + schedule, ax=ax)

    fig = live.SliderFigure(plot, {"n": [1, 2], "show": ["samples", "classes"], "schedule": [1, 2]},
                            value_labels={"schedule": {1: "replace", 2: "accumulate"}})
    page = fig.to_html()
    assert fig.choices == ["show", "schedule"]
    assert re.findall(r'type="range" data-param="(\w+)"', page) == ["n"]
    fieldsets = re.findall(r'<fieldset class="live-control live-choice live-buttons" data-param="(\w+)">(.*?)</fieldset>',
                           page)
    assert [name for name, _ in fieldsets] == ["show", "schedule"]
    show = dict(fieldsets)["show"]
    assert re.findall(r'type="radio" name="live-\w+-show" value="(\d)"( checked)?><span>(\w+)</span>', show) == [
        ("0", " checked", "samples"), ("1", "", "classes")]
    assert "<span>replace</span>" in dict(fieldsets)["schedule"]
    # many choices: a menu
    monkeypatch.setattr(live, "MAX_BUTTONS", 1)
    page = live.SliderFigure(plot, {"show": ["samples", "classes"]}, start={"show": "classes"}).to_html()
    assert re.search(r'<select class="live-control live-choice" data-param="show" aria-label="show">'
                     r'<option value="0">samples</option><option value="1" selected>classes</option></select>', page)


def test_frames_are_drawn_without_a_time_budget():
    """Bug guarded: a frame drawn at build time under the live slider's time budget ('1 of 200 runs, to answer in
    time'): frames are drawn once and must compute their position in full."""
    seen = []

    def budgeted(n=1, budget=1.0, time_budget=2.0, ax=None):
        seen.append((budget, time_budget))
        line(slope=n, ax=ax)

    live.SliderFigure(budgeted, {"n": [1, 2]}, fixed={"time_budget": 1.5})
    assert seen == [(None, None), (None, None)]
    assert live.budget_parameters(budgeted) == ["budget", "time_budget"]
    assert live.budget_parameters(line) == []


def test_caption_and_name_mark_the_figure_for_numbering():
    """Bug guarded: the live figure unnumbered and uncaptioned (the book's extension looks for these marks)."""
    fig = live.SliderFigure(line, {"slope": [0.0, 1.0]}, caption="Lines of slope $a$ & 'b'", name="fig-lines")
    page = fig.to_html()
    found = re.search(r'<div class="live-figure" id="live-\w+" data-figure-name="([^"]*)" data-caption="([^"]*)">', page)
    assert found and found.group(1) == "fig-lines" and html.unescape(found.group(2)) == "Lines of slope $a$ & 'b'"
    assert "data-caption" not in live.SliderFigure(line, {"slope": [0.0]}).to_html()
    for kwargs, match in [({"caption": ""}, "caption"), ({"caption": 3}, "caption"), ({"name": "fig-x"}, "name")]:
        with pytest.raises(ValueError, match=match):
            live.SliderFigure(line, {"slope": [0.0]}, **kwargs)


def test_param_labels_name_the_controls_in_readers_words():
    """Bug guarded: a control called by its API name ('approach') where readers need 'schedule'."""
    def plot(approach=1, n=1, ax=None):
        line(slope=approach + n, ax=ax)

    fig = live.SliderFigure(plot, {"approach": [1, 2], "n": [1, 2]}, value_labels={"approach": {1: "r", 2: "a"}},
                            param_labels={"approach": "schedule", "n": "samples"})
    page = fig.to_html()
    assert '<legend>schedule</legend>' in page and 'data-param="approach"' in page
    assert '<label class="live-range">samples <input' in page and 'aria-label="samples"' in page
    assert data_of(page)["words"] == ["schedule", "samples"]
    assert 'alt="plot (schedule = r, samples = 1)"' in page
    with pytest.raises(ValueError, match="param_labels names parameters that are not in grid"):
        live.SliderFigure(plot, {"n": [1]}, param_labels={"approach": "schedule"})


@pytest.mark.parametrize(
    "grid, start, match",
    [
        ({}, None, "at least one slider"),
        ({"slope": []}, None, r"grid\['slope'\] must hold"),
        ({"slope": list(range(200))}, None, "at most"),
        ({"slope": [1.0]}, {"slope": 5.0}, r"start\['slope'\] = 5.0 is not one of"),
        ({"slope": [1.0]}, {"other": 1}, "not in grid"),
    ],
)
def test_bad_grids_are_clear_errors(grid, start, match):
    with pytest.raises(ValueError, match=match):
        live.SliderFigure(line, grid, start=start)


def test_explore_is_precomputed_in_the_book_and_live_elsewhere(monkeypatch):
    """Bug guarded: the built page carries an ipywidgets slider that moves without redrawing (no kernel), or the
    book's figure loses its caption."""
    monkeypatch.setenv(profiles.BUILD_ENV, "1")
    book = live.explore(line, {"slope": [0.0, 1.0]}, controls={"slope": (-2.0, 2.0)}, fixed={"offset": 0.5},
                        caption="Lines", name="fig-lines", param_labels={"slope": "steepness"})
    assert isinstance(book, live.SliderFigure) and len(book.frames) == 2
    assert (book.caption, book.name, book.param_labels) == ("Lines", "fig-lines", {"slope": "steepness"})
    assert book.fixed == {"offset": 0.5}
    cheaper = live.explore(line, {"slope": [0.0]}, fixed={"offset": 0.5}, book_fixed={"offset": 2.0})
    assert cheaper.fixed == {"offset": 2.0}, "book_fixed overrides fixed for the frames"
    monkeypatch.delenv(profiles.BUILD_ENV)
    import ipywidgets

    notebook = live.explore(line, {"slope": [0.0, 1.0]}, controls={"slope": (-2.0, 2.0)}, fixed={"offset": 0.5},
                            book_fixed={"offset": 2.0})
    assert isinstance(notebook, ipywidgets.interactive)
    from collapse_utils import widgets

    seen = {}
    monkeypatch.setattr(widgets, "interactive_plot", lambda func, **controls: seen.update(func.keywords))
    live.explore(line, {"slope": [0.0]}, fixed={"offset": 0.5}, book_fixed={"offset": 2.0})
    assert seen == {"offset": 0.5}, "book_fixed stays out of the live slider"
    plt.close("all")


def test_without_controls_the_notebook_offers_the_books_positions():
    """Bug guarded: the notebook's slider ranges differ from what the page offers when no controls are given."""
    import ipywidgets

    controls = live.grid_controls({"n": [10, 100], "show": ["samples", "classes"], "approach": [1, 2]},
                                  start={"n": 100}, value_labels={"approach": {1: "replace", 2: "accumulate"}},
                                  param_labels={"approach": "schedule"})
    assert isinstance(controls["n"], ipywidgets.SelectionSlider)
    assert list(controls["n"].options) == [("10", 10), ("100", 100)] and controls["n"].value == 100
    assert isinstance(controls["show"], ipywidgets.Dropdown) and controls["show"].value == "samples"
    assert list(controls["approach"].options) == [("replace", 1), ("accumulate", 2)]
    assert controls["approach"].description == "schedule"


def test_explore_note_says_which_slider_is_which(monkeypatch):
    """Bug guarded: the rendered page claims its sliders compute live (or the notebook that they are frames)."""
    monkeypatch.setenv(profiles.BUILD_ENV, "1")
    book = live.explore_note("01_gaussian")
    assert "frames drawn when the book was built" in book
    assert "https://colab.research.google.com/github/model-collapse-book/model-collapse/blob/main/notebooks/01_gaussian.ipynb" in book
    monkeypatch.delenv(profiles.BUILD_ENV)
    assert "compute at any value" in live.explore_note("01_gaussian")


def test_value_labels_name_the_readout():
    """Bug guarded: a schedule control that reads '2' where the reader needs 'accumulate-subsample'."""
    fig = live.SliderFigure(line, {"slope": [1.0, 2.0]}, value_labels={"slope": {1.0: "gentle", 2.0: "steep"}})
    page = fig.to_html()
    assert data_of(page)["labels"] == {"slope": ["gentle", "steep"]}
    assert "<span>gentle</span>" in page
    with pytest.raises(ValueError, match="not in grid"):
        live.SliderFigure(line, {"slope": [1.0]}, value_labels={"offset": {0: "x"}})


def test_small_multiples_title_panels_in_readers_words():
    """Bug guarded: panels titled by API names ('approach = 2') where readers need the schedule's name, or floats
    printed long ('retention = 0.1' as '0.1000000001')."""
    from collapse_utils import widgets

    def plot(approach=1, retention=0.0, ax=None):
        line(slope=approach + retention, ax=ax)

    fig = widgets.small_multiples(plot, "approach", [1, 2, 3], value_labels={1: "replace", 2: "accumulate"})
    assert [ax.get_title() for ax in fig.axes] == ["replace", "accumulate", "approach = 3"]
    fig = widgets.small_multiples(plot, "retention", [0.0, 0.1 + 1e-12], label="fresh retention")
    assert [ax.get_title() for ax in fig.axes] == ["fresh retention = 0", "fresh retention = 0.1"]
    plt.close("all")
