//! The dependency stage of `slipway build`: resolve, fetch and install the
//! function's Python dependencies for its runtime and architecture.
//!
//! The work is slipway-python's; this file maps flags and slipway.toml onto
//! its request and its errors onto exit codes. The build calls exactly
//! [`fingerprint`] and [`install`].

use std::path::PathBuf;

use clap::Args;
use slipway_artifact::Distribution;
use slipway_config::{Function, Project};
use slipway_package::ZipEntry;
use slipway_python::{Cache, PythonError, Reporter, Request, SourceSettings, Target};

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
    /// Resolve again against the index even when the dependency file, index
    /// settings and target are unchanged (otherwise the last resolution is reused
    /// and no index is asked); implies a rebuild
    #[arg(long)]
    pub refresh: bool,
    /// Never build source distributions (by default a pure-Python sdist is
    /// built when a version has no wheel; native code is always refused)
    #[arg(long)]
    pub no_build: bool,
    /// The Python that builds pure-Python sdists [default: the target's version from pyenv, else python3]
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
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

fn request(
    function: &Function,
    project: &Project,
    options: &DependencyOptions,
    file: PathBuf,
) -> Result<Request, Failure> {
    let target = Target::for_runtime(function.runtime, function.architecture)?;
    Ok(Request {
        dependency_file: file,
        target,
        settings: SourceSettings {
            cli_index_url: options.index_url.clone(),
            cli_extra_index_urls: options.extra_index_url.clone(),
            cli_find_links: options
                .find_links
                .iter()
                .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
                .collect(),
            config_index_url: project.python.index_url.clone(),
            config_extra_index_urls: project.python.extra_index_urls.clone(),
            config_find_links: project.python.find_links.clone(),
            ..Default::default()
        },
        environment: slipway_python::sources::Environment::capture(),
        offline: options.offline,
        cache: Cache::from_env(),
        exclude_packages: function.exclude_packages.clone(),
        python: options.python.clone(),
        build_sdists: !options.no_build,
        refresh: options.refresh,
    })
}

/// A digest of everything that decides the installed dependencies (the
/// dependency file and the files it includes, index settings, target).
/// Cheap and never touches the network: it feeds the input hash that lets a
/// nothing-changed rebuild skip all work.
pub fn fingerprint(
    function: &Function,
    project: &Project,
    options: &DependencyOptions,
) -> Result<String, Failure> {
    let Some(file) = &function.requirements else {
        return Ok("no-dependencies".into());
    };
    let mut text = slipway_python::fingerprint(&request(function, project, options, file.clone())?)
        .map_err(failure)?;
    // `--offline` and `--python` change where files come from, not which: left out on purpose.
    text.push_str(if function.dependencies_layer {
        "|layer"
    } else {
        "|function"
    });
    Ok(text)
}

/// Resolves and installs the function's dependencies.
pub fn install(
    function: &Function,
    project: &Project,
    options: &DependencyOptions,
    progress: &Progress,
) -> Result<Installed, Failure> {
    let Some(file) = &function.requirements else {
        return Ok(Installed::default());
    };
    let request = request(function, project, options, file.clone())?;
    let reporter = ProgressReporter {
        progress,
        function: &function.name,
    };
    let outcome = slipway_python::install(&request, &reporter).map_err(failure)?;
    let installed_in = if function.dependencies_layer && !outcome.entries.is_empty() {
        "layer"
    } else {
        "function"
    };
    let mut distributions = outcome.distributions;
    for d in &mut distributions {
        d.installed_in = installed_in.into();
    }
    if outcome.files_downloaded > 0 {
        tracing::info!(
            "{}: downloaded {} files, {} bytes",
            function.name,
            outcome.files_downloaded,
            outcome.bytes_downloaded
        );
    }
    Ok(Installed {
        entries: outcome.entries,
        distributions,
        lock: Some(outcome.lock),
    })
}

/// Input problems (the file, the requirements, what the index offers) exit 2;
/// failed checks (hashes, ELF, broken wheels) and the network exit 1.
fn failure(e: PythonError) -> Failure {
    match e {
        PythonError::NotPython { .. }
        | PythonError::Requirements { .. }
        | PythonError::DependencyFile { .. }
        | PythonError::NotFound { .. }
        | PythonError::Conflict { .. }
        | PythonError::NoUsableWheel { .. }
        | PythonError::Offline { .. }
        | PythonError::Sdist { .. } => Failure::input(e),
        _ => Failure::failed(miette::Report::new(e)),
    }
}

/// Stages on the progress line; `-v` explanations through the log.
struct ProgressReporter<'a> {
    progress: &'a Progress,
    function: &'a str,
}

impl Reporter for ProgressReporter<'_> {
    fn stage(&self, message: &str, total: Option<u64>) {
        self.progress
            .stage(&format!("{}: {message}", self.function), total);
    }
    fn advance(&self, n: u64) {
        self.progress.advance(n);
    }
    fn explain(&self, line: &str) {
        tracing::info!("{}: {line}", self.function);
    }
}
