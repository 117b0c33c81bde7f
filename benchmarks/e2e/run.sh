#!/usr/bin/env bash
# Object store end to end: OpenStack Swift's all-in-one and a Strato all-in-one on this machine,
# both 3 replicas, driven one after the other by the SAME client (the peer's bench.sh: wrk +
# swift_obj.lua, GET/PUT of 4 KiB and 1 MiB at concurrency 16 and 64). Both clusters are stopped
# at the end (also on error). Sequential, not simultaneous: the two would otherwise share 2 cores.
# INTERLEAVE=1: both clusters stay up (only one is loaded at a time) and every (repetition,
# concurrency, test) runs on Swift and then Strato, the order flipping each repetition, so a machine
# whose speed drifts (a shared VM host) hits both alike; by default all Swift runs come first.
# Usage: benchmarks/e2e/run.sh            env: OUT=dir  ONLY="swift strato"  PORT_OFFSET=1000  KEEP_DATA=
#        INTERLEAVE=
#        PROXY_WORKERS=2 DISK_THREADS=8  plus bench.sh's DURATION/CONCS/REPS/TESTS/N4K/N1M
# Prints both tables and writes them with the machine/load facts to $OUT/summary.md.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PEER=${SWIFT_PEER:-/work/shared/peers/swift}
ONLY=${ONLY:-swift strato}
# +1000 keeps Strato clear of Swift (8080, 6200-6232, memcached 11212) and of the 10000-28999 test
# range: identity 6000, proxy 9080, storage 7200..; services the benchmark does not use stay off.
PORT_OFFSET=${PORT_OFFSET:-1000}
PROXY_WORKERS=${PROXY_WORKERS:-2}
DISK_THREADS=${DISK_THREADS:-8}
STAMP=$(date -u +%Y%m%d-%H%M%S)
OUT=${OUT:-/tmp/strato-e2e/$STAMP}
mkdir -p "$OUT"
DATA=$OUT/strato-data
AIO_PID=

machine() {
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/Mem:/{print $2}') GiB RAM, kernel $(uname -r)"
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
}
load() { echo "- load $1: $(uptime | sed 's/.*load average/load average/')"; }

. "$REPO/benchmarks/aio_lib.sh"

cleanup() {
  stop_pid "$AIO_PID"
  [ -n "${KEEP_DATA:-}" ] || rm -rf "$DATA"  # ~0.7 GB a run; KEEP_DATA=1 keeps it
  [ -n "${SWIFT_STARTED:-}" ] && "$PEER/stop.sh" >/dev/null || true
}
trap cleanup EXIT

{ echo "# Object store end to end, $STAMP"; machine; load before; } | tee "$OUT/summary.md"

start_swift() {
  [ -x /tmp/peers/swift/venv/bin/swift-proxy-server ] || "$PEER/setup.sh"
  SWIFT_STARTED=1; "$PEER/start.sh" > "$OUT/swift-start.log" 2>&1
  read -r SWIFT_URL SWIFT_TOK < <("$PEER/token.sh")
  echo "## OpenStack Swift 2.38.3 (1 worker per server, tempauth, XFS loop image)" | tee -a "$OUT/summary.md"
}
start_strato() {
  bench_aio_toml "$OUT/strato.toml"
  start_bench_aio "$REPO" "$DATA" "$PORT_OFFSET" "$OUT/strato.toml" "$OUT/strato-aio.log" || exit 1
  read -r STRATO_URL STRATO_TOK < <(aio_swift_login "$REPO" "$DATA" "$PEER")
  echo "## Strato (proxy.workers=$PROXY_WORKERS, storage.disk_threads=$DISK_THREADS, 3 nodes x 2 devices, data on $(df --output=fstype "$OUT" | tail -1))" | tee -a "$OUT/summary.md"
}
bench_swift() { "$PEER/bench.sh" "$SWIFT_URL" "$SWIFT_TOK" 2>&1 | tee -a "$OUT/swift.tsv"; }
bench_strato() { SERVER_PIDS="$(tree_pids "$AIO_PID")" "$PEER/bench.sh" "$STRATO_URL" "$STRATO_TOK" 2>&1 | tee -a "$OUT/strato.tsv"; }

if [ -n "${INTERLEAVE:-}" ]; then
  start_swift; start_strato
  for rep in $(seq 1 "${REPS:-2}"); do
    for conc in ${CONCS:-16 64}; do
      for test in ${TESTS:-get4k put4k get1m put1m}; do
        order="bench_swift bench_strato"; [ $((rep % 2)) -eq 0 ] && order="bench_strato bench_swift"
        for side in $order; do REPS=1 CONCS=$conc TESTS=$test $side; done
      done
    done
  done
else
  if [[ " $ONLY " == *" swift "* ]]; then
    start_swift; bench_swift
    "$PEER/stop.sh" >/dev/null; SWIFT_STARTED=
  fi
  if [[ " $ONLY " == *" strato "* ]]; then
    start_strato; bench_strato
  fi
fi

load after | tee -a "$OUT/summary.md"
"$REPO/.venv/bin/python" "$HERE/compare.py" "$OUT" | tee -a "$OUT/summary.md"
