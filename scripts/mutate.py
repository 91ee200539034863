"""Mutation check: does the test suite catch plausible bugs in ``collapse_utils``?

Each file ``tests/mutations/<name>.py`` lists mutants of one module::

    TESTS = ["tests/test_gmm.py"]          # the test files run against each mutant
    MUTANTS = [
        ("collapse_utils/gmm.py", "old text", "new text", "the bug this mutant is"),
        ...
    ]

``old text`` must occur exactly once in its file. For every mutant the script
copies the repository's package and tests into a scratch folder, applies the one
change, runs the listed tests (``-m "not slow"``, stop at the first failure) and
counts the mutant as *caught* when they fail (or time out). It prints a table
per module and the mutants that survived, and exits 1 when a module is under
the target rate (``--target``, default 0.9).

Usage::

    .venv/bin/python scripts/mutate.py                # every module
    .venv/bin/python scripts/mutate.py gmm vae        # some modules
    .venv/bin/python scripts/mutate.py --list         # what would run

Run on demand (it takes minutes), not in CI. CONTRIBUTING.md keeps the latest
per-module rates.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTATIONS = ROOT / "tests" / "mutations"
COPY = ("collapse_utils", "tests", "pyproject.toml", "notebooks", "_config.yml", "_toc.yml", "book")


def load(name: str):
    path = MUTATIONS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"mutations_{name}", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    tests = list(module.TESTS)
    mutants = [tuple(m) for m in module.MUTANTS]
    for m in mutants:
        if len(m) != 4:
            raise ValueError(f"{path.name}: a mutant is (file, old, new, description), got {m!r}")
    return tests, mutants


def check(mutants) -> list[str]:
    """Problems with the mutant list: text not found, or found more than once."""
    problems = []
    for file, old, new, what in mutants:
        text = (ROOT / file).read_text()
        count = text.count(old)
        if count != 1:
            problems.append(f"{file}: {what!r}: the old text occurs {count} times (must be once)")
        if old == new:
            problems.append(f"{file}: {what!r}: old and new text are the same")
    return problems


def run_one(scratch: Path, tests: list[str], timeout: float) -> str:
    env = {**os.environ, "PYTHONPATH": str(scratch), "COLLAPSE_PROFILE": "quick", "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-m", "not slow", "-p", "no:cacheprovider", *tests]
    try:
        result = subprocess.run(cmd, cwd=scratch, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout"
    if result.returncode == 0:
        return "survived"
    if result.returncode in (1,):
        return "caught"
    return f"error {result.returncode}: {result.stdout[-300:]}{result.stderr[-300:]}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="module names (files in tests/mutations); default: all")
    parser.add_argument("--target", type=float, default=0.9, help="minimum caught share per module (default 0.9)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per mutant before it counts as caught")
    parser.add_argument("--list", action="store_true", help="list the mutants and check that they apply; run nothing")
    args = parser.parse_args(argv)
    names = args.modules or sorted(p.stem for p in MUTATIONS.glob("*.py") if not p.stem.startswith("_"))
    rows = []
    failed = False
    for name in names:
        tests, mutants = load(name)
        problems = check(mutants)
        if problems:
            print("\n".join(problems))
            return 2
        if args.list:
            print(f"{name}: {len(mutants)} mutants, tests {' '.join(tests)}")
            for file, _, _, what in mutants:
                print(f"  {file}: {what}")
            continue
        with tempfile.TemporaryDirectory(prefix=f"mutate-{name}-") as tmp:
            scratch = Path(tmp)
            for item in COPY:
                src = ROOT / item
                if src.is_dir():
                    shutil.copytree(src, scratch / item, ignore=shutil.ignore_patterns("__pycache__", "runs", "*.ipynb"))
                elif src.exists():
                    shutil.copy2(src, scratch / item)
            # the unmutated tests must pass, or every mutant would look caught
            baseline = run_one(scratch, tests, args.timeout)
            if baseline != "survived":
                print(f"{name}: the tests fail without any mutant ({baseline}); fix them first")
                return 2
            caught = 0
            survivors = []
            start = time.perf_counter()
            for file, old, new, what in mutants:
                target = scratch / file
                original = target.read_text()
                target.write_text(original.replace(old, new, 1))
                try:
                    outcome = run_one(scratch, tests, args.timeout)
                finally:
                    target.write_text(original)
                if outcome.startswith("error"):
                    print(f"  {name}: {what}: {outcome}")
                    outcome = "caught"  # the mutant breaks import or collection: the tests notice it
                caught += outcome in ("caught", "timeout")
                if outcome == "survived":
                    survivors.append(what)
                print(f"  {name}: {outcome:8s} {what}", flush=True)
            rate = caught / len(mutants) if mutants else 1.0
            failed |= rate < args.target
            rows.append((name, caught, len(mutants), rate, time.perf_counter() - start, survivors))
    if args.list:
        return 0
    print("\nmodule            caught  rate   seconds")
    for name, caught, total, rate, secs, _ in rows:
        print(f"{name:16s} {caught:3d}/{total:<3d} {rate:6.0%} {secs:8.0f}")
    for name, *_, survivors in rows:
        for what in survivors:
            print(f"survived in {name}: {what}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
