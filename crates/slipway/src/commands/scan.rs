//! `slipway scan` and `slipway db`: the vulnerability gate.

use clap::{Args, Subcommand};

use crate::context::Context;
use crate::output::{Failure, Status};

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Functions to scan [default: all in slipway.toml]
    pub functions: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Store a local copy of an advisory database
    Update {
        /// A folder of OSV files, an OSV `all.zip`, or a URL of one
        #[arg(long)]
        from: String,
    },
}

pub fn run(_ctx: &Context, _args: ScanArgs) -> Result<Status, Failure> {
    Err(super::not_available("scan", "vulnerability scanning"))
}

pub fn run_db(_ctx: &Context, _cmd: DbCommand) -> Result<Status, Failure> {
    Err(super::not_available("db", "vulnerability database"))
}
