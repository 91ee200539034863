"""The chapter's figures: strategies over generations, phase diagrams, the Gaussian's exact theory, the slider.

Every function draws on the axis it is given (a new figure when ``ax`` is
``None``) and returns it. Distances are shown as ratios to generation 0's
(:class:`.results.FamilyResult`), on a logarithmic axis; the band is a dashed line.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import validate
from .results import BAND, FamilyResult, check_band, check_results
from .strategies import FAMILIES, FAMILY_NAMES, SHARED, STRATEGIES, check_share
from .theory import GERSTGRASSER_FACTOR, bertrand_share, exact_boundary, mean_error

#: One colour per strategy, the same in every figure.
COLORS: dict[str, str] = {
    "replace": "C3",
    "accumulate": "C2",
    "accumulate-subsample": "C1",
    "fresh": "C0",
    "fixed": "C4",
    "select": "C5",
}


def _axis(ax, size=(6.0, 3.2)):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=size)
    return ax


#: Ratios above this run off the top of the figures (a collapsing mixture's L2 distance can reach 10^8);
#: the figure says which, and by how much.
TOP = 1e4


def _off_scale(ax, items: list[tuple[str, float]]) -> None:
    """Say which values run off the top of a figure (at :data:`TOP`), with their values."""
    from ..prose import number

    over = [f"{name}: {number(v, 0)}" for name, v in items if v > TOP]
    if over:
        ax.text(0.01, 0.98, "off the scale (▲): " + "; ".join(over), transform=ax.transAxes, ha="left", va="top",
                fontsize=9, color="0.25")  # fmt: skip


def _plain_log(ax, axis: str = "y") -> None:
    """A logarithmic axis labelled 0.5, 1, 2, 5, 10, ... instead of powers of ten."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.10g}"))
    target.set_minor_formatter(NullFormatter())


def _band_line(ax, band: float) -> None:
    ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
    ax.axhline(band, color="k", lw=1.0, ls="--", label=f"band: {band:g} × generation 0")


def plot_strategies(result: FamilyResult, ax=None, band: float = BAND, legend: bool = True):
    """Every compared strategy's ratio to generation 0 over generations: median and 10-90% of runs."""
    from ..plotting import plot_band

    if not isinstance(result, FamilyResult):
        raise ValueError(f"result must be a FamilyResult, got {type(result).__name__}")
    band = check_band(band)
    ax = _axis(ax)
    x = result.generation
    over = []
    for s in result.compared():
        plot_band(ax, x, np.minimum(result.ratio(s), 10 * TOP), color=COLORS[s.name], label=s.label)
        over.append((s.label, float(np.max(result.median(s)))))
    _band_line(ax, band)
    ax.set_yscale("log")
    _plain_log(ax)
    low = min(0.3, float(min(np.quantile(result.ratio(s), 0.1, axis=0).min() for s in result.compared())))
    high = max(3 * band, min(TOP, 2 * max(v for _, v in over)))
    ax.set_ylim(max(low, 1e-2), high)
    _off_scale(ax, [(name, v) for name, v in over])
    ax.set(xlabel="generation", ylabel="distance ÷ generation 0's", xlim=(0, result.generations),
           title=f"{result.name}: {result.measure}")  # fmt: skip
    if result.generations <= 10:
        ax.set_xticks(x)
    if legend:
        ax.legend(fontsize=9, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.22), frameon=False)
    return ax


def _edges(values: np.ndarray) -> np.ndarray:
    """Cell edges around sorted centres (half-way between neighbours, the ends mirrored)."""
    v = np.asarray(values, dtype=float)
    if v.size == 1:
        return np.array([v[0] - 0.5, v[0] + 0.5])
    mid = (v[1:] + v[:-1]) / 2
    return np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])


def left_band(result: FamilyResult, kind: str, band: float = BAND) -> np.ndarray:
    """Per share of the grid, the first generation at which the (smoothed) median ratio exceeds ``band`` (NaN: never)."""
    band = check_band(band)
    out = np.full(len(result.shares), np.nan)
    for i, s in enumerate(result.shares):
        over = np.flatnonzero(result.smoothed(result.get(kind, s)) > band)
        if over.size:
            out[i] = over[0]
    return out


def plot_phase(result: FamilyResult, kind: str, ax=None, band: float = BAND, colorbar: bool = True,
               vmax: float | None = None):  # fmt: skip
    """Phase diagram: share of real data (x) against generation (y), coloured by the median ratio to generation 0.

    Drawn over it: where the run left the band (white steps), and where theory
    puts the boundary: for the Gaussian, the exact generation at which the
    fitted mean's expected squared error leaves the band (black dashes); for
    families that contain the truth (Gaussian, Gaussian mixture), Bertrand et
    al.'s sufficient share (dotted).
    """
    import matplotlib.colors as mcolors

    kind = validate.choice("kind", kind, SHARED)
    band = check_band(band)
    ax = _axis(ax, (3.4, 3.0))
    phase = result.phase(kind)  # (shares, generations + 1)
    shares = np.asarray(result.shares)
    top = float(vmax) if vmax is not None else max(band * 1.5, float(np.nanmax(phase)))
    norm = mcolors.LogNorm(vmin=min(0.5, float(np.nanmin(phase))), vmax=max(top, 1.01))
    mesh = ax.pcolormesh(_edges(shares), _edges(result.generation), np.clip(phase.T, norm.vmin, norm.vmax),
                         norm=norm, cmap="magma_r", shading="flat")  # fmt: skip
    steps = left_band(result, kind, band)
    y = np.where(np.isnan(steps), result.generations + 0.5, steps - 0.5)
    ax.step(shares, y, where="mid", color="w", lw=2.0, label="this run leaves the band")
    if result.family == "gaussian":
        exact = exact_boundary(int(result.extra["n"]), result.generations, kind, shares, band)
        ye = np.where(np.isnan(exact), result.generations + 0.5, exact - 0.5)
        ax.step(shares, ye, where="mid", color="k", lw=1.4, ls="--", label="exact: mean's error leaves it")
    if result.family in ("gaussian", "gmm"):
        ax.axvline(bertrand_share(0.0), color="0.2", lw=1.2, ls=":", label="Bertrand et al.: stable above")
    ax.set(xlabel=f"share of {kind} real data", ylabel="generation", xlim=(_edges(shares)[0], _edges(shares)[-1]),
           ylim=(-0.5, result.generations + 0.5), title=f"{result.name}, {kind} real data")  # fmt: skip
    if result.generations <= 10:
        ax.set_yticks(result.generation)
    if len(shares) <= 6:
        ax.set_xticks(shares, [f"{s:g}" for s in shares])
    if phase.size <= 60:  # few cells: write each cell's value
        for i, s in enumerate(shares):
            for g in result.generation:
                value = phase[i, g]
                dark = norm(value) > 0.55
                ax.text(s, g, f"{value:.2f}", ha="center", va="center", fontsize=9, color="w" if dark else "k")
    if colorbar:
        bar = ax.figure.colorbar(mesh, ax=ax, pad=0.02)
        bar.set_label("distance ÷ generation 0's")
        _plain_log(bar.ax)
    return ax


def plot_gaussian_theory(result: FamilyResult, ax=None):
    """The Gaussian's exact theory beside its runs: the fitted mean's squared error, relative to generation 0.

    Lines: the exact ``E[mu_t^2] / E[mu_0^2]`` (:func:`.theory.mean_error`); dots with
    two standard errors: the simulated mean over runs, for replace, accumulate and
    fresh and fixed real data at the compared share; the dotted line is
    Gerstgrasser et al.'s pi^2/6.
    """
    if not isinstance(result, FamilyResult) or result.family != "gaussian":
        raise ValueError("result must be the Gaussian's FamilyResult")
    ax = _axis(ax)
    n, G = int(result.extra["n"]), result.generations
    shown = np.unique(np.r_[np.geomspace(1, G + 1, 25).astype(int) - 1, G])
    for s in (result.get("replace"), result.get("accumulate"), result.get("fresh", result.compare_share),
              result.get("fixed", result.compare_share)):  # fmt: skip
        V, _ = mean_error(n, G, s.name, s.share)
        mean, se = result.extra["mean_sq"][s]
        ax.plot(result.generation + 1, V / V[0], color=COLORS[s.name], lw=1.3, label=s.label)
        ax.errorbar(shown + 1, mean[shown] / V[0], yerr=2 * se[shown] / V[0], fmt="o", ms=3, color=COLORS[s.name],
                    lw=0.8)  # fmt: skip
    ax.axhline(GERSTGRASSER_FACTOR, color="k", lw=1, ls=":", label="π²/6 (Gerstgrasser et al.)")
    ax.set(xscale="log", yscale="log", xlabel="generation + 1", ylabel=r"$E[\mu_t^2]$ ÷ generation 0's",
           title=f"fitted mean's error: exact (lines) and {result.extra['runs']} runs (dots)")  # fmt: skip
    _plain_log(ax)
    _plain_log(ax, "x")
    ax.legend(fontsize=9)
    return ax


def plot_overview(results: Sequence[FamilyResult], ax=None, band: float = BAND):
    """The chapter in one figure: every family's distance after its last generation under every strategy.

    One column per family, one marker per strategy (fresh and fixed real data at
    the compared share): the median over runs of the ratio to generation 0, with
    the band.
    """
    items = {r.family: r for r in check_results(results)}
    band = check_band(band)
    ax = _axis(ax, (7.0, 3.6))
    names = [f for f in FAMILIES if f in items]
    width = 0.7
    over = []
    for i, family in enumerate(names):
        r = items[family]
        compared = r.compared()
        for j, s in enumerate(compared):
            x = i - width / 2 + width * (j + 0.5) / len(compared)
            value = r.final(s)
            ax.plot(x, min(value, TOP), "^" if value > TOP else "o", ms=7, color=COLORS[s.name],
                    label=s.label if i == 0 else None)  # fmt: skip
            if value > TOP:
                over.append((f"{r.name}, {s.label}", value))
    _band_line(ax, band)
    ax.set_yscale("log")
    _plain_log(ax)
    ax.set_xticks(range(len(names)), [FAMILY_NAMES[f] for f in names])
    ax.set_xlim(-0.5, len(names) - 0.5)
    ax.set(ylabel="distance ÷ generation 0's", title="after the last generation, by family and strategy")
    ax.legend(fontsize=9, ncol=2, loc="upper right", bbox_to_anchor=(1.0, -0.12), frameon=False)
    _off_scale(ax, over)
    return ax


def plot_share(results: Sequence[FamilyResult], kind: str = "fresh", share: float = 0.5, ax=None,
               band: float = BAND):  # fmt: skip
    """The slider's figure: for one kind and share of real data, every family's distance after its last generation.

    A diamond per family (the median ratio to generation 0, with the 10-90% range of
    runs), beside replace (crosses) and accumulate (circles) for reference, and
    the band. A family that did not run at that share says so.
    """
    items = {r.family: r for r in check_results(results)}
    kind = validate.choice("kind", kind, SHARED)
    share = check_share(share)
    band = check_band(band)
    ax = _axis(ax)
    names = [f for f in FAMILIES if f in items]
    for i, family in enumerate(names):
        r = items[family]
        if share not in r.shares:
            ax.text(i, 1.0, f"not run at\n{share:.0%}", ha="center", va="center", fontsize=9, color="0.3")
            continue
        s = r.get(kind, share)
        last = r.ratio(s)[:, -1]
        med = float(np.median(last))
        lo, hi = np.quantile(last, [0.1, 0.9])
        ax.errorbar(i, med, yerr=[[med - lo], [hi - med]], fmt="D", ms=8, color=COLORS[s.name], lw=1.2, capsize=4,
                    label=f"{kind} real data (10-90% of runs)" if i == 0 else None)  # fmt: skip
        ax.plot(i + 0.33, r.final(r.get("replace")), "x", color=COLORS["replace"], ms=7,
                label="replace" if i == 0 else None)  # fmt: skip
        ax.plot(i + 0.33, r.final(r.get("accumulate")), "o", mfc="none", color=COLORS["accumulate"], ms=6,
                label="accumulate" if i == 0 else None)  # fmt: skip
    _band_line(ax, band)
    ax.set_yscale("log")
    _plain_log(ax)
    ax.set_xticks(range(len(names)), [FAMILY_NAMES[f] for f in names])
    ax.set_xlim(-0.5, len(names) - 0.3)
    ax.set(ylabel="distance ÷ generation 0's", title=f"{share:.0%} {kind} real data: after the last generation")
    ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=4, frameon=False)
    return ax


__all__ = [
    "COLORS", "STRATEGIES", "TOP", "left_band", "plot_gaussian_theory", "plot_overview", "plot_phase", "plot_share",
    "plot_strategies",
]
