#!/usr/bin/env bash
# First-time installer of AutoDB on a server, as root (user, directories, configuration,
# certificate, unit, nginx site, and the release itself); safe to run again. Upgrades with
# health check and rollback are deploy.sh's job. docs/DEPLOY.md is the ops guide.
#
#   install.sh [--dry-run] [--prefix DIR] [--health-timeout SECONDS] RELEASE_DIR
#
# RELEASE_DIR is a release made by scripts/release.sh (bin/autodb, VERSION, www/, ...). It is
# placed as /opt/autodb/releases/<version> and made `current` (lib.sh, as deploy.sh does). The
# unit, the nginx site and the example configuration come from the release when it has them,
# else from the tree this script sits in (../.. from here).
#
#   --dry-run   print every action, change nothing
#   --prefix    install under DIR as if it were / (for tests and packaging): no user, no
#               ownership, no check-config, no systemctl, no nginx; the self-signed certificate
#               is still made when DIR has none
#
# Never overwrites /etc/autodb/autodb.toml or an existing certificate.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PREFIX=""
DRY_RUN=0
HEALTH_TIMEOUT=90
RELEASE=""

ME=install.sh
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
usage() { sed -n '5,17s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

while [ $# -gt 0 ]; do
    case $1 in
        --dry-run) DRY_RUN=1 ;;
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; PREFIX=$2; shift ;;
        --prefix=*) PREFIX=${1#--prefix=} ;;
        --health-timeout) [ $# -ge 2 ] || die "--health-timeout needs seconds"; HEALTH_TIMEOUT=$2; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) [ -z "$RELEASE" ] || die "one release directory only"; RELEASE=$1 ;;
    esac
    shift
done
[ -n "$RELEASE" ] || { usage >&2; exit 2; }
case $HEALTH_TIMEOUT in ''|*[!0-9]*) die "--health-timeout takes whole seconds" ;; esac
if [ -n "$PREFIX" ]; then
    [ -d "$PREFIX" ] || die "prefix $PREFIX is not a directory"
    PREFIX=$(cd "$PREFIX" && pwd)
    [ "$PREFIX" != / ] || PREFIX=""
fi
LIVE=1
[ -z "$PREFIX" ] || LIVE=0

# Target paths (under the prefix, if any).
layout_paths "$PREFIX"
DOC=$PREFIX/usr/share/doc/autodb
ETC=$PREFIX/etc/autodb
CONF=$ETC/autodb.toml
TLS=$ETC/tls
UNIT=$PREFIX/usr/lib/systemd/system/autodb.service
SYSUSERS=$PREFIX/usr/lib/sysusers.d/autodb.conf
NGINX=$PREFIX/etc/nginx
ACME=$PREFIX/var/www/acme
STATE=$PREFIX/var/lib/autodb

# --- Pre-flight: every input present before anything changes.
[ -d "$RELEASE" ] || die "$RELEASE: not a release directory (unpack a .tar.gz first)"
RELEASE=$(cd "$RELEASE" && pwd)
check_release "$RELEASE"
V=$(release_version "$RELEASE")
# The release's own copies when it has them (release.sh puts them there).
if [ -f "$RELEASE/systemd/autodb.service" ]; then SRC=$RELEASE; fi
for f in nginx/autodb.conf nginx/autodb-locations.conf nginx/autodb-headers.conf \
         systemd/autodb.service systemd/autodb.sysusers.conf \
         docs/autodb.example.toml docs/DEPLOY.md; do
    [ -f "$SRC/$f" ] || die "$SRC/$f missing"
done
if [ "$LIVE" = 1 ]; then
    [ "$DRY_RUN" = 1 ] || [ "$(id -u)" = 0 ] || die "run as root (or use --prefix / --dry-run)"
    for cmd in systemctl nginx curl openssl runuser journalctl; do
        command -v "$cmd" >/dev/null || die "$cmd not found (apt-get install -y nginx curl openssl)"
    done
    # A missing shared library (libpq5 for the PostgreSQL store) shows here, before any change.
    version=$("$RELEASE/bin/autodb" --version 2>&1) ||
        die "$RELEASE/bin/autodb does not run on this host (apt-get install -y libpq5?): $version"
    note "release: $version"
else
    command -v openssl >/dev/null || die "openssl not found"
fi
[ "$DRY_RUN" = 0 ] || note "dry run: nothing below is executed"
[ "$LIVE" = 1 ] || note "installing under prefix $PREFIX (no user, systemctl or nginx)"

# --- Service user.
note "service user"
run install -D -m 0644 "$SRC/systemd/autodb.sysusers.conf" "$SYSUSERS"
if [ "$LIVE" = 1 ]; then
    if getent passwd autodb >/dev/null; then
        echo "    user autodb exists"
    elif command -v systemd-sysusers >/dev/null; then
        run systemd-sysusers "$SYSUSERS"
    else
        run useradd --system --user-group --home-dir /var/lib/autodb \
            --shell /usr/sbin/nologin --comment "AutoDB service" autodb
    fi
    # systemd makes it too (StateDirectory=); made here so check-config can run before it.
    run install -d -o autodb -g autodb -m 0700 "$STATE"
fi

# --- Configuration: created once from the example, never overwritten. The example's defaults
# suit a developer's checkout; a server keeps its state in /var/lib/autodb and sits behind
# nginx, which sets X-Forwarded-For (nginx/autodb-locations.conf).
note "configuration"
PRODUCTION_SETTINGS=(
    's#^url = "sqlite://data/autodb.db"$#url = "sqlite:///var/lib/autodb/autodb.db"#'
    's#^secret_key_file = "data/secret.key"$#secret_key_file = "/var/lib/autodb/secret.key"#'
    's#^trust_proxy = false$#trust_proxy = true#'
)
run install -d -m 0755 "$ETC"
if [ -e "$CONF" ]; then
    echo "    keeping existing $CONF"
    echo "    (compare with $DOC/autodb.example.toml for keys new in this release)"
else
    rendered=$(cat "$SRC/docs/autodb.example.toml")
    for expr in "${PRODUCTION_SETTINGS[@]}"; do
        changed=$(sed -e "$expr" <<<"$rendered")
        [ "$changed" != "$rendered" ] ||
            die "docs/autodb.example.toml no longer has the line that '$expr' rewrites: update install.sh"
        rendered=$changed
    done
    echo "+ write $CONF (0640): the example with the store and key in /var/lib/autodb, trust_proxy = true"
    if [ "$DRY_RUN" = 0 ]; then
        (umask 0027 && printf '%s\n' "$rendered" >"$CONF")
        chmod 0640 "$CONF"
    fi
    if [ "$LIVE" = 1 ]; then run chgrp autodb "$CONF"; fi
fi

# --- The release: placed in /opt/autodb/releases/<version>, checked against the live
# configuration as the service user, then made current with one rename of a symlink
# (/usr/bin/autodb and the web root point into current). check-config also opens the store and
# creates secret.key on a first install, as autodb.
note "release $V"
place_release "$RELEASE" "$V"
STAGED=$RELEASES/$V/bin/autodb
if [ "$LIVE" = 1 ]; then
    service_env "$ETC"
    # Not echoed through run: autodb.env values are secrets.
    echo "+ runuser -u autodb -- env -i (service environment) $STAGED check-config --config $CONF"
    if [ "$DRY_RUN" = 0 ] &&
        ! (umask 0077 && cd /var/lib/autodb && runuser -u autodb -- env -i "${SERVICE_ENV[@]}" \
            "$STAGED" check-config --config "$CONF"); then
        die "autodb check-config rejected $CONF: the current release, unit and nginx site are unchanged; fix it and run again"
    fi
else
    echo "    (prefix: check-config skipped, it would read the live paths)"
fi
switch_link "releases/$V" "$CURRENT"
point_links

note "documentation"
run install -D -m 0644 "$SRC/docs/autodb.example.toml" "$DOC/autodb.example.toml"
run install -D -m 0644 "$SRC/docs/DEPLOY.md" "$DOC/DEPLOY.md"

# --- TLS: a self-signed certificate only when there is none.
note "TLS certificate"
run install -d -m 0700 "$TLS"
if [ -e "$TLS/fullchain.pem" ] && [ -e "$TLS/privkey.pem" ]; then
    echo "    keeping existing certificate in $TLS"
elif [ -e "$TLS/fullchain.pem" ] || [ -e "$TLS/privkey.pem" ]; then
    die "$TLS has only one of fullchain.pem / privkey.pem: put both there"
else
    host=$(hostname -f 2>/dev/null || hostname)
    run openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
        -subj "/CN=$host" -addext "subjectAltName=DNS:$host,DNS:localhost,IP:127.0.0.1" \
        -keyout "$TLS/privkey.pem" -out "$TLS/fullchain.pem"
    run chmod 0600 "$TLS/privkey.pem"
    cat <<EOF

  ******************************************************************************
  *  NO TLS CERTIFICATE WAS FOUND: a SELF-SIGNED one was made for "$host",
  *  valid 365 days. Browsers will warn. Replace $TLS/fullchain.pem
  *  and privkey.pem with real ones, then: systemctl reload nginx
  *  (docs/DEPLOY.md, "TLS certificates").
  ******************************************************************************

EOF
fi

# --- systemd unit.
note "systemd unit"
run install -D -m 0644 "$SRC/systemd/autodb.service" "$UNIT"

# --- nginx site: snippets in snippets/, the site in sites-available/ + sites-enabled/
# (Debian), or conf.d/ where there is no sites-enabled/.
note "nginx site"
if [ "$LIVE" = 0 ] || [ -d "$NGINX/sites-enabled" ]; then
    SITE=$NGINX/sites-available/autodb.conf
    ENABLED=$NGINX/sites-enabled/autodb.conf
else
    SITE=$NGINX/conf.d/autodb.conf
    ENABLED=""
fi
NGINX_FILES=("$SITE" "$NGINX/snippets/autodb-locations.conf" "$NGINX/snippets/autodb-headers.conf")
BACKUP=""
if [ "$LIVE" = 1 ] && [ "$DRY_RUN" = 0 ]; then
    BACKUP=$(mktemp -d)
    for f in "${NGINX_FILES[@]}"; do
        if [ -e "$f" ]; then cp -p "$f" "$BACKUP/$(basename "$f")"; fi
    done
fi
if [ -e "$SITE" ] && ! cmp -s "$SITE" "$SRC/nginx/autodb.conf"; then
    echo "    $SITE had local changes: kept as $SITE.previous"
    run cp -p "$SITE" "$SITE.previous"
fi
run install -D -m 0644 "$SRC/nginx/autodb.conf" "$SITE"
run install -D -m 0644 "$SRC/nginx/autodb-locations.conf" "$NGINX/snippets/autodb-locations.conf"
run install -D -m 0644 "$SRC/nginx/autodb-headers.conf" "$NGINX/snippets/autodb-headers.conf"
if [ -n "$ENABLED" ]; then
    run install -d -m 0755 "$(dirname "$ENABLED")"
    run ln -sfn /etc/nginx/sites-available/autodb.conf "$ENABLED"
    # Debian's stock site also claims default_server on port 80.
    if [ -L "$NGINX/sites-enabled/default" ]; then
        echo "    disabling Debian's default site (it stays in sites-available/)"
        run rm -f "$NGINX/sites-enabled/default"
    fi
fi
run install -d -m 0755 "$ACME"

if [ "$LIVE" = 0 ]; then
    note "done: installed under $PREFIX"
    exit 0
fi

# --- Activate.
note "checking the nginx configuration"
if ! run nginx -t -q; then
    if [ -n "$BACKUP" ]; then
        for f in "${NGINX_FILES[@]}"; do
            if [ -e "$BACKUP/$(basename "$f")" ]; then cp -p "$BACKUP/$(basename "$f")" "$f"; else rm -f "$f"; fi
        done
        echo "    restored the previous nginx files"
    fi
    die "nginx -t failed: the new site was not activated (autodb itself is installed)"
fi
[ -z "$BACKUP" ] || rm -rf "$BACKUP"

note "restarting"
run systemctl daemon-reload
run systemctl enable --quiet autodb.service nginx.service
run systemctl restart autodb.service
run systemctl reload-or-restart nginx.service

HEALTH_URL=${AUTODB_DEPLOY_HEALTH_URL:-https://localhost/api/health}
if [ "$DRY_RUN" = 1 ]; then
    echo "+ poll $HEALTH_URL for up to ${HEALTH_TIMEOUT}s until it reports release $V"
    exit 0
fi
note "waiting up to ${HEALTH_TIMEOUT}s for $HEALTH_URL"
# Verified against /etc/autodb/tls/fullchain.pem (the self-signed one names localhost); with a
# real certificate set AUTODB_DEPLOY_RESOLVE / AUTODB_DEPLOY_HEALTH_URL (lib.sh, DEPLOY.md).
health_curl_args "$PREFIX"
if wait_health "$HEALTH_URL" "$V" "$HEALTH_TIMEOUT"; then
    note "AutoDB is up: $HEALTH_LAST"
    exit 0
fi
echo >&2
echo "install.sh: AutoDB DID NOT COME UP within ${HEALTH_TIMEOUT}s (last answer: $HEALTH_LAST)" >&2
echo "---- systemctl status autodb" >&2
systemctl status autodb.service --no-pager >&2 || true
echo "---- journalctl -u autodb -n 50" >&2
journalctl -u autodb.service -n 50 --no-pager >&2 || true
exit 1
