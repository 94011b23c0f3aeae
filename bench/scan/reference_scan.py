"""The baseline: the same scan in Python (PyYAML + packaging), loading the
whole database and matching every pin by the OSV rules. It stands in for
pip-audit, which cannot run offline (see run.sh).

    python3 reference_scan.py DB_FOLDER requirements.txt
"""
import os, sys

import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

try:
    Loader = yaml.CBaseLoader  # libyaml when PyYAML was built with it
except AttributeError:
    Loader = yaml.BaseLoader

def parse(text):
    try:
        return Version(text)
    except InvalidVersion:
        return None

def in_range(v, events):
    state = False
    keyed = []
    for e in events:
        (kind, text), = e.items()
        keyed.append((None if text == "0" else parse(text), kind))
    for at, kind in sorted(keyed, key=lambda k: (k[0] is not None, k[0] or Version("0"))):
        if kind == "introduced" and (at is None or v >= at):
            state = True
        elif kind == "fixed" and at is not None and v >= at:
            state = False
        elif kind == "last_affected" and at is not None and v > at:
            state = False
    return state

db, reqs = sys.argv[1], sys.argv[2]
pins = {}
for line in open(reqs):
    if "==" in line:
        n, v = line.strip().split("==")
        pins[canonicalize_name(n)] = v
by_package = {}
for root, _, files in os.walk(db):
    for f in files:
        if f.endswith((".yaml", ".yml")):
            rec = yaml.load(open(os.path.join(root, f), encoding="utf-8"), Loader=Loader)
            if rec.get("withdrawn"):
                continue
            for a in rec.get("affected") or []:
                by_package.setdefault(canonicalize_name(a["package"]["name"]), []).append((rec["id"], a))
found = 0
for name, text in pins.items():
    v = parse(text)
    for rid, a in by_package.get(name, []):
        if text in (a.get("versions") or []) or (v and any(
                r.get("type") == "ECOSYSTEM" and in_range(v, r.get("events") or []) for r in a.get("ranges") or [])):
            found += 1
print(found)
