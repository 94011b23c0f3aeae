//! SHA-256 in the two spellings slipway uses: hex (SHA256SUMS, manifests,
//! SBOMs) and base64 (Lambda's `CodeSha256`).

use std::io::Read;
use std::path::Path;

use base64::Engine;
use sha2::{Digest, Sha256};

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha256(bytes))
}

/// Lambda's `CodeSha256`: base64 of the raw SHA-256 of the zip.
pub fn code_sha256(bytes: &[u8]) -> String {
    digest_to_code_sha256(&sha256(bytes))
}

/// Lambda's `CodeSha256` spelling of a SHA-256 already computed.
pub fn digest_to_code_sha256(digest: &[u8; 32]) -> String {
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// Converts a hex SHA-256 into Lambda's base64 form.
pub fn hex_to_code_sha256(hex_digest: &str) -> Option<String> {
    let raw = hex::decode(hex_digest).ok()?;
    Some(base64::engine::general_purpose::STANDARD.encode(raw))
}

/// SHA-256 (hex) of a file, streamed.
pub fn file_sha256_hex(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            code_sha256(b"abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
        assert_eq!(
            hex_to_code_sha256(&sha256_hex(b"abc")).unwrap(),
            code_sha256(b"abc")
        );
    }
}
