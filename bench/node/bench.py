"""slipway's Node.js install against npm's own, in one run on one machine.

The workload is a function depending on express, winston and a few small
packages (about 100 packages in the production tree); its lockfile is made
by `npm install --package-lock-only` from the registry npm is configured for.

Timed, each with a warm cache:
- slipway: `slipway build --force` (lockfile → verified tarballs from its
  cache → node_modules entries → deterministic zip, manifest, SBOMs);
- baseline: `npm ci --omit=dev --no-audit --no-fund` (warm npm cache) then
  `zip -X -r` of the function folder.

Prints medians and the ratio baseline / slipway; the ratio is the result.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

DEPENDENCIES = {
    "express": "4.21.2",
    "winston": "3.17.0",
    "uuid": "11.0.3",
    "dayjs": "1.11.13",
    "zod": "3.24.1",
}

HANDLER = """const express = require("express");
const winston = require("winston");
exports.handler = async (event) => ({ ok: typeof express === "function" && !!winston.createLogger });
"""


def run(cmd, cwd, env=None):
    started = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--slipway", required=True)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()

    root = tempfile.mkdtemp(prefix="slipway-bench-node-")
    src = os.path.join(root, "project", "src")
    os.makedirs(src)
    with open(os.path.join(src, "package.json"), "w") as f:
        json.dump({"name": "bench", "version": "1.0.0", "dependencies": DEPENDENCIES}, f, indent=2)
    with open(os.path.join(src, "index.js"), "w") as f:
        f.write(HANDLER)
    subprocess.run(
        ["npm", "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"],
        cwd=src, check=True, stdout=subprocess.DEVNULL,
    )
    with open(os.path.join(src, "package-lock.json")) as f:
        lock = json.load(f)
    packages = [k for k, v in lock["packages"].items() if k and not v.get("dev")]
    with open(os.path.join(root, "project", "slipway.toml"), "w") as f:
        f.write('[functions.bench]\nsource = "src"\nhandler = "index.handler"\n'
                'runtime = "nodejs22.x"\narchitecture = "x86_64"\n')

    env = dict(os.environ, SLIPWAY_CACHE_DIR=os.path.join(root, "slipway-cache"))
    project = os.path.join(root, "project")
    # Warm slipway's cache (and check the build works).
    run([args.slipway, "build"], project, env)

    baseline_dir = os.path.join(root, "baseline")
    shutil.copytree(src, baseline_dir)
    # Warm npm's cache the same way.
    run(["npm", "ci", "--omit=dev", "--no-audit", "--no-fund"], baseline_dir)

    slipway_times, npm_times = [], []
    for _ in range(args.reps):
        slipway_times.append(run([args.slipway, "build", "--force"], project, env))
        zip_path = os.path.join(root, "baseline.zip")
        if os.path.exists(zip_path):
            os.remove(zip_path)
        t = run(["npm", "ci", "--omit=dev", "--no-audit", "--no-fund"], baseline_dir)
        t += run(["zip", "-X", "-r", "-q", zip_path, "."], baseline_dir)
        npm_times.append(t)

    s = statistics.median(slipway_times)
    n = statistics.median(npm_times)
    print(f"workload: {len(packages)} production packages ({', '.join(DEPENDENCIES)})")
    print(f"slipway build --force (warm cache): median {s * 1000:.0f} ms over {args.reps}")
    print(f"npm ci --omit=dev + zip -X -r (warm cache): median {n * 1000:.0f} ms over {args.reps}")
    print(f"ratio: {n / s:.1f}x")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
