//! Hostile and unlucky inputs end to end: each is refused with a clear message
//! and the right exit code, never a panic, a silent change or a leaked secret.

use crate::support::{Project, assert_ok, build_json, json_stdout};

/// Runs `slipway ARGS…` in `p`, which must fail; (exit code, stderr).
fn fails(p: &Project, args: &[&str]) -> (i32, String) {
    let out = p.slipway().args(args).output().unwrap();
    assert!(
        !out.status.success(),
        "`slipway {}` unexpectedly succeeded:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout)
    );
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn credential_files_are_refused_with_their_own_reason_not_a_crash() {
    for (name, reason) in [
        (".pypirc", "credentials file"),
        (".npmrc", "credentials file"),
        ("server.PEM", "PEM key or certificate"),
        ("id_ed25519", "SSH private key"),
        (".ENV", "environment file"),
    ] {
        let p = Project::hello();
        p.write(&format!("src/{name}"), "x\n");
        let (code, err) = fails(&p, &["build"]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains(name) && err.contains(reason), "{name}: {err}");
    }
}

#[test]
fn secrets_in_content_are_found_in_pgp_and_aws_cli_output() {
    let key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    for (name, content) in [
        (
            "keys/signing.asc",
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQdGBGX\n-----END PGP PRIVATE KEY BLOCK-----\n"
                .to_string(),
        ),
        (
            "ci/access-key.json",
            format!(
                "{{\"AccessKey\": {{\"UserName\": \"ci\", \"AccessKeyId\": \"AKIAIOSFODNN7EXAMPLE\", \"SecretAccessKey\": \"{key}\"}}}}\n"
            ),
        ),
        ("conf/s3.cfg", format!("secret_access_key = {key}\n")),
    ] {
        let p = Project::hello();
        p.write(&format!("src/{name}"), content);
        let (code, err) = fails(&p, &["build"]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains(name), "{name}: {err}");
    }
}

#[test]
fn a_large_file_is_scanned_from_its_start_and_named_in_a_warning() {
    let p = Project::hello();
    let mut big = b"-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n".to_vec();
    big.resize(9 << 20, b'.');
    p.write("src/data/blob.bin", &big);
    let (code, err) = fails(&p, &["build"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("blob.bin"), "{err}");

    p.write("src/data/blob.bin", vec![b'.'; 9 << 20]);
    let report = build_json(&p, &[]);
    let warnings = report["functions"][0]["warnings"].to_string();
    assert!(
        warnings.contains("data/blob.bin") && warnings.contains("too large to scan fully"),
        "{report:#}"
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_is_an_input_error_naming_the_link() {
    let p = Project::hello();
    std::os::unix::fs::symlink(".", p.join("src/a")).unwrap();
    std::os::unix::fs::symlink(".", p.join("src/b")).unwrap();
    let (code, err) = fails(&p, &["build"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("src/a") && err.contains("symlink"), "{err}");
    assert!(!p.join("dist/hello/hello.zip").exists());
}

#[cfg(unix)]
#[test]
fn non_utf8_names_are_refused_by_name_not_collapsed() {
    use std::os::unix::ffi::OsStrExt;
    let p = Project::hello();
    for name in [&b"caf\xe9.py"[..], b"caf\xff.py"] {
        std::fs::write(p.join("src").join(std::ffi::OsStr::from_bytes(name)), "x").unwrap();
    }
    let (code, err) = fails(&p, &["build"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(r"caf\xe9.py"), "{err}");
}

#[test]
fn a_colon_in_a_file_name_is_packaged() {
    let p = Project::hello();
    p.write("src/a:b.py", "X = 1\n");
    build_json(&p, &[]);
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).namelist())",
        ])
        .arg(p.join("dist/hello/hello.zip"))
        .output()
        .unwrap();
    let names = String::from_utf8_lossy(&out.stdout);
    assert!(names.contains("'a:b.py'"), "{names}");
}

#[test]
fn a_source_that_is_a_file_is_called_a_file() {
    let p = Project::hello();
    p.write(
        "slipway.toml",
        "[functions.hello]\nruntime = \"python3.12\"\nsource = \"src/app.py\"\nhandler = \"app.handler\"\n",
    );
    let out = p
        .slipway()
        .args(["--format", "json", "build"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let report = json_stdout(&out);
    assert!(
        report.to_string().contains("is a file, not a folder"),
        "{report:#}"
    );
}

#[test]
fn the_handler_check_parses_the_module() {
    for module in [
        "from lib import handler\n",
        "from json import dumps as handler\n",
        "try:\n    import ujson\nexcept ImportError:\n    def handler(event, context):\n        return 1\n",
        "class handler:\n    def __init__(self, event, context):\n        pass\n",
        "def  handler (event, context) :\n    return 1\n",
    ] {
        let p = Project::hello();
        p.write("src/lib.py", "def handler(event, context):\n    return 1\n");
        p.write("src/app.py", module);
        build_json(&p, &["--force"]);
    }
    for (module, needle) in [
        (
            "import json\n\ndef handler(event, context)\n    return 1\n",
            "app.py:3:",
        ),
        (
            "from typing import Callable\nhandler: Callable\n",
            "only annotated",
        ),
        (
            "def main(event, context):\n    handler = 1\n",
            "does not define `handler`",
        ),
    ] {
        let p = Project::hello();
        p.write("src/app.py", module);
        let (code, err) = fails(&p, &["build"]);
        assert_eq!(code, 2, "{module:?}: {err}");
        assert!(err.contains(needle), "{module:?}: {err}");
    }
    // A module that binds its handler dynamically, with the check turned off.
    let p = Project::hello();
    p.write(
        "src/app.py",
        "globals()['handler'] = lambda event, context: 1\n",
    );
    assert_eq!(fails(&p, &["build"]).0, 2);
    p.write(
        "slipway.toml",
        "[defaults]\nruntime = \"python3.12\"\n\n[functions.hello]\nsource = \"src\"\nhandler = \"app.handler\"\nhandler_check = false\n",
    );
    build_json(&p, &[]);
}

/// `slipway keygen` and a signed build of the hello project; the allowed_signers path.
fn signed_hello() -> (Project, std::path::PathBuf) {
    let p = Project::hello();
    let key = p.join("keys/release");
    let keygen = p
        .slipway()
        .args(["keygen", "--identity", "release@example", "--out"])
        .arg(&key)
        .output()
        .unwrap();
    assert_ok(&keygen);
    let build = p
        .slipway()
        .args(["build", "--sign", "--key"])
        .arg(&key)
        .output()
        .unwrap();
    assert_ok(&build);
    let allowed = p.join("keys/allowed_signers");
    (p, allowed)
}

fn verify_with(p: &Project, allowed: &std::path::Path) -> (Option<i32>, String) {
    let out = p
        .slipway()
        .args(["--format", "json", "verify", "--trusted-keys"])
        .arg(allowed)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn verify_catches_a_handler_changed_in_the_manifest() {
    let (p, allowed) = signed_hello();
    assert_eq!(verify_with(&p, &allowed).0, Some(0));
    let path = p.join("dist/hello/manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    manifest["handler"] = "evil.handler".into();
    std::fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    let (code, out) = verify_with(&p, &allowed);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("evil.handler"), "{out}");
}

#[test]
fn verify_honours_valid_before_and_refuses_malformed_options() {
    let (p, allowed) = signed_hello();
    let line = std::fs::read_to_string(&allowed).unwrap();
    let with_option =
        |option: &str| line.replacen(" namespaces=", &format!(" {option},namespaces="), 1);
    std::fs::write(&allowed, with_option("valid-before=\"20200101Z\"")).unwrap();
    let (code, out) = verify_with(&p, &allowed);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("expired"), "{out}");
    std::fs::write(&allowed, with_option("valid-after=\"20200101Z\"")).unwrap();
    assert_eq!(verify_with(&p, &allowed).0, Some(0));
    std::fs::write(&allowed, with_option("valid-after=\"yesterday\"")).unwrap();
    assert_eq!(verify_with(&p, &allowed).0, Some(2));
}

#[test]
fn no_log_level_prints_credentials() {
    let p = Project::hello();
    build_json(&p, &[]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url_secret = "urlPassw0rdXYZ";
    let env_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let out = p
        .slipway()
        .env("SLIPWAY_LOG", "trace")
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", env_secret)
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .args([
            "verify",
            "--deployed",
            "--region",
            "us-east-1",
            "--endpoint-url",
        ])
        .arg(format!("http://admin:{url_secret}@127.0.0.1:{port}"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The connection pool's trace lines, which print the endpoint's
    // authority, are there: the check below is not vacuous.
    assert!(
        stderr.contains("TRACE") && stderr.contains(&format!("@127.0.0.1:{port}")),
        "{stderr}"
    );
    assert!(!stderr.contains(url_secret), "{stderr}");
    assert!(!stderr.contains(env_secret), "{stderr}");
}

#[test]
fn configuration_and_flags_are_checked_up_front() {
    let p = Project::hello();
    let out = p
        .slipway()
        .env("SOURCE_DATE_EPOCH", "4354819200")
        .arg("build")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("SOURCE_DATE_EPOCH") && err.contains("2107"),
        "{err}"
    );
    assert!(!p.join("dist/hello/hello.zip").exists());

    // A `file://` --index-url: messages.rs pins that message.
    let (code, err) = fails(&p, &["verify", "--deployed", "--endpoint-url", "not a url"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--endpoint-url") && !err.contains("{ "),
        "{err}"
    );

    let toml = std::fs::read_to_string(p.join("slipway.toml")).unwrap();
    p.write(
        "slipway.toml",
        format!("{toml}\n[python]\nindex_url = \"ftp://mirror.example/simple\"\n"),
    );
    let (code, err) = fails(&p, &["build"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("python.index_url") && err.contains("slipway.toml:9"),
        "{err}"
    );
}

#[test]
fn an_event_over_six_megabytes_is_refused_as_lambda_does() {
    let p = Project::hello();
    build_json(&p, &[]);
    let mut event = b"{\"data\": \"".to_vec();
    event.resize(6 * 1024 * 1024 + 10, b'x');
    event.extend_from_slice(b"\"}");
    p.write("big.json", &event);
    let (code, err) = fails(&p, &["invoke", "hello", "--event", "big.json"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("at most 6291456 bytes"), "{err}");
}

#[test]
fn a_wheel_whose_file_name_and_metadata_disagree_is_refused() {
    use slipway_python::testing::{IndexFile, LocalIndex, WheelSpec};
    let index = LocalIndex::start();
    // The index lists `tinylib`, but the wheel inside says it is `evil` 9.9.
    let inner =
        WheelSpec::new("evil", "9.9", "py3-none-any").file("tinylib/__init__.py", "X = 1\n");
    let listed = WheelSpec::new("tinylib", "1.0", "py3-none-any");
    index.add(IndexFile {
        filename: listed.filename(),
        bytes: inner.build(),
        yanked: false,
        requires_python: None,
        advertised_sha256: None,
        metadata: Some(listed.metadata()),
        advertised_metadata_sha256: None,
    });
    let p = Project::hello();
    p.write("requirements.txt", "tinylib==1.0\n");
    p.write(
        "slipway.toml",
        format!(
            "[python]\nindex_url = \"{}\"\n\n[functions.hello]\nsource = \"src\"\nhandler = \"app.handler\"\nruntime = \"python3.12\"\nrequirements = \"requirements.txt\"\n",
            index.url()
        ),
    );
    let (code, err) = fails(&p, &["build"]);
    // A broken wheel is a failed check (as a RECORD hash mismatch is), not a crash.
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("tinylib-1.0-py3-none-any.whl") && err.contains("`evil`"),
        "{err}"
    );
    assert!(!p.join("dist/hello/manifest.json").exists());
}

#[test]
fn a_missing_profile_is_named_not_reported_as_instance_metadata() {
    let p = Project::hello();
    build_json(&p, &[]);
    p.write("aws/config", "[profile deployer]\nregion = eu-west-1\n");
    p.write(
        "aws/credentials",
        "[deployer]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = example\n",
    );
    let run = |profile: &str| {
        p.slipway()
            .env("AWS_CONFIG_FILE", p.join("aws/config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", p.join("aws/credentials"))
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            // Nothing answers here: a profile that exists gets as far as the call.
            .args([
                "verify",
                "--deployed",
                "--endpoint-url",
                "http://127.0.0.1:9",
            ])
            .args(["--profile", profile])
            .output()
            .unwrap()
    };
    // A misspelt profile's message (named, not an instance-metadata
    // failure) is pinned in messages.rs with this same setup.
    // The profile that exists passes the check and its region and keys are
    // used: the run gets as far as calling the (closed) endpoint.
    let out = run("deployer");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        !err.contains("AWS profile") && err.contains("GetFunction failed"),
        "{err}"
    );
}
