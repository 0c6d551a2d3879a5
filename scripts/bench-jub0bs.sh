#!/usr/bin/env bash
# The middleware preflight against jub0bs/cors (issue 17), which the Go
# module proxy does not serve. Give it a local checkout of
# github.com/jub0bs/cors. The benchmark is a module of its own
# (bench/jub0bs), so msgsec's go.mod never names jub0bs/cors; this runs it
# with a scratch copy of that module's go.mod (-modfile) that requires and
# replaces jub0bs/cors, and changes no file. Usage:
#   ./scripts/bench-jub0bs.sh /path/to/jub0bs-cors [COUNT]
set -euo pipefail
src=$(cd "$1" && pwd)
count=${2:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root/bench/jub0bs"
cp go.mod "$tmp/go.mod"
cp "$root/go.sum" "$tmp/go.sum"
go mod edit -modfile "$tmp/go.mod" -replace github.com/msgsec/msgsec="$root" \
  -require github.com/jub0bs/cors@v1.0.2 -replace github.com/jub0bs/cors="$src"
go mod tidy -modfile "$tmp/go.mod" >/dev/null
go test -modfile "$tmp/go.mod" -run '^$' -bench 'PreflightJub0bs' -benchmem -count "$count" .
