#!/usr/bin/env bash
# Installs what the integration tests need (redis-server, chromium) when it
# is missing and we may install (root with apt-get). Idempotent and quiet
# when everything is present. Without it, those tests skip (or fail when
# MSGSEC_REQUIRE_INTEGRATION=1).
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-services: missing ${need[*]} (not root or no apt-get; integration tests will skip)" >&2
  exit 0
fi
echo "install-services: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
