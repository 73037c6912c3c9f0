#!/usr/bin/env bash
# Fleet benchmark: one job of `SELECT 1` on 1,000, 5,000 and 10,000 PostgreSQL targets (all one
# throw-away PostgreSQL cluster under distinct names), on a release build with the default engine
# limits, beside the floor: the same connect + SELECT 1 + disconnect done by pgbench and by
# psql. See scripts/bench/README.md.
#
# Knobs (environment): BENCH_SIZES ("1000 5000 10000"), BENCH_STORE (sqlite://… in a temporary
# folder unless given), BENCH_PORT (5078), BENCH_READERS (4: GET /api/jobs/{id} readers while
# the largest job runs), BENCH_READER_PAUSE (0.25: seconds each reader waits between its reads;
# 0 = back to back, which measures the API's throughput on one 3 MB document, not a latency),
# BENCH_BIN (target/release/autodb, built first; another binary, e.g. target/debug/autodb to try
# the script, is used as it is).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$AUTODB_ROOT"
ensure_databases

sizes=${BENCH_SIZES:-1000 5000 10000}
port=${BENCH_PORT:-5078}
bin=${BENCH_BIN:-target/release/autodb}
[ "$bin" != target/release/autodb ] || cargo build --release --locked -p autodb --bin autodb

work=$(mktemp -d)
server=""
target_dir=""
cleanup() {
  [ -z "$server" ] || { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; }
  stop_throwaway_pg "$target_dir"
  rm -rf "$work"
}
trap cleanup EXIT

# The targets, and the floor's server: a throw-away cluster of its own on BENCH_TARGET_PORT
# (5435), or with BENCH_TARGET=local the machine's server on 5432.
if [ "${BENCH_TARGET:-separate}" = local ]; then
  tport=5432
else
  tport=${BENCH_TARGET_PORT:-5435}
  target_dir=$(throwaway_pg "$tport" -c max_connections=200)
fi
max=$(psql -X -At -h 127.0.0.1 -p "$tport" -U postgres -c 'SHOW max_connections')
echo "target PostgreSQL on port $tport, max_connections $max (AutoDB's default limits: 32 runs at once, 4 per target)"

export AUTODB__SERVER__BIND="127.0.0.1:$port"
export AUTODB__DATABASE__URL="${BENCH_STORE:-sqlite://$work/autodb.db}"
export AUTODB__SECURITY__SECRET_KEY_FILE="$work/secret.key"
export RUST_LOG=warn
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2} # as systemd/autodb.service sets it
BENCH_PASSWORD="bench-$(date +%s)-$RANDOM"
export BENCH_PASSWORD
AUTODB_PASSWORD="$BENCH_PASSWORD" "$bin" user create admin --role admin >/dev/null
"$bin" serve >"$work/server.log" 2>&1 &
server=$!
wait_for 30 curl -sf "http://127.0.0.1:$port/api/health"

# The AutoDB side: targets, one job per size, timings, peak RSS, GET latency.
BENCH_URL="http://127.0.0.1:$port" BENCH_PID=$server BENCH_SIZES="$sizes" BENCH_TARGET_PORT=$tport \
  BENCH_READERS="${BENCH_READERS:-4}" BENCH_READER_PAUSE="${BENCH_READER_PAUSE:-0.25}" python3 - >"$work/autodb.tsv" <<'PY'
import http.client, json, os, sys, threading, time
from concurrent.futures import ThreadPoolExecutor

url = os.environ["BENCH_URL"].removeprefix("http://")
host, port = url.split(":")
pid = os.environ["BENCH_PID"]
sizes = sorted(int(s) for s in os.environ["BENCH_SIZES"].split())
readers = int(os.environ["BENCH_READERS"])
pause = float(os.environ["BENCH_READER_PAUSE"])
local = threading.local()

def call(method, path, body=None, token=None, parse=True):
    if not hasattr(local, "c"):
        local.c = http.client.HTTPConnection(host, int(port), timeout=120)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body) if body is not None else None
    for attempt in range(2):
        try:
            local.c.request(method, path, body=data, headers=headers)
            r = local.c.getresponse()
            raw = r.read()
            if not parse:
                return r.status, raw
            return r.status, (json.loads(raw) if raw else None)
        except (http.client.HTTPException, ConnectionError):
            local.c.close()
            local.c = http.client.HTTPConnection(host, int(port), timeout=120)
            if attempt:
                raise

def vmhwm():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return -1

st, login = call("POST", "/api/auth/login",
                 {"username": "admin", "password": os.environ["BENCH_PASSWORD"]})
assert st == 200, (st, login)
token = login["token"]

# Targets 0..largest-1; the first n carry the tag f<n> for every size n they belong to.
def create(i):
    tags = [f"f{n}" for n in sizes if i < n]
    st, body = call("POST", "/api/targets", {
        "name": f"fleet-{i:05}", "engine": "postgres", "host": "127.0.0.1", "port": int(os.environ["BENCH_TARGET_PORT"]),
        "database": "postgres", "username": "postgres", "tags": tags}, token)
    assert st == 201, (st, body)

t0 = time.monotonic()
with ThreadPoolExecutor(8) as pool:
    list(pool.map(create, range(sizes[-1])))
print(f"# {sizes[-1]} targets created through the API in {time.monotonic() - t0:.1f} s",
      file=sys.stderr)

def p99(v):
    if not v:
        return float("nan")
    v = sorted(v)
    return v[min(len(v) - 1, round(0.99 * (len(v) - 1)))]

for n in sizes:
    t0 = time.monotonic()
    st, job = call("POST", "/api/jobs", {"name": f"fleet {n}", "on_error": "continue",
                   "scripts": [{"sql": "SELECT 1", "target_tags": [f"f{n}"]}]}, token)
    assert st == 201, (st, job)
    post_ms = (time.monotonic() - t0) * 1000
    jid = job["id"]
    stop = threading.Event()
    lat = []
    size = [0]
    # Time to the last byte, not parsed here: parsing megabytes of JSON in Python holds the GIL
    # and would be charged to the other readers' requests.
    def read():
        while not stop.is_set():
            t = time.monotonic()
            s, raw = call("GET", f"/api/jobs/{jid}", token=token, parse=False)
            if s == 200:
                lat.append((time.monotonic() - t) * 1000)
                size[0] = len(raw)
            stop.wait(pause)
    threads = [threading.Thread(target=read) for _ in range(readers if n == sizes[-1] else 0)]
    for t in threads:
        t.start()
    deadline = t0 + 3600
    while True:
        s, page = call("GET", "/api/jobs?page=1&per_page=1", token=token)
        top = page["items"][0]
        if top["id"] == jid and top["finished_at"]:
            break
        if time.monotonic() > deadline:
            stop.set()
            sys.exit(f"job {jid} on {n} targets did not end within an hour")
        time.sleep(0.05)
    wall = time.monotonic() - t0
    stop.set()
    for t in threads:
        t.join()
    s, counts = call("GET", f"/api/jobs/{jid}/runs?per_page=1&status=success", token=token)
    print("\t".join(str(x) for x in [
        n, f"{post_ms:.0f}", f"{wall:.2f}", f"{n / wall:.0f}", counts["total"], top["status"],
        vmhwm(), f"{p99(lat):.0f}" if lat else "-", len(lat), size[0] // 1024]))
    sys.stdout.flush()
PY

# The floor: connect + SELECT 1 + disconnect, 32 at once.
echo 'SELECT 1;' >"$work/select1.sql"
pgb=$(pgbench -n -C -c 32 -j 2 -T 10 -f "$work/select1.sql" -h 127.0.0.1 -p "$tport" -U postgres postgres 2>&1 \
  | awk -F'= ' '/^tps/ {split($2, a, " "); printf "%.0f", a[1]}')
floor=()
for n in $sizes; do
  t0=$(date +%s.%N)
  seq "$n" | xargs -P 32 -I{} psql -X -q -At -h 127.0.0.1 -p "$tport" -U postgres -d postgres -c 'SELECT 1' >/dev/null
  t1=$(date +%s.%N)
  floor+=("$(awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN {printf "%.2f s (%.0f/s)", b - a, n / (b - a)}')")
done

echo
printf '%-8s %-9s %-10s %-8s %-8s %-8s %-10s %-22s %-24s\n' runs "POST ms" "done s" "runs/s" success status "VmHWM MB" "GET job p99 (n)" "floor: xargs -P32 psql"
i=0
while IFS=$'\t' read -r n post wall rate ok status hwm gp99 gn gkb; do
  get="-"; [ "$gp99" = "-" ] || get="$gp99 ms ($gn of $gkb KB)"
  printf '%-8s %-9s %-10s %-8s %-8s %-8s %-10s %-22s %-24s\n' "$n" "$post" "$wall" "$rate" "$ok" "$status" "$hwm" "$get" "${floor[$i]}"
  i=$((i + 1))
done <"$work/autodb.tsv"
echo "floor: pgbench -C -c 32 -T 10 (connect + SELECT 1 + disconnect): $pgb connections/s"
echo "VmHWM is the peak RSS of autodb serve since it started (all sizes up to that row)."
