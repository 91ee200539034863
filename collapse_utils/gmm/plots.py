"""Plotting helpers of chapter 2 and the function behind its slider."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .. import validate
from .mixture import Mixture, single_blob, two_gaussians

DEFAULT_LIMITS = ((-6.5, 6.5), (-4.5, 4.5))
"""The view of the book's two modes (:func:`two_gaussians`)."""
BLOB_LIMITS = ((-3.5, 3.5), (-3.5, 3.5))
"""The view of the authors' single blob (:func:`single_blob`); their notebook's axes span -3 to 3."""


def density_grid(model: Mixture, xlim: tuple[float, float], ylim: tuple[float, float], points: int = 150):
    """``(X, Y, density)`` of a 2-D mixture on a grid, for contour plots."""
    if model.dim != 2:
        raise ValueError(f"density_grid needs a 2-D mixture, got dimension {model.dim}")
    points = validate.integer("points", points, 2)
    xs, ys = np.linspace(*xlim, points), np.linspace(*ylim, points)
    X, Y = np.meshgrid(xs, ys)
    Z = model.pdf(np.column_stack([X.ravel(), Y.ravel()])).reshape(X.shape)
    return X, Y, Z


def plot_mixture(
    model: Mixture,
    ax=None,
    n_samples: int = 1000,
    seed: int = 0,
    original: Mixture | None = None,
    limits: tuple[tuple[float, float], tuple[float, float]] = DEFAULT_LIMITS,
    levels: Sequence[float] | None = (0.005, 0.02, 0.05, 0.1, 0.2),
    point_size: float = 4.0,
):
    """Samples of a 2-D mixture (coloured by component) with its density contours.

    ``original`` adds the original density's contours (dashed grey) for
    comparison. ``levels`` are absolute density levels (the same in every
    panel); ``None`` picks levels relative to the highest density in view.
    Returns the axis.
    """
    import matplotlib.pyplot as plt

    n_samples = validate.integer("n_samples", n_samples, 0)
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3))
    (x0, x1), (y0, y1) = limits
    X, Y, Z = density_grid(model, (x0, x1), (y0, y1))
    levels = list(levels) if levels is not None else list(Z.max() * np.array([0.05, 0.2, 0.5, 0.8]))
    if original is not None:
        ax.contour(
            *density_grid(original, (x0, x1), (y0, y1)),
            levels=levels,
            colors="0.55",
            linestyles="--",
            linewidths=0.8,
        )
    if n_samples:
        x = model.sample(n_samples, np.random.default_rng(seed))
        ax.scatter(
            x[:, 0],
            x[:, 1],
            c=model.predict(x),
            cmap="viridis",
            vmin=0,
            vmax=max(model.n_components - 1, 1),
            s=point_size,
            alpha=0.6,
            lw=0,
        )
    ax.contour(X, Y, Z, levels=levels, cmap="plasma", linewidths=1.0)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    return ax


def zoom_limits(
    model: Mixture, scale: float = 4.0, min_weight: float = 0.01
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Square limits holding every component of weight ``>= min_weight``, ``scale`` sd wide."""
    scale = validate.real("scale", scale, 0.0, low_open=True)
    min_weight = validate.probability("min_weight", min_weight)
    keep = model.weights >= min(min_weight, model.weights.max())
    sd = np.sqrt(np.linalg.eigvalsh(model.covariances[keep]).max(axis=1))
    lo = (model.means[keep] - scale * sd[:, None]).min(axis=0)
    hi = (model.means[keep] + scale * sd[:, None]).max(axis=0)
    center, half = (lo + hi) / 2, (hi - lo).max() / 2
    return (center[0] - half, center[0] + half), (center[1] - half, center[1] + half)


def plot_final_generation(
    n: int = 1000,
    generations: int = 200,
    retention: float = 0.0,
    approach: int = 1,
    n_components: int = 2,
    seed: int = 0,
    ax=None,
    title: bool = True,
    time_budget: float | None = None,
) -> Mixture:
    """Run one recursion and draw its last generation's samples and density over the original's contours.

    The function behind chapter 2's slider (samples per generation,
    generations, retention, schedule, seed). It runs **one** run (the title
    says so) by batched EM, measuring only generations 0 and the last.
    ``time_budget`` (seconds) stops the run early where a position would take
    longer (small ``n`` needs many EM iterations per generation); the title
    then says which generation is shown. Returns the last generation's mixture.
    """
    from .recursion import schedule_name, simulate

    run = simulate(
        n=n,
        generations=generations,
        runs=1,
        n_components=n_components,
        approach=approach,
        retention=retention,
        seed=seed,
        measure_at=[],
        time_budget=time_budget,
    )
    model = run.last.run(0)
    ax = plot_mixture(model, ax=ax, n_samples=min(n, 2000), seed=seed, original=two_gaussians())
    if title:
        ax.set_title(
            f"one run, generation {run.generations} (n = {n}, {schedule_name(approach, retention)})\n"
            + (
                f"stopped at the {time_budget:g} s time budget, {generations} requested\n"
                if run.stopped_early
                else ""
            )
            + f"total variance {run.metrics['total_var'][0, -1]:.2f} "
            + f"(gen 0: {run.metrics['total_var'][0, 0]:.2f}), "
            f"$L_2^2$ to gen 0: {run.metrics['l2_sq'][0, -1]:.3f}",
            fontsize=9,
        )
    return model


def plot_measures(run, panels: Sequence[tuple[str, str, str, float | None, str]], suptitle: str | None = None,
                  lines: int = 12):
    """A 2-column grid of measures over generations: median, 10-90% band and a few single runs each.

    ``panels`` are ``(metric, y label, y scale, reference line or None, title)``; the tail
    mass is shown relative to the run's tail level (``run.tail_alpha``). Returns the figure.
    """
    import matplotlib.pyplot as plt

    from ..plotting import COLUMN_WIDTH, plot_band

    if not panels:
        raise ValueError("panels must name at least one measure")
    unknown = [p[0] for p in panels if p[0] not in run.metrics]
    if unknown:
        raise ValueError(f"panels name measures that the run did not record: {unknown}")
    rows = -(-len(panels) // 2)
    fig, axes = plt.subplots(rows, 2, figsize=(COLUMN_WIDTH, 2.3 * rows), squeeze=False)
    for ax, (name, label, scale, reference, title) in zip(axes.ravel(), panels):
        values = run.metrics[name] / (run.tail_alpha if name == "tail_mass" else 1.0)
        plot_band(ax, run.generation, values, lines=min(run.runs, lines))
        ax.set(xlabel="generation", ylabel=label, yscale=scale, title=title)
        if scale == "symlog":
            ax.set_yscale("symlog", linthresh=10 if "loglik" in name else 1)
        if reference is not None:
            ax.axhline(reference, color="k", ls=":", lw=1)
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def _row_height(width: float, limits=((0.0, 1.0), (0.0, 1.0))) -> float:
    """Height (inches) of a row of square-scaled panels ``width`` wide showing ``limits``, title included."""
    (x0, x1), (y0, y1) = limits
    return width * (y1 - y0) / (x1 - x0) + 0.5


def _snapshot_panel(ax, model: Mixture, original: Mixture | None, n_samples: int, seed: int, limits,
                    title: str):
    """One panel of a snapshot figure: samples, density, the original's contours and the means (crosses)."""
    plot_mixture(model, ax=ax, n_samples=n_samples, seed=seed, original=original, limits=limits, point_size=2)
    if original is not None:  # a fitted generation: mark the components' means, sized by weight
        ax.scatter(model.means[:, 0], model.means[:, 1], marker="x", color="k", s=20 + 40 * model.weights,
                   lw=1)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])


def snapshot_generations(run, r: int = 0, generations: Sequence[int] | None = None) -> list[int]:
    """The generations of run ``r`` to draw: ``generations`` that were kept (default: every kept one)."""
    kept = sorted(run.snapshots[r])
    if generations is None:
        return kept
    missing = [g for g in generations if g not in run.snapshots[r]]
    if missing:
        raise ValueError(f"generations {missing} were not kept as snapshots of run {r}; kept: {kept}")
    return list(generations)


def magnified_components(model: Mixture, min_weight: float = 0.01) -> list[int]:
    """Components worth a magnified panel: weight at least ``min_weight``, heaviest first."""
    order = np.argsort(-model.weights, kind="stable")
    return [int(k) for k in order if model.weights[k] >= min(min_weight, model.weights.max())]


def plot_figure7(run, r: int = 0, generations: Sequence[int] | None = None, n_samples: int | None = None,
                 seed: int = 0, limits=DEFAULT_LIMITS, magnify: bool = True, columns: int = 4):
    """One run's mixtures at several generations, as in the paper's Figure 7, with the last one magnified.

    The first panel is the original distribution (its samples and density);
    each next one a generation's fitted mixture: ``n_samples`` of its samples
    (default: the run's ``n``) coloured by their most probable component, its
    density contours, the original's contours dashed and the components'
    means as crosses (larger for heavier components). With ``magnify``, a
    last row zooms on each component of the last generation shown (weight at
    least 1%), each at its own scale: a collapsed component is far too small
    to see at the scale of the original, so these panels say how small it is
    (the title gives the magnification). Returns the figure.
    """
    import matplotlib.pyplot as plt

    from ..plotting import COLUMN_WIDTH

    r = validate.integer("r", r, 0, run.runs - 1)
    columns = validate.integer("columns", columns, 1)
    gens = snapshot_generations(run, r, generations)
    if not gens:
        raise ValueError(f"run {r} kept no snapshot to draw")
    n_samples = run.n if n_samples is None else validate.integer("n_samples", n_samples, 0)
    last = run.snapshots[r][gens[-1]]
    zoom = magnified_components(last)[:columns] if magnify else []
    grid_rows = -(-(len(gens) + 1) // columns)
    rows = grid_rows + (1 if zoom else 0)
    (x0, x1), (y0, y1) = limits
    width = COLUMN_WIDTH / columns
    height = _row_height(width, limits) * grid_rows + (_row_height(width) if zoom else 0)
    ratios = [_row_height(width, limits)] * grid_rows + ([_row_height(width)] if zoom else [])
    fig, axes = plt.subplots(rows, columns, figsize=(COLUMN_WIDTH, height + 0.1), squeeze=False,
                             gridspec_kw=dict(height_ratios=ratios))
    flat = list(axes.ravel())
    _snapshot_panel(flat[0], run.original, None, n_samples, seed, limits, "original")
    for ax, t in zip(flat[1:], gens):
        _snapshot_panel(ax, run.snapshots[r][t], run.original, n_samples, seed + t, limits, f"generation {t}")
    used = len(gens) + 1
    if zoom:
        used = (rows - 1) * columns
        for ax, k in zip(axes[-1], zoom):
            one = Mixture(np.ones(1), last.means[k : k + 1], last.covariances[k : k + 1])
            lim = zoom_limits(one)
            factor = (x1 - x0) / (lim[0][1] - lim[0][0])
            plot_mixture(last, ax=ax, n_samples=n_samples, seed=seed + gens[-1], limits=lim, levels=None,
                         point_size=2)
            ax.set_title(f"gen. {gens[-1]}, x{factor:,.0f}\nweight {last.weights[k]:.2f}", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
        for ax in axes[-1][len(zoom):]:
            ax.set_visible(False)
    for ax in flat[len(gens) + 1 : (rows - (1 if zoom else 0)) * columns]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def plot_setups(rows: Sequence[tuple[str, object, tuple]], generations: Sequence[int], r: int = 0,
                n_samples: int | None = None, seed: int = 0):
    """One row per setup ``(label, run, limits)``: its original, then run ``r`` at each of ``generations``.

    The chapter's key figure: the same generations of the book's two modes and
    the authors' single blob side by side. The label heads each row's first
    panel. Returns the figure.
    """
    import matplotlib.pyplot as plt

    from ..plotting import COLUMN_WIDTH

    if not rows:
        raise ValueError("rows must name at least one (label, run, limits) setup")
    cols = len(generations) + 1
    height = sum(_row_height(COLUMN_WIDTH / cols, limits) for _, _, limits in rows)
    ratios = [_row_height(COLUMN_WIDTH / cols, limits) for _, _, limits in rows]
    fig, axes = plt.subplots(len(rows), cols, figsize=(COLUMN_WIDTH, height + 0.1), squeeze=False,
                             gridspec_kw=dict(height_ratios=ratios))
    for i, (label, run, limits) in enumerate(rows):
        gens = snapshot_generations(run, r, generations)
        n = run.n if n_samples is None else n_samples
        _snapshot_panel(axes[i, 0], run.original, None, n, seed, limits, label)
        for ax, t in zip(axes[i, 1:], gens):
            _snapshot_panel(ax, run.snapshots[r][t], run.original, n, seed + t, limits, f"generation {t}")
    fig.tight_layout()
    return fig
