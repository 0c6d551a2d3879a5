#!/usr/bin/env bash
# Installs what the integration tests need when it is missing and we may
# install (root with apt-get): redis-server with redis-cli (redis-tools:
# the Cluster tests create their Cluster with redis-cli --cluster create)
# and redis-sentinel (the Sentinel tests; without it they run
# redis-server --sentinel, the same program), and chromium; for the interop
# suite (interop/), Node.js with npm, the Debian Python JWT libraries (used
# through /usr/bin/python3, not a pyenv shim), a JDK for the Java snippet
# and mono's C# compiler for the C# one; then the suite's npm packages,
# exactly as interop/node/package-lock.json locks them (npm ci).
# Idempotent and quiet when everything is present. Without it, those tests
# skip (or fail when MSGSEC_REQUIRE_INTEGRATION=1).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
command -v redis-sentinel >/dev/null 2>&1 || need+=(redis-sentinel)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || need+=(chromium)
# Node.js: a machine may carry a nodejs build that bundles npm; Debian's
# npm package would conflict with it, so ask for npm only when it is absent.
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
# The Python libraries a bank developer on Debian gets with apt.
py_has() { [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import $1" >/dev/null 2>&1; }
py_has jwt || need+=(python3-jwt)
py_has jwcrypto || need+=(python3-jwcrypto)
py_has authlib || need+=(python3-authlib)
py_has jose || need+=(python3-jose)
py_has cryptography || need+=(python3-cryptography)
# javac runs the Java bank-side snippet (about 115 MB from Debian; skipped
# when a JDK is already there, as on this project's machines); mono's mcs
# (7 MB) the C# one where there is no dotnet.
command -v javac >/dev/null 2>&1 || need+=(default-jdk-headless)
command -v dotnet >/dev/null 2>&1 || command -v mcs >/dev/null 2>&1 || need+=(mono-mcs)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-services: missing ${need[*]} (not root or no apt-get; integration tests will skip)" >&2
  else
    echo "install-services: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # Debian's packages start their daemons (redis-server on 6379,
    # redis-sentinel on 26379) where they can; the tests start their own
    # on free ports, so keep the package scripts from starting any.
    policy_rc=/usr/sbin/policy-rc.d
    added_policy=""
    if [ ! -e "$policy_rc" ]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy_rc" && chmod +x "$policy_rc" && added_policy=1
    fi
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null || status=$?
    [ -n "$added_policy" ] && rm -f "$policy_rc"
    [ "${status:-0}" = 0 ] || exit "$status"
  fi
fi
# The interop suite's npm packages, exactly as locked. The Go test runs the
# same npm ci itself when node_modules is missing; doing it here keeps the
# network step out of the test run in CI.
if command -v npm >/dev/null 2>&1 && [ -f interop/node/package-lock.json ] &&
  ! cmp -s interop/node/package-lock.json interop/node/node_modules/.msgsec-lock 2>/dev/null; then
  echo "install-services: npm ci in interop/node" >&2
  (cd interop/node && npm ci --no-audit --no-fund --loglevel=error >/dev/null &&
    cp package-lock.json node_modules/.msgsec-lock) ||
    echo "install-services: npm ci in interop/node failed (the interop test retries it)" >&2
fi
