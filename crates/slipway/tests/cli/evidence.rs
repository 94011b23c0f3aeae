//! Evidence end to end: `slipway build` writes SBOMs and provenance, `--sign`
//! and `slipway sign` sign them, `slipway verify` checks everything, and
//! independent tools (ssh-keygen, Python's cryptography, the official JSON
//! schemas) agree. Every bad input has its own message and exit code.

use std::path::{Path, PathBuf};
use std::process::{Command as Process, Output};

use crate::support::{Project, assert_ok, git, json_stdout};

use crate::sbom_schemas;

const DSSE_CHECK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../slipway-attest/tests/verify_dsse.py"
);
const PROVENANCE_CHECK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../slipway-attest/tests/check_provenance.py"
);

fn text(out: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(out: Output) -> Output {
    assert!(out.status.success(), "command failed:\n{}", text(&out));
    out
}

fn fails(out: Output, code: i32) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "unexpected exit code:\n{}",
        text(&out)
    );
    text(&out)
}

/// A project with a second function, so one function's signature can be
/// offered for the other's zip.
fn project() -> Project {
    let p = Project::hello();
    p.write(
        "slipway.toml",
        "[defaults]\nruntime = \"python3.12\"\n\n[functions.hello]\nsource = \"src\"\nhandler = \"app.handler\"\n\n[functions.other]\nsource = \"other\"\nhandler = \"main.handler\"\n",
    );
    p.write(
        "other/main.py",
        "def handler(event, context):\n    return 2\n",
    );
    p
}

/// `slipway keygen` into `keys/<name>`; returns the private key path.
fn keygen(p: &Project, name: &str, kind: &str) -> PathBuf {
    let key = p.join(&format!("keys/{name}"));
    let out = ok(p
        .slipway()
        .args([
            "keygen",
            "--type",
            kind,
            "--identity",
            "release@example",
            "--out",
        ])
        .arg(&key)
        .output()
        .unwrap());
    assert_no_private_key(&out, &key);
    key
}

fn allowed_signers(p: &Project) -> PathBuf {
    p.join("keys/allowed_signers")
}

fn dist(p: &Project, file: &str) -> PathBuf {
    p.join(&format!("dist/hello/{file}"))
}

/// The key's secret body appears nowhere in a command's output.
fn assert_no_private_key(out: &Output, key: &Path) {
    let secret = std::fs::read_to_string(key).unwrap();
    // The private key file also carries the public key, which may be printed.
    let public = std::fs::read_to_string(format!("{}.pub", key.display())).unwrap();
    let body: Vec<&str> = secret
        .lines()
        .filter(|l| !l.starts_with("-----") && !public.contains(*l))
        .collect();
    assert!(!body.is_empty());
    let all = text(out);
    assert!(
        !all.contains("PRIVATE KEY"),
        "output mentions a private key:\n{all}"
    );
    for line in body {
        assert!(!all.contains(line), "output contains private key material");
    }
}

fn verify_json(p: &Project, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
    let out = p
        .slipway()
        .args(["--format", "json", "verify"])
        .args(extra)
        .output()
        .unwrap();
    (out.status.code(), json_stdout(&out))
}

fn verify_trusted(p: &Project) -> (Option<i32>, serde_json::Value) {
    let keys = allowed_signers(p);
    verify_json(p, &["hello", "--trusted-keys", keys.to_str().unwrap()])
}

/// The checks of the first function with the given id.
fn checks<'a>(report: &'a serde_json::Value, id: &str) -> Vec<&'a serde_json::Value> {
    report["functions"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == id)
        .collect()
}

/// The message of the failed check `id`, asserting that it failed (others may
/// fail too: a changed zip also breaks its signature).
fn failed_message(report: &serde_json::Value, id: &str) -> String {
    let failed: Vec<&serde_json::Value> = report["functions"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "failed")
        .collect();
    assert!(
        failed.iter().any(|c| c["check"] == id),
        "expected {id} to fail: {report:#}"
    );
    failed.iter().find(|c| c["check"] == id).unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string()
}

fn signed_build(kind: &str) -> (Project, PathBuf) {
    let p = project();
    let key = keygen(&p, "release", kind);
    let out = ok(p
        .slipway()
        .args(["build", "--sign", "--key"])
        .arg(&key)
        .output()
        .unwrap());
    assert_no_private_key(&out, &key);
    (p, key)
}

fn ssh_keygen_verify(p: &Project, zip: &Path, sig: &Path) -> Output {
    Process::new("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(allowed_signers(p))
        .args(["-I", "release@example", "-n", "slipway", "-s"])
        .arg(sig)
        .stdin(std::fs::File::open(zip).unwrap())
        .output()
        .expect("ssh-keygen runs")
}

/// The signature files of `hello`, to show a refused command left them alone.
fn signatures(p: &Project) -> Vec<Vec<u8>> {
    ["hello.zip.sig", "provenance.dsse.json"]
        .iter()
        .map(|f| std::fs::read(dist(p, f)).unwrap())
        .collect()
}

fn flip_byte(path: &Path, at: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn signed_builds_verify_with_slipway_ssh_keygen_and_cryptography() {
    for kind in ["ed25519", "ecdsa-p256"] {
        let (p, key) = signed_build(kind);
        for file in [
            "sbom.cdx.json",
            "sbom.spdx.json",
            "provenance.intoto.json",
            "provenance.dsse.json",
            "hello.zip.sig",
        ] {
            assert!(dist(&p, file).is_file(), "{file} missing");
        }
        // No private key in dist/.
        let secret = std::fs::read_to_string(&key).unwrap();
        let secret_line = secret.lines().nth(1).unwrap();
        for entry in std::fs::read_dir(p.join("dist/hello")).unwrap() {
            let content = std::fs::read(entry.unwrap().path()).unwrap();
            let content = String::from_utf8_lossy(&content);
            assert!(!content.contains("PRIVATE KEY") && !content.contains(secret_line));
        }

        let (code, report) = verify_trusted(&p);
        assert_eq!(code, Some(0), "{report:#}");
        assert_eq!(report["ok"], true);
        for id in [
            "artifact",
            "entries",
            "sha256sums",
            "sbom_cyclonedx",
            "sbom_spdx",
            "provenance",
            "dsse",
            "sshsig",
        ] {
            let found = checks(&report, id);
            assert!(
                !found.is_empty() && found.iter().all(|c| c["status"] == "passed"),
                "{id}: {report:#}"
            );
        }

        let zip = dist(&p, "hello.zip");
        let sig = dist(&p, "hello.zip.sig");
        let accepted = ssh_keygen_verify(&p, &zip, &sig);
        assert!(
            accepted.status.success(),
            "{kind}: ssh-keygen rejected:\n{}",
            text(&accepted)
        );

        let python = Process::new("python3")
            .arg(DSSE_CHECK)
            .arg(dist(&p, "provenance.dsse.json"))
            .arg(format!("{}.pub", key.display()))
            .output()
            .unwrap();
        assert!(
            python.status.success(),
            "{kind}: cryptography rejected the envelope:\n{}",
            text(&python)
        );

        // One byte of the zip changes: ssh-keygen and slipway both refuse.
        let len = std::fs::metadata(&zip).unwrap().len() as usize;
        flip_byte(&zip, len - 3);
        let rejected = ssh_keygen_verify(&p, &zip, &sig);
        assert!(
            !rejected.status.success(),
            "{kind}: ssh-keygen accepted a changed zip"
        );
        let (code, report) = verify_trusted(&p);
        assert_eq!(code, Some(1));
        assert!(failed_message(&report, "sshsig").contains("the file changed after it was signed"));
    }
}

#[test]
fn built_sboms_validate_against_the_official_schemas() {
    let p = project();
    ok(p.slipway().arg("build").output().unwrap());
    let cdx = sbom_schemas::cyclonedx_validator();
    let spdx = sbom_schemas::spdx_validator();
    for function in ["hello", "other"] {
        let read = |f: &str| -> serde_json::Value {
            serde_json::from_slice(&std::fs::read(p.join(&format!("dist/{function}/{f}"))).unwrap())
                .unwrap()
        };
        sbom_schemas::assert_valid(
            &cdx,
            &read("sbom.cdx.json"),
            &format!("{function} CycloneDX"),
        );
        sbom_schemas::assert_valid(&spdx, &read("sbom.spdx.json"), &format!("{function} SPDX"));
        // The SPDX project's own validator, for what a schema cannot say.
        let tools = Process::new("pyspdxtools")
            .arg("-i")
            .arg(p.join(&format!("dist/{function}/sbom.spdx.json")))
            .output()
            .expect("pyspdxtools runs (pip install spdx-tools)");
        assert!(
            tools.status.success() && tools.stdout.is_empty() && tools.stderr.is_empty(),
            "{function}: pyspdxtools rejected the SPDX document:\n{}",
            text(&tools)
        );
    }
}

#[test]
fn builds_in_different_folders_give_identical_evidence() {
    let a = project();
    let b = project();
    // The same key in both, as CI hands it over: as it is, and base64-encoded
    // on one line (what a GitLab masked variable can hold).
    let key = keygen(&a, "release", "ed25519");
    let key_text = std::fs::read_to_string(&key).unwrap();
    let base64 = Process::new("base64")
        .arg("-w0")
        .arg(&key)
        .output()
        .unwrap()
        .stdout;
    let masked = String::from_utf8(base64).unwrap();
    for (p, value) in [(&a, &key_text), (&b, &masked)] {
        ok(p.slipway()
            .args(["build", "--sign"])
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .env("SLIPWAY_SIGNING_KEY", value)
            .output()
            .unwrap());
    }
    assert_ne!(a.path(), b.path());
    for file in [
        "hello.zip",
        "sbom.cdx.json",
        "sbom.spdx.json",
        "provenance.intoto.json",
        "provenance.dsse.json",
        "hello.zip.sig",
    ] {
        assert_eq!(
            std::fs::read(dist(&a, file)).unwrap(),
            std::fs::read(dist(&b, file)).unwrap(),
            "{file} differs between folders"
        );
    }
    let cdx: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dist(&a, "sbom.cdx.json")).unwrap()).unwrap();
    assert_eq!(cdx["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
}

#[test]
fn provenance_records_gitlab_ci_when_it_runs_there() {
    let p = project();
    ok(p.slipway()
        .arg("build")
        .env("CI_SERVER_URL", "https://gitlab.example")
        .env("CI_PROJECT_PATH", "team/orders")
        .env("CI_PIPELINE_ID", "77")
        .env("CI_JOB_ID", "1234")
        .env("CI_COMMIT_SHA", "0123abcd")
        .env("CI_COMMIT_REF_NAME", "main")
        .output()
        .unwrap());
    let statement: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dist(&p, "provenance.intoto.json")).unwrap())
            .unwrap();
    let predicate = &statement["predicate"];
    assert_eq!(
        predicate["runDetails"]["metadata"]["invocationId"],
        "https://gitlab.example/team/orders/-/jobs/1234"
    );
    assert_eq!(
        predicate["buildDefinition"]["internalParameters"]["gitlab"]["pipeline_id"],
        "77"
    );
    assert_eq!(
        predicate["buildDefinition"]["externalParameters"]["handler"],
        "app.handler"
    );
    let bindings = Process::new("python3")
        .arg(PROVENANCE_CHECK)
        .arg(dist(&p, "provenance.intoto.json"))
        .output()
        .unwrap();
    assert!(
        bindings.status.success(),
        "in-toto-attestation rejected it:\n{}",
        text(&bindings)
    );
    let zip_sha = slipway_sha(&dist(&p, "hello.zip"));
    assert_eq!(statement["subject"][0]["digest"]["sha256"], zip_sha);

    let local = project();
    ok(local.slipway().arg("build").output().unwrap());
    let statement: serde_json::Value = serde_json::from_slice(
        &std::fs::read(local.join("dist/hello/provenance.intoto.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        statement["predicate"]["buildDefinition"]["internalParameters"]["environment"],
        "local"
    );
}

fn slipway_sha(path: &Path) -> String {
    let out = Process::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn sign_reads_the_key_from_the_environment_and_verify_skips_signatures_without_trusted_keys() {
    let p = project();
    ok(p.slipway().arg("build").output().unwrap());
    let (code, report) = verify_json(&p, &["hello"]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(checks(&report, "dsse")[0]["status"], "skipped");

    let key = keygen(&p, "ci", "ecdsa-p256");
    // With trusted keys, an unsigned build fails: missing signatures are not passes.
    let (code, report) = verify_trusted(&p);
    assert_eq!(code, Some(1), "{report:#}");
    for (id, file) in [
        ("dsse", "provenance.dsse.json"),
        ("sshsig", "hello.zip.sig"),
    ] {
        let message = failed_message(&report, id);
        assert!(
            message.contains("cannot read") && message.contains(file),
            "{id}: {message}"
        );
    }
    let out = ok(p
        .slipway()
        .arg("sign")
        .env(
            "SLIPWAY_SIGNING_KEY",
            std::fs::read_to_string(&key).unwrap(),
        )
        .output()
        .unwrap());
    assert_no_private_key(&out, &key);
    let (code, report) = verify_trusted(&p);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(checks(&report, "dsse")[0]["status"], "passed");
}

#[test]
fn a_tampered_zip_fails_verification() {
    let (p, _) = signed_build("ed25519");
    let zip = dist(&p, "hello.zip");
    // The last bytes are the end-of-central-directory record: the entries
    // still read, only the file hash tells.
    let len = std::fs::metadata(&zip).unwrap().len() as usize;
    flip_byte(&zip, len - 1);
    let (code, report) = verify_trusted(&p);
    assert_eq!(code, Some(1));
    let message = failed_message(&report, "artifact");
    assert!(message.contains("but manifest.json records"), "{message}");
    assert!(message.contains("hello.zip has SHA-256"), "{message}");
    let human = fails(p.slipway().args(["verify", "hello"]).output().unwrap(), 1);
    assert!(
        human.contains("FAILED") && human.contains("verification failed"),
        "{human}"
    );
}

#[test]
fn a_tampered_entry_is_named() {
    let p = project();
    ok(p.slipway().arg("build").output().unwrap());
    // Rewrite the zip with Python's zipfile: same entries, one changed.
    let zip = dist(&p, "hello.zip");
    let script = r#"
import sys, zipfile
src = sys.argv[1]
entries = [(i, zipfile.ZipFile(src).read(i.filename)) for i in zipfile.ZipFile(src).infolist()]
with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as out:
    for info, data in entries:
        if info.filename == "app.py":
            data = data.replace(b"True", b"False")
        out.writestr(info, data)
"#;
    ok(Process::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&zip)
        .output()
        .unwrap());
    let (code, report) = verify_json(&p, &["hello"]);
    assert_eq!(code, Some(1));
    let message = failed_message(&report, "entries");
    assert!(message.contains("app.py has SHA-256"), "{message}");
}

#[test]
fn a_manifest_that_disagrees_fails() {
    let p = project();
    ok(p.slipway().arg("build").output().unwrap());
    let path = dist(&p, "manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let fake = "0".repeat(64);
    manifest["artifact"]["sha256"] = fake.clone().into();
    std::fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    let (code, report) = verify_json(&p, &["hello"]);
    assert_eq!(code, Some(1));
    assert!(failed_message(&report, "artifact").contains(&format!("manifest.json records {fake}")));
    assert!(failed_message(&report, "sha256sums").contains("disagrees with manifest.json"));
    assert!(failed_message(&report, "sbom_cyclonedx").contains("but manifest.json records"));
    assert!(failed_message(&report, "provenance").contains("but manifest.json records"));
}

#[test]
fn a_signature_from_another_key_is_untrusted() {
    let (p, _) = signed_build("ed25519");
    // Sign again with a key nobody trusts (its allowed_signers goes elsewhere).
    let other = p.join("elsewhere/other");
    ok(p.slipway()
        .args(["keygen", "--out"])
        .arg(&other)
        .output()
        .unwrap());
    ok(p.slipway()
        .args(["sign", "hello", "--key"])
        .arg(&other)
        .output()
        .unwrap());
    let (code, report) = verify_trusted(&p);
    assert_eq!(code, Some(1));
    assert!(failed_message(&report, "dsse").contains("which is not among the trusted keys"));
    assert!(failed_message(&report, "sshsig").contains("which is not among the trusted keys"));
}

#[test]
fn a_signature_over_other_content_does_not_match() {
    let (p, _) = signed_build("ed25519");
    // The envelope's payload swapped for another statement, signature kept.
    let path = dist(&p, "provenance.dsse.json");
    let mut envelope: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let other: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p.join("dist/other/provenance.dsse.json")).unwrap())
            .unwrap();
    envelope["payload"] = other["payload"].clone();
    std::fs::write(&path, serde_json::to_vec(&envelope).unwrap()).unwrap();
    // The other function's zip signature offered for this zip.
    std::fs::copy(
        p.join("dist/other/other.zip.sig"),
        dist(&p, "hello.zip.sig"),
    )
    .unwrap();
    let (code, report) = verify_trusted(&p);
    assert_eq!(code, Some(1));
    assert!(failed_message(&report, "dsse").contains("does not match its content"));
    assert!(failed_message(&report, "sshsig").contains("does not match"));
}

#[test]
fn a_truncated_or_malformed_envelope_is_reported() {
    let (p, _) = signed_build("ecdsa-p256");
    let path = dist(&p, "provenance.dsse.json");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let (code, report) = verify_trusted(&p);
    assert_eq!(code, Some(1));
    assert!(failed_message(&report, "dsse").contains("is not a DSSE envelope"));

    let mut envelope: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    envelope["payloadType"] = "text/plain".into();
    std::fs::write(&path, serde_json::to_vec(&envelope).unwrap()).unwrap();
    let (_, report) = verify_trusted(&p);
    assert!(failed_message(&report, "dsse").contains("expected `application/vnd.in-toto+json`"));

    envelope["payloadType"] = "application/vnd.in-toto+json".into();
    envelope["signatures"] = serde_json::json!([]);
    std::fs::write(&path, serde_json::to_vec(&envelope).unwrap()).unwrap();
    let (_, report) = verify_trusted(&p);
    assert!(failed_message(&report, "dsse").contains("has no signatures"));
}

#[test]
fn a_signature_for_another_namespace_is_refused() {
    let (p, key) = signed_build("ed25519");
    let zip = dist(&p, "hello.zip");
    let sig = dist(&p, "hello.zip.sig");
    std::fs::remove_file(&sig).unwrap();
    // The same trusted key, but a signature made for files in general.
    ok(Process::new("ssh-keygen")
        .args(["-Y", "sign", "-n", "file", "-f"])
        .arg(&key)
        .arg(&zip)
        .output()
        .unwrap());
    assert!(sig.is_file());
    let (code, report) = verify_trusted(&p);
    assert_eq!(code, Some(1));
    assert!(failed_message(&report, "sshsig").contains("namespace `file`, expected `slipway`"));
}

#[test]
fn unusable_keys_are_refused_and_nothing_is_overwritten() {
    let (p, _) = signed_build("ed25519");
    let before = signatures(&p);

    let missing = fails(
        p.slipway()
            .args(["sign", "--key", "keys/nope"])
            .output()
            .unwrap(),
        2,
    );
    assert!(missing.contains("cannot read the signing key"), "{missing}");

    let encrypted = p.join("keys/encrypted");
    ok(Process::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "a passphrase", "-f"])
        .arg(&encrypted)
        .output()
        .unwrap());
    let message = fails(
        p.slipway()
            .args(["sign", "--key"])
            .arg(&encrypted)
            .output()
            .unwrap(),
        2,
    );
    assert!(message.contains("encrypted with a passphrase"), "{message}");

    let rsa = p.join("keys/rsa");
    ok(Process::new("ssh-keygen")
        .args(["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f"])
        .arg(&rsa)
        .output()
        .unwrap());
    let message = fails(
        p.slipway()
            .args(["sign", "--key"])
            .arg(&rsa)
            .output()
            .unwrap(),
        2,
    );
    assert!(
        message.contains("slipway signs with Ed25519 or ECDSA P-256"),
        "{message}"
    );

    let message = fails(
        p.slipway()
            .args(["build", "--force", "--sign"])
            .env("SLIPWAY_SIGNING_KEY", "not a key")
            .output()
            .unwrap(),
        2,
    );
    assert!(
        message.contains("SLIPWAY_SIGNING_KEY is not a private key"),
        "{message}"
    );
    assert!(
        !message.contains("not a key"),
        "the variable's value is not echoed"
    );

    let message = fails(p.slipway().args(["sign"]).output().unwrap(), 2);
    assert!(message.contains("no signing key"), "{message}");

    assert_eq!(
        before,
        signatures(&p),
        "a refused signing left the signatures alone"
    );
    let (code, _) = verify_trusted(&p);
    assert_eq!(code, Some(0));
}

#[test]
fn sign_refuses_a_zip_that_changed_since_the_build() {
    let (p, key) = signed_build("ed25519");
    let before = signatures(&p);
    let zip = dist(&p, "hello.zip");
    let len = std::fs::metadata(&zip).unwrap().len() as usize;
    flip_byte(&zip, len - 1);
    let message = fails(
        p.slipway()
            .args(["sign", "hello", "--key"])
            .arg(&key)
            .output()
            .unwrap(),
        1,
    );
    assert!(message.contains("refusing to sign"), "{message}");
    assert!(message.contains("is not the"), "{message}");
    assert_eq!(
        signatures(&p),
        before,
        "a refused sign replaced the signatures"
    );
}

#[test]
fn sign_refuses_provenance_that_disagrees_is_malformed_or_missing() {
    let (p, key) = signed_build("ed25519");
    let before = signatures(&p);
    let sign = |code| {
        fails(
            p.slipway()
                .args(["sign", "hello", "--key"])
                .arg(&key)
                .output()
                .unwrap(),
            code,
        )
    };
    let path = dist(&p, "provenance.intoto.json");
    let mut statement: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(statement["subject"][0]["name"], "hello.zip");
    statement["subject"][0]["digest"]["sha256"] = "0".repeat(64).into();
    std::fs::write(&path, serde_json::to_vec_pretty(&statement).unwrap()).unwrap();
    let message = sign(1);
    assert!(
        message.contains("refusing to sign")
            && message.contains("does not name hello.zip with the SHA-256 manifest.json records"),
        "{message}"
    );

    std::fs::write(&path, b"{\"_type\": ").unwrap();
    let message = sign(1);
    assert!(
        message.contains("provenance.intoto.json is not JSON"),
        "{message}"
    );

    std::fs::remove_file(&path).unwrap();
    let message = sign(2);
    assert!(
        message.contains("cannot read") && message.contains("provenance.intoto.json"),
        "{message}"
    );
    assert_eq!(
        signatures(&p),
        before,
        "a refused sign replaced the signatures"
    );
}

#[test]
fn keygen_refuses_to_overwrite_and_writes_a_private_file() {
    let p = project();
    let key = keygen(&p, "k", "ed25519");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let allowed = std::fs::read_to_string(allowed_signers(&p)).unwrap();
    assert!(
        allowed.starts_with("release@example namespaces=\"slipway\" ssh-ed25519 "),
        "{allowed}"
    );
    let before = std::fs::read(&key).unwrap();
    let message = fails(
        p.slipway()
            .args(["keygen", "--out"])
            .arg(&key)
            .output()
            .unwrap(),
        2,
    );
    assert!(message.contains("already exists"), "{message}");
    assert_eq!(std::fs::read(&key).unwrap(), before);
}

#[test]
fn verify_without_a_build_fails_with_a_hint() {
    let p = project();
    let (code, report) = verify_json(&p, &["hello"]);
    assert_eq!(code, Some(1));
    assert!(failed_message(&report, "manifest").contains("cannot read"));
}

#[test]
fn the_source_commit_is_a_resolved_dependency() {
    let p = project();
    let git = |args: &[&str]| git(p.path(), args);
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "source"]);
    let head = git(&["rev-parse", "HEAD"]);
    ok(p.slipway().arg("build").output().unwrap());
    let statement: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dist(&p, "provenance.intoto.json")).unwrap())
            .unwrap();
    let resolved = &statement["predicate"]["buildDefinition"]["resolvedDependencies"][0];
    assert_eq!(resolved["name"], "source");
    assert_eq!(resolved["digest"]["gitCommit"], head.trim());
    let cdx: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dist(&p, "sbom.cdx.json")).unwrap()).unwrap();
    let properties = cdx["metadata"]["component"]["properties"]
        .as_array()
        .unwrap();
    assert!(
        properties
            .iter()
            .any(|p| p["name"] == "slipway:source_commit" && p["value"] == head.trim())
    );
}

#[test]
fn an_unusable_trusted_keys_file_is_an_input_error() {
    let (p, _) = signed_build("ed25519");
    p.write("keys/bad", "release@example not-a-key-at-all\n");
    let message = fails(
        p.slipway()
            .args(["verify", "--trusted-keys", "keys/bad"])
            .output()
            .unwrap(),
        2,
    );
    assert!(
        message.contains("keys/bad:1: not a public key or allowed_signers line"),
        "{message}"
    );
    let message = fails(
        p.slipway()
            .args(["verify", "--trusted-keys", "keys/missing"])
            .output()
            .unwrap(),
        2,
    );
    assert!(
        message.contains("cannot read the trusted keys"),
        "{message}"
    );
}

#[test]
fn an_sbom_edited_after_the_build_is_caught_through_the_signed_provenance() {
    let (p, _) = signed_build("ed25519");
    let path = dist(&p, "sbom.cdx.json");
    let mut sbom: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    sbom["components"] = serde_json::json!([]);
    std::fs::write(&path, serde_json::to_vec_pretty(&sbom).unwrap()).unwrap();
    let (code, report) = verify_trusted(&p);
    assert_eq!(code, Some(1));
    let message = failed_message(&report, "sbom_cyclonedx");
    assert!(
        message.contains("the SBOM changed after the build"),
        "{message}"
    );
    assert_eq!(checks(&report, "dsse")[0]["status"], "passed");
}

#[test]
fn a_key_generated_inside_the_source_folder_is_never_packaged() {
    let p = project();
    let key = p.join("src/slipway_signing_key");
    ok(p.slipway()
        .args(["keygen", "--out"])
        .arg(&key)
        .output()
        .unwrap());
    let message = fails(p.slipway().arg("build").output().unwrap(), 2);
    assert!(message.contains("looks like a secret"), "{message}");
    assert!(!p.join("dist/hello/hello.zip").exists());
}

mod with_dependencies {
    //! Evidence for functions with real dependencies, installed from a
    //! package index served on 127.0.0.1, with and without a layer.

    use slipway_python::testing::{LocalIndex, WheelSpec};

    use super::*;

    fn index() -> LocalIndex {
        let index = LocalIndex::start();
        index.add_wheel(
            &WheelSpec::new("greeting", "1.2.0", "py3-none-any").requires("word_list>=1"),
        );
        let mut words = WheelSpec::new("word_list", "2.0", "py3-none-any");
        words.license = Some("Apache 2.0".into());
        index.add_wheel(&words);
        index
    }

    fn project(index: &LocalIndex) -> Project {
        let p = Project::new();
        p.write(
            "slipway.toml",
            format!(
                "[python]\nindex_url = \"{}\"\n\n[defaults]\nruntime = \"python3.12\"\nrequirements = \"requirements.txt\"\n\n[functions.api]\nsource = \"src\"\nhandler = \"app.handler\"\n\n[functions.layered]\nsource = \"src\"\nhandler = \"app.handler\"\nlayer = true\n",
                index.url()
            ),
        );
        p.write(
            "src/app.py",
            "from greeting import greet\n\ndef handler(event, context):\n    return 1\n",
        );
        p.write("requirements.txt", "greeting>=1\n");
        p
    }

    fn read(p: &Project, path: &str) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p.join(path)).unwrap()).unwrap()
    }

    #[test]
    fn sboms_provenance_and_signatures_cover_the_dependencies_and_the_layer() {
        let index = index();
        let p = project(&index);
        let key = keygen(&p, "release", "ecdsa-p256");
        ok(p.slipway()
            .args(["build", "--sign", "--key"])
            .arg(&key)
            .output()
            .unwrap());

        // CycloneDX: components, graph, licenses, GitLab's input file.
        let cdx = read(&p, "dist/api/sbom.cdx.json");
        let purls: Vec<&str> = cdx["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["purl"].as_str().unwrap())
            .collect();
        assert_eq!(purls, ["pkg:pypi/greeting@1.2.0", "pkg:pypi/word-list@2.0"]);
        let manifest = read(&p, "dist/api/manifest.json");
        let words = manifest["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["version"] == "2.0")
            .unwrap()
            .clone();
        assert_eq!(
            cdx["components"][1]["hashes"][0]["content"],
            words["wheel_sha256"]
        );
        assert_eq!(
            cdx["components"][0]["licenses"],
            serde_json::json!([{ "license": { "id": "MIT" } }])
        );
        assert_eq!(
            cdx["components"][1]["licenses"],
            serde_json::json!([{ "license": { "name": "Apache 2.0" } }])
        );
        let deps = cdx["dependencies"].as_array().unwrap();
        assert_eq!(
            deps[0],
            serde_json::json!({ "ref": "function:api", "dependsOn": ["pkg:pypi/greeting@1.2.0"] })
        );
        assert!(deps.contains(&serde_json::json!({ "ref": "pkg:pypi/greeting@1.2.0", "dependsOn": ["pkg:pypi/word-list@2.0"] })));
        let input_file = cdx["metadata"]["properties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "gitlab:dependency_scanning:input_file:path")
            .unwrap()["value"]
            .clone();
        assert_eq!(input_file, "requirements.txt");

        // SPDX: the packages and DEPENDS_ON, and the SPDX tools accept it.
        let spdx = read(&p, "dist/api/sbom.spdx.json");
        let rels = spdx["relationships"].as_array().unwrap();
        assert!(
            rels.iter()
                .any(|r| r["spdxElementId"] == "SPDXRef-Package-function"
                    && r["relationshipType"] == "DEPENDS_ON"
                    && r["relatedSpdxElement"] == "SPDXRef-Package-pypi-greeting-1.2.0")
        );
        for function in ["api", "layered"] {
            let tools = Process::new("pyspdxtools")
                .arg("-i")
                .arg(p.join(&format!("dist/{function}/sbom.spdx.json")))
                .output()
                .unwrap();
            assert!(
                tools.status.success() && tools.stderr.is_empty(),
                "{}",
                text(&tools)
            );
            let bindings = Process::new("python3")
                .arg(PROVENANCE_CHECK)
                .arg(p.join(&format!("dist/{function}/provenance.intoto.json")))
                .output()
                .unwrap();
            assert!(bindings.status.success(), "{}", text(&bindings));
        }

        // Provenance: the lock file and every wheel with its digest.
        let statement = read(&p, "dist/api/provenance.intoto.json");
        let resolved = statement["predicate"]["buildDefinition"]["resolvedDependencies"]
            .as_array()
            .unwrap();
        let lock = std::fs::read(p.join("dist/api/requirements.lock.txt")).unwrap();
        assert!(resolved.iter().any(|r| r["name"] == "requirements.lock.txt"
            && r["digest"]["sha256"] == slipway_sha(&p.join("dist/api/requirements.lock.txt"))));
        assert!(!lock.is_empty());
        assert!(resolved.iter().any(|r| r["uri"] == "pkg:pypi/word-list@2.0"
            && r["digest"]["sha256"] == words["wheel_sha256"]));

        // The layered function: two subjects, two signatures, all verified,
        // and ssh-keygen accepts the layer's signature.
        let statement = read(&p, "dist/layered/provenance.intoto.json");
        let subjects: Vec<&str> = statement["subject"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(subjects, ["layered.zip", "layered-layer.zip"]);
        let accepted = ssh_keygen_verify(
            &p,
            &p.join("dist/layered/layered-layer.zip"),
            &p.join("dist/layered/layered-layer.zip.sig"),
        );
        assert!(accepted.status.success(), "{}", text(&accepted));
        let keys = allowed_signers(&p);
        let (code, report) = verify_json(&p, &["--trusted-keys", keys.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{report:#}");
        let layered = report["functions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["function"] == "layered")
            .unwrap();
        let sshsig: Vec<&serde_json::Value> = layered["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["check"] == "sshsig")
            .collect();
        assert_eq!(sshsig.len(), 2);
        let layered_cdx = read(&p, "dist/layered/sbom.cdx.json");
        assert_eq!(layered_cdx["components"][0]["type"], "file");
        assert_eq!(layered_cdx["components"][0]["name"], "layered-layer.zip");
    }
    #[test]
    fn evidence_with_dependencies_is_identical_across_folders() {
        let index = index();
        let build = || {
            // slipway.toml in app/, the dependency file outside it.
            let p = Project::new();
            p.write(
                "app/slipway.toml",
                format!(
                    "[python]\nindex_url = \"{}\"\n\n[functions.api]\nsource = \"src\"\nhandler = \"app.handler\"\nruntime = \"python3.12\"\nrequirements = \"../requirements.txt\"\n",
                    index.url()
                ),
            );
            p.write(
                "app/src/app.py",
                "def handler(event, context):\n    return 1\n",
            );
            p.write("requirements.txt", "greeting>=1\n");
            ok(p.slipway()
                .args(["--config", "app/slipway.toml", "build"])
                .output()
                .unwrap());
            p
        };
        let (a, b) = (build(), build());
        for file in [
            "sbom.cdx.json",
            "sbom.spdx.json",
            "provenance.intoto.json",
            "manifest.json",
        ] {
            let read =
                |p: &Project| std::fs::read(p.join(&format!("app/dist/api/{file}"))).unwrap();
            assert_eq!(read(&a), read(&b), "{file} differs between folders");
        }
        let statement = read(&a, "app/dist/api/provenance.intoto.json");
        assert_eq!(
            statement["predicate"]["buildDefinition"]["externalParameters"]["requirements"],
            "../requirements.txt"
        );
    }
}

mod deployed {
    //! `slipway verify --deployed` against a moto server: the files and the
    //! live function are checked in one run.

    use crate::support_aws::{Moto, ROLE, slipway_aws};

    use super::*;

    #[test]
    fn verify_deployed_checks_the_files_and_the_live_function() {
        let moto = Moto::start().with_role();
        let p = Project::hello();
        p.write(
            "slipway.toml",
            format!("[defaults]\nruntime = \"python3.12\"\nrole = \"{ROLE}\"\n\n[functions.hello]\nsource = \"src\"\nhandler = \"app.handler\"\n"),
        );
        let key = keygen(&p, "release", "ed25519");
        ok(p.slipway()
            .args(["build", "--sign", "--key"])
            .arg(&key)
            .output()
            .unwrap());
        ok(slipway_aws(&p, &moto.url).arg("deploy").output().unwrap());

        let keys = allowed_signers(&p);
        let verify = |p: &Project| {
            let out = slipway_aws(p, &moto.url)
                .args(["--format", "json", "verify", "--deployed", "--trusted-keys"])
                .arg(&keys)
                .output()
                .unwrap();
            (out.status.code(), json_stdout(&out))
        };
        let (code, report) = verify(&p);
        assert_eq!(code, Some(0), "{report:#}");
        assert_eq!(report["deployed"]["ok"], true, "{report:#}");
        assert_eq!(checks(&report, "dsse")[0]["status"], "passed");

        // Someone replaces the live code: the files still verify, the live
        // function does not.
        let other = p.join("other.zip");
        let script = "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z:\n    z.writestr('app.py', 'def handler(e, c):\\n    return 666\\n')\n";
        ok(Process::new("python3")
            .arg("-c")
            .arg(script)
            .arg(&other)
            .output()
            .unwrap());
        moto.aws(&[
            "lambda",
            "update-function-code",
            "--function-name",
            "hello",
            "--zip-file",
            &format!("fileb://{}", other.display()),
        ]);
        let (code, report) = verify(&p);
        assert_eq!(code, Some(1), "{report:#}");
        assert_eq!(report["deployed"]["ok"], false);
        assert_eq!(
            report["functions"][0]["ok"], true,
            "the built files are still intact"
        );
    }
}

#[test]
fn sign_stops_before_writing_when_a_function_was_never_built() {
    let p = project();
    ok(p.slipway().args(["build", "hello"]).output().unwrap());
    let key = keygen(&p, "release", "ed25519");
    let message = fails(
        p.slipway()
            .args(["sign", "--key"])
            .arg(&key)
            .output()
            .unwrap(),
        2,
    );
    assert!(message.contains("run `slipway build` first"), "{message}");
    assert!(!dist(&p, "hello.zip.sig").exists(), "nothing signed");
    assert!(!dist(&p, "provenance.dsse.json").exists());
}

/// Every file SPDX lists carries the SHA-1 and SHA-256 of the zip entry it
/// names, as Python's zipfile and hashlib compute them.
#[test]
fn spdx_file_checksums_match_the_zip_entries() {
    let p = Project::hello();
    p.write("src/lib/data.json", "{\"a\": [1, 2, 3]}\n".repeat(100));
    assert!(p.slipway().arg("build").output().unwrap().status.success());
    let script = r#"
import hashlib, json, sys, zipfile
doc = json.load(open(sys.argv[1]))
z = zipfile.ZipFile(sys.argv[2])
checked = 0
for f in doc["files"]:
    data = z.read(f["fileName"].removeprefix("./"))
    sums = {c["algorithm"]: c["checksumValue"] for c in f["checksums"]}
    assert sums["SHA1"] == hashlib.sha1(data).hexdigest(), f
    assert sums["SHA256"] == hashlib.sha256(data).hexdigest(), f
    checked += 1
print(checked)
"#;
    let out = Process::new("python3")
        .args(["-c", script])
        .arg(p.join("dist/hello/sbom.spdx.json"))
        .arg(p.join("dist/hello/hello.zip"))
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "2",
        "both files checked"
    );
}
