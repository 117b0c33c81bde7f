#!/usr/bin/env bash
# CPU per request of a Strato all-in-one's storage nodes and proxy, two source trees interleaved.
# Both all-in-ones run side by side (A at PORT_OFFSET_A, B at PORT_OFFSET_B, replicator and auditor
# parked so their passes do not land in one side's window); the same wrk load (the Swift peer's
# swift_obj.lua) goes to A, then B, then A ... and each window's utime+stime of the storage-node
# processes and of the proxy (with its workers), read from /proc, is divided by wrk's requests.
# Usage: benchmarks/node/node_cpu_ab.sh TREE_A TREE_B
#   env: ROUNDS=4 DURATION=8s CONCS="16 64" TESTS="put4k get4k" (also put1m: 1 MiB PUTs
#        over 200 names) PORT_OFFSET_A=13000
#        PORT_OFFSET_B=13100 DISK_THREADS=8 PROXY_WORKERS=2 OUT=/tmp/node-cpu-ab
# A tree is a checkout (its native/*.so built or copied in); it runs with PYTHONPATH=TREE on this
# repository's venv. Prints one TSV line per window and a median summary per side.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$REPO/benchmarks/aio_lib.sh"
PEER=${SWIFT_PEER:-/work/shared/peers/swift}
[ $# -eq 2 ] || { echo "usage: $0 TREE_A TREE_B" >&2; exit 2; }
TREE_A=$(cd "$1" && pwd); TREE_B=$(cd "$2" && pwd)
ROUNDS=${ROUNDS:-4}; DURATION=${DURATION:-8s}; CONCS=${CONCS:-16 64}; TESTS=${TESTS:-put4k get4k}
OFF_A=${PORT_OFFSET_A:-13000}; OFF_B=${PORT_OFFSET_B:-13100}
OUT=${OUT:-/tmp/node-cpu-ab}; mkdir -p "$OUT"
PY=$REPO/.venv/bin/python
PIDS=()

cleanup() {
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  [ -n "${KEEP_DATA:-}" ] || rm -rf "$OUT/data-A" "$OUT/data-B"  # KEEP_DATA=1 keeps them
}
trap cleanup EXIT

bench_aio_toml "$OUT/strato.toml" "replicator_interval = 36000.0" "auditor_interval = 36000.0"

start() {  # side tree offset -> sets PID_<side> URL_<side> TOK_<side>
  local side=$1 data=$OUT/data-$1 url tok
  start_tree_aio "$2" "$data" "$3" "$OUT/strato.toml" "$OUT/aio-$side.log"
  read -r url tok < <(aio_swift_login "$REPO" "$data" "$PEER")
  [ -n "$tok" ] || { echo "no Swift token from side $side" >&2; exit 1; }
  python3 "$PEER/bench/prep.py" "$url" "$tok" "bench-4k:4096:1000" "bench-1m:1048576:0" >/dev/null
  printf -v "PID_$side" %s "$TREE_AIO_PID"; printf -v "URL_$side" %s "$url"; printf -v "TOK_$side" %s "$tok"
}

pids_of() {  # aio pid, role (storage|proxy) -> that role's processes (proxy workers included)
  local p c
  for p in $(pgrep -P "$1"); do
    c=$(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null || true)
    if [[ $c == *" serve $2 "* ]]; then echo "$p"; pgrep -P "$p" || true; fi
  done
}
ticks() { local t=0 p; for p in "$@"; do
  t=$(( t + $(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$p/stat" 2>/dev/null || echo 0) )); done; echo "$t"; }
HZ=$(getconf CLK_TCK)

# Another all-in-one on our ports would answer in our place (SO_REUSEPORT): refuse to start.
for off in "$OFF_A" "$OFF_B"; do
  if ss -ltn | grep -q "127.0.0.1:$((8080 + off)) "; then echo "port $((8080 + off)) is taken" >&2; exit 1; fi
done
start A "$TREE_A" "$OFF_A"
start B "$TREE_B" "$OFF_B"
echo "# A=$TREE_A ($(git -C "$TREE_A" rev-parse --short HEAD 2>/dev/null || echo ?)) B=$TREE_B ($(git -C "$TREE_B" rev-parse --short HEAD 2>/dev/null || echo ?)), $(date -u '+%H:%M UTC')"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "round\ttest\tconc\tside\tops_s\tp50_ms\tp99_ms\terrors\tstorage_us_per_req\tproxy_us_per_req\tload1\n" | tee "$OUT/ab.tsv"
for r in $(seq 1 "$ROUNDS"); do
  for t in $TESTS; do
    case $t in
      put4k) method=PUT cont=bench-4k size=4096 nobj=1000 ;;
      get4k) method=GET cont=bench-4k size=4096 nobj=1000 ;;
      put1m) method=PUT cont=bench-1m size=1048576 nobj=200 ;;
      *) echo "unknown test $t" >&2; exit 2 ;;
    esac
    for c in $CONCS; do
      # A first on odd rounds, B first on even ones: neither side always follows the other.
      if (( r % 2 )); then order="A B"; else order="B A"; fi
      for side in $order; do
        if [ "$side" = A ]; then pid=$PID_A url=$URL_A tok=$TOK_A; else pid=$PID_B url=$URL_B tok=$TOK_B; fi
        mapfile -t storage < <(pids_of "$pid" storage); mapfile -t proxy < <(pids_of "$pid" proxy)
        hostport=$(sed -E 's#^(https?://[^/]+).*#\1#' <<<"$url"); path=${url#$hostport}
        s0=$(ticks "${storage[@]}"); p0=$(ticks "${proxy[@]}")
        wrk -t 1 -c "$c" -d "$DURATION" --timeout 30s -s "$PEER/bench/swift_obj.lua" "$hostport" \
            -- "$method" "$tok" "$path/$cont" "$size" "$nobj" > "$OUT/wrk.out" 2>&1
        s1=$(ticks "${storage[@]}"); p1=$(ticks "${proxy[@]}")
        awk -v r="$r" -v t="$t" -v c="$c" -v side="$side" -v hz="$HZ" -v ds=$((s1 - s0)) -v dp=$((p1 - p0)) \
            -v load="$(cut -d' ' -f1 /proc/loadavg)" '
          /^RESULT/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
          END { n = v["requests"]; s = v["duration_us"] / 1e6
                err = v["err_connect"] + v["err_read"] + v["err_write"] + v["err_status"] + v["err_timeout"]
                printf "%d\t%s\t%d\t%s\t%.0f\t%.1f\t%.1f\t%d\t%.0f\t%.0f\t%s\n", r, t, c, side, n / s,
                       v["p50_us"] / 1000, v["p99_us"] / 1000, err, ds / hz / n * 1e6, dp / hz / n * 1e6, load }' \
            "$OUT/wrk.out" | tee -a "$OUT/ab.tsv"
      done
    done
  done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
"$PY" - "$OUT/ab.tsv" <<'EOF'
import collections, statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
by = collections.defaultdict(list)
for r in rows:
    by[(r[1], r[2], r[3])].append(r)
print("| test | conc | side | ops/s (median) | storage CPU µs/req (median, min-max) | proxy CPU µs/req (median) | windows |")
print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
for (t, c, side), rs in sorted(by.items()):
    st = [float(r[8]) for r in rs]
    print(f"| {t} | {c} | {side} | {statistics.median(float(r[4]) for r in rs):.0f} | "
          f"{statistics.median(st):.0f} ({min(st):.0f}-{max(st):.0f}) | "
          f"{statistics.median(float(r[9]) for r in rs):.0f} | {len(rs)} |")
# Each round's B against its own A: the load changes less within a pair than across the run.
pairs = collections.defaultdict(dict)
for r in rows:
    pairs[(r[1], r[2], r[0])][r[3]] = r
ratios = collections.defaultdict(lambda: ([], []))
for (t, c, _), side in sorted(pairs.items(), key=lambda kv: int(kv[0][2])):
    if set(side) == {"A", "B"}:
        ratios[(t, c)][0].append(float(side["B"][8]) / float(side["A"][8]))
        ratios[(t, c)][1].append(float(side["B"][9]) / float(side["A"][9]))
print()
print("| test | conc | storage CPU B/A, each round (median) | proxy CPU B/A (median) |")
print("| --- | ---: | --- | ---: |")
for (t, c), (st, px) in sorted(ratios.items()):
    print(f"| {t} | {c} | {' '.join(f'{x:.2f}' for x in st)} ({statistics.median(st):.2f}) | "
          f"{statistics.median(px):.2f} |")
EOF
