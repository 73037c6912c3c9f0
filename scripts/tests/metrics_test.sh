#!/usr/bin/env bash
# /metrics as a scraper sees it: the real binary on a temp SQLite store, an admin's API token,
# one job run, then the scrape checked by `promtool check metrics` (Debian's prometheus
# package), which must print nothing. Ends with `metrics: N passed, N failed` (exit 1 on any
# failure).
#
#   AUTODB_BIN=target/debug/autodb scripts/tests/metrics_test.sh      (KEEP_TMP=1 keeps the folder)
set -uo pipefail
# shellcheck disable=SC1091 # lib.sh is checked on its own
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$AUTODB_ROOT" || exit 1
AUTODB_BIN=${AUTODB_BIN:-target/debug/autodb}
case $AUTODB_BIN in /*) ;; *) AUTODB_BIN=$AUTODB_ROOT/$AUTODB_BIN ;; esac
[ -x "$AUTODB_BIN" ] || { echo "metrics_test: no binary at $AUTODB_BIN (cargo build first)"; exit 1; }
ensure_apt prometheus curl python3

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok    $1"; }
fail() {
    FAILED=$((FAILED + 1))
    echo "FAIL  $1"
    if [ -n "${2:-}" ]; then printf '%s\n' "$2" | sed 's/^/        /'; fi
}

TMP=$(mktemp -d)
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
mkdir -p "$TMP/state" "$TMP/targets"

export AUTODB__DATABASE__URL="sqlite://$TMP/state/autodb.db"
export AUTODB__SECURITY__SECRET_KEY_FILE="$TMP/state/secret.key"
export AUTODB__SERVER__BIND=127.0.0.1:0
export AUTODB__TARGETS__SQLITE_DIRS="$TMP/targets"
export AUTODB__LOG__FORMAT=json
PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
if ! printf '%s\n' "$PASSWORD" |
    "$AUTODB_BIN" user create scraper-admin --role admin --password-stdin >"$TMP/user.log" 2>&1; then
    fail "an admin is created" "$(tail -n 5 "$TMP/user.log")"
    echo "metrics: $PASSED passed, $FAILED failed"
    exit 1
fi

"$AUTODB_BIN" serve 2>"$TMP/serve.log" >/dev/null &
SERVER_PID=$!
port() { sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$TMP/serve.log" | head -n 1; }
if ! wait_for 30 grep -q '(port [0-9]*)' "$TMP/serve.log"; then
    fail "autodb serve starts" "$(tail -n 20 "$TMP/serve.log")"
    echo "metrics: $PASSED passed, $FAILED failed"
    exit 1
fi
BASE="http://127.0.0.1:$(port)"

# json FIELD: reads JSON on stdin, prints one field (a.b for nested).
json() { python3 -c 'import json,sys
v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v=v[k]
print(v)' "$1"; }
api() { # METHOD PATH TOKEN [BODY]
    curl -sS -X "$1" "$BASE$2" -H "Authorization: Bearer $3" \
        ${4:+-H 'Content-Type: application/json' --data "$4"}
}

TOKEN=
if LOGIN=$(curl -sS -X POST "$BASE/api/auth/login" -H 'Content-Type: application/json' \
    --data "{\"username\":\"scraper-admin\",\"password\":\"$PASSWORD\"}" | json token) &&
    TOKEN=$(api POST /api/auth/tokens "$LOGIN" '{"name":"prometheus"}' | json token); then
    pass "an admin API token is made"
else
    fail "an admin API token is made"
fi

status=$(curl -sS -o /dev/null -w '%{http_code}' "$BASE/metrics")
if [ "$status" = 401 ]; then
    pass "an anonymous scrape is refused (401)"
else
    fail "an anonymous scrape is refused (401)" "got $status"
fi

TARGET=$(api POST /api/targets "$TOKEN" \
    "{\"name\":\"lite\",\"engine\":\"sqlite\",\"database\":\"$TMP/targets/t.db\"}" | json id)
JOB=$(api POST /api/jobs "$TOKEN" \
    "{\"name\":\"m\",\"scripts\":[{\"sql\":\"SELECT 1\",\"target_ids\":[$TARGET]}]}" | json id)
job_ended() { [ "$(api GET "/api/jobs/$JOB" "$TOKEN" | json status)" = success ]; }
if [ -n "$JOB" ] && wait_for 30 job_ended; then
    pass "a job runs"
else
    fail "a job runs" "$(api GET "/api/jobs/$JOB" "$TOKEN")"
fi

if curl -sS -f "$BASE/metrics" -H "Authorization: Bearer $TOKEN" -o "$TMP/metrics.txt"; then
    pass "the API token scrapes /metrics"
else
    fail "the API token scrapes /metrics"
fi
missing=()
for series in 'autodb_job_runs{status="success"} 1' 'autodb_work_duration_seconds_count{kind="job_run"}' \
    'autodb_http_requests_total{method="POST",route="/api/jobs",status="201"}' \
    'autodb_store_pool_connections{pool="api"}' 'autodb_work_items{kind="job_run",status="waiting"} 0'; do
    grep -qF "$series" "$TMP/metrics.txt" || missing+=("$series")
done
if [ ${#missing[@]} -eq 0 ]; then
    pass "the scrape has the runs, durations, routes and pools"
else
    fail "the scrape has the runs, durations, routes and pools" "missing: ${missing[*]}"
fi

if out=$(promtool check metrics <"$TMP/metrics.txt" 2>&1) && [ -z "$out" ]; then
    pass "promtool check metrics finds nothing"
else
    fail "promtool check metrics finds nothing" "$out"
fi

# Every metric served and every one the sample dashboard uses is documented.
if out=$(python3 - "$TMP/metrics.txt" docs/OBSERVABILITY.md docs/grafana-autodb.json <<'EOF'
import re, sys
served = {l.split()[2] for l in open(sys.argv[1]) if l.startswith("# TYPE ")}
documented = set(re.findall(r"`(autodb_[a-z_]+)`", open(sys.argv[2]).read()))
suffix = re.compile(r"_(bucket|sum|count)$")
used = {suffix.sub("", m) for m in re.findall(r"autodb_[a-z_]+", open(sys.argv[3]).read())}
bad = sorted((served | used) - documented)
print(" ".join(bad))
sys.exit(1 if bad else 0)
EOF
); then
    pass "every metric served or on the dashboard is in docs/OBSERVABILITY.md"
else
    fail "every metric served or on the dashboard is in docs/OBSERVABILITY.md" "undocumented: $out"
fi

# The access lines of those requests carry their request id (log.format = json).
if python3 - "$TMP/serve.log" <<'EOF'; then
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
access = [l for l in lines if l["target"] == "autodb::access"]
sys.exit(0 if access and all(len(l.get("request_id", "")) == 32 for l in access) else 1)
EOF
    pass "every access line is JSON with a request id"
else
    fail "every access line is JSON with a request id" "$(grep access "$TMP/serve.log" | tail -n 3)"
fi

echo "metrics: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
