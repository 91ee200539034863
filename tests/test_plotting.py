"""The book's figure style: sharp inline figures and compact PNGs."""

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from collapse_utils import plotting  # noqa: E402


def figure_png(transparent: bool = False, dpi: int = 200) -> bytes:
    """A plot with many colours: an image with a colour map, bands, lines and text."""
    fig, axes = plt.subplots(1, 2, figsize=(7, 3))
    x = np.linspace(0, 1, 200)
    axes[0].imshow(np.outer(x, x[::-1]) + np.sin(8 * x)[None, :], cmap="viridis")
    for k in range(5):
        axes[1].fill_between(x, x ** (k + 1) - 0.1, x ** (k + 1) + 0.1, alpha=0.2)
        axes[1].plot(x, x ** (k + 1), lw=0.6, label=f"power {k + 1}")
    axes[1].legend(fontsize=9)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, transparent=transparent)
    plt.close(fig)
    return buffer.getvalue()


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"), dtype=float)


def test_compact_png_keeps_the_picture_in_fewer_bytes():
    """Bugs guarded: a compacted figure resized, visibly changed (too few colours, dithering noise), or larger."""
    data = figure_png()
    small = plotting.compact_png(data)
    assert len(small) < 0.6 * len(data)
    before, after = pixels(data), pixels(small)
    assert before.shape == after.shape
    diff = np.abs(before - after).max(axis=2)  # per pixel, the channel that moved most (0-255)
    # a palette of 256 colours moves a few anti-aliased or gradient pixels by a few levels (measured on this
    # figure: median 0, 99th percentile 21); 32 colours move far more
    assert diff.mean() < 1.0 and np.quantile(diff, 0.99) <= 24, "no visible change"
    assert Image.open(io.BytesIO(small)).mode == "P"
    assert plotting.compact_png(small) is small, "a palette image is left as it is"


def test_compact_png_keeps_transparency():
    """Bug guarded: a transparent figure flattened onto black (alpha dropped)."""
    data = figure_png(transparent=True)
    before, after = pixels(data), pixels(plotting.compact_png(data))
    assert (before[..., 3] == 0).mean() > 0.3
    assert np.array_equal(before[..., 3] == 0, after[..., 3] == 0)


def test_figure_png_is_compact_png_of_savefig_without_the_detour():
    """Bugs guarded: a live frame drawn at the figure's own dpi instead of the one asked for (blurry on the page),
    the figure's dpi left changed after the frame (every later frame and savefig at the wrong size), or pixels that
    differ from what savefig would write (a frame unlike the figure it stands for), also on a canvas without pixels
    (there drawn through savefig at its default dpi)."""
    fig, ax = plt.subplots(figsize=(4, 2.5), dpi=100)
    x = np.linspace(0, 1, 50)
    ax.fill_between(x, x - 0.1, x + 0.1, alpha=0.3)
    ax.plot(x, x ** 2, label="square")
    ax.legend()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=200)
    expected = plotting.compact_png(buffer.getvalue())
    got = plotting.figure_png(fig, 200)
    assert fig.dpi == 100, "the figure keeps its dpi"
    assert Image.open(io.BytesIO(got)).size == (800, 500)
    assert Image.open(io.BytesIO(got)).mode == "P"
    assert np.array_equal(pixels(got), pixels(expected))
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    FigureCanvasSVG(fig)  # a canvas without pixels: the frame goes through savefig, to the same image
    assert not hasattr(fig.canvas, "buffer_rgba")
    assert np.array_equal(pixels(plotting.figure_png(fig, 200)), pixels(expected))
    with pytest.raises(ValueError, match="dpi"):
        plotting.figure_png(fig, 0)
    with pytest.raises(ValueError, match="colors"):
        plotting.figure_png(fig, 100, colors=300)
    plt.close(fig)


def test_compact_png_rejects_bad_input():
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="JPEG")
    with pytest.raises(ValueError, match="PNG"):
        plotting.compact_png(buffer.getvalue())
    with pytest.raises(ValueError, match="colors"):
        plotting.compact_png(figure_png(dpi=50), colors=1)


def test_style_asks_a_notebook_for_2x_figures(monkeypatch):
    """Bugs guarded: the book's figures drawn at 1x (blurry on high-density screens), or a plain script breaking;
    a notebook's own figures written with the book build's fast compression (larger files for a reader's
    notebook), or the book build's figures compressed hard although the book stores them again."""
    import IPython
    import matplotlib_inline.backend_inline as inline

    from collapse_utils import profiles

    calls = []
    monkeypatch.delenv(profiles.BUILD_ENV, raising=False)
    monkeypatch.setattr(inline, "set_matplotlib_formats", lambda *formats, **kw: calls.append((formats, kw)))
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    plotting.style()
    assert calls == [], "outside IPython nothing changes"

    class Terminal:
        pass

    monkeypatch.setattr(IPython, "get_ipython", lambda: Terminal())
    plotting.style()
    assert calls == [], "a terminal IPython has no inline figures"

    class Kernel:
        kernel = object()

    monkeypatch.setattr(IPython, "get_ipython", lambda: Kernel())
    plotting.style()
    assert calls == [(("retina",), {})]
    monkeypatch.setenv(profiles.BUILD_ENV, "1")
    plotting.style()
    fast = calls[-1][1]
    assert calls[-1][0] == ("retina",) and fast == {"pil_kwargs": {"compress_level": 1}}
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [1, 0])
    hard, quick = io.BytesIO(), io.BytesIO()
    fig.savefig(hard, format="png")
    fig.savefig(quick, format="png", **fast)
    plt.close(fig)
    assert len(quick.getvalue()) > len(hard.getvalue())  # the level reaches the PNG writer
    assert plotting.compact_png(quick.getvalue()) == plotting.compact_png(hard.getvalue())  # the book's file
    assert plotting.PIXEL_DENSITY == 2, "the retina format draws at twice the dpi"
    assert matplotlib.rcParams["savefig.dpi"] == plotting.DPI


# --- the one band plot: the data it draws, not only that it draws (hypothesis, fixed fast budgets) --------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402


def band_of(ax, x):
    """The lower and upper edge of the one band on ``ax``, at each x (the band must be one polygon)."""
    assert len(ax.collections) == 1, "one band"
    paths = ax.collections[0].get_paths()
    assert len(paths) == 1, "one polygon: a band with a gap (NaN) splits"
    v = paths[0].vertices
    lo, hi = [], []
    for xi in x:
        ys = v[np.isclose(v[:, 0], xi), 1]
        assert ys.size, f"the band skips x = {xi}"
        lo.append(ys.min())
        hi.append(ys.max())
    return np.array(lo), np.array(hi)


@settings(max_examples=15, deadline=None, derandomize=True)
@given(runs=st.integers(2, 25), points=st.integers(2, 9), nan_share=st.sampled_from([0.0, 0.1, 0.3]),
       q=st.sampled_from([(0.1, 0.9), (0.25, 0.75), (0.0, 1.0), (0.05, 0.6)]), lines=st.integers(0, 4),
       seed=st.integers(0, 100), color=st.sampled_from(["C0", "C3", "k"]))
def test_plot_band_draws_the_nan_aware_median_and_quantiles_of_the_runs(runs, points, nan_share, q, lines, seed,
                                                                        color):
    """Bugs guarded: the band or the median computed with NaN-unaware quantiles (a band with gaps, a NaN
    median), the mean drawn as the median, the band's quantiles other than ``q`` (min-max, or the default
    whatever ``q`` says), runs along the wrong axis, thin lines of other runs than the first ``lines`` or more of
    them, the label on a thin line instead of the median, the colour ignored. The drawn data are checked against
    numpy on runs with NaNs, skewed so that mean and median differ."""
    rng = np.random.default_rng(seed)
    values = rng.exponential(size=(runs, points)) ** 2 + np.arange(points)
    mask = rng.random(values.shape) < nan_share
    mask[0] = False  # every generation keeps at least one run
    values[mask] = np.nan
    x = np.arange(points) * 2.0 + 1
    fig, ax = plt.subplots()
    plotting.plot_band(ax, x, values, color=color, label="median", q=q, lines=lines)
    lo, hi = band_of(ax, x)
    np.testing.assert_allclose(lo, np.nanquantile(values, q[0], axis=0))
    np.testing.assert_allclose(hi, np.nanquantile(values, q[1], axis=0))
    assert np.allclose(ax.collections[0].get_facecolor()[0][:3], to_rgba(color)[:3])
    *thin, median = ax.get_lines()
    np.testing.assert_allclose(median.get_xdata(), x)
    np.testing.assert_allclose(median.get_ydata(), np.nanmedian(values, axis=0))
    assert median.get_label() == "median" and to_rgba(median.get_color()) == to_rgba(color)
    assert len(thin) == min(lines, runs)
    for j, line in enumerate(thin):
        np.testing.assert_array_equal(line.get_ydata(), values[j])
        assert line.get_linewidth() < median.get_linewidth() and line.get_label().startswith("_")
    plt.close(fig)


@pytest.mark.parametrize("shape", ["1-D", "one row"])
def test_plot_band_of_a_single_run_is_its_line_without_a_band(shape):
    """Bug guarded: a degenerate band drawn for a single run (a zero-width band reads as 'no spread over runs',
    which one run cannot show)."""
    run = np.array([3.0, 1.0, 5.0, 2.0])
    fig, ax = plt.subplots()
    plotting.plot_band(ax, np.arange(4), run if shape == "1-D" else run[None, :], label="one run", lines=3)
    assert len(ax.collections) == 0
    lines = ax.get_lines()
    np.testing.assert_array_equal(lines[-1].get_ydata(), run)
    assert lines[-1].get_label() == "one run" and len(lines) == 2  # one thin line (there is one run) + median
    plt.close(fig)


@pytest.mark.parametrize("q", [(0.5, 0.9), (0.1, 0.5), (-0.1, 0.9), (0.1, 1.1), (0.9, 0.1)])
def test_plot_band_rejects_quantiles_that_do_not_straddle_the_median(q):
    """Bug guarded: a band whose quantiles lie on one side of the median (or outside [0, 1]) accepted."""
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match=r"q must be two quantiles with q\[0\] < 0.5 < q\[1\] in \[0, 1\]"):
        plotting.plot_band(ax, np.arange(3), np.ones((4, 3)), q=q)
    plotting.plot_band(ax, np.arange(3), np.ones((4, 3)), q=(0.0, 1.0))  # the extremes are allowed
    plt.close(fig)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(curve=st.lists(st.floats(-3, 3), max_size=12), level=st.floats(-3, 3))
def test_first_below_is_the_first_index_strictly_below(curve, level):
    """Bugs guarded: touching the level counted as below, the last index found instead of the first, or
    ``None`` confused with index 0."""
    expected = next((i for i, c in enumerate(curve) if c < level), None)
    got = plotting.first_below(np.array(curve, dtype=float), level)
    assert got == expected and (got is None or type(got) is int)


def test_integer_ticks_on_the_generation_axis():
    """Bug guarded: generations labelled 2.5 (fractional ticks on an axis of whole generations)."""
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2, 3], [0, 1, 0, 1])
    plotting.integer_ticks(ax)
    ticks = [t for t in ax.get_xticks() if 0 <= t <= 3]
    assert ticks and all(float(t).is_integer() for t in ticks)
    plt.close(fig)


@pytest.mark.parametrize("colors", [2, 8, 64])
def test_compact_png_uses_at_most_the_colours_asked_for(colors):
    """Bug guarded: ``colors`` ignored (always 256), so that a smaller palette asked for is not honoured."""
    small = plotting.compact_png(figure_png(dpi=60), colors=colors)
    image = Image.open(io.BytesIO(small))
    assert image.mode == "P" and len(image.getcolors(maxcolors=1024)) <= colors


def test_compact_png_keeps_an_image_the_palette_would_not_shrink():
    """Bug guarded: the palette PNG returned even when it is larger than the original (a tiny or already
    optimal image grows)."""
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1), (10, 20, 30)).save(buffer, format="PNG")
    data = buffer.getvalue()
    assert plotting.compact_png(data) == data
    gray = io.BytesIO()
    Image.new("L", (8, 8), 128).save(gray, format="PNG")
    assert plotting.compact_png(gray.getvalue()) == gray.getvalue()


def test_style_sets_the_books_sizes():
    """Bugs guarded: figures drawn at another dpi than the book's (shown at the wrong size), wider than the
    column, or titles below the minimum size."""
    plotting.style()
    rc = matplotlib.rcParams
    assert rc["figure.dpi"] == plotting.DPI and rc["savefig.dpi"] == plotting.DPI
    assert rc["figure.figsize"][0] == plotting.COLUMN_WIDTH
    for key in ("font.size", "axes.titlesize", "axes.labelsize", "xtick.labelsize", "ytick.labelsize",
                "legend.fontsize", "figure.titlesize"):
        assert float(rc[key]) >= plotting.MIN_FONT_PT, key
