"""Execute chapters and print how long each cell took, against the book's per-cell limit.

    COLLAPSE_PROFILE=book .venv/bin/python scripts/cell_times.py notebooks/04_language_models.ipynb [...]
    .venv/bin/python scripts/cell_times.py --check notebooks/*.ipynb   # exit 1 if a cell used over half its limit

Each notebook runs as the book build runs it (nbclient, the notebook's folder as
working directory, progress bars off) on this environment's kernel. The limit is
``execute: timeout`` in ``_config.yml``, the book's hang guard, or the cell's own
(``execution_timeout`` in its metadata, per profile: ``book/_ext/celltimeouts.py``,
applied here as in the build). A long computation
must stay far below it (CONTRIBUTING: no cell of the book profile over half its
limit on an idle machine), so that a machine twice as slow, or one with a busy
core, still builds the book.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "book" / "_ext")]

import celltimeouts  # noqa: E402  (book/_ext: a cell's own limit, as the book build applies it)


def cell_limit() -> float:
    """The per-cell limit of the book build (seconds)."""
    return float(yaml.safe_load((ROOT / "_config.yml").read_text())["execute"]["timeout"])


def _seconds(cell) -> float | None:
    timing = cell.metadata.get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not start or not end:
        return None
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def own_limit(cell, limit: float) -> float:
    """The limit of ``cell`` at the active profile: its own (``execution_timeout``) or the book's."""
    from collapse_utils import profiles

    own = celltimeouts.cell_limit(cell.metadata, profiles.current())
    return limit if own is None else (float("inf") if own == -1 else float(own))


def time_cells(path: Path, limit: float, save: Path | None = None) -> list[tuple[int, float, str, float]]:
    """Execute ``path``; returns ``(cell number, seconds, first line, limit)`` for every executed code cell.

    ``save`` writes the executed notebook (outputs included) there.
    """
    nb = nbformat.read(path, as_version=4)
    os.environ.setdefault("COLLAPSE_BOOK_BUILD", "1")
    share = Path(sys.executable).resolve().parents[1] / "share" / "jupyter"
    if share.is_dir():
        os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(share), os.environ.get("JUPYTER_PATH", "")) if p)
    skipped = [c for c in nb.cells if "skip-execution" in c.metadata.get("tags", [])]
    for c in skipped:
        c.cell_type, c.source = "markdown", ""  # the Colab cell: skipped as the book build skips it
        c.pop("outputs", None)
        c.pop("execution_count", None)
    celltimeouts.patch_nbclient()
    celltimeouts.patch_polling()
    client = NotebookClient(nb, timeout=int(limit), kernel_name="python3", record_timing=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    if save is not None:
        nbformat.write(nb, save)
    rows = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            s = _seconds(cell)
            if s is not None:
                rows.append((i, s, (cell.source.strip().splitlines() or [""])[0][:70], own_limit(cell, limit)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="exit 1 if a cell used over half of the limit")
    parser.add_argument("--top", type=int, default=8, help="how many of the slowest cells to list")
    parser.add_argument("--save", type=Path, help="folder to write the executed notebooks to (outputs included)")
    args = parser.parse_args(argv)
    limit = cell_limit()
    over = []
    for path in args.notebooks:
        start = time.perf_counter()
        rows = time_cells(path, limit, args.save / path.name if args.save else None)
        total = time.perf_counter() - start
        print(f"{path.name}: {total:.1f} s in all (profile {os.environ.get('COLLAPSE_PROFILE', 'default')})")
        for i, s, first, own in sorted(rows, key=lambda r: -r[1])[: args.top]:
            flag = "  OVER HALF THE LIMIT" if s > own / 2 else ""
            print(f"  cell {i:3d} {s:7.1f} s  {s / own:5.0%} of {own:.0f} s  {first}{flag}")
            if s > own / 2:
                over.append(f"{path.name} cell {i}")
    if over and args.check:
        print(f"cells over half the per-cell limit: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
