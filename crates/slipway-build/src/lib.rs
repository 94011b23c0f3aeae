//! The build engine every front end calls (the CLI's `build` and `plan`,
//! `serve`'s rebuild on change, and any reader that produces a
//! [`slipway_config::Project`]): deterministic packages, manifests and
//! evidence into `dist/`.
//!
//! Per function: select sources → hash inputs (stop here when nothing
//! changed) → check the handler → install dependencies → write the zip(s) →
//! manifest.json, SHA256SUMS, lock → evidence. Everything is written into a
//! staging folder that replaces `dist/<function>/` only once complete, so an
//! interrupted build never leaves a half artifact that looks whole.
//!
//! The engine never prints: progress goes to a [`Reporter`], results come
//! back as values, failures as [`Failure`]s whose [`Kind`] decides the exit code.

mod checks;
pub mod dependencies;
pub mod error;
pub mod evidence;
pub mod settings;
pub mod staging;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use slipway_artifact::{InstalledIn, MANIFEST_SCHEMA_VERSION, Manifest};
use slipway_attest::SigningKey;
use slipway_attest::provenance::BuildEnvironment;
use slipway_config::{Architecture, Function, Project, Runtime};
use slipway_package::input_hash::{BuildState, HashedFile, InputHasher, hash_sources, new_state};
use slipway_package::select::Selector;
use slipway_package::zip_writer::DOS_EPOCH;
use slipway_package::{ZipEntry, ZipOptions, write_zip_with_digests};

pub use dependencies::{Dependencies, Installed};
pub use error::{Failure, Kind};
pub use settings::{BuildFlags, BuildSettings, DependencySettings, SigningSettings};
pub use slipway_artifact::layout;

use crate::staging::{DistLock, Staging};

/// Where the engine reports progress. Implementations must not block.
pub trait Reporter: Sync {
    /// A new stage of work (`api: selecting sources`, …), with a count when known.
    fn stage(&self, message: &str, total: Option<u64>);
    fn advance(&self, _n: u64) {}
    /// Something the user should know that does not stop the build.
    fn warn(&self, _message: &str) {}
}

/// A reporter that reports nothing.
pub struct Silent;

impl Reporter for Silent {
    fn stage(&self, _: &str, _: Option<u64>) {}
}

/// What one build shares across its functions: made once.
pub(crate) struct Shared {
    pub settings: BuildSettings,
    pub key: Option<SigningKey>,
    pub python_environment: slipway_python::sources::Environment,
    pub python_cache: slipway_python::Cache,
    pub build_environment: BuildEnvironment,
}

/// The build engine for one project and one set of settings.
pub struct Engine {
    project: Project,
    shared: Shared,
}

/// What `build` did for one function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildStatus {
    Built,
    UpToDate,
}

/// The result of building (or skipping) one function.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FunctionReport {
    pub name: String,
    pub status: BuildStatus,
    pub dist_dir: PathBuf,
    pub input_hash: String,
    pub artifact: ArtifactSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<ArtifactSummary>,
    pub dependencies: usize,
    pub warnings: Vec<String>,
}

/// One zip of a build, as reports show it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArtifactSummary {
    pub file: PathBuf,
    pub sha256: String,
    pub code_sha256: String,
    pub zipped_size: u64,
    pub unzipped_size: u64,
    pub entries: usize,
}

impl ArtifactSummary {
    fn of(dir: &Path, a: &slipway_artifact::ArtifactRecord) -> ArtifactSummary {
        ArtifactSummary {
            file: dir.join(&a.file),
            sha256: a.sha256.clone(),
            code_sha256: a.code_sha256.clone(),
            zipped_size: a.zipped_size,
            unzipped_size: a.unzipped_size,
            entries: a.entries.len(),
        }
    }
}

/// The result of a build of several functions.
#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    pub out: PathBuf,
    pub functions: Vec<FunctionReport>,
}

/// What a build of one function would do, found without building:
/// the input hash and whether `dist/` already holds its build.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PlannedFunction {
    pub name: String,
    pub input_hash: String,
    pub runtime: &'static Runtime,
    pub architecture: Architecture,
    /// The source folder, relative to slipway.toml.
    pub source: String,
    pub dist_dir: PathBuf,
    pub up_to_date: bool,
}

/// The plan of several functions.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Plan {
    pub functions: Vec<PlannedFunction>,
}

/// What the input hash saw of one function.
struct Inputs {
    dist_dir: PathBuf,
    hashed: Vec<HashedFile>,
    previous: BuildState,
    input_hash: String,
    source_commit: Option<String>,
    started_ns: i128,
    dependencies: Option<Box<dyn Dependencies>>,
    /// What source selection had to say (files too large to scan fully).
    selection_warnings: Vec<String>,
}

impl Inputs {
    /// The previous build's report when it was of these very inputs and its
    /// files are intact.
    fn previous_build(&self) -> Option<FunctionReport> {
        if self.previous.input_hash != self.input_hash
            || !self.previous.outputs_intact(&self.dist_dir)
        {
            return None;
        }
        serde_json::from_value::<FunctionReport>(self.previous.summary.clone()).ok()
    }
}

impl Engine {
    /// Makes the engine: the signing key, the index environment and the
    /// caches are read here, once per build.
    pub fn new(project: Project, settings: BuildSettings) -> Result<Engine, Failure> {
        // A bad key fails before anything is written.
        let key = match &settings.signing {
            Some(signing) => Some(SigningKey::load(
                signing.key.as_deref(),
                std::env::var(slipway_attest::keys::SIGNING_KEY_ENV).ok(),
            )?),
            None => None,
        };
        Ok(Engine {
            project,
            shared: Shared {
                settings,
                key,
                python_environment: slipway_python::sources::Environment::capture(),
                python_cache: slipway_python::Cache::from_env(),
                build_environment: BuildEnvironment::detect(|name| std::env::var(name).ok()),
            },
        })
    }

    pub fn project(&self) -> &Project {
        &self.project
    }

    pub fn settings(&self) -> &BuildSettings {
        &self.shared.settings
    }

    /// The functions named (all when `names` is empty).
    pub fn select(&self, names: &[String]) -> Result<Vec<&Function>, Failure> {
        Ok(self.project.select(names)?)
    }

    /// The input hash of each function and whether `dist/` holds its build;
    /// resolves nothing and writes nothing.
    pub fn plan(&self, functions: &[&Function], reporter: &dyn Reporter) -> Result<Plan, Failure> {
        let mut planned = Vec::new();
        for function in functions {
            let inputs = self.inputs(function, reporter)?;
            planned.push(PlannedFunction {
                name: function.name.clone(),
                up_to_date: inputs.previous_build().is_some(),
                input_hash: inputs.input_hash,
                runtime: function.runtime,
                architecture: function.architecture,
                source: function.source_relative.clone(),
                dist_dir: inputs.dist_dir,
            });
        }
        Ok(Plan { functions: planned })
    }

    /// Builds the functions in order; warnings go to the reporter as each
    /// function finishes.
    pub fn build_all(
        &self,
        functions: &[&Function],
        reporter: &dyn Reporter,
    ) -> Result<BuildReport, Failure> {
        let mut reports = Vec::new();
        for function in functions {
            let report = self.build_function(function, reporter)?;
            for w in &report.warnings {
                reporter.warn(&format!("{}: {w}", report.name));
            }
            reports.push(report);
        }
        Ok(BuildReport {
            out: self.shared.settings.out.clone(),
            functions: reports,
        })
    }

    /// Builds one function into `dist/<function>/`, or finds it up to date.
    pub fn build_function(
        &self,
        function: &Function,
        reporter: &dyn Reporter,
    ) -> Result<FunctionReport, Failure> {
        let out = &self.shared.settings.out;
        // One build changes dist/ at a time: a second one waits, then finds
        // the first one's work up to date instead of doing it again.
        let lock = DistLock::acquire(out, || {
            reporter.stage(
                &format!(
                    "{}: waiting for another build in {}",
                    function.name,
                    out.display()
                ),
                None,
            )
        })?;
        lock.sweep(out);
        let mut warnings = checks::runtime_lifecycle(function);
        let mut inputs = self.inputs(function, reporter)?;
        warnings.append(&mut inputs.selection_warnings);

        if !self.shared.settings.force
            && !self.shared.settings.dependencies.refresh
            && let Some(mut summary) = inputs.previous_build()
        {
            if inputs.hashed.iter().any(|h| h.was_read()) {
                // Files too fresh to trust by their stamps were read and found
                // unchanged; record that so the next run need not read them.
                let mut state = new_state(&inputs.input_hash, &inputs.hashed, inputs.started_ns);
                state.outputs = inputs.previous.outputs.clone();
                state.summary = inputs.previous.summary.clone();
                state.write(&inputs.dist_dir)?;
            }
            tracing::info!(function = %function.name, input_hash = %inputs.input_hash, "inputs unchanged; nothing to do");
            summary.status = BuildStatus::UpToDate;
            summary.dist_dir = inputs.dist_dir;
            summary.warnings = warnings;
            write_deployment_settings(function, &summary.dist_dir)?;
            return Ok(summary);
        }
        let (manifest, dist_dir) = self.build_changed(function, inputs, &mut warnings, reporter)?;
        write_deployment_settings(function, &dist_dir)?;
        drop(lock);
        Ok(report(function, &dist_dir, &manifest, warnings))
    }

    /// Sources selected and hashed, the previous state read, the input hash.
    fn inputs(&self, function: &Function, reporter: &dyn Reporter) -> Result<Inputs, Failure> {
        let settings = &self.shared.settings;
        let out = &settings.out;
        let dist_dir = layout::function_dist_dir(out, &function.name);
        let epoch = settings.source_date_epoch.unwrap_or(DOS_EPOCH);
        reporter.stage(&format!("{}: selecting sources", function.name), None);
        let selector = Selector::new(
            &function.source,
            &function.include,
            &function.exclude,
            std::slice::from_ref(out),
        )?;
        let clock = std::time::Instant::now();
        // The previous state is parsed while the walk waits on the file system.
        let (files, previous) = std::thread::scope(|scope| {
            let previous = scope.spawn(|| BuildState::read(&dist_dir));
            let files = selector.select();
            (files, previous.join().unwrap_or_default())
        });
        let files = files?;
        // Before reading anything: the sources alone may already be too large.
        checks::unzipped_size(
            &files
                .iter()
                .map(|f| (f.zip_path.as_str(), f.size))
                .collect::<Vec<_>>(),
        )?;
        tracing::debug!(files = files.len(), elapsed = ?clock.elapsed(), "sources selected, previous state read");
        let started_ns = now_ns();
        let hashed = hash_sources(&selector, files, &previous)?;
        let selection_warnings = selector.take_warnings();
        tracing::debug!(
            read = hashed.iter().filter(|h| h.was_read()).count(),
            elapsed = ?clock.elapsed(),
            "sources hashed"
        );

        let dependencies =
            dependencies::for_function(function, &self.project, &self.shared, &hashed)?;
        let dependency_fingerprint = match &dependencies {
            None => "no-dependencies".to_string(),
            // Where files come from (`--offline`, `--python`) is left out on
            // purpose: only what is installed and where it goes counts.
            Some(d) => {
                let mut text = d.fingerprint()?;
                text.push_str(if function.dependencies_layer {
                    "|layer"
                } else {
                    "|function"
                });
                text
            }
        };
        let source_commit = slipway_package::git::head_commit(&function.source);
        let mut hasher = InputHasher::new();
        hasher.field("slipway", env!("CARGO_PKG_VERSION"));
        for (k, v) in function.fingerprint_fields() {
            hasher.field(k, &v);
        }
        hasher
            .field("dependencies", &dependency_fingerprint)
            .field("source_date_epoch", &epoch.to_string())
            .field("source_commit", source_commit.as_deref().unwrap_or(""))
            .field("evidence", &evidence::fingerprint(self.shared.key.as_ref()))
            .files(&hashed);
        let input_hash = hasher.finish();
        tracing::debug!(%input_hash, elapsed = ?clock.elapsed(), "input hash");
        Ok(Inputs {
            dist_dir,
            hashed,
            previous,
            input_hash,
            source_commit,
            started_ns,
            dependencies,
            selection_warnings,
        })
    }

    /// Installs, packages and writes the evidence of a function whose inputs
    /// changed, then swaps the result into `dist/<function>/`.
    fn build_changed(
        &self,
        function: &Function,
        mut inputs: Inputs,
        warnings: &mut Vec<String>,
        reporter: &dyn Reporter,
    ) -> Result<(Manifest, PathBuf), Failure> {
        let settings = &self.shared.settings;
        let out = &settings.out;
        let epoch = settings.source_date_epoch.unwrap_or(DOS_EPOCH);
        checks::handler(function, &inputs.hashed)?;

        let installed = match &inputs.dependencies {
            Some(d) => {
                reporter.stage(&format!("{}: installing dependencies", function.name), None);
                d.install(reporter)?
            }
            None => Installed::default(),
        };
        let use_layer = function.dependencies_layer && !installed.entries.is_empty();
        let installed_in = if use_layer {
            InstalledIn::Layer
        } else {
            InstalledIn::Function
        };
        let mut distributions = installed.distributions;
        for d in &mut distributions {
            d.installed_in = installed_in;
        }

        // A project's build output replaces its sources in the package; the
        // build state still records every source file's stamps.
        let packaged_sources = if installed.replaces_sources {
            &mut inputs.hashed[..0]
        } else {
            &mut inputs.hashed[..]
        };
        let sizes: Vec<(&str, u64)> = packaged_sources
            .iter()
            .map(|h| (h.file.zip_path.as_str(), h.file.size))
            .chain(
                installed
                    .entries
                    .iter()
                    .map(|e| (e.path.as_str(), checks::entry_size(e))),
            )
            .collect();
        checks::unzipped_size(&sizes)?;
        drop(sizes);
        let source_entries: Vec<ZipEntry> = packaged_sources
            .iter_mut()
            .map(|h| h.take_zip_entry())
            .collect();
        let (function_entries, layer_entries) = if use_layer {
            let layer = installed
                .entries
                .into_iter()
                .map(|mut e| {
                    // Lambda puts a layer's `python/` or `nodejs/node_modules` on the module path.
                    e.path = match function.runtime.family {
                        slipway_config::RuntimeFamily::NodeJs { .. } => {
                            format!("nodejs/{}", e.path)
                        }
                        _ => format!("python/{}", e.path),
                    };
                    e
                })
                .collect::<Vec<_>>();
            (source_entries, layer)
        } else {
            let mut all = source_entries;
            all.extend(installed.entries);
            (all, Vec::new())
        };

        let staging = Staging::create(out, &function.name)?;
        let dir = staging.path();
        let options = ZipOptions {
            source_date_epoch: epoch,
            threads: None,
        };
        let total = function_entries.len() + layer_entries.len();
        reporter.stage(
            &format!("{}: compressing {total} files", function.name),
            None,
        );
        // Entry SHA-1s for SPDX come from the writer, so evidence never
        // reads the zips back for them.
        let mut entry_sha1 = std::collections::BTreeMap::new();
        let mut write = |entries, name: String| {
            let written = write_zip_with_digests(entries, &dir.join(name), &options)?;
            entry_sha1.insert(written.record.file.clone(), written.entry_sha1);
            Ok::<_, Failure>(written.record)
        };
        let artifact = write(function_entries, layout::zip_file_name(&function.name))?;
        let layer = if use_layer {
            Some(write(
                layer_entries,
                layout::layer_zip_file_name(&function.name),
            )?)
        } else {
            None
        };
        warnings.extend(checks::zipped_size(&artifact, layer.as_ref()));

        let manifest = Manifest {
            schema_version: MANIFEST_SCHEMA_VERSION,
            function: function.name.clone(),
            runtime: function.runtime,
            architecture: function.architecture,
            handler: function.handler.clone(),
            artifact,
            layer,
            input_hash: inputs.input_hash.clone(),
            slipway_version: env!("CARGO_PKG_VERSION").to_string(),
            source_commit: inputs.source_commit.clone(),
            source_date_epoch: epoch,
            evidence_time: Some(
                settings
                    .source_date_epoch
                    .or_else(|| slipway_package::git::commit_time(&function.source))
                    .unwrap_or(DOS_EPOCH),
            ),
            dependencies: distributions,
        };
        evidence::write_file(&dir.join(layout::MANIFEST_FILE_NAME), &manifest.to_json())?;
        evidence::write_file(
            &dir.join(layout::SHA256SUMS_FILE_NAME),
            manifest.sha256sums().as_bytes(),
        )?;
        if let Some(lock) = &installed.lock {
            evidence::write_file(&dir.join(layout::LOCK_FILE_NAME), lock.as_bytes())?;
        }
        evidence::write(
            &evidence::EvidenceInput {
                function,
                project: &self.project,
                manifest: &manifest,
                lock: installed.lock.as_deref(),
                environment: &self.shared.build_environment,
                key: self.shared.key.as_ref(),
                entry_sha1,
            },
            dir,
        )?;

        let mut state = new_state(&inputs.input_hash, &inputs.hashed, inputs.started_ns);
        let names = list_files(dir)?;
        state.record_outputs(dir, &names)?;
        let summary = report(function, &inputs.dist_dir, &manifest, Vec::new());
        state.summary = serde_json::to_value(&summary).expect("report serialises");
        state.write(dir)?;
        staging.commit(&inputs.dist_dir)?;
        Ok((manifest, inputs.dist_dir))
    }
}

/// The report of a function just built.
fn report(
    function: &Function,
    dist_dir: &Path,
    manifest: &Manifest,
    warnings: Vec<String>,
) -> FunctionReport {
    FunctionReport {
        name: function.name.clone(),
        status: BuildStatus::Built,
        dist_dir: dist_dir.to_path_buf(),
        input_hash: manifest.input_hash.clone(),
        artifact: ArtifactSummary::of(dist_dir, &manifest.artifact),
        layer: manifest
            .layer
            .as_ref()
            .map(|l| ArtifactSummary::of(dist_dir, l)),
        dependencies: manifest.dependencies.len(),
        warnings,
    }
}

fn list_files(dir: &Path) -> Result<Vec<String>, Failure> {
    let read =
        std::fs::read_dir(dir).map_err(|e| Failure::io("list", dir, e, Kind::CheckFailed))?;
    let mut names: Vec<String> = read
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

fn now_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

/// `function.json`: the resolved settings deployers other than slipway read
/// (the Terraform module). Outside the input hash and the signed evidence: a
/// memory or trigger change rewrites only this file, never the package.
fn write_deployment_settings(function: &Function, dist_dir: &Path) -> Result<(), Failure> {
    let path = dist_dir.join(slipway_config::DEPLOYMENT_SETTINGS_FILE_NAME);
    let json = slipway_config::DeploymentSettings::from(function).to_json();
    // A nothing-changed build writes nothing: the same settings are already
    // there, and rewriting them (with its fsync) is most of a no-op's I/O.
    if std::fs::read(&path).is_ok_and(|on_disk| on_disk == json) {
        return Ok(());
    }
    evidence::write_file(&path, &json)
}
