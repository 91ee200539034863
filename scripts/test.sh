#!/usr/bin/env bash
# Set up and run every test: unit tests, the notebook pairing check, nbmake on
# every chapter (quick profile) and the strict book build (quick profile), in parallel workers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export COLLAPSE_PROFILE="${COLLAPSE_PROFILE:-quick}"
export TOKENIZERS_PARALLELISM=false
# notebooks run on this environment's kernel, whatever other kernels the machine has
export JUPYTER_PATH="$PWD/.venv/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
# --nbmake-timeout: per cell; --timeout (pytest-timeout): per test, so that a stall outside any cell
# (kernel start or shutdown) fails too, naming the notebook, instead of holding CI.
# -n: pytest-xdist workers, one per core up to 4 (TEST_WORKERS overrides); the tests that execute the
# chapters (nbmake, the book build) stay together in one worker (conftest.py: they share notebooks/runs).
cores="$(nproc 2>/dev/null || echo 2)"
workers="${TEST_WORKERS:-$(( cores < 4 ? cores : 4 ))}"
.venv/bin/python -m pytest tests notebooks --nbmake --nbmake-timeout=300 --timeout=420 -n "$workers" "$@"
