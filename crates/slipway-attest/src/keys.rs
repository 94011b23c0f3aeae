//! Signing keys (Ed25519 and ECDSA P-256, OpenSSH or PKCS#8 PEM), key
//! generation, and the trusted keys verification checks against.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use ssh_key::private::{EcdsaKeypair, Ed25519Keypair, KeypairData};
use ssh_key::public::KeyData;
use ssh_key::{Algorithm, EcdsaCurve, HashAlg, LineEnding, PrivateKey, PublicKey};
use zeroize::Zeroizing;

use crate::AttestError;

/// The environment variable that may hold the private key itself (the way a
/// GitLab masked variable hands it over).
pub const SIGNING_KEY_ENV: &str = "SLIPWAY_SIGNING_KEY";

/// A private key slipway can sign with. Its `Debug` shows only the public
/// fingerprint.
pub struct SigningKey {
    private: PrivateKey,
    raw: RawSigner,
}

enum RawSigner {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("keyid", &self.keyid())
            .finish_non_exhaustive()
    }
}

/// Which kind of key `slipway keygen` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Ed25519,
    EcdsaP256,
}

impl SigningKey {
    /// The key from `--key PATH`, or else from `SLIPWAY_SIGNING_KEY`.
    pub fn load(path: Option<&Path>, env_value: Option<String>) -> Result<SigningKey, AttestError> {
        match (path, env_value) {
            (Some(path), _) => {
                let text = Zeroizing::new(std::fs::read(path).map_err(|source| {
                    AttestError::KeyUnreadable {
                        path: path.to_path_buf(),
                        source,
                    }
                })?);
                let text = String::from_utf8_lossy(&text);
                SigningKey::parse(&text, &path.display().to_string())
            }
            (None, Some(value)) if !value.trim().is_empty() => {
                let value = Zeroizing::new(value);
                SigningKey::parse(&value, SIGNING_KEY_ENV)
            }
            _ => Err(AttestError::NoKey),
        }
    }

    /// Parses a private key; `origin` names where it came from in errors.
    pub fn parse(text: &str, origin: &str) -> Result<SigningKey, AttestError> {
        let origin = origin.to_string();
        // CI variables sometimes arrive with `\n` escaped or with CRLF.
        let text = Zeroizing::new(text.trim().replace("\\n", "\n").replace("\r\n", "\n"));
        let malformed = |reason: String| AttestError::KeyMalformed {
            origin: origin.clone(),
            reason,
        };
        if text.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----") {
            let private = PrivateKey::from_openssh(text.as_bytes())
                .map_err(|e| malformed(format!("invalid OpenSSH key ({e})")))?;
            if private.is_encrypted() {
                return Err(AttestError::KeyEncrypted { origin });
            }
            return SigningKey::from_private(private, &origin);
        }
        if text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(AttestError::KeyEncrypted { origin });
        }
        if text.starts_with("-----BEGIN PRIVATE KEY-----") {
            return SigningKey::from_pkcs8(&text, &origin);
        }
        if text.starts_with("-----BEGIN EC PRIVATE KEY-----") {
            use p256::elliptic_curve::SecretKey;
            let secret = SecretKey::<p256::NistP256>::from_sec1_pem(&text)
                .map_err(|_| malformed("not a P-256 EC private key".into()))?;
            return SigningKey::from_p256(secret, &origin);
        }
        if text.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
            return Err(AttestError::KeyUnsupported {
                origin,
                algorithm: "RSA".into(),
            });
        }
        if text.starts_with("-----BEGIN PUBLIC KEY-----")
            || text.starts_with("ssh-")
            || text.starts_with("ecdsa-sha2-")
        {
            return Err(AttestError::KeyIsPublic { origin });
        }
        // GitLab masks only single-line values from the base64 alphabet, so a
        // key in a masked variable arrives base64-encoded (`base64 -w0 KEY`).
        let compact: String = text.split_whitespace().collect();
        if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()) {
            let decoded = Zeroizing::new(decoded);
            if let Ok(inner) = std::str::from_utf8(&decoded)
                && inner.trim_start().starts_with("-----BEGIN ")
            {
                return SigningKey::parse(inner, &origin);
            }
        }
        Err(malformed(
            "no private key header found (and not a base64-encoded key)".into(),
        ))
    }

    fn from_private(private: PrivateKey, origin: &str) -> Result<SigningKey, AttestError> {
        let raw = match private.key_data() {
            KeypairData::Ed25519(pair) => {
                RawSigner::Ed25519(ed25519_dalek::SigningKey::try_from(pair).map_err(|_| {
                    AttestError::KeyMalformed {
                        origin: origin.into(),
                        reason: "invalid Ed25519 key".into(),
                    }
                })?)
            }
            KeypairData::Ecdsa(EcdsaKeypair::NistP256 {
                private: secret, ..
            }) => {
                let secret = p256::SecretKey::from_slice(secret.as_slice()).map_err(|_| {
                    AttestError::KeyMalformed {
                        origin: origin.into(),
                        reason: "invalid P-256 scalar".into(),
                    }
                })?;
                RawSigner::P256(p256::ecdsa::SigningKey::from(secret))
            }
            _ => {
                return Err(AttestError::KeyUnsupported {
                    origin: origin.into(),
                    algorithm: private.algorithm().as_str().into(),
                });
            }
        };
        Ok(SigningKey { private, raw })
    }

    fn from_pkcs8(text: &str, origin: &str) -> Result<SigningKey, AttestError> {
        use ed25519_dalek::pkcs8::DecodePrivateKey as _;
        if let Ok(key) = ed25519_dalek::SigningKey::from_pkcs8_pem(text) {
            let private = PrivateKey::from(Ed25519Keypair::from(&key));
            return SigningKey::from_private(private, origin);
        }
        if let Ok(secret) = <p256::SecretKey as p256::pkcs8::DecodePrivateKey>::from_pkcs8_pem(text)
        {
            return SigningKey::from_p256(secret, origin);
        }
        Err(AttestError::KeyUnsupported {
            origin: origin.into(),
            algorithm: "PKCS#8 key that is neither Ed25519 nor ECDSA P-256".into(),
        })
    }

    fn from_p256(secret: p256::SecretKey, origin: &str) -> Result<SigningKey, AttestError> {
        let pair = EcdsaKeypair::NistP256 {
            public: secret.public_key().into(),
            private: secret.into(),
        };
        SigningKey::from_private(PrivateKey::from(pair), origin)
    }

    /// Creates a new random key.
    pub fn generate(kind: KeyKind, comment: &str) -> Result<SigningKey, AttestError> {
        let algorithm = match kind {
            KeyKind::Ed25519 => Algorithm::Ed25519,
            KeyKind::EcdsaP256 => Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP256,
            },
        };
        let mut private = PrivateKey::random(&mut rand_core::OsRng, algorithm).map_err(|e| {
            AttestError::SigningFailed {
                reason: format!("cannot generate a key: {e}"),
            }
        })?;
        private.set_comment(comment);
        SigningKey::from_private(private, "a new key")
    }

    /// The private key in OpenSSH form, for `slipway keygen` to write (0600).
    pub fn to_openssh(&self) -> Result<Zeroizing<String>, AttestError> {
        self.private
            .to_openssh(LineEnding::LF)
            .map_err(|e| AttestError::SigningFailed {
                reason: format!("cannot encode the key: {e}"),
            })
    }

    pub fn public_key(&self) -> &PublicKey {
        self.private.public_key()
    }

    /// The key's id in envelopes and reports: its OpenSSH SHA-256 fingerprint.
    pub fn keyid(&self) -> String {
        keyid(self.public_key().key_data())
    }

    /// A raw signature over `message`: Ed25519's 64 bytes, or ECDSA P-256
    /// with SHA-256 in ASN.1 DER (what DSSE verifiers such as cosign and
    /// Python's `cryptography` expect).
    pub fn sign_raw(&self, message: &[u8]) -> Vec<u8> {
        use signature::Signer as _;
        match &self.raw {
            RawSigner::Ed25519(key) => key.sign(message).to_bytes().to_vec(),
            RawSigner::P256(key) => {
                let sig: p256::ecdsa::Signature = key.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
        }
    }

    /// An armored OpenSSH `sshsig` signature over `message`.
    pub fn sshsig(&self, namespace: &str, message: &[u8]) -> Result<String, AttestError> {
        let sig = self
            .private
            .sign(namespace, HashAlg::Sha512, message)
            .map_err(|e| AttestError::SigningFailed {
                reason: format!("sshsig: {e}"),
            })?;
        sig.to_pem(LineEnding::LF)
            .map_err(|e| AttestError::SigningFailed {
                reason: format!("sshsig: {e}"),
            })
    }
}

/// `SHA256:<base64>`, as `ssh-keygen -l` prints it.
pub fn keyid(key: &KeyData) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// An `allowed_signers` line for `ssh-keygen -Y verify`, limited to the
/// `slipway` namespace.
pub fn allowed_signers_line(identity: &str, key: &PublicKey) -> String {
    let mut public = key.clone();
    public.set_comment("");
    let encoded = public.to_openssh().unwrap_or_default();
    format!(
        "{identity} namespaces=\"{}\" {}",
        crate::SSHSIG_NAMESPACE,
        encoded.trim()
    )
}

/// One key verification accepts.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    pub key: KeyData,
    /// The allowed_signers principals, or the public key's comment.
    pub identity: String,
    /// From an allowed_signers `namespaces=` option; `None` means any.
    pub namespaces: Option<Vec<String>>,
    /// From `valid-after=` / `valid-before=`: Unix seconds the key is valid
    /// after / before, as `ssh-keygen -Y verify` honours them.
    pub valid_after: Option<i64>,
    pub valid_before: Option<i64>,
    pub source: PathBuf,
}

impl TrustedKey {
    pub fn keyid(&self) -> String {
        keyid(&self.key)
    }

    /// Whether the key may vouch for a signature checked at `now` (Unix
    /// seconds): refused, as by `ssh-keygen -Y verify`, before `valid-after`
    /// and after `valid-before`.
    pub fn check_valid_at(&self, now: i64, signature: &Path) -> Result<(), AttestError> {
        let problem = match (self.valid_after, self.valid_before) {
            (Some(after), _) if now < after => Some(format!("not valid until {}", rfc3339(after))),
            (_, Some(before)) if now > before => Some(format!("expired at {}", rfc3339(before))),
            _ => None,
        };
        match problem {
            None => Ok(()),
            Some(problem) => Err(AttestError::KeyNotValid {
                path: signature.to_path_buf(),
                keyid: self.keyid(),
                identity: self.identity.clone(),
                problem,
                source_file: self.source.clone(),
            }),
        }
    }

    /// [`Self::check_valid_at`] the current time.
    pub fn check_valid_now(&self, signature: &Path) -> Result<(), AttestError> {
        self.check_valid_at(time::OffsetDateTime::now_utc().unix_timestamp(), signature)
    }

    pub fn allows_namespace(&self, namespace: &str) -> bool {
        self.namespaces
            .as_ref()
            .is_none_or(|list| list.iter().any(|n| n == namespace))
    }
}

/// The keys from `--trusted-keys` files: each line a public key
/// (`ssh-ed25519 AAAA… comment`) or an allowed_signers entry
/// (`identity [options] ssh-ed25519 AAAA… [comment]`).
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys {
    pub keys: Vec<TrustedKey>,
}

impl TrustedKeys {
    pub fn read(paths: &[PathBuf]) -> Result<TrustedKeys, AttestError> {
        let mut keys = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(path).map_err(|source| {
                AttestError::TrustedKeysUnreadable {
                    path: path.clone(),
                    source,
                }
            })?;
            let before = keys.len();
            for (n, line) in text.lines().enumerate() {
                if let Some(key) = parse_trusted_line(line, path, n + 1)? {
                    keys.push(key);
                }
            }
            if keys.len() == before {
                return Err(AttestError::TrustedKeysEmpty { path: path.clone() });
            }
        }
        Ok(TrustedKeys { keys })
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn find(&self, key: &KeyData) -> Option<&TrustedKey> {
        self.keys.iter().find(|t| &t.key == key)
    }
}

fn is_key_type(token: &str) -> bool {
    token.starts_with("ssh-") || token.starts_with("ecdsa-sha2-") || token.starts_with("sk-")
}

fn parse_trusted_line(
    line: &str,
    path: &Path,
    number: usize,
) -> Result<Option<TrustedKey>, AttestError> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let malformed = |reason: String| AttestError::TrustedKeysMalformed {
        path: path.to_path_buf(),
        line: number,
        reason,
    };
    let tokens = split_options_aware(line);
    let key_at = tokens
        .iter()
        .position(|t| is_key_type(t))
        .ok_or_else(|| malformed("no key type (ssh-ed25519, ecdsa-sha2-nistp256) found".into()))?;
    let public_text = tokens[key_at..].join(" ");
    let public = PublicKey::from_openssh(&public_text)
        .map_err(|e| malformed(format!("invalid public key ({e})")))?;
    let mut key = TrustedKey {
        key: public.key_data().clone(),
        identity: public.comment().to_string(),
        namespaces: None,
        valid_after: None,
        valid_before: None,
        source: path.to_path_buf(),
    };
    if key_at > 0 {
        key.identity = tokens[0].clone();
        let options = tokens[1..key_at].join(" ");
        // The options ssh-keygen's allowed_signers reader knows, each once;
        // anything else makes it refuse the line, and so does slipway.
        for option in split_outside_quotes(&options, ',') {
            let (name, value) = match option.split_once('=') {
                Some((name, value)) => (name.to_ascii_lowercase(), Some(value)),
                None => (option.to_ascii_lowercase(), None),
            };
            let quoted = || {
                value
                    .and_then(|v| v.strip_prefix('"'))
                    .and_then(|v| v.strip_suffix('"'))
                    .ok_or_else(|| malformed(format!("`{name}` needs a value in double quotes")))
            };
            let time = |value: &str| {
                parse_signer_time(value).ok_or_else(|| {
                    malformed(format!(
                        "invalid `{name}` time `{value}` (YYYYMMDD[HHMM[SS]][Z])"
                    ))
                })
            };
            match name.as_str() {
                "cert-authority" => {
                    return Err(malformed("cert-authority lines are not supported".into()));
                }
                "namespaces" if key.namespaces.is_none() => {
                    key.namespaces =
                        Some(quoted()?.split(',').map(|s| s.trim().to_string()).collect());
                }
                "valid-after" if key.valid_after.is_none() => {
                    key.valid_after = Some(time(quoted()?)?);
                }
                "valid-before" if key.valid_before.is_none() => {
                    key.valid_before = Some(time(quoted()?)?);
                }
                "namespaces" | "valid-after" | "valid-before" => {
                    return Err(malformed(format!("`{name}` given twice")));
                }
                _ => return Err(malformed(format!("unknown option `{option}`"))),
            }
        }
    }
    Ok(Some(key))
}

/// An allowed_signers time: `YYYYMMDD`, `YYYYMMDDHHMM` or `YYYYMMDDHHMMSS`,
/// optionally ending in `Z`. ssh-keygen reads a time without `Z` in the
/// verifier's local zone; slipway reads every time as UTC, so CI runners in
/// any zone agree (write the `Z` to mean the same to both).
fn parse_signer_time(value: &str) -> Option<i64> {
    let digits = value.strip_suffix(['Z', 'z']).unwrap_or(value);
    if !digits.bytes().all(|b| b.is_ascii_digit()) || ![8, 12, 14].contains(&digits.len()) {
        return None;
    }
    let n = |range: std::ops::Range<usize>| digits.get(range).map(|s| s.parse::<u32>().ok());
    let year = n(0..4)??;
    let month = time::Month::try_from(n(4..6)?? as u8).ok()?;
    let date = time::Date::from_calendar_date(year as i32, month, n(6..8)?? as u8).ok()?;
    let hour = n(8..10).flatten().unwrap_or(0);
    let minute = n(10..12).flatten().unwrap_or(0);
    let second = n(12..14).flatten().unwrap_or(0);
    let t = time::Time::from_hms(hour as u8, minute as u8, second as u8).ok()?;
    Some(date.with_time(t).assume_utc().unix_timestamp())
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// Splits on `sep` outside double quotes.
fn split_outside_quotes(text: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out.into_iter().filter(|s| !s.is_empty()).collect()
}

/// Splits on whitespace outside double quotes (allowed_signers options such
/// as `namespaces="a,b"` may be quoted).
fn split_options_aware(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}
