//! `slipway deploy`, `promote`, `rollback`, `drift` and `remove`.

use clap::Args;

use crate::context::Context;
use crate::output::{Failure, Status};

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Functions to deploy [default: all in slipway.toml]
    pub functions: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AliasArgs {
    /// The function whose alias moves
    pub function: String,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Functions to compare [default: all in slipway.toml]
    pub functions: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The function to delete
    pub function: String,
}

pub fn run(_ctx: &Context, _args: DeployArgs) -> Result<Status, Failure> {
    Err(super::not_available("deploy", "AWS deployment"))
}

pub fn run_promote(_ctx: &Context, _args: AliasArgs) -> Result<Status, Failure> {
    Err(super::not_available("promote", "AWS deployment"))
}

pub fn run_rollback(_ctx: &Context, _args: AliasArgs) -> Result<Status, Failure> {
    Err(super::not_available("rollback", "AWS deployment"))
}

pub fn run_drift(_ctx: &Context, _args: DriftArgs) -> Result<Status, Failure> {
    Err(super::not_available("drift", "AWS deployment"))
}

pub fn run_remove(_ctx: &Context, _args: RemoveArgs) -> Result<Status, Failure> {
    Err(super::not_available("remove", "AWS deployment"))
}
