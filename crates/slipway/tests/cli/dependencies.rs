//! `slipway build` with Python dependencies, end to end, against a package
//! index served on 127.0.0.1 with wheels the tests write.

use std::process::Command as Process;

use slipway_python::testing::{LocalIndex, WheelSpec};

use crate::support::{Project, assert_ok, build_json};

fn index_with_app_dependencies() -> LocalIndex {
    let index = LocalIndex::start();
    index.add_wheel(
        &WheelSpec::new("greeting", "1.2.0", "py3-none-any")
            .file("greeting/__init__.py", "from wordlist import WORDS\n\ndef greet(name):\n    return f\"{WORDS[0]}, {name}\"\n")
            .requires("wordlist>=1"),
    );
    index.add_wheel(
        &WheelSpec::new("wordlist", "1.0", "py3-none-any")
            .file("wordlist/__init__.py", "WORDS = ['hello']\n"),
    );
    index.add_wheel(
        &WheelSpec::new("wordlist", "2.0", "py3-none-any")
            .file("wordlist/__init__.py", "WORDS = ['hi']\n"),
    );
    // Files that must never be chosen for python3.12 x86_64.
    index.add_wheel(&WheelSpec::new(
        "wordlist",
        "3.0",
        "cp312-cp312-musllinux_1_2_x86_64",
    ));
    index.add_wheel(&WheelSpec::new(
        "wordlist",
        "3.0",
        "cp312-cp312-manylinux_2_35_x86_64",
    ));
    index.add_wheel(&WheelSpec::new("runtime-sdk", "1.0", "py3-none-any"));
    index
}

fn project(index: &LocalIndex, extra: &str) -> Project {
    let p = Project::new();
    p.write(
        "slipway.toml",
        format!(
            "[python]\nindex_url = \"{}\"\n\n[functions.api]\nsource = \"src\"\nhandler = \"app.handler\"\nruntime = \"python3.12\"\nrequirements = \"requirements.txt\"\n{extra}",
            index.url()
        ),
    );
    p.write(
        "src/app.py",
        "from greeting import greet\n\ndef handler(event, context):\n    return greet(event['name'])\n",
    );
    p.write("requirements.txt", "greeting>=1\nruntime-sdk\n");
    p
}

fn manifest(p: &Project) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p.join("dist/api/manifest.json")).unwrap()).unwrap()
}

/// The zip's entry names, read by Python's zipfile (an independent reader).
fn zip_names(zip: &std::path::Path) -> Vec<String> {
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
fn build_installs_dependencies_into_the_zip_writes_the_lock_and_the_inventory() {
    let index = index_with_app_dependencies();
    let p = project(&index, "exclude_packages = [\"runtime-sdk\"]\n");
    let report = build_json(&p, &[]);
    assert_eq!(report["functions"][0]["dependencies"], 2, "{report}");

    let names = zip_names(&p.join("dist/api/api.zip"));
    for expected in [
        "app.py",
        "greeting/__init__.py",
        "wordlist/__init__.py",
        "wordlist-2.0.dist-info/METADATA",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    assert!(
        !names.iter().any(|n| n.starts_with("runtime_sdk")),
        "excluded package shipped: {names:?}"
    );

    let m = manifest(&p);
    let deps = m["dependencies"].as_array().unwrap();
    let greeting = deps.iter().find(|d| d["name"] == "greeting").unwrap();
    assert_eq!(greeting["direct"], true);
    assert_eq!(greeting["requires"], serde_json::json!(["wordlist"]));
    assert_eq!(greeting["installed_in"], "function");
    assert_eq!(greeting["license"], "MIT");
    let wordlist = deps.iter().find(|d| d["name"] == "wordlist").unwrap();
    assert_eq!(wordlist["version"], "2.0");
    assert_eq!(wordlist["wheel"], "wordlist-2.0-py3-none-any.whl");
    assert_eq!(wordlist["direct"], false);
    let entry_origin = m["artifact"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "wordlist/__init__.py")
        .unwrap()["origin"]
        .clone();
    assert_eq!(
        entry_origin,
        serde_json::json!({"kind": "dependency", "distribution": "wordlist"})
    );

    let lock = std::fs::read_to_string(p.join("dist/api/requirements.lock.txt")).unwrap();
    assert!(
        lock.contains("wordlist==2.0 \\\n    --hash=sha256:"),
        "{lock}"
    );
    assert!(lock.contains(&format!(
        "--hash=sha256:{}",
        wordlist["wheel_sha256"].as_str().unwrap()
    )));

    // The handler runs on the machine's Python with only the package on its path.
    let dir = tempfile::tempdir().unwrap();
    let unzip = Process::new("python3")
        .args([
            "-c",
            "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])",
        ])
        .arg(p.join("dist/api/api.zip"))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(unzip.success());
    let run = Process::new("python3")
        .args([
            "-S",
            "-c",
            "import app; print(app.handler({'name': 'Ada'}, None))",
        ])
        .env_clear()
        .env("PYTHONPATH", dir.path())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        "hi, Ada",
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn a_nothing_changed_rebuild_does_not_touch_the_index_and_the_same_inputs_give_the_same_bytes() {
    let index = index_with_app_dependencies();
    let p = project(&index, "");
    let first = build_json(&p, &[]);
    let requests = index.requests();
    let again = build_json(&p, &[]);
    assert_eq!(again["functions"][0]["status"], "up_to_date");
    assert_eq!(
        index.requests(),
        requests,
        "an unchanged rebuild must not ask the index"
    );

    // A forced rebuild from the (now cached) files writes the same bytes.
    let forced = build_json(&p, &["--force"]);
    assert_eq!(
        forced["functions"][0]["artifact"]["sha256"],
        first["functions"][0]["artifact"]["sha256"]
    );

    // Changing the requirements is noticed.
    p.write("requirements.txt", "greeting>=1\nwordlist<2\n");
    let changed = build_json(&p, &[]);
    assert_eq!(changed["functions"][0]["status"], "built");
    let m = manifest(&p);
    let wordlist = m["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "wordlist")
        .unwrap()
        .clone();
    assert_eq!(wordlist["version"], "1.0");
}

#[test]
fn layer_builds_put_dependencies_under_python_in_their_own_zip() {
    let index = index_with_app_dependencies();
    let p = project(&index, "layer = true\n");
    build_json(&p, &[]);
    let function = zip_names(&p.join("dist/api/api.zip"));
    assert!(
        function.iter().all(|n| !n.starts_with("greeting")),
        "{function:?}"
    );
    let layer = zip_names(&p.join("dist/api/api-layer.zip"));
    assert!(
        layer.iter().any(|n| n == "python/greeting/__init__.py"),
        "{layer:?}"
    );
    let m = manifest(&p);
    assert!(
        m["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["installed_in"] == "layer")
    );
}

#[test]
fn verbose_builds_explain_each_choice() {
    let index = index_with_app_dependencies();
    let p = project(&index, "");
    let out = p.slipway().args(["-v", "build"]).output().unwrap();
    assert_ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("wordlist 2.0: wordlist-2.0-py3-none-any.whl (tag py3-none-any)"),
        "{err}"
    );
    assert!(err.contains("not wordlist-3.0-cp312-cp312-manylinux_2_35_x86_64.whl: needs glibc 2.35; python3.12 has glibc 2.34"), "{err}");
    assert!(err.contains("musl"), "{err}");
}

#[test]
fn conflicts_and_bad_requirements_are_input_errors() {
    let index = index_with_app_dependencies();
    let p = project(&index, "");
    p.write("requirements.txt", "greeting>=1\nwordlist<1\n");
    let out = p.slipway().arg("build").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("greeting") && err.contains("wordlist"),
        "{err}"
    );

    p.write("requirements.txt", "greeting>=1\n\n-e ./local\n");
    let out = p.slipway().arg("build").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("requirements.txt:3") && err.contains("editable"),
        "{err}"
    );
}

#[test]
fn a_wheel_that_needs_a_newer_glibc_than_the_runtime_fails_the_build() {
    let Some((lib, _)) = slipway_python::testing::host_library_needing_glibc((2, 26), (2, 34))
    else {
        panic!("no shared object on this machine needs a glibc between 2.27 and 2.34");
    };
    let host = slipway_config::Architecture::host().unwrap();
    let index = LocalIndex::start();
    index.add_wheel(
        &WheelSpec::new(
            "native-ext",
            "1.0",
            &format!("cp311-cp311-manylinux2014_{}", host.machine()),
        )
        .file("native_ext/_speedups.so", std::fs::read(&lib).unwrap()),
    );
    let p = project(&index, &format!("architecture = \"{host}\"\n"));
    p.write(
        "slipway.toml",
        std::fs::read_to_string(p.join("slipway.toml"))
            .unwrap()
            .replace("python3.12", "python3.11"),
    );
    p.write("requirements.txt", "native-ext\n");
    let out = p.slipway().arg("build").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("native_ext/_speedups.so") && err.contains("needs GLIBC_2."),
        "{err}"
    );
    assert!(
        !p.join("dist/api/api.zip").exists(),
        "no artifact after a failed check"
    );
}

#[test]
fn the_index_comes_from_pip_index_url_and_credentials_from_netrc() {
    let index = index_with_app_dependencies();
    index.require_credentials("deploy", "t0ken");
    let p = project(&index, "");
    // No index in slipway.toml: the environment names it, ~/.netrc holds the credentials.
    p.write(
        "slipway.toml",
        std::fs::read_to_string(p.join("slipway.toml"))
            .unwrap()
            .replace(&format!("index_url = \"{}\"", index.url()), ""),
    );
    let without = p
        .slipway()
        .env("PIP_INDEX_URL", index.url())
        .env("NETRC", p.join("no-netrc"))
        .arg("build")
        .output()
        .unwrap();
    assert_eq!(without.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&without.stderr).contains("401"));

    p.write("netrc", "machine 127.0.0.1 login deploy password t0ken\n");
    let out = p
        .slipway()
        .env("PIP_INDEX_URL", index.url())
        .env("NETRC", p.join("netrc"))
        .args(["-v", "build"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("(from PIP_INDEX_URL)"), "{err}");
    assert!(!err.contains("t0ken"));
    let lock = std::fs::read_to_string(p.join("dist/api/requirements.lock.txt")).unwrap();
    assert!(lock.contains("greeting==1.2.0"), "{lock}");
}

#[test]
fn the_same_project_in_another_folder_has_the_same_input_hash() {
    let index = index_with_app_dependencies();
    let wheels = tempfile::tempdir().unwrap();
    slipway_python::testing::write_wheel(
        wheels.path(),
        &WheelSpec::new("local-extra", "1.0", "py3-none-any"),
    );
    let extra = |p: &Project| {
        std::fs::create_dir_all(p.join("wheels")).unwrap();
        for e in std::fs::read_dir(wheels.path()).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), p.join("wheels").join(e.file_name())).unwrap();
        }
        p.write(
            "requirements.txt",
            "--find-links wheels\ngreeting>=1\nlocal-extra\n",
        );
    };
    let a = project(&index, "");
    let b = project(&index, "");
    extra(&a);
    extra(&b);
    let ha = build_json(&a, &[])["functions"][0]["input_hash"].clone();
    let hb = build_json(&b, &[])["functions"][0]["input_hash"].clone();
    assert_eq!(ha, hb);
    assert_eq!(
        manifest(&a)["artifact"]["sha256"],
        manifest(&b)["artifact"]["sha256"]
    );
}

#[test]
fn index_flags_override_slipway_toml_and_offline_builds_from_the_cache_only() {
    let index = index_with_app_dependencies();
    let p = project(&index, "");
    // slipway.toml names an index nothing listens on; --index-url wins.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    p.write(
        "slipway.toml",
        std::fs::read_to_string(p.join("slipway.toml"))
            .unwrap()
            .replace(&index.url(), &format!("http://127.0.0.1:{dead}/simple/")),
    );
    let first = build_json(&p, &["--index-url", &index.url()]);
    assert_eq!(first["functions"][0]["dependencies"], 3, "{first}");

    // --offline: the same build again from the cache, without one request.
    let requests = index.requests();
    let offline = build_json(&p, &["--force", "--offline", "--index-url", &index.url()]);
    assert_eq!(
        index.requests(),
        requests,
        "--offline must not ask the index"
    );
    assert_eq!(
        offline["functions"][0]["artifact"]["sha256"],
        first["functions"][0]["artifact"]["sha256"]
    );

    // With an empty cache, --offline is an input error that says what is missing.
    let out = p
        .slipway()
        .env("SLIPWAY_CACHE_DIR", p.join("empty-cache"))
        .args(["build", "--force", "--offline", "--index-url", &index.url()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--offline"), "{err}");
    assert_eq!(index.requests(), requests);

    // Without the flag, slipway.toml's (dead) index is used and reported.
    let out = p.slipway().args(["build", "--force"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("127.0.0.1:{dead}")), "{err}");
}

#[test]
fn find_links_on_the_command_line_is_relative_to_the_working_folder() {
    let index = index_with_app_dependencies();
    let p = project(&index, "");
    slipway_python::testing::write_wheel(
        &p.join("vendor/wheels"),
        &WheelSpec::new("local-extra", "1.0", "py3-none-any"),
    );
    p.write("requirements.txt", "greeting>=1\nlocal-extra\n");
    let out = p
        .slipway()
        .current_dir(p.join("vendor"))
        .args([
            "--config",
            "../slipway.toml",
            "build",
            "--find-links",
            "wheels",
        ])
        .output()
        .unwrap();
    assert_ok(&out);
    let names = zip_names(&p.join("dist/api/api.zip"));
    assert!(
        names.iter().any(|n| n == "local_extra/__init__.py"),
        "{names:?}"
    );
}
