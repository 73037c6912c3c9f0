#!/usr/bin/env bash
# Jobs benchmark: 20 jobs x 10 PostgreSQL targets running `SELECT pg_sleep(1)` on a release
# build with the engine limits raised to 200 parallel runs. See scripts/bench/README.md.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$AUTODB_ROOT"
ensure_toolchains
ensure_databases

target_dir=""
cargo build --release --locked -p autodb --bin autodb --example bench_jobs
work=$(mktemp -d)
server=""
store_dir=""
cleanup() {
  [ -z "$server" ] || { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; }
  [ -z "${all_cpus:-}" ] || pg_affinity "$all_cpus"
  stop_throwaway_pg "$store_dir"
  stop_throwaway_pg "$target_dir"
  rm -rf "$work"
}
trap cleanup EXIT
# The targets: a throw-away PostgreSQL cluster of its own on BENCH_TARGET_PORT (5434), made with
# initdb and max_connections = 300 (200 sessions at once), so the machine's shared server is
# neither restarted nor crowded. BENCH_TARGET=local uses the local server on 5432 instead,
# raising its max_connections to 300 (a restart) when lower.
if [ "${BENCH_TARGET:-separate}" = local ]; then
  target_port=5432
  max=$(psql -X -At -h 127.0.0.1 -U postgres -c 'SHOW max_connections')
  if [ "$max" -lt 300 ]; then
    log "raising PostgreSQL max_connections from $max to 300 (restarts the local cluster)"
    psql -X -q -h 127.0.0.1 -U postgres -c 'ALTER SYSTEM SET max_connections = 300'
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main restart
    wait_for 60 pg_isready -q -h 127.0.0.1 -p 5432
  fi
else
  target_port=${BENCH_TARGET_PORT:-5434}
  target_dir=$(throwaway_pg "$target_port" -c max_connections=300)
fi
export BENCH_TARGET_PORT=$target_port

port=${BENCH_PORT:-5077}
store=${BENCH_STORE:-sqlite://$work/autodb.db}
# BENCH_STORE=separate: a PostgreSQL metadata store of its own (a throw-away cluster on port
# 5433, on AutoDB's cores), as in production, where the store is not one of the targets.
if [ "$store" = separate ]; then
  store_dir=$(throwaway_pg 5433 -c shared_preload_libraries=pg_stat_statements)
  psql -X -q -h 127.0.0.1 -p 5433 -U postgres -c 'CREATE DATABASE autodb'
  psql -X -q -h 127.0.0.1 -p 5433 -U postgres -d autodb -c 'CREATE EXTENSION pg_stat_statements'
  store=postgres://postgres@127.0.0.1:5433/autodb
fi
export AUTODB__SERVER__BIND="127.0.0.1:$port"
export AUTODB__DATABASE__URL="$store"
export AUTODB__DATABASE__POOL_SIZE=32
export AUTODB__SECURITY__SECRET_KEY_FILE="$work/secret.key"
export AUTODB__ENGINE__MAX_PARALLEL_RUNS=200
export AUTODB__ENGINE__MAX_PARALLEL_RUNS_PER_TARGET=20
export RUST_LOG=warn
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2} # as systemd/autodb.service sets it
BENCH_PASSWORD="bench-$(date +%s)-$RANDOM"
export BENCH_PASSWORD
AUTODB_PASSWORD="$BENCH_PASSWORD" target/release/autodb user create admin --role admin >/dev/null

# PostgreSQL: the postmaster, its live children and the children it has reaped.
pg_pid=$(head -1 "$(psql -X -At -h 127.0.0.1 -p "$target_port" -U postgres -c 'SHOW data_directory')/postmaster.pid")
pg_ticks() {
  { awk '{print $14+$15+$16+$17}' "/proc/$pg_pid/stat"
    for c in $(pgrep -P "$pg_pid"); do awk '{print $14+$15}' "/proc/$c/stat" 2>/dev/null; done
  } | awk '{s+=$1} END {print s}'
}
pg_affinity() { # CPU list for the postmaster and every process it has (new sessions inherit it)
  for p in "$pg_pid" $(pgrep -P "$pg_pid"); do taskset -a -p -c "$1" "$p" >/dev/null 2>&1 || true; done
}

# BENCH_PIN=1 (default on 2+ cores): the target PostgreSQL gets the last core, AutoDB and the
# bench client the others — as in production, where the targets are other machines, so the
# 200 session forks of the targets are not charged to the API. BENCH_PIN=0 shares every core.
ncpu=$(nproc)
all_cpus="0-$((ncpu - 1))"
pin=${BENCH_PIN:-1}
[ "$ncpu" -ge 2 ] || pin=0
api=()
if [ "$pin" = 1 ]; then
  pg_affinity "$((ncpu - 1))"
  api=(taskset -c "0-$((ncpu - 2))")
  if [ -n "$store_dir" ]; then # the store cluster goes with AutoDB
    store_pid=$(head -1 "$store_dir/data/postmaster.pid")
    for p in "$store_pid" $(pgrep -P "$store_pid"); do taskset -a -p -c "0-$((ncpu - 2))" "$p" >/dev/null; done
  fi
  echo "CPUs: target PostgreSQL on CPU $((ncpu - 1)); AutoDB and the bench client on CPU 0-$((ncpu - 2))"
else
  echo "CPUs: all $ncpu shared by the target PostgreSQL, AutoDB and the bench client"
fi

"${api[@]}" target/release/autodb serve >"$work/server.log" 2>&1 &
server=$!
wait_for 30 curl -sf "http://127.0.0.1:$port/api/health"
cpu_ticks() { awk '/^cpu /{print $2+$3+$4+$6+$7+$8}' /proc/stat; }
server_ticks() { awk '{print $14+$15}' "/proc/$server/stat"; }
sys0=$(cpu_ticks); srv0=$(server_ticks); pg0=$(pg_ticks)
BENCH_URL="http://127.0.0.1:$port" "${api[@]}" target/release/examples/bench_jobs
sys1=$(cpu_ticks); srv1=$(server_ticks); pg1=$(pg_ticks)
echo "peak RSS of autodb serve (VmHWM, whole run): $(awk '/^VmHWM/ {printf "%.0f MB", $2 / 1024}' "/proc/$server/status")"
hz=$(getconf CLK_TCK)
secs() { awk -v t="$1" -v hz="$hz" 'BEGIN {printf "%.1f", t / hz}'; }
# Where the machine's CPU went during the whole run (idle phase, load phase and wait).
echo "CPU busy on all cores: $(secs $((sys1 - sys0))) s; autodb serve $(secs $((srv1 - srv0))) s," \
  "target PostgreSQL $(secs $((pg1 - pg0))) s (the rest: the bench client, a separate store, others)"
# The floor of "all done", in the same sitting and with the same pinning: the bench's 200 runs
# as 200 pgbench clients that each connect and run the bench SQL once, all at once. Every session
# fork of the target server lands on its one core, so this is more than the 1 s of the sleep.
runs=$(( ${BENCH_JOBS:-20} * ${BENCH_TARGET_COUNT:-10} ))
printf '%s;\n' "${BENCH_SQL:-SELECT pg_sleep(1)}" >"$work/floor.sql"
t0=$(date +%s.%N)
"${api[@]}" pgbench -n -C -c "$runs" -j 2 -t 1 -f "$work/floor.sql" -h 127.0.0.1 -p "$target_port" -U postgres postgres >"$work/floor.log" 2>&1 ||
  { cat "$work/floor.log"; exit 1; }
t1=$(date +%s.%N)
echo "floor of all done: $runs pgbench clients at once, each connect + the bench SQL + disconnect: $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f s", b - a}')"
if [ -n "$store_dir" ]; then
  echo "the store's busiest statements (pg_stat_statements, whole run):"
  psql -X -h 127.0.0.1 -p 5433 -U postgres -d autodb -c "SELECT calls, round(total_exec_time::numeric, 1) AS total_ms, \
    round(mean_exec_time::numeric, 3) AS mean_ms, left(regexp_replace(query, '\s+', ' ', 'g'), 90) AS query \
    FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 12"
fi
