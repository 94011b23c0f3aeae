#!/usr/bin/env bash
# Dependency benchmark: builds slipway in release mode, then runs bench.py
# (slipway cold/warm/no-op against uv + zip and pip + zip) and prints ratios.
# Usage: bench/deps/run.sh [--workloads api data] [--reps 3]
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -p slipway --quiet
# A private copy: other builds sharing the target folder cannot swap it mid-run.
bin="$(mktemp -d)/slipway"
cp "$CARGO_TARGET_DIR/release/slipway" "$bin"
exec python3 bench/deps/bench.py --slipway "$bin" "$@"
