"""Sliders of the rendered book: precomputed frames, driven by inline JavaScript."""

import json
import re

import matplotlib.pyplot as plt
import pytest

from collapse_utils import live, profiles


def line(slope=1.0, offset=0.0, ax=None):
    ax = ax or plt.gca()
    ax.plot([0, 1], [offset, offset + slope])
    ax.set_ylim(-3, 3)
    ax.set_title(f"slope {slope}, offset {offset}")


def test_one_frame_per_grid_point_each_drawn_at_its_values():
    """Bug guarded: every frame drawn at the same (first) slider values, so moving a slider changes nothing."""
    fig = live.SliderFigure(line, {"slope": [-1.0, 0.0, 2.0], "offset": [0.0, 1.0]}, alt="a line")
    assert len(fig.frames) == 6
    assert len(set(fig.frames.values())) == 6, "frames at different slider values must differ"
    assert fig.frame_key(slope=2.0, offset=1.0) == "2-1"


def test_html_has_a_slider_per_parameter_and_starts_at_the_start_frame():
    """Bug guarded: the page shows a frame that does not match the sliders' starting positions."""
    fig = live.SliderFigure(line, {"slope": [-1.0, 0.0, 2.0], "offset": [0.0, 1.0]}, start={"slope": 0.0})
    page = fig.to_html()
    sliders = re.findall(r'<input class="live-slider"[^>]*data-param="(\w+)"[^>]*max="(\d+)"[^>]*value="(\d+)"', page)
    assert sliders == [("slope", "2", "1"), ("offset", "1", "0")]
    assert f'data-frame="1-0" style="max-width:100%" src="data:image/png;base64,{fig.frames["1-0"]}"' in page
    data = json.loads(re.search(r'<script type="application/json" class="live-data">(.*?)</script>', page).group(1))
    assert data["labels"] == {"slope": ["-1", "0", "2"], "offset": ["0", "1"]}
    assert not re.search(r'(src|href)="(https?:)?//', page), "no network: everything inline"
    assert 'alt="line (slope = 0, offset = 0)"' in page


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
    """Bug guarded: the built page carries an ipywidgets slider that moves without redrawing (no kernel)."""
    monkeypatch.setenv(profiles.BUILD_ENV, "1")
    book = live.explore(line, {"slope": [0.0, 1.0]}, controls={"slope": (-2.0, 2.0)}, fixed={"offset": 0.5})
    assert isinstance(book, live.SliderFigure) and len(book.frames) == 2
    monkeypatch.delenv(profiles.BUILD_ENV)
    import ipywidgets

    notebook = live.explore(line, {"slope": [0.0, 1.0]}, controls={"slope": (-2.0, 2.0)}, fixed={"offset": 0.5})
    assert isinstance(notebook, ipywidgets.interactive)
    plt.close("all")


def test_explore_note_says_which_slider_is_which(monkeypatch):
    """Bug guarded: the rendered page claims its sliders compute live (or the notebook that they are frames)."""
    monkeypatch.setenv(profiles.BUILD_ENV, "1")
    book = live.explore_note("01_gaussian")
    assert "frames drawn when the book was built" in book
    assert "https://colab.research.google.com/github/model-collapse-book/model-collapse/blob/main/notebooks/01_gaussian.ipynb" in book
    monkeypatch.delenv(profiles.BUILD_ENV)
    assert "compute at any value" in live.explore_note("01_gaussian")


def test_value_labels_name_the_readout():
    """Bug guarded: a schedule slider that reads '2' where the reader needs 'accumulate-subsample'."""
    fig = live.SliderFigure(line, {"slope": [1.0, 2.0]}, value_labels={"slope": {1.0: "gentle", 2.0: "steep"}})
    page = fig.to_html()
    assert '"labels": {"slope": ["gentle", "steep"]}' in page
    assert '<output data-param="slope">gentle</output>' in page
    with pytest.raises(ValueError, match="not in grid"):
        live.SliderFigure(line, {"slope": [1.0]}, value_labels={"offset": {0: "x"}})
