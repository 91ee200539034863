"""Build the book so that a failed build never turns into a success, and never publishes a broken page.

    .venv/bin/python scripts/build_book.py [--root .] [--out _build] [extra jupyter-book options]

(``bash scripts/build_book.sh`` sets up the environment and calls this.)

* Every build starts from a fresh Sphinx environment in ``<out>/.staging`` and
  reads every page again, so a chapter whose execution failed last time is
  executed again (Sphinx keeps no memory of having read it). Executed
  notebooks are kept in the execution cache ``<out>/.jupyter_cache`` (shared
  between builds, filled only by notebooks that ran to the end), so a chapter
  whose code did not change is not executed again, and an interrupted build
  (Ctrl-C, out of memory) resumes from the chapters already cached; chapter 4
  also resumes its own experiment from the generations it saved.
* The build is strict (``-W -n --keep-going``): any warning, a cell error
  included, fails it.
* Only a build that succeeded and whose pages hold no error output is
  published: ``<out>/.staging/_build/html`` replaces ``<out>/html`` in one
  rename. A failed build leaves ``<out>/html`` as it was (the last good
  build, or nothing) and exits non-zero, naming the failed notebooks and
  printing their error logs. The published site holds no ``reports/`` folder.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STRICT = ["-W", "-n", "--keep-going"]
#: Marks of an error that reached a page (a cell error rendered into the HTML).
ERROR_MARKS = ("Traceback (most recent call last)", "CellTimeoutError", "CellExecutionError")


def jupyter_book() -> str:
    """The jupyter-book command of this interpreter's environment."""
    found = shutil.which("jupyter-book", path=str(Path(sys.executable).parent))
    return found or "jupyter-book"


def failed_notebooks(log: str, html: Path) -> list[str]:
    """The notebooks whose execution failed (their names, ``04_language_models``), from the build log and the
    error reports Sphinx wrote. The log's colour codes are dropped first (Sphinx colours a path's warning)."""
    log = re.sub(r"\x1b\[[0-9;]*m", "", log)
    paths = set(re.findall(r"([\w./-]+\.ipynb): Executing notebook failed", log))
    paths |= set(re.findall(r"([\w./-]+\.ipynb)[^\n]*(?:CellExecutionError|CellTimeoutError|Cell execution)", log))
    names = {Path(p).stem for p in paths}
    reports = html / "reports"
    if reports.is_dir():
        names |= {Path(p.name.removesuffix(".err.log")).stem for p in reports.rglob("*.err.log")}
    return sorted(names)


def pages_with_errors(html: Path) -> list[str]:
    """Pages of a built site that show an error (a traceback, a cell that timed out)."""
    bad = []
    for page in sorted(html.rglob("*.html")):
        if "_static" in page.parts or "_sources" in page.parts:
            continue
        text = page.read_text(errors="replace")
        if any(mark in text for mark in ERROR_MARKS):
            bad.append(str(page.relative_to(html)))
    return bad


def publish(built: Path, target: Path) -> None:
    """Replace ``target`` by ``built`` (no ``reports/``): the old site is moved aside first, then removed."""
    shutil.rmtree(built / "reports", ignore_errors=True)
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(built, target)
    shutil.rmtree(old, ignore_errors=True)


def build(root: Path, out: Path, extra: list[str], env: dict[str, str] | None = None) -> int:
    """Build ``root`` into ``out/html``; returns the exit status (0 only when the site was published)."""
    root, out = root.resolve(), out.resolve()
    staging = out / ".staging"
    shutil.rmtree(staging, ignore_errors=True)  # a fresh Sphinx environment: every page is read again
    (staging / "_build").mkdir(parents=True)
    cache = out / ".jupyter_cache"
    cache.mkdir(parents=True, exist_ok=True)
    # myst-nb keeps its execution cache beside the html it writes: point it at the shared one
    (staging / "_build" / ".jupyter_cache").symlink_to(cache, target_is_directory=True)
    env = dict(os.environ if env is None else env)
    env.setdefault("COLLAPSE_BOOK_BUILD", "1")  # progress bars stay out of the pages
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    venv_share = Path(sys.executable).resolve().parents[1] / "share" / "jupyter"
    if venv_share.is_dir():  # notebooks run on this environment's kernel, whatever else the machine has
        env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(venv_share), env.get("JUPYTER_PATH", "")) if p)
    cmd = [jupyter_book(), "build", str(root), "--path-output", str(staging), *STRICT, *extra]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:  # echo as it goes, keep it for the diagnosis
        sys.stdout.write(line)
        sys.stdout.flush()
        lines.append(line)
    rc = proc.wait()
    log = "".join(lines)
    html = staging / "_build" / "html"
    seconds = time.perf_counter() - start
    broken = pages_with_errors(html) if html.is_dir() else []
    if rc == 0 and html.is_dir() and not broken:
        publish(html, out / "html")
        shutil.rmtree(staging, ignore_errors=True)
        print(f"book: built in {seconds:.0f} s and published to {out / 'html'}")
        return 0
    failed = failed_notebooks(log, html)
    print(f"book: the build FAILED after {seconds:.0f} s (jupyter-book exit status {rc})", file=sys.stderr)
    if failed:
        print(f"book: notebooks whose execution failed: {', '.join(failed)}", file=sys.stderr)
    if broken:
        print(f"book: pages that show an error: {', '.join(broken)}", file=sys.stderr)
    for report in sorted((html / "reports").rglob("*.err.log")) if html.is_dir() else []:
        print(f"--- {report.name} ---\n{report.read_text(errors='replace')[-4000:]}", file=sys.stderr)
    previous = out / "html"
    print(
        f"book: nothing was published; {previous} "
        + ("still holds the last good build" if previous.exists() else "does not exist")
        + ". Fix the cause and run the command again: failed chapters are executed again, finished ones "
        "come from the execution cache.",
        file=sys.stderr,
    )
    return rc or 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the book's source folder (default: this repository)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: <root>/_build)")
    args, extra = parser.parse_known_args(argv)
    out = args.out if args.out is not None else args.root / "_build"
    return build(args.root, out, extra)


if __name__ == "__main__":
    sys.exit(main())
