"""One figure style and the shared plotting pieces of every chapter.

* :func:`style` sets the book's matplotlib style (called once per chapter):
  figures drawn at :data:`DPI` with text no smaller than :data:`MIN_FONT_PT`,
  sized for the text column (:data:`COLUMN_WIDTH` inches), so that a figure is
  shown at (nearly) its natural size and its smallest text stays legible; in a
  notebook (and so in the book) figures are PNGs with :data:`PIXEL_DENSITY` pixels
  per CSS pixel, sharp on high-density screens, shown at the same size as before.
* :func:`plot_band` is the one band plot of the book: runs along **axis 0**,
  the median as a line and a quantile band (10-90% by default) around it.
* :func:`first_below` is the first generation at which a curve falls below a level.
* :func:`compact_png` stores a figure's PNG in a palette of at most 256 colours (about a
  third of the bytes, no visible change for plots): the book's 2x figures go through it;
  :func:`figure_png` makes the same palette PNG straight from a figure's drawn pixels (the
  live frames).
"""

from __future__ import annotations

import io
from typing import Sequence

import numpy as np

#: Width of the book's text column in inches at :data:`DPI` (about 700 px).
COLUMN_WIDTH = 7.0
#: Resolution at which figures are drawn.
DPI = 100
#: Smallest font size used in figures (points).
MIN_FONT_PT = 9
#: Image pixels per CSS pixel of the book's figures (2: sharp on high-density screens). The
#: figure keeps its size on the page (``COLUMN_WIDTH * DPI`` CSS pixels wide).
PIXEL_DENSITY = 2


def style() -> None:
    """Apply the book's figure style to matplotlib's global settings."""
    import matplotlib as mpl

    mpl.rcParams.update(
        {
            "figure.dpi": DPI,
            "savefig.dpi": DPI,
            "figure.figsize": (COLUMN_WIDTH, COLUMN_WIDTH * 0.55),
            "font.size": 10,
            "axes.titlesize": 10,
            "axes.labelsize": 10,
            "xtick.labelsize": MIN_FONT_PT,
            "ytick.labelsize": MIN_FONT_PT,
            "legend.fontsize": MIN_FONT_PT,
            "figure.titlesize": 11,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    _sharp_inline_figures()


def _sharp_inline_figures() -> None:
    """In IPython (a notebook, the book build), show figures as 2x PNGs at their 1x size.

    The inline backend's ``retina`` format draws at ``PIXEL_DENSITY`` times the
    figure's dpi and records the 1x width and height in the output's metadata, which
    Jupyter, Colab and the book (myst-nb) use as the displayed size.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with the notebook stack
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return  # a plain script or terminal: no inline figures
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    from .profiles import building_book

    # the book stores every figure again as a palette PNG (compact_png, in book/_ext/pages.py): there the figure's
    # own PNG is written with the fastest compression, the same pixels in about a fifth less time per figure
    set_matplotlib_formats("retina", **({"pil_kwargs": {"compress_level": 1}} if building_book() else {}))


def plot_band(
    ax,
    x: np.ndarray,
    values: np.ndarray,
    color: str = "C0",
    label: str | None = None,
    q: tuple[float, float] = (0.1, 0.9),
    lines: int = 0,
    lw: float = 1.8,
) -> None:
    """Median over runs with a quantile band, and optionally a few single runs.

    Parameters
    ----------
    x:
        The x values (usually generations), length ``T``.
    values:
        ``(runs, T)``: one row per run (a 1-D array is one run). NaNs are ignored.
    q:
        Lower and upper quantile of the band (10% and 90% by default). No band is
        drawn for a single run.
    lines:
        How many single runs to draw as thin lines under the band.
    """
    values = np.atleast_2d(np.asarray(values, dtype=float))
    x = np.asarray(x)
    if values.shape[1] != x.shape[0]:
        raise ValueError(f"values must have shape (runs, {x.shape[0]}) with runs along axis 0, got {values.shape}")
    if not (0.0 <= q[0] < 0.5 < q[1] <= 1.0):
        raise ValueError(f"q must be two quantiles with q[0] < 0.5 < q[1] in [0, 1], got {q!r}")
    for j in range(min(lines, values.shape[0])):
        ax.plot(x, values[j], color=color, lw=0.4, alpha=0.35)
    if values.shape[0] > 1:
        lo, hi = np.nanquantile(values, q, axis=0)
        ax.fill_between(x, lo, hi, color=color, alpha=0.2, lw=0)
    ax.plot(x, np.nanmedian(values, axis=0), color=color, lw=lw, label=label)


def first_below(curve: Sequence[float] | np.ndarray, level: float) -> int | None:
    """First index (generation) at which ``curve`` falls below ``level``; ``None`` if it never does."""
    hit = np.flatnonzero(np.asarray(curve) < level)
    return int(hit[0]) if hit.size else None


def integer_ticks(ax) -> None:
    """Whole numbers only on the x axis (generations)."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def compact_png(data: bytes, colors: int = 256) -> bytes:
    """The same image as a palette PNG of at most ``colors`` colours, when that is smaller.

    Plots hold a few colours and their anti-aliased edges, so a palette (median cut,
    no dithering) keeps them visibly unchanged at about a third of the bytes of
    matplotlib's RGBA PNG. The size in pixels is kept; an opaque image loses its
    alpha channel (it carries nothing), a transparent one keeps it. Returns ``data``
    unchanged when it is already a palette image or the palette PNG is not smaller.
    """
    from PIL import Image

    from . import validate

    colors = validate.integer("colors", colors, 2, 256)
    image = Image.open(io.BytesIO(data))
    if image.format != "PNG":
        raise ValueError(f"data must be a PNG image, got {image.format}")
    if image.mode in ("P", "1", "L"):
        return data
    out = _palette_png(image.convert("RGBA"), colors)
    return out if len(out) < len(data) else data


def _palette_png(rgba, colors: int) -> bytes:
    """An RGBA PIL image as a palette PNG of at most ``colors`` colours (median cut when opaque), optimised."""
    from PIL import Image

    if rgba.getchannel("A").getextrema()[0] == 255:
        palette = rgba.convert("RGB").quantize(colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    else:
        palette = rgba.quantize(colors, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()


def figure_png(fig, dpi: float, colors: int = 256) -> bytes:
    """A matplotlib figure (Agg) drawn at ``dpi``, as :func:`compact_png` would store its ``savefig`` PNG.

    The palette is made from the canvas' own pixels, the same pixels ``savefig``
    writes (no ``bbox_inches``, no transparency): without the RGBA PNG that
    ``savefig`` would encode and :func:`compact_png` decode again, a live frame
    takes about two thirds of the time. Unlike :func:`compact_png` this always
    returns the palette image (a plot's is about a third of the RGBA PNG's
    bytes). The figure's dpi is left as it was.
    """
    from . import validate

    colors = validate.integer("colors", colors, 2, 256)  # before any drawing
    return _palette_png(figure_pixels(fig, dpi), colors)


def figure_pixels(fig, dpi: float):
    """A matplotlib figure drawn at ``dpi``: its pixels as an RGBA PIL image (what ``savefig`` would write).

    The Agg canvas' own pixels (a canvas without pixels goes through ``savefig``);
    the figure's dpi is left as it was. :func:`palette_png` stores them.
    """
    from PIL import Image

    from . import validate

    validate.real("dpi", dpi, 0.0, low_open=True)
    if not hasattr(fig.canvas, "buffer_rgba"):  # not an Agg canvas: through savefig
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi)
        return Image.open(buffer).convert("RGBA")
    old = fig.dpi
    try:
        fig.set_dpi(dpi)
        fig.canvas.draw()
        return Image.fromarray(np.array(fig.canvas.buffer_rgba()), "RGBA")
    finally:
        fig.set_dpi(old)


def palette_png(rgba, colors: int = 256) -> bytes:
    """An RGBA PIL image (:func:`figure_pixels`) as the palette PNG :func:`compact_png` would store.

    Pillow does this work without holding Python's lock, so a thread can encode
    one figure while the next is drawn (the book's live frames, :mod:`.live`).
    """
    from . import validate

    return _palette_png(rgba, validate.integer("colors", colors, 2, 256))
