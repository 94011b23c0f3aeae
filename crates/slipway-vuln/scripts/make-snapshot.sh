#!/usr/bin/env bash
# Regenerates data/pypa-snapshot.json.gz, the advisory snapshot compiled
# into slipway, from a checkout of the PyPA advisory database (CC-BY-4.0).
#   crates/slipway-vuln/scripts/make-snapshot.sh [DB_FOLDER]
# Default DB_FOLDER: ../shared/data/pypa-advisory-db beside the repository.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
repo="$(cd "$here/../.." && pwd)"
db="${1:-$repo/../shared/data/pypa-advisory-db}"
label="PyPA advisory database (CC-BY-4.0)"
if [[ -f "$db/SOURCE.md" ]]; then
  commit="$(grep -o 'Commit: `[0-9a-f]*`' "$db/SOURCE.md" | grep -o '[0-9a-f]\{12,\}' | head -1 || true)"
  [[ -n "$commit" ]] && label="PyPA advisory database @ ${commit:0:12} (CC-BY-4.0)"
fi
cargo run -q -p slipway-vuln --example make_snapshot -- "$db" "$here/data/pypa-snapshot.json.gz" "$label"
