//! The dependency stage for .NET (`dotnet8`, `dotnet10`) and custom runtimes
//! (`provided.*`): the work is slipway-dotnet's and slipway-custom's; this
//! maps their outcome onto [`Installed`] and their errors onto exit codes.
//! Python and other runtimes get `None` and go through [`super::dependencies`].

use slipway_config::{Function, RuntimeFamily};
use slipway_package::select::SelectedFile;

use super::dependencies::Installed;
use crate::output::Failure;

fn dotnet_request<'a>(
    function: &'a Function,
    files: &'a [SelectedFile],
) -> slipway_dotnet::Request<'a> {
    slipway_dotnet::Request {
        source: &function.source,
        runtime: function.runtime,
        architecture: function.architecture,
        handler: &function.handler,
        files,
    }
}

fn custom_request<'a>(
    function: &'a Function,
    files: &'a [SelectedFile],
    offline: bool,
) -> slipway_custom::Request<'a> {
    slipway_custom::Request {
        source: &function.source,
        runtime: function.runtime,
        architecture: function.architecture,
        files,
        offline,
    }
}

fn dotnet_failure(e: slipway_dotnet::DotNetError) -> Failure {
    if e.is_input() {
        Failure::input(e)
    } else {
        Failure::failed(miette::Report::new(e))
    }
}

fn custom_failure(e: slipway_custom::CustomError) -> Failure {
    if e.is_input() {
        Failure::input(e)
    } else {
        Failure::failed(miette::Report::new(e))
    }
}

/// The dependency fingerprint of a .NET or custom-runtime function.
pub fn fingerprint(
    function: &Function,
    files: &[SelectedFile],
    offline: bool,
) -> Result<Option<String>, Failure> {
    match function.runtime.family {
        RuntimeFamily::DotNet { .. } => {
            slipway_dotnet::fingerprint(&dotnet_request(function, files))
                .map(Some)
                .map_err(dotnet_failure)
        }
        RuntimeFamily::OsOnly => {
            slipway_custom::fingerprint(&custom_request(function, files, offline))
                .map(Some)
                .map_err(custom_failure)
        }
        _ => Ok(None),
    }
}

/// Publishes or builds the function when its source is a project, checks
/// the package, and reads the inventory.
pub fn install(
    function: &Function,
    files: &[SelectedFile],
    offline: bool,
) -> Result<Option<Installed>, Failure> {
    match function.runtime.family {
        RuntimeFamily::DotNet { .. } => {
            let i = slipway_dotnet::install(&dotnet_request(function, files))
                .map_err(dotnet_failure)?;
            Ok(Some(Installed {
                entries: i.entries,
                distributions: i.distributions,
                lock: i.lock,
                replaces_sources: i.replaces_sources,
            }))
        }
        RuntimeFamily::OsOnly => {
            let i = slipway_custom::install(&custom_request(function, files, offline))
                .map_err(custom_failure)?;
            Ok(Some(Installed {
                entries: i.entries,
                distributions: i.distributions,
                lock: i.lock,
                replaces_sources: i.replaces_sources,
            }))
        }
        _ => Ok(None),
    }
}
