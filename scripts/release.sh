#!/usr/bin/env bash
# Assembles a release: the directory (and optionally the .tar.gz) that scripts/deploy/deploy.sh
# and install.sh take. docs/DEPLOY.md, "Deploy and roll back".
#
#   scripts/release.sh [--bin PATH] [--ui DIR] [--version V] [--out DIR] [--tar]
#
#   --bin PATH    the autodb binary (default: cargo build --release, target/release/autodb)
#   --ui DIR      the built UI, index.html at its top (default: npm run build, frontend/dist)
#   --version V   the release name (default: git describe --always --dirty, else the Cargo
#                 version); /api/health reports it as `release`
#   --out DIR     where autodb-<V>/ is made (default: target/releases)
#   --tar         also make autodb-<V>.tar.gz beside it
#
# Prints the path of what it made on its last line.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN="" UI="" VERSION="" OUT="$ROOT/target/releases" TAR=0
die() { echo "release.sh: error: $*" >&2; exit 2; }
usage() { sed -n '5,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
while [ $# -gt 0 ]; do
    case $1 in
        --bin) [ $# -ge 2 ] || die "--bin needs a path"; BIN=$2; shift ;;
        --ui) [ $# -ge 2 ] || die "--ui needs a directory"; UI=$2; shift ;;
        --version) [ $# -ge 2 ] || die "--version needs a value"; VERSION=$2; shift ;;
        --out) [ $# -ge 2 ] || die "--out needs a directory"; OUT=$2; shift ;;
        --tar) TAR=1 ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
    shift
done

if [ -z "$BIN" ]; then
    (cd "$ROOT" && cargo build --release --bin autodb) >&2
    BIN=$ROOT/target/release/autodb
fi
{ [ -f "$BIN" ] && [ -x "$BIN" ]; } || die "--bin $BIN: no executable file"
if [ -z "$UI" ]; then
    (cd "$ROOT/frontend" && npm run build) >&2
    UI=$ROOT/frontend/dist
fi
[ -f "$UI/index.html" ] || die "--ui $UI: no index.html (not a built UI)"
if [ -z "$VERSION" ]; then
    VERSION=$(git -C "$ROOT" describe --always --dirty 2>/dev/null) ||
        VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -n 1)
fi
[[ $VERSION =~ ^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$ ]] ||
    die "--version '$VERSION': letters, digits, . _ + - only, at most 64"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
DIR=$OUT/autodb-$VERSION
[ ! -e "$DIR" ] || die "$DIR exists: remove it or choose another --version"
STAGE=$(mktemp -d "$OUT/.autodb-$VERSION.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT

install -D -m 0755 "$BIN" "$STAGE/bin/autodb"
printf '%s\n' "$VERSION" >"$STAGE/VERSION"
# backend/src/release.rs reads VERSION beside the (resolved) executable.
cp "$STAGE/VERSION" "$STAGE/bin/VERSION"
cp -R "$UI" "$STAGE/www"
for f in systemd/autodb.service systemd/autodb.sysusers.conf nginx/autodb.conf \
    nginx/autodb-locations.conf nginx/autodb-headers.conf docs/autodb.example.toml docs/DEPLOY.md \
    scripts/deploy/lib.sh scripts/deploy/install.sh scripts/deploy/deploy.sh; do
    install -D -m "$(case $f in *.sh) echo 0755 ;; *) echo 0644 ;; esac)" "$ROOT/$f" "$STAGE/$f"
done
chmod -R u=rwX,go=rX "$STAGE"
chmod 0755 "$STAGE"
sums=$(cd "$STAGE" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
printf '%s\n' "$sums" >"$STAGE/SHA256SUMS"
mv -T "$STAGE" "$DIR"
trap - EXIT
made=$DIR
if [ "$TAR" = 1 ]; then
    tar -czf "$DIR.tar.gz" -C "$OUT" --owner=0 --group=0 --numeric-owner "autodb-$VERSION"
    made=$DIR.tar.gz
fi
echo "release $VERSION: $made"
