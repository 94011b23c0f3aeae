//! The command line: global flags and one subcommand per pipeline step.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands;

/// Take an AWS Lambda function from source to a verified deployment, without Docker.
///
/// slipway builds byte-reproducible packages with dependencies for the exact
/// Lambda runtime, writes SBOMs and signed provenance, scans for known
/// vulnerabilities, deploys, proves what runs is what was built, and runs
/// functions locally behind a real Lambda Runtime API.
#[derive(Debug, Parser)]
#[command(
    name = "slipway",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// The configuration file [default: slipway.toml in this folder or the nearest above]
    #[arg(long, global = true, value_name = "PATH", env = "SLIPWAY_CONFIG")]
    pub config: Option<PathBuf>,

    /// Read the functions from an AWS SAM template instead of slipway.toml;
    /// `build` then also writes .aws-sam/build/template.yaml for `sam deploy`.
    /// Wins over slipway.toml's `sam` key; with it, slipway.toml is not read
    #[arg(long, global = true, value_name = "TEMPLATE", env = "SLIPWAY_SAM")]
    pub sam: Option<PathBuf>,

    /// Values for the SAM template's parameters, as `sam build` takes them:
    /// `Name=Value`, several per flag (space-separated) or the flag repeated;
    /// place it after function names or end the list with `--`
    #[arg(
        long,
        global = true,
        value_name = "NAME=VALUE",
        num_args = 1..,
        action = clap::ArgAction::Append,
        value_parser = crate::sam::parse_overrides,
    )]
    pub parameter_overrides: Vec<crate::sam::Overrides>,

    /// How results are printed: `human` for people, `json` for machines
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Say more: each choice made (-v) and every step taken (-vv)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Print only results and errors, no progress
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented slipway.toml for an existing function folder
    Init(commands::init::InitArgs),
    /// Build deterministic deployment packages, manifests and evidence into dist/
    Build(commands::build::BuildArgs),
    /// Match what was built against known vulnerabilities (OSV) and gate on severity
    Scan(commands::scan::ScanArgs),
    /// Manage the local vulnerability database
    #[command(subcommand)]
    Db(commands::scan::DbCommand),
    /// Sign the provenance (DSSE) and the package (OpenSSH sshsig)
    Sign(commands::sign::SignArgs),
    /// Check built artifacts: hashes, SBOMs, provenance, signatures (and the live function with --deployed)
    Verify(commands::verify::VerifyArgs),
    /// Write a new signing key pair and its allowed_signers line
    Keygen(commands::sign::KeygenArgs),
    /// Create or update functions on AWS Lambda and prove the live code is the built code
    Deploy(commands::deploy::DeployArgs),
    /// Finish a canary deploy: move the alias fully to the new version
    Promote(commands::deploy::AliasArgs),
    /// Undo a canary deploy: move the alias fully back to the previous version
    Rollback(commands::deploy::AliasArgs),
    /// Compare live functions with slipway.toml and the manifests; exit 1 on drift
    Drift(commands::deploy::DriftArgs),
    /// Delete a function and its triggers from AWS Lambda
    Remove(commands::deploy::RemoveArgs),
    /// Run a built function once behind a local Lambda Runtime API
    Invoke(commands::local::InvokeArgs),
    /// Serve built functions locally: the Lambda Invoke API, Function URLs and SQS polling
    Serve(commands::local::ServeArgs),
    /// Print a sample Lambda event (sqs, s3-put, function-url, apigw-http, …)
    Event(commands::local::EventArgs),
    /// Write the CI pipeline that builds, tests, scans, deploys and watches the functions
    #[command(subcommand)]
    Ci(commands::ci::CiCommand),
    /// Print each function's input hash and whether dist/ holds an up-to-date build
    Plan(commands::build::PlanArgs),
}
