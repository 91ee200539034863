#!/usr/bin/env bash
# Set up (or update) the project's virtual environment in .venv. Idempotent:
# a stamp holding the hash of the requirements skips the work when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
stamp="$VENV/.setup-stamp"
# The browser checks of the built book (tests/test_book.py) drive the system's Chromium.
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Chromium (apt-get) for the browser checks"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "setup: no Chromium; the browser checks will be skipped (install your system's chromium package)"
  fi
fi
want="$(cat requirements.txt pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$VENV/bin/python" ]; then
  echo "setup: $VENV is up to date"
  exit 0
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
pip=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${pip[@]}" install -q -U pip setuptools wheel
# torch first, pinned: the later requirements must be satisfied by it
"${pip[@]}" install -q "$(grep -E '^torch==' requirements.txt)"
"${pip[@]}" install -q -r requirements.txt
"${pip[@]}" install -q --no-deps --no-build-isolation -e .
"$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" >/dev/null
echo "$want" > "$stamp"
echo "setup: $VENV ready"
