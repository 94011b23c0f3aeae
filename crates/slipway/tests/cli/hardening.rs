//! Hostile and unlucky inputs end to end: each is refused with a clear message
//! and the right exit code, never a panic, a silent change or a leaked secret.

use crate::support::{Project, build_json, json_stdout};

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
