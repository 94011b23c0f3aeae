#!/usr/bin/env python3
"""Dependency benchmark: slipway against uv + zip and pip + zip, one run.

For each workload (../shared/bench/api.txt and data.txt by default) it times,
on the same machine in the same run:

  slipway cold   `slipway build --force` with an empty cache
  slipway warm   `slipway build --force` with a warm cache (resolve, install, zip)
  slipway no-op  `slipway build` with nothing changed
  uv + zip       `uv pip install --python-platform x86_64-manylinux_2_34 --target`
                 then `zip -X -r`, warm uv cache
  pip + zip      `pip install --platform manylinux_2_17..2_34_x86_64
                 --only-binary=:all: --target` then `zip -X -r`, warm pip cache

and prints the medians and the ratios. Absolute times on shared machines are
noise; the ratios are the result. The package index is whatever the
machine's pip / uv / slipway configuration says (no index is named here).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def run(cmd, env=None, cwd=None):
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{proc.stderr[-3000:]}")
    return elapsed


def median_of(n, fn):
    return statistics.median(fn() for _ in range(n))


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCE_DATE_EPOCH")}
    env.update(extra)
    return env


def bench_workload(name, requirements, slipway, reps, work):
    results = {}
    project = work / f"{name}-project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    shutil.copy(requirements, project / "requirements.txt")
    (project / "slipway.toml").write_text(
        "[functions.fn]\nsource = \"src\"\nhandler = \"app.handler\"\n"
        "runtime = \"python3.12\"\narchitecture = \"x86_64\"\nrequirements = \"requirements.txt\"\n"
    )
    cache = work / f"{name}-slipway-cache"
    env = clean_env(SLIPWAY_CACHE_DIR=str(cache))
    results["slipway cold"] = run([slipway, "--quiet", "build", "--force"], env=env, cwd=project)
    results["slipway warm"] = median_of(reps, lambda: run([slipway, "--quiet", "build", "--force"], env=env, cwd=project))
    results["slipway no-op"] = median_of(max(reps, 5), lambda: run([slipway, "--quiet", "build"], env=env, cwd=project))
    zipped = project / "dist" / "fn" / "fn.zip"
    results["_slipway_size"] = zipped.stat().st_size

    def install_and_zip(installer):
        target = work / f"{name}-target"
        out = work / f"{name}-out.zip"
        shutil.rmtree(target, ignore_errors=True)
        out.unlink(missing_ok=True)
        cmd, env = installer(target)
        t = run(cmd, env=env)
        t += run(["zip", "-X", "-r", "-q", str(out), "."], cwd=target)
        return t

    uv_env = clean_env(UV_CACHE_DIR=str(work / "uv-cache"))

    def uv(target):
        return [
            "uv", "pip", "install", "--quiet", "--python-platform", "x86_64-manylinux_2_34",
            "--python-version", "3.12", "--target", str(target), "-r", str(requirements),
        ], uv_env

    install_and_zip(uv)  # warm the uv cache
    results["uv + zip"] = median_of(reps, lambda: install_and_zip(uv))

    platforms = [f"--platform=manylinux_2_{m}_x86_64" for m in range(34, 16, -1)] + [
        "--platform=manylinux2014_x86_64", "--platform=manylinux2010_x86_64", "--platform=manylinux1_x86_64",
    ]

    def pip(target):
        return [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--cache-dir", str(work / "pip-cache"), *platforms, "--only-binary=:all:",
            "--python-version", "3.12", "--implementation", "cp", "--target", str(target),
            "-r", str(requirements),
        ], clean_env()

    install_and_zip(pip)  # warm the pip cache
    results["pip + zip"] = median_of(reps, lambda: install_and_zip(pip))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slipway", required=True, help="the slipway binary (a release build)")
    parser.add_argument("--workloads", nargs="*", default=["api", "data"])
    parser.add_argument("--reps", type=int, default=3)
    # shared/ lies beside the clone (CI) or beside the folder of worktrees.
    default_dir = next((d for d in [REPO.parent / "shared" / "bench", REPO.parent.parent / "shared" / "bench"] if d.is_dir()), None)
    parser.add_argument("--bench-dir", default=str(default_dir), help="folder holding api.txt, data.txt (../shared/bench)")
    args = parser.parse_args()
    for tool in ["uv", "zip"]:
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not on PATH (uv: pip install uv; zip: apt-get install zip)")

    rows = []
    with tempfile.TemporaryDirectory(prefix="slipway-bench-deps-") as tmp:
        for name in args.workloads:
            requirements = Path(args.bench_dir) / f"{name}.txt"
            print(f"== {name} ({requirements})", flush=True)
            r = bench_workload(name, requirements, args.slipway, args.reps, Path(tmp))
            rows.append((name, r))
            for key in ["slipway cold", "slipway warm", "slipway no-op", "uv + zip", "pip + zip"]:
                print(f"   {key:<14} {r[key] * 1000:9.1f} ms")
            print(f"   uv + zip / slipway warm   {r['uv + zip'] / r['slipway warm']:6.1f}x")
            print(f"   pip + zip / slipway warm  {r['pip + zip'] / r['slipway warm']:6.1f}x")
            print(f"   uv + zip / slipway cold   {r['uv + zip'] / r['slipway cold']:6.1f}x")
            print(f"   no-op rebuild {'under' if r['slipway no-op'] < 0.05 else 'OVER'} 50 ms", flush=True)
    api = dict(rows).get("api")
    if api:
        ratio = api["uv + zip"] / api["slipway warm"]
        print(f"target: slipway warm >= 5x faster than uv + zip on api.txt: {ratio:.1f}x "
              f"({'met' if ratio >= 5 else 'NOT met'}); no-op {api['slipway no-op'] * 1000:.1f} ms "
              f"({'met' if api['slipway no-op'] < 0.05 else 'NOT met'})")


if __name__ == "__main__":
    main()
