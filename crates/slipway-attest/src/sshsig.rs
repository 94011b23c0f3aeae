//! OpenSSH `sshsig` detached signatures of the zips, checkable with
//! `ssh-keygen -Y verify -n slipway`.

use std::path::Path;

use ssh_key::SshSig;

use crate::AttestError;
use crate::keys::{SigningKey, TrustedKey, TrustedKeys, keyid};

/// The namespace every slipway package signature is made for, so that a
/// signature made for git commits or other files cannot vouch for a package.
pub const SSHSIG_NAMESPACE: &str = "slipway";

/// `<zip>.sig` beside the zip.
pub use slipway_artifact::layout::signature_file_name;

/// The armored signature of `message` in the `slipway` namespace.
pub fn sign(key: &SigningKey, message: &[u8]) -> Result<String, AttestError> {
    key.sshsig(SSHSIG_NAMESPACE, message)
}

/// Verifies an armored signature of `message` against the trusted keys.
pub fn verify(
    armored: &[u8],
    signature_path: &Path,
    message: &[u8],
    message_path: &Path,
    trusted: &TrustedKeys,
) -> Result<TrustedKey, AttestError> {
    let signature = SshSig::from_pem(armored).map_err(|e| AttestError::SshsigMalformed {
        path: signature_path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if signature.namespace() != SSHSIG_NAMESPACE {
        return Err(AttestError::SshsigNamespace {
            path: signature_path.to_path_buf(),
            found: signature.namespace().to_string(),
            expected: SSHSIG_NAMESPACE.into(),
        });
    }
    let untrusted = || AttestError::UntrustedSigner {
        path: signature_path.to_path_buf(),
        keyids: keyid(signature.public_key()),
    };
    let key = trusted.find(signature.public_key()).ok_or_else(untrusted)?;
    if !key.allows_namespace(SSHSIG_NAMESPACE) {
        return Err(AttestError::NamespaceNotAllowed {
            path: signature_path.to_path_buf(),
            keyid: key.keyid(),
            identity: key.identity.clone(),
        });
    }
    key.check_valid_now(signature_path)?;
    ssh_key::PublicKey::from(key.key.clone())
        .verify(SSHSIG_NAMESPACE, message, &signature)
        .map_err(|_| AttestError::SshsigMismatch {
            signature: signature_path.to_path_buf(),
            file: message_path.to_path_buf(),
        })?;
    Ok(key.clone())
}
