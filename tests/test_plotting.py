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


def test_compact_png_rejects_bad_input():
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="JPEG")
    with pytest.raises(ValueError, match="PNG"):
        plotting.compact_png(buffer.getvalue())
    with pytest.raises(ValueError, match="colors"):
        plotting.compact_png(figure_png(dpi=50), colors=1)


def test_style_asks_a_notebook_for_2x_figures(monkeypatch):
    """Bug guarded: the book's figures drawn at 1x (blurry on high-density screens), or a plain script breaking."""
    import IPython
    import matplotlib_inline.backend_inline as inline

    calls = []
    monkeypatch.setattr(inline, "set_matplotlib_formats", lambda *formats: calls.append(formats))
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
    assert calls == [("retina",)]
    assert plotting.PIXEL_DENSITY == 2, "the retina format draws at twice the dpi"
    assert matplotlib.rcParams["savefig.dpi"] == plotting.DPI
