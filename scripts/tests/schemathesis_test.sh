#!/usr/bin/env bash
# The API document against the API, as an outside client reads it: schemathesis (installed into
# target/schemathesis-venv) generates requests from /api/openapi.json, valid and invalid, sends
# them to a real `autodb serve` on a fresh SQLite store and runs every check (status codes and
# bodies as declared, schema-valid input accepted, invalid input refused, 405 + Allow for
# undeclared methods, no 5xx). Exit 0 only when it finds nothing.
#
#   AUTODB_BIN=target/debug/autodb scripts/tests/schemathesis_test.sh
#   ST_MAX_EXAMPLES (default 12) cases per operation; ST_SEED (default 1) makes a run repeatable;
#   ST_ARGS extra arguments for `st run` (e.g. "--include-path-regex /api/jobs").
#   KEEP_TMP=1 keeps the temp folder (server log, schemathesis report).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
AUTODB_BIN=${AUTODB_BIN:-target/debug/autodb}
case $AUTODB_BIN in /*) ;; *) AUTODB_BIN=$ROOT/$AUTODB_BIN ;; esac
[ -x "$AUTODB_BIN" ] || { echo "schemathesis_test: no binary at $AUTODB_BIN (cargo build)" >&2; exit 2; }

VENV=$ROOT/target/schemathesis-venv
if ! "$VENV/bin/st" --version >/dev/null 2>&1; then
  echo "installing schemathesis into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check 'schemathesis>=4.3,<5'
fi

TMP=$(mktemp -d /tmp/autodb-schemathesis.XXXXXX)
SERVER_PID=""
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  local status=$?
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ "$status" -ne 0 ] && [ -f "$TMP/server.log" ]; then
    echo "schemathesis_test: last server log lines:" >&2
    tail -n 20 "$TMP/server.log" >&2
  fi
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
mkdir -p "$TMP/data" "$TMP/targets"
export AUTODB__SERVER__BIND=127.0.0.1:$PORT
export AUTODB__DATABASE__URL=sqlite://$TMP/data/autodb.db
export AUTODB__SECURITY__SECRET_KEY_FILE=$TMP/data/secret.key
export AUTODB__TARGETS__SQLITE_DIRS=$TMP/targets
: >"$TMP/targets/target.db"

PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
printf '%s\n' "$PASSWORD" | "$AUTODB_BIN" user create admin --role admin --password-stdin >/dev/null
"$AUTODB_BIN" serve >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
deadline=$((SECONDS + 60))
until curl -fsS "$BASE/api/health" >/dev/null 2>&1; do
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "schemathesis_test: serve exited" >&2; exit 1; }
  [ "$SECONDS" -lt "$deadline" ] || { echo "schemathesis_test: no health in 60 s" >&2; exit 1; }
  sleep 0.2
done

# api: a JSON call with the login token; prints the body, fails on a non-2xx answer.
api() { # METHOD PATH [BODY]
  curl -fsS -X "$1" "$BASE$2" -H "Authorization: Bearer $LOGIN" -H 'Content-Type: application/json' ${3:+--data "$3"}
}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
LOGIN=$(curl -fsS "$BASE/api/auth/login" -H 'Content-Type: application/json' \
  --data "$(python3 -c 'import json,sys; print(json.dumps({"username":"admin","password":sys.argv[1]}))' "$PASSWORD")" | json '["token"]')
# An API token, as a scraper or CI client would hold one (schemathesis never sees the password).
TOKEN=$(api POST /api/auth/tokens '{"name":"schemathesis"}' | json '["token"]')
# Some records, so that the ids schemathesis tries can also meet things that exist.
TARGET=$(api POST /api/targets "{\"name\":\"demo\",\"engine\":\"sqlite\",\"host\":\"\",\"port\":0,\"database\":\"$TMP/targets/target.db\",\"username\":\"\"}" | json '["id"]')
api POST /api/jobs "{\"name\":\"seed\",\"scripts\":[{\"sql\":\"select 1\",\"target_ids\":[$TARGET]}]}" >/dev/null

echo "schemathesis $("$VENV/bin/st" --version | awk '{print $NF}') against $BASE (seed ${ST_SEED:-1}, ${ST_MAX_EXAMPLES:-12} examples per operation)"
# Logging in and out would trip the login brake or end the token's session: they are covered by
# the API tests. Revoking tokens (the only operation on /api/auth/tokens/{id}) runs last, alone,
# so it cannot revoke the run's token mid-run.
# It runs in the temp folder, where it leaves its cache (.schemathesis/).
# shellcheck disable=SC2086 # ST_ARGS is a list of words
run_st() {
  (cd "$TMP" && "$VENV/bin/st" --config-file "$ROOT/scripts/tests/schemathesis.toml" run "$BASE/api/openapi.json" \
    --checks all \
    -H "Authorization: Bearer $TOKEN" \
    --exclude-path /api/auth/login --exclude-path /api/auth/logout \
    --max-examples "${ST_MAX_EXAMPLES:-12}" --seed "${ST_SEED:-1}" \
    --workers 2 --request-timeout 30 --no-color \
    --report junit --report-dir "$TMP/report" \
    "$@" ${ST_ARGS:-})
}
status=0
run_st --exclude-path '/api/auth/tokens/{id}' || status=1
run_st --include-path '/api/auth/tokens/{id}' || status=1
exit "$status"
