"""One figure style and the shared plotting pieces of every chapter.

* :func:`style` sets the book's matplotlib style (called once per chapter):
  figures drawn at :data:`DPI` with text no smaller than :data:`MIN_FONT_PT`,
  sized for the text column (:data:`COLUMN_WIDTH` inches), so that a figure is
  shown at (nearly) its natural size and its smallest text stays legible.
* :func:`plot_band` is the one band plot of the book: runs along **axis 0**,
  the median as a line and a quantile band (10-90% by default) around it.
* :func:`first_below` is the first generation at which a curve falls below a level.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

#: Width of the book's text column in inches at :data:`DPI` (about 700 px).
COLUMN_WIDTH = 7.0
#: Resolution at which figures are drawn.
DPI = 100
#: Smallest font size used in figures (points).
MIN_FONT_PT = 9


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
