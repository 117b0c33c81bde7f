#!/usr/bin/env bash
# Where an S3 request's extra server CPU goes, against a Swift request of the same method and size
# (issue 4), on a running Strato all-in-one: interleaved wrk runs (the closed loop of
# side_by_side.sh) of
#   swift    the Swift peer's swift_obj.lua GET or PUT (token, no Expect)
#   s3       boto3's own get_object / put_object requests (bench_s3.sh's capture: SigV4 header;
#            GET: empty-body SHA-256, x-amz-checksum-mode: ENABLED; PUT: signed payload SHA-256,
#            x-amz-checksum-crc32, Expect: 100-continue), captured afresh before each run
#   s3-noexp (PUT) the same signed heads with the "Expect: 100-continue" line removed (Expect is not
#            a signed header, so every signature still verifies): s3 - s3-noexp is what answering
#            the 100 Continue costs the servers; s3-noexp - swift is the rest of the S3 path.
# Per run: ops/s and, per answered request, µs of user and system CPU of the proxy processes and
# of the other server processes (storage nodes, identity), from /proc/<pid>/stat; then medians.
# With STRACE=1, one extra run per kind under `strace -c -f` of the proxy prints its system calls
# per request (a small GET: Swift 3 writes, S3 2 since its head leaves with the body).
# With PYSPY=1, one extra run per kind under `py-spy record --gil --format raw` of the first proxy
# worker writes $OUT/pyspy-<kind>.txt (collapsed stacks: count per stack) and prints the samples
# per answered request and the top frames by self samples (PYSPY_RATE=1000 samples/s);
# benchmarks/s3/pyspy_diff.py then compares two such files per request, frame by frame.
# Usage: benchmarks/s3/account.sh AIO_JSON      (put_account.sh / get_account.sh set METHOD)
#   env: METHOD=GET|PUT ROUNDS=4 DURATION=6s CONC=16 N=200 SIZE=4096 STRACE=0 PYSPY=0
#        KINDS="swift s3" (PUT: "swift s3 s3-noexp") OUT=/tmp/s3-account-<method>
#        SWIFT_PEER=/work/shared/peers/swift  BUCKET=s3bench-4k CONTAINER=bench-4k
# Fills BUCKET (boto3) and CONTAINER (the peer's prep.py) with N objects of SIZE bytes if needed.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"
[ $# -eq 1 ] || { echo "usage: $0 AIO_JSON" >&2; exit 2; }
AIO=$1
PEER=${SWIFT_PEER:-/work/shared/peers/swift}
METHOD=${METHOD:-GET}
case $METHOD in GET) kinds="swift s3" ;; PUT) kinds="swift s3 s3-noexp" ;;
  *) echo "METHOD is GET or PUT" >&2; exit 2 ;; esac
ROUNDS=${ROUNDS:-4}; DURATION=${DURATION:-6s}; CONC=${CONC:-16}; N=${N:-200}; SIZE=${SIZE:-4096}
KINDS=${KINDS:-$kinds}; BUCKET=${BUCKET:-s3bench-4k}; CONTAINER=${CONTAINER:-bench-4k}
OUT=${OUT:-/tmp/s3-account-${METHOD,,}}; mkdir -p "$OUT"
PY=${PY:-$REPO/.venv/bin/python}
HZ=$(getconf CLK_TCK)
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
command -v wrk >/dev/null || { echo "wrk missing: apt-get install wrk" >&2; exit 1; }

read -r endpoint aio_pid auth user key < <("$PY" -c '
import json, sys
a = json.load(open(sys.argv[1]))
print(a["s3"]["endpoint"], a["pid"], a["swift"]["auth_url"], a["swift"]["user"], a["swift"]["key"])' "$AIO")
read -r url tok < <("$PEER/token.sh" "$auth" "$user" "$key")
hostport=$(sed -E 's#^(https?://[^/]+).*#\1#' <<<"$url"); path=${url#$hostport}
SERVER_PIDS=$(tree_pids "$aio_pid"); PROXY_PIDS=$(proxy_pids_of $SERVER_PIDS)
[ -n "$PROXY_PIDS" ] || { echo "no proxy process under the all-in-one" >&2; exit 1; }
OTHER_PIDS=$(for p in $SERVER_PIDS; do [[ " $PROXY_PIDS " == *" $p "* ]] || echo "$p"; done)

"$PY" "$PEER/bench/prep.py" "$url" "$tok" "$CONTAINER:$SIZE:$N" >/dev/null
"$PY" "$HERE/capture.py" prep --aio "$AIO" --bucket "$BUCKET" --size "$SIZE" --count "$N" >/dev/null

# "user system" clock ticks summed over PIDS... (all threads; a process gone counts 0)
ticks() {
  local u=0 s=0 p line f
  for p in "$@"; do
    line=; { read -r line < "/proc/$p/stat"; } 2>/dev/null || true
    [ -n "$line" ] || continue
    read -r -a f <<<"${line##*) }"
    u=$(( u + f[11] )); s=$(( s + f[12] ))
  done
  echo "$u $s"
}

prepare() {  # kind: the request heads (S3 kinds), captured afresh (a SigV4 date ages)
  [ "$1" = swift ] && return 0
  rm -rf "$TMP/req"
  "$PY" "$HERE/capture.py" requests --aio "$AIO" --bucket "$BUCKET" --method "$METHOD" \
      --size "$SIZE" --count "$N" --out "$TMP/req" >/dev/null
  if [ "$1" = s3-noexp ]; then
    "$PY" -c 'import sys; p = sys.argv[1]; d = open(p, "rb").read()
assert b"\r\nExpect: 100-continue\r\n" in d, "boto3 no longer sends Expect"
open(p, "wb").write(d.replace(b"\r\nExpect: 100-continue\r\n", b"\r\n"))' "$TMP/req/heads.bin"
  fi
}

load_wrk() {  # kind duration
  if [ "$1" = swift ]; then
    wrk -t 1 -c "$CONC" -d "$2" --timeout 30s -s "$PEER/bench/swift_obj.lua" "$hostport" -- \
        "$METHOD" "$tok" "$path/$CONTAINER" "$SIZE" "$N"
  else
    local body=-; [ "$METHOD" = PUT ] && body=$TMP/req/body.bin
    wrk -t 1 -c "$CONC" -d "$2" --timeout 30s -s "$HERE/s3_obj.lua" "$endpoint" -- \
        "$TMP/req/heads.bin" "$body"
  fi
}

requests_of() {  # wrk output file: final answers, the failed ones, duration
  awk '/^RESULT/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
       END { print v["requests"] + 0, v["err_status"] + v["bad_status"] + v["no_continue"] \
             + v["err_timeout"] + v["err_connect"] + v["err_read"] + v["err_write"],
             v["duration_us"] + 0 }' "$1"
}

run() {  # kind round
  prepare "$1"
  local pu ps ou os pu1 ps1 ou1 os1 n err dur
  read -r pu ps < <(ticks $PROXY_PIDS); read -r ou os < <(ticks $OTHER_PIDS)
  load_wrk "$1" "$DURATION" > "$TMP/out" 2>&1 || { cat "$TMP/out" >&2; exit 1; }
  read -r pu1 ps1 < <(ticks $PROXY_PIDS); read -r ou1 os1 < <(ticks $OTHER_PIDS)
  read -r n err dur < <(requests_of "$TMP/out")
  [ "$n" -gt 0 ] || { cat "$TMP/out" >&2; exit 1; }
  awk -v k="$1" -v r="$2" -v n="$n" -v err="$err" -v dur="$dur" -v hz="$HZ" \
      -v pu=$((pu1 - pu)) -v ps=$((ps1 - ps)) -v ou=$((ou1 - ou)) -v os=$((os1 - os)) \
      -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
    per = 1e6 / hz / n
    printf "%s\t%d\t%.0f\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%s\n", k, r, n / (dur / 1e6), err,
           pu * per, ps * per, (pu + ps) * per, ou * per, os * per, (pu + ps + ou + os) * per, load }'
}

printf 'kind\tround\tops/s\terrors\tproxy_user\tproxy_sys\tproxy_us\tnodes_user\tnodes_sys\tall_us\tload1\n' \
  | tee "$TMP/all.tsv"
for r in $(seq 1 "$ROUNDS"); do
  kinds=$KINDS; (( r % 2 )) || kinds=$(tr ' ' '\n' <<<"$KINDS" | tac | tr '\n' ' ')
  for k in $kinds; do run "$k" "$r" | tee -a "$TMP/all.tsv"; done
done
cp "$TMP/all.tsv" "$OUT/rounds.tsv"
echo "medians (µs of CPU per request):"
for k in $KINDS; do
  awk -F'\t' -v k="$k" '$1 == k { for (i = 3; i <= 10; i++) col[i, ++c[i]] = $i }
    function med(i,   n, a, j, x, t) { n = c[i]; for (j = 1; j <= n; j++) a[j] = col[i, j]
      for (j = 2; j <= n; j++) { x = a[j]; t = j - 1; while (t > 0 && a[t] > x) { a[t + 1] = a[t]; t-- } a[t + 1] = x }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    END { printf "  %-9s ops/s %5.0f  proxy %5.0f (user %4.0f sys %4.0f)  nodes %5.0f (user %4.0f sys %4.0f)  all %5.0f\n",
          k, med(3), med(7), med(5), med(6), med(8) + med(9), med(8), med(9), med(10) }' "$TMP/all.tsv"
done

if [ "${STRACE:-0}" = 1 ]; then  # system calls per request of the proxy (counts only: slowed)
  command -v strace >/dev/null || { echo "strace missing" >&2; exit 1; }
  for k in $KINDS; do
    prepare "$k"
    args=(); for p in $PROXY_PIDS; do args+=(-p "$p"); done
    strace -c -f -o "$TMP/strace" "${args[@]}" 2>/dev/null & sp=$!
    sleep 1
    load_wrk "$k" 4s > "$TMP/out" 2>&1
    kill -INT "$sp"; wait "$sp" 2>/dev/null || true
    read -r n _ < <(requests_of "$TMP/out")
    echo "proxy system calls per request, $k ($n requests under strace):"
    awk -v n="$n" '$4 ~ /^[0-9]+$/ && $4 / n >= 0.01 { printf "    %-14s %6.2f\n", $NF, $4 / n }' "$TMP/strace"
  done
fi

if [ "${PYSPY:-0}" = 1 ]; then
  SPY=${PYSPY_BIN:-$REPO/.venv/bin/py-spy}
  [ -x "$SPY" ] || SPY=$(command -v py-spy) || { echo "py-spy missing: pip install py-spy" >&2; exit 1; }
  # The worker that serves requests: a proxy process with no proxy child (one worker: the child).
  worker=
  for p in $PROXY_PIDS; do [ -z "$(pgrep -P "$p" || true)" ] && { worker=$p; break; }; done
  for k in $KINDS; do
    prepare "$k"
    "$SPY" record --gil --format raw --rate "${PYSPY_RATE:-1000}" --pid "$worker" --output "$OUT/pyspy-$k.txt" \
        --duration 8 >/dev/null 2>&1 & sp=$!
    sleep 1
    load_wrk "$k" 6s > "$TMP/out" 2>&1
    wait "$sp" || true
    read -r n _ < <(requests_of "$TMP/out")
    echo "$n" > "$OUT/pyspy-$k.requests"
    echo "py-spy --gil, $k: $n requests; samples per request and top self frames:"
    "$PY" - "$OUT/pyspy-$k.txt" "$n" <<'EOF'
import collections, sys
total, own = 0, collections.Counter()
for line in open(sys.argv[1]):
    stack, _, count = line.rstrip("\n").rpartition(" ")
    if not count.isdigit():
        continue
    total += int(count)
    own[stack.split(";")[-1]] += int(count)
print(f"    {total} samples, {total / max(int(sys.argv[2]), 1):.3f} per request")
for frame, c in own.most_common(15):
    print(f"    {c:6d} {100 * c / max(total, 1):5.1f}%  {frame[:110]}")
EOF
  done
fi
