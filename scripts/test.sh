#!/usr/bin/env bash
# Set up and run every test: unit tests, the notebook pairing check, nbmake on
# every chapter (quick profile) and the strict book build (quick profile).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export COLLAPSE_PROFILE="${COLLAPSE_PROFILE:-quick}"
export TOKENIZERS_PARALLELISM=false
.venv/bin/python -m pytest "$@"
