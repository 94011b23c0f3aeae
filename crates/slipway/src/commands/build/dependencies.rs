//! The dependency stage of `slipway build`: resolve, fetch and install the
//! function's Python dependencies for its runtime and architecture.
//!
//! Owned by the dependency work (slipway-python); the build calls exactly
//! these two functions.

use std::path::PathBuf;

use clap::Args;
use slipway_artifact::Distribution;
use slipway_config::{Function, Project};
use slipway_package::ZipEntry;

use crate::output::Failure;
use crate::progress::Progress;

/// Flags of `slipway build` that shape dependency resolution.
#[derive(Debug, Clone, Default, Args)]
pub struct DependencyOptions {
    /// The package index (overrides slipway.toml, PIP_INDEX_URL, UV_DEFAULT_INDEX and pip's config)
    #[arg(long, value_name = "URL")]
    pub index_url: Option<String>,
    /// An additional package index, searched after the main one
    #[arg(long, value_name = "URL")]
    pub extra_index_url: Vec<String>,
    /// A folder of wheels to use besides the index
    #[arg(long, value_name = "DIR")]
    pub find_links: Vec<PathBuf>,
    /// Use only the local cache; never touch the network
    #[arg(long)]
    pub offline: bool,
}

/// What the dependency stage installed.
#[derive(Debug, Default)]
pub struct Installed {
    /// Files for the package, paths relative to the package root (the build adds
    /// the `python/` prefix itself when the dependencies go into a layer).
    pub entries: Vec<ZipEntry>,
    /// Every installed distribution, sorted by name.
    pub distributions: Vec<Distribution>,
    /// The lock in hashed requirements.txt form, written to `requirements.lock.txt`.
    pub lock: Option<String>,
}

/// A digest of everything that decides the installed dependencies (the
/// dependency file and the files it includes, index settings, target).
/// Must be cheap and never touch the network: it feeds the input hash that
/// lets a nothing-changed rebuild skip all work.
pub fn fingerprint(
    function: &Function,
    _project: &Project,
    _options: &DependencyOptions,
) -> Result<String, Failure> {
    Ok(match &function.requirements {
        None => "no-dependencies".into(),
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| {
                Failure::input(miette::miette!("cannot read {}: {e}", path.display()))
            })?;
            slipway_artifact::digest::sha256_hex(&bytes)
        }
    })
}

/// Resolves and installs the function's dependencies.
pub fn install(
    function: &Function,
    _project: &Project,
    _options: &DependencyOptions,
    _progress: &Progress,
) -> Result<Installed, Failure> {
    match &function.requirements {
        None => Ok(Installed::default()),
        Some(_) => Err(super::super::not_available(
            "build (with dependencies)",
            "Python dependencies",
        )),
    }
}
