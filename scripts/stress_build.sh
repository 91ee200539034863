#!/usr/bin/env bash
# Build the quick-profile book N times in a row, each in a fresh copy of the
# repository (fresh execution cache), and report each build's time and any hang.
#
#   bash scripts/stress_build.sh 20            # 20 builds
#   STRESS_LIMIT=900 bash scripts/stress_build.sh 5
#   STRESS_SEEDS=1 bash scripts/stress_build.sh 20   # build i at COLLAPSE_SEED=i (sentences at many seeds)
#
# A build that does not finish within STRESS_LIMIT seconds (default 600) counts
# as a hang; the book's per-cell timeout (_config.yml, execute.timeout) normally
# stops a hung cell first, and its error names the notebook and the cell. Logs of
# failed builds are kept in _build/stress/. Exit status 1 if any build failed.
set -uo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
limit="${STRESS_LIMIT:-600}"
bash scripts/setup.sh >/dev/null
root="$PWD"
logs="$root/_build/stress"
mkdir -p "$logs"
export COLLAPSE_PROFILE=quick TOKENIZERS_PARALLELISM=false COLLAPSE_BOOK_BUILD=1
export JUPYTER_PATH="$root/.venv/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
failed=0
for i in $(seq 1 "$runs"); do
  copy="$(mktemp -d /tmp/stress-build-XXXXXX)"
  git ls-files -z | (cd "$root" && xargs -0 cp --parents -t "$copy")
  start=$(date +%s)
  seed_note=""
  if [ "${STRESS_SEEDS:-0}" = 1 ]; then export COLLAPSE_SEED=$((i - 1)); seed_note=" (COLLAPSE_SEED=$COLLAPSE_SEED)"; fi
  # own process group, so that a hung build's kernel (and any workers) can be killed with it
  setsid timeout --kill-after=30 "$limit" "$root/.venv/bin/jupyter-book" build "$copy" -W -n --keep-going \
    >"$copy/build.log" 2>&1 &
  pid=$!
  wait $pid
  rc=$?
  kill -KILL -- "-$pid" 2>/dev/null || true
  secs=$(( $(date +%s) - start ))
  if [ $rc -eq 0 ]; then
    echo "build $i/$runs: ok in ${secs} s$seed_note"
  else
    failed=$((failed + 1))
    what="failed (exit $rc)"; [ $rc -ge 124 ] && what="HUNG (killed after ${limit} s)"
    cp "$copy/build.log" "$logs/build-$i.log"
    echo "build $i/$runs: $what after ${secs} s$seed_note; log: _build/stress/build-$i.log"
    grep -E "Executing|timed out|CellTimeoutError|Cell execution" "$copy/build.log" | tail -5 | sed 's/^/    /'
  fi
  rm -rf "$copy"
done
echo "stress: $((runs - failed)) of $runs builds finished"
[ $failed -eq 0 ]
