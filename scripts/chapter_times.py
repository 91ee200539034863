"""Print how long each chapter took to execute in the book build (from its execution cache).

    .venv/bin/python scripts/chapter_times.py [_build/.jupyter_cache]
"""

from __future__ import annotations

import sys
from pathlib import Path

from jupyter_cache import get_cache


def main(path: str = "_build/.jupyter_cache") -> int:
    if not Path(path).exists():
        print(f"no execution cache at {path}")
        return 0
    records = sorted(get_cache(path).list_cache_records(), key=lambda r: r.uri)
    total = 0.0
    for record in records:
        seconds = float(record.data.get("execution_seconds", float("nan")))
        total += seconds
        print(f"  {Path(record.uri).stem:28s} {seconds:7.1f} s")
    print(f"  {'all chapters':28s} {total:7.1f} s (as last executed; cached chapters keep their time)")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
