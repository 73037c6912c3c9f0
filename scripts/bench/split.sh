#!/usr/bin/env bash
# Splitter benchmark: 10 MB scripts (Sakila repeated, and adversarial inputs) in every dialect,
# in a release build. Goal: each under 1 s (it must stay linear in the script's size).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo run --release --locked -q -p autodb-sqlsplit --example bench_split
