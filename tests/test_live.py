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


# --- what the page carries: escaping, every option on its way through, boundaries ---------------------------------

from html.parser import HTMLParser  # noqa: E402

import numpy as np  # noqa: E402


class Page(HTMLParser):
    """The elements of a page as a browser's tokenizer sees them: tags with attributes, text per element, and
    the raw text of each script (which ends at the first '</script')."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.texts: list[tuple[str, str]] = []
        self.scripts: list[str] = []
        self.open: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in ("input", "img"):
            self.open.append(tag)
        if tag == "script":
            self.scripts.append("")

    def handle_endtag(self, tag):
        if self.open and self.open[-1] == tag:
            self.open.pop()

    def handle_data(self, data):
        if self.open and self.open[-1] == "script":
            self.scripts[-1] += data
        elif self.open:
            self.texts.append((self.open[-1], data))

    def attrs(self, tag, **match):
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in match.items())]

    def text_of(self, tag):
        return [d for t, d in self.texts if t == tag]


SMALL = (1.0, 0.8)  # frames of a few kB: these tests read the page, not the picture
NASTY = 'a </script><script>alert("x")</script> & <b>"quoted"</b> \'too\''


def test_every_label_reaches_the_page_intact_and_nothing_ends_the_script_early(monkeypatch):
    """Bugs guarded: the JSON payload not escaped, so that a '</script>' in a label, a word or the alt text
    ends the script early (the slider dies, the rest shows as text, or runs as a script); attributes (alt,
    caption, aria-label) or texts (buttons, menu options, legends, readouts) not HTML-escaped, so that a quote
    ends an attribute or '<b>' becomes markup. Every string must come back, unchanged, where a browser reads
    it."""
    def plot(show="a", n=1, pick=0, ax=None):
        line(slope=n + len(show) + pick, ax=ax)

    monkeypatch.setattr(live, "MAX_BUTTONS", 2)  # three choices: a menu
    labels = {"show": {"a": NASTY + " one", "b": "<two>"}, "pick": {k: f"{NASTY} {k}" for k in range(3)}}
    words = {"show": "what & <how>", "n": 'n "samples"', "pick": NASTY}
    fig = live.SliderFigure(plot, {"show": ["a", "b"], "n": [1, 2], "pick": list(range(3))}, alt=NASTY,
                            value_labels=labels, param_labels=words, caption=NASTY + " caption", name="fig-x",
                            start={"show": "b", "n": 2, "pick": 1}, figsize=SMALL)
    page = Page(fig.to_html())
    assert len(page.scripts) == 2, "the payload and the code, each whole"
    data = json.loads(page.scripts[0])
    assert data["alt"] == NASTY and data["words"] == [words["show"], words["n"], words["pick"]]
    assert data["labels"] == {"show": [labels["show"]["a"], "<two>"], "n": ["1", "2"],
                              "pick": [labels["pick"][k] for k in range(3)]}
    assert data["frames"] == fig.frames and data["names"] == ["show", "n", "pick"]
    (root,) = page.attrs("div", **{"class": "live-figure"})
    assert root["data-caption"] == NASTY + " caption" and root["data-figure-name"] == "fig-x"
    assert json.dumps(root["id"]) in page.scripts[1], "the code finds its own figure"
    (img,) = page.attrs("img")
    assert img["alt"] == f"{NASTY} ({words['show']} = <two>, {words['n']} = 2, {words['pick']} = {labels['pick'][1]})"
    assert img["data-frame"] == "1-1-1" and img["src"] == fig.frames["1-1-1"]
    assert page.text_of("legend") == [words["show"]]
    assert page.text_of("span") == [labels["show"]["a"], "<two>"]
    assert page.text_of("option") == [labels["pick"][k] for k in range(3)]
    assert page.text_of("output") == ["2"]
    (slider,) = page.attrs("input", type="range")
    assert slider["aria-label"] == words["n"] and slider["value"] == "1"
    (menu,) = page.attrs("select")
    assert menu["aria-label"] == words["pick"]
    assert [a.get("selected", "no") for a in page.attrs("option")] == ["no", None, "no"]
    radios = page.attrs("input", type="radio")
    assert ["checked" in r for r in radios] == [False, True] and len({r["name"] for r in radios}) == 1


def test_frames_are_keyed_by_the_positions_they_were_drawn_at():
    """Bugs guarded: frame keys built in another order than the grid's parameters (the frame of (slope 2,
    offset 0) shown at (slope 0, offset 2)), or indices off by one. Each frame is painted in a colour that
    encodes its values, and read back from its image."""
    def paint(r=0.0, g=0.0, ax=None):
        ax.set_facecolor((r, g, 0.5))
        ax.set_xticks([])
        ax.set_yticks([])

    grid = {"r": [0.0, 0.5, 1.0], "g": [0.25, 1.0]}
    fig = live.SliderFigure(paint, grid, figsize=(1.0, 0.8))
    assert sorted(fig.frames) == [f"{i}-{j}" for i in range(3) for j in range(2)]
    for i, r in enumerate(grid["r"]):
        for j, g in enumerate(grid["g"]):
            key = fig.frame_key(r=r, g=g)
            assert key == f"{i}-{j}"
            uri = fig.frames[key]
            image = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB")
            w, h = image.size
            pixel = np.array(image.getpixel((w // 2, h // 2))) / 255
            np.testing.assert_allclose(pixel, [r, g, 0.5], atol=0.03)


def test_explore_hands_every_option_to_the_figure_or_the_live_slider(monkeypatch):
    """Bug guarded: an option silently dropped on its way to the inner call (``start``, ``alt``,
    ``value_labels``, ``param_labels`` lost by ``explore``, in the book or in a notebook), so that the page
    starts elsewhere, reads API values, or says nothing to a screen reader."""
    def plot(approach=1, n=1, offset=0.0, ax=None):
        line(slope=approach + n, offset=offset, ax=ax)

    grid = {"approach": [1, 2], "n": [20]}
    options = dict(start={"approach": 2, "n": 20}, alt="runs", value_labels={"approach": {1: "replace", 2: "acc"}},
                   param_labels={"approach": "schedule", "n": "samples"}, fixed={"offset": 0.5})
    monkeypatch.setenv(profiles.BUILD_ENV, "1")
    book = live.explore(plot, grid, caption="C", name="fig-c", **options)
    assert book.start == {"approach": 1, "n": 0} and book.alt == "runs"
    assert book.value_labels == options["value_labels"] and book.param_labels == options["param_labels"]
    assert book.fixed == {"offset": 0.5} and (book.caption, book.name) == ("C", "fig-c")
    assert 'alt="runs (schedule = acc, samples = 20)"' in book.to_html()
    monkeypatch.delenv(profiles.BUILD_ENV)
    from collapse_utils import widgets

    seen = {}
    monkeypatch.setattr(widgets, "interactive_plot", lambda func, **controls: seen.update(func=func, **controls))
    live.explore(plot, grid, **options)
    assert seen["func"].keywords == {"offset": 0.5}
    assert seen["approach"].value == 2 and seen["n"].value == 20
    assert [label for label, _ in seen["approach"].options] == ["replace", "acc"]
    assert (seen["approach"].description, seen["n"].description) == ("schedule", "samples")
    plt.close("all")


def test_frame_and_button_limits_are_inclusive(monkeypatch):
    """Bugs guarded: a grid of exactly the most frames refused (or one more accepted); exactly the most buttons
    shown as a menu (or one more as buttons)."""
    monkeypatch.setattr(live, "MAX_FRAMES", 4)
    assert len(live.SliderFigure(line, {"slope": [0.0, 1.0], "offset": [0.0, 1.0]}, figsize=SMALL).frames) == 4
    with pytest.raises(ValueError, match="grid has 5 combinations; at most 4 frames"):
        live.SliderFigure(line, {"slope": [0.0, 1.0, 2.0, 3.0, 4.0]})
    monkeypatch.setattr(live, "MAX_FRAMES", 120)
    monkeypatch.setattr(live, "MAX_BUTTONS", 2)

    def plot(show="a", ax=None):
        line(slope=len(show), ax=ax)

    two = live.SliderFigure(plot, {"show": ["a", "bb"]}, figsize=SMALL).to_html()
    assert "<fieldset" in two and "<select" not in two
    three = live.SliderFigure(plot, {"show": ["a", "bb", "ccc"]}, figsize=SMALL).to_html()
    assert "<select" in three and "<fieldset" not in three


def test_two_figures_on_one_page_do_not_share_controls():
    """Bug guarded: a fixed id or radio-group name, so that a second figure's buttons uncheck the first's (one
    group) or its code drives the first figure."""
    def plot(show="a", ax=None):
        line(slope=len(show), ax=ax)

    fig = live.SliderFigure(plot, {"show": ["a", "bb"]}, figsize=SMALL)
    a, b = Page(fig.to_html()), Page(fig.to_html())
    assert a.attrs("div")[0]["id"] != b.attrs("div")[0]["id"]
    assert {r["name"] for r in a.attrs("input", type="radio")}.isdisjoint(r["name"] for r in b.attrs("input", type="radio"))
