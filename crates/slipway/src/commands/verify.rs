//! `slipway verify`: check artifacts against their manifest, evidence and signatures.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;
use slipway_artifact::{MANIFEST_FILE_NAME, Manifest};
use slipway_attest::TrustedKeys;
use slipway_attest::verify::{Check, CheckStatus, verify_function};

use crate::commands::deployed::{DeployedArgs, DeployedReport, verify_deployed};
use crate::context::Context;
use crate::output::{Failure, Render, Status, emit};
use crate::progress::Progress;

/// Check built functions: the zips' SHA-256 and every entry against
/// manifest.json and SHA256SUMS, that the SBOMs and the provenance name the
/// same digest, (with --trusted-keys) the DSSE and sshsig signatures, and
/// (with --deployed) that the live functions run this code and configuration.
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
    #[command(flatten)]
    pub deployed: DeployedArgs,
}

#[derive(Serialize)]
struct VerifyReport {
    ok: bool,
    functions: Vec<FunctionReport>,
    /// With `--deployed`: how the live functions compare.
    #[serde(skip_serializing_if = "Option::is_none")]
    deployed: Option<DeployedReport>,
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
        if let Some(deployed) = &self.deployed {
            writeln!(out, "live functions:")?;
            deployed.human(out)?;
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
        let live_ok = self.deployed.as_ref().is_none_or(|d| d.ok());
        if failed == 0 && live_ok {
            writeln!(out, "verified: every check passed")
        } else if failed == 0 {
            writeln!(out, "verification failed: a live function differs")
        } else {
            writeln!(out, "verification failed: {failed} check(s) failed")
        }
    }
}

pub fn run(ctx: &Context, args: VerifyArgs) -> Result<Status, Failure> {
    let project = ctx.project()?;
    let functions = project.select(&args.functions)?;
    let out = Context::out_dir(&project, args.out.as_deref());
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
    let deployed = if args.deployed.deployed {
        progress.stage("comparing the live functions", None);
        Some(verify_deployed(
            &project,
            &args.functions,
            &out,
            &args.deployed,
        )?)
    } else {
        None
    };
    drop(progress);
    let ok = reports.iter().all(|r| r.ok) && deployed.as_ref().is_none_or(|d| d.ok());
    emit(
        ctx,
        &VerifyReport {
            ok,
            functions: reports,
            deployed,
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
