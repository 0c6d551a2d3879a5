#!/usr/bin/env bash
# Runs every benchmark that BENCHMARKS.md quotes, each against its anchor in
# the same run, and prints the raw go test output. Usage:
#   ./scripts/with-services.sh ./scripts/bench.sh [COUNT]     # COUNT defaults to 5
set -euo pipefail
count=${1:-5}
run() { echo "== $*" >&2; go test -run '^$' -benchmem -count "$count" "$@"; }
run -bench 'BenchmarkAllows' ./origin
run -bench 'BenchmarkVerify|BenchmarkSign' ./secretdata
run -bench 'BenchmarkFilter$' ./cookies
run -bench . ./middleware
run -bench . ./secretdata/delivery
run -bench . ./otelmetrics
if [ -n "${MSGSEC_REDIS_URL:-}" ]; then run -bench VerifyReplay ./secretdata/redisstore; fi
