#!/usr/bin/env bash
# The whole test suite, as CI runs it: lint gates, the Rust tests against both metadata stores
# (SQLite and PostgreSQL) with real PostgreSQL/MariaDB/SQLite targets, the frontend's checks,
# the API document against the API (schemathesis), the browser journey in Chromium, the
# nginx/systemd deployment tests (deploy and roll back, TLS scan) and the metrics scrape (promtool).
# Installs what it needs; every step runs even after a failure, and the summary says which failed.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$AUTODB_ROOT"

passed=(); failed=()
step() {
  local name="$1"; shift
  log "$name"
  local start=$SECONDS
  if "$@"; then passed+=("$name ($((SECONDS - start))s)"); else failed+=("$name ($((SECONDS - start))s)"); fi
}

set -e
ensure_toolchains
ensure_apt postgresql-client mariadb-client sqlite3 chromium nginx curl openssl shellcheck systemd python3-venv
ensure_databases
set +e

export CARGO_TERM_COLOR=never
step "layer rules (scripts/lint/imports.py: store↛services, services↛actix, no import circles)" \
  bash -c 'python3 scripts/lint/imports.py --self-test && python3 scripts/lint/imports.py'
step "cargo fmt" cargo fmt --all -- --check
step "cargo clippy" cargo clippy --locked --all-targets -- -D warnings
step "rust tests (SQLite store)" cargo test --locked --workspace
step "rust API tests (PostgreSQL store)" env AUTODB_TEST_STORE=postgres cargo test --locked --test api

bin="$AUTODB_ROOT/target/debug/autodb"
step "API document vs the API (schemathesis, every check)" \
  env AUTODB_BIN="$bin" bash scripts/tests/schemathesis_test.sh
openapi_current() {
  "$bin" openapi > target/openapi.json &&
    node frontend/scripts/gen-api.mjs target/openapi.json target/schema.d.ts >/dev/null &&
    diff -u frontend/src/api/schema.d.ts target/schema.d.ts
}
if step "frontend npm ci" frontend_deps; then
  step "frontend types match the OpenAPI document" openapi_current
  step "frontend typecheck" bash -c 'cd frontend && npm run --silent typecheck'
  step "frontend lint" bash -c 'cd frontend && npm run --silent lint'
  step "frontend unit tests" bash -c 'cd frontend && npm run --silent test'
  step "frontend build" bash -c 'cd frontend && npm run --silent build'
  step "browser journey (Chromium)" env AUTODB_BIN="$bin" bash frontend/e2e/run-e2e.sh
fi
step "deployment (nginx, systemd, install)" env AUTODB_BIN="$bin" bash scripts/tests/deploy_test.sh
step "metrics (promtool check metrics on a real scrape)" env AUTODB_BIN="$bin" bash scripts/tests/metrics_test.sh

echo
for s in "${passed[@]}"; do echo "  ok    $s"; done
for s in "${failed[@]}"; do echo "  FAIL  $s"; done
echo "steps: ${#passed[@]} passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
