#!/usr/bin/env bash
# Query export memory benchmark: the release binary exports a query of N rows
# (`SELECT g, md5(g::text) FROM generate_series(1, N) g`) as CSV while /proc/<pid>/status is
# sampled; prints idle and peak VmRSS and VmHWM, checks every row against PostgreSQL's checksum.
# N = AUTODB_EXPORT_ROWS (default 1,000,000). See scripts/bench/README.md.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$AUTODB_ROOT"
ensure_toolchains
ensure_databases
# The test drives the release build of the real binary (CARGO_BIN_EXE_autodb).
cargo test --release --locked -p autodb --test query_export_memory -- --nocapture 2>&1 |
  grep -E "export of|test result|panicked|assert"
