"""The figures of chapter 3 (each at most :data:`collapse_utils.plotting.COLUMN_WIDTH` wide).

Bands are :func:`collapse_utils.plotting.plot_band` (runs along axis 0, the
median and a 10-90% quantile band).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .. import validate
from ..plotting import COLUMN_WIDTH, integer_ticks, plot_band
from .data import tile_images
from .judge import METRICS, N_CLASSES
from .recursion import VAERun, stack


def plot_images(images: np.ndarray, ax=None, ncols: int | None = None, title: str | None = None):
    """Show a stack of images as one grey mosaic (white background, dark strokes)."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    ax.imshow(tile_images(images, ncols=ncols, fill=0.0), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title)
    return ax


def plot_sample_grids(
    run: VAERun,
    generations: Sequence[int],
    real: np.ndarray | None = None,
    n: int = 36,
    ncols: int = 4,
    width: float = COLUMN_WIDTH,
):
    """The paper's Figure 9: random samples (decoder means) of several generations.

    Every panel decodes the same fixed latents; as each generation is a VAE
    trained from scratch, its latent space has nothing to do with the previous
    one's, so the panels are simply random samples. With ``real`` images, a
    first panel shows ``n`` of them. Panels wrap into rows of ``ncols``; the
    figure is ``width`` inches wide (at most the column width). Returns the figure.
    """
    import matplotlib.pyplot as plt

    gens = validate.integer_list("generations", generations, 0, run.generations)
    n = validate.integer("n", n, 1)
    ncols = validate.integer("ncols", ncols, 1)
    width = validate.real("width", width, 1.0, COLUMN_WIDTH)
    panels = ([("real images", real[:n])] if real is not None else []) + [
        (f"generation {g}", run.grid[g, :n]) for g in gens
    ]
    ncols = min(ncols, len(panels))
    nrows = int(np.ceil(len(panels) / ncols))
    panel = width / ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, (panel + 0.45) * nrows + 0.6), squeeze=False)
    for ax, (title, images) in zip(axes.flat, panels):
        plot_images(images, ax=ax, title=title)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    return fig


def plot_class_heatmap(run: VAERun, ax=None, colorbar: bool = True):
    """Share of samples per digit (rows) and generation (columns) as a heat map."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    im = ax.imshow(
        run.class_hist.T * 100,
        aspect="auto",
        origin="lower",
        cmap="magma",
        vmin=0,
        vmax=max(30.0, float(run.class_hist.max() * 100)),
        interpolation="nearest",
    )
    ax.set(xlabel="generation", ylabel="digit (classifier's label)", yticks=range(N_CLASSES))
    integer_ticks(ax)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label="% of samples")
    return ax


def plot_metrics(
    groups: Mapping[str, Sequence[VAERun]],
    real: Mapping[str, float] | None = None,
    axes=None,
    metrics: Sequence[str] = ("entropy", "confidence", "frechet", "feature_var"),
    ncols: int = 2,
):
    """One panel per measure; per group of runs, the median over runs and its 10-90% band.

    ``real`` holds the measures of real images (dashed reference lines). The
    panels are laid out ``ncols`` to a row, in a figure of the column width.
    Returns the axes (flat).
    """
    import matplotlib.pyplot as plt

    for m in metrics:
        if m not in METRICS:
            raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {m!r}")
    if not groups:
        raise ValueError("groups must hold at least one group of runs, got none")
    if axes is None:
        ncols = validate.integer("ncols", ncols, 1)
        nrows = int(np.ceil(len(metrics) / ncols))
        fig, axes = plt.subplots(nrows, ncols, figsize=(COLUMN_WIDTH, 2.7 * nrows + 0.6), squeeze=False)
        for ax in list(axes.flat)[len(metrics) :]:
            ax.set_visible(False)
    axes = np.ravel(axes)[: len(metrics)]
    for i, (label, runs) in enumerate(groups.items()):
        runs = list(runs)
        n = f" ({len(runs)} runs)" if len(runs) > 1 else ""
        for ax, m in zip(axes, metrics):
            plot_band(ax, runs[0].generation, stack(runs, m), f"C{i}", f"{label}{n}")
    for ax, m in zip(axes, metrics):
        if real is not None and m in real:
            ax.axhline(real[m], color="k", ls="--", lw=1, label="real images")
        ax.set(xlabel="generation", title=METRICS[m])
        integer_ticks(ax)
    if "frechet" in metrics:
        axes[list(metrics).index("frechet")].set_yscale("log")
    axes[0].legend()
    return axes


def plot_generation(
    runs: Mapping[float, VAERun],
    retention: float,
    generation: int,
    show: str = "samples",
    ax=None,
):
    """The slider's view: generation ``generation`` of the stored run with ``retention``.

    ``show="samples"`` draws the decoded fixed latents (as in
    :func:`plot_sample_grids`); ``show="classes"`` draws the class histogram
    of that generation's samples, over the histogram of generation 0 (grey).
    Nothing is trained: the runs were computed beforehand.
    """
    import matplotlib.pyplot as plt

    show = validate.choice("show", show, ("samples", "classes"))
    retention = validate.probability("retention", retention)
    key = next((r for r in runs if np.isclose(r, retention)), None)
    if key is None:
        raise ValueError(f"retention must be one of the stored runs' {sorted(runs)}, got {retention!r}")
    run = runs[key]
    g = validate.integer("generation", generation, 0, run.generations)
    ax = ax or plt.gca()
    if show == "samples":
        plot_images(run.grid[g, :36], ax=ax)
        ax.set_xlabel(f"entropy {run.entropy[g]:.2f} bits\nconfidence {run.confidence[g]:.2f}")
    else:
        digits = np.arange(N_CLASSES)
        ax.bar(digits, run.class_hist[0] * 100, color="0.8", width=0.85, label="generation 0")
        ax.bar(digits, run.class_hist[g] * 100, color="C0", width=0.5, label=f"generation {g}")
        ax.set(xticks=digits, xlabel="digit (classifier's label)", ylabel="% of samples")
        ax.legend(loc="best")
    ax.set_title(f"retention {key:g}, generation {g}")
    return ax


def plot_latent_density(run: VAERun, generations: Sequence[int], ax=None, limit: float = 3.0):
    """The authors' latent measure: the density of generation 0's encoder means over each generation's samples.

    For every generation in ``generations``, a Gaussian kernel density
    estimate (:class:`scipy.stats.gaussian_kde`) of ``run.origin_latents[g]``,
    all latent dimensions pooled as in ``VAE_experiments.ipynb``, on
    ``[-limit, limit]`` (the authors plot ``[-3, 3]``). The density axis is
    logarithmic, from 0.001 to 100, so that the tails stay visible beside a
    narrow peak (codes that stopped varying make spikes of any height). A
    generation whose codes are all equal is drawn as a vertical line.
    """
    import matplotlib.pyplot as plt
    from scipy import stats

    if run.origin_latents is None:
        raise ValueError("run must record origin_latents (run the recursion with this package's meter)")
    gens = validate.integer_list("generations", generations, 0, run.generations)
    limit = validate.real("limit", limit, 0.0, low_open=True)
    ax = ax or plt.gca()
    grid = np.linspace(-limit, limit, 401)
    colours = plt.cm.viridis(np.linspace(0, 0.9, max(len(gens), 2)))
    for colour, g in zip(colours, gens):
        values = run.origin_latents[g].ravel().astype(float)
        if values.std() < 1e-6:
            ax.axvline(values.mean(), color=colour, label=f"generation {g}")
            continue
        ax.plot(grid, stats.gaussian_kde(values)(grid), color=colour, label=f"generation {g}")
    ax.set_yscale("log")
    ax.set_ylim(1e-3, 1e2)  # codes that no longer vary make spikes of any height: the tails are the point
    ax.set(xlabel="mean of generation 0's encoder (all dimensions)", ylabel="density", xlim=(-limit, limit))
    ax.legend(loc="upper right", fontsize="small")
    return ax


def plot_overview(
    rows: Mapping[str, VAERun],
    generations: Sequence[int],
    groups: Mapping[str, Sequence[VAERun]],
    metric: str = "feature_var",
    real: float | None = None,
    n: int = 16,
):
    """The chapter's key figure: samples of a few generations for each protocol, and ``metric`` over generations.

    One row of sample panels per entry of ``rows`` (a label and one run; the
    panels decode the run's fixed latents, ``n`` of them, at ``generations``),
    then one panel with the median and 10-90% band of ``metric`` for each group
    of ``groups`` (``real``: the real images' value, dashed). Returns the figure.
    """
    import matplotlib.pyplot as plt

    if not rows or not groups:
        raise ValueError("rows and groups must each hold at least one entry")
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    last = min(r.generations for r in rows.values())
    gens = validate.integer_list("generations", generations, 0, last)
    n = validate.integer("n", n, 1)
    cols = len(gens)
    panel = min(1.25, (COLUMN_WIDTH - 1.0) / cols)
    fig = plt.figure(figsize=(COLUMN_WIDTH, len(rows) * (panel + 0.35) + 2.6))
    grid = fig.add_gridspec(len(rows) + 1, cols, height_ratios=[panel + 0.35] * len(rows) + [2.4])
    for i, (label, run) in enumerate(rows.items()):
        for j, g in enumerate(gens):
            ax = fig.add_subplot(grid[i, j])
            plot_images(run.grid[g, :n], ax=ax, title=f"generation {g}" if i == 0 else None)
            if j == 0:
                ax.set_ylabel(label)
    ax = fig.add_subplot(grid[len(rows), :])
    for i, (label, runs) in enumerate(groups.items()):
        runs = list(runs)
        plot_band(ax, runs[0].generation, stack(runs, metric), f"C{i}", f"{label} ({len(runs)} runs)")
    if real is not None:
        ax.axhline(real, color="k", ls="--", lw=1, label="real images")
    ax.set(xlabel="generation", ylabel=METRICS[metric])
    integer_ticks(ax)
    ax.legend(fontsize="small")
    return fig
