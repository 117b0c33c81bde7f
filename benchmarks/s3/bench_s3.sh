#!/usr/bin/env bash
# Throughput benchmark over the S3 API with wrk (closed loop, keep-alive): the Swift peer's bench.sh
# (../shared/peers/swift/bench.sh) for S3, on a Strato all-in-one.
# Usage: benchmarks/s3/bench_s3.sh AIO_JSON        e.g. bench_s3.sh var/aio.json
# Env (as bench.sh): DURATION=10s CONCS="16 64" REPS=2 WRK_THREADS=1 N4K=1000 N1M=200
#      TESTS="get4k put4k get1m put1m"; and BUCKET_PREFIX=s3bench (buckets <prefix>-4k, <prefix>-1m),
#      WARMUP=2s (0 = none), SKIP_PREP=1 (buckets already filled), TSV=file (default
#      $OUT/s3-<timestamp>.tsv, OUT=/tmp/strato-s3bench), SERVER_PIDS/PROXY_PIDS (default: the
#      all-in-one's process tree from aio.json, and its `serve proxy` processes),
#      CORRUPT=signature|body (harness check only: every request must then fail, 403
#      SignatureDoesNotMatch or 400 XAmzContentSHA256Mismatch, and be counted in "errors").
# The requests are the ones boto3 (default configuration) sends for put_object/get_object of each
# key o0..o<N-1>: capture.py stops boto3 at its before-send event and writes every head byte for
# byte (SigV4 Authorization, x-amz-date, signed payload SHA-256, x-amz-checksum-crc32, Expect:
# 100-continue; x-amz-checksum-mode on GET); s3_obj.lua replays them, picking keys as swift_obj.lua
# does. The proxy verifies every signature and payload hash as it does for boto3. A SigV4 signature
# is only valid within 15 minutes of its x-amz-date, so the requests are captured afresh right
# before each timed run (each test x concurrency x rep), never reused across runs (so DURATION
# must stay under 15 minutes).
# Buckets are filled by boto3 itself (prep), so every object carries the CRC32 boto3 stores.
# One difference from boto3 on the wire: boto3 sends a PUT's head, waits (up to 1 s) for the
# proxy's "100 Continue", then the body; wrk writes head and body at once. The proxy still answers
# 100 and then the result (s3_obj.lua explains how wrk waits for both), but it may get a small body
# in the same read as the head, where boto3 makes it wait for a second read: S3 PUTs can look
# slightly cheaper here than with boto3 itself, never dearer.
# Prints, per rep x concurrency x test, bench.sh's columns (ops/s, MB/s (10^6 B), p50/p99 latency,
# errors = non-2xx answers (every PUT answer is checked in Lua; for GETs, whose 1 MiB bodies wrk
# would otherwise copy into Lua, wrk's own count of answers >= 400) + socket errors + timeouts
# + PUT answers that came without their 100 Continue, CPU% (100 = one core) of wrk and of the
# server processes, whole-machine busy% (100 = all cores)) and then the server CPU per request:
# µs of utime+stime of the proxy processes and of all server processes, over the timed run, per
# answered request. PUTs overwrite the pre-created objects.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"
[ $# -eq 1 ] || { echo "usage: $0 AIO_JSON" >&2; exit 2; }
AIO=$1
DURATION=${DURATION:-10s}; CONCS=${CONCS:-16 64}; REPS=${REPS:-2}; WRK_THREADS=${WRK_THREADS:-1}
N4K=${N4K:-1000}; N1M=${N1M:-200}; TESTS=${TESTS:-get4k put4k get1m put1m}
BUCKET_PREFIX=${BUCKET_PREFIX:-s3bench}; WARMUP=${WARMUP:-2s}; CORRUPT=${CORRUPT:-}
PY=${PY:-$REPO/.venv/bin/python}; [ -x "$PY" ] || PY=python3
command -v wrk >/dev/null || { echo "wrk missing: apt-get install wrk" >&2; exit 1; }
OUT=${OUT:-/tmp/strato-s3bench}; mkdir -p "$OUT"
TSV=${TSV:-$OUT/s3-$(date +%Y%m%d-%H%M%S).tsv}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
read -r endpoint aio_pid < <("$PY" -c 'import json,sys; a=json.load(open(sys.argv[1])); print(a["s3"]["endpoint"], a["pid"])' "$AIO")
if [ -z "${SERVER_PIDS:-}" ]; then SERVER_PIDS=$(tree_pids "$aio_pid"); fi
if [ -z "${PROXY_PIDS:-}" ]; then PROXY_PIDS=$(proxy_pids_of $SERVER_PIDS); fi
[ -n "$PROXY_PIDS" ] || echo "warning: no proxy process found; proxy CPU columns will be 0" >&2
HZ=$(getconf CLK_TCK)
capture() {  # bucket method size count outdir
  local corrupt=()
  [ -n "$CORRUPT" ] && corrupt=(--corrupt "$CORRUPT")
  rm -rf "$5"
  "$PY" "$HERE/capture.py" requests --aio "$AIO" --bucket "$1" --method "$2" --size "$3" \
      --count "$4" --out "$5" "${corrupt[@]}"
}

if [ "${SKIP_PREP:-0}" != 1 ]; then
  "$PY" "$HERE/capture.py" prep --aio "$AIO" --bucket "$BUCKET_PREFIX-4k" --size 4096 --count "$N4K"
  "$PY" "$HERE/capture.py" prep --aio "$AIO" --bucket "$BUCKET_PREFIX-1m" --size 1048576 --count "$N1M"
fi

run_wrk() {  # test conc rep
  local t=$1 c=$2 r=$3 method size nobj bucket body=- extra=
  case $t in
    get4k) method=GET size=4096 nobj=$N4K bucket=$BUCKET_PREFIX-4k ;;
    put4k) method=PUT size=4096 nobj=$N4K bucket=$BUCKET_PREFIX-4k ;;
    get1m) method=GET size=1048576 nobj=$N1M bucket=$BUCKET_PREFIX-1m ;;
    put1m) method=PUT size=1048576 nobj=$N1M bucket=$BUCKET_PREFIX-1m ;;
    *) echo "unknown test $t" >&2; exit 2 ;;
  esac
  capture "$bucket" "$method" "$size" "$nobj" "$TMP/req"
  [ "$method" = PUT ] && body=$TMP/req/body.bin
  # With CORRUPT set, GETs also hand their answers to Lua, to print the first error's code.
  [ -n "$CORRUPT" ] && extra=errors
  read -r b0 a0 < <(machine_jiffies); p0=$(cpu_ticks $PROXY_PIDS); s0=$(cpu_ticks $SERVER_PIDS)
  T0=$(date +%s%N)
  TIMEFORMAT='WRKCPU %R %U %S'
  { time wrk -t "$WRK_THREADS" -c "$c" -d "$DURATION" --timeout 30s -s "$HERE/s3_obj.lua" \
      "$endpoint" -- "$TMP/req/heads.bin" "$body" $extra > "$TMP/out" 2>&1; } 2>> "$TMP/out"
  read -r b1 a1 < <(machine_jiffies); p1=$(cpu_ticks $PROXY_PIDS); s1=$(cpu_ticks $SERVER_PIDS)
  T1=$(date +%s%N)
  grep '^FIRST_ERROR' "$TMP/out" | cut -c1-400 >&2 || true
  awk -v t="$t" -v c="$c" -v r="$r" -v size="$size" -v hz="$HZ" -v pt="$(( p1 - p0 ))" \
      -v st="$(( s1 - s0 ))" -v busy="$(( 100 * (b1 - b0) / (a1 - a0 > 0 ? a1 - a0 : 1) ))" \
      -v srv="$(( (s1 - s0) * 100 * 1000000000 / HZ / (T1 - T0) ))" '
    /^RESULT/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    /^WRKCPU/ { cpu = 100 * ($3 + $4) / $2 }
    END {
      if (!("requests" in v)) { print "wrk failed for " t > "/dev/stderr"; exit 1 }
      s = v["duration_us"] / 1e6; n = v["requests"]; ops = n / s
      # non-2xx: counted in Lua when it saw the answers (wrk itself only counts >= 400)
      st_err = v["counted"] + 0 ? v["bad_status"] : v["err_status"]
      err = v["err_connect"] + v["err_read"] + v["err_write"] + v["err_timeout"] + st_err \
            + v["no_continue"]
      per = n > 0 ? 1e6 / hz / n : 0
      printf "%s\t%d\t%d\t%.1f\t%.2f\t%.2f\t%.2f\t%d\t%.0f\t%d\t%d\t%.0f\t%.0f\n", t, c, r, ops,
             ops * size / 1e6, v["p50_us"] / 1000, v["p99_us"] / 1000, err, cpu, srv, busy,
             pt * per, st * per
    }' "$TMP/out" | tee -a "$TSV"
}

printf 'test\tconc\trep\tops/s\tMB/s\tp50_ms\tp99_ms\terrors\twrk_cpu%%\tsrv_cpu%%\tmachine_busy%%\tproxy_us/req\tsrv_us/req\n' | tee "$TSV"
if [ "$WARMUP" != 0 ]; then
  capture "$BUCKET_PREFIX-4k" GET 4096 "$N4K" "$TMP/warm"
  wrk -t 1 -c 4 -d "$WARMUP" -s "$HERE/s3_obj.lua" "$endpoint" -- "$TMP/warm/heads.bin" - >/dev/null
fi
for r in $(seq 1 "$REPS"); do
  for c in $CONCS; do
    for t in $TESTS; do run_wrk "$t" "$c" "$r"; done
  done
done
echo "raw results: $TSV"
