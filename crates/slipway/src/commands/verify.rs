//! `slipway verify`: check artifacts against their manifest, evidence and signatures.

use clap::Args;

use crate::context::Context;
use crate::output::{Failure, Status};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Functions to verify [default: all in slipway.toml]
    pub functions: Vec<String>,
}

pub fn run(_ctx: &Context, _args: VerifyArgs) -> Result<Status, Failure> {
    Err(super::not_available("verify", "verification"))
}
