#!/usr/bin/env bash
# Smoke run of the benchmark (bench/run.ts --smoke): 500 applications, ~2 s per load run, every scenario must run
# and report; targets are not enforced. Fails only when the harness itself is broken (a scenario threw, or the whole
# run did not finish within its time limit). Drops its databases and queue keys and stops its processes.
set -uo pipefail
cd "$(dirname "$0")/.."
limit="${BENCH_SMOKE_LIMIT_SECONDS:-175}"
timeout --signal=TERM --kill-after=15 "$limit" \
  node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/run.ts --smoke
status=$?
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  echo "bench smoke: did not finish within ${limit} s" >&2
  # The harness drops its databases on SIGTERM; make sure, in case it was killed.
  for db in sprout_bench_smoke sprout_bench_smoke_pgbench; do
    psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "bench smoke: the harness failed (exit $status)" >&2
  exit 1
fi
echo "bench smoke: every scenario ran (targets not enforced at this scale)"
