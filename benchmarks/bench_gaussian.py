"""Throughput of chapter 1's simulator, on one core.

    python benchmarks/bench_gaussian.py            # the issue's targets
    python benchmarks/bench_gaussian.py --quick    # smaller sizes, a smoke run

Targets (one core of the CI machine): the exact method at 10,000 runs x 10,000
generations in under 2 s; the sample method at 1,000 runs x 1,000 generations x
n = 100 in under 5 s. Prints the best of a few repeats.
"""

from __future__ import annotations

import argparse
import os
import time

# one core: keep BLAS and friends single-threaded (numpy's RNG is single-threaded anyway)
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

from collapse_utils import gaussian  # noqa: E402


def best_of(repeats: int, **kwargs) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        gaussian.simulate(**kwargs)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    cases = [
        ("exact,  approach 1", dict(n=100, generations=10_000 // scale, runs=10_000, method="exact"), 2.0),
        ("sample, approach 1", dict(n=100, generations=1_000 // scale, runs=1_000, method="sample"), 5.0),
        (
            "exact,  approach 3",
            dict(n=100, generations=10_000 // scale, runs=10_000, approach=3, method="exact"),
            None,
        ),
        (
            "exact,  retention 0.1",
            dict(n=100, generations=10_000 // scale, runs=10_000, retention=0.1, method="exact"),
            None,
        ),
        (
            "sample, approach 2",
            dict(n=100, generations=1_000 // scale, runs=1_000, approach=2, method="sample"),
            None,
        ),
    ]
    print(
        f"{'case':24s} {'runs':>7s} {'gens':>7s} {'n':>5s} {'seconds':>8s} {'run-generations/s':>18s}  target"
    )
    for name, kw, target in cases:
        seconds = best_of(args.repeats, seed=0, **kw)
        rate = kw["runs"] * kw["generations"] / seconds
        verdict = (
            ""
            if target is None or args.quick
            else f"< {target:g} s: {'met' if seconds < target else 'MISSED'}"
        )
        print(
            f"{name:24s} {kw['runs']:7d} {kw['generations']:7d} {kw['n']:5d} {seconds:8.2f} {rate:18.3g}  {verdict}"
        )


if __name__ == "__main__":
    main()
