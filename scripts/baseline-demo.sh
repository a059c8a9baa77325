#!/usr/bin/env bash
# `make run`, baseline part: real k6 runs of a small service (tests/baseline/fixtures/k6-verdict,
# recorded by scripts/record_k6_verdict_fixtures.py: main at 20 ms, a change at 26 ms, one with
# 3% errors) ingested into the local store and compared, with no database set up: without
# PERFDASH_DSN perfdash runs a PostgreSQL of its own, here in build/baseline-demo.
# Usage: scripts/baseline-demo.sh PATH/TO/perfdash
set -euo pipefail
perfdash=${1:?usage: baseline-demo.sh PATH/TO/perfdash}
runs=tests/baseline/fixtures/k6-verdict
export PERFDASH_HOME=$PWD/build/baseline-demo
unset PERFDASH_DSN
shopt -s nullglob
main=("$runs"/main-*.json.gz)  # main-01 .. main-13, in order
if [ ${#main[@]} -le 10 ]; then
  echo "baseline demo: the example k6 runs are not in $runs yet" >&2
  exit 0
fi
baseline=("${main[@]:0:10}")
ingest() {  # BRANCH FILE...
  local branch=$1 file
  shift
  for file in "$@"; do
    "$perfdash" baseline ingest --benchmark checkout-api --branch "$branch" "$file"
  done
}
echo "== ingest: ${#baseline[@]} k6 runs of main and 3 of each candidate, into the local store in $PERFDASH_HOME"
ingest main "${baseline[@]}"
ingest same-as-main "${main[@]:10}"
ingest slower-handler "$runs"/slow-*.json.gz
ingest more-errors "$runs"/errors-*.json.gz
for candidate in same-as-main slower-handler more-errors; do
  echo
  echo "== compare: $candidate vs main"
  "$perfdash" baseline compare --benchmark checkout-api --branch "$candidate" \
    --window 3650d --no-record
done
