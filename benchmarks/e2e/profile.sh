#!/usr/bin/env bash
# Where a Strato all-in-one spends its CPU under one bench load: py-spy samples the proxy workers
# and the storage nodes while wrk (the peer's swift_obj.lua) drives TEST at concurrency CONC.
# Usage: benchmarks/e2e/profile.sh [TEST=put4k|get4k|put1m|get1m] [CONC=16]
# Env: DURATION=20 PORT_OFFSET=1000 PROXY_WORKERS=2 DISK_THREADS=8 OUT=dir
# Writes collapsed stacks per process (<role>-<pid>.txt, py-spy --format raw) and prints the top
# self-time frames of each role (top.py).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PEER=${SWIFT_PEER:-/work/shared/peers/swift}
TEST=${1:-put4k}; CONC=${2:-16}; DURATION=${DURATION:-20}
PORT_OFFSET=${PORT_OFFSET:-1000}; PROXY_WORKERS=${PROXY_WORKERS:-2}; DISK_THREADS=${DISK_THREADS:-8}
OUT=${OUT:-/tmp/strato-e2e/profile-$(date -u +%H%M%S)-$TEST}
SPY=${PY_SPY:-$REPO/.venv/bin/py-spy}
mkdir -p "$OUT"; DATA=$OUT/data; AIO_PID=
trap '[ -n "$AIO_PID" ] && kill -TERM "$AIO_PID" 2>/dev/null; wait 2>/dev/null || true' EXIT
printf '[cluster]\ndisable = ["blockserver", "compute", "network"]\nlog_level = "warning"\n[proxy]\nworkers = %s\n[storage]\ndisk_threads = %s\n' \
  "$PROXY_WORKERS" "$DISK_THREADS" > "$OUT/strato.toml"
"$REPO/.venv/bin/strato" aio --data "$DATA" --port-offset "$PORT_OFFSET" --config "$OUT/strato.toml" > "$OUT/aio.log" 2>&1 &
AIO_PID=$!
for _ in $(seq 1 900); do [ -f "$DATA/aio.json" ] && break; sleep 0.1; done
read -r auth user key < <("$REPO/.venv/bin/python" -c 'import json,sys; s=json.load(open(sys.argv[1]))["swift"]; print(s["auth_url"], s["user"], s["key"])' "$DATA/aio.json")
read -r url tok < <("$PEER/token.sh" "$auth" "$user" "$key")
case $TEST in *4k) cont=bench-4k size=4096 n=300 ;; *) cont=bench-1m size=1048576 n=50 ;; esac
case $TEST in put*) method=PUT ;; *) method=GET ;; esac
"$PEER/venv/bin/python" "$PEER/bench/prep.py" "$url" "$tok" "$cont:$size:$n" 2>/dev/null \
  || /tmp/peers/swift/venv/bin/python "$PEER/bench/prep.py" "$url" "$tok" "$cont:$size:$n"
hostport=$(sed -E 's#^(https?://[^/]+).*#\1#' <<<"$url"); path=${url#$hostport}
pids=()
for p in $(pgrep -f "strato serve (proxy|storage)" || true); do
  [ "$(ps -o ppid= -p "$p" | tr -d ' ')" = "$AIO_PID" ] || continue
  role=$(tr '\0' ' ' < "/proc/$p/cmdline" | grep -oE 'serve (proxy|storage)' | cut -d' ' -f2)
  # every proxy worker (SO_REUSEPORT children of the first) is sampled too
  for q in "$p" $(pgrep -P "$p" || true); do
    "$SPY" record --nonblocking --format raw --rate 200 --duration "$DURATION" --pid "$q" \
      --output "$OUT/$role-$q.txt" >/dev/null 2>&1 & pids+=($!)
  done
done
wrk -t 1 -c "$CONC" -d "${DURATION}s" --timeout 30s -s "$PEER/bench/swift_obj.lua" "$hostport" -- \
  "$method" "$tok" "$path/$cont" "$size" "$n" | tee "$OUT/wrk.txt" | grep -E "RESULT|Requests/sec"
wait "${pids[@]}" || true
"$REPO/.venv/bin/python" "$HERE/top.py" "$OUT"
