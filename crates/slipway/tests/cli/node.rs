//! Node.js functions end to end: `slipway build` installs the lockfile's
//! tree from a registry served on 127.0.0.1 with tarballs the test builds,
//! `slipway invoke` runs it with the machine's node, `slipway scan` matches
//! npm advisories, and every unsafe input is refused with the package named
//! and the previous build kept.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command as Process;

use serde_json::{Value, json};
use slipway_node::testing::{LocalRegistry, TarEntry, sri512, tarball};

use crate::support::{Project, assert_ok, json_stdout};

/// One package the test registry serves.
struct Pkg {
    name: &'static str,
    version: &'static str,
    manifest: Value,
    files: Vec<TarEntry>,
}

fn pkg(name: &'static str, version: &'static str, extra: Value, files: &[(&str, &str)]) -> Pkg {
    let mut manifest = json!({"name": name, "version": version, "license": "MIT"});
    for (k, v) in extra.as_object().unwrap() {
        manifest[k] = v.clone();
    }
    let mut entries = vec![TarEntry::file(
        "package/package.json",
        serde_json::to_string_pretty(&manifest).unwrap().as_bytes(),
    )];
    for (path, text) in files {
        entries.push(TarEntry::file(&format!("package/{path}"), text.as_bytes()));
    }
    Pkg {
        name,
        version,
        manifest,
        files: entries,
    }
}

fn tarball_path(name: &str, version: &str) -> String {
    let base = name.rsplit('/').next().unwrap();
    format!("/{name}/-/{base}-{version}.tgz")
}

fn packages() -> Vec<Pkg> {
    vec![
        pkg(
            "greeting",
            "1.0.0",
            json!({"dependencies": {"wordlist": "^1.0.0"}}),
            &[(
                "index.js",
                "const { WORDS } = require('wordlist');\nexports.greet = (n) => `${WORDS[0]}, ${n}`;\n",
            )],
        ),
        pkg(
            "wordlist",
            "1.0.0",
            json!({}),
            &[("index.js", "exports.WORDS = ['hello'];\n")],
        ),
        pkg(
            "wordlist",
            "2.0.0",
            json!({}),
            &[("index.js", "exports.WORDS = ['hi'];\n")],
        ),
        pkg(
            "@acme/shout",
            "1.0.0",
            json!({"license": "Apache-2.0"}),
            &[("index.js", "module.exports = (s) => s.toUpperCase();\n")],
        ),
        pkg(
            "@acme/native-linux-x64",
            "1.0.0",
            json!({"os": ["linux"], "cpu": ["x64"]}),
            &[("addon.js", "exports.platform = 'linux-x64';\n")],
        ),
        pkg(
            "@acme/native-darwin-arm64",
            "1.0.0",
            json!({"os": ["darwin"], "cpu": ["arm64"]}),
            &[("addon.js", "exports.platform = 'darwin-arm64';\n")],
        ),
        pkg(
            "testlib",
            "1.0.0",
            json!({}),
            &[("index.js", "exports.t = 1;\n")],
        ),
    ]
}

/// Serves `pkgs`, plus `overrides` (path → bytes) that replace what a path serves.
fn serve(
    pkgs: &[Pkg],
    overrides: &[(String, Vec<u8>)],
) -> (LocalRegistry, BTreeMap<String, String>) {
    let mut files = BTreeMap::new();
    let mut integrity = BTreeMap::new();
    for p in pkgs {
        let tgz = tarball(&p.files);
        integrity.insert(format!("{}@{}", p.name, p.version), sri512(&tgz));
        files.insert(tarball_path(p.name, p.version), tgz);
    }
    for (path, bytes) in overrides {
        files.insert(path.clone(), bytes.clone());
    }
    (LocalRegistry::serve(files), integrity)
}

/// A lockfile v3 for the function: greeting (with its own wordlist@1),
/// wordlist@2 on top, @acme/shout, two optional platform packages, a dev one.
fn lockfile(registry: &str, integrity: &BTreeMap<String, String>, pkgs: &[Pkg]) -> Value {
    let mut packages = serde_json::Map::new();
    packages.insert(
        "".into(),
        json!({
            "name": "api", "version": "1.0.0",
            "dependencies": {"greeting": "^1.0.0", "wordlist": "^2.0.0", "@acme/shout": "1.0.0"},
            "optionalDependencies": {"@acme/native-linux-x64": "1.0.0", "@acme/native-darwin-arm64": "1.0.0"},
            "devDependencies": {"testlib": "1.0.0"}
        }),
    );
    let place = |name: &str, version: &str| match (name, version) {
        ("wordlist", "1.0.0") => "node_modules/greeting/node_modules/wordlist".to_string(),
        _ => format!("node_modules/{name}"),
    };
    for p in pkgs {
        let key = format!("{}@{}", p.name, p.version);
        let mut entry = json!({
            "version": p.version,
            "resolved": format!("{}{}", registry.trim_end_matches('/'), tarball_path(p.name, p.version)),
            "integrity": integrity[&key],
            "license": p.manifest["license"],
        });
        for field in ["dependencies", "os", "cpu"] {
            if let Some(v) = p.manifest.get(field) {
                entry[field] = v.clone();
            }
        }
        if p.name.starts_with("@acme/native") {
            entry["optional"] = json!(true);
        }
        if p.name == "testlib" {
            entry["dev"] = json!(true);
        }
        packages.insert(place(p.name, p.version), entry);
    }
    json!({"name": "api", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": packages})
}

const HANDLER: &str = r#"import greeting from "greeting";
import shout from "@acme/shout";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const { WORDS } = require("wordlist");
const { platform } = require("@acme/native-linux-x64/addon.js");

export const handler = async (event, context) => {
  console.log("greeting", event.name);
  if (event.fail) throw new TypeError(`cannot greet ${event.name}`);
  return { message: shout(greeting.greet(event.name)), top: WORDS[0], platform, fn: context.functionName };
};
"#;

const PACKAGE_JSON: &str = r#"{
  "name": "api",
  "version": "1.0.0",
  "dependencies": {"greeting": "^1.0.0", "wordlist": "^2.0.0", "@acme/shout": "1.0.0"},
  "optionalDependencies": {"@acme/native-linux-x64": "1.0.0", "@acme/native-darwin-arm64": "1.0.0"},
  "devDependencies": {"testlib": "1.0.0"}
}
"#;

fn project(registry: &LocalRegistry, integrity: &BTreeMap<String, String>) -> Project {
    let p = Project::new();
    p.write(
        "slipway.toml",
        "[functions.api]\nsource = \"src\"\nhandler = \"index.handler\"\nruntime = \"nodejs22.x\"\narchitecture = \"x86_64\"\ntimeout = 5\n",
    );
    p.write("src/index.mjs", HANDLER);
    p.write("src/package.json", PACKAGE_JSON);
    p.write(
        "src/package-lock.json",
        serde_json::to_string_pretty(&lockfile(&registry.url, integrity, &packages())).unwrap(),
    );
    p
}

/// slipway with the npm registry settings pointed at `registry` only.
fn slipway(p: &Project, registry: &str) -> assert_cmd::Command {
    let mut cmd = p.slipway();
    cmd.env("npm_config_registry", registry)
        .env("NPM_CONFIG_USERCONFIG", "/dev/null")
        .env_remove("NPM_CONFIG_REGISTRY");
    cmd
}

fn build(p: &Project, registry: &str) -> std::process::Output {
    slipway(p, registry)
        .args(["--format", "json", "build"])
        .output()
        .unwrap()
}

fn zip_names(zip: &Path) -> BTreeSet<String> {
    let out = Process::new("python3")
        .args(["-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print('\\n'.join(z.namelist()))"])
        .arg(zip)
        .output()
        .unwrap();
    assert_ok(&out);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn node_function_builds_from_the_lockfile_and_invokes_with_the_machines_node() {
    let pkgs = packages();
    let (registry, integrity) = serve(&pkgs, &[]);
    let p = project(&registry, &integrity);
    let out = build(&p, &registry.url);
    assert_ok(&out);

    let names = zip_names(&p.join("dist/api/api.zip"));
    for want in [
        "index.mjs",
        "package.json",
        "node_modules/greeting/index.js",
        "node_modules/greeting/node_modules/wordlist/index.js",
        "node_modules/wordlist/index.js",
        "node_modules/@acme/shout/package.json",
        "node_modules/@acme/native-linux-x64/addon.js",
    ] {
        assert!(names.contains(want), "{want} missing from {names:?}");
    }
    assert!(
        !names.iter().any(|n| n.contains("testlib")),
        "dev dependency shipped"
    );
    assert!(
        !names.iter().any(|n| n.contains("darwin")),
        "foreign platform shipped"
    );

    let manifest: Value =
        serde_json::from_slice(&std::fs::read(p.join("dist/api/manifest.json")).unwrap()).unwrap();
    let deps = manifest["dependencies"].as_array().unwrap();
    let by_path: BTreeMap<&str, &Value> = deps
        .iter()
        .map(|d| (d["install_path"].as_str().unwrap(), d))
        .collect();
    assert_eq!(by_path.len(), 5, "{deps:?}");
    let nested = by_path["node_modules/greeting/node_modules/wordlist"];
    assert_eq!(
        (nested["version"].as_str(), nested["ecosystem"].as_str()),
        (Some("1.0.0"), Some("npm"))
    );
    assert_eq!(nested["integrity"], json!(integrity["wordlist@1.0.0"]));
    assert_eq!(nested["direct"], json!(false));
    let shout = by_path["node_modules/@acme/shout"];
    assert_eq!(shout["license"], json!("Apache-2.0"));
    assert_eq!(shout["direct"], json!(true));
    // The SBOM names npm packages by npm purls.
    let sbom = std::fs::read_to_string(p.join("dist/api/sbom.cdx.json")).unwrap();
    assert!(
        sbom.contains("pkg:npm/%40acme/shout@1.0.0"),
        "npm purl in the CycloneDX SBOM"
    );

    let out = slipway(&p, &registry.url)
        .args(["invoke", "api", "--event", "-"])
        .write_stdin(r#"{"name": "Ada"}"#)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        result,
        json!({"message": "HELLO, ADA", "top": "hi", "platform": "linux-x64", "fn": "api"})
    );
    let start = stderr.find("START RequestId: ").expect("START line");
    let printed = stderr
        .find("greeting Ada")
        .expect("the function's console output");
    let end = stderr.find("END RequestId: ").expect("END line");
    assert!(
        start < printed && printed < end && stderr.contains("REPORT RequestId: "),
        "{stderr}"
    );

    let out = slipway(&p, &registry.url)
        .args(["--format", "json", "invoke", "api", "--event", "-"])
        .write_stdin(r#"{"name": "Bob", "fail": true}"#)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_stdout(&out);
    assert_eq!(v["error_type"], json!("TypeError"));
    assert_eq!(v["payload"]["errorMessage"], json!("cannot greet Bob"));
}

#[test]
fn node_zip_is_byte_identical_across_two_checkouts_and_the_cache_serves_the_second() {
    let pkgs = packages();
    let (registry, integrity) = serve(&pkgs, &[]);
    let a = project(&registry, &integrity);
    let b = project(&registry, &integrity);
    // One cache for both: the second build downloads nothing.
    let cache = a.join(".shared-cache");
    for p in [&a, &b] {
        let out = slipway(p, &registry.url)
            .env("SLIPWAY_CACHE_DIR", &cache)
            .args(["--format", "json", "build"])
            .output()
            .unwrap();
        assert_ok(&out);
    }
    let hits = registry.hits.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        hits, 5,
        "five tarballs fetched once each, then served from the cache"
    );
    assert_eq!(
        std::fs::read(a.join("dist/api/api.zip")).unwrap(),
        std::fs::read(b.join("dist/api/api.zip")).unwrap(),
        "zips differ between checkouts"
    );
}

/// Builds `p` after `breakage`, expecting exit `code` and `needle` in the
/// error; the zip of the earlier good build must be untouched.
fn refused(p: &Project, registry: &str, code: i32, needles: &[&str]) {
    let before = std::fs::read(p.join("dist/api/api.zip")).unwrap();
    let out = slipway(p, registry)
        .env(
            "SLIPWAY_CACHE_DIR",
            p.join(&format!(".cache-{}", uuid_like())),
        )
        .args(["build"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "`{n}` not in:\n{stderr}");
    }
    assert_eq!(
        std::fs::read(p.join("dist/api/api.zip")).unwrap(),
        before,
        "previous build replaced"
    );
}

fn uuid_like() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

#[test]
fn unsafe_or_inconsistent_inputs_are_refused_naming_the_package_and_keep_the_previous_build() {
    let mut pkgs = packages();
    // Tarballs that must never be unpacked.
    let evil = |name: &'static str, entry: TarEntry| Pkg {
        name,
        version: "1.0.0",
        manifest: json!({"license": "MIT"}),
        files: vec![TarEntry::file("package/package.json", b"{}"), entry],
    };
    pkgs.push(evil(
        "linky",
        TarEntry::symlink("package/passwd", "/etc/passwd"),
    ));
    pkgs.push(evil("rooty", TarEntry::file("/tmp/slipway-escape", b"x")));
    pkgs.push(evil(
        "dotty",
        TarEntry::file("package/../../escape.js", b"x"),
    ));
    // The registry serves other bytes for wordlist@2.0.0 than the lockfile pins.
    let tampered = tarball(&[TarEntry::file(
        "package/index.js",
        b"exports.WORDS=['pwned'];",
    )]);
    let (registry, integrity) = serve(&pkgs, &[]);
    let (tampering, _) = serve(&pkgs, &[(tarball_path("wordlist", "2.0.0"), tampered)]);
    let p = project(&registry, &integrity);
    let out = build(&p, &registry.url);
    assert_ok(&out);
    let good_lock = lockfile(&registry.url, &integrity, &packages());
    let write_lock = |lock: &Value| {
        p.write(
            "src/package-lock.json",
            serde_json::to_string_pretty(lock).unwrap(),
        );
    };

    // Integrity mismatch: the lockfile points at the tampering registry.
    write_lock(&lockfile(&tampering.url, &integrity, &packages()));
    refused(&p, &tampering.url, 1, &["wordlist@2.0.0", "integrity"]);

    // A `resolved` URL outside the configured registry.
    let mut lock = good_lock.clone();
    lock["packages"]["node_modules/wordlist"]["resolved"] =
        json!("http://127.0.0.1:9/wordlist/-/wordlist-2.0.0.tgz");
    write_lock(&lock);
    refused(
        &p,
        &registry.url,
        2,
        &["wordlist@2.0.0", "outside the configured registries"],
    );

    // A lockfile path that leaves node_modules.
    let mut lock = good_lock.clone();
    let entry = lock["packages"]["node_modules/wordlist"].clone();
    lock["packages"]
        .as_object_mut()
        .unwrap()
        .remove("node_modules/wordlist");
    lock["packages"]["node_modules/../../wordlist"] = entry;
    write_lock(&lock);
    refused(
        &p,
        &registry.url,
        2,
        &["node_modules/../../wordlist", "escapes node_modules"],
    );

    // Links, absolute paths and `..` inside tarballs.
    for (name, what) in [
        ("linky", "symbolic links"),
        ("rooty", "absolute paths"),
        ("dotty", "`..`"),
    ] {
        let mut lock = good_lock.clone();
        lock["packages"][""]["dependencies"][name] = json!("1.0.0");
        lock["packages"][format!("node_modules/{name}")] = json!({
            "version": "1.0.0",
            "resolved": format!("{}{}", registry.url.trim_end_matches('/'), tarball_path(name, "1.0.0")),
            "integrity": integrity[&format!("{name}@1.0.0")],
        });
        write_lock(&lock);
        p.write(
            "src/package.json",
            PACKAGE_JSON.replace(
                "\"@acme/shout\": \"1.0.0\"}",
                &format!("\"@acme/shout\": \"1.0.0\", \"{name}\": \"1.0.0\"}}"),
            ),
        );
        refused(&p, &registry.url, 1, &[name, what]);
        assert!(!Path::new("/tmp/slipway-escape").exists());
    }

    // package.json and the lockfile disagree.
    write_lock(&good_lock);
    p.write(
        "src/package.json",
        PACKAGE_JSON.replace("\"wordlist\": \"^2.0.0\"", "\"wordlist\": \"^3.0.0\""),
    );
    refused(
        &p,
        &registry.url,
        2,
        &["wordlist@^3.0.0", "npm install --package-lock-only"],
    );

    // Dependencies without a lockfile.
    p.write("src/package.json", PACKAGE_JSON);
    std::fs::remove_file(p.join("src/package-lock.json")).unwrap();
    refused(
        &p,
        &registry.url,
        2,
        &["no package-lock.json", "npm install --package-lock-only"],
    );

    // Other package managers' lockfiles are refused by name.
    p.write("src/yarn.lock", "# yarn lockfile v1\n");
    refused(&p, &registry.url, 2, &["yarn", "package-lock.json"]);
}

/// The independent matcher: node with npm's own `semver` package over the
/// same OSV records and the built manifest.
fn independent_matches(db: &Path, manifest: &Path) -> BTreeSet<(String, String, String)> {
    let root = String::from_utf8(
        Process::new("npm")
            .args(["root", "-g"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let semver = format!("{}/npm/node_modules/semver", root.trim());
    let script = r#"
const semver = require(process.argv[1]);
const fs = require('fs'), path = require('path');
const deps = JSON.parse(fs.readFileSync(process.argv[3])).dependencies;
const out = [];
for (const file of fs.readdirSync(process.argv[2])) {
  const rec = JSON.parse(fs.readFileSync(path.join(process.argv[2], file)));
  if (rec.withdrawn) continue;
  for (const a of rec.affected) {
    if (a.package.ecosystem !== 'npm') continue;
    for (const d of deps) {
      if (d.ecosystem !== 'npm' || d.name !== a.package.name) continue;
      let hit = (a.versions || []).includes(d.version);
      for (const r of a.ranges || []) {
        if (r.type !== 'SEMVER') continue;
        // Pairs of introduced..fixed/last_affected as node-semver ranges.
        let lo = null;
        for (const e of r.events) {
          if (e.introduced !== undefined) { lo = e.introduced === '0' ? '0.0.0-0' : e.introduced; continue; }
          const hi = e.fixed !== undefined ? '<' + e.fixed : '<=' + e.last_affected;
          if (lo !== null && semver.satisfies(d.version, `>=${lo} ${hi}`, {includePrerelease: true})) hit = true;
          lo = null;
        }
        if (lo !== null && semver.satisfies(d.version, `>=${lo}`, {includePrerelease: true})) hit = true;
      }
      if (hit) out.push([d.name, d.version, rec.id]);
    }
  }
}
console.log(JSON.stringify(out));
"#;
    let out = Process::new("node")
        .args(["-e", script, &semver])
        .arg(db)
        .arg(manifest)
        .output()
        .unwrap();
    assert_ok(&out);
    let rows: Vec<(String, String, String)> = serde_json::from_slice(&out.stdout).unwrap();
    rows.into_iter().collect()
}

#[test]
fn scan_finds_exactly_the_npm_advisories_an_independent_matcher_finds() {
    let pkgs = packages();
    let (registry, integrity) = serve(&pkgs, &[]);
    let p = project(&registry, &integrity);
    let out = build(&p, &registry.url);
    assert_ok(&out);

    let records = [
        // wordlist@2.0.0 is affected, the nested 1.0.0 is not.
        json!({"id": "GHSA-wl01-0000-0001", "modified": "2024-05-01T00:00:00Z", "summary": "wordlist 2 leaks",
               "affected": [{"package": {"ecosystem": "npm", "name": "wordlist"},
                             "ranges": [{"type": "SEMVER", "events": [{"introduced": "2.0.0-beta.1"}, {"fixed": "2.0.1"}]}]}],
               "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}]}),
        // Both wordlists, through two branches.
        json!({"id": "GHSA-wl02-0000-0002", "modified": "2024-05-02T00:00:00Z",
               "affected": [{"package": {"ecosystem": "npm", "name": "wordlist"},
                             "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.1"}, {"introduced": "1.5.0"}, {"last_affected": "2.0.0"}]}]}]}),
        // A listed version of a scoped package.
        json!({"id": "GHSA-sh01-0000-0003", "modified": "2024-05-03T00:00:00Z",
               "affected": [{"package": {"ecosystem": "npm", "name": "@acme/shout"}, "versions": ["1.0.0"]}]}),
        // Prerelease of the installed version's fix: not affected.
        json!({"id": "GHSA-gr01-0000-0004", "modified": "2024-05-04T00:00:00Z",
               "affected": [{"package": {"ecosystem": "npm", "name": "greeting"},
                             "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.0-rc.1"}]}]}]}),
        // The same name in PyPI must not match npm packages.
        json!({"id": "PYSEC-2024-9999", "modified": "2024-05-05T00:00:00Z",
               "affected": [{"package": {"ecosystem": "PyPI", "name": "wordlist"},
                             "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}),
        // Withdrawn.
        json!({"id": "GHSA-wd01-0000-0005", "modified": "2024-05-06T00:00:00Z", "withdrawn": "2024-05-07T00:00:00Z",
               "affected": [{"package": {"ecosystem": "npm", "name": "greeting"}, "versions": ["1.0.0"]}]}),
    ];
    for r in &records {
        p.write(
            &format!("osv/{}.json", r["id"].as_str().unwrap()),
            serde_json::to_string(r).unwrap(),
        );
    }
    let out = slipway(&p, &registry.url)
        .args([
            "scan",
            "--format",
            "json",
            "--fail-on",
            "critical",
            "--db",
            "osv",
        ])
        .output()
        .unwrap();
    let report = json_stdout(&out);
    let ours: BTreeSet<(String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            f["records"].as_array().unwrap().iter().map(move |id| {
                (
                    f["package"].as_str().unwrap().to_string(),
                    f["version"].as_str().unwrap().to_string(),
                    id.as_str().unwrap().to_string(),
                )
            })
        })
        .collect();
    let theirs = independent_matches(&p.join("osv"), &p.join("dist/api/manifest.json"));
    assert_eq!(ours, theirs);
    assert_eq!(ours.len(), 4, "{ours:?}");
    let wl = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "GHSA-wl01-0000-0001")
        .unwrap();
    assert_eq!(wl["fixed_in"], json!("2.0.1"));
    assert_eq!(wl["ecosystem"], json!("npm"));
}

/// The Node.js example, built from the registry npm is configured for and
/// invoked with the machine's node. Live: runs with `SLIPWAY_LIVE_TESTS=1`.
#[test]
fn nodejs_example_builds_from_the_real_registry_and_invokes() {
    if std::env::var("SLIPWAY_LIVE_TESTS").as_deref() != Ok("1") {
        return;
    }
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/nodejs-greeting");
    let copies: Vec<Project> = (0..2)
        .map(|_| {
            let p = Project::new();
            for f in [
                "slipway.toml",
                "src/index.mjs",
                "src/package.json",
                "src/package-lock.json",
            ] {
                p.write(f, std::fs::read(example.join(f)).unwrap());
            }
            p
        })
        .collect();
    for p in &copies {
        let out = p.slipway().args(["build"]).output().unwrap();
        assert_ok(&out);
    }
    assert_eq!(
        std::fs::read(copies[0].join("dist/greeting/greeting.zip")).unwrap(),
        std::fs::read(copies[1].join("dist/greeting/greeting.zip")).unwrap(),
        "zips differ between checkouts"
    );
    let out = copies[0]
        .slipway()
        .args(["invoke", "greeting", "--event", "-"])
        .write_stdin(r#"{"name": "Ada", "in": "2h", "at": "2026-01-01T10:00:00Z"}"#)
        .output()
        .unwrap();
    assert_ok(&out);
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        result,
        json!({"greeting": "Hello, Ada!", "remindAt": "2026-01-01T12:00:00.000Z"})
    );
}

#[test]
fn db_update_from_an_osv_npm_export_feeds_the_scan() {
    let pkgs = packages();
    let (registry, integrity) = serve(&pkgs, &[]);
    let p = project(&registry, &integrity);
    assert!(build(&p, &registry.url).status.success());
    // An OSV export is a zip of one JSON record per file.
    let zip = Process::new("python3")
        .args([
            "-c",
            "import sys, zipfile, json\n\
             with zipfile.ZipFile(sys.argv[1], 'w') as z:\n\
             \x20   z.writestr('GHSA-sh02.json', json.dumps({'id': 'GHSA-sh02-0000-0001', 'modified': '2024-01-01T00:00:00Z',\n\
             \x20       'affected': [{'package': {'ecosystem': 'npm', 'name': '@acme/shout'},\n\
             \x20       'ranges': [{'type': 'SEMVER', 'events': [{'introduced': '0'}, {'fixed': '1.0.1'}]}]}]}))\n",
        ])
        .arg(p.join("all.zip"))
        .status()
        .unwrap();
    assert!(zip.success());
    let out = slipway(&p, &registry.url)
        .args(["db", "update", "--from", "all.zip"])
        .output()
        .unwrap();
    assert_ok(&out);
    let out = slipway(&p, &registry.url)
        .args(["scan", "--format", "json", "--fail-on", "critical"])
        .output()
        .unwrap();
    let report = json_stdout(&out);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["package"], json!("@acme/shout"));
    assert_eq!(findings[0]["fixed_in"], json!("1.0.1"));
    assert_eq!(report["db"]["kind"], json!("local_copy"));
}

/// A dependency-free Node.js function in `src/` with the given files.
fn plain_node(files: &[(&str, &str)], timeout: u32) -> Project {
    let p = Project::new();
    p.write(
        "slipway.toml",
        format!("[functions.f]\nsource = \"src\"\nhandler = \"app.handler\"\nruntime = \"nodejs20.x\"\ntimeout = {timeout}\n"),
    );
    for (path, text) in files {
        p.write(&format!("src/{path}"), text);
    }
    p
}

#[test]
fn commonjs_handlers_timeouts_and_missing_exports_behave_as_in_lambda() {
    let p = plain_node(
        &[
            ("package.json", r#"{"name": "f", "type": "commonjs"}"#),
            (
                "app.js",
                "exports.handler = async (event, context) => {\n  if (event.sleep) await new Promise((r) => setTimeout(r, event.sleep));\n  return { cjs: typeof require === 'function', left: context.getRemainingTimeInMillis() > 0 };\n};\n",
            ),
        ],
        1,
    );
    let out = p.slipway().args(["build"]).output().unwrap();
    assert_ok(&out);
    let out = p
        .slipway()
        .args(["invoke", "f", "--event", "-"])
        .write_stdin("{}")
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        json!({"cjs": true, "left": true})
    );
    let out = p
        .slipway()
        .args(["invoke", "f", "--event", "-"])
        .write_stdin(r#"{"sleep": 5000}"#)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("Task timed out after 1.00 seconds"),
        "{stderr}"
    );

    // A module without the named export: Lambda's Runtime.HandlerNotFound.
    p.write("src/app.js", "exports.other = () => 1;\n");
    assert!(
        p.slipway()
            .args(["build"])
            .output()
            .unwrap()
            .status
            .success()
    );
    let out = p
        .slipway()
        .args(["--format", "json", "invoke", "f", "--event", "-"])
        .write_stdin("{}")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = json_stdout(&out);
    assert_eq!(v["error_type"], json!("Runtime.HandlerNotFound"), "{v}");
}

#[test]
fn a_missing_handler_module_is_a_build_error_naming_the_candidates() {
    let p = plain_node(&[("main.js", "exports.handler = () => 1;\n")], 3);
    let out = p.slipway().args(["build"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("app.js, app.mjs, app.cjs"), "{stderr}");
}

#[test]
fn dependencies_layer_holds_nodejs_node_modules_and_invoke_resolves_through_node_path() {
    let pkgs = packages();
    let (registry, integrity) = serve(&pkgs, &[]);
    let p = project(&registry, &integrity);
    let toml = std::fs::read_to_string(p.join("slipway.toml")).unwrap();
    p.write("slipway.toml", format!("{toml}layer = true\n"));
    std::fs::remove_file(p.join("src/index.mjs")).unwrap();
    p.write(
        "src/index.js",
        "const greeting = require('greeting');\nexports.handler = async (e) => greeting.greet(e.name);\n",
    );
    let out = build(&p, &registry.url);
    assert_ok(&out);
    let function = zip_names(&p.join("dist/api/api.zip"));
    assert!(
        function.iter().all(|n| !n.contains("node_modules")),
        "{function:?}"
    );
    let layer = zip_names(&p.join("dist/api/api-layer.zip"));
    assert!(
        layer.contains("nodejs/node_modules/greeting/index.js"),
        "{layer:?}"
    );
    let out = slipway(&p, &registry.url)
        .args(["invoke", "api", "--event", "-"])
        .write_stdin(r#"{"name": "Lin"}"#)
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        json!("hello, Lin")
    );
}
