#!/usr/bin/env bash
# End to end, native build vs pure twins (issue 5): 4 KiB object GET and PUT ops/s through a Strato
# all-in-one (proxy + 3 storage nodes, 3 replicas), with wrk and the Swift peer's swift_obj.lua.
# The machine is shared, so the modes alternate (native, pure, native, pure, ...) and the report
# pairs each round's native run with its pure run; CPU seconds per request of the proxy and the
# storage processes (psutil, e2e_cpu.py) are measured around each wrk run as well.
# Pure = STRATO_NO_EXTENSIONS=1 in `strato aio`'s environment (its children inherit it); each run
# records `strato version` in that environment and which native .so files the servers mapped.
# Usage: benchmarks/native/e2e_native_vs_pure.sh
#   env: ROUNDS=3 DURATION=10s CONC=16 N4K=1000 TESTS="get4k put4k" PORT_OFFSET=2000 OUT=dir
#        ORDER="native pure" (mode order within a round; "pure native" checks for an order bias)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$REPO/benchmarks/aio_lib.sh"
PEER=${SWIFT_PEER:-/work/shared/peers/swift}
PY=$REPO/.venv/bin/python
ROUNDS=${ROUNDS:-3}; DURATION=${DURATION:-10s}; CONC=${CONC:-16}; N4K=${N4K:-1000}
TESTS=${TESTS:-get4k put4k}; PORT_OFFSET=${PORT_OFFSET:-2000}; ORDER=${ORDER:-native pure}
OUT=${OUT:-/tmp/strato-native-e2e/$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"; TSV=$OUT/runs.tsv; LOG=$OUT/log.md
AIO_PID=

stop_aio() {
  [ -n "$AIO_PID" ] || return 0
  if kill -0 "$AIO_PID" 2>/dev/null; then
    kill -TERM "$AIO_PID"
    for _ in $(seq 1 150); do kill -0 "$AIO_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$AIO_PID" 2>/dev/null && kill -KILL "$AIO_PID" || true
  fi
  AIO_PID=
}
trap stop_aio EXIT

bench_aio_toml "$OUT/strato.toml"

{ echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), kernel $(uname -r)"
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- ROUNDS=$ROUNDS DURATION=$DURATION CONC=$CONC N4K=$N4K TESTS=\"$TESTS\" ORDER=\"$ORDER\""; } | tee "$LOG"
printf 'round\tmode\ttest\tops\tcpu_proxy\tcpu_storage\trequests\n' > "$TSV"

run_mode() {  # round mode
  local rnd=$1 mode=$2 data=$OUT/data-$2 env=()
  [ "$mode" = pure ] && env=(STRATO_NO_EXTENSIONS=1)
  rm -rf "$data"
  echo "### round $rnd $mode: $(env "${env[@]}" "$REPO/.venv/bin/strato" version), load $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$LOG"
  env "${env[@]}" "$REPO/.venv/bin/strato" aio --data "$data" --port-offset "$PORT_OFFSET" \
      --config "$OUT/strato.toml" > "$OUT/aio-$rnd-$mode.log" 2>&1 &
  AIO_PID=$!
  for _ in $(seq 1 900); do [ -f "$data/aio.json" ] && break; kill -0 "$AIO_PID" || break; sleep 0.1; done
  [ -f "$data/aio.json" ] || { echo "strato aio did not come up; see $OUT/aio-$rnd-$mode.log" >&2; exit 1; }
  "$PY" "$HERE/e2e_cpu.py" mode "$AIO_PID" | sed 's/^/    /' | tee -a "$LOG"
  read -r auth user key < <("$PY" -c 'import json,sys; s=json.load(open(sys.argv[1]))["swift"]; print(s["auth_url"], s["user"], s["key"])' "$data/aio.json")
  read -r url tok < <("$PEER/token.sh" "$auth" "$user" "$key")
  "$PY" "$PEER/bench/prep.py" "$url" "$tok" "bench-4k:4096:$N4K" > /dev/null
  local hostport path; hostport=$(sed -E 's#^(https?://[^/]+).*#\1#' <<<"$url"); path=${url#$hostport}
  wrk -t 1 -c 4 -d 2s -s "$PEER/bench/swift_obj.lua" "$hostport" -- GET "$tok" "$path/bench-4k" 4096 "$N4K" > /dev/null
  for t in $TESTS; do
    local method=${t%4k}; method=${method^^}
    local c0 c1 res
    c0=$("$PY" "$HERE/e2e_cpu.py" snap "$AIO_PID")
    res=$(wrk -t 1 -c "$CONC" -d "$DURATION" --timeout 30s -s "$PEER/bench/swift_obj.lua" "$hostport" -- \
          "$method" "$tok" "$path/bench-4k" 4096 "$N4K" | grep '^RESULT')
    c1=$("$PY" "$HERE/e2e_cpu.py" snap "$AIO_PID")
    "$PY" - "$rnd" "$mode" "$t" "$res" "$c0" "$c1" >> "$TSV" <<'PY'
import json, sys
rnd, mode, test, res, c0, c1 = sys.argv[1:]
v = dict(kv.split("=") for kv in res.split()[1:])
err = sum(int(v[k]) for k in v if k.startswith("err_"))
if err:
    sys.exit(f"{mode} {test}: {err} errors")
a, b = json.loads(c0), json.loads(c1)
req = int(v["requests"])
print(f"{rnd}\t{mode}\t{test}\t{req / (int(v['duration_us']) / 1e6):.1f}\t"
      f"{b['proxy'] - a['proxy']:.3f}\t{b['storage'] - a['storage']:.3f}\t{req}")
PY
    tail -1 "$TSV" | sed 's/^/    /' | tee -a "$LOG"
  done
  stop_aio
}

for rnd in $(seq 1 "$ROUNDS"); do
  for mode in $ORDER; do run_mode "$rnd" "$mode"; done
done
echo "- load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$LOG"
"$PY" "$HERE/e2e_cpu.py" report "$TSV" | tee -a "$LOG"
echo "raw: $TSV  log: $LOG"
