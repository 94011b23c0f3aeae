//! Comparing live functions with the desired state: the `--deployed` part of
//! `slipway verify` and the whole of `slipway drift`.

use std::io::Write;
use std::path::Path;

use clap::Args;
use serde::Serialize;
use slipway_aws::{Artifact, Aws, ConnectOptions, FunctionDrift};
use slipway_config::Project;

use crate::output::{Failure, Render};

/// Where to reach AWS; each flag overrides slipway.toml's `[aws]` table.
#[derive(Debug, Clone, Default, Args)]
pub struct AwsArgs {
    /// AWS region [default: `[aws] region` in slipway.toml, then AWS_REGION or the profile's]
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// AWS profile to take credentials and region from [default: `[aws] profile`, then AWS_PROFILE]
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Send AWS API calls here instead (an emulator or a private endpoint) [default: `[aws]
    /// endpoint_url`, then AWS_ENDPOINT_URL]
    #[arg(long, value_name = "URL", value_parser = slipway_config::parse_http_url)]
    pub endpoint_url: Option<String>,
}

impl AwsArgs {
    pub fn options(&self, project: &Project) -> ConnectOptions {
        ConnectOptions {
            region: self.region.clone().or_else(|| project.aws.region.clone()),
            profile: self.profile.clone().or_else(|| project.aws.profile.clone()),
            endpoint_url: self
                .endpoint_url
                .clone()
                .or_else(|| project.aws.endpoint_url.clone()),
        }
    }
}

/// The flags `slipway verify` flattens in to check the live functions too.
#[derive(Debug, Clone, Default, Args)]
pub struct DeployedArgs {
    /// Also compare each live function on AWS (code digest, runtime, handler, architecture,
    /// memory, timeout, environment, role, layers, triggers) with the manifest and slipway.toml
    #[arg(long)]
    pub deployed: bool,

    #[command(flatten)]
    pub aws: AwsArgs,
}

/// How the live functions compare; `ok()` is false on any difference.
#[derive(Debug, Serialize)]
pub struct DeployedReport {
    pub ok: bool,
    pub functions: Vec<FunctionDrift>,
}

impl DeployedReport {
    pub fn ok(&self) -> bool {
        self.ok
    }
}

impl Render for DeployedReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for f in &self.functions {
            if f.in_sync() {
                writeln!(
                    out,
                    "{}: live function matches (CodeSha256 {})",
                    f.function,
                    f.live_code_sha256.as_deref().unwrap_or("?")
                )?;
            } else {
                writeln!(out, "{}: drift", f.function)?;
                for d in &f.differences {
                    writeln!(
                        out,
                        "  {}: expected {}, live {}",
                        d.field, d.expected, d.actual
                    )?;
                }
            }
        }
        Ok(())
    }
}

/// A current-thread runtime for the AWS calls of one command.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::failed(miette::miette!("cannot start the async runtime: {e}")))
}

/// Compares the live state of `names` (all functions when empty) with the
/// manifests under `out` and with slipway.toml. `slipway verify --deployed`
/// calls this with its own `DeployedArgs`; the caller renders the report and
/// exits 1 when `report.ok()` is false.
pub fn verify_deployed(
    project: &Project,
    names: &[String],
    out: &Path,
    args: &DeployedArgs,
) -> Result<DeployedReport, Failure> {
    let rt = runtime()?;
    rt.block_on(async {
        let aws = slipway_aws::connect(&args.aws.options(project))
            .await
            .map_err(aws_failure)?;
        compare_deployed(&aws, project, names, out).await
    })
}

/// [`verify_deployed`] with clients already made, for a caller that goes on
/// using them (`slipway drift --fix`).
pub async fn compare_deployed(
    aws: &Aws,
    project: &Project,
    names: &[String],
    out: &Path,
) -> Result<DeployedReport, Failure> {
    let mut report = Vec::new();
    for f in project.select(names)? {
        let artifact = match Artifact::load(f, out) {
            Ok(a) => Some(a),
            Err(slipway_aws::AwsError::NotBuilt { .. }) => None,
            Err(e) => return Err(aws_failure(e)),
        };
        report.push(
            slipway_aws::compare(aws, f, artifact.as_ref())
                .await
                .map_err(aws_failure)?,
        );
    }
    Ok(DeployedReport {
        ok: report.iter().all(FunctionDrift::in_sync),
        functions: report,
    })
}

/// Exit 2 for what the user must fix in their input, 1 for what went wrong on AWS.
pub fn aws_failure(e: slipway_aws::AwsError) -> Failure {
    if e.is_input() {
        Failure::input(e)
    } else {
        Failure::failed(e)
    }
}
