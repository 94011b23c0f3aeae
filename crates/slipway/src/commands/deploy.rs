//! `slipway deploy`, `promote`, `rollback`, `drift` and `remove`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;
use slipway_aws::{Action, AliasOutcome, Artifact, DeployOptions, DeployOutcome, DeployRecord};

use super::deployed::{AwsArgs, DeployedReport, aws_failure, compare_deployed, runtime};
use slipway_attest::TrustedKeys;
use slipway_attest::verify::{CheckStatus, verify_function};

use crate::context::Context;
use crate::output::{Failure, Render, Status, emit};
use crate::progress::Progress;

/// Deploy built functions: create or update each one, publish and move its alias, reconcile
/// its triggers, then prove the live CodeSha256 equals the manifest's.
///
/// Only what differs is written; a deploy with nothing to change makes no write call.
/// Credentials come from the standard AWS chain (environment, profiles, SSO, web identity).
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Functions to deploy [default: all in slipway.toml]
    pub functions: Vec<String>,

    #[command(flatten)]
    pub aws: AwsArgs,

    /// Where the built artifacts are [default: dist/ beside slipway.toml]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Leave the alias on the current version and send PERCENT of its traffic to the new one;
    /// finish with `slipway promote` or undo with `slipway rollback`
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    pub canary: Option<f64>,

    /// Public keys or an allowed_signers file whose signatures the artifacts must carry
    /// (repeatable); required when slipway.toml sets `require_signature = true`
    #[arg(long, value_name = "FILE")]
    pub trusted_keys: Vec<PathBuf>,

    /// Also write what was deployed as KEY=value lines (a GitLab `dotenv` report)
    #[arg(long, value_name = "FILE")]
    pub dotenv: Option<PathBuf>,

    /// For a new function without `role` in slipway.toml, create a minimal execution role
    /// (`slipway-<function>-exec`: trusted by Lambda, AWSLambdaBasicExecutionRole only).
    /// Without it slipway never creates roles
    #[arg(long)]
    pub create_role: bool,

    #[command(flatten)]
    pub stack: StackArgs,
}

/// A SAM template (`--sam`, or `sam = "…"` in slipway.toml) is deployed as a
/// CloudFormation stack, as `sam deploy` does, then proven like any deploy.
#[derive(Debug, Args)]
#[command(next_help_heading = "SAM application (a template from --sam or slipway.toml's `sam`)")]
pub struct StackArgs {
    /// The CloudFormation stack to create or update (required for a template)
    #[arg(long, value_name = "NAME")]
    pub stack_name: Option<String>,

    /// The bucket the packages are uploaded to, as `[PREFIX/]LogicalId/<sha256>.zip`
    /// (required for a template)
    #[arg(long, value_name = "BUCKET")]
    pub s3_bucket: Option<String>,

    /// A key prefix in the bucket
    #[arg(long, value_name = "PREFIX")]
    pub s3_prefix: Option<String>,

    /// What the stack may do [default: CAPABILITY_IAM CAPABILITY_AUTO_EXPAND]
    #[arg(long, value_name = "CAPABILITY", num_args = 1.., value_parser = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"])]
    pub capabilities: Vec<String>,

    /// Deploy this template instead of .aws-sam/packaged.yaml: the packaged template
    /// with the SAM transform already applied (e.g. by SAM's translator), for
    /// CloudFormation emulators that lack the transform. AWS applies it itself
    #[arg(long, value_name = "FILE")]
    pub transformed: Option<PathBuf>,

    /// Upload the packages and write .aws-sam/packaged.yaml (as `sam package`), deploy nothing
    #[arg(long)]
    pub package_only: bool,

    /// Minutes to wait for the change set and the stack
    #[arg(long, value_name = "MINUTES", default_value_t = 60)]
    pub stack_timeout: u64,
}

impl StackArgs {
    /// The flags given, for the error when there is no template to give them to.
    fn given(&self) -> Option<&'static str> {
        [
            (self.stack_name.is_some(), "--stack-name"),
            (self.s3_bucket.is_some(), "--s3-bucket"),
            (self.s3_prefix.is_some(), "--s3-prefix"),
            (!self.capabilities.is_empty(), "--capabilities"),
            (self.transformed.is_some(), "--transformed"),
            (self.package_only, "--package-only"),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    }
}

fn parse_percent(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("`{s}` is not a number"))?;
    if v > 0.0 && v < 100.0 {
        Ok(v)
    } else {
        Err("a canary is a share of traffic strictly between 0 and 100".into())
    }
}

#[derive(Debug, Args)]
pub struct AliasArgs {
    /// The function whose alias moves
    pub function: String,

    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Compare every live function with slipway.toml and the manifests; exit 1 on drift.
#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Functions to compare [default: all in slipway.toml]
    pub functions: Vec<String>,

    #[command(flatten)]
    pub aws: AwsArgs,

    /// Where the built artifacts are [default: dist/ beside slipway.toml]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Deploy the drifted functions again so the live state matches the desired one
    #[arg(long)]
    pub fix: bool,

    /// Keys the artifacts' signatures must verify with before `--fix` deploys them (repeatable)
    #[arg(long, value_name = "FILE")]
    pub trusted_keys: Vec<PathBuf>,
}

/// Delete a function, its versions, aliases and triggers from AWS Lambda.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The function to delete
    pub function: String,

    #[command(flatten)]
    pub aws: AwsArgs,

    /// Do not ask for confirmation (for CI)
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Serialize)]
struct DeployReport {
    ok: bool,
    functions: Vec<DeployedFunction>,
}

#[derive(Debug, Serialize)]
struct DeployedFunction {
    #[serde(flatten)]
    outcome: DeployOutcome,
    record: PathBuf,
}

impl Render for DeployReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for f in &self.functions {
            let o = &f.outcome;
            let what = match o.action {
                Action::Created => "created",
                Action::Updated => "updated",
                Action::UpToDate => "up to date",
            };
            writeln!(out, "{}: {what} ({})", o.function, o.function_arn)?;
            for change in &o.changes {
                writeln!(out, "  {change}")?;
            }
            if let Some(v) = &o.version {
                writeln!(out, "  version {v}")?;
            }
            if let (Some(alias), Some(prev), Some(w)) =
                (&o.alias, &o.previous_version, o.canary_weight)
            {
                writeln!(
                    out,
                    "  alias {alias}: {:.0}% of traffic on the new version, the rest on {prev}; `slipway promote {}` or `slipway rollback {}` to finish",
                    w * 100.0,
                    o.function,
                    o.function
                )?;
            }
            let live = o.signed_code_sha256.as_deref().unwrap_or(&o.code_sha256);
            writeln!(
                out,
                "  proven: live CodeSha256 {live} is the built artifact"
            )?;
            writeln!(out, "  record: {}", f.record.display())?;
        }
        Ok(())
    }
}

pub fn run(ctx: &Context, args: DeployArgs) -> Result<Status, Failure> {
    if let Some(sam) = ctx.sam_project()? {
        return crate::sam::deploy(ctx, sam, &args);
    }
    if let Some(flag) = args.stack.given() {
        return Err(Failure::input(miette::miette!(
            code = "slipway::deploy::not_a_template",
            help = "name the SAM template with `--sam TEMPLATE` or `sam = \"template.yaml\"` in slipway.toml, or leave the flag out",
            "`{flag}` deploys a SAM template as a stack; slipway.toml here defines its functions itself"
        )));
    }
    let project = ctx.project()?;
    let functions = project.select(&args.functions)?;
    let out = Context::out_dir(&project, args.out.as_deref());

    // Local checks first: nothing leaves the machine unless every artifact is sound.
    let trusted = trusted_keys(&args.trusted_keys)?;
    let mut artifacts = Vec::new();
    for f in &functions {
        let artifact = Artifact::load(f, &out).map_err(aws_failure)?;
        check_artifact(f, &artifact, trusted.as_ref())?;
        artifacts.push(artifact);
    }

    let progress = Progress::new(ctx);
    let steps = |m: &str| progress.stage(m, None);
    let options = DeployOptions {
        canary_percent: args.canary,
        today: None,
        create_role: args.create_role,
    };
    let rt = runtime()?;
    let deployed = rt.block_on(async {
        let aws = slipway_aws::connect(&args.aws.options(&project))
            .await
            .map_err(aws_failure)?;
        let mut deployed = Vec::new();
        for (f, artifact) in functions.iter().zip(&artifacts) {
            let outcome = slipway_aws::deploy(&aws, f, artifact, &options, &steps)
                .await
                .map_err(aws_failure)?;
            let record = DeployRecord::new(&outcome, env!("CARGO_PKG_VERSION"));
            let path = record.write(&artifact.dir).map_err(aws_failure)?;
            deployed.push((
                DeployedFunction {
                    outcome,
                    record: path,
                },
                record,
            ));
        }
        Ok::<_, Failure>(deployed)
    })?;
    drop(progress);
    if let Some(dotenv) = &args.dotenv {
        let records: Vec<DeployRecord> = deployed.iter().map(|(_, r)| r.clone()).collect();
        slipway_aws::write_dotenv(&Context::user_path(dotenv), &records).map_err(aws_failure)?;
    }
    emit(
        ctx,
        &DeployReport {
            ok: true,
            functions: deployed.into_iter().map(|(d, _)| d).collect(),
        },
    )?;
    Ok(Status::Ok)
}

/// The check before any upload: the manifest still matches slipway.toml, and
/// the same checks as `slipway verify` pass (zips hashed and their entries
/// against the manifest, SHA256SUMS, SBOMs, provenance, and with trusted keys
/// the signatures); each zip is read and hashed once, here. A failed check, or an unsigned artifact
/// when slipway.toml sets `require_signature`, stops the deploy before any
/// call to AWS.
pub(crate) fn check_artifact(
    function: &slipway_config::Function,
    artifact: &Artifact,
    trusted: Option<&TrustedKeys>,
) -> Result<(), Failure> {
    artifact.check(function).map_err(aws_failure)?;
    if function.require_signature && trusted.is_none() {
        return Err(Failure::input(miette::miette!(
            code = "slipway::deploy::require_signature",
            help = "pass `--trusted-keys FILE` (public keys or an allowed_signers file) so the signature can be checked",
            "`{}` sets `require_signature = true`, but no trusted keys were given to check its signature",
            function.name
        )));
    }
    let failed: Vec<String> = verify_function(&artifact.dir, &artifact.manifest, trusted)
        .into_iter()
        .filter(|c| c.status == CheckStatus::Failed)
        .map(|c| format!("{} ({}): {}", c.check, c.target, c.message))
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    let help = format!(
        "run `slipway verify {}` for the details; rebuild (and sign) the function, then deploy again",
        function.name
    );
    Err(Failure::failed(miette::miette!(
        code = "slipway::deploy::unverified",
        help = help,
        "`{}` failed verification, nothing was deployed:\n  {}",
        function.name,
        failed.join("\n  ")
    )))
}

pub(crate) fn trusted_keys(paths: &[PathBuf]) -> Result<Option<TrustedKeys>, Failure> {
    if paths.is_empty() {
        return Ok(None);
    }
    let paths: Vec<PathBuf> = paths.iter().map(|p| Context::user_path(p)).collect();
    Ok(Some(TrustedKeys::read(&paths)?))
}

#[derive(Debug, Serialize)]
struct AliasReport {
    ok: bool,
    #[serde(flatten)]
    outcome: AliasOutcome,
    promoted: bool,
}

impl Render for AliasReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let o = &self.outcome;
        let verb = if self.promoted {
            "promoted"
        } else {
            "rolled back"
        };
        writeln!(
            out,
            "{}: {verb}; alias {} now sends all traffic to version {} (version {} gets none)",
            o.function, o.alias, o.version, o.dropped_version
        )
    }
}

fn finish_canary(ctx: &Context, args: AliasArgs, promote: bool) -> Result<Status, Failure> {
    let project = ctx.project()?;
    let function = project.select(std::slice::from_ref(&args.function))?[0].clone();
    let rt = runtime()?;
    let outcome = rt.block_on(async {
        let aws = slipway_aws::connect(&args.aws.options(&project))
            .await
            .map_err(aws_failure)?;
        slipway_aws::finish_canary(&aws, &function, promote)
            .await
            .map_err(aws_failure)
    })?;
    emit(
        ctx,
        &AliasReport {
            ok: true,
            outcome,
            promoted: promote,
        },
    )?;
    Ok(Status::Ok)
}

pub fn run_promote(ctx: &Context, args: AliasArgs) -> Result<Status, Failure> {
    finish_canary(ctx, args, true)
}

pub fn run_rollback(ctx: &Context, args: AliasArgs) -> Result<Status, Failure> {
    finish_canary(ctx, args, false)
}

#[derive(Debug, Serialize)]
struct DriftReport {
    /// No drift, or `--fix` reconciled it.
    ok: bool,
    /// Some live function differed from its desired state when compared.
    drifted: bool,
    #[serde(skip)]
    drift: DeployedReport,
    functions: Vec<slipway_aws::FunctionDrift>,
    /// Functions deployed again by `--fix`.
    fixed: Vec<DeployOutcome>,
}

impl Render for DriftReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        self.drift.human(out)?;
        for f in &self.fixed {
            writeln!(out, "{}: fixed", f.function)?;
            for change in &f.changes {
                writeln!(out, "  {change}")?;
            }
        }
        if !self.drifted {
            writeln!(out, "no drift")?;
        }
        Ok(())
    }
}

pub fn run_drift(ctx: &Context, args: DriftArgs) -> Result<Status, Failure> {
    let project = ctx.project()?;
    let out = Context::out_dir(&project, args.out.as_deref());
    // One runtime and one set of clients (one credential exchange) for the
    // comparison and the fix.
    let rt = runtime()?;
    let (drift, fixed) = rt.block_on(async {
        let aws = slipway_aws::connect(&args.aws.options(&project))
            .await
            .map_err(aws_failure)?;
        let drift = compare_deployed(&aws, &project, &args.functions, &out).await?;
        let mut fixed = Vec::new();
        if !args.fix || drift.ok() {
            return Ok::<_, Failure>((drift, fixed));
        }
        let trusted = trusted_keys(&args.trusted_keys)?;
        let progress = Progress::new(ctx);
        let steps = |m: &str| progress.stage(m, None);
        for f in drift.functions.iter().filter(|f| !f.in_sync()) {
            let function = &project.functions[&f.function];
            let artifact = Artifact::load(function, &out).map_err(aws_failure)?;
            check_artifact(function, &artifact, trusted.as_ref())?;
            let outcome =
                slipway_aws::deploy(&aws, function, &artifact, &DeployOptions::default(), &steps)
                    .await
                    .map_err(aws_failure)?;
            DeployRecord::new(&outcome, env!("CARGO_PKG_VERSION"))
                .write(&artifact.dir)
                .map_err(aws_failure)?;
            fixed.push(outcome);
        }
        Ok((drift, fixed))
    })?;
    let ok = drift.ok() || args.fix;
    let report = DriftReport {
        ok,
        drifted: !drift.ok(),
        functions: drift.functions.clone(),
        drift,
        fixed,
    };
    emit(ctx, &report)?;
    Ok(if ok { Status::Ok } else { Status::CheckFailed })
}

#[derive(Debug, Serialize)]
struct RemoveReport {
    ok: bool,
    #[serde(flatten)]
    outcome: slipway_aws::RemoveOutcome,
}

impl Render for RemoveReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let o = &self.outcome;
        if !o.existed {
            return writeln!(out, "{}: nothing to remove, it does not exist", o.function);
        }
        writeln!(out, "{}: removed", o.function)?;
        for change in &o.changes {
            writeln!(out, "  {change}")?;
        }
        Ok(())
    }
}

pub fn run_remove(ctx: &Context, args: RemoveArgs) -> Result<Status, Failure> {
    let project = ctx.project()?;
    let function = project.select(std::slice::from_ref(&args.function))?[0].clone();
    if !args.yes {
        confirm(&function.name)?;
    }
    let rt = runtime()?;
    let outcome = rt.block_on(async {
        let aws = slipway_aws::connect(&args.aws.options(&project))
            .await
            .map_err(aws_failure)?;
        slipway_aws::remove(&aws, &function)
            .await
            .map_err(aws_failure)
    })?;
    emit(ctx, &RemoveReport { ok: true, outcome })?;
    Ok(Status::Ok)
}

fn confirm(name: &str) -> Result<(), Failure> {
    let refuse = || {
        Failure::input(miette::miette!(
            code = "slipway::remove::unconfirmed",
            help = "pass `--yes` to remove without asking (for CI)",
            "not removing `{name}` without confirmation"
        ))
    };
    if !std::io::stdin().is_terminal() {
        return Err(refuse());
    }
    eprint!(
        "Delete `{name}`, all its versions, aliases and triggers from AWS? Type the function name to confirm: "
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|_| refuse())?;
    if answer.trim() == name {
        Ok(())
    } else {
        Err(refuse())
    }
}
