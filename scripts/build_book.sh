#!/usr/bin/env bash
# Set up and build the whole book, executing every chapter (book profile by default;
# COLLAPSE_PROFILE=quick|book|gpu|paper), strictly: any warning or cell error fails the build.
# Only a build that succeeded is published to _build/html (scripts/build_book.py says how).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export COLLAPSE_PROFILE="${COLLAPSE_PROFILE:-book}"
status=0
.venv/bin/python scripts/build_book.py "$@" || status=$?
echo "book: chapter execution times"
.venv/bin/python scripts/chapter_times.py _build/.jupyter_cache
[ $status -eq 0 ] && echo "book: open _build/html/index.html"
exit $status
