#!/usr/bin/env python3
"""Evidence benchmark: what SBOMs, provenance and signatures cost, and
`slipway verify` against the independent tools doing the same checks.

Runs everything in one process on the same machine and prints ratios
(absolute times on shared machines are noise). Usage:

    cargo build --release -p slipway
    python3 bench/evidence/run.py [--slipway target/release/slipway] [--runs 3]

The tree is the packaging benchmark's (bench/package/run.py, ~100 MB).

Measured:
- `build --force` (zip + manifest + SBOMs + provenance) against
  `build --force --sign` (adds DSSE and sshsig): the cost of signing.
- `slipway verify --trusted-keys` (zip hash, every entry's hash against the
  manifest, SHA256SUMS, SBOMs, provenance, DSSE, sshsig) against the baseline
  `sha256sum -c SHA256SUMS` + Python's zipfile hashing every entry against
  manifest.json + `ssh-keygen -Y verify` + a Python `cryptography` DSSE check.
"""

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DSSE_CHECK = os.path.join(REPO, "crates/slipway-attest/tests/verify_dsse.py")

ENTRY_CHECK = r"""
import hashlib, json, sys, zipfile
manifest = json.load(open(sys.argv[1]))
recorded = {e["path"]: e["sha256"] for e in manifest["artifact"]["entries"]}
with zipfile.ZipFile(sys.argv[2]) as z:
    for info in z.infolist():
        if info.is_dir():
            continue
        digest = hashlib.sha256(z.read(info.filename)).hexdigest()
        assert recorded.pop(info.filename) == digest, info.filename
assert not recorded, recorded
"""


def load_make_tree():
    spec = importlib.util.spec_from_file_location(
        "package_bench", os.path.join(REPO, "bench/package/run.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_tree


def timed(fn, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(cmd, cwd, stdin=None):
    subprocess.run(cmd, cwd=cwd, check=True, stdin=stdin,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--slipway", default=os.path.join(REPO, "target/release/slipway"))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    slipway = os.path.abspath(args.slipway)

    root = tempfile.mkdtemp(prefix="slipway-evidence-bench-")
    try:
        load_make_tree()(root)
        with open(os.path.join(root, "slipway.toml"), "w") as f:
            f.write('[functions.bench]\nsource = "src"\nhandler = "app.handler"\nruntime = "python3.12"\n')
        keys = os.path.join(root, "keys")
        run([slipway, "-q", "keygen", "--out", os.path.join(keys, "k")], root)
        dist = os.path.join(root, "dist", "bench")
        run([slipway, "-q", "build"], root)  # warm the file cache

        unsigned = timed(lambda: run([slipway, "-q", "build", "--force"], root), args.runs)
        signed = timed(
            lambda: run([slipway, "-q", "build", "--force", "--sign", "--key",
                         os.path.join(keys, "k")], root),
            args.runs,
        )

        allowed = os.path.join(keys, "allowed_signers")
        verify = timed(
            lambda: run([slipway, "-q", "verify", "--trusted-keys", allowed], root), args.runs
        )

        def baseline():
            run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], dist)
            run([sys.executable, "-c", ENTRY_CHECK, "manifest.json", "bench.zip"], dist)
            with open(os.path.join(dist, "bench.zip"), "rb") as zip_file:
                run(["ssh-keygen", "-Y", "verify", "-f", allowed, "-I", "slipway",
                     "-n", "slipway", "-s", "bench.zip.sig"], dist, stdin=zip_file)
            run([sys.executable, DSSE_CHECK, "provenance.dsse.json",
                 os.path.join(keys, "k.pub")], dist)

        base = timed(baseline, args.runs)
        zipped = os.path.getsize(os.path.join(dist, "bench.zip")) / 1e6
        print(f"tree: bench/package's, zip {zipped:.1f} MB; median of {args.runs} runs")
        print(f"build --force          {unsigned:7.2f} s")
        print(f"build --force --sign   {signed:7.2f} s   signing adds {signed / unsigned - 1:+.0%}")
        print(f"slipway verify         {verify:7.2f} s")
        print(f"independent tools      {base:7.2f} s   slipway verify / tools = {verify / base:.2f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
