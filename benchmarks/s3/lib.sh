# Shared shell helpers of the S3 benchmark scripts (sourced, not executed).

# tree_pids (and the all-in-one helpers) live with the other benchmarks' shell helpers.
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/aio_lib.sh"

# Those of PIDS... that are proxy processes (`strato serve proxy`: the parent and its workers).
proxy_pids_of() {
  local p out=()
  for p in "$@"; do
    [[ $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null) == *" serve proxy "* ]] && out+=("$p")
  done
  echo "${out[@]}"
}

# utime + stime (clock ticks, all threads) summed over PIDS...; a process gone counts 0.
# Bash builtins only: no process is started, so reading costs the measured machine nothing.
cpu_ticks() {
  local t=0 p line f
  for p in "$@"; do
    line=
    { read -r line < "/proc/$p/stat"; } 2>/dev/null || true
    [ -n "$line" ] || continue
    read -r -a f <<<"${line##*) }"  # fields after "pid (comm) ": state ppid ... utime stime
    t=$(( t + f[11] + f[12] ))
  done
  echo "$t"
}

# "busy total" jiffies of the whole machine, as bench.sh reads them.
machine_jiffies() { awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }
