#!/usr/bin/env python3
"""Local runtime benchmark: slipway's emulator against calling the handler directly.

Two measurements, each run in one process on the same machine, printed as
ratios (absolute times on shared machines are noise):

- cold: `slipway invoke` of a hello-world function (unzip, Runtime API,
  interpreter start, one event) against the floor: the same interpreter
  started to import the handler and call it once.
  Target: within 1.3x of the floor.
- warm: 1,000 sequential invocations through `slipway serve`'s Invoke API
  over one keep-alive connection against a direct in-process call of the
  handler. Target: p50 overhead under 2 ms.

Usage:

    cargo build --release -p slipway
    python3 bench/local/run.py [--slipway target/release/slipway] [--cold-runs 20] [--calls 1000]

Both runtime clients are measured: slipway's built-in bootstrap and, when the
interpreter can import it, awslambdaric.
"""

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
RUNTIME = "python3.11"

APP = """\
def handler(event, context):
    return {"message": "hello " + event.get("name", "world")}
"""
EVENT = {"name": "bench"}


def default_slipway():
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
    for profile in ("release", "debug"):
        path = os.path.join(target, profile, "slipway")
        if os.path.exists(path):
            return path
    sys.exit("build slipway first: cargo build --release -p slipway")


def make_project(root, slipway):
    with open(os.path.join(root, "slipway.toml"), "w") as f:
        f.write(
            '[functions.hello]\nsource = "src"\nhandler = "app.handler"\n'
            'runtime = "%s"\nmemory = 128\ntimeout = 10\n' % RUNTIME
        )
    os.makedirs(os.path.join(root, "src"))
    with open(os.path.join(root, "src", "app.py"), "w") as f:
        f.write(APP)
    with open(os.path.join(root, "event.json"), "w") as f:
        json.dump(EVENT, f)
    subprocess.run([slipway, "build", "--quiet"], cwd=root, check=True, stdout=subprocess.DEVNULL)


def interpreter(root, slipway):
    """The interpreter slipway runs the function with, as its JSON output names it."""
    out = subprocess.run(
        [slipway, "--format", "json", "invoke", "hello", "--event", "event.json"],
        cwd=root, check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout)["python"]


def has_awslambdaric(python):
    return subprocess.run([python, "-c", "import awslambdaric"], capture_output=True).returncode == 0


def timed_once(cmd, cwd):
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def percentile(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def cold(root, slipway, python, client, runs):
    floor_code = (
        "import json, sys; sys.path.insert(0, 'src'); import app; "
        "print(json.dumps(app.handler(json.load(open('event.json')), None)))"
    )
    floor_cmd = [python, "-c", floor_code]
    ours_cmd = [slipway, "invoke", "hello", "--event", "event.json", "--runtime-client", client]
    timed_once(floor_cmd, root)
    timed_once(ours_cmd, root)
    # Alternate the two so load from other work on the machine hits both alike.
    ours, floor = [], []
    for _ in range(runs):
        floor.append(timed_once(floor_cmd, root))
        ours.append(timed_once(ours_cmd, root))
    return statistics.median(ours), statistics.median(floor)


def start_serve(root, slipway, client):
    proc = subprocess.Popen(
        [slipway, "serve", "--port", "0", "--no-watch", "--runtime-client", client, "--quiet"],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    line = proc.stdout.readline().strip()
    url = line.replace("listening on http://", "")
    host, port = url.split(":")
    return proc, host, int(port)


def warm(root, slipway, client, calls):
    proc, host, port = start_serve(root, slipway, client)
    try:
        conn = http.client.HTTPConnection(host, port)
        body = json.dumps(EVENT)
        path = "/2015-03-31/functions/hello/invocations"

        def call():
            conn.request("POST", path, body, {"content-type": "application/json"})
            r = conn.getresponse()
            data = r.read()
            if r.status != 200:
                raise SystemExit("invoke failed: %d %s" % (r.status, data))

        for _ in range(50):
            call()
        samples = []
        for _ in range(calls):
            start = time.perf_counter_ns()
            call()
            samples.append((time.perf_counter_ns() - start) / 1e6)
        return samples
    finally:
        proc.terminate()
        proc.wait()


def direct(calls):
    namespace = {}
    exec(APP, namespace)
    handler = namespace["handler"]
    for _ in range(50):
        json.dumps(handler(json.loads(json.dumps(EVENT)), None))
    samples = []
    for _ in range(calls):
        start = time.perf_counter_ns()
        # What an invocation needs besides the handler: the event decoded, the result encoded.
        json.dumps(handler(json.loads(json.dumps(EVENT)), None))
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slipway", default=None)
    parser.add_argument("--cold-runs", type=int, default=20)
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()
    slipway = os.path.abspath(args.slipway or default_slipway())

    root = tempfile.mkdtemp(prefix="slipway-bench-local-")
    try:
        make_project(root, slipway)
        python = interpreter(root, slipway)
        clients = ["builtin"] + (["awslambdaric"] if has_awslambdaric(python) else [])
        print("slipway: %s\ninterpreter: %s\n" % (slipway, python))

        print("cold invoke (median of %d runs)" % args.cold_runs)
        print("  %-14s %10s %10s %8s" % ("client", "slipway", "floor", "ratio"))
        for client in clients:
            ours, floor = cold(root, slipway, python, client, args.cold_runs)
            print("  %-14s %8.1f ms %7.1f ms %7.2fx  (target <= 1.30x)" % (client, ours * 1e3, floor * 1e3, ours / floor))

        d = direct(args.calls)
        print("\nwarm invoke through `slipway serve` (%d calls, one keep-alive connection)" % args.calls)
        print("  %-14s %9s %9s %14s" % ("", "p50", "p99", "p50 overhead"))
        print("  %-14s %6.3f ms %6.3f ms" % ("direct call", percentile(d, 50), percentile(d, 99)))
        for client in clients:
            w = warm(root, slipway, client, args.calls)
            overhead = percentile(w, 50) - percentile(d, 50)
            print("  %-14s %6.3f ms %6.3f ms %11.3f ms  (target < 2 ms)" % (client, percentile(w, 50), percentile(w, 99), overhead))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
