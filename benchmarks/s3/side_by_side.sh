#!/usr/bin/env bash
# S3 API against Swift API through the same harness (issue 4's benchmark): one fresh Strato
# all-in-one (benchmarks/e2e/run.sh's configuration: blockserver/compute/network disabled,
# log_level warning, proxy.workers=$PROXY_WORKERS, storage.disk_threads=$DISK_THREADS), then for
# each round, concurrency and test one Swift run (the Swift peer's bench.sh: wrk + swift_obj.lua)
# and one S3 run (bench_s3.sh: wrk replaying boto3's own signed requests) on the same proxy; the
# order alternates each round (Swift first in odd rounds, S3 first in even ones) so drift hits
# both. Each run is preceded by the same 2 s, 4-connection GET warm-up for both APIs (the Swift
# peer's bench.sh does one before every run; bench_s3.sh's WARMUP). The all-in-one is stopped at
# the end (also on error).
# Usage: benchmarks/s3/side_by_side.sh
#   env: OUT=dir (default /tmp/strato-s3bench/<stamp>)  PORT_OFFSET=1000 (benchmarks/e2e's ports)
#        PROXY_WORKERS=2 DISK_THREADS=8  DURATION=8s REPS=2 CONCS="16 64"
#        TESTS="get4k put4k get1m put1m" N4K=1000 N1M=200 WRK_THREADS=1
# Whole run at the defaults: about 6 minutes. Dry run: DURATION=3s REPS=1.
# Writes $OUT/swift.tsv and $OUT/s3.tsv (bench.sh's columns + proxy_us/req, srv_us/req: server CPU
# µs per answered request, proxy processes alone and all server processes) and $OUT/summary.md
# (machine, load average before/after, the S3/Swift table of summary.py).
# Swift's CPU per request: bench.sh reports only the servers' CPU%, so its wrk runs go through
# benchmarks/s3/shim/wrk (first on PATH), which reads the same /proc counters around the real wrk.
# Swift uses containers bench-4k/bench-1m (bench.sh's prep), S3 buckets s3bench-4k/s3bench-1m
# (filled by boto3), all in the same account, with the same object counts and sizes.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"
PEER=${SWIFT_PEER:-/work/shared/peers/swift}
PORT_OFFSET=${PORT_OFFSET:-1000}
PROXY_WORKERS=${PROXY_WORKERS:-2}
DISK_THREADS=${DISK_THREADS:-8}
export DURATION=${DURATION:-8s} WRK_THREADS=${WRK_THREADS:-1} N4K=${N4K:-1000} N1M=${N1M:-200}
REPS=${REPS:-2}; CONCS=${CONCS:-16 64}; ALL_TESTS=${TESTS:-get4k put4k get1m put1m}
PY=$REPO/.venv/bin/python
STAMP=$(date -u +%Y%m%d-%H%M%S)
OUT=${OUT:-/tmp/strato-s3bench/$STAMP}
mkdir -p "$OUT"
DATA=$OUT/strato-data
HZ=$(getconf CLK_TCK)
AIO_PID=

cleanup() {  # the all-in-one's data (~1.3 GB a run) goes too unless KEEP_DATA=1
  stop_pid "$AIO_PID"
  [ -n "${KEEP_DATA:-}" ] || rm -rf "$DATA"
}
trap cleanup EXIT
load() { echo "- load $1: $(uptime | sed 's/.*load average/load average/')"; }

{ echo "# S3 vs Swift API side by side, $STAMP"
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), kernel $(uname -r)"
  echo "- commit: $(git -C "$REPO" rev-parse --short HEAD)$(git -C "$REPO" diff --quiet HEAD -- proxy objectserver native 2>/dev/null || echo ' (+ local changes)')"
  echo "- $REPS rounds x $DURATION per run, concurrencies $CONCS, $N4K x 4 KiB and $N1M x 1 MiB objects per API"
  load before; } | tee "$OUT/summary.md"

bench_aio_toml "$OUT/strato.toml"
start_bench_aio "$REPO" "$DATA" "$PORT_OFFSET" "$OUT/strato.toml" "$OUT/strato-aio.log" || exit 1
read -r url tok < <(aio_swift_login "$REPO" "$DATA" "$PEER")
export SERVER_PIDS; SERVER_PIDS=$(tree_pids "$AIO_PID")
export PROXY_PIDS; PROXY_PIDS=$(proxy_pids_of $SERVER_PIDS)
[ -n "$PROXY_PIDS" ] || { echo "no proxy process under the all-in-one" >&2; exit 1; }
echo "- all-in-one: proxy.workers=$PROXY_WORKERS, storage.disk_threads=$DISK_THREADS, proxy pids $PROXY_PIDS, server pids $SERVER_PIDS" | tee -a "$OUT/summary.md"

# Swift's wrk runs go through the shim (see the header); bench.sh's own output is unchanged.
export WRK_SHIM_REAL; WRK_SHIM_REAL=$(command -v wrk)
export WRK_SHIM_LOG=$OUT/swift-wrk-cpu.log WRK_SHIM_PROXY_PIDS=$PROXY_PIDS WRK_SHIM_SERVER_PIDS=$SERVER_PIDS
COLS='test\tconc\trep\tops/s\tMB/s\tp50_ms\tp99_ms\terrors\twrk_cpu%%\tsrv_cpu%%\tmachine_busy%%\tproxy_us/req\tsrv_us/req\n'
printf "$COLS" > "$OUT/swift.tsv"; printf "$COLS" > "$OUT/s3.tsv"

swift_run() {  # test conc rep
  : > "$WRK_SHIM_LOG"
  PATH="$HERE/shim:$PATH" TESTS=$1 CONCS=$2 REPS=1 "$PEER/bench.sh" "$url" "$tok" > "$OUT/swift-last.out" 2>&1 \
    || { cat "$OUT/swift-last.out" >&2; exit 1; }
  # bench.sh's row for the test, its rep set to ours, + the shim's record of the timed (last) wrk
  local row; row=$(grep -P "^$1\t" "$OUT/swift-last.out" | tail -1)
  [ -n "$row" ] || { cat "$OUT/swift-last.out" >&2; exit 1; }
  tail -1 "$WRK_SHIM_LOG" | awk -F'\t' -v row="$row" -v r="$3" -v hz="$HZ" '{
      n = split(row, f, "\t"); f[3] = r; per = $3 > 0 ? 1e6 / hz / $3 : 0
      line = f[1]; for (i = 2; i <= n; i++) line = line "\t" f[i]
      printf "%s\t%.0f\t%.0f\n", line, $1 * per, $2 * per }' | tee -a "$OUT/swift.tsv" | sed 's/^/swift\t/'
}

s3_run() {  # test conc rep
  TESTS=$1 CONCS=$2 REPS=1 WARMUP=2s SKIP_PREP=1 TSV=$OUT/s3-last.tsv "$HERE/bench_s3.sh" "$DATA/aio.json" \
      > "$OUT/s3-last.out" 2>&1 || { cat "$OUT/s3-last.out" >&2; exit 1; }
  grep '^FIRST_ERROR' "$OUT/s3-last.out" >&2 || true
  awk -F'\t' -v OFS='\t' -v r="$3" 'NR > 1 { $3 = r; print }' "$OUT/s3-last.tsv" | tee -a "$OUT/s3.tsv" \
      | sed 's/^/s3\t/'
}

# Fill both object sets (and warm the proxy) before anything is timed.
"$PY" "$PEER/bench/prep.py" "$url" "$tok" "bench-4k:4096:$N4K" "bench-1m:1048576:$N1M" | sed 's/^/swift prep: /'
"$PY" "$HERE/capture.py" prep --aio "$DATA/aio.json" --bucket s3bench-4k --size 4096 --count "$N4K" | sed 's/^/s3 prep: /'
"$PY" "$HERE/capture.py" prep --aio "$DATA/aio.json" --bucket s3bench-1m --size 1048576 --count "$N1M" | sed 's/^/s3 prep: /'
printf 'api\t%b' "${COLS//%%/%}"
for r in $(seq 1 "$REPS"); do
  for c in $CONCS; do
    for t in $ALL_TESTS; do
      if (( r % 2 )); then swift_run "$t" "$c" "$r"; s3_run "$t" "$c" "$r"
      else s3_run "$t" "$c" "$r"; swift_run "$t" "$c" "$r"; fi
    done
  done
done

load after | tee -a "$OUT/summary.md"
echo | tee -a "$OUT/summary.md"
"$PY" "$HERE/summary.py" "$OUT/swift.tsv" "$OUT/s3.tsv" | tee -a "$OUT/summary.md"
echo "raw: $OUT/swift.tsv $OUT/s3.tsv; summary: $OUT/summary.md"
