//! .NET functions (`dotnet8`, `dotnet10`): the package is `dotnet publish`
//! output.
//!
//! - A publish folder in `source` is packaged as it is.
//! - A project in `source` (`*.csproj`, `*.fsproj`, `*.vbproj`) is published
//!   with Lambda's settings ([`publish`]) into a private folder when `dotnet`
//!   is on `PATH`, and that output is packaged instead of the sources.
//! - Either way, before anything ships: the handler names an assembly in the
//!   package, its `.deps.json` and `.runtimeconfig.json` are there, and the
//!   runtimeconfig's framework is the runtime's ([`checks`]).
//! - The inventory is the NuGet packages `deps.json` lists, with the
//!   `sha512` it records as their integrity ([`deps`]).

pub mod checks;
pub mod deps;
mod error;
pub mod handler;
pub mod publish;
#[cfg(feature = "testing")]
pub mod testing;

use std::path::Path;

use slipway_config::{Architecture, Runtime};
use slipway_package::select::SelectedFile;

pub use error::DotNetError;
pub use handler::Handler;

/// What a .NET function needs from the build.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The function's source folder: a publish folder or a project.
    pub source: &'a Path,
    pub runtime: &'static Runtime,
    pub architecture: Architecture,
    pub handler: &'a str,
    /// The files the build selected from `source`, as package paths.
    pub files: &'a [SelectedFile],
}

/// What the build adds to the package (no lock: the ecosystem's own lock
/// ships in the package or stays in the source).
pub use slipway_package::Installed;

fn major(runtime: &Runtime) -> Result<u32, DotNetError> {
    runtime
        .dotnet_major()
        .ok_or_else(|| DotNetError::NotDotNet {
            runtime: runtime.id.to_string(),
        })
}

/// A digest of what decides the package besides the source files (which
/// the build hashes itself): for a project, the publish settings and the
/// SDK's version.
pub fn fingerprint(request: &Request) -> Result<String, DotNetError> {
    major(request.runtime)?;
    Handler::parse(request.handler)?;
    match publish::project(request.source)? {
        None => Ok("dotnet:folder".into()),
        Some(_) => Ok(format!(
            "dotnet:publish|{}|{}",
            publish::arguments(Path::new("P"), Path::new("O"), request.architecture).join(" "),
            publish::sdk_version().unwrap_or_default()
        )),
    }
}

/// Publishes the project (when `source` is one) and checks the package,
/// then reads its inventory.
pub fn install(request: &Request) -> Result<Installed, DotNetError> {
    let major = major(request.runtime)?;
    let handler = Handler::parse(request.handler)?;
    match publish::project(request.source)? {
        None => {
            let package = checks::Package::from_files(request.files);
            let deps = checks::check(&package, &handler, request.runtime)?;
            Ok(Installed {
                entries: Vec::new(),
                distributions: deps::inventory(&deps.name, &deps.text)?,
                lock: None,
                replaces_sources: false,
            })
        }
        Some(project) => {
            let entries = publish::publish(request.source, &project, request.architecture, major)?;
            let package = checks::Package::from_entries(&entries);
            let deps = checks::check(&package, &handler, request.runtime)?;
            Ok(Installed {
                distributions: deps::inventory(&deps.name, &deps.text)?,
                entries,
                lock: None,
                replaces_sources: true,
            })
        }
    }
}
