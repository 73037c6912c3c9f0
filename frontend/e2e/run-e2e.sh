#!/usr/bin/env bash
# Runs the Playwright journey against a real AutoDB: a fresh SQLite metadata
# store and secret key in a temporary folder, an admin user, `autodb serve`
# serving the API and the built UI on a free loopback port; stops it afterwards.
#
#   AUTODB_BIN            the server binary (default ../target/debug/autodb)
#   AUTODB_E2E_PASSWORD   admin password (default: random)
#   AUTODB_E2E_TIMEOUT    seconds to wait for /api/health (default 60)
#   AUTODB_E2E_SKIP_BUILD 1 to reuse dist/ instead of rebuilding it
#   AUTODB_E2E_SCREENSHOTS folder of the journeys' screenshots (default ../target/e2e-screenshots)
# Extra arguments go to `playwright test` (e.g. --reporter=line, -g "token").
set -euo pipefail

cd "$(dirname "$0")/.."
FRONTEND_DIR=$(pwd)

AUTODB_BIN=${AUTODB_BIN:-../target/debug/autodb}
if [[ ! -x "$AUTODB_BIN" ]]; then
  echo "run-e2e: server binary not found or not executable: $AUTODB_BIN (build it, or set AUTODB_BIN)" >&2
  exit 2
fi
AUTODB_BIN=$(realpath "$AUTODB_BIN")

# Chromium, a CJK font for the zh-CN screenshots (else Chinese renders as boxes) and an emoji
# font (a user's emoji in a result, else a box):
# installed as the other scripts install packages (scripts/lib.sh), only when root.
# shellcheck source=SCRIPTDIR/../../scripts/lib.sh
source "$FRONTEND_DIR/../scripts/lib.sh"
if [[ "$(id -u)" -eq 0 ]]; then
  [[ -n "${AUTODB_E2E_CHROMIUM:-}" ]] || ensure_apt chromium
  ensure_apt fonts-wqy-zenhei fonts-noto-color-emoji
elif ! dpkg -s fonts-wqy-zenhei >/dev/null 2>&1; then
  echo "run-e2e: fonts-wqy-zenhei is missing: zh-CN screenshots will show boxes (run as root to install it)" >&2
fi
if [[ ! -x /usr/bin/chromium && -z "${AUTODB_E2E_CHROMIUM:-}" ]]; then
  echo "run-e2e: /usr/bin/chromium is missing (apt-get install -y chromium)" >&2
  exit 2
fi

# The journeys' screenshots, kept as CI artifacts (e2e/support.ts screenshotPath).
export AUTODB_E2E_SCREENSHOTS=${AUTODB_E2E_SCREENSHOTS:-$(realpath -m "$FRONTEND_DIR/../target/e2e-screenshots")}
mkdir -p "$AUTODB_E2E_SCREENSHOTS"

[[ -d node_modules ]] || npm ci --no-audit --no-fund
# The server serves dist/: build it so the journey never runs a stale UI
# (about 2 s; AUTODB_E2E_SKIP_BUILD=1 reuses an existing dist/).
if [[ "${AUTODB_E2E_SKIP_BUILD:-}" != 1 || ! -f dist/index.html ]]; then
  npm run build
fi
# The login page's JavaScript budget (issue 13), counted from the build's manifest;
# e2e/weight.spec.ts measures it again in the browser.
node scripts/login-weight.mjs dist

TMP=$(mktemp -d "${TMPDIR:-/tmp}/autodb-e2e.XXXXXX")
SERVER_PID=""
cleanup() {
  local status=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    # Give it a moment to shut down cleanly, then insist.
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ $status -ne 0 && -f "$TMP/server.log" ]]; then
    echo "run-e2e: last server log lines:" >&2
    tail -n 40 "$TMP/server.log" >&2 || true
  fi
  rm -rf "$TMP"
  exit "$status"
}
trap cleanup EXIT INT TERM

# A free loopback port, chosen by the kernel.
PORT=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
BASE_URL="http://127.0.0.1:$PORT"

export AUTODB__SERVER__BIND="127.0.0.1:$PORT"
export AUTODB__SERVER__STATIC_DIR="$FRONTEND_DIR/dist"
# AutoDB's data folder (store and key) and the SQLite targets' folder are apart: targets may
# never lie in the data folder (targets.sqlite_dirs).
mkdir -p "$TMP/data" "$TMP/targets"
export AUTODB__DATABASE__URL="sqlite://$TMP/data/autodb.db"
export AUTODB__SECURITY__SECRET_KEY_FILE="$TMP/data/secret.key"

export AUTODB_E2E_USER=admin
export AUTODB_E2E_PASSWORD=${AUTODB_E2E_PASSWORD:-$(node -e 'console.log(require("crypto").randomBytes(18).toString("base64url"))')}
# The target database of the journey: an empty file is a valid empty SQLite database.
export AUTODB_E2E_SQLITE_PATH=${AUTODB_E2E_SQLITE_PATH:-$TMP/targets/target.db}
[[ -e "$AUTODB_E2E_SQLITE_PATH" ]] || : >"$AUTODB_E2E_SQLITE_PATH"
export AUTODB__TARGETS__SQLITE_DIRS=${AUTODB__TARGETS__SQLITE_DIRS:-$(dirname "$AUTODB_E2E_SQLITE_PATH")}
export AUTODB_E2E_URL="$BASE_URL"

printf '%s\n' "$AUTODB_E2E_PASSWORD" | "$AUTODB_BIN" user create "$AUTODB_E2E_USER" --role admin --password-stdin

"$AUTODB_BIN" serve >"$TMP/server.log" 2>&1 &
SERVER_PID=$!

deadline=$((SECONDS + ${AUTODB_E2E_TIMEOUT:-60}))
until curl -fsS "$BASE_URL/api/health" >/dev/null 2>&1; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "run-e2e: autodb serve exited before it became healthy" >&2
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    echo "run-e2e: $BASE_URL/api/health did not answer within ${AUTODB_E2E_TIMEOUT:-60}s" >&2
    exit 1
  fi
  sleep 0.2
done
echo "run-e2e: AutoDB is up at $BASE_URL"

node_modules/.bin/playwright test "$@"
