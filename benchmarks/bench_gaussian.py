"""Throughput of chapter 1's simulator, on one core.

    python benchmarks/bench_gaussian.py            # the issue's sizes
    python benchmarks/bench_gaussian.py --quick    # smaller sizes, a smoke run

Every case prints its seconds (best of a few repeats) and a ratio to a
reference measured in the same process, so that figures from different or busy
machines can be compared:

* the exact and the sample method against numpy drawing the same number of
  float64 standard normals as there are run-generations (exact) or points
  (sample): how many "normal draws" each simulated value costs;
* a non-Gaussian truth by the exact method (generation 0 from actual points) against the sample
  method, on the same sizes;
* schedule 2 (accumulate-subsample) against the straightforward algorithm
  (the shared :class:`~collapse_utils.schedules.DataSchedule`: a float64 pool
  that grows by copying, subsampled by position), run on the same sizes: the
  speed-up of storing the pool once in float32 and drawing by index.

Targets of the first version (one core of the CI machine): the exact method at
10,000 runs x 10,000 generations in under 2 s; the sample method at 1,000 runs x
1,000 generations x n = 100 in under 5 s.
"""

from __future__ import annotations

import argparse
import os
import time

# one core: keep BLAS and friends single-threaded (numpy's RNG is single-threaded anyway)
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

from collapse_utils import gaussian  # noqa: E402
from collapse_utils.schedules import DataSchedule  # noqa: E402


def best_of(repeats: int, func, *args, **kwargs) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return min(times)


def normals(count: int) -> None:
    rng = np.random.default_rng(0)
    for start in range(0, count, 10_000_000):
        rng.standard_normal(min(10_000_000, count - start))


def straightforward_subsample(n: int, generations: int, runs: int, seed: int = 0) -> None:
    """Schedule 2 through DataSchedule (float64 pool grown by copies, runs along axis 1)."""
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((runs, n))
    schedule = DataSchedule(data, approach=2, axis=1)
    mean, sd = data.mean(axis=1), data.std(axis=1, ddof=1)
    for _ in range(generations):
        data = schedule.next_training_set(mean[:, None] + sd[:, None] * rng.standard_normal((runs, n)), rng)
        mean, sd = data.mean(axis=1), data.std(axis=1, ddof=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    cases = [
        ("exact,  approach 1", dict(n=100, generations=10_000 // scale, runs=10_000, method="exact"), 2.0),
        ("sample, approach 1", dict(n=100, generations=1_000 // scale, runs=1_000, method="sample"), 5.0),
        ("exact,  approach 3", dict(n=100, generations=10_000 // scale, runs=10_000, approach=3, method="exact"), None),
        ("exact,  retention 0.1", dict(n=100, generations=10_000 // scale, runs=10_000, retention=0.1, method="exact"), None),
        ("sample, approach 2", dict(n=100, generations=1_000 // scale, runs=1_000, approach=2, method="sample"), None),
        ("sample, fixed retention 0.1", dict(n=100, generations=1_000 // scale, runs=1_000, retention=0.1,
                                             retained="fixed"), None),
        ("exact,  np.std (ml)", dict(n=100, generations=10_000 // scale, runs=10_000, estimator="ml",
                                     method="exact"), None),
    ]
    print(f"{'case':30s} {'runs':>7s} {'gens':>7s} {'n':>5s} {'seconds':>8s} {'x normals':>10s}  target")
    for name, kw, target in cases:
        seconds = best_of(args.repeats, gaussian.simulate, seed=0, **kw)
        values = kw["runs"] * (kw["generations"] + 1) * (1 if kw.get("method") == "exact" else kw["n"])
        ref = best_of(args.repeats, normals, values)
        verdict = "" if target is None or args.quick else f"< {target:g} s: {'met' if seconds < target else 'MISSED'}"
        print(f"{name:30s} {kw['runs']:7d} {kw['generations']:7d} {kw['n']:5d} {seconds:8.2f} {seconds / ref:10.2f}  {verdict}")
    print("\na two-mode truth (chapter 1's Theorem 3.1 run): generation 0 from actual points, then exact,")
    print("against the sample method for every generation (the only way before), in this process")
    mixture = gaussian.two_mode_mixture(0.9)
    print(f"{'n':>5s} {'gens':>6s} {'runs':>6s} {'exact s':>8s} {'sample s':>9s} {'speed-up':>9s}")
    for n, gens, runs in [(100, 2000 // scale, 2000), (1000, 50, 200)]:
        fast = best_of(args.repeats, gaussian.simulate, n, gens, runs, original=mixture, seed=0, method="exact")
        slow = best_of(1, gaussian.simulate, n, gens, runs, original=mixture, seed=0, method="sample")
        print(f"{n:5d} {gens:6d} {runs:6d} {fast:8.2f} {slow:9.2f} {slow / fast:9.1f}")
    print("\nschedule 2 (accumulate-subsample), against the straightforward algorithm in this process")
    print(f"{'n':>5s} {'gens':>6s} {'runs':>5s} {'fast s':>8s} {'straightforward s':>18s} {'speed-up':>9s}")
    for n, gens, runs in [(100, 1000 // scale, 200), (1000, 1000 // scale, 10), (1000, 5000 // scale, 2)]:
        fast = best_of(args.repeats, gaussian.simulate, n, gens, runs, approach=2, seed=0)
        slow = best_of(1, straightforward_subsample, n, gens, runs)
        print(f"{n:5d} {gens:6d} {runs:5d} {fast:8.2f} {slow:18.2f} {slow / fast:9.1f}")


if __name__ == "__main__":
    main()
