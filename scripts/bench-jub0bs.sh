#!/usr/bin/env bash
# The middleware preflight against jub0bs/cors (issue 17), which the Go
# module proxy does not serve. Give it a local checkout of
# github.com/jub0bs/cors; it runs middleware/bench_jub0bs_test.go with a
# scratch copy of go.mod (-modfile) that requires and replaces the module,
# so go.mod and go.sum are never changed. Usage:
#   ./scripts/bench-jub0bs.sh /path/to/jub0bs-cors [COUNT]
set -euo pipefail
src=$(cd "$1" && pwd)
count=${2:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp go.mod "$tmp/go.mod"
cp go.sum "$tmp/go.sum"
go mod edit -modfile "$tmp/go.mod" -require github.com/jub0bs/cors@v1.0.2 -replace github.com/jub0bs/cors="$src"
go mod tidy -modfile "$tmp/go.mod" >/dev/null 2>&1 || true
go test -modfile "$tmp/go.mod" -tags jub0bs -run '^$' -bench 'PreflightJub0bs' -benchmem -count "$count" ./middleware
