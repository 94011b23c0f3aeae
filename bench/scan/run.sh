#!/usr/bin/env bash
# Benchmark: `slipway scan` of 100 shipped distributions against the whole
# PyPA advisory database, loading included, beside a baseline, in one run.
#
#   bench/scan/run.sh            (RUNS=15 by default; PYPA_DB=… to point elsewhere)
#
# Baseline: pip-audit cannot run here offline. Its only vulnerability
# sources are the PyPI JSON API and the osv.dev API (no local database
# option), and this machine reaches the package registry for installs only,
# not for 100 vulnerability look-ups per run. So the baseline is
# reference_scan.py: the same scan in Python (PyYAML + packaging) over the
# same database files and the same pins, which is the work pip-audit would
# do with a local database.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
db="${PYPA_DB:-$repo/../shared/data/pypa-advisory-db}"
[[ -d "$db/vulns" ]] || db=/work/shared/data/pypa-advisory-db
shared_bench="$repo/../shared/bench"
[[ -d "$shared_bench" ]] || shared_bench=/work/shared/bench
runs="${RUNS:-15}"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
cargo build -q --release -p slipway
slipway="$CARGO_TARGET_DIR/release/slipway"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 "$here/make_workload.py" "$db" "$work" "$shared_bench"
export SLIPWAY_CACHE_DIR="$work/cache"
(cd "$work" && "$slipway" db update -q --from "$db" >/dev/null)

python3 - "$slipway" "$work" "$db" "$here/reference_scan.py" "$runs" <<'PY'
import json, os, resource, statistics, subprocess, sys, time
slipway, work, db, reference, runs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])

def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime

def timed(cmd, env=None):
    # Wall time is what a pipeline waits; CPU time (user + system) is less
    # disturbed by the other work on a shared machine. Medians of both.
    samples, cpus = [], []
    for i in range(runs + 1):
        c, t = cpu(), time.perf_counter()
        p = subprocess.run(cmd, cwd=work, capture_output=True, env=env)
        elapsed, used = time.perf_counter() - t, cpu() - c
        if p.returncode not in (0, 1):
            sys.exit(f"{cmd} failed: {p.stderr.decode()}")
        if i:  # the first run warms the page cache
            samples.append(elapsed)
            cpus.append(used)
    return statistics.median(samples), statistics.median(cpus), p.stdout

scan = [slipway, "scan", "-q", "--format", "json", "--no-sbom"]
folder_t, folder_c, out = timed(scan + ["--db", db])
report = json.loads(out)
records = sum(len(f["records"]) for f in report["findings"])
local_env = dict(os.environ)
local_t, local_c, _ = timed(scan, env=local_env)
snapshot_env = dict(os.environ, SLIPWAY_CACHE_DIR=os.path.join(work, "empty-cache"))
snapshot_t, snapshot_c, out2 = timed(scan, env=snapshot_env)
assert json.loads(out2)["db"]["kind"] == "embedded"
base_t, base_c, base_out = timed(["python3", reference, db, "requirements.txt"])

print(f"workload: {report['distributions_scanned']} distributions, {report['db']['advisories']} advisories, "
      f"{len(report['findings'])} findings ({records} matched records; baseline matched {base_out.decode().strip()})")
print(f"median of {runs} runs, loading included (wall ms / cpu ms; ratios baseline/slipway):")
for label, t, c in [("slipway scan --db <PyPA folder, 2,661 YAML files>", folder_t, folder_c),
                    ("slipway scan (local copy from `db update`)", local_t, local_c),
                    ("slipway scan (bundled snapshot)", snapshot_t, snapshot_c)]:
    verdict = "under" if t < 0.2 else "OVER"
    print(f"  {label:<52} {t*1000:7.1f} / {c*1000:6.1f} ms  ({verdict} the 200 ms target)"
          f"  ratio wall {base_t/t:4.1f}x, cpu {base_c/c:4.1f}x")
print(f"  {'baseline: reference_scan.py (PyYAML + packaging)':<52} {base_t*1000:7.1f} / {base_c*1000:6.1f} ms")
PY
