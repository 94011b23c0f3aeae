#!/usr/bin/env python3
"""Dependency benchmark: slipway against uv + zip and pip + zip, one run.

For each workload (../shared/bench/api.txt and data.txt by default) it times,
on the same machine in the same run:

  slipway cold   `slipway build` with empty caches and no dist/
  slipway warm   `slipway build` after one source line changed, warm cache
  slipway no-op  `slipway build` with nothing changed
  uv cold + zip  `uv pip install --python-platform x86_64-manylinux_2_34 --target`
                 with an empty uv cache, then `zip -X -r`
  uv + zip       the same with a warm uv cache
  pip + zip      `pip install --platform manylinux_2_17..2_34_x86_64
                 --only-binary=:all: --target` then `zip -X -r`, warm pip cache

and prints the medians, the ratios, and each slipway build's peak memory
(the child's maximum resident set size, from wait4). Absolute times on shared machines are
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


PEAK_RSS = {}


def run(cmd, env=None, cwd=None, label=None):
    """Runs cmd and returns its wall time; records its peak RSS under label."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            sys.exit(f"failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{err.read()[-3000:].decode(errors='replace')}")
    if label:
        PEAK_RSS[label] = max(PEAK_RSS.get(label, 0), usage.ru_maxrss)  # KiB on Linux
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
    build = [slipway, "--quiet", "build"]

    def cold():
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(project / "dist", ignore_errors=True)
        return run(build, env=env, cwd=project, label=f"{name} cold")

    results["slipway cold"] = median_of(reps, cold)
    edits = iter(range(1_000_000))

    def warm():
        # One source line changed: the sources, the zip and the evidence are
        # redone; the dependencies come from the cache.
        with open(project / "src" / "app.py", "a") as f:
            f.write(f"# edit {next(edits)}\n")
        return run(build, env=env, cwd=project, label=f"{name} warm")

    warm()  # the first rebuild after a cold build also records the wheels' stamps
    results["slipway warm"] = median_of(reps, warm)
    results["slipway no-op"] = median_of(max(reps, 5), lambda: run(build, env=env, cwd=project, label=f"{name} no-op"))
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

    def uv_cold():
        shutil.rmtree(work / "uv-cache", ignore_errors=True)
        return install_and_zip(uv)

    results["uv cold + zip"] = median_of(reps, uv_cold)
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
            for key in ["slipway cold", "slipway warm", "slipway no-op", "uv cold + zip", "uv + zip", "pip + zip"]:
                kind = key.split()[-1] if key.startswith("slipway") else None
                rss = PEAK_RSS.get(f"{name} {kind}") if kind else None
                peak = f"   peak {rss / 1024:7.1f} MiB" if rss else ""
                print(f"   {key:<14} {r[key] * 1000:9.1f} ms{peak}")
            print(f"   uv + zip / slipway warm       {r['uv + zip'] / r['slipway warm']:6.1f}x")
            print(f"   pip + zip / slipway warm      {r['pip + zip'] / r['slipway warm']:6.1f}x")
            print(f"   uv cold + zip / slipway cold  {r['uv cold + zip'] / r['slipway cold']:6.1f}x")
            print(f"   slipway cold / no-op          {r['slipway cold'] / r['slipway no-op']:6.1f}x", flush=True)
    api = dict(rows).get("api")
    if api:
        warm = api["uv + zip"] / api["slipway warm"]
        cold = api["uv cold + zip"] / api["slipway cold"]
        print(f"target: api.txt, one line changed, slipway >= 35x faster than uv + zip: {warm:.1f}x "
              f"({'met' if warm >= 35 else 'NOT met'})")
        print(f"target: api.txt, empty caches, slipway >= 5x faster than uv cold + zip: {cold:.1f}x "
              f"({'met' if cold >= 5 else 'NOT met'})")
    data = dict(rows).get("data")
    if data:
        print(f"data.txt build: cold {data['slipway cold'] * 1000:.0f} ms, peak {PEAK_RSS['data cold'] / 1024:.1f} MiB; "
              f"warm {data['slipway warm'] * 1000:.0f} ms, peak {PEAK_RSS['data warm'] / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
