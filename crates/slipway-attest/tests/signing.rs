//! slipway's signatures checked by independent tools: `ssh-keygen -Y verify`
//! for sshsig, Python's `cryptography` for DSSE; keys made by `ssh-keygen`
//! and by `cryptography` load into slipway.

use std::path::{Path, PathBuf};
use std::process::Command;

use slipway_attest::keys::{TrustedKeys, allowed_signers_line};
use slipway_attest::{AttestError, KeyKind, SigningKey, dsse, sshsig};

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn ssh_keygen_verify(dir: &Path, allowed: &Path, sig: &Path, data: &[u8]) -> std::process::Output {
    let data_path = write(dir, "data.bin", data);
    Command::new("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(allowed)
        .args(["-I", "release@example", "-n", "slipway", "-s"])
        .arg(sig)
        .stdin(std::fs::File::open(data_path).unwrap())
        .output()
        .expect("ssh-keygen runs")
}

fn python_key(dir: &Path, kind: &str, encrypted: bool) -> String {
    let script = format!(
        r#"
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives import serialization as s
key = ed25519.Ed25519PrivateKey.generate() if "{kind}" == "ed25519" else ec.generate_private_key(ec.SECP256R1())
enc = s.BestAvailableEncryption(b"secret") if {encrypted} else s.NoEncryption()
open("{dir}/pk.pem", "wb").write(key.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, enc))
"#,
        dir = dir.display(),
        encrypted = if encrypted { "True" } else { "False" },
    );
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(dir.join("pk.pem")).unwrap()
}

fn ssh_keygen_key(dir: &Path, args: &[&str], passphrase: &str) -> PathBuf {
    let path = dir.join(format!("id_{}", args.join("_")));
    let out = Command::new("ssh-keygen")
        .args(args)
        .args(["-q", "-N", passphrase, "-C", "test", "-f"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// Signs with `key`, then checks both signatures with the outside tools.
fn check_with_independent_tools(key: &SigningKey) {
    let dir = tempfile::tempdir().unwrap();
    let zip = b"PK\x03\x04 pretend this is a deterministic zip".to_vec();
    let sig = write(dir.path(), "fn.zip.sig", sshsig::sign(key, &zip).unwrap());
    let allowed = write(
        dir.path(),
        "allowed_signers",
        allowed_signers_line("release@example", key.public_key()) + "\n",
    );

    let ok = ssh_keygen_verify(dir.path(), &allowed, &sig, &zip);
    assert!(
        ok.status.success(),
        "ssh-keygen rejected: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let mut changed = zip.clone();
    changed[10] ^= 1;
    let bad = ssh_keygen_verify(dir.path(), &allowed, &sig, &changed);
    assert!(!bad.status.success(), "ssh-keygen accepted a changed file");

    let statement = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;
    let envelope = write(
        dir.path(),
        "provenance.dsse.json",
        dsse::sign(statement, key).to_json(),
    );
    let public = write(
        dir.path(),
        "key.pub",
        key.public_key().to_openssh().unwrap(),
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/verify_dsse.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(&envelope)
        .arg(&public)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cryptography rejected the envelope: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // And the Python check is a real check: a changed payload fails it.
    let mut tampered: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&envelope).unwrap()).unwrap();
    tampered["payload"] = base64_of(br#"{"_type":"other"}"#).into();
    std::fs::write(&envelope, serde_json::to_vec(&tampered).unwrap()).unwrap();
    let out = Command::new("python3")
        .arg(&script)
        .arg(&envelope)
        .arg(&public)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "cryptography accepted a changed payload"
    );
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn generated_keys_sign_what_ssh_keygen_and_cryptography_accept() {
    for kind in [KeyKind::Ed25519, KeyKind::EcdsaP256] {
        let key = SigningKey::generate(kind, "test").unwrap();
        check_with_independent_tools(&key);
        // What keygen writes loads back as the same key.
        let reloaded = SigningKey::parse(&key.to_openssh().unwrap(), "file").unwrap();
        assert_eq!(reloaded.keyid(), key.keyid());
    }
}

#[test]
fn ssh_keygen_keys_load_and_sign() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["-t", "ed25519"][..], &["-t", "ecdsa", "-b", "256"][..]] {
        let path = ssh_keygen_key(dir.path(), args, "");
        let key = SigningKey::load(Some(&path), None).unwrap();
        check_with_independent_tools(&key);
    }
}

#[test]
fn pkcs8_keys_from_cryptography_load_and_sign() {
    let dir = tempfile::tempdir().unwrap();
    for kind in ["ed25519", "p256"] {
        let pem = python_key(dir.path(), kind, false);
        // As a GitLab variable hands it over: the key itself in the environment.
        let key = SigningKey::load(None, Some(pem.clone())).unwrap();
        check_with_independent_tools(&key);
        // As a GitLab masked variable must hold it: one base64 line.
        let masked = base64_of(pem.as_bytes());
        assert_eq!(
            SigningKey::load(None, Some(masked)).unwrap().keyid(),
            key.keyid()
        );
    }
}

#[test]
fn signatures_are_deterministic() {
    let key = SigningKey::generate(KeyKind::EcdsaP256, "t").unwrap();
    assert_eq!(dsse::sign(b"x", &key), dsse::sign(b"x", &key));
}

#[test]
fn unusable_keys_get_their_own_errors() {
    let dir = tempfile::tempdir().unwrap();
    let encrypted = ssh_keygen_key(dir.path(), &["-t", "ed25519"], "passphrase");
    assert!(matches!(
        SigningKey::load(Some(&encrypted), None),
        Err(AttestError::KeyEncrypted { .. })
    ));
    let pem = python_key(dir.path(), "p256", true);
    assert!(matches!(
        SigningKey::load(None, Some(pem)),
        Err(AttestError::KeyEncrypted { .. })
    ));
    let rsa = ssh_keygen_key(dir.path(), &["-t", "rsa", "-b", "2048"], "");
    let err = SigningKey::load(Some(&rsa), None).unwrap_err();
    assert!(matches!(err, AttestError::KeyUnsupported { .. }), "{err}");
    let p384 = ssh_keygen_key(dir.path(), &["-t", "ecdsa", "-b", "384"], "");
    assert!(matches!(
        SigningKey::load(Some(&p384), None),
        Err(AttestError::KeyUnsupported { .. })
    ));
    let public = encrypted.with_extension("pub");
    assert!(matches!(
        SigningKey::load(Some(&public), None),
        Err(AttestError::KeyIsPublic { .. })
    ));
    assert!(matches!(
        SigningKey::load(Some(&dir.path().join("missing")), None),
        Err(AttestError::KeyUnreadable { .. })
    ));
    assert!(matches!(
        SigningKey::load(None, Some("hello".into())),
        Err(AttestError::KeyMalformed { .. })
    ));
    assert!(matches!(
        SigningKey::load(None, None),
        Err(AttestError::NoKey)
    ));
}

#[test]
fn trusted_keys_read_public_keys_and_allowed_signers() {
    let dir = tempfile::tempdir().unwrap();
    let a = SigningKey::generate(KeyKind::Ed25519, "a@example").unwrap();
    let b = SigningKey::generate(KeyKind::EcdsaP256, "b").unwrap();
    let c = SigningKey::generate(KeyKind::Ed25519, "c").unwrap();
    let file = write(
        dir.path(),
        "trusted",
        format!(
            "# team keys\n{}\n{}\nrelease@x,ops@x namespaces=\"git,file\" {}\n",
            a.public_key().to_openssh().unwrap(),
            allowed_signers_line("b@example", b.public_key()),
            c.public_key().to_openssh().unwrap(),
        ),
    );
    let keys = TrustedKeys::read(&[file]).unwrap();
    assert_eq!(keys.keys.len(), 3);
    assert_eq!(keys.keys[0].identity, "a@example");
    assert!(keys.keys[1].allows_namespace("slipway"));
    assert_eq!(keys.keys[2].identity, "release@x,ops@x");
    assert!(
        !keys.keys[2].allows_namespace("slipway"),
        "namespaces limit what a key may sign"
    );

    // A key limited to other namespaces cannot vouch for a package.
    let sig = sshsig::sign(&c, b"zip").unwrap();
    let err = sshsig::verify(
        sig.as_bytes(),
        Path::new("s"),
        b"zip",
        Path::new("z"),
        &keys,
    )
    .unwrap_err();
    assert!(
        matches!(err, AttestError::NamespaceNotAllowed { .. }),
        "{err}"
    );
    let envelope = dsse::sign(b"{}", &c);
    let err = dsse::verify(&envelope, Path::new("e"), &keys).unwrap_err();
    assert!(
        matches!(err, AttestError::NamespaceNotAllowed { .. }),
        "{err}"
    );

    let bad = write(dir.path(), "bad", "just words here\n");
    let err = TrustedKeys::read(&[bad]).unwrap_err();
    assert!(err.to_string().contains(":1:"), "{err}");
    let empty = write(dir.path(), "empty", "# nothing\n");
    assert!(matches!(
        TrustedKeys::read(&[empty]),
        Err(AttestError::TrustedKeysEmpty { .. })
    ));
}

/// `valid-after` / `valid-before` and malformed options: slipway accepts
/// exactly what `ssh-keygen -Y verify` accepts with the same allowed_signers.
#[test]
fn allowed_signers_validity_agrees_with_ssh_keygen() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate(KeyKind::Ed25519, "release").unwrap();
    let zip = b"PK\x03\x04 a package".to_vec();
    let sig = write(dir.path(), "fn.zip.sig", sshsig::sign(&key, &zip).unwrap());
    let public = key.public_key().to_openssh().unwrap();
    for options in [
        r#"namespaces="slipway""#,
        r#"namespaces="slipway",valid-after="20200101""#,
        r#"namespaces="slipway",valid-after="20990101""#,
        r#"namespaces="slipway",valid-before="20200101Z""#,
        r#"namespaces="slipway",valid-before="209912311200""#,
        r#"valid-after="20200101",valid-before="20991231235959Z""#,
        r#"namespaces="slipway",valid-after="garbage""#,
        r#"namespaces="slipway",valid-after=20200101"#,
        r#"namespaces="slipway",valid-before="20201340""#,
        r#"namespaces="slipway",bogus-option"#,
    ] {
        let allowed = write(
            dir.path(),
            "allowed_signers",
            format!("release@example {options} {public}\n"),
        );
        let mut reference = Command::new("ssh-keygen");
        reference.env("TZ", "UTC");
        let reference = reference
            .args(["-Y", "verify", "-f"])
            .arg(&allowed)
            .args(["-I", "release@example", "-n", "slipway", "-s"])
            .arg(&sig)
            .stdin(std::fs::File::open(write(dir.path(), "data.bin", &zip)).unwrap())
            .output()
            .unwrap();
        let ours = TrustedKeys::read(std::slice::from_ref(&allowed)).and_then(|trusted| {
            sshsig::verify(
                std::fs::read(&sig).unwrap().as_slice(),
                &sig,
                &zip,
                Path::new("fn.zip"),
                &trusted,
            )
        });
        assert_eq!(
            ours.is_ok(),
            reference.status.success(),
            "{options}: slipway says {:?}, ssh-keygen says {}",
            ours.map(|k| k.identity),
            String::from_utf8_lossy(&reference.stderr)
        );
    }
}
