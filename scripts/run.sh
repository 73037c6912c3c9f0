#!/usr/bin/env bash
# Builds AutoDB and starts it on its embedded defaults: SQLite store under data/, the UI served
# by the binary, listening on 127.0.0.1:5000. On the first start it creates an `admin` account
# and prints its password once. Environment variables AUTODB__SECTION__KEY override settings.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$AUTODB_ROOT"

ensure_toolchains
log "building the UI"
frontend_deps
(cd frontend && npm run build --silent)
log "building the server (release)"
cargo build --release --locked -p autodb
bin="$AUTODB_ROOT/target/release/autodb"

export AUTODB__SERVER__STATIC_DIR="${AUTODB__SERVER__STATIC_DIR:-$AUTODB_ROOT/frontend/dist}"
# SQLite demo targets live in a folder of their own, never beside the store (targets.sqlite_dirs).
export AUTODB__TARGETS__SQLITE_DIRS="${AUTODB__TARGETS__SQLITE_DIRS:-$AUTODB_ROOT/demo-targets}"
mkdir -p "$AUTODB_ROOT/demo-targets"
"$bin" migrate >/dev/null
if [ -z "$("$bin" user list)" ]; then
  log "first start: creating the admin account (the password is shown only now)"
  "$bin" user create admin --role admin --generate-password
fi
log "AutoDB on http://${AUTODB__SERVER__BIND:-127.0.0.1:5000} (Ctrl-C stops it)"
# Two malloc arenas, as the systemd unit sets (half the peak RSS under a fleet-sized job).
MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2} exec "$bin" serve --no-migrate
