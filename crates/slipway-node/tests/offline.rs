//! Installs against registries served on 127.0.0.1 with tarballs built
//! here: scoped registries from `.npmrc`, native addons, `exclude_packages`,
//! the cache and `--offline`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};
use slipway_node::testing::{LocalRegistry, TarEntry, sri512, tarball};
use slipway_node::{Cache, Cpu, Environment, NodeError, Request};

struct Fixture {
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
    _registries: Vec<LocalRegistry>,
}

/// A project whose packages come from two registries: `@corp/*` from its
/// own (named in the project's `.npmrc`), everything else from the main one.
fn fixture(packages: &[(&str, Vec<TarEntry>)]) -> Fixture {
    let mut main_files = BTreeMap::new();
    let mut corp_files = BTreeMap::new();
    let mut entries = Vec::new();
    for (name, files) in packages {
        let tgz = tarball(files);
        let base = name.rsplit('/').next().unwrap();
        let path = format!("/{name}/-/{base}-1.0.0.tgz");
        entries.push((name.to_string(), path.clone(), sri512(&tgz)));
        if name.starts_with("@corp/") {
            corp_files.insert(path, tgz);
        } else {
            main_files.insert(path, tgz);
        }
    }
    let main = LocalRegistry::serve(main_files);
    let corp = LocalRegistry::serve(corp_files);
    let dir = tempfile::tempdir().unwrap();
    let mut deps = serde_json::Map::new();
    let mut lock = serde_json::Map::new();
    for (name, _, integrity) in &entries {
        deps.insert(name.clone(), json!("1.0.0"));
        // No `resolved`: as npm writes with omit-lockfile-registry-resolved,
        // the URL comes from the package's registry.
        lock.insert(
            format!("node_modules/{name}"),
            json!({"version": "1.0.0", "integrity": integrity}),
        );
    }
    lock.insert("".into(), json!({"name": "f", "dependencies": deps}));
    std::fs::write(
        dir.path().join("package.json"),
        json!({"name": "f", "dependencies": deps}).to_string(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("package-lock.json"),
        json!({"lockfileVersion": 3, "packages": lock}).to_string(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join(".npmrc"),
        format!("registry={}\n@corp:registry={}\n", main.url, corp.url),
    )
    .unwrap();
    Fixture {
        dir,
        cache: tempfile::tempdir().unwrap(),
        _registries: vec![main, corp],
    }
}

fn request(f: &Fixture) -> Request {
    let mut environment = Environment::capture(f.dir.path());
    // Only the project's .npmrc: the machine's own settings stay out of the test.
    environment
        .layers
        .retain(|l| l.contains_key("@corp:registry"));
    Request {
        source: f.dir.path().to_path_buf(),
        cpu: Cpu::Arm64,
        environment,
        registries: None,
        offline: false,
        cache: Cache::at(f.cache.path()),
        exclude_packages: vec![],
        accept_native: vec![],
    }
}

fn manifest(name: &str) -> TarEntry {
    TarEntry::file(
        "package/package.json",
        json!({"name": name, "version": "1.0.0", "license": "ISC"})
            .to_string()
            .as_bytes(),
    )
}

fn paths(outcome: &slipway_node::Outcome) -> Vec<&str> {
    outcome.entries.iter().map(|e| e.path.as_str()).collect()
}

#[test]
fn scoped_registries_from_npmrc_the_cache_and_offline() {
    let f = fixture(&[
        (
            "plain",
            vec![manifest("plain"), TarEntry::file("package/index.js", b"1")],
        ),
        (
            "@corp/lib",
            vec![
                manifest("@corp/lib"),
                TarEntry::file("package/lib.js", b"2"),
            ],
        ),
    ]);
    let first = slipway_node::install(&request(&f)).unwrap();
    assert_eq!(first.files_downloaded, 2);
    assert_eq!(
        paths(&first),
        [
            "node_modules/@corp/lib/lib.js",
            "node_modules/@corp/lib/package.json",
            "node_modules/plain/index.js",
            "node_modules/plain/package.json"
        ]
    );
    let corp = &first.distributions[0];
    assert_eq!(
        (corp.name.as_str(), corp.license.as_deref()),
        ("@corp/lib", Some("ISC"))
    );
    assert!(
        corp.wheel_url
            .as_deref()
            .unwrap()
            .starts_with(&f._registries[1].url)
    );
    assert!(corp.direct);

    let offline = Request {
        offline: true,
        ..request(&f)
    };
    let again = slipway_node::install(&offline).unwrap();
    assert_eq!(again.files_downloaded, 0, "served from the cache");
    assert_eq!(paths(&again), paths(&first));

    let cold = Request {
        cache: Cache::at(f.dir.path().join("empty-cache")),
        ..offline
    };
    match slipway_node::install(&cold) {
        Err(NodeError::Offline { package }) => assert!(!package.is_empty()),
        other => panic!("expected an offline error, got {other:?}"),
    }
}

#[test]
fn a_damaged_cache_file_is_replaced_not_used() {
    let f = fixture(&[("plain", vec![manifest("plain")])]);
    slipway_node::install(&request(&f)).unwrap();
    for entry in walk(f.cache.path()) {
        if entry.extension().is_some_and(|e| e == "tgz") {
            std::fs::write(&entry, b"not the tarball").unwrap();
        }
    }
    let again = slipway_node::install(&request(&f)).unwrap();
    assert_eq!(again.files_downloaded, 1);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn native_addons_without_a_prebuilt_binary_are_refused_unless_accepted() {
    let addon = || {
        vec![
            manifest("addon"),
            TarEntry::file("package/binding.gyp", b"{}"),
            TarEntry::file("package/src/addon.cc", b"//"),
        ]
    };
    let f = fixture(&[("addon", addon())]);
    let e = slipway_node::install(&request(&f)).unwrap_err();
    assert!(
        matches!(&e, NodeError::NativeAddon { package, .. } if package == "addon"),
        "{e}"
    );
    let accepted = Request {
        accept_native: vec!["addon".into()],
        ..request(&f)
    };
    assert!(slipway_node::install(&accepted).is_ok());

    let mut prebuilt = addon();
    prebuilt.push(TarEntry::file(
        "package/prebuilds/linux-arm64/addon.node",
        b"\x7fELF",
    ));
    let f = fixture(&[("addon", prebuilt)]);
    assert!(slipway_node::install(&request(&f)).is_ok());
}

#[test]
fn exclude_packages_leaves_out_the_runtime_provided_aws_sdk() {
    let f = fixture(&[
        ("@aws-sdk/client-s3", vec![manifest("@aws-sdk/client-s3")]),
        ("@aws-sdk/util", vec![manifest("@aws-sdk/util")]),
        ("plain", vec![manifest("plain")]),
    ]);
    let r = Request {
        exclude_packages: vec!["@aws-sdk/*".into()],
        ..request(&f)
    };
    let outcome = slipway_node::install(&r).unwrap();
    let names: Vec<&str> = outcome
        .distributions
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(names, ["plain"]);
    assert!(paths(&outcome).iter().all(|p| !p.contains("aws-sdk")));
    let fp = |r: &Request| slipway_node::fingerprint(r).unwrap();
    assert_ne!(
        fp(&r),
        fp(&request(&f)),
        "exclusions change the fingerprint"
    );
}

#[test]
fn lockfile_kinds() {
    let f = fixture(&[("plain", vec![manifest("plain")])]);
    let lock: Value =
        serde_json::from_slice(&std::fs::read(f.dir.path().join("package-lock.json")).unwrap())
            .unwrap();
    // npm-shrinkwrap.json is read like package-lock.json.
    std::fs::rename(
        f.dir.path().join("package-lock.json"),
        f.dir.path().join("npm-shrinkwrap.json"),
    )
    .unwrap();
    assert_eq!(
        slipway_node::install(&request(&f))
            .unwrap()
            .distributions
            .len(),
        1
    );
    // Lockfile v2 carries the same `packages` tree.
    let mut v2 = lock.clone();
    v2["lockfileVersion"] = json!(2);
    v2["dependencies"] = json!({"plain": {"version": "1.0.0"}});
    std::fs::write(f.dir.path().join("npm-shrinkwrap.json"), v2.to_string()).unwrap();
    assert_eq!(
        slipway_node::install(&request(&f))
            .unwrap()
            .distributions
            .len(),
        1
    );
    // pnpm's is refused, naming what to do.
    std::fs::remove_file(f.dir.path().join("npm-shrinkwrap.json")).unwrap();
    std::fs::write(
        f.dir.path().join("pnpm-lock.yaml"),
        "lockfileVersion: '9.0'\n",
    )
    .unwrap();
    let e = slipway_node::install(&request(&f)).unwrap_err();
    let help = miette::Diagnostic::help(&e).unwrap().to_string();
    assert!(e.to_string().contains("pnpm") && help.contains("npm install --package-lock-only"));
}
