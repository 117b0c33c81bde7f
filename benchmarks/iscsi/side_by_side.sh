#!/usr/bin/env bash
# side_by_side.sh STRATO_URL STRATO_PID TGT_URL TGT_PID [ROUNDS]
#
# Interleaved runs of the same workloads against two targets on a shared box: for each workload
# every round runs Strato then tgt, and the best round of each is reported with the ratio, plus
# the target process's CPU time per command (user+sys from /proc/PID/stat), which other
# processes' load disturbs far less than throughput. Workloads: iscsi-perf QD 32 (128 KiB
# sequential read, 4 KiB random read), qemu-img bench -t none -d 32 (128 KiB sequential write,
# 4 KiB writes at perf.sh's stride). Start the targets first (standalone exporter, tgt-up.sh),
# or let side_by_side_run.sh start both. WARM_A=FILE / WARM_T=FILE re-read Strato's / tgt's
# backing file just before each of its runs (a shared box evicts them from the page cache, and a
# miss measures the disk, not the target).
# qemu-img bench rates are qemu-img's own ("Run completed in X seconds": from the first request to
# the last completion), as the issue's peers/tgt/perf.sh reads them; the process's wall time also
# holds qemu-img's start-up, the login and, at close, the SYNCHRONIZE CACHE that writes the run's
# dirty pages to the disk (0.2-0.5 s here, the disk's time, the same for both targets), which
# for a 3,000-write run was half of the wall time. That wall-time rate is printed too (wall_*).
set -uo pipefail
[[ $# -ge 4 ]] || { sed -n 2,13p "$0"; exit 2; }
A=$1 AP=$2 T=$3 TP=$4 ROUNDS=${5:-3}
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
ip() {  # url blocks [-r] -> ops/s
    iscsi-perf -m 32 -b "$2" -t 4 ${3:-} "$1" 2>&1 | tr '\r' '\n' | grep iops | tail -1 |
        sed 's/.*average \([0-9]*\).*/\1/'
}
qb() {  # url size count [args] -> "ops/s wall_ops/s"
    local s0 s1 out t; s0=$(date +%s.%N)
    out=$(qemu-img bench -f raw -t none -d 32 -c "$3" -s "$2" ${4:-} "$1" 2>&1)
    s1=$(date +%s.%N)
    t=$(sed -n 's/^Run completed in \([0-9.]*\) seconds.*/\1/p' <<< "$out" | tail -1)
    python3 -c "print(round($3/max(${t:-0},1e-9)) if '${t}' else 0, round($3/($s1-$s0)))"
}
run() {  # pid cmd... -> "ops/s us_per_op wall_ops/s"
    local pid=$1; shift; local c0 c1 ops wall n
    local warm=${WARM_T:-}; [[ $pid == "$AP" ]] && warm=${WARM_A:-}
    [[ -n $warm ]] && cat "$warm" > /dev/null
    c0=$(cpu "$pid"); read -r ops wall < <("$@"); c1=$(cpu "$pid")
    case $1 in ip) n=$((ops * 4));; *) n=$4;; esac
    echo "$ops $(python3 -c "print(round(($c1-$c0)*10000/max($n,1),1))") ${wall:--}"
}
printf '%-10s %12s %10s %12s %10s %7s %6s %11s %9s\n' workload strato_ops strato_us tgt_ops \
    tgt_us ratio load1 wall_strato wall_tgt
for w in "seqrd128k|ip|256|" "rndrd4k|ip|8|-r" "seqwr128k|qb|131072|10000|-w" \
         "wr4k|qb|4096|40000|-w -S 663605248"; do
    IFS='|' read -r name tool a b c <<< "$w"
    best_a=0 best_t=0 us_a=- us_t=- wall_a=- wall_t=-
    for _ in $(seq "$ROUNDS"); do
        if [[ $tool == ip ]]; then
            read -r oa ua wa < <(run "$AP" ip "$A" "$a" "$b"); read -r ot ut wt < <(run "$TP" ip "$T" "$a" "$b")
        else
            read -r oa ua wa < <(run "$AP" qb "$A" "$a" "$b" "$c"); read -r ot ut wt < <(run "$TP" qb "$T" "$a" "$b" "$c")
        fi
        (( oa > best_a )) && best_a=$oa us_a=$ua wall_a=$wa
        (( ot > best_t )) && best_t=$ot us_t=$ut wall_t=$wt
    done
    printf '%-10s %12s %10s %12s %10s %7s %6s %11s %9s\n' "$name" "$best_a" "$us_a" "$best_t" "$us_t" \
        "$(python3 -c "print(round($best_a/max($best_t,1),2))")" "$(cut -d' ' -f1 /proc/loadavg)" \
        "$wall_a" "$wall_t"
done
