#!/usr/bin/env bash
# cpu_per_cmd.sh URL PID BLOCKS [-r]  ->  "IOPS us_of_target_CPU_per_command"
#
# One iscsi-perf run (QD 32, 4 s, BLOCKS x 512-byte reads, -r random) against URL, with the CPU
# time (user+sys, /proc/PID/stat) the target process PID spent over it divided by the commands.
# Used for native vs STRATO_NO_EXTENSIONS=1 pairs; run the two targets alternately, e.g.
#   for i in 1 2 3; do cpu_per_cmd.sh $NATIVE_URL $NPID 8 -r; cpu_per_cmd.sh $PURE_URL $PPID 8 -r; done
set -uo pipefail
[[ $# -ge 3 ]] || { sed -n 2,8p "$0"; exit 2; }
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
c0=$(cpu "$2")
ops=$(iscsi-perf -m 32 -b "$3" -t 4 ${4:-} "$1" 2>&1 | tr '\r' '\n' | grep iops | tail -1 |
      sed 's/.*average \([0-9]*\).*/\1/')
c1=$(cpu "$2")
echo "$ops $(python3 -c "print(round(($c1-$c0)*10000/max(${ops:-0}*4,1),1))")"
