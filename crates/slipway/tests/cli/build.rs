//! `slipway build` end to end: reproducible bytes, readers that agree, and
//! every bad input refused with its own message and exit code.

use std::path::Path;
use std::process::Command as Process;

use crate::support::{GIT_COMMIT_TIME, Project, assert_ok, build_json, git, json_stdout};

/// Runs a failing build and returns (exit code, stderr).
fn build_fails(p: &Project, args: &[&str]) -> (i32, String) {
    let out = p.slipway().arg("build").args(args).output().unwrap();
    assert!(!out.status.success(), "build unexpectedly succeeded");
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn sample_project() -> Project {
    let p = Project::hello();
    p.write(
        "src/lib/helpers.py",
        "def helper():\n    return 42\n".repeat(40),
    );
    p.write("src/data/config.json", "{\"a\": 1}\n");
    p.write("src/bin/run.sh", "#!/bin/sh\necho run\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            p.join("src/bin/run.sh"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
    }
    p.write("src/__pycache__/app.cpython-312.pyc", [0u8, 1, 2]);
    p.write("src/tests/test_app.py", "def test(): pass\n");
    p.write("src/.gitignore", "*.log\n");
    p.write("src/debug.log", "noise\n");
    p
}

#[test]
fn the_same_project_in_two_folders_builds_to_identical_bytes() {
    let a = sample_project();
    let b = sample_project();
    // Different umask, time zone and locale for the second run; the files of
    // the second tree also get other mtimes.
    for f in ["src/app.py", "src/data/config.json"] {
        let t = filetime::FileTime::from_unix_time(1_234_567_890, 0);
        filetime::set_file_mtime(b.join(f), t).unwrap();
    }
    build_json(&a, &[]);
    let out = b
        .slipway()
        .env("TZ", "Pacific/Kiritimati")
        .env("LANG", "tr_TR.UTF-8")
        .env("LC_ALL", "tr_TR.UTF-8")
        .args(["build"])
        .output()
        .unwrap();
    assert_ok(&out);
    let zip_a = std::fs::read(a.join("dist/hello/hello.zip")).unwrap();
    let zip_b = std::fs::read(b.join("dist/hello/hello.zip")).unwrap();
    assert_eq!(zip_a, zip_b, "zips differ between folders");
    let manifest_a = std::fs::read(a.join("dist/hello/manifest.json")).unwrap();
    let manifest_b = std::fs::read(b.join("dist/hello/manifest.json")).unwrap();
    assert_eq!(manifest_a, manifest_b, "manifests differ between folders");
}

#[test]
fn independent_readers_accept_the_zip_and_it_holds_exactly_the_selected_sources() {
    let p = sample_project();
    build_json(&p, &[]);
    let zip = p.join("dist/hello/hello.zip");
    let py = Process::new("python3")
        .args(["-m", "zipfile", "-t"])
        .arg(&zip)
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "python zipfile: {}",
        String::from_utf8_lossy(&py.stderr)
    );
    let unzip = Process::new("unzip").arg("-t").arg(&zip).output().unwrap();
    assert!(
        unzip.status.success(),
        "unzip -t: {}",
        String::from_utf8_lossy(&unzip.stdout)
    );

    // Extract with Python and compare with the sources byte for byte.
    let dest = p.join("extracted");
    let script = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nz.extractall(sys.argv[2])\nfor i in z.infolist():\n    print(i.filename, oct(i.external_attr >> 16), i.date_time, len(i.extra))\n";
    let listing = Process::new("python3")
        .args(["-c", script])
        .arg(&zip)
        .arg(&dest)
        .output()
        .unwrap();
    assert!(listing.status.success());
    let listing = String::from_utf8(listing.stdout).unwrap();
    let expected = [
        "app.py",
        "bin/run.sh",
        "data/config.json",
        "lib/helpers.py",
        "tests/test_app.py",
    ];
    let names: Vec<&str> = listing
        .lines()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        names, expected,
        "sorted, no caches, no ignored files, no directory entries"
    );
    for line in listing.lines() {
        assert!(
            line.contains("(1980, 1, 1, 0, 0, 0) 0"),
            "fixed time, no extra fields: {line}"
        );
    }
    assert!(listing.contains("bin/run.sh 0o100755"));
    assert!(listing.contains("app.py 0o100644"));
    for name in expected {
        assert_eq!(
            std::fs::read(dest.join(name)).unwrap(),
            std::fs::read(p.join("src").join(name)).unwrap(),
            "{name} differs"
        );
    }
}

#[test]
fn code_sha256_matches_openssl_and_sha256sums_checks() {
    let p = Project::hello();
    let v = build_json(&p, &[]);
    let zip = p.join("dist/hello/hello.zip");
    let openssl = Process::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl dgst -sha256 -binary '{}' | base64",
            zip.display()
        ))
        .output()
        .unwrap();
    let independent = String::from_utf8(openssl.stdout)
        .unwrap()
        .trim()
        .to_string();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p.join("dist/hello/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["artifact"]["code_sha256"], independent);
    assert_eq!(v["functions"][0]["artifact"]["code_sha256"], independent);
    assert_eq!(manifest["schema_version"], 1);
    assert_eq!(manifest["runtime"], "python3.12");
    assert_eq!(manifest["artifact"]["entries"][0]["path"], "app.py");
    let check = Process::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(p.join("dist/hello"))
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[test]
fn source_date_epoch_sets_the_entry_time() {
    let p = Project::hello();
    let out = p
        .slipway()
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args(["build"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let script = "import sys, zipfile\nprint(zipfile.ZipFile(sys.argv[1]).infolist()[0].date_time)";
    let t = Process::new("python3")
        .args(["-c", script])
        .arg(p.join("dist/hello/hello.zip"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&t.stdout).trim(),
        "(2023, 11, 14, 22, 13, 20)"
    );

    let out = p
        .slipway()
        .env("SOURCE_DATE_EPOCH", "yesterday")
        .args(["build"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SOURCE_DATE_EPOCH"));
}

#[test]
fn nothing_changed_rebuilds_are_skipped_and_changes_are_not() {
    let p = Project::hello();
    assert_eq!(build_json(&p, &[])["functions"][0]["status"], "built");
    assert_eq!(build_json(&p, &[])["functions"][0]["status"], "up_to_date");
    // Same content, new mtime: still up to date.
    filetime::set_file_mtime(p.join("src/app.py"), filetime::FileTime::now()).unwrap();
    assert_eq!(build_json(&p, &[])["functions"][0]["status"], "up_to_date");
    // New content: rebuilt, new hash.
    let before = std::fs::read(p.join("dist/hello/hello.zip")).unwrap();
    p.write("src/app.py", "def handler(event, context):\n    return 2\n");
    assert_eq!(build_json(&p, &[])["functions"][0]["status"], "built");
    assert_ne!(
        before,
        std::fs::read(p.join("dist/hello/hello.zip")).unwrap()
    );
    // A tampered output is noticed and rebuilt.
    std::fs::write(p.join("dist/hello/hello.zip"), b"garbage").unwrap();
    assert_eq!(build_json(&p, &[])["functions"][0]["status"], "built");
    // A configuration change rebuilds too.
    let cfg = std::fs::read_to_string(p.join("slipway.toml")).unwrap();
    p.write("slipway.toml", cfg.replace("python3.12", "python3.13"));
    assert_eq!(build_json(&p, &[])["functions"][0]["status"], "built");
    // --force always rebuilds.
    assert_eq!(
        build_json(&p, &["--force"])["functions"][0]["status"],
        "built"
    );
}

#[test]
fn a_failed_build_leaves_the_previous_complete_build_untouched() {
    let p = Project::hello();
    build_json(&p, &[]);
    let before = std::fs::read(p.join("dist/hello/hello.zip")).unwrap();
    p.write(
        "src/creds.ini",
        "[default]\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    );
    let (code, err) = build_fails(&p, &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("creds.ini") && err.contains("AWS secret access key"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(p.join("dist/hello/hello.zip")).unwrap(),
        before
    );
    let leftovers: Vec<_> = std::fs::read_dir(p.join("dist"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leftovers, ["hello"], "no staging folders left behind");
}

fn with_config(extra: &str) -> Project {
    let p = Project::hello();
    let cfg = std::fs::read_to_string(p.join("slipway.toml")).unwrap();
    p.write("slipway.toml", format!("{cfg}{extra}"));
    p
}

#[test]
fn bad_configuration_is_refused_with_key_and_line() {
    let cases = [
        ("memory = 64\n", "functions.hello.memory", ":7"),
        ("timeout = 901\n", "functions.hello.timeout", ":7"),
        (
            "role = \"arn:aws:iam::123456789012:user/bob\"\n",
            "not an IAM role ARN",
            ":7",
        ),
        ("architecture = \"sparc\"\n", "unknown architecture", ":7"),
        (
            "layers = [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\"]\n",
            "layers",
            ":7",
        ),
    ];
    for (extra, needle, line) in cases {
        let p = with_config(extra);
        let (code, err) = build_fails(&p, &[]);
        assert_eq!(code, 2, "{extra}");
        assert!(err.contains(needle), "{extra}: {err}");
        assert!(
            err.contains(&format!("slipway.toml{line}")),
            "{extra}: {err}"
        );
    }
    let p = with_config(&format!(
        "environment = {{ BIG = \"{}\" }}\n",
        "x".repeat(4100)
    ));
    let (code, err) = build_fails(&p, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("4 KB"), "{err}");
}

#[test]
fn missing_or_undefined_handlers_are_refused() {
    // A module without the handler: messages.rs pins that message.
    let p = Project::hello();
    std::fs::remove_file(p.join("src/app.py")).unwrap();
    p.write("src/main.py", "def handler(e, c): pass\n");
    let (code, err) = build_fails(&p, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("app.py is not in the package"), "{err}");
}

#[test]
fn secrets_are_refused_unless_included_explicitly() {
    let p = Project::hello();
    p.write("src/.env", "TOKEN=abc\n");
    let (code, err) = build_fails(&p, &[]);
    assert_eq!(code, 2);
    assert!(err.contains(".env") && err.contains("include"), "{err}");

    let p = Project::hello();
    p.write(
        "src/keys/deploy.txt",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\n",
    );
    let (_, err) = build_fails(&p, &[]);
    assert!(
        err.contains("keys/deploy.txt") && err.contains("private key"),
        "{err}"
    );

    let p = with_config("include = [\"app.py\", \".env\"]\n");
    p.write("src/.env", "TOKEN=abc\n");
    let v = build_json(&p, &[]);
    assert_eq!(v["functions"][0]["artifact"]["entries"], 2);
}

#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_source_folder_is_refused() {
    let p = Project::hello();
    p.write("outside/secret.txt", "x");
    std::os::unix::fs::symlink(p.join("outside/secret.txt"), p.join("src/link.txt")).unwrap();
    let (code, err) = build_fails(&p, &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("link.txt") && err.contains("outside the source folder"),
        "{err}"
    );
}

#[test]
fn over_250_mb_unzipped_is_refused_naming_the_largest_parts() {
    let p = Project::hello();
    std::fs::create_dir_all(p.join("src/models")).unwrap();
    // A sparse file: large to stat, cheap to create. The check runs on the
    // sizes the walk found, before any file is read.
    let f = std::fs::File::create(p.join("src/models/weights.bin")).unwrap();
    f.set_len(260 * 1024 * 1024).unwrap();
    let (code, err) = build_fails(&p, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("250 MB") && err.contains("models"), "{err}");
}

#[test]
fn deprecated_runtimes_warn_and_name_the_successor() {
    let p = Project::hello();
    let cfg = std::fs::read_to_string(p.join("slipway.toml")).unwrap();
    p.write("slipway.toml", cfg.replace("python3.12", "python3.9"));
    let v = build_json(&p, &[]);
    let warning = v["functions"][0]["warnings"][0].as_str().unwrap();
    assert!(
        warning.contains("python3.9") && warning.contains("python3.13"),
        "{warning}"
    );
    let out = p.slipway().args(["build", "--force"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: hello: runtime python3.9"));
}

#[test]
fn errors_in_json_mode_are_json_too() {
    let p = with_config("memory = 1\n");
    let out = p
        .slipway()
        .args(["--format", "json", "build"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v = json_stdout(&out);
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["code"], "slipway::config::invalid");
}

#[test]
fn unknown_functions_and_missing_configs_are_usage_errors() {
    let p = Project::hello();
    let (code, err) = build_fails(&p, &["nope"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no function named `nope`") && err.contains("hello"),
        "{err}"
    );

    let empty = Project::new();
    let (code, err) = build_fails(&empty, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("slipway init"), "{err}");
}

#[test]
fn out_and_config_flags_work_from_any_folder() {
    let p = Project::hello();
    let elsewhere = tempfile::tempdir().unwrap();
    let out = crate::support::slipway(elsewhere.path())
        .arg("--config")
        .arg(p.join("slipway.toml"))
        .args(["build", "--out"])
        .arg(elsewhere.path().join("artifacts"))
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(Path::new(&elsewhere.path().join("artifacts/hello/hello.zip")).is_file());
}

#[test]
fn over_50_mb_zipped_warns_that_deploys_go_through_s3() {
    let p = Project::hello();
    // Incompressible bytes so the zip stays over 50 MB.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let data: Vec<u8> = (0..(51 * 1024 * 1024 / 8))
        .flat_map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()
        })
        .collect();
    p.write("src/model.bin", &data);
    let v = build_json(&p, &[]);
    let warnings = v["functions"][0]["warnings"].to_string();
    assert!(warnings.contains("50 MB") && warnings.contains("S3"), "{v}");
}

#[test]
fn evidence_time_is_the_commit_time_unless_source_date_epoch_is_set() {
    let p = Project::hello();
    let git = |args: &[&str]| git(p.path(), args);
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "first"]);
    build_json(&p, &[]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p.join("dist/hello/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["evidence_time"], GIT_COMMIT_TIME);
    assert_eq!(
        manifest["source_date_epoch"], 315_532_800,
        "the zip keeps the fixed 1980 timestamp"
    );
    assert_eq!(manifest["source_commit"].as_str().unwrap().len(), 40);

    let out = p
        .slipway()
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args(["build"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p.join("dist/hello/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["evidence_time"], 1_700_000_000);
}
