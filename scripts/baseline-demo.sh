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
baseline=("$runs"/main-0[1-9].json.gz "$runs"/main-10.json.gz)
if [ ${#baseline[@]} -eq 0 ]; then
  echo "baseline demo: no example k6 runs in $runs yet" >&2
  exit 0
fi
ingest() {  # BRANCH FILE...
  local branch=$1 file
  shift
  for file in "$@"; do
    "$perfdash" baseline ingest --benchmark checkout-api --branch "$branch" "$file"
  done
}
echo "== ingest: ${#baseline[@]} k6 runs of main, 3 of each candidate (local store in $PERFDASH_HOME)"
ingest main "${baseline[@]}"
ingest same-as-main "$runs"/main-1[1-3].json.gz
ingest slower-handler "$runs"/slow-0[1-3].json.gz
ingest more-errors "$runs"/errors-0[1-3].json.gz
for candidate in same-as-main slower-handler more-errors; do
  echo
  echo "== compare: $candidate vs main"
  "$perfdash" baseline compare --benchmark checkout-api --branch "$candidate" \
    --window 3650d --no-record
done
