#!/usr/bin/env bash
# side_by_side_run.sh [ROUNDS]  -- issue 6's benchmark from a clean checkout: Strato beside tgtd
#
# Starts a private tgtd (the peers' tgt-up.sh: rdwr backing store, page cache) and Strato's
# standalone exporter (native build unless STRATO_NO_EXTENSIONS=1 is set), each on its own file of
# the same SIZE of random bytes on the same file system, then runs side_by_side.sh (interleaved
# rounds of iscsi-perf reads and qemu-img bench writes, best round each, ratios and CPU per
# command) with each file re-read into the page cache just before each of its target's runs.
# Stops both at the end.
#   env: SIZE=1G, DIR (default a temp dir), TGT_PEER (default /work/shared/peers/tgt, else
#        ../shared/peers/tgt beside the checkout), PORTS="3350 3351" (tgt, Strato), TGT_CTL=35,
#        PYTHON (default REPO/.venv/bin/python), KEEP=1 keeps DIR
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PY=${PYTHON:-$REPO/.venv/bin/python}
ROUNDS=${1:-3}
SIZE=${SIZE:-1G}
read -r TPORT SPORT <<< "${PORTS:-3350 3351}"
PEER=${TGT_PEER:-/work/shared/peers/tgt}
[[ -x $PEER/tgt-up.sh ]] || PEER=$REPO/../shared/peers/tgt
[[ -x $PEER/tgt-up.sh ]] || { echo "needs the peers' tgt-up.sh (set TGT_PEER)" >&2; exit 2; }
for tool in tgtd iscsi-perf qemu-img; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 2; }
done
DIR=${DIR:-$(mktemp -d /tmp/strato-sbs.XXXXXX)}
export TGT_DIR=$DIR/tgt TGT_PORTAL=127.0.0.1:$TPORT TGT_CTL=${TGT_CTL:-35} TGT_KEEP=1
SPID=
cleanup() {
    [[ -n $SPID ]] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
    "$PEER/tgt-down.sh" >/dev/null 2>&1
    [[ ${KEEP:-0} == 1 ]] || rm -rf "$DIR"
}
trap cleanup EXIT

mkdir -p "$TGT_DIR"
head -c "$SIZE" /dev/urandom > "$DIR/strato.img"
cp "$DIR/strato.img" "$TGT_DIR/vol1.img"
TURL=$("$PEER/tgt-up.sh" "$SIZE" | tail -1) || { echo "tgt-up.sh failed" >&2; exit 1; }
TPID=$(cat "$TGT_DIR/tgtd.pid")
(cd "$REPO" && exec "$PY" -m blockserver.iscsi.standalone --file "$DIR/strato.img" \
    --port "$SPORT") > "$DIR/strato.log" 2>&1 &
SPID=$!
for _ in $(seq 100); do grep -q READY "$DIR/strato.log" && break; sleep 0.1; done
SURL=$(sed -n 's/^READY //p' "$DIR/strato.log")
[[ -n $SURL ]] || { echo "Strato target did not start:" >&2; cat "$DIR/strato.log" >&2; exit 1; }
echo "# strato: $(cd "$REPO" && "$PY" -m strato version 2>&1 | tail -1)"
echo "# tgt: $(tgtd --version 2>&1 | head -1); $(nproc) cores, $(uname -r), load before:" \
     "$(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%F %T UTC'), SIZE=$SIZE"
WARM_A=$DIR/strato.img WARM_T=$TGT_DIR/vol1.img "$HERE/side_by_side.sh" "$SURL" "$SPID" "$TURL" "$TPID" \
    "$ROUNDS"
