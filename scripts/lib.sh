# Shared helpers for scripts/run.sh and scripts/test.sh. Source it; it changes nothing by itself.

# shellcheck shell=bash
AUTODB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export AUTODB_ROOT

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Installs the Debian packages that are missing (apt-get update only when something is).
ensure_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  else
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
}

# The toolchains the build needs: cargo (from the machine) and Node.js 20+ with npm.
ensure_toolchains() {
  command -v cargo >/dev/null || { echo "cargo is required (install Rust with rustup)" >&2; exit 1; }
  ensure_apt pkg-config libpq-dev
  if ! command -v npm >/dev/null; then
    ensure_apt nodejs npm
  fi
}

# Waits until `cmd...` succeeds, for at most $1 seconds.
wait_for() {
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}

# PostgreSQL and MariaDB on their standard local ports (the tests' real targets and store).
ensure_databases() {
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
    wait_for 60 pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL did not start" >&2; exit 1; }
  fi
  if ! mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then
    log "starting MariaDB"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
    wait_for 60 mariadb-admin -h 127.0.0.1 -u root ping || { echo "MariaDB did not start" >&2; exit 1; }
  fi
}

# A throw-away PostgreSQL cluster for a benchmark: `throwaway_pg PORT [-c name=value ...]` makes
# one with initdb (trust, superuser postgres) in a new folder under /tmp, starts it on
# 127.0.0.1:PORT and prints the folder; `stop_throwaway_pg DIR` stops and removes it. The
# machine's own server is neither restarted nor crowded.
throwaway_pg() {
  local port=$1; shift
  local bins=(/usr/lib/postgresql/*/bin) bin dir opts=""
  bin=$(printf '%s\n' "${bins[@]}" | sort -V | tail -1)
  dir=$(mktemp -d /tmp/autodb-bench-pg.XXXXXX)
  chown postgres "$dir"
  runuser -u postgres -- "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
  while [ $# -gt 0 ]; do opts+=" $1 $2"; shift 2; done
  runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1$opts" start >/dev/null
  echo "$dir"
}

stop_throwaway_pg() {
  [ -n "${1:-}" ] && [ -d "$1" ] || return 0
  local bins=(/usr/lib/postgresql/*/bin) bin
  bin=$(printf '%s\n' "${bins[@]}" | sort -V | tail -1)
  runuser -u postgres -- "$bin/pg_ctl" -D "$1/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$1"
}

# Installs the frontend's npm packages exactly as locked.
frontend_deps() {
  (cd "$AUTODB_ROOT/frontend" && npm ci --no-audit --no-fund --loglevel=error)
}
