#!/usr/bin/env bash
# Deployment tests: the production nginx site (nginx/*.conf) running in front of the real
# autodb binary, its TLS side scanned by sslscan, releases from scripts/release.sh deployed,
# rolled back and restored by scripts/deploy/deploy.sh behind that nginx, the systemd unit,
# and scripts/deploy/install.sh. Installs what it needs,
# starts everything on loopback in a temp folder, cleans up, and ends with the line
# `deploy: N passed, N failed` (exit 1 on any failure).
#
#   AUTODB_BIN=target/debug/autodb scripts/tests/deploy_test.sh
#   KEEP_TMP=1 keeps the temp folder; VERBOSE=1 shows what passing checks printed.
set -uo pipefail

PATH=$PATH:/usr/sbin:/sbin # nginx lives in /usr/sbin
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
AUTODB_BIN=${AUTODB_BIN:-target/debug/autodb}
case $AUTODB_BIN in /*) ;; *) AUTODB_BIN=$ROOT/$AUTODB_BIN ;; esac
T0=$SECONDS

PASSED=0
FAILED=0
SKIPPED=()
pass() { PASSED=$((PASSED + 1)); echo "ok    $1"; }
fail() {
    FAILED=$((FAILED + 1))
    echo "FAIL  $1"
    if [ -n "${2:-}" ]; then printf '%s\n' "$2" | sed 's/^/        /'; fi
}
skip() { SKIPPED+=("$1: $2"); echo "skip  $1 ($2)"; }
# check NAME COMMAND...: the command's success is the verdict; its output explains a failure.
check() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then
        pass "$name"
        if [ "${VERBOSE:-0}" = 1 ] && [ -n "$out" ]; then printf '%s\n' "$out" | sed 's/^/        /'; fi
    else
        fail "$name" "$out"
    fi
}

# --- What this test needs, installed only when missing (CI starts on a fresh machine).
APT_UPDATED=0
need() { # COMMAND PACKAGE
    command -v "$1" >/dev/null 2>&1 && return 0
    dpkg -s "$2" >/dev/null 2>&1 && command -v "$1" >/dev/null 2>&1 && return 0
    echo "installing $2 (for $1)"
    export DEBIAN_FRONTEND=noninteractive
    # Other jobs on this machine may hold the dpkg lock for a while: wait for it.
    if [ "$APT_UPDATED" = 0 ]; then
        apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null && APT_UPDATED=1
    fi
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$2" >/dev/null ||
        { echo "deploy_test: cannot install $2"; exit 1; }
}
need nginx nginx
need openssl openssl
need curl curl
need shellcheck shellcheck
need systemd-analyze systemd
need python3 python3

TMP=$(mktemp -d /tmp/autodb-deploy-test.XXXXXX)
chmod 0755 "$TMP" # nginx workers (www-data) read www/ and acme/ below it
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    # The service the deploy hooks started (not a child of this shell).
    if [ -s "$TMP/deploy/serve.pid" ]; then kill "$(cat "$TMP/deploy/serve.pid")" 2>/dev/null; fi
    if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# until TIMEOUT_S COMMAND...: polls the command until it succeeds or the deadline passes.
until_ok() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}
alive() { kill -0 "$1" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

read -r HTTP_PORT HTTPS_PORT BACKEND_PORT < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')
HOST=autodb.test

# ---------------------------------------------------------------------------------------
echo "# nginx: the production site, rendered for loopback ports and temp paths"
mkdir -p "$TMP/tls" "$TMP/acme/.well-known/acme-challenge" "$TMP/www/assets" \
    "$TMP/nginx/conf/snippets" "$TMP/nginx/logs" "$TMP/nginx/tmp" "$TMP/state"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=$HOST" -addext "subjectAltName=DNS:$HOST" \
    -keyout "$TMP/tls/privkey.pem" -out "$TMP/tls/fullchain.pem" 2>/dev/null

INDEX_MARK="autodb-deploy-test-index-$$"
printf '<!doctype html>\n<html><head><meta charset="utf-8"><title>%s</title>\n<script type="module" src="/assets/app-abc123.js"></script></head>\n<body><div id="app"></div></body></html>\n' \
    "$INDEX_MARK" >"$TMP/www/index.html"
for i in $(seq 1 80); do echo "export const route$i = { path: '/targets/$i', name: 'target-$i' };"; done \
    >"$TMP/www/assets/app-abc123.js" # > gzip_min_length, so it is compressed
echo "acme-token-$$" >"$TMP/acme/.well-known/acme-challenge/tok-123"
chmod -R go+rX "$TMP/www" "$TMP/acme"

# The snippets are the repository's files themselves; autodb.conf includes them relatively.
ln -s "$ROOT/nginx/autodb-locations.conf" "$TMP/nginx/conf/snippets/autodb-locations.conf"
ln -s "$ROOT/nginx/autodb-headers.conf" "$TMP/nginx/conf/snippets/autodb-headers.conf"
sed -e "s#listen 80 default_server;#listen 127.0.0.1:$HTTP_PORT default_server;#" \
    -e "s#listen 443 ssl http2 default_server;#listen 127.0.0.1:$HTTPS_PORT ssl http2 default_server;#" \
    -e '/listen \[::\]:/d' \
    -e "s#/etc/autodb/tls/#$TMP/tls/#g" \
    -e "s#/usr/share/autodb/www#$TMP/www#g" \
    -e "s#/var/www/acme#$TMP/acme#g" \
    -e "s#/var/log/nginx/#$TMP/nginx/logs/#g" \
    -e "s#server 127.0.0.1:5000;#server 127.0.0.1:$BACKEND_PORT;#" \
    nginx/autodb.conf >"$TMP/nginx/conf/autodb.conf"
rendered_ok() {
    local f=$TMP/nginx/conf/autodb.conf bad
    [ "$(grep -c "listen 127.0.0.1:$HTTP_PORT default_server;" "$f")" = 1 ] || { echo "no port-80 listen to rewrite"; return 1; }
    [ "$(grep -c "listen 127.0.0.1:$HTTPS_PORT ssl http2 default_server;" "$f")" = 1 ] || { echo "no 'listen 443 ssl http2' to rewrite"; return 1; }
    grep -q "server 127.0.0.1:$BACKEND_PORT;" "$f" || { echo "no upstream 127.0.0.1:5000 to rewrite"; return 1; }
    grep -q '^[[:space:]]*include snippets/autodb-locations.conf;' "$f" || { echo "site does not include the locations snippet"; return 1; }
    bad=$(grep -nE '/etc/autodb|/usr/share/autodb|/var/www|/var/log|:5000|listen (80|443)' "$f" | grep -vE '^[0-9]+:[[:space:]]*#') &&
        { echo "production paths left after rendering (update this test's substitutions):"; echo "$bad"; return 1; }
    return 0
}
check "the production site renders into the test config (same blocks, test ports and paths)" rendered_ok

USER_LINE=""
[ "$(id -u)" != 0 ] || USER_LINE="user www-data;" # as in production; ignored (warns) unless root
cat >"$TMP/nginx/conf/nginx.conf" <<EOF
$USER_LINE
daemon off;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 256; }
http {
    # As in Debian's stock nginx.conf, so autodb.conf repeating one of these fails here too.
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    access_log $TMP/nginx/logs/access.log;
    gzip on;

    client_body_temp_path $TMP/nginx/tmp/body;
    proxy_temp_path $TMP/nginx/tmp/proxy;
    fastcgi_temp_path $TMP/nginx/tmp/fastcgi;
    uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
    scgi_temp_path $TMP/nginx/tmp/scgi;

    include autodb.conf;
}
EOF
NGINX_ARGS=(-p "$TMP/nginx/" -e logs/error.log -c conf/nginx.conf)
nginx_t() {
    local out
    out=$(nginx -t "${NGINX_ARGS[@]}" 2>&1) || { echo "$out"; return 1; }
    if grep -qE '\[(warn|emerg|alert|crit|error)\]' <<<"$out"; then echo "$out"; return 1; fi
}
check "nginx -t accepts the site and its snippets with no warning" nginx_t

nginx "${NGINX_ARGS[@]}" >"$TMP/nginx/logs/stdout.log" 2>&1 &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
CURL=(curl -sS --max-time 20 --resolve "$HOST:$HTTPS_PORT:127.0.0.1" --resolve "$HOST:$HTTP_PORT:127.0.0.1"
      --cacert "$TMP/tls/fullchain.pem")
HTTPS=https://$HOST:$HTTPS_PORT
HTTP=http://$HOST:$HTTP_PORT
# get URL [CURL ARGS...]: sets CODE and VERSION; body in $TMP/body, headers in $TMP/headers.
get() {
    local url=$1 out
    shift
    out=$("${CURL[@]}" -o "$TMP/body" -D "$TMP/headers" -w '%{http_code} %{http_version}' "$@" "$url") || true
    read -r CODE VERSION <<<"$out"
    CODE=${CODE:-000}
}
# hdr NAME: that header's value in the last answer (empty when absent).
hdr() { grep -i "^$1:" "$TMP/headers" | tail -n 1 | cut -d: -f2- | sed 's/^ *//; s/\r$//'; }
expect() { # DESCRIPTION TEST...: prints the answer when the test fails
    local what=$1
    shift
    "$@" && return 0
    echo "expected $what; got HTTP $CODE"
    tr -d '\r' <"$TMP/headers" | sed -n '1,20p'
    head -c 300 "$TMP/body"
    echo
    return 1
}
json_field() { # FIELD: value of a top-level field of the last JSON body
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$TMP/body" "$1" 2>/dev/null
}

if until_ok 15 curl -sk --max-time 2 -o /dev/null "https://127.0.0.1:$HTTPS_PORT/" && alive "$NGINX_PID"; then
    NGINX_UP=1
    pass "nginx starts and listens on both ports"
else
    NGINX_UP=0
    fail "nginx starts and listens on both ports" "$(tail -n 20 "$TMP/nginx/logs/error.log" "$TMP/nginx/logs/stdout.log" 2>&1)"
fi

# ---------------------------------------------------------------------------------------
redirects() {
    get "$HTTP/targets/42?tab=grants"
    expect "301 to https://$HOST/targets/42?tab=grants" \
        test "$CODE" = 301 -a "$(hdr Location)" = "https://$HOST/targets/42?tab=grants"
}
acme() {
    get "$HTTP/.well-known/acme-challenge/tok-123"
    expect "200 with the token" test "$CODE" = 200 -a "$(cat "$TMP/body")" = "acme-token-$$"
}
deep_link() {
    get "$HTTPS/targets/42"
    expect "index.html (200, text/html, no-cache)" test "$CODE" = 200 \
        -a "$(grep -c "$INDEX_MARK" "$TMP/body")" = 1 \
        -a "$(hdr Cache-Control)" = no-cache &&
        expect "text/html" grep -qi '^content-type: text/html' "$TMP/headers"
}
root_page() {
    get "$HTTPS/"
    expect "index.html with no-cache" test "$CODE" = 200 -a "$(grep -c "$INDEX_MARK" "$TMP/body")" = 1 \
        -a "$(hdr Cache-Control)" = no-cache
}
asset() {
    get "$HTTPS/assets/app-abc123.js"
    expect "the file, cached a year, immutable" test "$CODE" = 200 \
        -a "$(hdr Cache-Control)" = "public, max-age=31536000, immutable" &&
        expect "the asset's bytes" cmp -s "$TMP/body" "$TMP/www/assets/app-abc123.js" &&
        expect "a JavaScript content type" grep -qi '^content-type: application/javascript' "$TMP/headers"
}
asset_gzip() {
    get "$HTTPS/assets/app-abc123.js" -H 'Accept-Encoding: gzip'
    expect "Content-Encoding: gzip" test "$CODE" = 200 -a "$(hdr Content-Encoding)" = gzip
}
missing_asset() {
    get "$HTTPS/assets/app-gone999.js"
    expect "404 that is not index.html, and not cached" test "$CODE" = 404 \
        -a "$(grep -c "$INDEX_MARK" "$TMP/body")" = 0 -a -z "$(hdr Cache-Control)"
}
sec_headers() { # PATH
    local csp missing=()
    get "$HTTPS$1"
    [ "$CODE" != 000 ] || { echo "no answer"; return 1; }
    [[ $(hdr Strict-Transport-Security) =~ max-age=(3153[6-9][0-9]{3}|[4-9][0-9]{7}|[0-9]{9,}) ]] || missing+=("HSTS >= 1 year")
    [ "$(hdr X-Content-Type-Options)" = nosniff ] || missing+=("X-Content-Type-Options: nosniff")
    [ "$(hdr X-Frame-Options)" = DENY ] || missing+=("X-Frame-Options: DENY")
    [ -n "$(hdr Referrer-Policy)" ] || missing+=("Referrer-Policy")
    csp=$(hdr Content-Security-Policy)
    [[ $csp == *"script-src 'self'"* ]] || missing+=("CSP script-src 'self'")
    [[ $csp == *"connect-src 'self'"* ]] || missing+=("CSP connect-src 'self'")
    [[ $csp == *"frame-ancestors 'none'"* ]] || missing+=("CSP frame-ancestors 'none'")
    [[ $csp =~ (default|script)-src[^\;]*unsafe-(inline|eval) ]] && missing+=("no unsafe-inline/eval for scripts")
    [ "$(grep -ci '^content-security-policy:' "$TMP/headers")" = 1 ] || missing+=("exactly one CSP header")
    [ ${#missing[@]} = 0 ] || { echo "HTTP $CODE, missing: ${missing[*]}"; tr -d '\r' <"$TMP/headers"; return 1; }
}

if [ "$NGINX_UP" = 1 ]; then
    echo "# nginx: static UI and redirects"
    check "port 80 answers 301 to https with the same path and query" redirects
    check "port 80 serves ACME HTTP-01 challenges without redirecting" acme
    check "a deep link (/targets/42) gets index.html, revalidated on every load" deep_link
    check "/ gets index.html, revalidated on every load" root_page
    check "a hashed asset is served cached immutable for a year" asset
    check "text assets are gzip-compressed" asset_gzip
    check "a missing asset is a 404, not index.html" missing_asset
    for p in / /targets/42 /assets/app-abc123.js /assets/app-gone999.js; do
        check "security headers (HSTS, nosniff, DENY, CSP) on $p" sec_headers "$p"
    done
fi

# ---------------------------------------------------------------------------------------
# The TLS side, as a scanner sees it: sslscan's XML report on the running site. Only TLS 1.2
# and 1.3; every accepted suite forward-secret AEAD (no NULL, anonymous, EXPORT, RC4, DES/3DES,
# CBC or SHA-1 MAC suites, nothing sslscan rates below "strong"/"acceptable"); no compression,
# no Heartbleed, no insecure renegotiation; HSTS on the answer.
need sslscan sslscan
tls_scan() {
    sslscan --no-colour --sni-name="$HOST" --xml="$TMP/sslscan.xml" "127.0.0.1:$HTTPS_PORT" >"$TMP/sslscan.txt" 2>&1 ||
        { tail -n 20 "$TMP/sslscan.txt"; return 1; }
    python3 - "$TMP/sslscan.xml" <<'EOF'
import re, sys
import xml.etree.ElementTree as ET
test = ET.parse(sys.argv[1]).getroot().find("ssltest")
if test is None:
    sys.exit("sslscan wrote no <ssltest> (did it reach the server?)")
problems, seen = [], []
for p in test.iter("protocol"):
    name = f'{p.get("type").upper()}v{p.get("version")}'
    if p.get("enabled") == "1":
        seen.append(name)
        if name not in ("TLSv1.2", "TLSv1.3"):
            problems.append(f"{name} is enabled")
if "TLSv1.3" not in seen:
    problems.append("TLSv1.3 is not enabled")
ciphers = [c for c in test.iter("cipher") if c.get("status") in ("accepted", "preferred")]
if not ciphers:
    problems.append("no accepted cipher suites in the report")
weak = re.compile(r"NULL|anon|ADH|AECDH|EXP|RC4|DES|MD5|CBC|PSK|SRP|CAMELLIA|ARIA|SEED|IDEA|-SHA$|^AES|^DHE|^RSA")
for c in ciphers:
    name, strength = c.get("cipher"), c.get("strength")
    if strength not in ("strong", "acceptable"):
        problems.append(f"{c.get('sslversion')} {name}: rated {strength}")
    elif c.get("sslversion") == "TLSv1.2" and weak.search(name):
        problems.append(f"TLSv1.2 {name}: not an ECDHE AEAD suite")
comp = test.find("compression")
if comp is not None and comp.get("supported") == "1":
    problems.append("TLS compression (CRIME)")
for h in test.iter("heartbleed"):
    if h.get("vulnerable") == "1":
        problems.append(f"Heartbleed on {h.get('sslversion')}")
reneg = test.find("renegotiation")
if reneg is not None and reneg.get("supported") == "1" and reneg.get("secure") != "1":
    problems.append("insecure renegotiation")
print("protocols:", " ".join(seen), "| suites:", " ".join(sorted({c.get("cipher") for c in ciphers})))
if problems:
    print("\n".join(problems))
    sys.exit(1)
EOF
}
hsts_on_head() {
    local h
    h=$(curl -k -sS -I --max-time 10 --resolve "$HOST:$HTTPS_PORT:127.0.0.1" "$HTTPS/") || return 1
    grep -iE '^strict-transport-security: max-age=[0-9]{8,}' <<<"$h" || { echo "$h"; return 1; }
}
if [ "$NGINX_UP" = 1 ]; then
    echo "# TLS, scanned by sslscan"
    check "sslscan: TLS 1.2/1.3 only, ECDHE AEAD suites only, no compression, Heartbleed or insecure renegotiation" tls_scan
    echo "      $(tls_scan 2>&1 | head -n 1)"
    check "HSTS (at least a year) on a HEAD of the site" hsts_on_head
fi

# ---------------------------------------------------------------------------------------
echo "# nginx in front of the real autodb binary ($AUTODB_BIN)"
printf '# deploy_test: settings come from AUTODB__* variables\n' >"$TMP/autodb.toml"
BACKEND_ENV=(
    AUTODB__SERVER__BIND="127.0.0.1:$BACKEND_PORT"
    AUTODB__SERVER__TRUST_PROXY=true
    AUTODB__DATABASE__URL="sqlite://$TMP/state/autodb.db"
    AUTODB__SECURITY__SECRET_KEY_FILE="$TMP/state/secret.key"
    RUST_LOG=info
)
BACKEND_UP=0
if [ ! -x "$AUTODB_BIN" ]; then
    fail "the autodb binary exists" "$AUTODB_BIN is missing: build it first (cargo build -p autodb)"
elif [ "$NGINX_UP" = 1 ]; then
    env "${BACKEND_ENV[@]}" "$AUTODB_BIN" serve --config "$TMP/autodb.toml" >"$TMP/backend.log" 2>&1 &
    BACKEND_PID=$!
    PIDS+=("$BACKEND_PID")
    backend_healthy() { alive "$BACKEND_PID" && curl -fsS --max-time 2 "http://127.0.0.1:$BACKEND_PORT/api/health"; }
    if until_ok 90 backend_healthy; then
        BACKEND_UP=1
        pass "autodb serve starts on env settings and answers /api/health"
    else
        fail "autodb serve starts on env settings and answers /api/health" "$(tail -n 30 "$TMP/backend.log")"
    fi
fi

health() {
    get "$HTTPS/api/health"
    expect "200 JSON status ok over HTTP/2" test "$CODE" = 200 -a "$VERSION" = 2 \
        -a "$(json_field status)" = ok &&
        expect "application/json" grep -qi '^content-type: application/json' "$TMP/headers"
}
api_404() {
    get "$HTTPS/api/nope"
    expect "the backend's JSON 404 (not index.html)" test "$CODE" = 404 \
        -a "$(grep -c "$INDEX_MARK" "$TMP/body")" = 0 -a -n "$(json_field error)" &&
        expect "application/json" grep -qi '^content-type: application/json' "$TMP/headers"
}
too_large() {
    head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' 'x' >"$TMP/big.sql"
    get "$HTTPS/api/auth/login" -H 'Content-Type: application/json' --data-binary "@$TMP/big.sql"
    expect "nginx's own 413 page" test "$CODE" = 413 &&
        expect "text/html from nginx" grep -qi '^content-type: text/html' "$TMP/headers"
}
script_sized_body() {
    python3 -c 'import json; print(json.dumps({"username": "nobody", "password": "p" * (3 * 1024 * 1024)}))' >"$TMP/3mb.json"
    get "$HTTPS/api/auth/login" -H 'Content-Type: application/json' --data-binary "@$TMP/3mb.json"
    expect "an answer from the backend (JSON), not nginx's 413" test "$CODE" != 000 -a "$CODE" != 502 &&
        expect "application/json" grep -qi '^content-type: application/json' "$TMP/headers"
}

# Seen by the backend: the client connects from 127.0.0.2 (nginx reaches the backend from
# 127.0.0.1) and forges both forwarding headers. Read back from the audit log's client_addr.
FORGED=203.0.113.7
client_address() {
    local pw="deploy-test-$$-pw" token out
    printf '%s' "$pw" | env "${BACKEND_ENV[@]}" "$AUTODB_BIN" user create deploytest \
        --role admin --password-stdin --config "$TMP/autodb.toml" >"$TMP/usercreate.log" 2>&1 ||
        { skip "X-Forwarded-For reaches the backend" "cannot observe: 'autodb user create' failed: $(tail -n 3 "$TMP/usercreate.log")"; return 0; }
    get "$HTTPS/api/auth/login" --interface 127.0.0.2 -H 'Content-Type: application/json' \
        -H "X-Forwarded-For: $FORGED" -H "Forwarded: for=$FORGED" \
        --data "{\"username\":\"deploytest\",\"password\":\"$pw\"}"
    token=$(json_field token)
    { [ "$CODE" = 200 ] && [ -n "$token" ]; } ||
        { skip "X-Forwarded-For reaches the backend" "cannot observe: login through nginx gave HTTP $CODE"; return 0; }
    get "$HTTPS/api/audit?per_page=100" --interface 127.0.0.2 -H "Authorization: Bearer $token"
    [ "$CODE" = 200 ] ||
        { skip "X-Forwarded-For reaches the backend" "cannot observe: /api/audit gave HTTP $CODE"; return 0; }
    out=$(python3 -c '
import json, sys
page = json.load(open(sys.argv[1]))
print(" ".join(sorted({str(e["client_addr"]) for e in page.get("items", []) if e.get("client_addr")})))
' "$TMP/body" 2>&1) || { fail "X-Forwarded-For reaches the backend" "unreadable audit page: $out"; return 0; }
    if [ -z "$out" ]; then
        skip "X-Forwarded-For reaches the backend" "cannot observe: the audit log records no client_addr"
    elif [[ " $out " == *"$FORGED"* ]]; then
        fail "X-Forwarded-For reaches the backend, and a forged one does not" "the backend recorded the forged address: $out"
    elif [[ " $out " == *" 127.0.0.2"* ]]; then
        pass "X-Forwarded-For reaches the backend, and a forged one does not"
    else
        fail "X-Forwarded-For reaches the backend, and a forged one does not" "expected 127.0.0.2 in client_addr, got: $out"
    fi
}
request_id() {
    get "$HTTPS/api/health" -H 'X-Request-Id: forged-by-client'
    # nginx sets its own $request_id (32 hex digits); the backend answers with it.
    expect "nginx's request id echoed by the backend" \
        grep -qiE '^x-request-id: [0-9a-f]{32}'$'\r''?$' "$TMP/headers"
}
metrics_through_nginx() {
    get "$HTTPS/metrics"
    expect "the backend's 401 for a scrape without a token" test "$CODE" = 401 \
        -a "$(json_field error)" = unauthenticated
}
backend_down() {
    get "$HTTPS/api/health"
    expect "nginx's JSON 503 service_unavailable" test "$CODE" = 503 \
        -a "$(json_field error)" = service_unavailable
}

if [ "$BACKEND_UP" = 1 ]; then
    check "/api/health through TLS and HTTP/2 is the backend's 200 JSON" health
    check "an unknown /api route is the backend's JSON 404, not index.html" api_404
    check "security headers on API answers" sec_headers /api/health
    check "a 17 MB body is refused by nginx with 413" too_large
    check "a 3 MB script-sized body reaches the backend" script_sized_body
    check "every request reaching the backend carries nginx's X-Request-Id" request_id
    check "/metrics is proxied and needs a token" metrics_through_nginx
    client_address
    kill "$BACKEND_PID"
    wait "$BACKEND_PID" 2>/dev/null
    check "with the API stopped, /api answers a JSON 503 from nginx" backend_down
    check "security headers on nginx's 503" sec_headers /api/health
else
    echo "(backend checks not run: the backend is not up)"
fi

# ---------------------------------------------------------------------------------------
# Streaming: the real API has nothing to stream yet, so a stand-in takes the backend port.
# 1. One small event, then the response stays open: it must reach a client (which, like a
#    browser, accepts gzip) at once; a compressing or buffering proxy holds it back.
# 2. A 64 MiB body to a client reading 16 KB/s: unbuffered, nginx reads from the backend only
#    as fast as the client takes it (a few MB of socket buffers); buffered, it swallows the
#    whole body into a temp file, which for real exports means disk filling up.
echo "# nginx: event streams and exports pass through unbuffered"
cat >"$TMP/stream_stub.py" <<'EOF'
import sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
written = {}
class Stream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        if self.path.startswith("/written/"):
            body = str(written.get(self.path[len("/written/"):], 0)).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        csv = ".csv" in self.path
        self.send_response(200)
        self.send_header("Content-Type", "text/csv" if csv else "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"id,name\n1,first-row\n" if csv else b"data: first-event\n\n"
        big = self.path.partition("?big=")[2]
        try:
            if big:
                chunk = (b"" if csv else b"data: ") + b"x" * 65530 + b"\n\n"
                for _ in range(1024):  # 64 MiB
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    written[big] = written.get(big, 0) + len(chunk)
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
                time.sleep(30)
        except OSError:
            pass
    def log_message(self, *args):
        pass
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Stream).serve_forever()
EOF
streams() { # PATH MARKER
    local out
    out=$("${CURL[@]}" -N --compressed --max-time 3 "$HTTPS$1" 2>/dev/null)
    [[ $out == *"$2"* ]] || { echo "nothing arrived within 3 s (buffered or compressed?): '$out'"; return 1; }
}
written() { curl -s --max-time 2 "http://127.0.0.1:$BACKEND_PORT/written/$1"; }
backpressure() { # PATH KEY
    local client now last=-1 steady=0 deadline=$((SECONDS + 10))
    "${CURL[@]}" -s --limit-rate 16k --max-time 20 -o /dev/null "$HTTPS$1?big=$2" &
    client=$!
    # Wait until the backend's write count stops growing (1 s unchanged), or 10 s.
    while [ "$SECONDS" -lt "$deadline" ] && [ "$steady" -lt 5 ]; do
        sleep 0.2
        now=$(written "$2")
        if [ "$now" = "$last" ] && [ "${now:-0}" -gt 0 ]; then steady=$((steady + 1)); else steady=0; fi
        last=$now
    done
    kill "$client" 2>/dev/null
    wait "$client" 2>/dev/null
    echo "backend wrote $((${last:-0} / 1048576)) MiB of 64 while the client read 16 KB/s"
    [ "${last:-0}" -gt 0 ] && [ "$last" -lt $((32 * 1048576)) ]
}
if [ "$NGINX_UP" = 1 ]; then
    python3 "$TMP/stream_stub.py" "$BACKEND_PORT" >"$TMP/stub.log" 2>&1 &
    STUB_PID=$!
    PIDS+=("$STUB_PID")
    if until_ok 15 port_open "$BACKEND_PORT"; then
        check "job events (SSE) reach a gzip-accepting client at once" streams /api/jobs/7/events first-event
        check "query events (SSE) reach a gzip-accepting client at once" streams /api/queries/7/events first-event
        check "a CSV export reaches a gzip-accepting client at once" streams /api/queries/7/results/1.csv first-row
        check "a slow reader of an event stream holds the backend back (no spooling)" \
            backpressure /api/jobs/8/events ev
        check "a slow reader of a large export holds the backend back (no spooling to disk)" \
            backpressure /api/queries/8/results/big.csv csv
    else
        fail "the stream stand-in starts" "$(cat "$TMP/stub.log")"
    fi
    kill "$STUB_PID" 2>/dev/null
fi

# ---------------------------------------------------------------------------------------
# Releases made by scripts/release.sh, deployed with scripts/deploy/deploy.sh on a prefix, the
# service run by hooks (a pid file instead of systemd) behind the nginx above: A, then B
# (data kept), C whose serve fails (rolled back to B), D that migrates then fails (rolled back,
# store restored), E with --keep 2.
echo "# scripts/deploy/deploy.sh: deploy, roll back and restore behind nginx"
D=$TMP/deploy
DROOT=$D/root
DSTORE=$D/state/autodb.db
DPID=$D/serve.pid
mkdir -p "$DROOT" "$D/state" "$D/rel" "$D/ui"
if [ -f frontend/dist/index.html ]; then
    DUI=$ROOT/frontend/dist
else
    echo '<!doctype html><title>deploy test UI</title>' >"$D/ui/index.html"
    DUI=$D/ui
fi
DENV=(AUTODB__SERVER__BIND="127.0.0.1:$BACKEND_PORT" AUTODB__SERVER__TRUST_PROXY=true
    AUTODB__DATABASE__URL="sqlite://$DSTORE" AUTODB__SECURITY__SECRET_KEY_FILE="$D/state/secret.key"
    RUST_LOG=warn)
# stop: ends the pid file's process and waits (30 s at most) until it is gone.
{
    echo '#!/usr/bin/env bash'
    printf 'pidf=%q\n' "$DPID"
    cat <<'EOF'
[ -s "$pidf" ] || exit 0
pid=$(cat "$pidf")
kill "$pid" 2>/dev/null
for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
if kill -0 "$pid" 2>/dev/null; then echo "stop: $pid still running" >&2; exit 1; fi
rm -f "$pidf"
EOF
} >"$D/stop.sh"
# restart: stop, then current/bin/autodb serve in the background, its pid in the pid file.
{
    echo '#!/usr/bin/env bash'
    printf '%q || exit 1\ncd %q || exit 1\n' "$D/stop.sh" "$D/state"
    printf 'env'
    printf ' %q' "${DENV[@]}" "$DROOT/opt/autodb/current/bin/autodb" serve --config "$TMP/autodb.toml"
    printf ' >>%q 2>&1 </dev/null &\n' "$D/serve.log"
    printf 'echo $! >%q\n' "$DPID"
} >"$D/restart.sh"
chmod 0755 "$D/stop.sh" "$D/restart.sh"
stop_deployed() { [ ! -s "$DPID" ] || "$D/stop.sh"; }
# deploy_to_prefix LOG ARGS...: deploy.sh on the prefix; DEPLOY_RC its exit, DEPLOY_S its time.
deploy_to_prefix() {
    local log=$1 t0=$SECONDS
    shift
    env "${DENV[@]}" AUTODB_DEPLOY_RESTART="$D/restart.sh" AUTODB_DEPLOY_STOP="$D/stop.sh" \
        AUTODB_DEPLOY_HEALTH_URL="$HTTPS/api/health" AUTODB_DEPLOY_RESOLVE="$HOST:$HTTPS_PORT:127.0.0.1" \
        AUTODB_DEPLOY_CACERT="$TMP/tls/fullchain.pem" AUTODB_DEPLOY_BACKUP_DIR="$D/backups" \
        "$ROOT/scripts/deploy/deploy.sh" --prefix "$DROOT" --config "$TMP/autodb.toml" "$@" >"$log" 2>&1
    DEPLOY_RC=$?
    DEPLOY_S=$((SECONDS - t0))
}
make_rel() { # BIN VERSION [release.sh args]
    "$ROOT/scripts/release.sh" --bin "$1" --ui "$DUI" --version "$2" --out "$D/rel" "${@:3}" \
        >"$D/release-$2.log" 2>&1 || { echo "release.sh $2 failed:"; cat "$D/release-$2.log"; return 1; }
}
# Release C: migrates like the real binary, but its serve exits at once.
cat >"$D/serve-fails" <<EOF
#!/bin/sh
for a in "\$@"; do [ "\$a" != serve ] || { echo "release C: serve gives up" >&2; exit 1; }; done
exec $(printf %q "$AUTODB_BIN") "\$@"
EOF
# Release D: its migrate also records a migration no other release knows (as a newer schema
# would), then its serve fails: B cannot read the store until the backup is restored.
cat >"$D/migrates-then-fails" <<EOF
#!/bin/sh
for a in "\$@"; do
    case \$a in
        serve) echo "release D: serve gives up" >&2; exit 1 ;;
        migrate) $(printf %q "$AUTODB_BIN") "\$@" || exit 1
            exec python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("INSERT INTO __diesel_schema_migrations (version) VALUES (?)", ("99991231000001",)); c.commit()' $(printf %q "$DSTORE") ;;
    esac
done
exec $(printf %q "$AUTODB_BIN") "\$@"
EOF
chmod 0755 "$D/serve-fails" "$D/migrates-then-fails"

release_layout() {
    local r=$D/rel/autodb-A f
    for f in bin/autodb bin/VERSION VERSION www/index.html systemd/autodb.service systemd/autodb.sysusers.conf \
        nginx/autodb.conf nginx/autodb-locations.conf nginx/autodb-headers.conf docs/autodb.example.toml \
        docs/DEPLOY.md scripts/deploy/deploy.sh scripts/deploy/install.sh scripts/deploy/lib.sh SHA256SUMS; do
        [ -f "$r/$f" ] || { echo "$f missing"; return 1; }
    done
    { [ "$(cat "$r/VERSION")" = A ] && [ "$(cat "$r/bin/VERSION")" = A ]; } || { echo "VERSION is not A"; return 1; }
    cmp "$r/bin/autodb" "$AUTODB_BIN" || return 1
    (cd "$r" && sha256sum --quiet -c SHA256SUMS)
}
health_release() { # VERSION: what /api/health through nginx reports now
    get "$HTTPS/api/health"
    expect "release $1 healthy" test "$CODE" = 200 -a "$(json_field release)" = "$1" -a "$(json_field status)" = ok
}
DPW="deploy-data-$$-pw"
DJOB="" DTARGET="" DTOKEN=""
api_login() {
    get "$HTTPS/api/auth/login" -H 'Content-Type: application/json' \
        --data "{\"username\":\"keeper\",\"password\":\"$DPW\"}"
    DTOKEN=$(json_field token)
    expect "a login as keeper" test "$CODE" = 200 -a -n "$DTOKEN"
}
make_data() { # a user (CLI), a target and a job (API, through nginx)
    printf '%s' "$DPW" | env "${DENV[@]}" "$DROOT/usr/bin/autodb" user create keeper --role admin \
        --password-stdin --config "$TMP/autodb.toml" || return 1
    api_login || return 1
    get "$HTTPS/api/targets" -H "Authorization: Bearer $DTOKEN" -H 'Content-Type: application/json' \
        --data '{"name":"kept-target","engine":"postgres","host":"127.0.0.1","port":9,"database":"x","username":"u","password":"p"}'
    DTARGET=$(json_field id)
    expect "201 for the target" test "$CODE" = 201 -a -n "$DTARGET" || return 1
    get "$HTTPS/api/jobs" -H "Authorization: Bearer $DTOKEN" -H 'Content-Type: application/json' \
        --data "{\"name\":\"kept-job-$$\",\"scripts\":[{\"sql\":\"SELECT 1\",\"target_ids\":[$DTARGET]}]}"
    DJOB=$(json_field id)
    expect "201 for the job" test "$CODE" = 201 -a -n "$DJOB"
}
data_intact() { # the user logs in, the job and the target are there
    api_login || return 1
    get "$HTTPS/api/jobs/$DJOB" -H "Authorization: Bearer $DTOKEN"
    expect "job $DJOB kept" test "$CODE" = 200 -a "$(json_field name)" = "kept-job-$$" || return 1
    get "$HTTPS/api/targets/$DTARGET" -H "Authorization: Bearer $DTOKEN"
    expect "target $DTARGET kept" test "$CODE" = 200 -a "$(json_field name)" = kept-target
}
deployed() { # LOG VERSION: exit 0, current -> VERSION, the links resolve into it, health says so
    [ "$DEPLOY_RC" = 0 ] || { echo "deploy.sh exited $DEPLOY_RC:"; tail -n 15 "$1"; return 1; }
    [ "$(readlink "$DROOT/opt/autodb/current")" = "releases/$2" ] || { echo "current -> $(readlink "$DROOT/opt/autodb/current")"; return 1; }
    [ "$(readlink -f "$DROOT/usr/bin/autodb")" = "$DROOT/opt/autodb/releases/$2/bin/autodb" ] || { echo "/usr/bin/autodb -> $(readlink -f "$DROOT/usr/bin/autodb")"; return 1; }
    [ "$(readlink -f "$DROOT/usr/share/autodb/www")" = "$DROOT/opt/autodb/releases/$2/www" ] || { echo "www -> $(readlink -f "$DROOT/usr/share/autodb/www")"; return 1; }
    health_release "$2"
}
rolled_back() { # LOG REASON: exit 1 naming the reason, back on B within the timeout
    [ "$DEPLOY_RC" = 1 ] || { echo "deploy.sh exited $DEPLOY_RC, want 1:"; tail -n 15 "$1"; return 1; }
    tail -n 1 "$1" | grep -q "failed (.*$2.*); rolled back, B is live" || { echo "last line does not name '$2':"; tail -n 5 "$1"; return 1; }
    [ "$(readlink "$DROOT/opt/autodb/current")" = releases/B ] || { echo "current -> $(readlink "$DROOT/opt/autodb/current")"; return 1; }
    [ "$DEPLOY_S" -le 20 ] || { echo "took ${DEPLOY_S}s (health timeout 5 s, twice, plus margin: 20 s)"; return 1; }
    health_release B
}
tree_state() { find "$DROOT" "$D/backups" -printf '%p %y %l %s %T@\n' 2>/dev/null | sort; }

if [ "$NGINX_UP" = 1 ] && [ -x "$AUTODB_BIN" ]; then
    DEPLOY_T0=$SECONDS
    make_rel "$AUTODB_BIN" A || fail "release.sh makes release A" "$(cat "$D/release-A.log")"
    make_rel "$AUTODB_BIN" B || fail "release.sh makes release B" "$(cat "$D/release-B.log")"
    # C (a small stand-in binary) goes through the .tar.gz path: packing 96 MB of debug binary
    # would cost the section seconds.
    { make_rel "$D/serve-fails" C --tar && make_rel "$D/migrates-then-fails" D && make_rel "$AUTODB_BIN" E; } ||
        fail "release.sh makes releases C, D and E"
    check "release.sh: bin/autodb, VERSION beside it, UI, unit, site, scripts, checksums that verify" release_layout
    check "release.sh --tar packs the release as autodb-C.tar.gz" \
        sh -c "tar -tzf '$D/rel/autodb-C.tar.gz' | grep -qx 'autodb-C/bin/VERSION'"

    deploy_to_prefix "$D/deploy-A.log" --health-timeout 30 "$D/rel/autodb-A"
    check "the first deploy (A) goes live: current -> A, /usr/bin/autodb and www into it, health says A" \
        deployed "$D/deploy-A.log" A
    # Not through check (a subshell): the ids it sets are used below.
    if make_data >"$D/make-data.log" 2>&1; then
        pass "data is created through nginx on A: a user, a target, a job"
    else
        fail "data is created through nginx on A: a user, a target, a job" "$(cat "$D/make-data.log")"
    fi

    before=$(tree_state)
    deploy_to_prefix "$D/deploy-dry.log" --dry-run "$D/rel/autodb-B"
    dry_plan() {
        local step
        [ "$DEPLOY_RC" = 0 ] || { tail -n 15 "$D/deploy-dry.log"; return 1; }
        [ "$(tree_state)" = "$before" ] || { echo "the prefix changed:"; diff <(echo "$before") <(tree_state); return 1; }
        for step in "releases/A/bin/autodb --config $TMP/autodb.toml backup" "releases/B/bin/autodb --config $TMP/autodb.toml migrate" \
            "+ mv -T $DROOT/opt/autodb/.current.new $DROOT/opt/autodb/current" "+ restart: $D/restart.sh" "+ poll $HTTPS/api/health"; do
            grep -qF -- "$step" "$D/deploy-dry.log" || { echo "plan lacks '$step':"; cat "$D/deploy-dry.log"; return 1; }
        done
        health_release A
    }
    check "deploy.sh --dry-run prints the plan (backup with A, migrate with B, switch, restart, poll) and changes nothing" dry_plan

    deploy_to_prefix "$D/deploy-B.log" --health-timeout 30 "$D/rel/autodb-B"
    check "deploying B: B is live through nginx" deployed "$D/deploy-B.log" B
    check "after B, the data made on A is intact" data_intact
    backup_made() {
        local b
        b=$(ls "$D"/backups/autodb-before-B-*.db 2>&1) || { echo "$b"; return 1; }
        [ -f "$b.meta.json" ] || { echo "no $b.meta.json"; return 1; }
        python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"; assert c.execute("SELECT count(*) FROM jobs WHERE name = ?", (sys.argv[2],)).fetchone()[0] == 1' "$b" "kept-job-$$"
    }
    check "the store was backed up (by A) before B migrated it: intact, holding the job" backup_made

    deploy_to_prefix "$D/deploy-C.log" --health-timeout 5 "$D/rel/autodb-C.tar.gz"
    check "C (from its .tar.gz), whose serve fails, is rolled back: exit 1 naming the health check, B live again within the timeout" \
        rolled_back "$D/deploy-C.log" "C did not report healthy"
    check "after C's rollback, the data is intact" data_intact

    deploy_to_prefix "$D/deploy-D.log" --health-timeout 5 "$D/rel/autodb-D"
    check "D, which migrates then fails, is rolled back: exit 1, B live again" \
        rolled_back "$D/deploy-D.log" "D did not report healthy"
    restored() {
        grep -q "B cannot read the store D migrated: restoring" "$D/deploy-D.log" || { echo "no restore in the log:"; tail -n 20 "$D/deploy-D.log"; return 1; }
        env "${DENV[@]}" "$DROOT/usr/bin/autodb" schema-status --config "$TMP/autodb.toml"
    }
    check "D's unknown migration made B's schema-status exit 4, so the backup was restored; B reads its store" restored
    check "after D's rollback, the data is intact" data_intact

    # Edited copies of the small release C (C is placed, not current: B stays live).
    mkdir -p "$D/rel/C-again"
    cp -R "$D/rel/autodb-C/." "$D/rel/C-again/"
    echo '<!doctype html><title>not C</title>' >"$D/rel/C-again/www/index.html"
    deploy_to_prefix "$D/deploy-C-edited.log" "$D/rel/C-again"
    check "a release whose files do not match its SHA256SUMS is refused (exit 2)" \
        sh -c "[ $DEPLOY_RC = 2 ] && grep -q 'www/index.html: FAILED' '$D/deploy-C-edited.log' || { tail -n 5 '$D/deploy-C-edited.log'; exit 1; }"
    (cd "$D/rel/C-again" && find . -type f ! -name SHA256SUMS -print0 | sort -z | xargs -0 sha256sum >"$D/sums" && mv "$D/sums" SHA256SUMS)
    deploy_to_prefix "$D/deploy-C-again.log" "$D/rel/C-again"
    check "a different build reusing an installed version (C) is refused (exit 2), B stays live" \
        sh -c "[ $DEPLOY_RC = 2 ] && grep -q 'differs' '$D/deploy-C-again.log' && [ \"\$(readlink '$DROOT/opt/autodb/current')\" = releases/B ] || { tail -n 5 '$D/deploy-C-again.log'; exit 1; }"

    # Without --prefix: the server's plan (runuser, systemctl, the health URL through nginx),
    # and nothing on this machine changes.
    live_deploy_dry_run() {
        local before after out step
        before=$(ls -ld /opt/autodb /opt/autodb/current /usr/bin/autodb /usr/share/autodb/www /var/lib/autodb 2>&1)
        out=$(env -u AUTODB_DEPLOY_RESTART "$ROOT/scripts/deploy/deploy.sh" --dry-run "$D/rel/autodb-B" 2>&1) ||
            { echo "$out" | tail -n 20; return 1; }
        after=$(ls -ld /opt/autodb /opt/autodb/current /usr/bin/autodb /usr/share/autodb/www /var/lib/autodb 2>&1)
        [ "$before" = "$after" ] || { echo "the system changed:"; diff <(echo "$before") <(echo "$after"); return 1; }
        for step in "+ cp -R $D/rel/autodb-B /opt/autodb/releases/.B.new" "+ mv -T /opt/autodb/.current.new /opt/autodb/current" \
            "/opt/autodb/releases/B/bin/autodb --config /etc/autodb/autodb.toml migrate" \
            "+ restart: systemctl restart autodb.service" "+ poll https://localhost/api/health"; do
            [[ $out == *"$step"* ]] || { echo "plan lacks '$step':"; echo "$out" | tail -n 30; return 1; }
        done
    }
    check "a live deploy.sh --dry-run plans the release, migrate, switch, systemctl restart and the health poll, changing nothing" \
        live_deploy_dry_run

    mkdir -p "$D/rel/not-a-release/bin"
    cp "$AUTODB_BIN" "$D/rel/not-a-release/bin/autodb"
    before=$(tree_state)
    deploy_to_prefix "$D/deploy-bad.log" "$D/rel/not-a-release"
    check "deploy.sh refuses a folder without VERSION or UI (exit 2, naming what is missing), changing nothing" \
        sh -c "[ $DEPLOY_RC = 2 ] && grep -q 'www/index.html missing' '$D/deploy-bad.log' && [ \"\$1\" = \"\$2\" ] || { cat '$D/deploy-bad.log'; exit 1; }" \
        _ "$before" "$(tree_state)"

    deploy_to_prefix "$D/deploy-E.log" --keep 2 --health-timeout 30 "$D/rel/autodb-E"
    check "deploying E with --keep 2 goes live" deployed "$D/deploy-E.log" E
    check "--keep 2 keeps E (current) and B (previous), pruning A, C and D" \
        sh -c "[ \"\$(ls '$DROOT/opt/autodb/releases' | tr '\n' ' ')\" = 'B E ' ] && [ \"\$(readlink '$DROOT/opt/autodb/previous')\" = releases/B ] || { ls -la '$DROOT/opt/autodb' '$DROOT/opt/autodb/releases'; exit 1; }"
    check "after E, the data is intact" data_intact
    check "--keep 2 also keeps only the 2 newest pre-deploy backups (before D and E)" \
        sh -c "[ \"\$(cd '$D/backups' && ls | sed 's/-2[0-9T]*Z//' | tr '\n' ' ')\" = 'autodb-before-D.db autodb-before-D.db.meta.json autodb-before-E.db autodb-before-E.db.meta.json ' ] || ls -la '$D/backups'"
    stop_deployed
    echo "      (the deploy.sh section took $((SECONDS - DEPLOY_T0)) s)"
else
    echo "(deploy.sh checks not run: nginx or the binary is missing)"
fi

# ---------------------------------------------------------------------------------------
echo "# systemd unit"
UNIT_COPY=$TMP/unit/autodb.service
mkdir -p "$TMP/unit"
sed "s#^ExecStart=/usr/bin/autodb #ExecStart=$(command -v true) #" systemd/autodb.service >"$UNIT_COPY"
unit_verify() {
    local out
    { [ "$(grep -c '^ExecStart=' "$UNIT_COPY")" = 1 ] && ! grep -q /usr/bin/autodb "$UNIT_COPY"; } ||
        { echo "expected one ExecStart=/usr/bin/autodb serve ... to point elsewhere"; return 1; }
    out=$(systemd-analyze verify "$UNIT_COPY" 2>&1) || { echo "$out"; return 1; }
    [ -z "$out" ] || { echo "$out"; return 1; }
}
EXPOSURE_MAX=2.0
unit_exposure() {
    local out score
    out=$(systemd-analyze security --offline=yes "$UNIT_COPY" 2>&1)
    score=$(sed -n 's/.*Overall exposure level for autodb.service: \([0-9.]*\).*/\1/p' <<<"$out")
    [ -n "$score" ] || { echo "$out" | tail -n 5; return 1; }
    echo "exposure $score (limit $EXPOSURE_MAX)"
    awk -v s="$score" -v m="$EXPOSURE_MAX" 'BEGIN { exit !(s < m) }' || { grep '✗' <<<"$out"; return 1; }
}
sysusers() {
    mkdir -p "$TMP/sysroot/etc"
    systemd-sysusers --root="$TMP/sysroot" "$ROOT/systemd/autodb.sysusers.conf" &&
        grep -E '^autodb:x:[0-9]+:[0-9]+:[^:]*:/var/lib/autodb:/usr/sbin/nologin$' "$TMP/sysroot/etc/passwd"
}
check "systemd-analyze verify finds nothing to say about the unit" unit_verify
check "the unit's systemd-analyze security exposure is under $EXPOSURE_MAX" unit_exposure
echo "      $(unit_exposure | head -n 1)"
check "the sysusers.d file creates the autodb user with its home in /var/lib/autodb" sysusers

# ---------------------------------------------------------------------------------------
echo "# scripts/deploy/install.sh"
INSTALL=$ROOT/scripts/deploy/install.sh
make_release() { # DIR VERSION: the layout scripts/release.sh makes, with a stand-in binary
    mkdir -p "$1/www/assets" "$1/bin"
    printf '#!/bin/sh\necho "autodb %s"\n' "$2" >"$1/bin/autodb"
    chmod 0755 "$1/bin/autodb"
    echo "$2" >"$1/VERSION"
    cp "$1/VERSION" "$1/bin/VERSION"
    echo "<!doctype html><title>release $2</title>" >"$1/www/index.html"
    echo "console.log('$2')" >"$1/www/assets/app-$2.js"
}
make_release "$TMP/rel1" v1
make_release "$TMP/rel2" v2
FAKE_ROOT=$TMP/root
mkdir -p "$FAKE_ROOT"
"$INSTALL" --prefix "$FAKE_ROOT" "$TMP/rel1" >"$TMP/install1.log" 2>&1
INSTALL1_RC=$?
check "install.sh --prefix succeeds on an empty root" \
    sh -c "[ $INSTALL1_RC = 0 ] || { tail -n 20 '$TMP/install1.log'; exit 1; }"
same_file() { # INSTALLED SOURCE MODE (through symlinks)
    [ -f "$FAKE_ROOT$1" ] || { echo "$1 missing"; return 1; }
    cmp "$FAKE_ROOT$1" "$2" || return 1
    [ "$(stat -L -c %a "$FAKE_ROOT$1")" = "$3" ] || { echo "$1 mode $(stat -L -c %a "$FAKE_ROOT$1"), want $3"; return 1; }
}
links_into_current() { # VERSION
    local c=$FAKE_ROOT/opt/autodb/current
    [ "$(readlink "$c")" = "releases/$1" ] || { echo "current -> $(readlink "$c"), want releases/$1"; return 1; }
    [ "$(readlink "$FAKE_ROOT/usr/bin/autodb")" = ../../opt/autodb/current/bin/autodb ] ||
        { echo "/usr/bin/autodb -> $(readlink "$FAKE_ROOT/usr/bin/autodb")"; return 1; }
    [ "$(readlink "$FAKE_ROOT/usr/share/autodb/www")" = ../../../opt/autodb/current/www ] ||
        { echo "/usr/share/autodb/www -> $(readlink "$FAKE_ROOT/usr/share/autodb/www")"; return 1; }
}
check "places the release in /opt/autodb/releases/v1, current -> it, /usr/bin/autodb and the web root into current" \
    links_into_current v1
check "installs the binary as /usr/bin/autodb (0755)" same_file /usr/bin/autodb "$TMP/rel1/bin/autodb" 755
check "installs the UI in /usr/share/autodb/www" same_file /usr/share/autodb/www/index.html "$TMP/rel1/www/index.html" 644
check "installs UI assets" same_file /usr/share/autodb/www/assets/app-v1.js "$TMP/rel1/www/assets/app-v1.js" 644
production_config() {
    local f=$FAKE_ROOT/etc/autodb/autodb.toml line
    [ -f "$f" ] || { echo "missing"; return 1; }
    [ "$(stat -c %a "$f")" = 640 ] || { echo "mode $(stat -c %a "$f"), want 640"; return 1; }
    for line in 'url = "sqlite:///var/lib/autodb/autodb.db"' \
        'secret_key_file = "/var/lib/autodb/secret.key"' 'trust_proxy = true'; do
        grep -qxF "$line" "$f" || { echo "no line: $line"; return 1; }
    done
    # Apart from those three lines, the example as it is.
    sed -e 's#^url = "sqlite:///var/lib/autodb/autodb.db"$#url = "sqlite://data/autodb.db"#' \
        -e 's#^secret_key_file = "/var/lib/autodb/secret.key"$#secret_key_file = "data/secret.key"#' \
        -e 's#^trust_proxy = true$#trust_proxy = false#' "$f" | diff - docs/autodb.example.toml
}
check "creates /etc/autodb/autodb.toml (0640): the example with production store, key and trust_proxy" production_config
config_accepted() {
    # The store and key are pointed at the temp folder: check-config creates both.
    env AUTODB__DATABASE__URL="sqlite://$TMP/cc/autodb.db" AUTODB__SECURITY__SECRET_KEY_FILE="$TMP/cc/secret.key" \
        "$AUTODB_BIN" check-config --config "$FAKE_ROOT/etc/autodb/autodb.toml"
}
if [ -x "$AUTODB_BIN" ]; then
    check "the installed configuration passes the real binary's check-config" config_accepted
fi
check "installs the unit" same_file /usr/lib/systemd/system/autodb.service systemd/autodb.service 644
check "installs the sysusers.d file" same_file /usr/lib/sysusers.d/autodb.conf systemd/autodb.sysusers.conf 644
check "installs the nginx site" same_file /etc/nginx/sites-available/autodb.conf nginx/autodb.conf 644
check "installs the locations snippet" same_file /etc/nginx/snippets/autodb-locations.conf nginx/autodb-locations.conf 644
check "installs the headers snippet" same_file /etc/nginx/snippets/autodb-headers.conf nginx/autodb-headers.conf 644
check "installs DEPLOY.md" same_file /usr/share/doc/autodb/DEPLOY.md docs/DEPLOY.md 644
check "enables the nginx site with a link to the live path" \
    test "$(readlink "$FAKE_ROOT/etc/nginx/sites-enabled/autodb.conf")" = /etc/nginx/sites-available/autodb.conf
self_signed() {
    local d=$FAKE_ROOT/etc/autodb/tls
    [ "$(stat -c %a "$d/privkey.pem")" = 600 ] || { echo "privkey.pem mode $(stat -c %a "$d/privkey.pem" 2>&1)"; return 1; }
    [ "$(stat -c %a "$d")" = 700 ] || { echo "tls/ mode $(stat -c %a "$d")"; return 1; }
    [ "$(openssl x509 -in "$d/fullchain.pem" -noout -pubkey)" = "$(openssl pkey -in "$d/privkey.pem" -pubout)" ] ||
        { echo "certificate and key do not match"; return 1; }
    grep -q 'SELF-SIGNED' "$TMP/install1.log" || { echo "no loud note about the self-signed certificate"; return 1; }
}
check "makes a self-signed certificate (key 0600) with a loud note when there is none" self_signed
no_staging_left() {
    local left
    left=$(find "$FAKE_ROOT/usr" "$FAKE_ROOT/opt" -name '.*' 2>&1)
    [ -z "$left" ] || { echo "left behind: $left"; return 1; }
}
check "leaves no staging files behind" no_staging_left

echo "# local edit" >>"$FAKE_ROOT/etc/autodb/autodb.toml"
cp "$FAKE_ROOT/etc/autodb/autodb.toml" "$TMP/edited.toml"
CERT_BEFORE=$(openssl x509 -in "$FAKE_ROOT/etc/autodb/tls/fullchain.pem" -noout -fingerprint -sha256 2>&1)
"$INSTALL" --prefix "$FAKE_ROOT" "$TMP/rel2" >"$TMP/install2.log" 2>&1
INSTALL2_RC=$?
check "a second install (upgrade) succeeds" sh -c "[ $INSTALL2_RC = 0 ] || { tail -n 20 '$TMP/install2.log'; exit 1; }"
check "the upgrade keeps the edited configuration" same_file /etc/autodb/autodb.toml "$TMP/edited.toml" 640
check "the upgrade keeps the existing certificate" \
    test "$(openssl x509 -in "$FAKE_ROOT/etc/autodb/tls/fullchain.pem" -noout -fingerprint -sha256 2>&1)" = "$CERT_BEFORE"
check "the upgrade replaces the binary" same_file /usr/bin/autodb "$TMP/rel2/bin/autodb" 755
check "the upgrade switches current to v2 and keeps v1 beside it" \
    sh -c "[ \"\$(readlink '$FAKE_ROOT/opt/autodb/current')\" = releases/v2 ] && [ -x '$FAKE_ROOT/opt/autodb/releases/v1/bin/autodb' ]"
check "the upgrade replaces the UI, dropping the old release's files" \
    sh -c "cmp '$FAKE_ROOT/usr/share/autodb/www/index.html' '$TMP/rel2/www/index.html' && [ ! -e '$FAKE_ROOT/usr/share/autodb/www/assets/app-v1.js' ]"
check "the upgrade leaves no staging files behind" no_staging_left

mkdir -p "$TMP/dry"
"$INSTALL" --dry-run --prefix "$TMP/dry" "$TMP/rel1" >"$TMP/dry.log" 2>&1
DRY_RC=$?
check "--dry-run prints the actions and changes nothing" \
    sh -c "[ $DRY_RC = 0 ] && grep -q '^+ cp -R .* .*/opt/autodb/releases/.v1.new' '$TMP/dry.log' && [ -z \"\$(ls -A '$TMP/dry')\" ] || { cat '$TMP/dry.log' | tail -n 20; ls -R '$TMP/dry'; exit 1; }"
# Without --prefix: the live plan (user, check-config, nginx -t, systemctl, health poll) is
# printed, and nothing on this machine changes. Only tried once --dry-run proved harmless.
live_dry_run() {
    local before after out
    before=$(ls -ld /etc/autodb /usr/bin/autodb /usr/share/autodb /etc/nginx/sites-enabled/autodb.conf 2>&1)
    out=$("$INSTALL" --dry-run "$TMP/rel1" 2>&1) || { echo "$out" | tail -n 20; return 1; }
    after=$(ls -ld /etc/autodb /usr/bin/autodb /usr/share/autodb /etc/nginx/sites-enabled/autodb.conf 2>&1)
    [ "$before" = "$after" ] || { echo "the system changed:"; diff <(echo "$before") <(echo "$after"); return 1; }
    for step in "check-config --config /etc/autodb/autodb.toml" "+ nginx -t" \
        "+ systemctl restart autodb.service" "+ systemctl reload-or-restart nginx.service" \
        "poll https://localhost/api/health"; do
        [[ $out == *"$step"* ]] || { echo "plan lacks '$step':"; echo "$out" | tail -n 30; return 1; }
    done
}
if [ "$DRY_RC" = 0 ] && [ -z "$(ls -A "$TMP/dry")" ]; then
    check "a live --dry-run plans check-config, nginx -t, restarts and the health poll, changing nothing" live_dry_run
fi
# An install from before /opt/autodb/releases: a plain /usr/bin/autodb and a www/ folder.
OLD_ROOT=$TMP/root-old
mkdir -p "$OLD_ROOT/usr/bin" "$OLD_ROOT/usr/share/autodb/www"
cp "$TMP/rel1/bin/autodb" "$OLD_ROOT/usr/bin/autodb"
echo old >"$OLD_ROOT/usr/share/autodb/www/index.html"
converted() {
    "$INSTALL" --prefix "$OLD_ROOT" "$TMP/rel2" >"$TMP/install-old.log" 2>&1 || { tail -n 20 "$TMP/install-old.log"; return 1; }
    if [ "$(readlink -f "$OLD_ROOT/usr/bin/autodb")" != "$OLD_ROOT/opt/autodb/releases/v2/bin/autodb" ] ||
        [ "$(readlink -f "$OLD_ROOT/usr/share/autodb/www")" != "$OLD_ROOT/opt/autodb/releases/v2/www" ] ||
        [ -n "$(find "$OLD_ROOT/usr" -name '.*')" ]; then
        ls -laR "$OLD_ROOT/usr"
        return 1
    fi
}
check "install.sh converts an install from before releases (plain binary, www/ folder) into links" converted
mkdir -p "$TMP/rel-broken" "$TMP/root-broken"
cp -R "$TMP/rel1/bin" "$TMP/rel1/VERSION" "$TMP/rel-broken/"
check "install.sh refuses a release without a built UI and changes nothing" \
    sh -c "! '$INSTALL' --prefix '$TMP/root-broken' '$TMP/rel-broken' >/dev/null 2>&1 && [ -z \"\$(ls -A '$TMP/root-broken')\" ]"

echo "# shellcheck"
while IFS= read -r f; do
    check "shellcheck ${f#"$ROOT"/}" shellcheck -x -P SCRIPTDIR "$f"
done < <(grep -rlE '^#!(/usr/bin/env |/bin/)(ba)?sh' "$ROOT/scripts" | sort)

# ---------------------------------------------------------------------------------------
if [ "$FAILED" -gt 0 ]; then
    echo "---- nginx error log (tail)"
    tail -n 20 "$TMP/nginx/logs/error.log" 2>/dev/null
    echo "---- backend log (tail)"
    tail -n 20 "$TMP/backend.log" 2>/dev/null
fi
for s in "${SKIPPED[@]}"; do echo "skipped: $s"; done
echo "(deploy tests took $((SECONDS - T0)) s)"
echo "deploy: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
