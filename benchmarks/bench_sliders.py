"""Every slider of the book, timed over a grid that covers its whole range (corners included).

    python benchmarks/bench_sliders.py                 # chapters 1 and 2, full grids
    python benchmarks/bench_sliders.py --quick         # corners only
    python benchmarks/bench_sliders.py --chapter 1     # one chapter

Each position is one call of the slider's function with a fresh figure, drawn
(``canvas.draw()``) as a running notebook would, timed end to end. The script
prints, per chapter, the slowest positions and the worst case, in seconds and
as a ratio to a reference workload measured in the same process (10 million
standard normal draws with numpy), so that figures from different machines can
be compared. The target (issue 12) is under 2 s at every position on the
2-core CI machine.

The sliders are listed in :data:`SLIDERS` (module, function, grid, fixed
arguments, as the chapters call them); a function that has been renamed or
removed is reported and skipped, and grid parameters that a function no longer
takes are dropped with a note.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import itertools
import os
import time

os.environ.setdefault("COLLAPSE_PROFILE", "quick")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

#: Slider registry: chapter -> (module, function, full grid, corners-only grid, fixed arguments).
SLIDERS: dict[str, dict] = {
    "1": dict(
        module="collapse_utils.gaussian",
        function="plot_collapse",
        # notebooks/01_gaussian.py: n 2..1000, generations 10..5000, schedule 1-3, retention 0..1, fresh/fixed
        grid=dict(
            n=[2, 100, 1000],
            generations=[10, 1000, 5000],
            approach=[1, 2, 3],
            retention=[0.0, 0.5, 1.0],
            retained=["fresh", "fixed"],
        ),
        corners=dict(n=[2, 1000], generations=[10, 5000], approach=[1, 2, 3], retention=[0.0, 1.0], retained=["fresh", "fixed"]),
        fixed=dict(runs=200, seed=0),
    ),
    "2": dict(
        module="collapse_utils.gmm",
        function="plot_final_generation",
        # notebooks/02_gmm.py offers these positions, in the book and in a running notebook alike (the
        # book profile's explore_generations); other positions are a call of the function, not a slider
        grid=dict(n=[100, 1000], generations=[0, 30, 100, 300], retention=[0.0, 0.1], approach=[1, 2], seed=[0]),
        corners=dict(n=[100, 1000], generations=[0, 300], retention=[0.0, 0.1], approach=[1, 2], seed=[0]),
        fixed=dict(time_budget=1.5),  # as a running notebook passes it (P["slider_budget"])
    ),
}
#: Chapters 3 and 4's sliders pick among runs computed earlier in the chapter (no training or
#: generation when they move), so they are not timed here.
LOOKUP_ONLY = {"3": "vae.plot_generation", "4": "llm.plots.plot_generation"}


def reference_seconds() -> float:
    """Best of 3: 10 million float64 standard normals with numpy (the machine's yardstick)."""
    rng = np.random.default_rng(0)
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        rng.standard_normal(10_000_000)
        best = min(best, time.perf_counter() - start)
    return best


def time_position(func, params: dict) -> float:
    fig, ax = plt.subplots(figsize=(7, 3.8))
    start = time.perf_counter()
    func(**params, ax=ax)
    fig.tight_layout()
    fig.canvas.draw()
    seconds = time.perf_counter() - start
    plt.close(fig)
    return seconds


def bench(chapter: str, entry: dict, quick: bool, show: int) -> tuple[float, dict] | None:
    try:
        module = importlib.import_module(entry["module"])
        func = getattr(module, entry["function"])
    except (ImportError, AttributeError) as error:
        print(f"chapter {chapter}: {entry['module']}.{entry['function']} not found ({error}); skipped")
        return None
    grid = dict(entry["corners"] if quick else entry["grid"])
    accepted = inspect.signature(func).parameters
    for name in list(grid):
        if name not in accepted:
            print(f"chapter {chapter}: {entry['function']} takes no {name!r} any more; dropped from the grid")
            del grid[name]
    names = list(grid)
    # one untimed call first: the first call of a chapter's function sets up what later calls reuse
    time_position(func, {**entry["fixed"], **{n: v[0] for n, v in grid.items()}})
    results = []
    for values in itertools.product(*grid.values()):
        params = {**entry["fixed"], **dict(zip(names, values))}
        seconds = time_position(func, params)
        results.append((seconds, params))
        print(f"  chapter {chapter} {seconds:7.2f} s  {dict(zip(names, values))}", flush=True)
    results.sort(key=lambda r: -r[0])
    return results[0] if results else None, results[:show]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="corners of each grid only")
    parser.add_argument("--chapter", action="append", choices=sorted(SLIDERS), help="chapters to run (default: all)")
    parser.add_argument("--show", type=int, default=5, help="slowest positions to list per chapter")
    args = parser.parse_args()
    ref = reference_seconds()
    print(f"reference: 10M normals in {ref:.3f} s; {os.cpu_count()} CPU cores\n")
    summary = []
    for chapter in args.chapter or sorted(SLIDERS):
        out = bench(chapter, SLIDERS[chapter], args.quick, args.show)
        if out is None:
            continue
        worst, slowest = out
        print(f"\nchapter {chapter}: slowest positions ({SLIDERS[chapter]['function']})")
        for seconds, params in slowest:
            print(f"  {seconds:7.2f} s  ({seconds / ref:6.1f} x reference)  {params}")
        summary.append((chapter, worst))
        print()
    print("worst case per chapter (target < 2 s on the 2-core CI machine)")
    for chapter, (seconds, params) in summary:
        verdict = "met" if seconds < 2.0 else "MISSED"
        print(f"  chapter {chapter}: {seconds:6.2f} s ({seconds / ref:5.1f} x reference) {verdict}  at {params}")
    for chapter, name in LOOKUP_ONLY.items():
        print(f"  chapter {chapter}: {name} looks up runs computed earlier in the chapter (not timed)")


if __name__ == "__main__":
    main()
