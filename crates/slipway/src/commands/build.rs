//! `slipway build` and `slipway plan`: parse, call the build engine, render.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use slipway_build::{BuildFlags, BuildReport, BuildSettings, BuildStatus, Engine, Plan};

use crate::context::Context;
use crate::output::{Failure, Render, Status, emit};
use crate::progress::Progress;

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

/// Print, per function, the input hash and whether dist/ already holds an
/// up-to-date build. Resolves nothing, downloads nothing, writes nothing.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Functions to plan [default: all in slipway.toml]
    pub functions: Vec<String>,
    /// Output folder [default: dist/ beside slipway.toml]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub dependencies: DependencyOptions,
    #[command(flatten)]
    pub evidence: EvidenceOptions,
}

/// Flags that shape dependency resolution.
#[derive(Debug, Clone, Default, Args)]
pub struct DependencyOptions {
    /// The package index (overrides slipway.toml, PIP_INDEX_URL, UV_DEFAULT_INDEX and pip's config)
    #[arg(long, value_name = "URL", value_parser = slipway_config::parse_http_url)]
    pub index_url: Option<String>,
    /// An additional package index, searched after the main one
    #[arg(long, value_name = "URL", value_parser = slipway_config::parse_http_url)]
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

/// Flags for evidence.
#[derive(Debug, Clone, Default, Args)]
pub struct EvidenceOptions {
    /// Sign the provenance (DSSE) and the zips (OpenSSH sshsig) with --key or SLIPWAY_SIGNING_KEY
    #[arg(long)]
    pub sign: bool,
    /// The private signing key (OpenSSH or PKCS#8 PEM, Ed25519 or ECDSA P-256); implies --sign.
    /// Without it, --sign reads the key itself from SLIPWAY_SIGNING_KEY
    #[arg(long, value_name = "PATH")]
    pub key: Option<PathBuf>,
}

fn flags(
    out: Option<PathBuf>,
    force: bool,
    d: DependencyOptions,
    e: EvidenceOptions,
) -> BuildFlags {
    BuildFlags {
        out,
        force,
        index_url: d.index_url,
        extra_index_urls: d.extra_index_url,
        find_links: d.find_links,
        offline: d.offline,
        refresh: d.refresh,
        no_build: d.no_build,
        python: d.python,
        sign: e.sign,
        key: e.key,
    }
}

fn engine(ctx: &Context, flags: BuildFlags) -> Result<Engine, Failure> {
    let project = ctx.project()?;
    let settings = BuildSettings::resolve(flags, &project, |name| std::env::var(name).ok())?;
    Engine::new(project, settings)
}

pub fn run(ctx: &Context, args: BuildArgs) -> Result<Status, Failure> {
    slipway_build::staging::remove_staging_on_interrupt();
    let engine = engine(
        ctx,
        flags(args.out, args.force, args.dependencies, args.evidence),
    )?;
    let functions = engine.select(&args.functions)?;
    let progress = Progress::new(ctx);
    let report = engine.build_all(&functions, &progress)?;
    let sam = crate::sam::after_build(ctx, &report.out, &progress)?;
    drop(progress);
    emit(ctx, &Rendered { report, sam })?;
    Ok(Status::Ok)
}

pub fn run_plan(ctx: &Context, args: PlanArgs) -> Result<Status, Failure> {
    let engine = engine(
        ctx,
        flags(args.out, false, args.dependencies, args.evidence),
    )?;
    let functions = engine.select(&args.functions)?;
    let progress = Progress::new(ctx);
    let plan = engine.plan(&functions, &progress)?;
    drop(progress);
    emit(ctx, &RenderedPlan(plan))?;
    Ok(Status::Ok)
}

impl slipway_build::Reporter for Progress {
    fn stage(&self, message: &str, total: Option<u64>) {
        Progress::stage(self, message, total);
    }
    fn advance(&self, n: u64) {
        Progress::advance(self, n);
    }
    fn warn(&self, message: &str) {
        Progress::warn(self, message);
    }
}

#[derive(serde::Serialize)]
struct Rendered {
    #[serde(flatten)]
    report: BuildReport,
    /// `.aws-sam/build/template.yaml`, when built from a SAM template.
    #[serde(skip_serializing_if = "Option::is_none")]
    sam: Option<slipway_sam::BuildTemplate>,
}

impl Render for Rendered {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for f in &self.report.functions {
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
        if let Some(sam) = &self.sam {
            writeln!(out, "{:>10} {}", "wrote", sam.path.display())?;
        }
        Ok(())
    }
}

#[derive(serde::Serialize)]
#[serde(transparent)]
struct RenderedPlan(Plan);

impl Render for RenderedPlan {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for f in &self.0.functions {
            let state = if f.up_to_date {
                "up to date"
            } else {
                "to build"
            };
            writeln!(out, "{state:>10} {}", f.name)?;
            writeln!(
                out,
                "           {} {}, source {}",
                f.runtime, f.architecture, f.source
            )?;
            writeln!(out, "           input    {}", f.input_hash)?;
            writeln!(out, "           dist     {}", f.dist_dir.display())?;
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
