//! slipway's tree against `npm ci` itself, on lockfiles npm writes from the
//! registry npm is configured for. Live: runs with `SLIPWAY_LIVE_TESTS=1`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use slipway_node::{Cache, Cpu, Environment, Request};
use slipway_package::EntryData;

fn live() -> bool {
    std::env::var("SLIPWAY_LIVE_TESTS").is_ok_and(|v| v == "1")
}

fn npm(dir: &Path, args: &[&str]) {
    let out = Command::new("npm")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("npm runs");
    assert!(
        out.status.success(),
        "npm {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Files under node_modules as npm left them: path → (executable, bytes).
/// npm's own bookkeeping (`.package-lock.json`) and `.bin` links are not
/// package content; slipway writes neither (a zip carries no symlinks).
fn npm_tree(root: &Path) -> BTreeMap<String, (bool, Vec<u8>)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = BTreeMap::new();
    let base = root.join("node_modules");
    let mut stack = vec![base.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let ft = e.file_type().unwrap();
            if rel == "node_modules/.package-lock.json" || rel.ends_with("/.bin") {
                continue;
            }
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() {
                let mode = e.metadata().unwrap().permissions().mode();
                out.insert(rel, (mode & 0o111 != 0, std::fs::read(&p).unwrap()));
            } else {
                panic!("npm wrote a non-file {rel}");
            }
        }
    }
    out
}

fn check(label: &str, package_json: &str, expect_some: &[&str]) {
    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join("package.json"), package_json).unwrap();
    npm(
        project.path(),
        &[
            "install",
            "--package-lock-only",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
        ],
    );
    let cache = tempfile::tempdir().unwrap();
    for (cpu, npm_cpu) in [(Cpu::X64, "x64"), (Cpu::Arm64, "arm64")] {
        let copy = tempfile::tempdir().unwrap();
        for f in ["package.json", "package-lock.json"] {
            std::fs::copy(project.path().join(f), copy.path().join(f)).unwrap();
        }
        npm(
            copy.path(),
            &[
                "ci",
                "--omit=dev",
                "--ignore-scripts",
                "--os=linux",
                &format!("--cpu={npm_cpu}"),
                "--no-audit",
                "--no-fund",
            ],
        );
        let theirs = npm_tree(copy.path());
        let request = Request {
            source: project.path().to_path_buf(),
            cpu,
            environment: Environment::capture(project.path()),
            registries: None,
            offline: false,
            cache: Cache::at(cache.path()),
            exclude_packages: vec![],
            accept_native: vec![],
        };
        let outcome = slipway_node::install(&request).unwrap();
        let ours: BTreeMap<String, (bool, Vec<u8>)> = outcome
            .entries
            .iter()
            .map(|e| {
                let EntryData::Bytes(b) = &e.data else {
                    panic!("bytes")
                };
                (e.path.clone(), (e.executable, b.clone()))
            })
            .collect();
        let only_theirs: Vec<_> = theirs
            .keys()
            .filter(|k| !ours.contains_key(*k))
            .take(5)
            .collect();
        let only_ours: Vec<_> = ours
            .keys()
            .filter(|k| !theirs.contains_key(*k))
            .take(5)
            .collect();
        assert!(
            only_theirs.is_empty() && only_ours.is_empty(),
            "{label} {npm_cpu}: only npm {only_theirs:?}, only slipway {only_ours:?}"
        );
        for (path, (exec, bytes)) in &theirs {
            let (our_exec, our_bytes) = &ours[path];
            assert!(bytes == our_bytes, "{label} {npm_cpu}: {path} differs");
            assert_eq!(exec, our_exec, "{label} {npm_cpu}: {path} executable bit");
        }
        for want in expect_some {
            let want = want.replace("{cpu}", npm_cpu);
            assert!(
                ours.keys().any(|k| k.starts_with(&want)),
                "{label} {npm_cpu}: expected {want} in the tree"
            );
        }
        assert!(
            outcome
                .distributions
                .iter()
                .all(|d| d.integrity.is_some() && !d.wheel_sha256.is_empty())
        );
    }
}

#[test]
fn esbuild_tree_matches_npm_ci() {
    if !live() {
        return;
    }
    check(
        "esbuild",
        r#"{"name":"f","version":"1.0.0","dependencies":{"esbuild":"0.24.0"}}"#,
        &["node_modules/@esbuild/linux-{cpu}/bin/esbuild"],
    );
}

#[test]
fn sharp_tree_matches_npm_ci() {
    if !live() {
        return;
    }
    check(
        "sharp",
        r#"{"name":"f","version":"1.0.0","dependencies":{"sharp":"0.33.5"}}"#,
        &[
            "node_modules/@img/sharp-linux-{cpu}/",
            "node_modules/@img/sharp-libvips-linux-{cpu}/",
        ],
    );
}

#[test]
fn nested_duplicate_versions_match_npm_ci() {
    if !live() {
        return;
    }
    check(
        "nested",
        r#"{"name":"f","version":"1.0.0","dependencies":{"debug":"2.6.9","ms":"2.1.3","express":"4.21.2"},"devDependencies":{"is-number":"7.0.0"}}"#,
        &[
            "node_modules/debug/node_modules/ms/package.json",
            "node_modules/express/",
        ],
    );
}

#[test]
fn scoped_packages_match_npm_ci() {
    if !live() {
        return;
    }
    check(
        "scoped",
        r#"{"name":"f","version":"1.0.0","dependencies":{"@sindresorhus/is":"4.6.0","@babel/code-frame":"7.26.2","@smithy/util-base64":"3.0.0"}}"#,
        &[
            "node_modules/@babel/helper-validator-identifier/",
            "node_modules/@sindresorhus/is/",
        ],
    );
}
