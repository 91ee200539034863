"""The function behind chapter 1's slider, and the time-limited simulation it runs on."""

from __future__ import annotations

import time

import numpy as np

from .. import validate
from ..schedules import (
    SCHEDULE_NAMES,
    check_approach,
    check_count,
    check_retained,
    check_retention,
    n_retained,
)
from .simulation import GaussianRun, simulate

#: Seconds per simulated point (runs x generations x n) of the sample method, measured on the
#: 2-core CI machine, and a fixed cost per generation; used to keep a slider's answer under 2 s.
SAMPLE_SECONDS_PER_POINT = 6e-8
SAMPLE_SECONDS_PER_GENERATION = 6e-5
#: Most generations that :func:`plot_collapse` draws (evenly spaced, the last one included).
DISPLAY_POINTS = 1000


def affordable_runs(
    n: int,
    generations: int,
    runs: int,
    approach: int = 1,
    retention: float = 0.0,
    retained: str = "fresh",
    budget: float | None = 1.0,
) -> int:
    """How many of ``runs`` the simulation can afford within ``budget`` seconds (at least 1).

    The exact method (approaches 1 and 3 with fresh retention) is cheap at any
    slider position and keeps every run; the sample method (approach 2 or fixed
    retention) costs about :data:`SAMPLE_SECONDS_PER_POINT` per point.
    ``budget=None`` keeps every run.
    """
    n = check_count("n", n, 2)
    generations = check_count("generations", generations, 0)
    runs = check_count("runs", runs, 1)
    approach = check_approach(approach)
    retention = check_retention(retention)
    retained = check_retained(retained)
    if budget is None:
        return runs
    budget = validate.real("budget", budget, 0.0, low_open=True)
    sample = approach == 2 or (retained == "fixed" and n_retained(n, retention) > 0)
    if not sample:
        return runs
    rows = generations + 1
    left = budget - SAMPLE_SECONDS_PER_GENERATION * rows
    afford = int(left / (SAMPLE_SECONDS_PER_POINT * rows * n)) if left > 0 else 1
    return max(1, min(runs, afford))


def simulate_within(
    budget: float | None,
    n: int,
    generations: int,
    runs: int,
    approach: int = 1,
    retention: float = 0.0,
    seed: int | None = None,
    retained: str = "fresh",
) -> GaussianRun:
    """:func:`simulate`, with as many of ``runs`` as fit in about ``budget`` seconds on this machine.

    Positions that the exact method covers always get every run. The sample
    method simulates batches of runs, timing them as it goes, and stops
    before the budget runs out (after one batch at least), so that a slider
    answers in time however busy the machine is; ``result.runs`` says how
    many runs were simulated. Batch ``i`` is seeded from ``(seed, i)``.
    ``budget=None`` simulates every run (deterministic, for static figures).
    """
    modelled = affordable_runs(n, generations, runs, approach, retention, retained, budget)
    if (
        budget is None
        or modelled == runs
        and not (approach == 2 or (retained == "fixed" and n_retained(n, retention) > 0))
    ):
        return simulate(n, generations, runs, approach, retention, seed=seed, retained=retained)
    budget = validate.real("budget", budget, 0.0, low_open=True)
    seed = 0 if seed is None else validate.integer("seed", seed, 0)
    start = time.perf_counter()
    parts: list[GaussianRun] = []
    done, batch = 0, max(1, modelled // 2)
    while done < runs:
        child = int(np.random.SeedSequence([seed, len(parts)]).generate_state(1)[0])
        parts.append(simulate(n, generations, batch, approach, retention, seed=child, retained=retained))
        done += batch
        elapsed = time.perf_counter() - start
        per_run = elapsed / done
        batch = min(runs - done, int((0.9 * budget - elapsed) / per_run))
        if batch < 1:
            break
    first = parts[0]
    return GaussianRun(
        n,
        generations,
        done,
        first.approach,
        first.retention,
        first.method,
        seed,
        np.concatenate([p.mean for p in parts], axis=1),
        np.concatenate([p.var for p in parts], axis=1),
        None,
        first.true_mean,
        first.true_var,
        first.retained,
    )


def plot_collapse(
    n: int = 100,
    generations: int = 1000,
    approach: int = 1,
    retention: float = 0.0,
    runs: int = 500,
    seed: int = 0,
    ax=None,
    title: bool = True,
    retained: str = "fresh",
    budget: float | None = 1.0,
):
    """Plot fitted standard deviations over generations: single runs, median and 10-90% band.

    The function behind chapter 1's slider; returns the :class:`GaussianRun`.
    Where the sample method cannot simulate all ``runs`` within ``budget``
    seconds on this machine (:func:`simulate_within`), it simulates fewer and
    the title says so. ``budget=None`` always simulates every run.
    """
    import matplotlib.pyplot as plt

    from ..plotting import plot_band

    title = validate.boolean("title", title)
    run = simulate_within(budget, n, generations, runs, approach, retention, seed=seed, retained=retained)
    used = run.runs
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    # at most about DISPLAY_POINTS generations are drawn (and their quantiles computed), clipped to the axis
    step = max(1, -(-(run.generations + 1) // DISPLAY_POINTS))
    shown = np.unique(np.r_[np.arange(0, run.generations + 1, step), run.generations])
    std = np.clip(run.std[shown], 1e-6, 1e3)
    plot_band(ax, shown, std.T, color="C0", label="median, 10-90% of runs", lines=20)
    ax.axhline(np.sqrt(run.true_var), color="k", ls=":", lw=1, label="true σ")
    ax.set_yscale("log")
    ax.set_ylim(1e-4, 3)
    ax.set_xlabel("generation")
    ax.set_ylabel("fitted σ")
    note = f"; {used} of {runs} runs, to answer in time" if used < runs else ""
    if title:
        kind = f", {retained}" if run.retention > 0 else ""
        ax.set_title(f"n={n}, {SCHEDULE_NAMES[approach]}, retention={retention:g}{kind}{note}", fontsize=9)
    elif note:
        ax.text(0.02, 0.03, note[2:], transform=ax.transAxes, fontsize=9)
    return run
