//! DSSE (Dead Simple Signing Envelope) v1: the envelope around the in-toto
//! statement, signed over the pre-authentication encoding (PAE).

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use ssh_key::public::KeyData;

use crate::AttestError;
use crate::keys::{SigningKey, TrustedKey, TrustedKeys};

pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
pub use slipway_artifact::layout::ENVELOPE_FILE_NAME;

/// `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`,
/// lengths as ASCII decimal byte counts.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload_type.len() + payload.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// base64 of the serialized statement.
    pub payload: String,
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyid: String,
    /// base64 of the raw signature over the PAE.
    pub sig: String,
}

/// Signs `payload` (the statement's bytes) into an envelope.
pub fn sign(payload: &[u8], key: &SigningKey) -> Envelope {
    let signature = key.sign_raw(&pae(IN_TOTO_PAYLOAD_TYPE, payload));
    Envelope {
        payload: STANDARD.encode(payload),
        payload_type: IN_TOTO_PAYLOAD_TYPE.into(),
        signatures: vec![EnvelopeSignature {
            keyid: key.keyid(),
            sig: STANDARD.encode(signature),
        }],
    }
}

impl Envelope {
    /// Pretty JSON with a final newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("envelope serialises");
        v.push(b'\n');
        v
    }

    /// Parses an envelope file's bytes; `path` is for messages.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Envelope, AttestError> {
        serde_json::from_slice(bytes).map_err(|e| AttestError::EnvelopeMalformed {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    }
}

/// DSSE lets producers use standard or URL-safe base64, padded or not.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    [&STANDARD, &URL_SAFE, &STANDARD_NO_PAD, &URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text.trim()).ok())
}

/// A signature that verified: the payload and the key that signed it.
#[derive(Debug, Clone)]
pub struct Verified {
    pub payload: Vec<u8>,
    pub signer: TrustedKey,
}

/// Verifies the envelope against the trusted keys: at least one signature
/// must verify under one of them.
pub fn verify(
    envelope: &Envelope,
    path: &Path,
    trusted: &TrustedKeys,
) -> Result<Verified, AttestError> {
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(AttestError::PayloadType {
            path: path.to_path_buf(),
            found: envelope.payload_type.clone(),
        });
    }
    let payload =
        decode_base64(&envelope.payload).ok_or_else(|| AttestError::EnvelopeMalformed {
            path: path.to_path_buf(),
            reason: "the payload is not base64".into(),
        })?;
    if envelope.signatures.is_empty() {
        return Err(AttestError::NoSignatures {
            path: path.to_path_buf(),
        });
    }
    let message = pae(&envelope.payload_type, &payload);
    let mut named_trusted_key = None;
    for signature in &envelope.signatures {
        let raw = decode_base64(&signature.sig).ok_or_else(|| AttestError::EnvelopeMalformed {
            path: path.to_path_buf(),
            reason: "a signature is not base64".into(),
        })?;
        for key in &trusted.keys {
            if verify_raw(&key.key, &message, &raw) {
                // An allowed_signers entry limited to other namespaces does
                // not vouch for slipway's statements either.
                if !key.allows_namespace(crate::SSHSIG_NAMESPACE) {
                    return Err(AttestError::NamespaceNotAllowed {
                        path: path.to_path_buf(),
                        keyid: key.keyid(),
                        identity: key.identity.clone(),
                    });
                }
                key.check_valid_now(path)?;
                return Ok(Verified {
                    payload,
                    signer: key.clone(),
                });
            }
            if !signature.keyid.is_empty() && signature.keyid == key.keyid() {
                named_trusted_key = Some(key.keyid());
            }
        }
    }
    match named_trusted_key {
        Some(keyid) => Err(AttestError::BadSignature {
            path: path.to_path_buf(),
            keyid,
        }),
        None => Err(AttestError::UntrustedSigner {
            path: path.to_path_buf(),
            keyids: envelope
                .signatures
                .iter()
                .map(|s| {
                    if s.keyid.is_empty() {
                        "an unnamed key".to_string()
                    } else {
                        s.keyid.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Verifies a raw signature (Ed25519, or ECDSA P-256 in DER or fixed form).
pub fn verify_raw(key: &KeyData, message: &[u8], signature: &[u8]) -> bool {
    use signature::Verifier as _;
    match key {
        KeyData::Ed25519(public) => {
            let Ok(key) = ed25519_dalek::VerifyingKey::try_from(public) else {
                return false;
            };
            let Ok(sig) = ed25519_dalek::Signature::from_slice(signature) else {
                return false;
            };
            key.verify_strict(message, &sig).is_ok()
        }
        KeyData::Ecdsa(public) => {
            let Ok(key) = p256::ecdsa::VerifyingKey::from_sec1_bytes(public.as_sec1_bytes()) else {
                return false;
            };
            let sig = p256::ecdsa::Signature::from_der(signature)
                .or_else(|_| p256::ecdsa::Signature::from_slice(signature));
            sig.is_ok_and(|sig| key.verify(message, &sig).is_ok())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_spec_test_vector() {
        // protocol.md, "Test Vectors": type "http://example.com/HelloWorld", body "hello world".
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn pae_counts_bytes_not_characters() {
        assert_eq!(pae("t", "é".as_bytes()), b"DSSEv1 1 t 2 \xc3\xa9".to_vec());
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
    }

    #[test]
    fn the_spec_example_signature_verifies_and_is_reproduced() {
        // protocol.md's P-256 key (d, X, Y in hex) and its RFC 6979 signature.
        let secret =
            hex::decode("d73ec437fd6346e3619c5ebfdfff0f6916804955ad32ac9ac492b0ede1f6ffb7")
                .unwrap();
        let public = hex::decode("0467cd390f77aa359cb08c2235f652270493a9ed832b0abcc01f70954c0390d2380c782bd54e269125a44f4433aff1432ce94e12bca73aa67ac80cea12608ddf74").unwrap();
        let expected = STANDARD
            .decode("A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA==")
            .unwrap();
        let message = pae("http://example.com/HelloWorld", b"hello world");
        let key =
            KeyData::Ecdsa(ssh_key::public::EcdsaPublicKey::from_sec1_bytes(&public).unwrap());
        assert!(verify_raw(&key, &message, &expected));
        assert!(!verify_raw(
            &key,
            &pae("http://example.com/HelloWorld", b"hello world!"),
            &expected
        ));

        use signature::Signer as _;
        let signer = p256::ecdsa::SigningKey::from_slice(&secret).unwrap();
        let sig: p256::ecdsa::Signature = signer.sign(&message);
        assert_eq!(sig.to_bytes().to_vec(), expected);
    }
}
