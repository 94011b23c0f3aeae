//! Turning selected files into a deployment package: which source files go in
//! ([`select`]), the byte-reproducible ZIP writer ([`zip_writer`]), and the
//! input hash that makes nothing-changed rebuilds free ([`input_hash`]).

pub mod elf;
pub mod error;
pub mod git;
pub mod input_hash;
pub mod select;
pub mod zip_writer;

pub use error::PackageError;
pub use zip_writer::{
    EntryData, SourceDateEpoch, WrittenZip, ZipEntry, ZipOptions, write_zip, write_zip_with_digests,
};
