//! Evidence that others can check: the in-toto/SLSA provenance statement
//! ([`provenance`]), its DSSE envelope ([`dsse`]), OpenSSH signatures of the
//! zips ([`sshsig`]), the keys they use ([`keys`]), and the checks
//! `slipway verify` runs over a built function ([`verify`]).

pub mod archive;
pub mod dsse;
mod error;
pub mod keys;
pub mod provenance;
pub mod sshsig;
pub mod verify;

pub use error::AttestError;
pub use keys::{KeyKind, SigningKey, TrustedKeys};
pub use sshsig::SSHSIG_NAMESPACE;
