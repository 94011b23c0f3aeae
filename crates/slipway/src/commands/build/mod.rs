//! `slipway build`: deterministic packages, manifests and evidence into dist/.
//!
//! Per function: select sources → hash inputs (stop here when nothing
//! changed) → check the handler → install dependencies → write the zip(s) →
//! manifest.json, SHA256SUMS, lock → evidence. Everything is written into a
//! staging folder that replaces `dist/<function>/` only once complete, so an
//! interrupted build never leaves a half artifact that looks whole.

mod checks;
mod dependencies;
mod evidence;

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::{Deserialize, Serialize};
use slipway_artifact::{
    MANIFEST_FILE_NAME, MANIFEST_SCHEMA_VERSION, Manifest, SHA256SUMS_FILE_NAME,
};
use slipway_config::{Function, Project};
use slipway_package::input_hash::{BuildState, InputHasher, hash_sources, new_state};
use slipway_package::select::Selector;
use slipway_package::zip_writer::DOS_EPOCH;
use slipway_package::{ZipEntry, ZipOptions, write_zip_with_digests};

use crate::context::Context;
use crate::output::{Failure, Render, Status, emit};
use crate::progress::Progress;

pub use dependencies::DependencyOptions;
pub use evidence::EvidenceOptions;

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Functions to build [default: all in slipway.toml]
    pub functions: Vec<String>,
    /// Output folder [default: dist/ beside slipway.toml]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Rebuild even when the inputs did not change
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub dependencies: DependencyOptions,
    #[command(flatten)]
    pub evidence: EvidenceOptions,
}

/// The lock file the dependency stage writes beside the zip.
pub const LOCK_FILE_NAME: &str = "requirements.lock.txt";

#[derive(Debug, Serialize)]
struct BuildReport {
    out: PathBuf,
    functions: Vec<FunctionReport>,
}

/// What `build` did for one function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum BuildStatus {
    Built,
    UpToDate,
}

#[derive(Debug, Serialize, Deserialize)]
struct FunctionReport {
    name: String,
    status: BuildStatus,
    dist_dir: PathBuf,
    input_hash: String,
    artifact: ArtifactSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    layer: Option<ArtifactSummary>,
    dependencies: usize,
    warnings: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ArtifactSummary {
    file: PathBuf,
    sha256: String,
    code_sha256: String,
    zipped_size: u64,
    unzipped_size: u64,
    entries: usize,
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

impl Render for BuildReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for f in &self.functions {
            let verb = match f.status {
                BuildStatus::Built => "built",
                BuildStatus::UpToDate => "up to date",
            };
            writeln!(out, "{verb:>10} {}", f.name)?;
            for (label, a) in std::iter::once(("package", &f.artifact))
                .chain(f.layer.as_ref().map(|l| ("layer", l)))
            {
                writeln!(
                    out,
                    "           {label:<8} {}  {} {}, {} zipped, {} unzipped",
                    a.file.display(),
                    a.entries,
                    if a.entries == 1 { "entry" } else { "entries" },
                    human_size(a.zipped_size),
                    human_size(a.unzipped_size)
                )?;
                writeln!(out, "           sha256   {}", a.sha256)?;
                writeln!(out, "           CodeSha256 {}", a.code_sha256)?;
            }
            if f.dependencies > 0 {
                writeln!(out, "           {} dependencies installed", f.dependencies)?;
            }
        }
        Ok(())
    }
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

pub fn run(ctx: &Context, args: BuildArgs) -> Result<Status, Failure> {
    let project = ctx.project()?;
    let functions = project.select(&args.functions)?;
    let out = Context::out_dir(&project, args.out.as_deref());
    let explicit_epoch = source_date_epoch()?;
    let progress = Progress::new(ctx);
    let mut reports = Vec::new();
    for function in functions {
        let report = build_function(&project, function, &out, explicit_epoch, &args, &progress)?;
        for w in &report.warnings {
            progress.warn(&format!("{}: {w}", report.name));
        }
        reports.push(report);
    }
    drop(progress);
    emit(
        ctx,
        &BuildReport {
            out,
            functions: reports,
        },
    )?;
    Ok(Status::Ok)
}

/// The time evidence states: `SOURCE_DATE_EPOCH` when set, otherwise the
/// source commit's time, otherwise the zip timestamp (1980-01-01).
fn evidence_time(explicit_epoch: Option<i64>, function: &Function) -> i64 {
    explicit_epoch
        .or_else(|| slipway_package::git::commit_time(&function.source))
        .unwrap_or(DOS_EPOCH)
}

/// `SOURCE_DATE_EPOCH` (the reproducible-builds convention) when set.
fn source_date_epoch() -> Result<Option<i64>, Failure> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Err(_) => Ok(None),
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => v.trim().parse::<i64>().ok().filter(|e| *e >= 0).map(Some).ok_or_else(|| {
            Failure::input(miette::miette!(
                code = "slipway::build::source_date_epoch",
                help = "set it to whole seconds since 1970-01-01 UTC, e.g. `SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)`",
                "SOURCE_DATE_EPOCH=`{v}` is not a number of seconds"
            ))
        }),
    }
}

fn build_function(
    project: &Project,
    function: &Function,
    out: &Path,
    explicit_epoch: Option<i64>,
    args: &BuildArgs,
    progress: &Progress,
) -> Result<FunctionReport, Failure> {
    let dist_dir = slipway_artifact::function_dist_dir(out, &function.name);
    let epoch = explicit_epoch.unwrap_or(DOS_EPOCH);
    let mut warnings = checks::runtime_lifecycle(function);

    progress.stage(&format!("{}: selecting sources", function.name), None);
    let selector = Selector::new(
        &function.source,
        &function.include,
        &function.exclude,
        &[out.to_path_buf()],
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
    let mut hashed = hash_sources(&selector, files, &previous)?;
    tracing::debug!(
        read = hashed.iter().filter(|h| h.was_read()).count(),
        elapsed = ?clock.elapsed(),
        "sources hashed"
    );

    let dependency_fingerprint = dependencies::fingerprint(function, project, &args.dependencies)?;
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
        .field("evidence", &evidence::fingerprint(&args.evidence))
        .files(&hashed);
    let input_hash = hasher.finish();
    tracing::debug!(%input_hash, elapsed = ?clock.elapsed(), "input hash");

    if !args.force
        && !args.dependencies.refresh
        && previous.input_hash == input_hash
        && previous.outputs_intact(&dist_dir)
        && let Ok(mut summary) = serde_json::from_value::<FunctionReport>(previous.summary.clone())
    {
        if hashed.iter().any(|h| h.was_read()) {
            // Files too fresh to trust by their stamps were read and found
            // unchanged; record that so the next run need not read them.
            let mut state = new_state(&input_hash, &hashed, started_ns);
            state.outputs = previous.outputs.clone();
            state.summary = previous.summary.clone();
            state.write(&dist_dir)?;
        }
        tracing::info!(function = %function.name, %input_hash, "inputs unchanged; nothing to do");
        summary.status = BuildStatus::UpToDate;
        summary.dist_dir = dist_dir;
        summary.warnings = warnings;
        return Ok(summary);
    }

    checks::handler(function, &hashed)?;

    if function.requirements.is_some() {
        progress.stage(&format!("{}: installing dependencies", function.name), None);
    }
    let installed = dependencies::install(function, project, &args.dependencies, progress)?;

    let sizes: Vec<(&str, u64)> = hashed
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
    let source_entries: Vec<ZipEntry> = hashed.iter_mut().map(|h| h.take_zip_entry()).collect();
    let use_layer = function.dependencies_layer && !installed.entries.is_empty();
    let (function_entries, layer_entries) = if use_layer {
        let layer = installed
            .entries
            .into_iter()
            .map(|mut e| {
                e.path = format!("python/{}", e.path);
                e
            })
            .collect::<Vec<_>>();
        (source_entries, layer)
    } else {
        let mut all = source_entries;
        all.extend(installed.entries);
        (all, Vec::new())
    };

    let staging = staging_dir(out, &function.name)?;
    let result = (|| {
        let options = ZipOptions {
            source_date_epoch: epoch,
            threads: None,
        };
        let total = function_entries.len() + layer_entries.len();
        progress.stage(
            &format!("{}: compressing {total} files", function.name),
            None,
        );
        // Entry SHA-1s for SPDX come from the writer, so evidence never
        // reads the zips back.
        let mut entry_sha1 = std::collections::BTreeMap::new();
        let mut write = |entries, name: String| {
            let written = write_zip_with_digests(entries, &staging.join(name), &options)?;
            entry_sha1.insert(written.record.file.clone(), written.entry_sha1);
            Ok::<_, Failure>(written.record)
        };
        let artifact = write(function_entries, format!("{}.zip", function.name))?;
        let layer = if use_layer {
            Some(write(
                layer_entries,
                format!("{}-layer.zip", function.name),
            )?)
        } else {
            None
        };
        warnings.extend(checks::zipped_size(&artifact, layer.as_ref()));

        let manifest = Manifest {
            schema_version: MANIFEST_SCHEMA_VERSION,
            function: function.name.clone(),
            runtime: function.runtime.id.to_string(),
            architecture: function.architecture.to_string(),
            handler: function.handler.clone(),
            artifact,
            layer,
            input_hash: input_hash.clone(),
            slipway_version: env!("CARGO_PKG_VERSION").to_string(),
            source_commit: source_commit.clone(),
            source_date_epoch: epoch,
            evidence_time: Some(evidence_time(explicit_epoch, function)),
            dependencies: installed.distributions,
        };
        write_file(&staging.join(MANIFEST_FILE_NAME), &manifest.to_json())?;
        write_file(
            &staging.join(SHA256SUMS_FILE_NAME),
            manifest.sha256sums().as_bytes(),
        )?;
        if let Some(lock) = &installed.lock {
            write_file(&staging.join(LOCK_FILE_NAME), lock.as_bytes())?;
        }
        evidence::write(
            function,
            project,
            &manifest,
            &staging,
            &args.evidence,
            entry_sha1,
        )?;

        let mut state = new_state(&input_hash, &hashed, started_ns);
        let names = list_files(&staging)?;
        state.record_outputs(&staging, &names)?;
        let summary = report(function, &dist_dir, &manifest, Vec::new());
        state.summary = serde_json::to_value(&summary).expect("report serialises");
        state.write(&staging)?;
        Ok::<_, Failure>(manifest)
    })();
    let manifest = match result {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    replace_dir(&staging, &dist_dir)?;
    Ok(report(function, &dist_dir, &manifest, warnings))
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

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    slipway_artifact::fs::write_atomic(path, bytes)
        .map_err(|e| Failure::failed(miette::miette!("cannot write {}: {e}", path.display())))
}

fn list_files(dir: &Path) -> Result<Vec<String>, Failure> {
    let read = std::fs::read_dir(dir)
        .map_err(|e| Failure::failed(miette::miette!("cannot list {}: {e}", dir.display())))?;
    let mut names: Vec<String> = read
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

/// A fresh folder beside `dist/<function>/` on the same file system, so the
/// final step is a rename.
fn staging_dir(out: &Path, name: &str) -> Result<PathBuf, Failure> {
    std::fs::create_dir_all(out)
        .map_err(|e| Failure::input(miette::miette!("cannot create {}: {e}", out.display())))?;
    let dir = tempfile::Builder::new()
        .prefix(&format!(".{name}.staging-"))
        .tempdir_in(out)
        .map_err(|e| {
            Failure::failed(miette::miette!(
                "cannot create a staging folder in {}: {e}",
                out.display()
            ))
        })?;
    Ok(dir.keep())
}

/// Swaps the finished staging folder into place. The old folder is moved
/// aside first, so at every instant `dist/<function>/` is either the old
/// complete build or the new one (or briefly absent), never a mix.
fn replace_dir(staging: &Path, dist_dir: &Path) -> Result<(), Failure> {
    let fail = |e: std::io::Error| {
        Failure::failed(miette::miette!(
            "cannot move the build into {}: {e}",
            dist_dir.display()
        ))
    };
    if dist_dir.exists() {
        let parent = dist_dir.parent().unwrap_or(Path::new("."));
        let aside = tempfile::Builder::new()
            .prefix(".old-")
            .tempdir_in(parent)
            .map_err(fail)?
            .keep();
        std::fs::rename(dist_dir, aside.join("build")).map_err(fail)?;
        std::fs::rename(staging, dist_dir).map_err(fail)?;
        let _ = std::fs::remove_dir_all(&aside);
    } else {
        std::fs::rename(staging, dist_dir).map_err(fail)?;
    }
    Ok(())
}

fn now_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}
