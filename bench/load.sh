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
# UNPROTECTED (default /api/public, the unprotected twin of /api/data) names the unprotected route to compare with.
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
"$work/load" -base "http://$addr" -banner "$work/banner.txt" -unprotected "${UNPROTECTED:-/api/public}" "$@"
echo "after: $(uptime | sed 's/.*load average/load average/')"

# wrk, when installed (Debian: apt-get install wrk), spends far less CPU per
# request than a Go client, so on a small machine the server's share of the
# work, and so the cost of RequireOAuth, shows more clearly. Alternating
# rounds of the two routes, one wrk thread, the same connections.
if command -v wrk >/dev/null 2>&1; then
  tok="$("$work/load" token -base "http://$addr" -banner "$work/banner.txt")"
  rounds="${WRK_ROUNDS:-3}" secs="${WRK_SECONDS:-5}" conns="${WRK_CONNS:-8}"
  unprot=0 prot=0
  rate() { wrk -t1 -c"$conns" -d"${secs}s" --timeout 5s "$@" | awk '/^Requests\/sec:/ {print $2}'; }
  for _ in $(seq "$rounds"); do
    u="$(rate "http://$addr${UNPROTECTED:-/api/public}")"
    p="$(rate -H "Authorization: Bearer $tok" "http://$addr/api/data")"
    echo "wrk round: GET ${UNPROTECTED:-/api/public} $u req/s, GET /api/data (valid token) $p req/s"
    unprot="$(awk -v a="$unprot" -v b="$u" 'BEGIN {print a + b}')"
    prot="$(awk -v a="$prot" -v b="$p" 'BEGIN {print a + b}')"
  done
  awk -v u="$unprot" -v p="$prot" -v n="$rounds" -v c="$conns" 'BEGIN {
    printf "wrk (1 thread, %d connections), mean of %d rounds: unprotected %.0f req/s, protected %.0f req/s: %.1f%% (target >= 90%%: %s)\n",
      c, n, u / n, p / n, 100 * p / u, (p / u >= 0.9 ? "met" : "MISSED") }'
  echo "after wrk: $(uptime | sed 's/.*load average/load average/')"
else
  echo "wrk is not installed: skipping the wrk comparison (apt-get install wrk)"
fi
