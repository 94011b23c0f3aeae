//! `slipway build`: deterministic packages, manifests and evidence into dist/.

mod dependencies;
mod evidence;

use std::path::PathBuf;

use clap::Args;

use crate::context::Context;
use crate::output::{Failure, Status};

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Functions to build [default: all in slipway.toml]
    pub functions: Vec<String>,
    /// Output folder [default: dist/ beside slipway.toml]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub dependencies: dependencies::DependencyOptions,
    #[command(flatten)]
    pub evidence: evidence::EvidenceOptions,
}

pub fn run(_ctx: &Context, _args: BuildArgs) -> Result<Status, Failure> {
    Err(super::not_available("build", "packaging"))
}
