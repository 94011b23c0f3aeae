//! The dependency stage: resolve, fetch and install the function's
//! dependencies for its runtime and architecture.
//!
//! [`for_function`] is the one place that picks an ecosystem by the runtime's
//! family; every ecosystem hands back the same [`Installed`] record, so the
//! rest of the build never asks which one did the work.

use std::path::PathBuf;

use slipway_config::{Architecture, Function, Project, RuntimeFamily};
use slipway_package::input_hash::HashedFile;
use slipway_package::select::SelectedFile;
use slipway_python::{PythonError, Request, SourceSettings, Target};

use crate::error::Failure;
use crate::settings::DependencySettings;
use crate::{Reporter, Shared};

pub use slipway_package::Installed;

/// One ecosystem's installer for one function, prepared once per build of it.
pub trait Dependencies {
    /// A digest of everything that decides what gets installed (the
    /// dependency file and what it includes, index settings, target). Cheap,
    /// never touches the network: it feeds the input hash.
    fn fingerprint(&self) -> Result<String, Failure>;
    /// Resolves and installs.
    fn install(&self, reporter: &dyn Reporter) -> Result<Installed, Failure>;
}

/// The function's installer, chosen by its runtime's family; `None` when it
/// declares no dependencies.
pub(crate) fn for_function(
    function: &Function,
    project: &Project,
    shared: &Shared,
    sources: &[HashedFile],
) -> Result<Option<Box<dyn Dependencies>>, Failure> {
    // Only the ecosystems that package build output read the file list.
    let file_list = || sources.iter().map(|h| h.file.clone()).collect();
    match function.runtime.family {
        RuntimeFamily::Python { .. } => {
            let Some(file) = &function.requirements else {
                return Ok(None);
            };
            Ok(Some(Box::new(Python {
                request: python_request(
                    function,
                    project,
                    &shared.settings.dependencies,
                    shared,
                    file.clone(),
                )?,
                function: function.name.clone(),
            })))
        }
        // package.json and its lockfile in the source folder are the
        // dependency declaration; `requirements` plays no part.
        RuntimeFamily::NodeJs { .. } => {
            if !slipway_node::has_dependencies(&function.source) {
                return Ok(None);
            }
            Ok(Some(Box::new(Node {
                request: node_request(function, project, &shared.settings.dependencies),
                function: function.name.clone(),
            })))
        }
        // A publish folder or a project to publish: the package is its output.
        RuntimeFamily::DotNet { .. } => Ok(Some(Box::new(DotNet {
            function: function.clone(),
            sources: file_list(),
        }))),
        // A `bootstrap`, or a Rust project that builds one.
        RuntimeFamily::OsOnly => Ok(Some(Box::new(Custom {
            function: function.clone(),
            sources: file_list(),
            offline: shared.settings.dependencies.offline,
        }))),
    }
}

/// A .NET function: `dotnet publish` output (made here from a project, or
/// given as a folder), checked and inventoried from its `deps.json`.
struct DotNet {
    function: Function,
    sources: Vec<SelectedFile>,
}

impl DotNet {
    fn request(&self) -> slipway_dotnet::Request<'_> {
        slipway_dotnet::Request {
            source: &self.function.source,
            runtime: self.function.runtime,
            architecture: self.function.architecture,
            handler: &self.function.handler,
            files: &self.sources,
        }
    }
}

impl Dependencies for DotNet {
    fn fingerprint(&self) -> Result<String, Failure> {
        slipway_dotnet::fingerprint(&self.request()).map_err(|e| classify(e.is_input(), e))
    }

    fn install(&self, _reporter: &dyn Reporter) -> Result<Installed, Failure> {
        slipway_dotnet::install(&self.request()).map_err(|e| classify(e.is_input(), e))
    }
}

/// A custom-runtime function (`provided.*`): its `bootstrap`, checked for the
/// target's machine and glibc, or built from a Rust project.
struct Custom {
    function: Function,
    sources: Vec<SelectedFile>,
    offline: bool,
}

impl Custom {
    fn request(&self) -> slipway_custom::Request<'_> {
        slipway_custom::Request {
            source: &self.function.source,
            runtime: self.function.runtime,
            architecture: self.function.architecture,
            files: &self.sources,
            offline: self.offline,
        }
    }
}

impl Dependencies for Custom {
    fn fingerprint(&self) -> Result<String, Failure> {
        slipway_custom::fingerprint(&self.request()).map_err(|e| classify(e.is_input(), e))
    }

    fn install(&self, _reporter: &dyn Reporter) -> Result<Installed, Failure> {
        slipway_custom::install(&self.request()).map_err(|e| classify(e.is_input(), e))
    }
}

fn node_request(
    function: &Function,
    project: &Project,
    settings: &DependencySettings,
) -> slipway_node::Request {
    slipway_node::Request {
        source: function.source.clone(),
        cpu: match function.architecture {
            Architecture::X86_64 => slipway_node::Cpu::X64,
            Architecture::Arm64 => slipway_node::Cpu::Arm64,
        },
        environment: slipway_node::Environment::capture(&function.source),
        registries: None,
        offline: settings.offline,
        cache: slipway_node::Cache::from_env(),
        exclude_packages: function.exclude_packages.clone(),
        accept_native: project.nodejs.accept_native.clone(),
    }
}

/// A Node.js function's production tree from its npm lockfile.
struct Node {
    request: slipway_node::Request,
    function: String,
}

impl Dependencies for Node {
    fn fingerprint(&self) -> Result<String, Failure> {
        slipway_node::fingerprint(&self.request).map_err(node_failure)
    }

    fn install(&self, reporter: &dyn Reporter) -> Result<Installed, Failure> {
        reporter.stage(&format!("{}: installing npm packages", self.function), None);
        let outcome = slipway_node::install(&self.request).map_err(node_failure)?;
        for path in &outcome.scripts_not_run {
            tracing::info!("{}: {path} has install scripts; not run", self.function);
        }
        for skipped in &outcome.skipped_platform {
            tracing::info!(
                "{}: {skipped} is for another platform; left out",
                self.function
            );
        }
        if outcome.files_downloaded > 0 {
            tracing::info!(
                "{}: downloaded {} tarballs, {} bytes",
                self.function,
                outcome.files_downloaded,
                outcome.bytes_downloaded
            );
        }
        Ok(Installed {
            entries: outcome.entries,
            distributions: outcome.distributions,
            lock: None,
            replaces_sources: false,
        })
    }
}

/// The lockfile, package.json and configuration are input (exit 2); a
/// failed integrity or safety check and the network fail the build.
fn node_failure(e: slipway_node::NodeError) -> Failure {
    use slipway_node::NodeError as E;
    let input = matches!(
        e,
        E::Lockfile { .. }
            | E::OutOfSync { .. }
            | E::OutsideRegistry { .. }
            | E::Platform { .. }
            | E::NativeAddon { .. }
            | E::Offline { .. }
    );
    classify(input, e)
}

fn python_request(
    function: &Function,
    project: &Project,
    settings: &DependencySettings,
    shared: &Shared,
    file: PathBuf,
) -> Result<Request, Failure> {
    let target = Target::for_runtime(function.runtime, function.architecture).map_err(failure)?;
    Ok(Request {
        dependency_file: file,
        target,
        settings: SourceSettings {
            cli_index_url: settings.index_url.clone(),
            cli_extra_index_urls: settings.extra_index_urls.clone(),
            cli_find_links: settings.find_links.clone(),
            config_index_url: project.python.index_url.clone(),
            config_extra_index_urls: project.python.extra_index_urls.clone(),
            config_find_links: project.python.find_links.clone(),
            ..Default::default()
        },
        environment: shared.python_environment.clone(),
        offline: settings.offline,
        cache: shared.python_cache.clone(),
        exclude_packages: function.exclude_packages.clone(),
        python: settings.python.clone(),
        build_sdists: settings.build_sdists,
        refresh: settings.refresh,
    })
}

struct Python {
    request: Request,
    function: String,
}

impl Dependencies for Python {
    fn fingerprint(&self) -> Result<String, Failure> {
        slipway_python::fingerprint(&self.request).map_err(failure)
    }

    fn install(&self, reporter: &dyn Reporter) -> Result<Installed, Failure> {
        let reporter = PythonReporter {
            reporter,
            function: &self.function,
        };
        let outcome = slipway_python::install(&self.request, &reporter).map_err(failure)?;
        if outcome.files_downloaded > 0 {
            tracing::info!(
                "{}: downloaded {} files, {} bytes",
                self.function,
                outcome.files_downloaded,
                outcome.bytes_downloaded
            );
        }
        Ok(Installed {
            entries: outcome.entries,
            distributions: outcome.distributions,
            lock: Some(outcome.lock),
            replaces_sources: false,
        })
    }
}

/// Input problems (the file, the requirements, what the index offers) are
/// the user's; failed checks (hashes, ELF, broken wheels) and the network
/// fail the build.
fn failure(e: PythonError) -> Failure {
    let input = matches!(
        e,
        PythonError::NotPython { .. }
            | PythonError::Requirements { .. }
            | PythonError::DependencyFile { .. }
            | PythonError::NotFound { .. }
            | PythonError::Conflict { .. }
            | PythonError::NoUsableWheel { .. }
            | PythonError::Offline { .. }
            | PythonError::Sdist { .. }
    );
    classify(input, e)
}

/// The build's reporter as slipway-python's, each line prefixed with the function.
struct PythonReporter<'a> {
    reporter: &'a dyn Reporter,
    function: &'a str,
}

impl slipway_python::Reporter for PythonReporter<'_> {
    fn stage(&self, message: &str, total: Option<u64>) {
        self.reporter
            .stage(&format!("{}: {message}", self.function), total);
    }
    fn advance(&self, n: u64) {
        self.reporter.advance(n);
    }
    fn explain(&self, line: &str) {
        tracing::info!("{}: {line}", self.function);
    }
}

/// An ecosystem's error as a build failure: the user's input (exit 2), or a
/// check the package failed (exit 1).
fn classify<E: miette::Diagnostic + Send + Sync + 'static>(input: bool, e: E) -> Failure {
    if input {
        Failure::input(e)
    } else {
        Failure::failed(miette::Report::new(e))
    }
}
