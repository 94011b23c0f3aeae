use std::path::PathBuf;

/// Everything that can go wrong loading keys, signing and verifying. Messages
/// name the file or variable involved and never contain key material.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum AttestError {
    #[error("no signing key: pass --key PATH or set SLIPWAY_SIGNING_KEY")]
    #[diagnostic(
        code(slipway::sign::no_key),
        help(
            "`slipway keygen` writes a key pair; in GitLab CI put the private key in a masked, protected variable named SLIPWAY_SIGNING_KEY"
        )
    )]
    NoKey,

    #[error("cannot read the signing key {}: {source}", path.display())]
    #[diagnostic(
        code(slipway::sign::key_unreadable),
        help("check the path and its permissions")
    )]
    KeyUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("the signing key in {origin} is encrypted with a passphrase")]
    #[diagnostic(
        code(slipway::sign::key_encrypted),
        help(
            "slipway never prompts for passphrases: keep the key unencrypted in a protected CI variable or file (`ssh-keygen -p -N '' -f KEY` removes the passphrase from a copy)"
        )
    )]
    KeyEncrypted { origin: String },

    #[error("the key in {origin} is a {algorithm} key; slipway signs with Ed25519 or ECDSA P-256")]
    #[diagnostic(
        code(slipway::sign::key_unsupported),
        help(
            "create a supported key with `slipway keygen` (Ed25519) or `slipway keygen --type ecdsa-p256`"
        )
    )]
    KeyUnsupported { origin: String, algorithm: String },

    #[error("{origin} holds a public key; signing needs the private key")]
    #[diagnostic(
        code(slipway::sign::key_is_public),
        help(
            "pass the private key file (the one without `.pub`); public keys belong in --trusted-keys"
        )
    )]
    KeyIsPublic { origin: String },

    #[error("{origin} is not a private key slipway can read: {reason}")]
    #[diagnostic(
        code(slipway::sign::key_malformed),
        help(
            "slipway reads OpenSSH private keys (`-----BEGIN OPENSSH PRIVATE KEY-----`) and PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`)"
        )
    )]
    KeyMalformed { origin: String, reason: String },

    #[error("cannot read the trusted keys {}: {source}", path.display())]
    #[diagnostic(
        code(slipway::verify::trusted_keys_unreadable),
        help("check the path given to --trusted-keys")
    )]
    TrustedKeysUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{}:{line}: not a public key or allowed_signers line: {reason}", path.display())]
    #[diagnostic(
        code(slipway::verify::trusted_keys_malformed),
        help(
            "each line is either a public key (`ssh-ed25519 AAAA… comment`) or an allowed_signers entry (`identity [options] ssh-ed25519 AAAA…`)"
        )
    )]
    TrustedKeysMalformed {
        path: PathBuf,
        line: usize,
        reason: String,
    },

    #[error("{} holds no keys", path.display())]
    #[diagnostic(
        code(slipway::verify::trusted_keys_empty),
        help("add the signer's public key or allowed_signers line")
    )]
    TrustedKeysEmpty { path: PathBuf },

    #[error("{} is not a DSSE envelope: {reason}", path.display())]
    #[diagnostic(
        code(slipway::verify::envelope_malformed),
        help("the file is truncated or was edited; sign again with `slipway sign`")
    )]
    EnvelopeMalformed { path: PathBuf, reason: String },

    #[error("{} has payloadType `{found}`, expected `application/vnd.in-toto+json`", path.display())]
    #[diagnostic(
        code(slipway::verify::payload_type),
        help("this envelope does not hold an in-toto statement; sign again with `slipway sign`")
    )]
    PayloadType { path: PathBuf, found: String },

    #[error("{} has no signatures", path.display())]
    #[diagnostic(
        code(slipway::verify::unsigned),
        help("sign with `slipway sign --key KEY`")
    )]
    NoSignatures { path: PathBuf },

    #[error("{} is signed by {keyids}, which is not among the trusted keys", path.display())]
    #[diagnostic(
        code(slipway::verify::untrusted_signer),
        help(
            "the signature comes from another key: add its public key to --trusted-keys only if you trust that signer"
        )
    )]
    UntrustedSigner { path: PathBuf, keyids: String },

    #[error("{} is signed by {identity} ({keyid}), but {} says that key is {problem}", path.display(), source_file.display())]
    #[diagnostic(
        code(slipway::verify::key_not_valid),
        help(
            "the key's valid-after / valid-before in allowed_signers exclude the time of verification; sign with a current key"
        )
    )]
    KeyNotValid {
        path: PathBuf,
        keyid: String,
        identity: String,
        problem: String,
        source_file: PathBuf,
    },

    #[error("the signature in {} by trusted key {keyid} does not match its content", path.display())]
    #[diagnostic(
        code(slipway::verify::bad_signature),
        help("the signed content was changed after signing; rebuild and sign again")
    )]
    BadSignature { path: PathBuf, keyid: String },

    #[error("{} is not an OpenSSH signature: {reason}", path.display())]
    #[diagnostic(
        code(slipway::verify::sshsig_malformed),
        help("the file is truncated or was edited; sign again with `slipway sign`")
    )]
    SshsigMalformed { path: PathBuf, reason: String },

    #[error("{} was made for namespace `{found}`, expected `{expected}`", path.display())]
    #[diagnostic(
        code(slipway::verify::sshsig_namespace),
        help(
            "a signature made for another purpose (e.g. `git` or `file`) must not vouch for a package; sign with `slipway sign`"
        )
    )]
    SshsigNamespace {
        path: PathBuf,
        found: String,
        expected: String,
    },

    #[error("{} does not match {}: the file changed after it was signed", signature.display(), file.display())]
    #[diagnostic(
        code(slipway::verify::sshsig_mismatch),
        help("rebuild and sign again; never edit a signed package")
    )]
    SshsigMismatch { signature: PathBuf, file: PathBuf },

    #[error("{} is signed by {keyid} ({identity}), whose allowed_signers entry does not allow namespace `slipway`", path.display())]
    #[diagnostic(
        code(slipway::verify::namespace_not_allowed),
        help(
            "add `slipway` to that entry's namespaces=\"…\" option if this key may sign packages"
        )
    )]
    NamespaceNotAllowed {
        path: PathBuf,
        keyid: String,
        identity: String,
    },

    #[error("cannot read {}: {source}", path.display())]
    #[diagnostic(
        code(slipway::verify::unreadable),
        help("run `slipway build` (and `slipway sign`) first")
    )]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{} is not a readable zip: {reason}", path.display())]
    #[diagnostic(
        code(slipway::verify::zip_malformed),
        help("the file is damaged; rebuild with `slipway build`")
    )]
    ZipMalformed { path: PathBuf, reason: String },

    #[error("cannot sign: {reason}")]
    #[diagnostic(code(slipway::sign::failed))]
    SigningFailed { reason: String },
}
