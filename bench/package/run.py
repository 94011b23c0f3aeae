#!/usr/bin/env python3
"""Packaging benchmark: slipway build against `zip -X -r -q` on a 100 MB tree.

Runs both in one process on the same machine and prints ratios (absolute
times on shared machines are noise). Usage:

    cargo build --release -p slipway
    python3 bench/package/run.py [--slipway target/release/slipway] [--runs 3]

The tree is generated deterministically: 20 MB of small text files
(source-like, compressible) and 80 MB of incompressible binaries (random
bytes, which slipway stores rather than deflates, as zip does). Reports the
cold build against zip (target >= 2x) and the cold build against a
nothing-changed rebuild (target >= 50x).
"""

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def make_tree(root, total_mb=100):
    rng = random.Random(20261126)
    words = [
        "def", "return", "import", "class", "self", "event", "context", "json",
        "handler", "value", "items", "for", "in", "if", "else", "None", "True",
        "orders", "table", "boto3", "logger", "info", "records", "body",
    ]
    src = os.path.join(root, "src")
    small_bytes = 0
    n = 0
    # ~20 MB of small text files, 2–20 KB each, in nested packages.
    while small_bytes < 20 * 1024 * 1024:
        pkg = os.path.join(src, f"pkg{n % 40}", f"sub{n % 7}")
        os.makedirs(pkg, exist_ok=True)
        size = rng.randint(2_000, 20_000)
        lines = []
        written = 0
        while written < size:
            line = "    " + " ".join(rng.choice(words) for _ in range(rng.randint(3, 12))) + "\n"
            lines.append(line)
            written += len(line)
        with open(os.path.join(pkg, f"module_{n}.py"), "w") as f:
            f.write("".join(lines))
        small_bytes += written
        n += 1
    with open(os.path.join(src, "app.py"), "w") as f:
        f.write("def handler(event, context):\n    return {'ok': True}\n")
    # 80 MB of incompressible binaries (model weights, archives, media).
    os.makedirs(os.path.join(src, "models"), exist_ok=True)
    for i in range(8):
        with open(os.path.join(src, "models", f"blob{i}.bin"), "wb") as f:
            f.write(rng.randbytes(10 * 1024 * 1024))
    with open(os.path.join(root, "slipway.toml"), "w") as f:
        f.write('[functions.bench]\nruntime = "python3.12"\nsource = "src"\nhandler = "app.handler"\n')
    return n + 9


def timed(cmd, cwd, env=None, before=None):
    if before:
        before()
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--slipway", default=os.path.join(REPO, "target", "release", "slipway"))
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    args.slipway = os.path.abspath(args.slipway)  # the builds run in the generated tree
    if not os.path.exists(args.slipway):
        sys.exit(f"{args.slipway} not found: run `cargo build --release -p slipway` first")
    if shutil.which("zip") is None:
        sys.exit("`zip` is not installed (apt-get install zip)")

    root = tempfile.mkdtemp(prefix="slipway-bench-package-")
    try:
        files = make_tree(root)
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(root, "src")) for f in fs)
        print(f"tree: {files} files, {size / 1048576:.1f} MiB, {os.cpu_count()} cores")
        dist = os.path.join(root, "dist")
        out_zip = os.path.join(root, "baseline.zip")

        def clean_dist():
            shutil.rmtree(dist, ignore_errors=True)

        def clean_zip():
            if os.path.exists(out_zip):
                os.remove(out_zip)

        # Warm the page cache once so both tools read from memory.
        timed([args.slipway, "-q", "build"], root, before=clean_dist)
        cold = [timed([args.slipway, "-q", "build"], root, before=clean_dist) for _ in range(args.runs)]
        rebuild = [timed([args.slipway, "-q", "build"], root) for _ in range(max(args.runs, 10))]
        baseline = [timed(["zip", "-X", "-r", "-q", out_zip, "."], os.path.join(root, "src"), before=clean_zip) for _ in range(args.runs)]

        cold_s, rebuild_s, zip_s = (statistics.median(x) for x in (cold, rebuild, baseline))
        slipway_zip = os.path.getsize(os.path.join(dist, "bench", "bench.zip"))
        print(f"zip -X -r -q            median {zip_s:.3f} s  ({os.path.getsize(out_zip) / 1048576:.1f} MiB)")
        print(f"slipway build (cold)    median {cold_s:.3f} s  ({slipway_zip / 1048576:.1f} MiB)")
        print(f"slipway build (no-op)   median {rebuild_s * 1000:.1f} ms")
        print(f"ratio cold: slipway is {zip_s / cold_s:.2f}x faster than zip -X -r (target >= 2x)")
        print(f"ratio no-op: a nothing-changed rebuild is {cold_s / rebuild_s:.0f}x faster than a cold build (target >= 50x)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
