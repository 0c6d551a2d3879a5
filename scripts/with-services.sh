#!/usr/bin/env bash
# Runs a command with the services the integration tests use: a throwaway
# redis-server on a free loopback port (exported as MSGSEC_REDIS_URL unless
# already set). Chromium needs no daemon: the browser tests start it.
set -euo pipefail
redis_pid=""
cleanup() { [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true; }
trap cleanup EXIT
if [ -z "${MSGSEC_REDIS_URL:-}" ] && command -v redis-server >/dev/null 2>&1; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 16379)
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >/dev/null 2>&1 &
  redis_pid=$!
  for _ in $(seq 50); do
    if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then break; fi
    sleep 0.1
  done
  export MSGSEC_REDIS_URL="redis://127.0.0.1:$port/0"
  echo "with-services: redis-server on $MSGSEC_REDIS_URL" >&2
fi
"$@"
