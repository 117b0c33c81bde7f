# Shell helpers shared by the benchmark scripts that run a Strato all-in-one (sourced, not
# executed): its configuration, start, stop, and its processes.

# The benchmarks' all-in-one configuration to FILE: object store only, quiet logs,
# proxy.workers=$PROXY_WORKERS (2) and storage.disk_threads=$DISK_THREADS (8); further
# [storage] lines (e.g. "replicator_interval = 36000.0") as extra arguments.
bench_aio_toml() {
  local file=$1; shift
  { printf '[cluster]\ndisable = ["blockserver", "compute", "network"]\nlog_level = "warning"\n'
    printf '[proxy]\nworkers = %s\n[storage]\ndisk_threads = %s\n' "${PROXY_WORKERS:-2}" "${DISK_THREADS:-8}"
    local line; for line in "$@"; do echo "$line"; done; } > "$file"
}

# Start `strato aio` on a fresh DATA dir (REPO's venv), log to LOG; sets AIO_PID and waits (up to
# 90 s) for DATA/aio.json. Returns 1 (with a message) when it did not come up.
start_bench_aio() {  # repo data port_offset toml log
  local repo=$1 data=$2 offset=$3 toml=$4 log=$5
  rm -rf "$data"
  "$repo/.venv/bin/strato" aio --data "$data" --port-offset "$offset" --config "$toml" > "$log" 2>&1 &
  AIO_PID=$!
  for _ in $(seq 1 900); do [ -f "$data/aio.json" ] && break; kill -0 "$AIO_PID" || break; sleep 0.1; done
  [ -f "$data/aio.json" ] || { echo "strato aio did not come up; see $log" >&2; return 1; }
}

# Start `strato aio` from source TREE (PYTHONPATH=TREE on this repository's venv python, $PY) on a
# fresh DATA dir at OFFSET with TOML, log to LOG; sets TREE_AIO_PID (also appended to the PIDS
# array) and waits (up to 90 s) for DATA/aio.json; exits 1 with a message when it did not come up.
# For the A/B scripts that run two trees side by side.
start_tree_aio() {  # tree data offset toml log
  local tree=$1 data=$2 off=$3 toml=$4 log=$5
  rm -rf "$data"
  (cd "$tree" && PYTHONPATH=$tree exec "$PY" -m strato aio --data "$data" --port-offset "$off" \
      --config "$toml" > "$log" 2>&1) &
  TREE_AIO_PID=$!; PIDS+=("$TREE_AIO_PID")
  for _ in $(seq 1 900); do [ -f "$data/aio.json" ] && break; kill -0 "$TREE_AIO_PID" || break; sleep 0.1; done
  [ -f "$data/aio.json" ] || { echo "strato aio from $tree did not come up; see $log" >&2; exit 1; }
}

# SIGTERM to PID (an aio supervisor stops its children), SIGKILL after 10 s.
stop_pid() {
  local pid=$1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid"; for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" || true
}

# "storage_url token" of the all-in-one's Swift test user (the Swift peer's token.sh).
aio_swift_login() {  # repo data peer
  local auth user key
  read -r auth user key < <("$1/.venv/bin/python" -c 'import json,sys; s=json.load(open(sys.argv[1]))["swift"]; print(s["auth_url"], s["user"], s["key"])' "$2/aio.json")
  "$3/token.sh" "$auth" "$user" "$key"
}

# The process ROOT and every descendant (a `strato aio` supervisor: identity, storage nodes, proxy
# and its workers).
tree_pids() {
  local todo=("$1") all=() p c
  while [ ${#todo[@]} -gt 0 ]; do
    p=${todo[0]}; todo=("${todo[@]:1}"); all+=("$p")
    for c in $(pgrep -P "$p" || true); do todo+=("$c"); done
  done
  echo "${all[@]}"
}
