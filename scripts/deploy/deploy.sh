#!/usr/bin/env bash
# Deploys a release made by scripts/release.sh, and rolls itself back when it does not come up.
# What a CI pipeline runs on the server (as root) after copying the release there; the first
# install of a server is install.sh's job. docs/DEPLOY.md, "Deploy and roll back".
#
#   deploy.sh [--prefix DIR] [--dry-run] [--keep N] [--health-timeout S] [--config FILE] RELEASE
#
# RELEASE is a release directory (autodb-<version>/) or its .tar.gz.
#   --prefix DIR        work under DIR as if it were / (tests): the CLI runs as the caller, and
#                       AUTODB_DEPLOY_RESTART must be set (no systemctl on a prefix)
#   --dry-run           print every action, change nothing
#   --keep N            keep the N most recently installed releases (default 5; the current and
#                       the previous one are never removed)
#   --health-timeout S  seconds to wait for /api/health to report the release (default 90)
#   --config FILE       the configuration the CLI steps read (default /etc/autodb/autodb.toml)
#
# Environment (hooks are shell commands):
#   AUTODB_DEPLOY_RESTART     restarts the service   (default: systemctl restart autodb.service)
#   AUTODB_DEPLOY_STOP        stops it, before a restore (default: systemctl stop autodb.service)
#   AUTODB_DEPLOY_HEALTH_URL  checked through nginx  (default: https://localhost/api/health)
#   AUTODB_DEPLOY_CACERT      CA file for that URL   (default: /etc/autodb/tls/fullchain.pem if
#                             present; set it empty for the system's CAs)
#   AUTODB_DEPLOY_RESOLVE     HOST:PORT:ADDR, as curl --resolve (a public name on this host)
#   AUTODB_DEPLOY_BACKUP_DIR  where the pre-deploy store backup goes (default /var/lib/autodb/backups)
#
# Exit codes: 0 deployed (or already live); 1 failed, and the previous release is live again;
# 2 usage error or unusable release (nothing changed); 3 failed and the rollback failed too, or
# there was no previous release to go back to: a person must look.
set -euo pipefail

ME=deploy.sh
DRY_RUN=0
PREFIX=""
KEEP=5
HEALTH_TIMEOUT=90
CONFIG=""
RELEASE=""
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '5,17s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
while [ $# -gt 0 ]; do
    case $1 in
        --dry-run) DRY_RUN=1 ;;
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory" 2; PREFIX=$2; shift ;;
        --keep) [ $# -ge 2 ] || die "--keep needs a number" 2; KEEP=$2; shift ;;
        --health-timeout) [ $# -ge 2 ] || die "--health-timeout needs seconds" 2; HEALTH_TIMEOUT=$2; shift ;;
        --config) [ $# -ge 2 ] || die "--config needs a file" 2; CONFIG=$2; shift ;;
        -h | --help) usage; exit 0 ;;
        -*) die "unknown option $1 (see --help)" 2 ;;
        *) [ -z "$RELEASE" ] || die "one release only" 2; RELEASE=$1 ;;
    esac
    shift
done
[ -n "$RELEASE" ] || { usage >&2; exit 2; }
case $KEEP in '' | *[!0-9]* | 0) die "--keep takes a whole number of releases, at least 1" 2 ;; esac
case $HEALTH_TIMEOUT in '' | *[!0-9]*) die "--health-timeout takes whole seconds" 2 ;; esac
if [ -n "$PREFIX" ]; then
    [ -d "$PREFIX" ] || die "prefix $PREFIX is not a directory" 2
    PREFIX=$(cd "$PREFIX" && pwd)
    [ "$PREFIX" != / ] || PREFIX=""
fi
LIVE=1
[ -z "$PREFIX" ] || LIVE=0
layout_paths "$PREFIX"
ETC=$PREFIX/etc/autodb
CONFIG=${CONFIG:-$ETC/autodb.toml}
BACKUP_DIR=${AUTODB_DEPLOY_BACKUP_DIR:-$PREFIX/var/lib/autodb/backups}
HEALTH_URL=${AUTODB_DEPLOY_HEALTH_URL:-https://localhost/api/health}
if [ "$LIVE" = 1 ]; then
    RESTART_HOOK=${AUTODB_DEPLOY_RESTART:-systemctl restart autodb.service}
    STOP_HOOK=${AUTODB_DEPLOY_STOP:-systemctl stop autodb.service}
else
    RESTART_HOOK=${AUTODB_DEPLOY_RESTART:-}
    STOP_HOOK=${AUTODB_DEPLOY_STOP:-}
    [ -n "$RESTART_HOOK" ] || [ "$DRY_RUN" = 1 ] ||
        die "with --prefix, set AUTODB_DEPLOY_RESTART (and AUTODB_DEPLOY_STOP): there is no systemd here" 2
fi
health_curl_args "$PREFIX"

# --- The release: unpack a tarball into a scratch folder (not a change to the system).
WORK=$(mktemp -d "${TMPDIR:-/tmp}/autodb-deploy.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
if [ -f "$RELEASE" ]; then
    case $RELEASE in *.tar.gz | *.tgz) ;; *) die "$RELEASE: not a directory or a .tar.gz" 2 ;; esac
    tar -xzf "$RELEASE" -C "$WORK" --no-same-owner || die "$RELEASE: cannot unpack" 2
    tops=("$WORK"/*)
    if [ ${#tops[@]} = 1 ] && [ -d "${tops[0]}" ]; then SRC=${tops[0]}; else SRC=$WORK; fi
elif [ -d "$RELEASE" ]; then
    SRC=$(cd "$RELEASE" && pwd)
else
    die "$RELEASE: no such release" 2
fi
check_release "$SRC"
V=$(release_version "$SRC")
NEW_BIN=$RELEASES/$V/bin/autodb
PREV=$(current_release)
OLD_BIN=""
if [ -n "$PREV" ]; then
    OLD_BIN=$RELEASES/$PREV/bin/autodb
    [ -x "$OLD_BIN" ] || die "$CURRENT points at $PREV, which has no bin/autodb: repair the layout first" 2
elif [ -f "$BIN_LINK" ] && [ ! -L "$BIN_LINK" ]; then
    OLD_BIN=$BIN_LINK # installed before releases existed: it can back up, not be rolled back to
fi
if [ "$LIVE" = 1 ]; then
    [ "$DRY_RUN" = 1 ] || [ "$(id -u)" = 0 ] || die "run as root (or use --prefix / --dry-run)" 2
    command -v curl >/dev/null || die "curl not found" 2
fi
note "release $V (current: ${PREV:-none})"
[ "$DRY_RUN" = 0 ] || note "dry run: nothing below is executed"

# One deploy at a time.
if [ "$DRY_RUN" = 0 ]; then
    install -d -m 0755 "$OPT"
    exec 9>"$OPT/.deploy.lock"
    flock -n 9 || die "another deploy.sh is running (it holds $OPT/.deploy.lock)" 2
fi

# cli BINARY ARGS...: the autodb CLI as the service would run it (user, environment, config).
cli() {
    local bin=$1 conf=()
    shift
    # As the unit runs serve; on a prefix only when the file is there.
    if [ "$LIVE" = 1 ] || [ -e "$CONFIG" ]; then conf=(--config "$CONFIG"); fi
    echo "+ $bin ${conf[*]} $*$([ "$LIVE" = 0 ] || echo " (as autodb, service environment)")"
    [ "$DRY_RUN" = 0 ] || return 0
    if [ "$LIVE" = 1 ]; then
        service_env "$ETC"
        (umask 0077 && cd /var/lib/autodb && runuser -u autodb -- env -i "${SERVICE_ENV[@]}" "$bin" "${conf[@]}" "$@")
    else
        "$bin" "${conf[@]}" "$@"
    fi
}
hook() { # NAME COMMAND
    echo "+ $1: $2"
    [ "$DRY_RUN" = 0 ] || return 0
    [ -n "$2" ] || { echo "    (no $1 hook set)"; return 1; }
    # Without the lock's descriptor: the service it starts must not hold the deploy lock.
    bash -c "$2" 9>&-
}

SWITCHED=0
MIGRATED=0
BACKUP=""
# fail REASON: switches back, restores the store if the old binary cannot read it, restarts,
# waits for the old release; exits 1 (old release live) or 3 (it is not).
fail() {
    local reason=$1 rc=0 problems=()
    echo "$ME: FAILED: $reason" >&2
    if [ -z "$PREV" ]; then
        die "deploy of $V failed ($reason) and there is no previous release to go back to" 3
    fi
    note "rolling back to $PREV"
    if [ "$SWITCHED" = 1 ]; then switch_link "releases/$PREV" "$CURRENT"; fi
    local restart=$SWITCHED
    if [ "$MIGRATED" = 1 ]; then
        cli "$OLD_BIN" schema-status >/dev/null || rc=$?
        if [ "$rc" = 4 ]; then
            note "$PREV cannot read the store $V migrated: restoring the backup taken before"
            if [ -z "$BACKUP" ]; then
                problems+=("no backup to restore (PostgreSQL store? restore your pg_dump)")
            elif hook stop "$STOP_HOOK" && cli "$OLD_BIN" restore "$BACKUP"; then
                restart=1
            else
                problems+=("restoring $BACKUP failed")
            fi
        elif [ "$rc" != 0 ]; then
            problems+=("$PREV's schema-status exited $rc")
        fi
    fi
    if [ "$restart" = 1 ] && ! hook restart "$RESTART_HOOK"; then problems+=("the restart hook failed"); fi
    if [ "$DRY_RUN" = 0 ] && ! wait_health "$HEALTH_URL" "$PREV" "$HEALTH_TIMEOUT"; then
        problems+=("$PREV did not report healthy within ${HEALTH_TIMEOUT}s (last: $HEALTH_LAST)")
    fi
    if [ ${#problems[@]} -gt 0 ]; then
        die "deploy of $V failed ($reason); ROLLBACK to $PREV FAILED TOO: $(IFS=';'; echo "${problems[*]}")" 3
    fi
    die "deploy of $V failed ($reason); rolled back, $PREV is live" 1
}

# The unit and the nginx site are install.sh's: say so when this release brings other ones.
for pair in "systemd/autodb.service:$PREFIX/usr/lib/systemd/system/autodb.service" \
    "nginx/autodb.conf:$PREFIX/etc/nginx/sites-available/autodb.conf" \
    "nginx/autodb-locations.conf:$PREFIX/etc/nginx/snippets/autodb-locations.conf" \
    "nginx/autodb-headers.conf:$PREFIX/etc/nginx/snippets/autodb-headers.conf"; do
    new=$SRC/${pair%%:*} installed=${pair#*:}
    if [ -f "$new" ] && [ -f "$installed" ] && ! cmp -s "$new" "$installed"; then
        warn "$V brings a different ${pair%%:*} than $installed: run its scripts/deploy/install.sh to install it"
    fi
done

# --- 1. Place the release (staged copy, renamed into releases/).
note "installing $RELEASES/$V"
place_release "$SRC" "$V"

# Nothing from the release runs as root: the binary is tried as the service user.
if [ "$LIVE" = 1 ] && [ "$DRY_RUN" = 0 ]; then
    out=$(runuser -u autodb -- "$NEW_BIN" --version 2>&1) ||
        die "$NEW_BIN does not run on this host (apt-get install -y libpq5?): $out" 2
fi

if [ "$V" = "$PREV" ]; then
    note "$V is already the current release: nothing to do"
    exit 0
fi

# --- 2. Back up the store with the binary that runs on it now: the store is in its schema,
# the backup is what that binary restores on a rollback, and a broken new binary cannot block
# (or corrupt) the safety copy. On a first deploy nothing has run on a store yet.
if [ -z "$OLD_BIN" ]; then
    note "first deploy: no installed binary, so no store to back up"
else
    note "backing up the store"
    if [ "$LIVE" = 1 ]; then
        run runuser -u autodb -- install -d -m 0700 "$BACKUP_DIR" ||
            die "autodb cannot create $BACKUP_DIR (AUTODB_DEPLOY_BACKUP_DIR): nothing was changed" 2
    else
        run install -d -m 0700 "$BACKUP_DIR" || die "cannot create $BACKUP_DIR: nothing was changed" 2
    fi
    path=$BACKUP_DIR/autodb-before-$V-$(date -u +%Y%m%dT%H%M%SZ).db
    rc=0
    cli "$OLD_BIN" backup "$path" || rc=$?
    case $rc in
        0) BACKUP=$path ;;
        3) warn "PostgreSQL store: no automatic backup (take a pg_dump; a rollback cannot restore one)" ;;
        *) die "the store backup failed (exit $rc): nothing was changed, $V is unpacked in $RELEASES" 1 ;;
    esac
fi

# --- 3. Migrate with the new binary (the old one keeps serving meanwhile).
note "migrating the store"
MIGRATED=1
cli "$NEW_BIN" migrate || fail "autodb migrate failed"

# --- 4. Switch `current` (one rename), keep /usr/bin/autodb and the web root pointing into it.
note "switching $CURRENT to $V"
switch_link "releases/$V" "$CURRENT"
SWITCHED=1
point_links

# --- 5. Restart, then wait until nginx passes on the new release's health.
note "restarting"
hook restart "$RESTART_HOOK" || fail "the restart hook failed: $RESTART_HOOK"
if [ "$DRY_RUN" = 1 ]; then
    echo "+ poll $HEALTH_URL for up to ${HEALTH_TIMEOUT}s until it reports release $V"
else
    note "waiting up to ${HEALTH_TIMEOUT}s for $HEALTH_URL to report $V"
    wait_health "$HEALTH_URL" "$V" "$HEALTH_TIMEOUT" ||
        fail "$V did not report healthy at $HEALTH_URL within ${HEALTH_TIMEOUT}s (last: $HEALTH_LAST)"
    note "live: $HEALTH_LAST"
fi
if [ -n "$PREV" ]; then switch_link "releases/$PREV" "$OPT/previous"; fi

# --- 6. Prune: KEEP releases in all, always counting the current and the previous one, then
# the most recently installed; the same number of pre-deploy backups.
note "keeping $KEEP releases (current $V${PREV:+, previous $PREV}) and $KEEP backups"
room=$((KEEP - 1))
[ -z "$PREV" ] || room=$((room - 1))
while IFS= read -r dir; do
    name=$(basename "$dir")
    case $name in "$V" | "$PREV") continue ;; esac
    if [ "$room" -gt 0 ]; then room=$((room - 1)); else run rm -rf "$RELEASES/$name"; fi
done < <(find "$RELEASES" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%T@ %p\n' 2>/dev/null |
    sort -rn | cut -d' ' -f2-)
while IFS= read -r old; do
    run rm -f "$old" "$old.meta.json"
done < <(find "$BACKUP_DIR" -maxdepth 1 -name 'autodb-before-*.db' -printf '%T@ %p\n' 2>/dev/null |
    sort -rn | cut -d' ' -f2- | tail -n +$((KEEP + 1)))
[ "$DRY_RUN" = 0 ] || { note "dry run done: nothing was changed"; exit 0; }
note "deployed $V${PREV:+ (previous: $PREV)}${BACKUP:+; store backup: $BACKUP}"
