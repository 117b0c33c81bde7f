#!/usr/bin/env bash
# Proxy CPU per S3 request of two source trees, interleaved (issue 4's A/B of each S3 cut).
# Both all-in-ones run side by side (A at PORT_OFFSET_A, B at PORT_OFFSET_B, replicator and auditor
# parked); per round and test the same wrk load goes to A then B (B then A on even rounds), and
# each window's utime+stime of the proxy (with its workers) and of all server processes, read from
# /proc, is divided by wrk's answered requests.
#   S3 tests (get4k put4k get1m put1m): the requests boto3 (default configuration) sends for
#     get_object/put_object, captured from each side right before its window (bench_s3.sh's
#     capture.py + s3_obj.lua: SigV4 header, signed payload SHA-256, CRC32, Expect on PUT).
#   put4k-md5 / put1m-md5: the same PUTs with the body's Content-MD5 (boto3's ContentMD5
#     parameter: what rclone, s3cmd and SDKs that send one add).
#   put4k-https / put1m-https: the PUTs boto3 sends to an https endpoint (aws-chunked, unsigned,
#     CRC32 in a trailer, HTTP chunked framing), replayed over plain HTTP.
#   swift-get4k / swift-put4k: the Swift peer's swift_obj.lua (token), as a check that the Swift
#     path did not move.
# Usage: benchmarks/s3/s3_cpu_ab.sh TREE_A TREE_B
#   env: ROUNDS=4 DURATION=6s CONC=16 TESTS="get4k swift-get4k" N4K=200 N1M=50
#        PORT_OFFSET_A=16100 PORT_OFFSET_B=16200 PROXY_WORKERS=1 DISK_THREADS=8 OUT=/tmp/s3-cpu-ab
# A tree is a checkout (native/*.so built or copied in); it runs with PYTHONPATH=TREE on this
# repository's venv. Prints one TSV line per window, medians per side and each round's B/A.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"
PEER=${SWIFT_PEER:-/work/shared/peers/swift}
[ $# -eq 2 ] || { echo "usage: $0 TREE_A TREE_B" >&2; exit 2; }
TREE_A=$(cd "$1" && pwd); TREE_B=$(cd "$2" && pwd)
ROUNDS=${ROUNDS:-4}; DURATION=${DURATION:-6s}; CONC=${CONC:-16}; TESTS=${TESTS:-get4k swift-get4k}
N4K=${N4K:-200}; N1M=${N1M:-50}
OFF_A=${PORT_OFFSET_A:-16100}; OFF_B=${PORT_OFFSET_B:-16200}
OUT=${OUT:-/tmp/s3-cpu-ab}; mkdir -p "$OUT"
PY=$REPO/.venv/bin/python
HZ=$(getconf CLK_TCK)
PIDS=()
command -v wrk >/dev/null || { echo "wrk missing: apt-get install wrk" >&2; exit 1; }

cleanup() {
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  [ -n "${KEEP_DATA:-}" ] || rm -rf "$OUT/data-A" "$OUT/data-B"  # KEEP_DATA=1 keeps them
}
trap cleanup EXIT

PROXY_WORKERS=${PROXY_WORKERS:-1} bench_aio_toml "$OUT/strato.toml" \
  "replicator_interval = 36000.0" "auditor_interval = 36000.0"

start() {  # side tree offset -> AIO_<side> (aio.json), PID_<side>, URL_<side>, TOK_<side>
  local side=$1 data=$OUT/data-$1 pid url tok
  start_tree_aio "$2" "$data" "$3" "$OUT/strato.toml" "$OUT/aio-$side.log"
  pid=$TREE_AIO_PID
  read -r url tok < <(aio_swift_login "$REPO" "$data" "$PEER")
  [ -n "$tok" ] || { echo "no Swift token from side $side" >&2; exit 1; }
  "$PY" "$PEER/bench/prep.py" "$url" "$tok" "bench-4k:4096:$N4K" "bench-1m:1048576:$N1M" >/dev/null
  for t in $TESTS; do
    case $t in
      get4k|put4k|put4k-md5|put4k-https) "$PY" "$HERE/capture.py" prep --aio "$data/aio.json" --bucket s3ab-4k --size 4096 --count "$N4K" >/dev/null ;;
      get1m|put1m|put1m-md5|put1m-https) "$PY" "$HERE/capture.py" prep --aio "$data/aio.json" --bucket s3ab-1m --size 1048576 --count "$N1M" >/dev/null ;;
    esac
  done
  printf -v "AIO_$side" %s "$data/aio.json"; printf -v "PID_$side" %s "$pid"
  printf -v "URL_$side" %s "$url"; printf -v "TOK_$side" %s "$tok"
}

# Another all-in-one on our ports would answer in our place (SO_REUSEPORT): refuse to start.
for off in "$OFF_A" "$OFF_B"; do
  if ss -ltn | grep -q "127.0.0.1:$((8080 + off)) "; then echo "port $((8080 + off)) is taken" >&2; exit 1; fi
done
start A "$TREE_A" "$OFF_A"
start B "$TREE_B" "$OFF_B"

window() {  # round test side
  local r=$1 t=$2 side=$3 aio pid url tok hostport path endpoint method size nobj bucket body=- md5=
  aio=AIO_$side; aio=${!aio}; pid=PID_$side; pid=${!pid}; url=URL_$side; url=${!url}; tok=TOK_$side; tok=${!tok}
  hostport=$(sed -E 's#^(https?://[^/]+).*#\1#' <<<"$url"); path=${url#$hostport}
  endpoint=$hostport
  case $t in
    get4k|swift-get4k) method=GET size=4096 nobj=$N4K bucket=s3ab-4k ;;
    put4k|swift-put4k) method=PUT size=4096 nobj=$N4K bucket=s3ab-4k ;;
    get1m) method=GET size=1048576 nobj=$N1M bucket=s3ab-1m ;;
    put1m) method=PUT size=1048576 nobj=$N1M bucket=s3ab-1m ;;
    put4k-md5) method=PUT size=4096 nobj=$N4K bucket=s3ab-4k md5=--content-md5 ;;
    put1m-md5) method=PUT size=1048576 nobj=$N1M bucket=s3ab-1m md5=--content-md5 ;;
    put4k-https) method=PUT size=4096 nobj=$N4K bucket=s3ab-4k md5=--https-form ;;
    put1m-https) method=PUT size=1048576 nobj=$N1M bucket=s3ab-1m md5=--https-form ;;
    *) echo "unknown test $t" >&2; exit 2 ;;
  esac
  local servers proxies
  servers=$(tree_pids "$pid"); proxies=$(proxy_pids_of $servers)
  if [[ $t != swift-* ]]; then
    rm -rf "$OUT/req"
    "$PY" "$HERE/capture.py" requests --aio "$aio" --bucket "$bucket" --method "$method" \
        --size "$size" --count "$nobj" --out "$OUT/req" $md5 >/dev/null
    [ "$method" = PUT ] && body=$OUT/req/body.bin
  fi
  local p0 s0 p1 s1
  p0=$(cpu_ticks $proxies); s0=$(cpu_ticks $servers)
  if [[ $t == swift-* ]]; then
    wrk -t 1 -c "$CONC" -d "$DURATION" --timeout 30s -s "$PEER/bench/swift_obj.lua" "$hostport" \
        -- "$method" "$tok" "$path/bench-4k" "$size" "$nobj" > "$OUT/wrk.out" 2>&1
  else
    wrk -t 1 -c "$CONC" -d "$DURATION" --timeout 30s -s "$HERE/s3_obj.lua" "$endpoint" \
        -- "$OUT/req/heads.bin" "$body" > "$OUT/wrk.out" 2>&1
  fi
  p1=$(cpu_ticks $proxies); s1=$(cpu_ticks $servers)
  awk -v r="$r" -v t="$t" -v side="$side" -v hz="$HZ" -v dp=$((p1 - p0)) -v ds=$((s1 - s0)) \
      -v load="$(cut -d' ' -f1 /proc/loadavg)" '
    /^RESULT/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    END { n = v["requests"]; s = v["duration_us"] / 1e6
          if (n < 1) { print "wrk failed for " t " on " side > "/dev/stderr"; exit 1 }
          err = v["err_connect"] + v["err_read"] + v["err_write"] + v["err_status"] + v["err_timeout"] \
                + v["bad_status"] + v["no_continue"]
          printf "%d\t%s\t%s\t%.0f\t%.1f\t%d\t%.1f\t%.1f\t%s\n", r, t, side, n / s, v["p99_us"] / 1000,
                 err, dp / hz / n * 1e6, ds / hz / n * 1e6, load }' "$OUT/wrk.out" | tee -a "$OUT/ab.tsv"
}

echo "# A=$TREE_A ($(git -C "$TREE_A" rev-parse --short HEAD 2>/dev/null || echo ?)) B=$TREE_B ($(git -C "$TREE_B" rev-parse --short HEAD 2>/dev/null || echo ?)), $(date -u '+%H:%M UTC')"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "round\ttest\tside\tops_s\tp99_ms\terrors\tproxy_us_per_req\tservers_us_per_req\tload1\n" | tee "$OUT/ab.tsv"
for r in $(seq 1 "$ROUNDS"); do
  for t in $TESTS; do
    if (( r % 2 )); then order="A B"; else order="B A"; fi
    for side in $order; do window "$r" "$t" "$side"; done
  done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
"$PY" - "$OUT/ab.tsv" <<'EOF'
import collections, statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
by = collections.defaultdict(list)
for r in rows:
    by[(r[1], r[2])].append(r)
print("| test | side | ops/s | proxy µs/req (median, min-max) | all servers µs/req | errors | windows |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
for (t, side), rs in sorted(by.items()):
    px = [float(r[6]) for r in rs]
    print(f"| {t} | {side} | {statistics.median(float(r[3]) for r in rs):.0f} | "
          f"{statistics.median(px):.0f} ({min(px):.0f}-{max(px):.0f}) | "
          f"{statistics.median(float(r[7]) for r in rs):.0f} | {sum(int(r[5]) for r in rs)} | {len(rs)} |")
pairs = collections.defaultdict(dict)
for r in rows:
    pairs[(r[1], r[0])][r[2]] = r
ratios = collections.defaultdict(lambda: ([], []))
for (t, _), side in sorted(pairs.items(), key=lambda kv: int(kv[0][1])):
    if set(side) == {"A", "B"}:
        ratios[t][0].append(float(side["B"][6]) / float(side["A"][6]))
        ratios[t][1].append(float(side["B"][7]) / float(side["A"][7]))
# Within one side, S3 against the Swift path of the same tree (the issue's ratio), where both ran.
for s3t, swt in (("get4k", "swift-get4k"), ("put4k", "swift-put4k")):
    for side in ("A", "B"):
        if (s3t, side) in by and (swt, side) in by:
            a = statistics.median(float(r[6]) for r in by[(s3t, side)])
            b = statistics.median(float(r[6]) for r in by[(swt, side)])
            print(f"side {side}: {s3t} S3/Swift proxy CPU {a / b:.2f}")
print()
print("| test | proxy CPU B/A, each round (median) | all servers B/A (median) |")
print("| --- | --- | ---: |")
for t, (px, sv) in sorted(ratios.items()):
    print(f"| {t} | {' '.join(f'{x:.2f}' for x in px)} ({statistics.median(px):.2f}) | "
          f"{statistics.median(sv):.2f} |")
EOF
