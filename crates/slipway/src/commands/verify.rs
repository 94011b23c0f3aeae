//! `slipway verify`: check artifacts against their manifest, evidence and signatures.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;
use slipway_artifact::{MANIFEST_FILE_NAME, Manifest};
use slipway_attest::TrustedKeys;
use slipway_attest::verify::{Check, CheckStatus, verify_function};

use crate::context::Context;
use crate::output::{Failure, Render, Status, emit};
use crate::progress::Progress;

/// Check built functions: the zips' SHA-256 and every entry against
/// manifest.json and SHA256SUMS, that the SBOMs and the provenance name the
/// same digest, and (with --trusted-keys) the DSSE and sshsig signatures.
/// Exits 1 when any check fails.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Functions to verify [default: all in slipway.toml]
    pub functions: Vec<String>,
    /// Public keys or an allowed_signers file whose keys may sign (repeatable).
    /// With it, missing or bad signatures fail; without it, signatures are not checked
    #[arg(long, value_name = "FILE")]
    pub trusted_keys: Vec<PathBuf>,
    /// The folder `slipway build` wrote [default: dist/ beside slipway.toml]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Also check that the live Lambda function runs the verified code
    #[arg(long)]
    pub deployed: bool,
}

#[derive(Serialize)]
struct VerifyReport {
    ok: bool,
    functions: Vec<FunctionReport>,
}

#[derive(Serialize)]
struct FunctionReport {
    function: String,
    dir: PathBuf,
    ok: bool,
    checks: Vec<Check>,
}

impl Render for VerifyReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for f in &self.functions {
            writeln!(out, "{} ({})", f.function, f.dir.display())?;
            for c in &f.checks {
                let mark = match c.status {
                    CheckStatus::Passed => "passed ",
                    CheckStatus::Failed => "FAILED ",
                    CheckStatus::Skipped => "skipped",
                };
                writeln!(out, "  {mark} {:<15} {}: {}", c.check, c.target, c.message)?;
                if c.status == CheckStatus::Failed
                    && let Some(help) = &c.help
                {
                    writeln!(out, "          help: {help}")?;
                }
            }
        }
        let failed: usize = self
            .functions
            .iter()
            .map(|f| {
                f.checks
                    .iter()
                    .filter(|c| c.status == CheckStatus::Failed)
                    .count()
            })
            .sum();
        if failed == 0 {
            writeln!(out, "verified: every check passed")
        } else {
            writeln!(out, "verification failed: {failed} check(s) failed")
        }
    }
}

pub fn run(ctx: &Context, args: VerifyArgs) -> Result<Status, Failure> {
    if args.deployed {
        return verify_deployed(ctx, &args);
    }
    let project = ctx.project()?;
    let functions = project.select(&args.functions)?;
    let out = args
        .out
        .as_deref()
        .map(Context::user_path)
        .unwrap_or_else(|| Context::default_out(&project));
    let trusted = if args.trusted_keys.is_empty() {
        None
    } else {
        let paths: Vec<PathBuf> = args
            .trusted_keys
            .iter()
            .map(|p| Context::user_path(p))
            .collect();
        Some(TrustedKeys::read(&paths)?)
    };

    let progress = Progress::new(ctx);
    let mut reports = Vec::new();
    for function in functions {
        progress.stage(&format!("{}: verifying", function.name), None);
        let dir = slipway_artifact::function_dist_dir(&out, &function.name);
        let checks = verify_dir(&dir, trusted.as_ref());
        reports.push(FunctionReport {
            function: function.name.clone(),
            ok: checks.iter().all(|c| c.status != CheckStatus::Failed),
            dir,
            checks,
        });
    }
    drop(progress);
    let ok = reports.iter().all(|r| r.ok);
    emit(
        ctx,
        &VerifyReport {
            ok,
            functions: reports,
        },
    )?;
    Ok(if ok { Status::Ok } else { Status::CheckFailed })
}

fn verify_dir(dir: &Path, trusted: Option<&TrustedKeys>) -> Vec<Check> {
    match Manifest::read(&dir.join(MANIFEST_FILE_NAME)) {
        Ok(manifest) => verify_function(dir, &manifest, trusted),
        Err(e) => {
            use miette::Diagnostic as _;
            vec![Check {
                check: "manifest",
                target: MANIFEST_FILE_NAME.into(),
                status: CheckStatus::Failed,
                message: e.to_string(),
                help: e.help().map(|h| h.to_string()),
            }]
        }
    }
}

/// `--deployed`: compares the live function's CodeSha256 with the manifest.
/// The AWS work implements it; until then it says so plainly.
fn verify_deployed(_ctx: &Context, _args: &VerifyArgs) -> Result<Status, Failure> {
    Err(Failure::input(miette::miette!(
        code = "slipway::verify::deployed_not_available",
        help = "verify the built files without --deployed; `slipway deploy` proves the live CodeSha256 after each deploy",
        "`slipway verify --deployed` (checking the live Lambda function) is not available in this build"
    )))
}
