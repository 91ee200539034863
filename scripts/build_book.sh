#!/usr/bin/env bash
# Set up and build the whole book, executing every chapter (book profile by
# default; COLLAPSE_PROFILE=quick|book|paper). HTML lands in _build/html.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export COLLAPSE_PROFILE="${COLLAPSE_PROFILE:-book}"
export TOKENIZERS_PARALLELISM=false
# progress bars stay out of the built pages (collapse_utils.progress)
export COLLAPSE_BOOK_BUILD=1
# notebooks run on this environment's kernel, whatever other kernels the machine has
export JUPYTER_PATH="$PWD/.venv/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
.venv/bin/jupyter-book build . -W -n --keep-going "$@"
echo "book: chapter execution times"
.venv/bin/python scripts/chapter_times.py _build/.jupyter_cache
echo "book: open _build/html/index.html"
