#!/usr/bin/env bash
# Node.js dependency benchmark: builds slipway in release mode (unless
# --slipway names a binary), then runs bench.py: slipway warm-cache build of
# a ~100-package lockfile against `npm ci --omit=dev` + `zip -X -r`, and
# prints the ratio.
# Usage: bench/node/run.sh [--reps 5] [--slipway PATH]
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ " $* " != *" --slipway "* ]]; then
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
  cargo build --release -p slipway --quiet
  # A private copy: other builds sharing the target folder cannot swap it mid-run.
  bin="$(mktemp -d)/slipway"
  cp "$CARGO_TARGET_DIR/release/slipway" "$bin"
  set -- --slipway "$bin" "$@"
fi
exec python3 bench/node/bench.py "$@"
