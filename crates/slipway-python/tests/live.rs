//! Live tests against the real package index, the one the machine's pip is
//! configured for (slipway names no index host). They run only with
//! `SLIPWAY_LIVE_TESTS=1` (CI sets it): they need the network, pyenv's
//! python3.11 and python3.12, and uv on PATH.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use slipway_config::{Architecture, Runtime};
use slipway_package::EntryData;
use slipway_python::{Cache, Outcome, Request, SourceSettings, Target};

fn live() -> bool {
    let on = std::env::var("SLIPWAY_LIVE_TESTS").is_ok_and(|v| v == "1");
    if !on {
        eprintln!("skipped: set SLIPWAY_LIVE_TESTS=1 to run the live index tests");
    }
    on
}

/// `../shared/bench/<name>`, found from the repository (CI lays shared/ beside the clone).
fn workload(name: &str) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for candidate in [
        repo.join("../shared/bench").join(name),
        PathBuf::from("/work/shared/bench").join(name),
    ] {
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!("bench workload {name} not found beside the repository (../shared/bench)");
}

/// A cache shared by the live tests of one run, so each wheel downloads once.
fn cache() -> Cache {
    let dir = std::env::temp_dir().join("slipway-live-test-cache");
    Cache::at(dir)
}

fn install(file: &Path, runtime: &str) -> Outcome {
    let request = Request {
        dependency_file: file.to_path_buf(),
        target: Target::for_runtime(Runtime::find(runtime).unwrap(), Architecture::X86_64).unwrap(),
        settings: SourceSettings::default(),
        // The machine's own index configuration, as a build would read it.
        environment: slipway_python::sources::Environment::capture(),
        offline: false,
        cache: cache(),
        exclude_packages: Vec::new(),
        python: None,
        build_sdists: false,
        refresh: false,
    };
    slipway_python::install(&request, &slipway_python::Silent)
        .unwrap_or_else(|e| panic!("{:?}", miette::Report::new(e)))
}

/// Writes the entries to `dir`, as unzipping the package would.
fn extract(outcome: &Outcome, dir: &Path) {
    for e in &outcome.entries {
        let EntryData::Precompressed(p) = &e.data else {
            panic!("dependency entries are precompressed")
        };
        let bytes = if p.deflated {
            let mut out = Vec::new();
            flate2::read::DeflateDecoder::new(&p.compressed[..])
                .read_to_end(&mut out)
                .unwrap();
            out
        } else {
            p.compressed.to_vec()
        };
        let path = dir.join(&e.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

fn import_with(minor: u32, dir: &Path, modules: &str) {
    let python = slipway_python::interpreter::discover(minor, None)
        .ok()
        .map(|i| i.path)
        .unwrap_or_else(|| panic!("python3.{minor} not found under pyenv's versions folder"));
    let out = Command::new(&python)
        .args(["-S", "-c", &format!("import {modules}; print('imported')")])
        .env_clear()
        .env("PYTHONPATH", dir)
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "import with {} failed:\n{}",
        python.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

const API_IMPORTS: &str = "numpy, yaml, pydantic_core, cryptography, orjson, requests";

#[test]
fn api_workload_imports_on_python312_and_python311() {
    if !live() {
        return;
    }
    for (runtime, minor) in [("python3.12", 12), ("python3.11", 11)] {
        let outcome = install(&workload("api.txt"), runtime);
        let dir = tempfile::tempdir().unwrap();
        extract(&outcome, dir.path());
        import_with(minor, dir.path(), API_IMPORTS);
        // cryptography 43 ships manylinux_2_28 and manylinux_2_17 wheels; glibc 2.26 needs the older one.
        let cryptography = &outcome
            .distributions
            .iter()
            .find(|d| d.name == "cryptography")
            .unwrap()
            .wheel;
        let expected = if minor == 11 {
            "manylinux_2_17_x86_64"
        } else {
            "manylinux_2_28_x86_64"
        };
        assert!(
            cryptography.contains(expected),
            "{cryptography} on {runtime}"
        );
    }
}

#[test]
fn resolution_of_api_ranges_agrees_with_uv() {
    if !live() {
        return;
    }
    let file = workload("api-ranges.txt");
    let ours = install(&file, "python3.12");
    let our_names: BTreeSet<String> = ours
        .distributions
        .iter()
        .map(|d| d.name.to_lowercase().replace('_', "-"))
        .collect();

    // The same index: the one slipway took from the machine's pip
    // configuration, which uv does not read.
    let index = ours
        .indexes
        .first()
        .expect("slipway resolved from an index");
    let out = Command::new("uv")
        .args([
            "pip",
            "compile",
            "--python-platform",
            "x86_64-manylinux_2_34",
            "--python-version",
            "3.12",
            "--no-header",
            "--no-annotate",
            "--quiet",
            "--index-url",
            index,
        ])
        .arg(&file)
        .output()
        .expect("uv on PATH (pip install uv)");
    assert!(
        out.status.success(),
        "uv failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let uv: Vec<(String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once("=="))
        .map(|(n, v)| (n.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    let uv_names: BTreeSet<String> = uv.iter().map(|(n, _)| n.clone()).collect();
    // Same names. Versions may differ only where both are valid: both
    // resolvers take the newest version that fits, so on the same index at
    // the same moment they agree unless a release lands between the two runs.
    assert_eq!(
        our_names, uv_names,
        "slipway and uv chose different distributions"
    );
    for (name, version) in &uv {
        let ours = ours
            .distributions
            .iter()
            .find(|d| &d.name.to_lowercase().replace('_', "-") == name)
            .unwrap();
        assert_eq!(
            &ours.version, version,
            "{name}: slipway {} vs uv {version}",
            ours.version
        );
    }
}

#[test]
fn the_elf_check_catches_cryptography_manylinux_2_28_placed_on_python311_by_hand() {
    if !live() {
        return;
    }
    // Resolve for python3.12, where the manylinux_2_28 wheel is the right choice…
    let dir = tempfile::tempdir().unwrap();
    let req = dir.path().join("requirements.txt");
    std::fs::write(&req, "cryptography==43.0.3\n").unwrap();
    let outcome = install(&req, "python3.12");
    let wheel = outcome
        .distributions
        .iter()
        .find(|d| d.name == "cryptography")
        .unwrap();
    assert!(
        wheel.wheel.contains("manylinux_2_28_x86_64"),
        "{}",
        wheel.wheel
    );
    // …then put that wheel on python3.11 (glibc 2.26): the ELF check refuses it.
    let path = cache().wheel_path(&wheel.wheel_sha256, &wheel.wheel);
    let installed = slipway_python::install::install_wheel(
        &path,
        &wheel.wheel,
        Some(&wheel.wheel_sha256),
        "cryptography",
        &cache(),
    )
    .unwrap();
    let py311 =
        Target::for_runtime(Runtime::find("python3.11").unwrap(), Architecture::X86_64).unwrap();
    let violations: Vec<String> = installed
        .shared_objects
        .iter()
        .flat_map(|so| slipway_python::elf::violations(so, &wheel.wheel, &py311))
        .collect();
    assert!(
        violations
            .iter()
            .any(|v| v.contains("cryptography/hazmat/bindings/_rust.abi3.so")
                && v.contains("needs GLIBC_2.2")),
        "{violations:?}"
    );
    let py312 =
        Target::for_runtime(Runtime::find("python3.12").unwrap(), Architecture::X86_64).unwrap();
    assert!(
        installed
            .shared_objects
            .iter()
            .all(|so| slipway_python::elf::violations(so, &wheel.wheel, &py312).is_empty())
    );
}
