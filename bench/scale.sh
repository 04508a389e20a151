#!/usr/bin/env bash
# Load and scale figures of the oauthkit example over loopback HTTP, in one
# run, on this machine's PostgreSQL and Redis (the ones the tests use:
# $OAUTHKIT_TEST_POSTGRES, $OAUTHKIT_TEST_REDIS, defaults on 127.0.0.1):
#
#   1. per store (memory, SQLite, PostgreSQL, Redis; the shared ones also
#      with -validation-cache): GET /api/data with a valid token, and
#      client_credentials issuance, at 1, 8 and 32 concurrent clients (on
#      the memory store also GET /api/public, the same answer without a
#      token: the machine's HTTP baseline);
#   2. three instances on one PostgreSQL, then on one Redis, sharing
#      $OAUTHKIT_SESSION_KEY: issuance round-robin, one instance killed
#      (SIGKILL) mid-load; the load tool sends what it no longer answers
#      to the others, as a load balancer would, and afterwards checks that
#      the instances still up accept every sampled token that was
#      acknowledged, the dead one's included;
#   3. RSS of one instance on the memory store after 1,000,000 tokens;
#   4. above saturation: 512 concurrent clients on PostgreSQL, beyond the
#      Provider's 256 store calls in flight (grant.Config.Store.MaxInFlight).
#
# Every phase is bounded in time and requests; everything started is
# stopped, and the PostgreSQL schema and the Redis keys made are removed.
#
#   bench/scale.sh                       SECONDS_PER_PHASE=5 by default
#   SECONDS_PER_PHASE=10 bench/scale.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
secs="${SECONDS_PER_PHASE:-5}"
pg="${OAUTHKIT_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
redis="${OAUTHKIT_TEST_REDIS:-127.0.0.1:6379}"
tag="scale$$"
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if command -v psql >/dev/null 2>&1; then
    psql -q "$pg" -c "DROP SCHEMA IF EXISTS $tag CASCADE" >/dev/null 2>&1 || true
  fi
  if command -v redis-cli >/dev/null 2>&1; then
    redis-cli -h "${redis%:*}" -p "${redis##*:}" --scan --pattern "$tag:*" 2>/dev/null |
      xargs -r -n 500 redis-cli -h "${redis%:*}" -p "${redis##*:}" DEL >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

(cd "$here/.." && go build -o "$work/example" ./example)
(cd "$here" && go build -o "$work/load" ./load)

sep='?'
case "$pg" in *\?*) sep='&' ;; esac
pgstore="$pg${sep}schema=$tag"
redisstore="redis://$redis/0?prefix=$tag:"
export OAUTHKIT_SESSION_KEY
OAUTHKIT_SESSION_KEY="$(head -c 32 /dev/urandom | base64 | tr -d '\n')"

# start NAME STORE [flags...]: starts one instance, sets $addr and $pid.
start() {
  local name="$1" st="$2"
  shift 2
  local port
  port="$("$work/load" freeport)"
  addr="127.0.0.1:$port"
  "$work/example" -addr "$addr" -store "$st" "$@" >"$work/$name.banner" 2>"$work/$name.log" &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || { cat "$work/$name.log" >&2; exit 1; }
    sleep 0.05
  done
  echo "$name did not start" >&2
  exit 1
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# row LABEL CONNS OUTPUT: the summary line of each phase of one load run.
summary="$work/summary.md"
row() {
  awk -v label="$1" -v c="$2" -v cpus="$(nproc)" -F'|' '
    /^\| (GET|POST) / {
      what = ($2 ~ /client_credentials/) ? "issue" : ($2 ~ /unprotected/) ? "no token (baseline)" : "validate"
      gsub(/ /, "", $5); gsub(/ /, "", $6); gsub(/ /, "", $7)
      printf "| %s | %s | %d | %s | %.0f | %s | %s | %s |\n", label, what, c, $5, $5 / cpus, $6, $7, $4
    }' "$3" | sed 's/|  */| /g' >>"$summary"
}

echo "$(nproc) CPUs: the example, the load tool and the store share them; $(uptime | sed 's/.*load average/load average/')"
echo "| store | phase | clients | req/s | req/s per vCPU | p50 | p99 | errors |" >"$summary"
echo "|---|---|---:|---:|---:|---:|---:|---|" >>"$summary"

# 1. Per store, per concurrency.
for s in memory "sqlite:$work/scale.db" "$pgstore" "$redisstore"; do
  label="${s%%:*}" # memory, sqlite, postgres, redis
  start "$label" "$s"
  phases=validate,issue
  # On the memory store, also the same server's unprotected twin route:
  # what this machine's HTTP costs without any token.
  [ "$label" = memory ] && phases=compare,issue
  for c in 1 8 32; do
    out="$work/$label-$c.txt"
    "$work/load" -base "http://$addr" -banner "$work/$label.banner" -phases "$phases" -rounds 1 \
      -conns "$c" -duration "${secs}s" >"$out"
    echo "== $label, $c clients"; grep '^| [GP]' "$out"
    row "$label" "$c" "$out"
  done
  stop "$pid"
  if [ "$label" = postgres ] || [ "$label" = redis ]; then
    # The same store, now with the validation cache; the store holds the
    # demo clients already, so their secrets come from the first banner.
    start "$label-cache" "$s" -validation-cache
    for c in 1 8 32; do
      out="$work/$label-cache-$c.txt"
      "$work/load" -base "http://$addr" -banner "$work/$label.banner" -phases validate \
        -conns "$c" -duration "${secs}s" >"$out"
      echo "== $label -validation-cache, $c clients"; grep '^| [GP]' "$out"
      row "$label + cache" "$c" "$out"
    done
    stop "$pid"
  fi
done

# 2. Three instances on one store, one killed mid-load.
for s in "$pgstore" "$redisstore"; do
  label="${s%%:*}"
  bases=() ipids=()
  for i in 1 2 3; do
    start "$label-$i" "$s" -validation-cache
    bases+=("http://$addr") ipids+=("$pid")
  done
  out="$work/$label-three.txt"
  dur=$((secs * 2))
  (sleep "$secs"; kill -9 "${ipids[1]}") &
  killer=$!
  "$work/load" -base "$(IFS=,; echo "${bases[*]}")" -banner "$work/$label.banner" -phases issue \
    -conns 32 -duration "${dur}s" -sample 50 >"$out"
  wait "$killer" || true
  echo "== three instances on $label, instance 2 killed after ${secs}s of ${dur}s"
  sed -n '/^| [GP]/,$p' "$out"
  row "$label, 3 instances, 1 killed" 32 "$out"
  for p in "${ipids[@]}"; do stop "$p"; done
done

# 3. RSS after 1,000,000 tokens in memory.
start rss memory
out="$work/rss.txt"
"$work/load" -base "http://$addr" -banner "$work/rss.banner" -phases issue -conns 32 \
  -requests 1000000 -duration 300s >"$out"
issued="$(awk -F'|' '/client_credentials/ {gsub(/ /, "", $3); print $3}' "$out")"
rss="$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")"
hwm="$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")"
echo "== memory store after $issued tokens: RSS $((rss / 1024)) MiB (peak $((hwm / 1024)) MiB)"
rssline="memory store after $issued client_credentials tokens (plus one per run): RSS $((rss / 1024)) MiB, peak $((hwm / 1024)) MiB, $((rss * 1024 / issued)) bytes per token"
stop "$pid"

# 4. Above saturation: 512 clients on PostgreSQL.
start saturate "$pgstore"
out="$work/saturate.txt"
"$work/load" -base "http://$addr" -banner "$work/postgres.banner" -phases issue -conns 512 \
  -duration "${secs}s" -allow-errors >"$out"
echo "== 512 clients on postgres"; grep '^| [GP]' "$out"
row "postgres, above saturation" 512 "$out"
stop "$pid"

echo
echo "## Summary ($(nproc) vCPU, ${secs} s per phase; $(go version | awk '{print $3}'))"
echo
cat "$summary"
echo
echo "$rssline"
echo "after: $(uptime | sed 's/.*load average/load average/')"
