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

/// What an ecosystem's dependency stage adds to a package: the one record
/// every installer (Python, Node.js, .NET, custom runtimes) hands the build.
#[derive(Debug, Default)]
pub struct Installed {
    /// Files for the package, paths relative to the package root (the build
    /// adds the layer prefix itself when the dependencies go into a layer).
    pub entries: Vec<ZipEntry>,
    /// Every installed distribution, sorted by name.
    pub distributions: Vec<slipway_artifact::Distribution>,
    /// The lock to write beside the zip (`requirements.lock.txt`), when the
    /// ecosystem's own lock does not already ship or stay in the source.
    pub lock: Option<String>,
    /// The entries are the function itself (a binary or publish output built
    /// from a project), so the project's sources are not packaged.
    pub replaces_sources: bool,
}
pub use zip_writer::{
    EntryData, SourceDateEpoch, WrittenZip, ZipEntry, ZipOptions, write_zip, write_zip_with_digests,
};
