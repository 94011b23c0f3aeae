"""Writes the scan benchmark's inventory: 100 pinned distributions.

The pins are real packages of the PyPA advisory database, each at an old
release that the database lists (so most of them match several advisories,
the expensive case), plus every pin of the shared `api.txt` and `data.txt`
workloads. Output: a slipway project whose dist/bench/manifest.json ships
them, and requirements.txt with the same pins (what pip-audit would read).

    python3 make_workload.py DB_FOLDER OUT_FOLDER [SHARED_BENCH_FOLDER]
"""
import json, os, pathlib, re, sys

import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

db, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
shared = pathlib.Path(sys.argv[3]) if len(sys.argv) > 3 else None
pins = {}
if shared:
    for name in ("api.txt", "data.txt"):
        f = shared / name
        if f.exists():
            for line in f.read_text().splitlines():
                m = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)", line.strip())
                if m:
                    pins[canonicalize_name(m.group(1))] = (m.group(1), m.group(2))
# Packages with the most advisories first, deterministic order.
folders = sorted((d for d in (db / "vulns").iterdir() if d.is_dir()),
                 key=lambda d: (-len(list(d.glob("*.yaml"))), d.name))
for folder in folders:
    if len(pins) >= 100:
        break
    if folder.name in pins:
        continue
    versions = []
    for f in sorted(folder.glob("*.yaml")):
        rec = yaml.load(f.read_text(), Loader=yaml.BaseLoader)
        for a in rec.get("affected") or []:
            for v in a.get("versions") or []:
                try:
                    versions.append((Version(v), v))
                except InvalidVersion:
                    pass
    stable = sorted(p for p in versions if not p[0].is_prerelease)
    if stable:
        pins[folder.name] = (folder.name, stable[len(stable) // 2][1])

dists = [
    {
        "name": name, "version": version,
        "wheel": f"{name.replace('-', '_')}-{version}-py3-none-any.whl",
        "wheel_sha256": "0" * 64, "direct": True, "requires": [], "installed_in": "function",
    }
    for name, version in sorted(pins.values(), key=lambda p: canonicalize_name(p[0]))
][:100]
(out / "dist/bench").mkdir(parents=True, exist_ok=True)
(out / "src").mkdir(exist_ok=True)
(out / "src/app.py").write_text("def handler(event, context):\n    return 1\n")
(out / "slipway.toml").write_text(
    '[functions.bench]\nsource = "src"\nhandler = "app.handler"\nruntime = "python3.12"\n'
    'requirements = "requirements.txt"\n')
(out / "requirements.txt").write_text("".join(f"{d['name']}=={d['version']}\n" for d in dists))
manifest = {
    "schema_version": 1, "function": "bench", "runtime": "python3.12", "architecture": "x86_64",
    "handler": "app.handler",
    "artifact": {"file": "bench.zip", "sha256": "0" * 64, "code_sha256": "", "zipped_size": 0,
                 "unzipped_size": 0, "entries": []},
    "input_hash": "0" * 64, "slipway_version": "bench", "source_date_epoch": 315532800,
    "dependencies": dists,
}
(out / "dist/bench/manifest.json").write_text(json.dumps(manifest, indent=1))
print(f"{len(dists)} distributions", file=sys.stderr)
