# Shared by scripts/deploy/install.sh and scripts/deploy/deploy.sh: messages, the --dry-run
# `run` wrapper, the release layout, atomic symlink switches and the health wait through nginx.
# Source it after setting ME (the script's name) and DRY_RUN (0/1); it changes nothing itself.
#
# Layout (under PREFIX, empty on a real server):
#   /opt/autodb/releases/<version>/   one unpacked release (bin/autodb, bin/VERSION, www/, ...)
#   /opt/autodb/current            -> releases/<version>          (relative link)
#   /usr/bin/autodb                -> ../../opt/autodb/current/bin/autodb
#   /usr/share/autodb/www          -> ../../../opt/autodb/current/www
# The links are relative so the same tree works under a test prefix and on the server.

# shellcheck shell=bash
ME=${ME:-deploy}
DRY_RUN=${DRY_RUN:-0}

note() { echo "==> $*"; }
warn() { echo "$ME: warning: $*" >&2; }
# die MESSAGE [EXIT_CODE]
die() { echo "$ME: error: $1" >&2; exit "${2:-1}"; }
# Every change goes through run, so --dry-run shows exactly what a real run does.
run() {
    echo "+ $*"
    if [ "$DRY_RUN" = 0 ]; then "$@"; fi
}

# layout_paths PREFIX: sets OPT, RELEASES, CURRENT, BIN_LINK, WWW_LINK.
layout_paths() {
    OPT=$1/opt/autodb
    RELEASES=$OPT/releases
    CURRENT=$OPT/current
    BIN_LINK=$1/usr/bin/autodb
    WWW_LINK=$1/usr/share/autodb/www
}

# release_version DIR: prints the release's version (its VERSION file), or fails saying why.
release_version() {
    local v
    [ -f "$1/VERSION" ] || { echo "$1/VERSION missing: not a release made by scripts/release.sh"; return 1; }
    v=$(tr -d '[:space:]' <"$1/VERSION")
    [[ $v =~ ^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$ ]] ||
        { echo "$1/VERSION: '$v' is not a version (letters, digits, . _ + -, at most 64)"; return 1; }
    echo "$v"
}

# check_release DIR: dies unless DIR holds what a release needs.
check_release() {
    local v
    { [ -f "$1/bin/autodb" ] && [ -x "$1/bin/autodb" ]; } || die "$1/bin/autodb: no executable binary" 2
    [ -f "$1/www/index.html" ] || die "$1/www/index.html missing: not a built UI" 2
    v=$(release_version "$1") || die "$v" 2
    # release.sh lists every file's SHA-256: a damaged copy stops here.
    if [ -f "$1/SHA256SUMS" ]; then
        local bad
        bad=$(cd "$1" && sha256sum --quiet -c SHA256SUMS 2>&1) ||
            die "$1 does not match its SHA256SUMS (damaged or edited): $(head -n 3 <<<"$bad" | tr '\n' ' ')" 2
    fi
    # /api/health reads VERSION beside the resolved executable (backend/src/release.rs).
    [ "$(tr -d '[:space:]' <"$1/bin/VERSION" 2>/dev/null)" = "$v" ] ||
        die "$1/bin/VERSION missing or not '$v': /api/health would not report the release" 2
}

# current_release: the version `current` points at, or nothing.
current_release() {
    local t
    t=$(readlink "$CURRENT" 2>/dev/null) || return 0
    basename "$t"
}

# switch_link TARGET LINK: points LINK at TARGET in one rename (a reader sees the old or the new
# link, never none). Replaces a plain file; a real directory is moved aside first (an install
# made before releases existed), then removed.
switch_link() {
    local target=$1 link=$2 tmp aside=""
    tmp=$(dirname "$link")/.$(basename "$link").new
    run install -d -m 0755 "$(dirname "$link")"
    if [ -d "$link" ] && [ ! -L "$link" ]; then
        aside=$(dirname "$link")/.$(basename "$link").old
        run rm -rf "$aside"
        run mv -T "$link" "$aside"
    fi
    run ln -sfn "$target" "$tmp"
    run mv -T "$tmp" "$link"
    if [ -n "$aside" ]; then run rm -rf "$aside"; fi
}

# place_release SRC VERSION: copies SRC to RELEASES/VERSION (staged, then renamed). An existing
# release of that version is kept when identical and refused when not.
place_release() {
    local src=$1 v=$2 dest=$RELEASES/$2 stage=$RELEASES/.$2.new
    if [ -e "$dest" ]; then
        diff -r -q "$src" "$dest" >/dev/null 2>&1 ||
            die "$dest exists and differs from $src: a different build with the same version (bump VERSION)" 2
        echo "    $dest already installed, identical"
        run touch "$dest"
        return 0
    fi
    run install -d -m 0755 "$RELEASES"
    run rm -rf "$stage"
    run cp -R "$src" "$stage"
    run chmod -R u=rwX,go=rX "$stage"
    run mv -T "$stage" "$dest"
    run touch "$dest" # its install time: --keep keeps the newest
}

# point_links: /usr/bin/autodb and the web root into `current` (idempotent).
point_links() {
    switch_link ../../opt/autodb/current/bin/autodb "$BIN_LINK"
    switch_link ../../../opt/autodb/current/www "$WWW_LINK"
}

# Curl options for the health URL. AUTODB_DEPLOY_CACERT (a PEM file) verifies nginx's
# certificate, default /etc/autodb/tls/fullchain.pem when it exists (the self-signed one names
# localhost); empty means the system's CAs. AUTODB_DEPLOY_RESOLVE=HOST:PORT:ADDR reaches the
# public name on this host. There is no option to skip verification.
health_curl_args() {
    HEALTH_CURL=(curl -sS --max-time 5)
    local ca=${AUTODB_DEPLOY_CACERT-$1/etc/autodb/tls/fullchain.pem}
    if [ -n "$ca" ] && [ -f "$ca" ]; then HEALTH_CURL+=(--cacert "$ca"); fi
    if [ -n "${AUTODB_DEPLOY_RESOLVE:-}" ]; then HEALTH_CURL+=(--resolve "$AUTODB_DEPLOY_RESOLVE"); fi
}

# wait_health URL VERSION TIMEOUT_S: polls until the URL answers 200 with "status":"ok" and
# "release":"VERSION". HEALTH_LAST holds the last answer (for the reason line).
# shellcheck disable=SC2034 # HEALTH_LAST is read by the scripts that source this file
wait_health() {
    local url=$1 want=$2 deadline=$((SECONDS + $3)) body code
    local ok='"status":[[:space:]]*"ok"' rel='"release":[[:space:]]*"'
    HEALTH_LAST="no answer"
    while :; do
        if body=$("${HEALTH_CURL[@]}" -w '\n%{http_code}' "$url" 2>&1); then
            code=${body##*$'\n'}
            body=${body%$'\n'*}
            # "$want" quoted: matched literally (a version may hold . and +).
            if [ "$code" = 200 ] && [[ $body =~ $ok ]] && [[ $body =~ $rel"$want"\" ]]; then
                HEALTH_LAST=$body
                return 0
            fi
            HEALTH_LAST="HTTP $code $(head -c 200 <<<"$body")"
        else
            HEALTH_LAST=$(tail -n 1 <<<"$body")
        fi
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.5
    done
}

# service_env ETC: the environment the unit gives the service (autodb.env may hold the store
# URL), in SERVICE_ENV, for running the CLI as the service would.
service_env() {
    local line key val
    SERVICE_ENV=(PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/var/lib/autodb RUST_LOG=warn)
    [ -r "$1/autodb.env" ] || return 0
    while IFS= read -r line || [ -n "$line" ]; do
        case $line in '' | '#'* | ';'*) continue ;; esac
        key=${line%%=*}
        val=${line#*=}
        case $val in \"*\" | \'*\') val=${val:1:${#val}-2} ;; esac
        SERVICE_ENV+=("$key=$val")
    done <"$1/autodb.env"
}
