#!/usr/bin/env bash
# native_vs_pure.sh [ROUNDS]  -- issue 5's iSCSI goal: native build vs pure twins, 4 KiB random reads
#
# Starts two standalone exporters of the same kind of volume (a file of random bytes, SIZE, read
# before every run so it sits in the page cache: a shared box evicts it, and a miss goes to a
# disk thread instead of the path under test): one native, one with STRATO_NO_EXTENSIONS=1, each
# checked to have (or not have) native/_iscsiread_c mapped. Then, alternating native and pure in
# every round, one iscsi-perf run (QD 32, 4 s, 4 KiB random reads) against each, with the target
# process's CPU time per command (user+sys from /proc/PID/stat). Prints one line per round and
# the medians: IOPS native/pure and CPU per command pure/native (the steadier figure on a shared
# box). Also 128 KiB sequential reads when WIDE=1.
#   env: PYTHON (default REPO/.venv/bin/python), PORTS="3340 3341", DIR (default a temp dir),
#        SIZE=256M, SECS=4, KEEP=1 keeps DIR, WIDE=1, ORDER="pure native" (which runs first in
#        a round; the default is native first)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PY=${PYTHON:-$REPO/.venv/bin/python}
ROUNDS=${1:-5}
read -r NPORT PPORT <<< "${PORTS:-3340 3341}"
SIZE=${SIZE:-256M}; SECS=${SECS:-4}
DIR=${DIR:-$(mktemp -d /tmp/strato-nvp.XXXXXX)}
IQN=iqn.2026-11.org.strato:standalone
command -v iscsi-perf >/dev/null || { echo "needs iscsi-perf (Debian libiscsi-bin)" >&2; exit 2; }
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    [[ ${KEEP:-0} == 1 ]] || rm -rf "$DIR"
}
trap cleanup EXIT

start() {  # name port env... -> pid in $PID (waits for READY)
    local name=$1 port=$2; shift 2
    (cd "$REPO" && exec env "$@" "$PY" -m blockserver.iscsi.standalone --file "$DIR/$name.img" \
        --port "$port") > "$DIR/$name.log" 2>&1 &
    PID=$!; PIDS+=("$PID")
    for _ in $(seq 100); do grep -q READY "$DIR/$name.log" && return 0; sleep 0.1; done
    echo "$name target did not start:" >&2; cat "$DIR/$name.log" >&2; exit 1
}

head -c "$SIZE" /dev/urandom > "$DIR/native.img"
cp "$DIR/native.img" "$DIR/pure.img"
cat "$DIR/native.img" "$DIR/pure.img" > /dev/null          # both in the page cache
start native "$NPORT" STRATO_NO_EXTENSIONS=0; NPID=$PID
start pure "$PPORT" STRATO_NO_EXTENSIONS=1; PPID_=$PID
grep -q _iscsiread_c "/proc/$NPID/maps" || { echo "native target did not load _iscsiread_c" >&2; exit 1; }
grep -q "_c\.cpython" "/proc/$PPID_/maps" && { echo "pure target mapped a compiled module" >&2; exit 1; }
echo "# native: $(cd "$REPO" && "$PY" -m strato version 2>&1 | tail -1)"
echo "# pure:   $(cd "$REPO" && STRATO_NO_EXTENSIONS=1 "$PY" -m strato version 2>&1 | tail -1)"
echo "# $(nproc) cores, $(uname -r), load before: $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%F %T UTC')"

cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
perf() {  # url blocks [-r] -> "iops target_us_per_cmd initiator_us_per_cmd" ($PERF_PID)
    local c0 c1 ops
    cat "$PERF_FILE" > /dev/null      # just before its run: under memory pressure the other
                                      # target's file would push it out again
    c0=$(cpu "$PERF_PID")
    ops=$(/usr/bin/time -f "%U %S" -o "$DIR/client.time" iscsi-perf -m 32 -b "$2" -t "$SECS" \
          ${3:-} "$1" 2>&1 | tr '\r' '\n' | grep iops | tail -1 | sed 's/.*average \([0-9]*\).*/\1/')
    c1=$(cpu "$PERF_PID")
    read -r cu cs < "$DIR/client.time"
    python3 -c "n=max(${ops:-0}*$SECS,1); print(${ops:-0}, round(($c1-$c0)*10000/n,1), \
round(($cu+$cs)*1e6/n,1))"
}
NURL=iscsi://127.0.0.1:$NPORT/$IQN/0; PURL=iscsi://127.0.0.1:$PPORT/$IQN/0
workloads=("rndrd4k 8 -r")
[[ ${WIDE:-0} == 1 ]] && workloads+=("seqrd128k 256")
for w in "${workloads[@]}"; do
    read -r name blocks flag <<< "$w"
    # *_us: target CPU per command; init_us: iscsi-perf's (when it is the larger, the initiator
    # bounds IOPS on a 2-core box and the IOPS ratio says little; compare the target CPU)
    printf '%-10s %5s %10s %7s %7s %10s %7s %7s %9s %8s %6s\n' workload round native_iops n_us \
        init_us pure_iops p_us init_us iops_n/p cpu_p/n load1
    ratios=(); cpus=()
    for r in $(seq "$ROUNDS"); do
        for mode in ${ORDER:-native pure}; do
            if [[ $mode == native ]]; then
                PERF_PID=$NPID PERF_FILE=$DIR/native.img
                read -r no nu ni < <(perf "$NURL" "$blocks" $flag)
            else
                PERF_PID=$PPID_ PERF_FILE=$DIR/pure.img
                read -r po pu pi < <(perf "$PURL" "$blocks" $flag)
            fi
        done
        ratio=$(python3 -c "print(round($no/max($po,1),2))")
        cr=$(python3 -c "print(round($pu/max($nu,0.1),2))")
        ratios+=("$ratio"); cpus+=("$cr")
        printf '%-10s %5s %10s %7s %7s %10s %7s %7s %9s %8s %6s\n' "$name" "$r" "$no" "$nu" "$ni" \
            "$po" "$pu" "$pi" "$ratio" "$cr" "$(cut -d' ' -f1 /proc/loadavg)"
    done
    python3 -c "import statistics as s; print('$name median of $ROUNDS: IOPS native/pure', \
s.median([$(IFS=,; echo "${ratios[*]}")]), '  CPU/cmd pure/native', \
s.median([$(IFS=,; echo "${cpus[*]}")]))"
done
