#!/usr/bin/env bash
# Loopback load test of the oauthkit example: builds the example and the
# load tool, starts the example on a free 127.0.0.1 port, and measures in one
# run GET /api/data with a valid token against an unprotected route of the
# same server, client_credentials issuance, and the authorization-code
# exchange. Every phase is bounded in requests and time; the example is
# stopped at the end.
#
#   bench/load.sh [load flags...]     e.g. bench/load.sh -duration 10s -conns 16
#
# UNPROTECTED (default /) names the unprotected route to compare with.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

(cd "$here/.." && go build -o "$work/example" ./example)
(cd "$here" && go build -o "$work/load" ./load)

port="$("$work/load" freeport)"
addr="127.0.0.1:$port"
"$work/example" -addr "$addr" >"$work/banner.txt" 2>"$work/example.log" &
pid=$!
for _ in $(seq 100); do
  grep -q "secret=" "$work/banner.txt" 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/example.log" >&2; exit 1; }
  sleep 0.1
done

echo "example pid $pid on $addr; load $(nproc) CPUs; $(uptime | sed 's/.*load average/load average/')"
"$work/load" -base "http://$addr" -banner "$work/banner.txt" -unprotected "${UNPROTECTED:-/}" "$@"
echo "after: $(uptime | sed 's/.*load average/load average/')"
