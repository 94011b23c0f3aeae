//! `slipway scan` and `slipway db update` end to end.
//!
//! The inventory is a `manifest.json` written from `Manifest` values (what
//! `slipway build` records), so these tests exercise matching, gating and
//! reports without a network. Expected advisory ids come from an independent
//! Python implementation of the OSV rules (PyYAML + packaging), never from
//! slipway's own matcher. The SARIF and GitLab reports are validated with
//! Python's jsonschema, the CycloneDX ones with the validator the SBOM tests use.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use slipway_artifact::{ArtifactRecord, Distribution, EntryOrigin, Manifest};
use slipway_package::{EntryData, ZipEntry, ZipOptions, write_zip};

use crate::support::{Project, json_stdout};

/// The PyPA advisory database copy shared with the project (read-only).
fn pypa_db() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("SLIPWAY_PYPA_DB").map(PathBuf::from),
        Some(manifest_dir.join("../../../shared/data/pypa-advisory-db")),
        Some(PathBuf::from("/work/shared/data/pypa-advisory-db")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.join("vulns").is_dir())
        .expect("the PyPA advisory database (shared/data/pypa-advisory-db beside the repository, or SLIPWAY_PYPA_DB)")
}

fn schemas() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../slipway-vuln/schemas")
}

const VULNERABLE: [(&str, &str); 4] = [
    ("PyYAML", "5.3"),
    ("urllib3", "1.26.4"),
    ("Jinja2", "2.10"),
    ("requests", "2.19.1"),
];
/// Releases the database (2024-10-10) lists as fixing every advisory of these packages.
const PATCHED: [(&str, &str); 4] = [
    ("PyYAML", "6.0.1"),
    ("urllib3", "2.2.3"),
    ("Jinja2", "3.1.4"),
    ("requests", "2.32.3"),
];

fn dist(name: &str, version: &str, direct: bool, requires: &[&str]) -> Distribution {
    Distribution {
        ecosystem: slipway_artifact::Ecosystem::PyPI,
        integrity: None,
        install_path: None,
        name: name.into(),
        version: version.into(),
        wheel: format!("{}-{version}-py3-none-any.whl", name.replace('-', "_")),
        wheel_sha256: "0".repeat(64),
        wheel_url: None,
        license_expression: None,
        license: None,
        license_classifiers: vec![],
        direct,
        requires: requires.iter().map(|s| s.to_string()).collect(),
        installed_in: slipway_artifact::InstalledIn::Function,
    }
}

/// Writes `dist/<function>/manifest.json` and a zip whose dist-info METADATA
/// carries `requires_dist`, as a build would.
fn write_build(
    project: &Project,
    function: &str,
    dists: Vec<Distribution>,
    requires_dist: &[(&str, &[&str])],
) {
    let dir = project.join(&format!("dist/{function}"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut entries = vec![ZipEntry {
        path: "app.py".into(),
        executable: false,
        data: EntryData::Bytes(b"def handler(e, c):\n    return 1\n".to_vec()),
        origin: EntryOrigin::Source,
    }];
    for d in &dists {
        let reqs = requires_dist
            .iter()
            .find(|(n, _)| *n == d.name)
            .map(|(_, r)| *r)
            .unwrap_or(&[]);
        let mut metadata = format!(
            "Metadata-Version: 2.1\nName: {}\nVersion: {}\n",
            d.name, d.version
        );
        for r in reqs {
            metadata.push_str(&format!("Requires-Dist: {r}\n"));
        }
        metadata.push_str("\nlong description\n");
        entries.push(ZipEntry {
            path: format!(
                "{}-{}.dist-info/METADATA",
                d.name.replace('-', "_"),
                d.version
            ),
            executable: false,
            data: EntryData::Bytes(metadata.into_bytes()),
            origin: EntryOrigin::Dependency {
                distribution: d.name.to_lowercase(),
            },
        });
    }
    let artifact: ArtifactRecord = write_zip(
        entries,
        &dir.join(format!("{function}.zip")),
        &ZipOptions::default(),
    )
    .unwrap();
    let manifest = Manifest {
        dependencies: dists,
        ..crate::support::manifest(function, artifact)
    };
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
}

fn two_function_project() -> Project {
    let p = Project::new();
    p.write(
        "slipway.toml",
        "[defaults]\nruntime = \"python3.12\"\nhandler = \"app.handler\"\n\n[functions.vulnerable]\nsource = \"src\"\n\n[functions.patched]\nsource = \"src\"\n",
    );
    p.write("src/app.py", "def handler(event, context):\n    return 1\n");
    let deps = |set: &[(&str, &str)]| {
        set.iter()
            .map(|(n, v)| {
                let requires: &[&str] = if *n == "requests" {
                    &["urllib3"]
                } else if *n == "Jinja2" {
                    &["markupsafe"]
                } else {
                    &[]
                };
                dist(n, v, *n != "urllib3", requires)
            })
            .collect::<Vec<_>>()
    };
    write_build(
        &p,
        "vulnerable",
        deps(&VULNERABLE),
        &[("requests", &["urllib3<1.24,>=1.21.1", "idna<2.8,>=2.5"])],
    );
    write_build(
        &p,
        "patched",
        deps(&PATCHED),
        &[("requests", &["urllib3<3,>=1.21.1"])],
    );
    p
}

/// The OSV evaluation written independently in Python: an interval reading
/// of the events (the latest `introduced` at or below V, closed by any
/// `fixed` / `last_affected` between it and V), PEP 440 via `packaging`.
const REFERENCE_MATCHER: &str = r#"
import json, os, re, sys
import yaml
from packaging.version import Version, InvalidVersion
from packaging.utils import canonicalize_name

def parse(text):
    try:
        return Version(text)
    except InvalidVersion:
        return None

def in_range(v, events):
    limits = [e["limit"] for e in events if "limit" in e]
    if limits and not any("*" in l or (parse(l) is not None and v < parse(l)) for l in limits):
        return False
    starts = []
    for e in events:
        if "introduced" in e:
            if e["introduced"] == "0":
                starts.append(None)
            elif parse(e["introduced"]) is not None and parse(e["introduced"]) <= v:
                starts.append(parse(e["introduced"]))
    if not starts:
        return False
    latest = None if all(s is None for s in starts) else max(s for s in starts if s is not None)
    for e in events:
        if "fixed" in e and parse(e["fixed"]) is not None:
            f = parse(e["fixed"])
            if (latest is None or f >= latest) and f <= v:
                return False
        if "last_affected" in e and parse(e["last_affected"]) is not None:
            la = parse(e["last_affected"])
            if (latest is None or la >= latest) and la < v:
                return False
    return True

def affected(version_text, entry):
    v = parse(version_text)
    for listed in entry.get("versions") or []:
        if listed == version_text or (v is not None and parse(listed) == v):
            return True
    if v is None:
        return False
    return any(r.get("type") == "ECOSYSTEM" and in_range(v, r.get("events") or [])
               for r in entry.get("ranges") or [])

db = sys.argv[1]
pins = [p.split("==") for p in sys.argv[2:]]
wanted = {canonicalize_name(n) for n, _ in pins}
records = []
for root, _, files in os.walk(db):
    for name in files:
        if not name.endswith((".yaml", ".yml", ".json")):
            continue
        text = open(os.path.join(root, name), encoding="utf-8").read()
        flat = re.sub(r"[-_.]+", "-", text.lower())
        if not any(w in flat for w in wanted):
            continue
        records.append(yaml.load(text, Loader=yaml.BaseLoader))
out = {}
for n, v in pins:
    ids = set()
    for rec in records:
        if rec.get("withdrawn"):
            continue
        for entry in rec.get("affected") or []:
            pkg = entry.get("package") or {}
            if pkg.get("ecosystem") == "PyPI" and canonicalize_name(pkg.get("name", "")) == canonicalize_name(n) and affected(v, entry):
                ids.add(rec["id"])
    out[f"{n}=={v}"] = sorted(ids)
print(json.dumps(out))
"#;

fn reference_ids(db: &Path, pins: &[(&str, &str)]) -> BTreeMap<String, BTreeSet<String>> {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("osv_reference.py");
    std::fs::write(&script, REFERENCE_MATCHER).unwrap();
    let out = Command::new("python3")
        .arg(&script)
        .arg(db)
        .args(pins.iter().map(|(n, v)| format!("{n}=={v}")))
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "reference matcher failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<BTreeMap<String, Vec<String>>>(&out.stdout)
        .unwrap()
        .into_iter()
        .map(|(k, v)| (k, v.into_iter().collect()))
        .collect()
}

/// `function → "name==version" → record ids` as slipway reported them.
fn reported_records(report: &Value) -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let mut out: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for f in report["findings"].as_array().unwrap() {
        let key = format!(
            "{}=={}",
            f["package"].as_str().unwrap(),
            f["version"].as_str().unwrap()
        );
        let set = out
            .entry(f["function"].as_str().unwrap().to_string())
            .or_default()
            .entry(key)
            .or_default();
        for r in f["records"].as_array().unwrap() {
            set.insert(r.as_str().unwrap().to_string());
        }
    }
    out
}

fn check_against_reference(report: &Value) {
    let db = pypa_db();
    let expected_vulnerable = reference_ids(&db, &VULNERABLE);
    let expected_patched = reference_ids(&db, &PATCHED);
    for (pin, ids) in &expected_vulnerable {
        assert!(
            !ids.is_empty(),
            "the reference finds no advisory for {pin}: the fixture is wrong"
        );
    }
    for (pin, ids) in &expected_patched {
        assert!(
            ids.is_empty(),
            "the reference still finds {ids:?} for {pin}: pick a later release"
        );
    }
    let reported = reported_records(report);
    let vulnerable = reported.get("vulnerable").cloned().unwrap_or_default();
    for (pin, ids) in &expected_vulnerable {
        assert_eq!(
            vulnerable.get(pin).cloned().unwrap_or_default(),
            *ids,
            "records for {pin}"
        );
    }
    assert_eq!(
        vulnerable.len(),
        expected_vulnerable.len(),
        "{vulnerable:#?}"
    );
    assert!(
        !reported.contains_key("patched"),
        "patched releases reported: {:#?}",
        reported.get("patched")
    );
}

#[test]
fn real_advisories_match_an_independent_reference() {
    let p = two_function_project();
    let out = p
        .slipway()
        .args(["scan", "--format", "json", "--fail-on", "unknown", "--db"])
        .arg(pypa_db())
        .output()
        .unwrap();
    let report = json_stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "findings at or above `unknown` fail the gate"
    );
    assert_eq!(report["db"]["kind"], "folder");
    // Every one of the 2,661 records is accounted for: loaded, withdrawn, or
    // not parsed because it names none of the 8 shipped distributions.
    let db = &report["db"];
    let accounted = db["advisories"].as_u64().unwrap()
        + db["withdrawn"].as_u64().unwrap()
        + db["not_relevant"].as_u64().unwrap();
    assert_eq!(accounted, 2661, "{db:#}");
    assert!(db["not_relevant"].as_u64().unwrap() > 2000);
    assert_eq!(report["distributions_scanned"], 8);
    check_against_reference(&report);

    // Aliases are merged: no name appears in two findings of one distribution.
    for f in report["findings"].as_array().unwrap() {
        let mine: BTreeSet<&str> = std::iter::once(f["id"].as_str().unwrap())
            .chain(
                f["aliases"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap()),
            )
            .collect();
        for g in report["findings"].as_array().unwrap() {
            if g == f || g["package"] != f["package"] || g["function"] != f["function"] {
                continue;
            }
            let theirs: BTreeSet<&str> = std::iter::once(g["id"].as_str().unwrap())
                .chain(
                    g["aliases"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|a| a.as_str().unwrap()),
                )
                .collect();
            assert!(
                mine.is_disjoint(&theirs),
                "{} and {} share a name",
                f["id"],
                g["id"]
            );
        }
    }

    // Fix advice: requests 2.19.1 pins urllib3<1.24, so moving urllib3 to a fix conflicts.
    let advice = report["fix_advice"].as_array().unwrap();
    let urllib3 = advice.iter().find(|a| a["package"] == "urllib3").unwrap();
    assert_eq!(urllib3["lock"]["verdict"], "conflicts", "{urllib3:#}");
    assert_eq!(urllib3["lock"]["with"][0]["dependent"], "requests 2.19.1");
    let pyyaml = advice.iter().find(|a| a["package"] == "PyYAML").unwrap();
    assert_eq!(pyyaml["target"], "5.4", "{pyyaml:#}");
    assert_eq!(pyyaml["lock"]["verdict"], "compatible");
}

#[test]
fn bundled_snapshot_scans_offline_with_the_same_result() {
    let p = two_function_project();
    let out = p
        .slipway()
        .args(["scan", "--format", "json", "--fail-on", "unknown"])
        .output()
        .unwrap();
    let report = json_stdout(&out);
    assert_eq!(report["db"]["kind"], "embedded");
    assert!(
        report["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("days old")),
        "the 2024 snapshot is older than the default 30 days: {}",
        report["warnings"]
    );
    check_against_reference(&report);

    // The human form names the database, its date and the findings.
    let human = p.slipway().args(["scan", "vulnerable"]).output().unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("bundled snapshot") && text.contains("data as of 2024-10-10"),
        "{text}"
    );
    assert!(
        text.contains("PACKAGE") && text.contains("PyYAML") && text.contains("FIXED IN"),
        "{text}"
    );
    let stderr = String::from_utf8_lossy(&human.stderr);
    assert!(stderr.contains("warning: the advisory data is"), "{stderr}");
}

/// A small OSV folder with controlled severities.
fn gate_db(dir: &Path) {
    let record = |id: &str, alias: &str, pkg: &str, vector: Option<&str>| {
        let mut v = serde_json::json!({
            "id": id,
            "modified": "2099-01-01T00:00:00Z",
            "aliases": [alias],
            "summary": format!("{id} in {pkg}"),
            "affected": [{
                "package": {"ecosystem": "PyPI", "name": pkg},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": "2.0"}, {"introduced": "0"}]}]
            }]
        });
        if let Some(vector) = vector {
            v["severity"] = serde_json::json!([{"type": if vector.starts_with("CVSS:4") { "CVSS_V4" } else { "CVSS_V3" }, "score": vector}]);
        }
        std::fs::write(
            dir.join(format!("{id}.json")),
            serde_json::to_vec(&v).unwrap(),
        )
        .unwrap();
    };
    std::fs::create_dir_all(dir).unwrap();
    record(
        "TEST-CRIT",
        "CVE-0001-0001",
        "Alpha_Pkg",
        Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
    );
    record(
        "TEST-MED",
        "CVE-0001-0002",
        "beta",
        Some("CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N"),
    );
    record("TEST-UNK", "CVE-0001-0003", "gamma", None);
}

fn gate_project(config_extra: &str) -> Project {
    let p = Project::new();
    p.write(
        "slipway.toml",
        format!("[defaults]\nruntime = \"python3.12\"\n\n[functions.api]\nsource = \"src\"\nhandler = \"app.handler\"\n\n[scan]\ndb = \"osv\"\n{config_extra}"),
    );
    p.write("src/app.py", "def handler(e, c):\n    return 1\n");
    gate_db(&p.join("osv"));
    write_build(
        &p,
        "api",
        vec![
            dist("alpha-pkg", "1.0", true, &[]),
            dist("beta", "1.9", true, &[]),
            dist("gamma", "1.0", true, &[]),
            dist("delta", "1.0", true, &[]),
        ],
        &[],
    );
    p
}

fn scan_code(p: &Project, args: &[&str]) -> (i32, Value) {
    let out = p
        .slipway()
        .args(["scan", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let report = json_stdout(&out);
    (out.status.code().unwrap(), report)
}

#[test]
fn fail_on_decides_the_exit_code() {
    let p = gate_project("");
    let (code, report) = scan_code(&p, &[]);
    assert_eq!(code, 1, "a critical finding fails the default gate (high)");
    assert_eq!(report["fail_on"], "high");
    assert_eq!(
        report["blocking"], 2,
        "the critical one and the unscored one"
    );
    assert_eq!(scan_code(&p, &["--allow-unscored"]).1["blocking"], 1);
    let allowing = gate_project("allow_unscored = true\n");
    assert_eq!(scan_code(&allowing, &[]).1["blocking"], 1);
    let sev: BTreeMap<String, String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().into(),
                f["severity"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(sev["TEST-CRIT"], "critical");
    assert_eq!(sev["TEST-MED"], "medium", "CVSS v4 scored 4.8");
    assert_eq!(sev["TEST-UNK"], "unknown");
    assert_eq!(
        report["db"]["kind"], "folder",
        "[scan] db is relative to slipway.toml"
    );

    assert_eq!(scan_code(&p, &["--fail-on", "critical"]).0, 1);
    assert_eq!(
        scan_code(&p, &["--fail-on", "critical", "--allow-unscored"]).1["blocking"],
        1
    );
    assert_eq!(
        scan_code(&p, &["--fail-on", "medium", "--allow-unscored"]).1["blocking"],
        2
    );
    assert_eq!(scan_code(&p, &["--fail-on", "unknown"]).1["blocking"], 3);

    let quiet = gate_project("fail_on = \"critical\"\n");
    assert_eq!(scan_code(&quiet, &[]).1["fail_on"], "critical");

    let bad = p
        .slipway()
        .args(["scan", "--fail-on", "severe"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn accepted_risks_expire_and_go_stale() {
    // Accepting the critical finding (by its CVE alias) makes the gate pass.
    let p = gate_project("");
    p.write(
        "slipway-ignore.toml",
        "[[ignore]]\nid = \"CVE-0001-0001\"\nreason = \"the YAML loader is never reached\"\nuntil = 2999-12-31\n",
    );
    let (code, report) = scan_code(&p, &["--allow-unscored"]);
    assert_eq!(code, 0, "{report:#}");
    let crit = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "TEST-CRIT")
        .unwrap();
    assert_eq!(
        crit["accepted"]["reason"],
        "the YAML loader is never reached"
    );
    assert_eq!(crit["accepted"]["origin"], "slipway-ignore.toml:1");
    assert_eq!(report["ignores"][0]["state"], "applied");

    // Expired: it stops applying and says so. Stale: it matches nothing.
    let p = gate_project(
        "ignore = [\n  { id = \"TEST-CRIT\", reason = \"waiting for 2.0\", until = 2001-01-01 },\n  { id = \"GHSA-xxxx-yyyy-zzzz\", reason = \"old\" },\n]\n",
    );
    let out = p.slipway().args(["scan"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("TEST-CRIT") && stderr.contains("expired on 2001-01-01"),
        "{stderr}"
    );
    assert!(
        stderr.contains("GHSA-xxxx-yyyy-zzzz") && stderr.contains("matches no finding"),
        "{stderr}"
    );
    let (_, report) = scan_code(&p, &[]);
    let states: Vec<&str> = report["ignores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["expired", "stale"]);
    assert_eq!(report["ignores"][0]["origin"], "slipway.toml:11");

    // A malformed ignore file is an input error naming its line.
    let p = gate_project("");
    p.write("slipway-ignore.toml", "[[ignore]]\nid = \"X\"\n");
    let out = p.slipway().args(["scan"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("slipway-ignore.toml"));
}

const VALIDATOR: &str = r#"
import json, sys, pathlib
import jsonschema
from referencing import Registry
schemas = pathlib.Path(sys.argv[1])
def load(name):
    return json.loads((schemas / name).read_text())
kind, path = sys.argv[2], sys.argv[3]
doc = json.loads(pathlib.Path(path).read_text())
if kind == "sarif":
    schema, cls, registry = load("sarif-2.1.0-rtm.5.json"), jsonschema.Draft4Validator, Registry()
elif kind == "gitlab":
    schema = load("dependency-scanning-report-format.json")
    cls, registry = jsonschema.validators.validator_for(schema), Registry()
else:
    sys.exit(f"no schema for {kind}")
validator = cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)
errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
for e in errors[:10]:
    print(list(e.path), e.message[:300])
sys.exit(1 if errors else 0)
"#;

fn validate(kind: &str, path: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("validate.py");
    std::fs::write(&script, VALIDATOR).unwrap();
    let out = Command::new("python3")
        .arg(&script)
        .arg(schemas())
        .arg(kind)
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{kind} report {} does not validate:\n{}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CycloneDX document the scan wrote is a valid CycloneDX 1.6 BOM.
fn validate_cyclonedx(path: &Path) {
    let doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    crate::sbom_schemas::assert_valid(
        &crate::sbom_schemas::cyclonedx_validator(),
        &doc,
        &path.display().to_string(),
    );
}

#[test]
fn reports_validate_against_their_schemas() {
    let p = two_function_project();
    p.write("slipway-ignore.toml", "[[ignore]]\nid = \"PYSEC-2021-142\"\nreason = \"templates are trusted\"\nuntil = 2999-01-01\n");
    // An SBOM as the build writes it: the scan adds `vulnerabilities` to it.
    let sbom = serde_json::json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "metadata": {"component": {"type": "application", "name": "vulnerable", "bom-ref": "function:vulnerable"}},
        "components": VULNERABLE.iter().map(|(n, v)| serde_json::json!({
            "type": "library", "name": n, "version": v,
            "bom-ref": format!("pkg:pypi/{}@{v}", n.to_lowercase()),
            "purl": format!("pkg:pypi/{}@{v}", n.to_lowercase()),
        })).collect::<Vec<_>>(),
    });
    let sbom_path = p.join("dist/vulnerable/sbom.cdx.json");
    let sbom_bytes = serde_json::to_vec_pretty(&sbom).unwrap();
    std::fs::write(&sbom_path, &sbom_bytes).unwrap();
    let vex_path = p.join("dist/vulnerable/vex.cdx.json");
    let out = p
        .slipway()
        .args([
            "scan",
            "--format",
            "json",
            "--sarif",
            "out/scan.sarif",
            "--gitlab-report",
            "gl-dependency-scanning-report.json",
            "--db",
        ])
        .arg(pypa_db())
        .output()
        .unwrap();
    let report = json_stdout(&out);
    let sarif_path = p.join("out/scan.sarif");
    let gitlab_path = p.join("gl-dependency-scanning-report.json");
    validate("sarif", &sarif_path);
    validate("gitlab", &gitlab_path);
    validate_cyclonedx(&vex_path);
    assert_eq!(
        std::fs::read(&sbom_path).unwrap(),
        sbom_bytes,
        "the SBOM the provenance records is left as built"
    );

    let n = report["findings"].as_array().unwrap().len();
    assert!(n >= 8, "{n}");
    let sarif: Value = serde_json::from_slice(&std::fs::read(&sarif_path).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), n);
    let suppressed: Vec<&Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["ruleId"], "PYSEC-2021-142");

    let gitlab: Value = serde_json::from_slice(&std::fs::read(&gitlab_path).unwrap()).unwrap();
    assert_eq!(gitlab["vulnerabilities"].as_array().unwrap().len(), n);
    let jinja = gitlab["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["location"]["dependency"]["package"]["name"] == "Jinja2")
        .unwrap();
    assert_eq!(jinja["location"]["file"], "dist/vulnerable/manifest.json");

    let bom: Value = serde_json::from_slice(&std::fs::read(&vex_path).unwrap()).unwrap();
    assert_eq!(bom["serialNumber"], sbom["serialNumber"]);
    assert_eq!(bom["version"], 2, "the same BOM, one version on");
    let vulns = bom["vulnerabilities"].as_array().unwrap();
    let only_vulnerable = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["function"] == "vulnerable")
        .count();
    assert_eq!(vulns.len(), only_vulnerable);
    for v in vulns {
        let r = v["affects"][0]["ref"].as_str().unwrap();
        assert!(
            bom["components"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["bom-ref"] == r),
            "{r} is a component"
        );
    }
    let accepted = vulns.iter().find(|v| v["id"] == "PYSEC-2021-142").unwrap();
    assert_eq!(accepted["analysis"]["response"][0], "will_not_fix");
    assert!(
        accepted["analysis"]["detail"]
            .as_str()
            .unwrap()
            .contains("templates are trusted")
    );
    assert_eq!(
        bom["components"].as_array().unwrap().len(),
        4,
        "the rest of the SBOM is kept"
    );
    assert!(
        !p.join("dist/patched/vex.cdx.json").exists(),
        "no SBOM, no VEX: none is invented"
    );

    // --sbom-in-place sets the key in the SBOM itself; it still validates.
    let out = p
        .slipway()
        .args(["scan", "vulnerable", "--sbom-in-place", "--db"])
        .arg(pypa_db())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    validate_cyclonedx(&sbom_path);
    let merged: Value = serde_json::from_slice(&std::fs::read(&sbom_path).unwrap()).unwrap();
    assert_eq!(merged["vulnerabilities"], bom["vulnerabilities"]);
    assert_eq!(merged["version"], 1);
}

/// `python3 -m http.server` on 127.0.0.1, stopped when dropped.
struct StaticServer {
    child: Child,
    port: u16,
}

impl StaticServer {
    fn start(dir: &Path) -> StaticServer {
        let mut child = Command::new("python3")
            .args([
                "-u",
                "-m",
                "http.server",
                "0",
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 http.server starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
        let port = line
            .split("port ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        StaticServer { child, port }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn db_update_keeps_a_dated_copy_from_a_folder_or_a_url() {
    let p = gate_project("");
    // Without `[scan] db` a scan uses the local copy once there is one.
    p.write("slipway.toml", "[defaults]\nruntime = \"python3.12\"\n\n[functions.api]\nsource = \"src\"\nhandler = \"app.handler\"\n");
    let out = p
        .slipway()
        .args(["db", "update", "--format", "json", "--from", "osv"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stored = json_stdout(&out);
    assert_eq!(stored["advisories"], 3);
    assert_eq!(stored["date"], "2099-01-01T00:00:00Z");
    assert!(Path::new(stored["path"].as_str().unwrap()).starts_with(p.join(".test-cache")));
    let (code, report) = scan_code(&p, &[]);
    assert_eq!(code, 1);
    assert_eq!(report["db"]["kind"], "local_copy");
    assert!(report["db"]["fetched_at"].is_string());
    assert!(report["db"]["source"].as_str().unwrap().ends_with("osv"));
    assert!(
        report["warnings"].as_array().unwrap().is_empty(),
        "data from 2099 is not old: {}",
        report["warnings"]
    );

    // An OSV all.zip served over HTTP, for `db update --from URL` and `scan --db URL`.
    let served = tempfile::tempdir().unwrap();
    let zip = served.path().join("all.zip");
    let mut cmd = Command::new("python3");
    cmd.args(["-c", "import sys, zipfile, pathlib\nwith zipfile.ZipFile(sys.argv[1], 'w') as z:\n    for f in sorted(pathlib.Path(sys.argv[2]).glob('*.json')):\n        if 'CRIT' in f.name: z.write(f, f.name)\n"])
        .arg(&zip)
        .arg(p.join("osv"));
    assert!(cmd.status().unwrap().success());
    let server = StaticServer::start(served.path());
    let (code, report) = scan_code(&p, &["--db", &server.url("all.zip")]);
    assert_eq!(report["db"]["kind"], "zip");
    assert_eq!(report["db"]["advisories"], 1);
    assert_eq!(code, 1);
    let out = p
        .slipway()
        .args(["db", "update", "--from", &server.url("all.zip")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("stored 1 advisories"));
    assert_eq!(scan_code(&p, &[]).1["db"]["advisories"], 1);

    let missing = p
        .slipway()
        .args(["db", "update", "--from", &server.url("nothing.zip")])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    // A URL with credentials that fails: the message names the URL without them.
    let with_credentials = server
        .url("nothing.zip")
        .replace("http://", "http://mirror:s3cr3t-token@");
    for command in [&["db", "update", "--from"][..], &["scan", "--db"][..]] {
        let out = p
            .slipway()
            .args(command)
            .arg(&with_credentials)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command:?}: {stderr}");
        assert!(
            stderr.contains("cannot download the advisory database")
                && stderr.contains("nothing.zip"),
            "{command:?}: {stderr}"
        );
        assert!(!stderr.contains("s3cr3t-token"), "{command:?}: {stderr}");
    }
}

#[test]
fn online_mode_asks_the_configured_index() {
    let p = gate_project("");
    let served = tempfile::tempdir().unwrap();
    let release = served.path().join("pypi/gamma/1.0");
    std::fs::create_dir_all(&release).unwrap();
    std::fs::write(
        release.join("json"),
        r#"{"info": {"name": "gamma", "version": "1.0"}, "vulnerabilities": [
            {"id": "PYSEC-9999-1", "aliases": ["CVE-9999-1"], "details": "gamma leaks", "fixed_in": ["1.2", "1.1"], "link": "http://127.0.0.1/PYSEC-9999-1", "withdrawn": null},
            {"id": "PYSEC-9999-2", "aliases": [], "details": "withdrawn one", "fixed_in": [], "withdrawn": "2020-01-01T00:00:00Z"}
        ]}"#,
    )
    .unwrap();
    let server = StaticServer::start(served.path());
    // Through --index-url (a simple index URL: the JSON API sits beside it).
    let (code, report) = scan_code(
        &p,
        &[
            "--db",
            "index",
            "--index-url",
            &server.url("simple/"),
            "--fail-on",
            "unknown",
        ],
    );
    assert_eq!(report["db"]["kind"], "index");
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["id"], "PYSEC-9999-1");
    assert_eq!(findings[0]["fixed_in"], "1.1");
    assert_eq!(code, 1);
    // An index URL with credentials: they reach the index but never the
    // report, the warnings or the human output.
    let with_credentials = server
        .url("simple/")
        .replace("http://", "http://scanner:s3cr3t-token@");
    for format in ["json", "human"] {
        let out = p
            .slipway()
            .args(["--format", format, "scan", "--db", "index", "--index-url"])
            .arg(&with_credentials)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains("s3cr3t-token"), "{format}: {all}");
        if format == "json" {
            let report = json_stdout(&out);
            assert_eq!(report["findings"][0]["id"], "PYSEC-9999-1", "{report:#}");
        }
    }
    // The index gives no CVSS vector; one comes from the offline database by alias.
    let release = served.path().join("pypi/urllib3/1.26.4");
    std::fs::create_dir_all(&release).unwrap();
    std::fs::write(
        release.join("json"),
        r#"{"vulnerabilities": [{"id": "GHSA-v845-jxx5-vc9f", "aliases": ["CVE-2023-43804"], "details": "cookie leak", "fixed_in": ["1.26.17"]}]}"#,
    )
    .unwrap();
    write_build(&p, "api", vec![dist("urllib3", "1.26.4", true, &[])], &[]);
    let (code, report) = scan_code(&p, &["--db", "index", "--index-url", &server.url("simple")]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        report["findings"][0]["severity"], "high",
        "CVSS 8.1 of PYSEC-2023-192 in the snapshot"
    );
    assert!(
        report["db"]["severities_from"]
            .as_str()
            .unwrap()
            .contains("bundled snapshot")
    );
    // Through PIP_INDEX_URL, as the installer reads it.
    let out = p
        .slipway()
        .env("PIP_INDEX_URL", server.url("simple"))
        .args(["scan", "--format", "json", "--db", "index"])
        .output()
        .unwrap();
    assert_eq!(json_stdout(&out)["db"]["source"], "PIP_INDEX_URL");
    // No index configured at all, and no pip on PATH to name its default (a
    // pip there would name PyPI and the scan would go to the network): an
    // input error that says how to configure one.
    let no_pip = tempfile::tempdir().unwrap();
    let out = p
        .slipway()
        .env_remove("PIP_INDEX_URL")
        .env_remove("UV_DEFAULT_INDEX")
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env("HOME", p.path())
        .env("XDG_CONFIG_HOME", p.path())
        .env("PATH", no_pip.path())
        .args(["scan", "--db", "index"])
        .output()
        .unwrap();
    // Site-wide pip files are read whatever PIP_CONFIG_FILE says; one that
    // names an index makes this case impossible here.
    let site_index: Vec<&str> = ["/etc/pip.conf", "/etc/xdg/pip/pip.conf"]
        .into_iter()
        .filter(|f| std::fs::read_to_string(f).is_ok_and(|t| t.contains("index")))
        .collect();
    if site_index.is_empty() {
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("--index-url"));
    } else {
        eprintln!("skipped: the no-index case, since {site_index:?} names an index");
    }
}

#[test]
fn unusable_advisory_databases_are_input_errors() {
    let p = gate_project("");
    std::fs::create_dir_all(p.join("empty")).unwrap();
    p.write("notes.txt", "not advisories\n");
    p.write("broken.zip", "PK\u{3}\u{4} truncated");
    for (db, expected) in [
        ("missing", "cannot read the advisory database at"),
        ("empty", "the folder holds no .json, .yaml or .yml files"),
        (
            "notes.txt",
            "neither a zip of OSV files nor a file written by `slipway db update`",
        ),
        ("broken.zip", "unreadable zip"),
    ] {
        for command in [&["scan", "--db"][..], &["db", "update", "--from"][..]] {
            let out = p.slipway().args(command).arg(db).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{command:?} {db}: {stderr}");
            assert!(
                stderr.contains(expected) && stderr.contains(db),
                "{command:?} {db}: {stderr}"
            );
        }
    }
}

#[test]
fn an_unreadable_ignore_file_or_sbom_is_named_as_such() {
    let p = gate_project("");
    let out = p
        .slipway()
        .args(["scan", "--ignore-file", "missing-ignore.toml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot read the ignore file") && stderr.contains("missing-ignore.toml"),
        "{stderr}"
    );
    assert!(!stderr.contains("advisory database"), "{stderr}");

    // The SBOM the findings are added to cannot be read (a folder in its place).
    std::fs::create_dir_all(p.join("dist/api/sbom.cdx.json")).unwrap();
    let out = p.slipway().args(["scan"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot read the SBOM") && stderr.contains("sbom.cdx.json"),
        "{stderr}"
    );
    assert!(!stderr.contains("advisory database"), "{stderr}");
}

#[test]
fn a_missing_build_is_an_input_error() {
    let p = Project::hello();
    let out = p.slipway().args(["scan"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("slipway build"));
}
