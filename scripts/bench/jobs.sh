#!/usr/bin/env bash
# Jobs benchmark: 20 jobs x 10 PostgreSQL targets running `SELECT pg_sleep(1)` on a release
# build with the engine limits raised to 200 parallel runs. See scripts/bench/README.md.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$AUTODB_ROOT"
ensure_toolchains
ensure_databases

# 200 sessions at once need more than PostgreSQL's default 100 connections.
max=$(psql -X -At -h 127.0.0.1 -U postgres -c 'SHOW max_connections')
if [ "$max" -lt 300 ]; then
  log "raising PostgreSQL max_connections from $max to 300 (restarts the local cluster)"
  psql -X -q -h 127.0.0.1 -U postgres -c 'ALTER SYSTEM SET max_connections = 300'
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main restart
  wait_for 60 pg_isready -q -h 127.0.0.1 -p 5432
fi

cargo build --release --locked -p autodb --bin autodb --example bench_jobs
work=$(mktemp -d)
port=${BENCH_PORT:-5077}
export AUTODB__SERVER__BIND="127.0.0.1:$port"
export AUTODB__DATABASE__URL="${BENCH_STORE:-sqlite://$work/autodb.db}"
export AUTODB__DATABASE__POOL_SIZE=32
export AUTODB__SECURITY__SECRET_KEY_FILE="$work/secret.key"
export AUTODB__ENGINE__MAX_PARALLEL_RUNS=200
export AUTODB__ENGINE__MAX_PARALLEL_RUNS_PER_TARGET=20
export RUST_LOG=warn
BENCH_PASSWORD="bench-$(date +%s)-$RANDOM"
export BENCH_PASSWORD
AUTODB_PASSWORD="$BENCH_PASSWORD" target/release/autodb user create admin --role admin >/dev/null
target/release/autodb serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
wait_for 30 curl -sf "http://127.0.0.1:$port/api/health"
cpu_ticks() { awk '/^cpu /{print $2+$3+$4+$6+$7+$8}' /proc/stat; }
server_ticks() { awk '{print $14+$15}' "/proc/$server/stat"; }
sys0=$(cpu_ticks); srv0=$(server_ticks)
BENCH_URL="http://127.0.0.1:$port" target/release/examples/bench_jobs
sys1=$(cpu_ticks); srv1=$(server_ticks)
hz=$(getconf CLK_TCK)
# Where the machine's CPU went during the whole run (idle phase, load phase and wait).
echo "CPU busy on all cores: $(( (sys1 - sys0) / hz )) s; of it autodb serve: $(( (srv1 - srv0) / hz )) s (the rest: PostgreSQL, the bench client, others)"
